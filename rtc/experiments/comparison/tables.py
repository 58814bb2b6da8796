"""The comparison's tables and texts of a grid: the run table (shown and as CSV), TC_mean side by side, the
training grid of a profile and the cost of the paper's."""
from __future__ import annotations

import pandas as pd

from rtc.report import markdown_table

from ..columns import need_columns
from ..grid import estimate_seconds, grid_runs, load_grid
from .constants import LABELS, SIDE_MODELS, TABLE_COLUMNS

__all__ = ["run_table", "shown_run_table", "tc_mean_side_by_side", "describe_grid", "paper_cost"]


def run_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table of every run (claim 8 of the chapter): :data:`TABLE_COLUMNS` that the table has, in that order,
    sorted by dataset, model, strength, seed."""
    cols = [c for c in TABLE_COLUMNS if c in table.columns]
    return table[cols].sort_values(["dataset", "model", "strength", "seed"], kind="stable").reset_index(drop=True)


def shown_run_table(table: pd.DataFrame) -> pd.DataFrame:
    """The run table as the chapter shows it: :func:`run_table` with the model's label (:data:`LABELS`) first as
    "model name", without the model's code name, the batch size and the timings (the CSV keeps them)."""
    show = run_table(table)
    show.insert(0, "model name", [LABELS.get(m, m) for m in show["model"]])
    return show.drop(columns=["model", "batch_size", "train_seconds", "eval_seconds"])


def tc_mean_side_by_side(table: pd.DataFrame, models=SIDE_MODELS) -> pd.DataFrame:
    """Mean TC_mean (nats, over strengths and seeds, every run) of each of ``models`` per dataset: one row per
    dataset (alphabetical) on which more than one of them was trained, one column per model in ``models`` order,
    NaN where a model was not trained on the dataset (the appendix's Fig. 9d)."""
    need_columns(table, ["model", "dataset", "tc_mean"])
    sub = table[table["model"].isin(models)]
    keep = [d for d in sorted(set(sub["dataset"])) if sub.loc[sub["dataset"] == d, "model"].nunique() > 1]
    means = sub.groupby(["dataset", "model"])["tc_mean"].mean().unstack("model")
    return means.reindex(index=pd.Index(keep, name="dataset"), columns=list(models))


def describe_grid(profile: str, *, reference: str = "paper", root=None) -> str:
    """Markdown: the training grid of ``profile`` (every grid: models × strengths × datasets × seeds) and the
    training settings in which it differs from the ``reference`` profile's (a table), so a reduced grid never
    passes for the paper's."""
    g, ref = load_grid(profile, root=root), load_grid(reference, root=root)
    n = len(grid_runs(g))
    grids = pd.DataFrame([(x["name"], ", ".join(LABELS.get(m, m) for m in x["models"]),
                           ", ".join(f"{s:g}" for s in x["strengths"]), ", ".join(x["datasets"]),
                           ", ".join(map(str, x["seeds"]))) for x in g["grids"]],
                         columns=["grid", "models", "strengths", "datasets", "seeds"])
    lines = [f"**Training grid of the `{profile}` profile: {n} runs**, evaluated with the `{g['eval'].name}` "
             "settings.", "", markdown_table(grids)]
    mine, theirs = g["defaults"], ref["defaults"]
    lines += ["", "Settings of every run: " + ", ".join(f"`{k}` = {v}" for k, v in mine.items()) + "."]
    keys = [k for k in dict.fromkeys([*theirs, *mine]) if mine.get(k) != theirs.get(k)]
    if profile != reference and keys:
        rows = [(f"`{k}`", str(mine.get(k, "library default")), str(theirs.get(k, "library default"))) for k in keys]
        if g["eval"] != ref["eval"]:
            rows.append(("evaluation", f"`{g['eval'].name}`", f"`{ref['eval'].name}`"))
        lines += ["", f"Settings that differ from the `{reference}` profile ({len(grid_runs(ref))} runs):", "",
                  markdown_table(pd.DataFrame(rows, columns=["setting", profile, reference]))]
    return "\n".join(lines)


def paper_cost(profile: str = "paper", *, gpu_step_seconds: float = 0.02, gpu_eval_seconds: float = 600.0,
               root=None) -> dict:
    """Cost of a profile's grid: runs, images seen, CPU hours from the measured CPU rates
    (:func:`rtc.experiments.grid.estimate_seconds`) and GPU hours for an *assumed* seconds per training step and
    per evaluation (no GPU rate has been measured for this model yet; ``scripts/gpu/gpu_check.py`` measures one).
    FactorVAE-family steps count double on the GPU (a second batch and the discriminator)."""
    runs = grid_runs(profile, root=root)
    steps = sum(r.config.steps * (2 if r.config.objective().uses_discriminator else 1) for r in runs)
    return {"runs": len(runs), "images": sum(r.config.steps * r.config.batch_size for r in runs),
            "cpu_hours": sum(estimate_seconds(r) for r in runs) / 3600,
            "gpu_hours": (steps * gpu_step_seconds + len(runs) * gpu_eval_seconds) / 3600,
            "gpu_step_seconds": gpu_step_seconds, "gpu_eval_seconds": gpu_eval_seconds}
