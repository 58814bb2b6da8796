"""What a reader sees of a chapter's code: the library calls that compute what the prose discusses, no plumbing.

Imports, glue dictionaries and timers live in cells tagged ``hide-cell``, figure code in ``hide-input`` cells; the
code left visible is short (no line over 88 characters) and a chapter defines nothing (no ``def``, no ``class``:
what it needs is in ``rtc/``, tested there).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rtc.params import chapter_notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book" / "chapters").glob("*.py"))
# Cells whose code the reader does not see as it is (hidden behind a toggle, or removed from the page).
HIDDEN = {"hide-cell", "hide-input", "remove-cell", "remove-input", "parameters"}
MAX_VISIBLE = 88


def long_visible_lines(source: Path, limit: int = MAX_VISIBLE) -> list[str]:
    """``cell N, line M: <length> chars`` for every code line over ``limit`` characters in a cell without a
    :data:`HIDDEN` tag (N counts the chapter's cells from 1, M the cell's lines)."""
    out = []
    for n, cell in enumerate(chapter_notebook(source).cells, 1):
        if cell.cell_type != "code" or HIDDEN & set(cell.metadata.get("tags", [])):
            continue
        out += [f"cell {n}, line {m}: {len(line)} chars: {line[:40]}…"
                for m, line in enumerate(cell.source.splitlines(), 1) if len(line) > limit]
    return out


def definitions(source: Path) -> list[str]:
    """The functions and classes a chapter's code cells define."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return [node.name for cell in chapter_notebook(source).cells if cell.cell_type == "code"
            for node in ast.walk(ast.parse(cell.source)) if isinstance(node, kinds)]


def test_there_are_chapters():
    assert len(CHAPTERS) >= 7


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_visible_code_lines_are_short(source):
    long = long_visible_lines(source)
    assert not long, (f"{source.stem}: visible code lines over {MAX_VISIBLE} characters (split the line, or move "
                      "plumbing into a cell tagged hide-cell):\n  " + "\n  ".join(long))


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_chapters_define_nothing(source):
    assert not definitions(source), f"{source.stem} defines {definitions(source)}: move them into rtc/"


def test_the_checks_can_fail(tmp_path):
    p = tmp_path / "c.py"
    long = "x = " + "1 + " * 30 + "1"
    p.write_text(f'# %% tags=["parameters"]\n{long}\n\n# %% tags=["hide-cell"]\n{long}\n\n'
                 f'# %% tags=["hide-input"]\n{long}\n\n# %%\nx = 1\n')
    assert long_visible_lines(p) == [] and definitions(p) == []
    p.write_text(p.read_text() + f"\n# %%\ny = 2\n{long}\n\n# %%\ndef f():\n    class C:\n        pass\n")
    assert long_visible_lines(p) == [f"cell 5, line 2: {len(long)} chars: {long[:40]}…"]
    assert definitions(p) == ["f", "C"]
