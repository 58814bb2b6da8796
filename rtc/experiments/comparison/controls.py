"""Positive controls that claims lean on: the DIP-VAE decorrelation control (:func:`dip_control`) — "uncorrelated but
not factorised" can only be tested on DIP-VAE runs whose latents are in fact uncorrelated."""
from __future__ import annotations

import math

import pandas as pd

from rtc.claims import THRESHOLDS, Thresholds
from rtc.models.encoding import active_latents

from ..dependence import DIP_PENALISED, corr_text, max_abs_corr
from .labels import run_labels
from .stage import Stage

__all__ = ["DIP_PENALISED", "max_abs_corr", "dip_control", "dip_control_text"]

def dip_control(stage: Stage, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """Per learned DIP-VAE run of ``stage``: the code it decorrelates (µ for DIP-VAE-I, z for DIP-VAE-II), the
    largest |corr| between its active latents (Var µ_k > 0.01, :func:`rtc.models.encoding.active_latents`) and
    whether that is at most ``t.dip_corr`` ("holds"). Columns: row, run, model, strength, seed, code, active,
    max_abs_corr, holds."""
    rows = []
    tab = stage.table
    dip = tab[tab["model"].isin(list(DIP_PENALISED)) & tab["learned"].astype(bool)]
    for r, lab in zip(dip.index, run_labels(dip), strict=True):
        enc = stage.codes.get(r)
        if enc is None:
            continue
        act = active_latents(enc.mu)
        code = DIP_PENALISED[tab.at[r, "model"]]
        m = max_abs_corr((enc.mu if code == "mu" else enc.z)[:, act])
        rows.append({"row": int(r), "run": lab, "model": tab.at[r, "model"], "strength": tab.at[r, "strength"],
                     "seed": int(tab.at[r, "seed"]), "code": "µ" if code == "mu" else "z",
                     "active": int(act.sum()), "max_abs_corr": m,
                     "holds": bool(math.isfinite(m) and m <= t.dip_corr)})
    return pd.DataFrame(rows, columns=["row", "run", "model", "strength", "seed", "code", "active", "max_abs_corr",
                                       "holds"])


def dip_control_text(control: pd.DataFrame, t: Thresholds = THRESHOLDS) -> str:
    """One sentence: in how many learned DIP-VAE runs the control holds, and the largest |corr| of those where it
    fails."""
    if control.empty:
        return "no learned DIP-VAE run"
    bad = control[~control["holds"]]
    text = f"max |corr| ≤ {t.dip_corr:g} in {int(control['holds'].sum())} of {len(control)} learned DIP-VAE runs"
    if len(bad):
        text += "; it fails in " + ", ".join(f"{r} ({corr_text(c, m)})" for r, c, m in
                                             zip(bad["run"], bad["code"], bad["max_abs_corr"], strict=True))
    return text
