"""What the chapters need to show results: glued values, finished figures, Markdown tables.

The chapters of the book compute nothing here; they hand the library's numbers and figures to these
helpers, which put them where MyST-NB's ``{glue:text}`` / ``{glue:figure}`` roles find them. One copy
of each: a change in how a figure is finished or a table is written happens here for every chapter.
``myst_nb`` and ``matplotlib`` are imported on first use, so the module imports without the book extras.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["glue_values", "glue_figure", "markdown_table", "read_glued", "built_verdicts"]


def _glue(name: str, value) -> None:
    from myst_nb import glue

    glue(name, value, display=False)


def glue_values(values=None, /, **named) -> None:
    """Glue every value of the mapping ``values`` and every keyword under its name, without displaying it.

    Names are glue keys (``{glue:text}`` in the prose); keyword names use ``_`` where a key has ``-``,
    so ``glue_values(runs_total=19)`` glues ``runs-total``. numpy scalars are glued as Python numbers."""
    items = dict(values or {})
    items.update({k.replace("_", "-"): v for k, v in named.items()})
    for name, value in items.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"glue names must be non-empty strings, got {name!r}")
        if isinstance(value, np.generic):
            value = value.item()
        _glue(name, value)


def glue_figure(name: str, fig, *, tight: bool = True) -> None:
    """Finish ``fig`` (tight layout), glue it under ``name`` for a ``{glue:figure}`` directive and close it,
    so the figure appears only where the prose places it and never leaks into a later cell's output."""
    import matplotlib.pyplot as plt

    if tight:
        fig.tight_layout()
    _glue(name, fig)
    plt.close(fig)


def markdown_table(df: pd.DataFrame, *, digits: int = 3) -> str:
    """A Markdown table of ``df`` (the book renders Markdown outputs as MyST, so this becomes an HTML table):
    floats with ``digits`` significant digits, booleans as yes/no, NaN as an empty cell, ``|`` escaped."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"markdown_table needs a pandas DataFrame, got {type(df).__name__}")

    def cell(v) -> str:
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, (float, np.floating)):
            return "" if math.isnan(v) else f"{v:.{digits}g}"
        return str(v).replace("|", r"\|")

    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def read_glued(notebook) -> dict[str, str]:
    """Every value glued in an executed notebook, read back: name → its ``text/plain`` (a string's quotes and a
    number's digits as Python prints them; "<figure>" for a glued figure). ``FileNotFoundError`` without the file."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    out = {}
    for c in nb.cells:
        for o in c.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = o.get("data", {})
                out[name] = ("<figure>" if any(k.endswith("image/png") for k in data) else
                             data.get("application/papermill.record/text/plain", data.get("text/plain", "")))
    return out


def built_verdicts(executed, *, prefix: str = "claim") -> dict[str, dict[str, tuple[str, str]]]:
    """The verdicts of a built book: ``executed`` is a folder of executed chapters (``book/_build/executed/
    <profile>/chapters``, or any folder of ``*.ipynb``). Chapter stem → claim name → (verdict, interval text), read
    from the ``<prefix>-<name>-result`` / ``-interval`` values each chapter glues
    (:func:`rtc.claims.observation_texts`); chapters without any are left out. ``FileNotFoundError`` for a missing
    folder or one without notebooks."""
    import ast
    from pathlib import Path

    folder = Path(executed)
    notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if not notebooks:
        raise FileNotFoundError(f"{folder}: no executed chapters (*.ipynb) there; build the book first")
    out = {}
    for nb in notebooks:
        glued = read_glued(nb)
        head, tail = f"{prefix}-", "-result"
        claims = {}
        for key, value in glued.items():
            if key.startswith(head) and key.endswith(tail):
                name = key[len(head):-len(tail)]
                interval = glued.get(f"{head}{name}-interval", "'none'")
                claims[name] = (ast.literal_eval(value), ast.literal_eval(interval))
        if claims:
            out[nb.stem] = claims
    return out

