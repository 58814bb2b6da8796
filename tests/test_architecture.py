"""Growth guards and one-of-each: the layers contract and the cycle check can fail (a planted upward import, a
planted cycle), no module of rtc/ over 400 lines, no function over 60, few imports inside functions (each with its
reason), and one copy of the rules the library shares (a run's label, the run-file reader, the active-latent rule)."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RTC = ROOT / "rtc"
SOURCES = sorted(RTC.rglob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_LAZY_IMPORTS = 15


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """lint-imports on the package copy under ``root`` (its pyproject.toml), that copy first on the path."""
    exe = Path(sys.executable).parent / "lint-imports"
    env = {"PATH": str(exe.parent), "PYTHONPATH": str(root), "HOME": str(root)}
    return subprocess.run([str(exe), "--no-cache"], cwd=root, capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    """A copy of rtc/ and pyproject.toml in a temporary folder, to plant bad imports in."""
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(RTC, root / "rtc", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_layers_contract_holds_and_can_fail(package_copy):
    assert _lint_imports(package_copy).returncode == 0, _lint_imports(package_copy).stdout[-3000:]
    planted = package_copy / "rtc" / "models" / "planted.py"
    planted.write_text("def f():\n    from rtc.experiments import comparison  # an upward import inside a function\n")
    try:
        p = _lint_imports(package_copy)
        assert p.returncode != 0 and "rtc.models.planted" in p.stdout, p.stdout[-3000:]
    finally:
        planted.unlink()


def test_the_cycle_check_finds_a_planted_cycle(package_copy):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import import_cycles
    finally:
        sys.path.pop(0)
    a, b = package_copy / "rtc" / "cyc_a.py", package_copy / "rtc" / "cyc_b.py"
    a.write_text("import rtc.cyc_b\n")
    b.write_text("def f():\n    import rtc.cyc_a\n")
    code = ("import sys; sys.path.insert(0, %r); sys.path.insert(0, %r); import import_cycles; "
            "print(import_cycles.cycles('rtc'))" % (str(ROOT / "scripts"), str(package_copy)))
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=package_copy)
        assert "['rtc.cyc_a', 'rtc.cyc_b']" in out.stdout, out.stdout + out.stderr
    finally:
        a.unlink()
        b.unlink()
    assert import_cycles.cycles("rtc") == []  # the real package has none


def test_no_module_is_longer_than_the_limit():
    long = {p.relative_to(ROOT).as_posix(): n for p in SOURCES
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_longer_than_the_limit():
    long = {}
    for p in SOURCES:
        for node in ast.walk(_tree(p)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{p.relative_to(ROOT).as_posix()}:{node.name}"] = n
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (def to last line): {long}"


def _lazy_imports() -> list[tuple[str, int, str]]:
    """(file, line, the line) of every import statement inside a function of rtc/."""
    out = []
    for p in SOURCES:
        lines = p.read_text(encoding="utf-8").splitlines()
        for fn in ast.walk(_tree(p)):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        out.append((p.relative_to(ROOT).as_posix(), node.lineno, lines[node.lineno - 1]))
    return sorted(set(out))


def test_few_imports_inside_functions_each_with_its_reason():
    lazy = _lazy_imports()
    assert len(lazy) <= MAX_LAZY_IMPORTS, "\n".join(f"{f}:{n}: {line.strip()}" for f, n, line in lazy)
    for f, n, line in lazy:
        text = (ROOT / f).read_text(encoding="utf-8").splitlines()
        reason = "# lazy:" in line or "# lazy:" in text[n - 2]
        assert reason, f"{f}:{n}: an import inside a function needs a '# lazy: <reason>' comment: {line.strip()}"


def _defined(name: str) -> list[str]:
    return [f"{p.relative_to(ROOT).as_posix()}:{node.lineno}" for p in SOURCES for node in ast.walk(_tree(p))
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name]


def test_one_run_label():
    assert len(_defined("run_label")) == 1, _defined("run_label")


def test_run_files_are_read_by_one_reader():
    """torch.load of a run's files happens in rtc.models.runfiles only (its format-checked reader)."""
    calls = [f"{p.relative_to(ROOT).as_posix()}:{node.lineno}" for p in SOURCES for node in ast.walk(_tree(p))
             if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load"]
    assert calls and all(c.startswith("rtc/models/runfiles.py:") for c in calls), calls


def _compares_with(node: ast.AST, names=("ACTIVE_VAR", "active_threshold"), values=(0.01,)) -> bool:
    if not isinstance(node, ast.Compare):
        return False
    sides = [node.left, *node.comparators]
    return any(isinstance(x, ast.Name) and x.id in names or isinstance(x, ast.Constant) and x.value in values
               for x in sides)


def test_one_active_latent_rule():
    """The comparison Var µ_k > threshold is written once, in rtc.models.encoding.active_latents; everything else
    calls it (no `> ACTIVE_VAR` or `> 0.01` of its own)."""
    found = [f"{p.relative_to(ROOT).as_posix()}:{node.lineno}" for p in SOURCES for node in ast.walk(_tree(p))
             if _compares_with(node)]
    assert not found, found
    assert [d.split(":")[0] for d in _defined("active_latents")] == ["rtc/models/encoding.py"]
