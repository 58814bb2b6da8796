"""What pyproject.toml declares about Python is true."""
import ast
import sys
import tomllib

import yaml

# Standard-library modules newer than the oldest Python one might declare, with the version that added them.
_NEW_STDLIB = {"tomllib": (3, 11)}


def _minimum(spec: str) -> tuple[int, int]:
    assert spec.startswith(">="), f"requires-python should be a lower bound '>=3.x', got {spec!r}"
    major, minor = spec[2:].split(".")[:2]
    return int(major), int(minor)


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}


def test_declared_minimum_python_runs_the_code_and_tests(repo_root):
    declared = _minimum(tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["requires-python"])
    for folder in ("rtc", "tests", "bench"):
        for path in (repo_root / folder).rglob("*.py"):
            for mod in _imports(path) & set(_NEW_STDLIB):
                assert declared >= _NEW_STDLIB[mod], (f"{path.relative_to(repo_root)} imports {mod} (Python "
                                                      f"{_NEW_STDLIB[mod]}+) but requires-python is >={declared}")
    assert sys.version_info[:2] >= declared
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    pinned = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    for d in pinned:  # the conda environment's Python must satisfy the declaration too
        version = d.split("=")[-1]
        assert tuple(int(v) for v in version.split(".")[:2]) >= declared, d
