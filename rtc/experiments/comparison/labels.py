"""Run labels and the texts the chapter prints of a grid: which run is which, which cells have one seed, which
TC estimator trained β-TCVAE."""
from __future__ import annotations

import pandas as pd

from rtc.report import cell_label, run_label

from ..columns import need_columns

__all__ = ["run_labels", "seed_cells", "one_seed_text", "tc_estimator_text"]


def run_labels(table: pd.DataFrame) -> list[str]:
    """One label per row of a run table, in its order (:func:`rtc.report.run_label`): e.g. "β-VAE 4",
    "RTC-VAE 10 s1 (shapes3d)"."""
    need_columns(table, ["model", "strength", "seed", "dataset"])
    return [run_label(row) for _, row in table[["model", "strength", "seed", "dataset"]].iterrows()]


def seed_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The grid's cells (model, dataset, strength) with their number of seeds, sorted by dataset, model and
    strength: a cell with one seed describes that run only (a single run is never judged)."""
    need_columns(table, ["model", "dataset", "strength", "seed"])
    g = table.groupby(["dataset", "model", "strength"])["seed"].nunique().rename("seeds").reset_index()
    return g[["model", "dataset", "strength", "seeds"]]


def one_seed_text(table: pd.DataFrame) -> str:
    """The one-seed cells of a run table as text, e.g. "β-TCVAE 10, RTC-VAE 20" ("none" when every cell has
    seeds to compare)."""
    c = seed_cells(table)
    c = c[c["seeds"] == 1]
    return ", ".join(cell_label(m, s, d) for m, d, s in zip(c["model"], c["dataset"], c["strength"], strict=True)) \
        or "none"


def tc_estimator_text(results, model: str = "beta_tcvae") -> str:
    """Which TC estimator trained the first run of ``model`` in ``results`` and at which batch size, e.g. "MSS1
    at batch 32" (the estimator of its ``TrainConfig``, the objective's default where unset); "not trained in this
    profile" without such a run."""
    for r in results:
        if r.config.model == model:
            return f"{str(r.config.objective().tc_estimator).upper()} at batch {r.config.batch_size}"
    return "not trained in this profile"
