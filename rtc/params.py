"""Profiles of chapter parameters: ``parameters/<profile>/<chapter>.yaml``.

A chapter is a jupytext percent-format script ``book/chapters/<chapter>.py`` whose cell tagged
``parameters`` is a flat block of ``name = literal`` assignments (nanoGPT style). Those
literals *are* the chapter's defaults, and must equal ``parameters/default/<chapter>.yaml``
(tested). Other profiles override any subset of the keys. Every value a profile gives is
checked against the defaults before anything runs: an unknown name or a value of the wrong
type is a :class:`ParameterError` naming the file, the key and what was expected.

Type rules: ``bool`` only matches bool; ``int`` matches int (not bool); ``float`` matches
int or float; ``str`` matches str; a list matches a list whose items match the default's
items (by the type of its first item); ``None`` as a default accepts anything.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import yaml

__all__ = ["ParameterError", "find_root", "chapter_defaults", "load_profile", "validate", "profiles",
           "describe_run"]


class ParameterError(ValueError):
    """A parameter file or override that does not fit the chapter it is meant for."""


def find_root(start: str | Path | None = None) -> Path:
    """The repository root: the nearest ancestor of ``start`` holding ``parameters/`` and ``book/``.

    Without ``start``: the nearest above the working directory, else the checkout this ``rtc`` package is
    installed from (``pip install -e``) — so a chapter executed from another folder (nbmake runs notebooks
    where they are) still finds the profiles' training grids and the results cache.
    """
    starts = [Path(start)] if start else [Path.cwd(), Path(__file__).resolve().parent]
    for p in starts:
        p = p.resolve()
        for cand in (p, *p.parents):
            if (cand / "parameters").is_dir() and (cand / "book").is_dir():
                return cand
    raise FileNotFoundError(f"no repository root (a folder with parameters/ and book/) above "
                            f"{' or '.join(str(p.resolve()) for p in starts)}")


def _parameters_source(chapter_path: Path) -> str:
    import jupytext

    nb = jupytext.read(chapter_path)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(f"{chapter_path}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    return cells[0].source


def chapter_defaults(chapter_path: str | Path) -> dict:
    """The ``name = literal`` assignments of the chapter's parameters cell, in order."""
    chapter_path = Path(chapter_path)
    src = _parameters_source(chapter_path)
    out = {}
    for node in ast.parse(src).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ParameterError(f"{chapter_path}: the parameters cell may only hold 'name = literal' lines")
        try:
            out[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            raise ParameterError(f"{chapter_path}: parameter {node.targets[0].id} is not a literal") from None
    return out


def _type_name(v) -> str:
    return type(v).__name__


def _matches(default, value) -> bool:
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        if not isinstance(value, list):
            return False
        if not default:
            return True
        return all(_matches(default[0], v) for v in value)
    return type(default) is type(value)


def validate(defaults: dict, values: dict, *, source: str) -> dict:
    """Check ``values`` against ``defaults`` and return them with ints promoted to float where the default is float."""
    if not isinstance(values, dict):
        raise ParameterError(f"{source}: expected a mapping of parameter names to values, got {_type_name(values)}")
    out = {}
    for key, value in values.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise ParameterError(f"{source}: unknown parameter {key!r}; this chapter takes: {known}")
        d = defaults[key]
        if not _matches(d, value):
            want = _type_name(d) + (f" of {_type_name(d[0])}" if isinstance(d, list) and d else "")
            raise ParameterError(f"{source}: parameter {key!r} must be {want} (like the default {d!r}), "
                                 f"got {_type_name(value)} {value!r}")
        if isinstance(d, float) and isinstance(value, int):
            value = float(value)
        if isinstance(d, list) and d and isinstance(d[0], float):
            value = [float(v) for v in value]
        out[key] = value
    return out


def profiles(root: str | Path | None = None) -> list[str]:
    """Names of the profiles under ``parameters/``."""
    base = find_root(root) / "parameters"
    return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def load_profile(profile: str, chapter: str, *, root: str | Path | None = None, chapter_path: Path | None = None,
                 defaults: dict | None = None) -> dict:
    """Validated parameters for ``chapter`` under ``profile`` (only the keys the file sets).

    ``defaults`` (the chapter's parameters cell, :func:`chapter_defaults`) is read from the chapter
    when not given. Raises :class:`ParameterError` for an unknown profile, malformed YAML, unknown
    keys or wrong types.
    """
    root = find_root(root)
    pdir = root / "parameters" / profile
    if not pdir.is_dir():
        raise ParameterError(f"unknown profile {profile!r}; available: {', '.join(profiles(root))}")
    path = pdir / f"{chapter}.yaml"
    chapter_path = chapter_path or root / "book" / "chapters" / f"{chapter}.py"
    if defaults is None:
        defaults = chapter_defaults(chapter_path)
    if not path.exists():
        return {}
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML: {exc}") from None
    return validate(defaults, values, source=str(path))


def _short(value, keep: int = 6) -> str:
    """JSON of ``value``; a list longer than ``keep`` items shows its first three and last one and its length."""
    if isinstance(value, list) and len(value) > keep:
        head = ", ".join(json.dumps(v) for v in value[:3])
        return f"[{head}, …, {json.dumps(value[-1])}] ({len(value)} values)"
    return json.dumps(value)


def describe_run(chapter: str, namespace: dict, *, root: str | Path | None = None) -> str:
    """Markdown saying which profile a chapter ran and how its values differ from the ``paper`` profile.

    Only the differing parameters are listed, as a table (the book renders Markdown outputs as MyST,
    so it is a real table); lists longer than six items are shortened to their ends and length.

    ``namespace`` is the chapter's ``globals()`` (or any mapping holding its parameters); only the
    names of the chapter's parameters cell are read. Chapters display this right after their
    parameters, so a reduced run never passes for the paper's settings.
    """
    try:
        root = find_root(root)
        names = chapter_defaults(root / "book" / "chapters" / f"{chapter}.py")
        params = {k: namespace[k] for k in names if k in namespace}
    except (FileNotFoundError, ParameterError):
        root, params = None, dict(namespace)
    profile = params.get("profile", "?")
    lines = [f"**This run used the `{profile}` profile.**"]
    try:
        paper = load_profile("paper", chapter, root=root) if root is not None else {}
    except (FileNotFoundError, ParameterError):
        paper = {}
    diffs = [(k, params[k], v) for k, v in paper.items() if k != "profile" and k in params and params[k] != v]
    if profile == "paper" or not diffs:
        lines.append("Its settings are the paper profile's full settings.")
    else:
        lines.append("It is reduced relative to the `paper` profile in these settings:")
        lines.append("")
        lines.append("| parameter | this run | paper profile |")
        lines.append("|---|---|---|")
        for k, mine, theirs in diffs:
            lines.append(f"| `{k}` | `{_short(mine)}` | `{_short(theirs)}` |")
    return "\n".join(lines)
