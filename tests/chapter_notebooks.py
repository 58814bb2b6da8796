"""What the chapter tests check in an executed chapter: the glue keys its prose references, what it glued, errors.

Shared by test_chapters.py (the ci book's executed notebooks) and test_chapter_glue.py (a chapter under a generated
profile, and the static check that every referenced key has a glue call).
"""
from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import nbformat

from rtc.claims import VERDICTS
from rtc.params import chapter_notebook
from rtc.report import read_glued

_ROLE = re.compile(r"\{glue(?::(?:text|any|md)?)?\}`([^`:]+)(?::[^`]*)?`")
_FIGURE = re.compile(r"^\s*```\{glue(?::figure|:math)?\}\s+(\S+)", re.M)
# Glued keys that hold a claim's verdict (rtc.claims.Observation.summary): they must say one of VERDICTS.
_VERDICT_KEY = re.compile(r"(obs|law|claim)[\w-]*-verdict")


def referenced_keys(source: Path) -> set[str]:
    """Glue keys referenced by the Markdown cells of a jupytext chapter."""
    nb = chapter_notebook(source)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return set(_ROLE.findall(text)) | set(_FIGURE.findall(text))


def glued_values(notebook: Path) -> dict[str, str]:
    """key → text/plain (or '<figure>') of every glue output of an executed notebook."""
    return read_glued(notebook)


# A numpy scalar's repr (numpy ≥ 2: ``np.float64(nan)``) around the number it holds.
_NUMPY_SCALAR = re.compile(r"\b(?:np|numpy)\.(?:float|int|uint|complex|bool)_?\d*\(([^()]*)\)")


class _NonFiniteNames(ast.NodeTransformer):
    """``nan`` and ``inf``, as ``repr`` prints a non-finite float, read back as floats."""

    def visit_Name(self, node):  # noqa: N802 (ast.NodeTransformer's method name)
        if node.id in ("nan", "inf"):
            return ast.copy_location(ast.Constant(float(node.id)), node)
        return node


def glued_value(text: str):
    """The Python value of a glued ``text/plain`` — non-finite floats included (``nan``, ``-inf``,
    ``np.float64(nan)``, inside a tuple or list too) — or ``text`` itself when it is not a literal
    (a figure, a Markdown object)."""
    try:
        tree = _NonFiniteNames().visit(ast.parse(_NUMPY_SCALAR.sub(r"\1", text).strip(), mode="eval"))
        return ast.literal_eval(tree)
    except (ValueError, SyntaxError, TypeError):
        return text


def _non_finite(value) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, (tuple, list, set)):
        return any(_non_finite(v) for v in value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    return False


def missing_or_bad(source: Path, notebook: Path) -> list[str]:
    """Referenced keys that were not glued, or were glued as a non-finite number; verdict keys without a verdict."""
    glued = glued_values(notebook)
    bad = []
    for key in sorted(referenced_keys(source)):
        if key not in glued:
            bad.append(f"{key}: not glued")
            continue
        value = glued_value(glued[key])
        if value is glued[key]:  # not a Python literal: nothing to check
            continue
        if _non_finite(value):
            bad.append(f"{key}: glued as {glued[key]}")
        elif isinstance(value, str) and re.search(r"\bnan\b", value, re.I):
            bad.append(f"{key}: glued text contains nan: {value!r}")
        elif _VERDICT_KEY.fullmatch(key) and not any(w in str(value) for w in VERDICTS):
            bad.append(f"{key}: glued {value!r}, which names none of the verdicts {VERDICTS}")
    return bad


def verdict_keys(notebook: Path) -> list[str]:
    """The glued keys of an executed notebook that hold a claim's verdict."""
    return [k for k in glued_values(notebook) if _VERDICT_KEY.fullmatch(k)]


def error_outputs(notebook: Path) -> list[str]:
    """``ename: evalue`` of every error output of an executed notebook (papermill stops at the first)."""
    nb = nbformat.read(notebook, as_version=4)
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells for o in c.get("outputs", [])
            if o.get("output_type") == "error"]
