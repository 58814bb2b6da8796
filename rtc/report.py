"""What the chapters need to show results: glued values, finished figures, Markdown tables.

The chapters of the book compute nothing here; they hand the library's numbers and figures to these
helpers, which put them where MyST-NB's ``{glue:text}`` / ``{glue:figure}`` roles find them. One copy
of each: a change in how a figure is finished or a table is written happens here for every chapter.
``myst_nb`` and ``matplotlib`` are imported on first use, so the module imports without the book extras.
"""
from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from rtc._validate import is_real

__all__ = ["MODEL_LABELS", "cell_label", "run_label", "number_text", "rho_text", "glue_values", "glue_figure",
           "markdown_table", "read_glued", "built_verdicts"]


# How the book names each model in its tables, figures and prose.
MODEL_LABELS = {"beta_vae": "β-VAE", "revised_beta_vae": "revised β-VAE", "factor_vae": "FactorVAE",
                "rtc_vae": "RTC-VAE", "beta_tcvae": "β-TCVAE", "dip_vae_i": "DIP-VAE-I", "dip_vae_ii": "DIP-VAE-II",
                "revised_factor_vae": "revised FactorVAE"}


def _label(model: str, strength: float, seed, dataset: str) -> str:
    return (f"{MODEL_LABELS.get(model, model)} {strength:g}" + (f" s{seed}" if seed else "")
            + ("" if dataset == "dsprites" else f" ({dataset})"))


def cell_label(model: str, strength: float, dataset: str = "dsprites") -> str:
    """A cell of a grid (model, strength, dataset): the model's label (:data:`MODEL_LABELS`) and strength, then
    `` (<dataset>)`` for a dataset other than dSprites — e.g. "β-VAE 4", "RTC-VAE 10 (shapes3d)"."""
    return _label(model, strength, 0, dataset)


def run_label(run) -> str:
    """The one label of a run, in every table, figure and text: its cell's label (:func:`cell_label`) with
    `` s<seed>`` after the strength for a seed other than 0 — e.g. "β-VAE 4", "RTC-VAE 10 s1 (shapes3d)".

    ``run``: a mapping or table row with ``model``, ``strength``, ``seed`` and ``dataset``, or a run object
    (``RunSpec``, ``RunResult``, an inspected run) with ``config`` and ``dataset`` (a name or an object with one)."""
    if hasattr(run, "config"):
        c, d = run.config, run.dataset
        return _label(c.model, c.strength, c.seed, getattr(d, "name", d))
    return _label(run["model"], run["strength"], run["seed"], run["dataset"])


def number_text(value, spec: str = ".2f") -> str:
    """``value`` written with the format ``spec`` for the prose, or "n/a" when it is undefined (None, NaN, ±inf):
    a model that learned nothing has no captured factor, a profile without noise no noisy value. ``TypeError``
    for anything that is not a real number (a bool included)."""
    if value is None:
        return "n/a"
    if not is_real(value):
        raise TypeError(f"number_text needs a real number or None, got {type(value).__name__} {value!r}")
    return format(float(value), spec) if math.isfinite(value) else "n/a"


def rho_text(r) -> str:
    """A :func:`correlation_table` row (a mapping with rho, lo, hi, n) as "ρ [lo, hi] (n runs)", or
    "n/a (n runs)" when ρ is undefined (fewer than 3 runs, or a constant column)."""
    if not math.isfinite(r["rho"]):
        return f"n/a ({r['n']} runs)"
    return f"{r['rho']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}] ({r['n']} runs)"


def _glue(name: str, value) -> None:
    from myst_nb import glue  # lazy: the book extra (rtc[book]); rtc.report imports without it

    glue(name, value, display=False)


def glue_values(values: Mapping[str, object], /) -> None:
    """Glue every value of the mapping ``values`` under its key, without displaying it.

    Keys are the glue keys the prose cites (``{glue:text}`runs-total```), written out as they are, so that a
    search for a cited key finds where it is glued: ``glue_values({"runs-total": 19})``. numpy scalars are glued
    as Python numbers. ``TypeError`` for anything but a mapping, ``ValueError`` for a key that is not a non-empty
    string."""
    if not isinstance(values, Mapping):
        raise TypeError(f"glue_values needs one mapping of glue key → value, got {type(values).__name__}")
    items = dict(values)
    for name in items:
        if not isinstance(name, str) or not name:
            raise ValueError(f"glue names must be non-empty strings, got {name!r}")
    for name, value in items.items():
        if isinstance(value, np.generic):
            value = value.item()
        _glue(name, value)


def glue_figure(name: str, fig, *, tight: bool = True) -> None:
    """Finish ``fig`` (tight layout), glue it under ``name`` for a ``{glue:figure}`` directive and close it,
    so the figure appears only where the prose places it and never leaks into a later cell's output."""

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
    import nbformat  # lazy: the book extra (rtc[book]); rtc.report imports without it

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


def built_verdicts(executed, *, prefix: str = "claim") -> dict[str, dict[str, tuple]]:
    """The verdicts of a built book: ``executed`` is a folder of executed chapters (``book/_build/executed/
    <profile>/chapters``, or any folder of ``*.ipynb``). Chapter stem → claim name → (verdict, interval text, end
    verdict, half verdict), read from the ``<prefix>-<name>-result`` / ``-interval`` / ``-end`` / ``-half`` values
    each chapter glues (:func:`rtc.claims.observation_texts`): the verdict is the end and half verdicts combined,
    the half verdict "not computed" where the chapter had no snapshots. A build older than the ``-end`` / ``-half``
    keys gives None for them (missing, never guessed from the combined verdict); chapters without any claim are
    left out. ``FileNotFoundError`` for a missing folder or one without notebooks."""

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
                end, half = (glued.get(f"{head}{name}-{part}") for part in ("end", "half"))
                claims[name] = (ast.literal_eval(value), ast.literal_eval(interval),
                                None if end is None else ast.literal_eval(end),
                                None if half is None else ast.literal_eval(half))
        if claims:
            out[nb.stem] = claims
    return out
