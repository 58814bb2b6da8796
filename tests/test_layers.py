"""Dependencies flow one way: the experiments layer never reaches up into the Ray executor (rtc.sweep), and
describing or costing a grid imports no Ray and leaves the process environment as it was."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter at the repository root (nothing imported yet); it must exit 0."""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]
    return p


def imported_modules(path: Path, pkg: str | None = None) -> set[str]:
    """Absolute names of everything ``path`` imports (relative imports resolved against its package ``pkg``)."""
    pkg = pkg or ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = pkg.rsplit(".", node.level - 1)[0] if node.level else ""
            mod = ".".join(x for x in (base, node.module or "") if x)
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}
    return out


def test_no_experiments_module_imports_the_sweep():
    files = sorted((ROOT / "rtc" / "experiments").rglob("*.py"))
    assert files
    bad = {f.name: sorted(m for m in imported_modules(f) if m == "rtc.sweep" or m.startswith(("rtc.sweep.", "ray")))
           for f in files}
    assert not {k: v for k, v in bad.items() if v}


def test_the_checker_sees_a_relative_import_of_the_sweep(tmp_path):
    """The test above can fail: a relative import two levels up is resolved to rtc.sweep."""
    f = tmp_path / "probe.py"
    f.write_text("from ..sweep import run_grid\n")
    assert "rtc.sweep" in imported_modules(f, "rtc.experiments")


# scikit-learn (imported by rtc.metrics) sets its own OpenMP variables (KMP_*) when imported: imported first, so
# that `before` holds them and the tests below see what rtc itself changes.
SKLEARN_FIRST = "import sklearn  # noqa: F401\n"


def test_describing_a_grid_imports_no_ray_and_changes_no_environment():
    code = ("import os, sys\n" + SKLEARN_FIRST + "before = dict(os.environ)\n"
            "from rtc.experiments.grid import grid_runs, dry_run, estimate_seconds\n"
            "import rtc.experiments.comparison, rtc.experiments.disintegration\n"
            "runs = grid_runs('ci')\nprint(len(runs), sum(estimate_seconds(r) for r in runs) > 0)\n"
            "assert 'ray' not in sys.modules and 'rtc.sweep' not in sys.modules, 'ray imported'\n"
            "assert dict(os.environ) == before, 'environment changed'\n")
    p = python(code)
    assert p.stdout.split()[1] == "True" and int(p.stdout.split()[0]) > 0


def test_importing_the_sweep_changes_no_environment_and_reexports_no_grid():
    """rtc.sweep sets Ray's environment when it starts Ray (init_ray, run_grid), not when imported; the grid API is
    rtc.experiments.grid's and rtc.experiments.specs', not re-exported by the executor."""
    code = ("import os, sys\n" + SKLEARN_FIRST + "before = dict(os.environ)\nimport rtc.sweep\n"
            "assert dict(os.environ) == before, 'environment changed'\n"
            "assert 'ray' not in sys.modules, 'ray imported'\n"
            "grid = {'RunSpec', 'GridError', 'load_grid', 'validate_grid', 'grid_runs', 'dry_run', 'estimate_seconds',"
            " 'STEP_SECONDS', 'EVAL_SECONDS'}\n"
            "print(sorted(grid & set(rtc.sweep.__all__)), sorted(rtc.sweep.__all__))\n")
    p = python(code)
    assert p.stdout.split(" [")[0] == "[]", p.stdout


def test_the_library_core_needs_neither_ray_nor_seaborn():
    """Ray (rtc[sweep]) and seaborn (rtc[book]) are extras: the models, estimators, metrics and data import
    without them (a user who only wants rtc.metrics installs neither)."""
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('ray', 'seaborn'):\n"
            "            raise ImportError('blocked: ' + name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "import rtc, rtc.models, rtc.metrics, rtc.estimators, rtc.data, rtc.experiments, rtc.experiments.grid\n"
            "import rtc.sweep\n"
            "try:\n    rtc.sweep.init_ray()\nexcept ImportError as e:\n    print(e)\n")
    p = python(code)
    assert "pip install 'rtc[sweep]'" in p.stdout


def test_modules_are_not_shadowed_by_their_functions():
    """`import rtc.models.train as m` gives the module (the function is rtc.models.train.train); the encoding and
    the results modules have names of their own beside the functions rtc.models.encode and rtc.experiments.run."""
    code = ("import inspect\nimport rtc.models.train as m\nimport rtc.models, rtc.experiments\n"
            "import rtc.models.encoding as e\nimport rtc.experiments.results as r\n"
            "assert inspect.ismodule(m) and inspect.isfunction(m.train), m\n"
            "assert inspect.ismodule(e) and inspect.ismodule(r)\n"
            "assert rtc.models.encode is e.encode and rtc.experiments.run is r.run\n"
            "print(m.__name__)\n")
    p = python(code)
    assert p.stdout.strip() == "rtc.models.train"
