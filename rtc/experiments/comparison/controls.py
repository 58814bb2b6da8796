"""Positive controls that claims lean on: the DIP-VAE decorrelation control (:func:`dip_control`) — "uncorrelated but
not factorised" can only be tested on DIP-VAE runs whose latents are in fact uncorrelated."""
from __future__ import annotations

import pandas as pd

from rtc.claims import THRESHOLDS, Thresholds

from ..dependence import DIP_PENALISED, dip_control_row, dip_failures
from .labels import run_labels
from .stage import Stage

__all__ = ["dip_control", "dip_control_text"]


def dip_control(stage: Stage, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """Per learned DIP-VAE run of ``stage`` with codes: the control of
    :func:`rtc.experiments.dependence.dip_control_row` (the code it decorrelates — µ for DIP-VAE-I, z for
    DIP-VAE-II —, its active latents, the largest |corr| between them, and whether that is at most
    ``t.dip_corr``). Columns: row, run, model, strength, seed, code, active, max_abs_corr, holds."""
    tab = stage.table
    dip = tab[tab["model"].isin(list(DIP_PENALISED)) & tab["learned"].astype(bool)]
    rows = [{"row": int(r), "run": lab, "model": tab.at[r, "model"], "strength": tab.at[r, "strength"],
             "seed": int(tab.at[r, "seed"]), **dip_control_row(tab.at[r, "model"], stage.codes[r], t.dip_corr)}
            for r, lab in zip(dip.index, run_labels(dip), strict=True) if stage.codes.get(r) is not None]
    return pd.DataFrame(rows, columns=["row", "run", "model", "strength", "seed", "code", "active", "max_abs_corr",
                                       "holds"])


def dip_control_text(control: pd.DataFrame, t: Thresholds = THRESHOLDS) -> str:
    """One sentence: in how many learned DIP-VAE runs the control holds, and the |corr| of those where it fails."""
    if control.empty:
        return "no learned DIP-VAE run"
    text = f"max |corr| ≤ {t.dip_corr:g} in {int(control['holds'].sum())} of {len(control)} learned DIP-VAE runs"
    failures = dip_failures(control)
    return text + (f"; it fails in {failures}" if failures else "")
