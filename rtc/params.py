"""Profiles of chapter parameters: ``parameters/<profile>/<chapter>.yaml``.

A chapter is a jupytext percent-format script ``book/chapters/<chapter>.py`` whose cell tagged
``parameters`` is a flat block of ``name = literal`` assignments (nanoGPT style). Those
literals *are* the chapter's defaults, and must equal ``parameters/default/<chapter>.yaml``
(tested; all but ``profile``, see below). Other profiles override any subset of the keys. Every value a profile gives is
checked against the defaults before anything runs: an unknown name or a value of the wrong
type is a :class:`ParameterError` naming the file, the key and what was expected.

The profile's name is its folder's: :func:`load_profile` sets ``profile`` (a parameter every chapter
declares) to ``<profile>``, and a file that sets ``profile:`` itself is an error — one name, never two.

Type rules (:func:`rtc._validate.fits` on the type of the default, :func:`default_type`): ``bool``
only matches bool; ``int`` matches int (not bool); ``float`` matches int or float; ``str`` matches
str; a list matches a list whose items match the default's items (by the type of its first item);
``None`` as a default accepts anything.
"""
from __future__ import annotations

import ast
import json
import typing
from pathlib import Path

import pandas as pd
import yaml

from ._validate import fits
from .paths import find_root
from .report import markdown_table

__all__ = ["ParameterError", "chapter_notebook", "chapter_defaults", "default_type", "load_profile",
           "validate", "profiles", "describe_run"]


class ParameterError(ValueError):
    """A parameter file or override that does not fit the chapter it is meant for."""


def chapter_notebook(chapter_path: str | Path):
    """The jupytext chapter ``chapter_path`` as an nbformat notebook, ready to execute: a ``python3`` kernelspec and
    no jupytext metadata (the one reader of a chapter's source: the runner, papermill and the parameters cell)."""
    import jupytext  # lazy: the book's stack (rtc[book]), only to read a chapter; rtc.params imports without it

    nb = jupytext.read(chapter_path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.pop("jupytext", None)
    return nb


def _parameters_source(chapter_path: Path) -> str:
    nb = chapter_notebook(chapter_path)
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


def default_type(default):
    """The type annotation a chapter's default value stands for: ``bool``, ``int``, ``float``, ``str``,
    ``list[T]`` with ``T`` the type of its first item (``list`` when empty), ``typing.Any`` for ``None``."""
    if default is None:
        return typing.Any
    if isinstance(default, list):
        return list[default_type(default[0])] if default else list
    return type(default)


def _promote(tp, value):
    """``value`` with every number where ``tp`` wants a float made a float (ints are accepted for floats)."""
    if tp is float:
        return float(value)
    if typing.get_origin(tp) is list:
        return [_promote(typing.get_args(tp)[0], v) for v in value]
    return value


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
        tp = default_type(d)
        if not fits(tp, value):
            want = _type_name(d) + (f" of {_type_name(d[0])}" if isinstance(d, list) and d else "")
            raise ParameterError(f"{source}: parameter {key!r} must be {want} (like the default {d!r}), "
                                 f"got {_type_name(value)} {value!r}")
        out[key] = _promote(tp, value)
    return out


def profiles(root: str | Path | None = None) -> list[str]:
    """Names of the profiles under ``parameters/`` (not ``parameters/studies/``: the grids of the studies too long
    for a book build, :mod:`rtc.studies`)."""
    base = find_root(root) / "parameters"
    return sorted(p.name for p in base.iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")) and p.name != "studies")


def load_profile(profile: str, chapter: str, *, root: str | Path | None = None, chapter_path: Path | None = None,
                 defaults: dict | None = None) -> dict:
    """Validated parameters for ``chapter`` under ``profile``: the keys the file sets, and ``profile`` (the folder's
    name) when the chapter declares it.

    ``defaults`` (the chapter's parameters cell, :func:`chapter_defaults`) is read from the chapter
    when not given. Raises :class:`ParameterError` for an unknown profile, malformed YAML, a ``profile:``
    key, unknown keys or wrong types.
    """
    root = find_root(root)
    pdir = root / "parameters" / profile
    if not pdir.is_dir():
        raise ParameterError(f"unknown profile {profile!r}; available: {', '.join(profiles(root))}")
    path = pdir / f"{chapter}.yaml"
    chapter_path = chapter_path or root / "book" / "chapters" / f"{chapter}.py"
    if defaults is None:
        defaults = chapter_defaults(chapter_path)
    values = {}
    if path.exists():
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ParameterError(f"{path}: not valid YAML: {exc}") from None
        if isinstance(values, dict) and "profile" in values:
            raise ParameterError(f"{path}: remove the 'profile' key: the profile is the folder's name "
                                 f"({profile!r})")
        values = validate(defaults, values, source=str(path))
    return {"profile": profile, **values} if "profile" in defaults else values


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
        lines.append(markdown_table(pd.DataFrame(
            [(f"`{k}`", f"`{_short(mine)}`", f"`{_short(theirs)}`") for k, mine, theirs in diffs],
            columns=["parameter", "this run", "paper profile"])))
    return "\n".join(lines)
