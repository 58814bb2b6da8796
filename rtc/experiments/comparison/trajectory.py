"""The claims of §5.1–5.2 along training: which quantity of a run's curve each claim rests on
(:data:`CLAIM_CURVES`), the plateau test of those quantities cell by cell (:func:`claim_plateau`), and the verdicts
with their budget (:func:`with_trajectories`: "confirmed" / "refuted" need a plateau; every verdict names the
images per run it rests on)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rtc.claims import PLATEAU_WORDS, THRESHOLDS, Observation, Thresholds, plateau_test, with_budget

from ..columns import need_columns
from .constants import LABELS

__all__ = ["CLAIM_CURVES", "claim_plateau", "with_trajectories"]

# claim → (the curve column each model's runs are followed by — one name for all, or model → name —, the scale of
# the plateau test: "nats" for a difference, "log" for a positive quantity). A claim judged on something the curve
# does not hold is followed by the Gaussian TC_mean of its runs, the quantity its dependence moves with: the rank
# correlation of TC_mean and SAP (tc_sap) and the pair tests of µ (dip_dependent, rtc_factorised).
CLAIM_CURVES = {
    "primary_disparity": ("disparity", "nats"),
    "primary_tc_mean": ("tc_mean", "log"),
    **{f"disparity_{m}": ("disparity", "nats") for m in ("beta_vae", "factor_vae", "beta_tcvae")},
    **{f"none_{m}": ("disparity", "nats") for m in ("revised_beta_vae", "rtc_vae")},
    "revised_lower": ("tc_mean", "log"),
    "rtc_recon": ("recon", "log"),
    "tc_sap": ("tc_mean", "log"),
    "low_tc_mean": ("tc_mean", "log"),
    "dip_gaussian": ({"dip_vae_i": "tc_mean", "dip_vae_ii": "tc_sample", "factor_vae": "tc_mean"}, "log"),
    "dip_dependent": ("tc_mean", "log"),
    "rtc_factorised": ("tc_mean", "log"),
}

# The plateau words (rtc.claims.PLATEAU_WORDS) from the least to the most telling against a plateau: a claim takes
# its cells' worst.
_ORDER = ("plateau", "too few snapshots", "undecided", "moving")
assert set(_ORDER) == set(PLATEAU_WORDS)


def _cell_values(curves: dict, rows, column: str, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """(images (S,), values (runs, S)) of ``column`` over the steps every run of ``rows`` kept; log of the values
    when ``log`` (a non-positive value is NaN: that run is left out of the test)."""
    frames = [curves[r] for r in rows]
    common = sorted(set.intersection(*(set(f["images_seen"]) for f in frames)))
    vals = np.array([f.set_index("images_seen").loc[common, column].to_numpy(np.float64) for f in frames])
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            vals = np.where(vals > 0, np.log(vals), np.nan)
    return np.asarray(common, dtype=np.float64), vals


def claim_plateau(name: str, obs: Observation, table: pd.DataFrame, curves: dict, t: Thresholds = THRESHOLDS):
    """The plateau of the quantities claim ``name`` rests on: (word — the worst over its cells, of
    :data:`rtc.claims.PLATEAU_WORDS` —, a sentence per cell). A cell is the claim's judged runs (``obs.values
    ["rows"]``, positions in ``table`` and keys of ``curves``: position → the run's curve, :meth:`RunResult.curve`)
    of one model, dataset and strength; each is tested by :func:`rtc.claims.plateau_test` over its seeds with δ =
    ``t.plateau_nats`` or ``t.plateau_log`` (:data:`CLAIM_CURVES`)."""
    need_columns(table, ["model", "dataset", "strength", "seed"])
    columns, scale = CLAIM_CURVES[name]
    delta = t.plateau_nats if scale == "nats" else t.plateau_log
    rows = [r for r in obs.values.get("rows", []) if r in curves]
    words, notes = [], []
    for (m, ds, s), g in table.loc[rows].groupby(["model", "dataset", "strength"]):
        column = columns if isinstance(columns, str) else columns.get(m)
        if column is None:
            continue
        images, vals = _cell_values(curves, list(g.index), column, scale == "log")
        p = plateau_test(images, vals, delta=delta)
        words.append(p.word)
        unit = "nats" if scale == "nats" else "log units"
        slope = f"{p.slope.estimate:+.2f} [{p.slope.lo:+.2f}, {p.slope.hi:+.2f}] {unit} per doubling" if p.slope \
            else f"{p.seeds} seed(s) with every point"
        notes.append(f"{LABELS.get(m, m)} {s:g}{'' if ds == 'dsprites' else f' ({ds})'}: {column} {p.word} "
                     f"({slope}; bound ±{delta:g})")
    word = max(words, key=_ORDER.index) if words else "too few snapshots"
    return word, "; ".join(notes)


def with_trajectories(claims: dict, table: pd.DataFrame, curves: dict, t: Thresholds = THRESHOLDS) -> dict:
    """``claims`` (name → Observation, :func:`check_claims`), each with its plateau (:func:`claim_plateau`), its
    budget (``images``: steps × batch size of its runs, from ``table``'s ``steps`` and ``batch_size``) and its
    verdict through :func:`rtc.claims.trajectory_verdict` (:func:`rtc.claims.with_budget`: the summary starts with
    the budget, the evidence ends with the plateau of every cell). Changes and returns the observations."""
    need_columns(table, ["steps", "batch_size"])
    for name, o in claims.items():
        rows = o.values.get("rows", [])
        images = table.loc[rows, "steps"] * table.loc[rows, "batch_size"] if rows else pd.Series(dtype=float)
        images = int(images.min()) if len(images) else int((table["steps"] * table["batch_size"]).min())
        plateau, notes = claim_plateau(name, o, table, curves, t)
        with_budget(o, images, plateau, notes or "no cell with two seeds")
    return claims
