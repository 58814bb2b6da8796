"""The tables and statistics the disintegration claims judge: one row per run (:func:`run_summary`), the factors
the suppression claim compares (:func:`suppression_table`) with a permutation p-value (:func:`permutation_pvalue`),
and the interval of the share of the deficit that disintegration explains (:func:`deficit_share_interval`).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from rtc.claims import LEVEL, Interval, bootstrap_interval
from rtc.experiments.columns import need_columns

from .common import FACTOR_COLUMNS, int_arg

__all__ = ["run_summary", "permutation_pvalue", "suppression_table", "deficit_share_interval"]


def run_summary(factors: pd.DataFrame) -> pd.DataFrame:
    """One row per run of an :func:`analyse_runs` table: run, model, dataset, strength, seed, tc_mean,
    ``captured`` (how many factors are captured under either score), ``flagged`` / ``control`` (a captured
    factor is flagged on the codes / on its control code, :func:`pair_gain_table`, under either score) and
    ``disintegration_nmi``: the mean over the factors captured under normalised MI of split ratio × dedicated
    (``rtc.metrics.disintegration_index`` with the chance-corrected capture); NaN without such a factor."""
    need_columns(factors, [*FACTOR_COLUMNS, "strength", "tc_mean", "split_ratio", "dedicated"])
    rows = []
    for run, t in factors.groupby("run", sort=True):
        cap = t[t.captured.astype(bool)]
        nmi = cap[cap.score == "nmi"]
        first = t.iloc[0]
        rows.append(dict(run=int(run), model=first.model, dataset=first.dataset, strength=float(first.strength),
                         seed=int(first.seed), tc_mean=float(first.tc_mean), captured=int(cap.factor.nunique()),
                         flagged=bool(cap.disintegrated.astype(bool).any()),
                         control=bool(cap.control.astype(bool).any()),
                         disintegration_nmi=float((nmi.split_ratio * nmi.dedicated.astype(float)).mean())
                         if len(nmi) else float("nan")))
    return pd.DataFrame(rows)


def permutation_pvalue(groups, values, labels, *, repeats: int = 1000, seed: int = 0) -> float:
    """One-sided permutation p-value of T = the mean over groups of (mean ``values`` where not ``labels`` −
    mean where ``labels``), the labels shuffled within each group (each keeps its number of labelled items):
    (1 + #{T* ≥ T}) / (1 + repeats). ``groups``, ``values``, ``labels`` (n,); every group needs both labels."""
    g, v, lab = np.asarray(groups), np.asarray(values, dtype=np.float64), np.asarray(labels, dtype=bool)
    if not (g.shape == v.shape == lab.shape) or g.ndim != 1:
        raise ValueError(f"groups, values and labels must be 1-D of one length, got {g.shape}, {v.shape}, {lab.shape}")
    if not np.isfinite(v).all():
        raise ValueError("values must be finite")
    int_arg("repeats", repeats, 1)
    parts = [(v[g == k], lab[g == k]) for k in np.unique(g)]
    bad = [k for k, (_, lk) in zip(np.unique(g), parts, strict=True) if lk.all() or not lk.any()]
    if bad:
        raise ValueError(f"groups {bad} lack one of the two labels: the difference is undefined there")

    def statistic(labs) -> float:
        return float(np.mean([vk[~lk].mean() - vk[lk].mean() for (vk, _), lk in zip(parts, labs, strict=True)]))

    observed = statistic([lk for _, lk in parts])
    rng = np.random.default_rng(seed)
    hits = sum(statistic([rng.permutation(lk) for _, lk in parts]) >= observed - 1e-12 for _ in range(repeats))
    return (1 + hits) / (1 + repeats)


def suppression_table(factors: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The factors the suppression claim compares, for ``metric`` "sap" (gaps of the R² matrix) or "mig"
    (normalised MI): every factor captured under the metric's own score, with its ``gap`` there and ``flag``:
    flagged (captured and disintegrated) on the *other* score's matrix. The flag is taken from the other matrix
    because a flag on the metric's own matrix needs s2 ≥ s1/2, i.e. a gap ≤ s1/2: a test on it could not fail.
    Columns run, dataset, seed, factor, factor_index, gap, flag."""
    if metric not in ("sap", "mig"):
        raise ValueError(f"metric must be 'sap' or 'mig', got {metric!r}")
    need_columns(factors, FACTOR_COLUMNS)
    own, other = ("r2", "nmi") if metric == "sap" else ("nmi", "r2")
    keys = ["run", "factor_index"]
    a = factors[factors.score == own][[*keys, "dataset", "seed", "factor", "captured", "gap"]]
    b = factors[factors.score == other][[*keys, "captured", "disintegrated"]]
    t = a.merge(b, on=keys, suffixes=("", "_other"), validate="one_to_one")
    t = t[t.captured.astype(bool)]
    flag = t.captured_other.astype(bool) & t.disintegrated.astype(bool)
    return t.assign(flag=flag)[["run", "dataset", "seed", "factor", "factor_index", "gap", "flag"]].reset_index(
        drop=True)


def deficit_share_interval(factors: pd.DataFrame, score: str, *, repeats: int = 1000, seed: int = 0,
                           level: float = LEVEL) -> Interval | None:
    """The interval of :func:`deficit_shares`' ``share`` (percent: 100 · Σ explained / Σ deficit over the runs'
    mean per-factor values under ``score``): a bootstrap over runs with ≥ 2 runs, over the factors of the one run
    otherwise (``n``: the runs resampled, 1 for one run). None when the deficits sum to 0 (no share)."""
    if score not in ("r2", "nmi"):
        raise ValueError(f"score must be 'r2' or 'nmi', got {score!r}")
    need_columns(factors, ["run", "score", "deficit", "explained"])
    t = factors[factors.score == score]
    per = t.groupby("run")[["explained", "deficit"]].mean()
    if per.empty:
        raise ValueError(f"factors has no {score!r} row")
    if not per.deficit.sum() > 0:
        return None
    share = lambda e, d: 100 * e.sum() / d.sum() if d.sum() > 0 else float("nan")  # noqa: E731
    if len(per) >= 2:
        return replace(bootstrap_interval(share, per.explained.to_numpy(), per.deficit.to_numpy(), repeats=repeats,
                                          seed=seed, level=level, basis="runs (bootstrap)"), n=len(per))
    return bootstrap_interval(share, t.explained.to_numpy(), t.deficit.to_numpy(), repeats=repeats, seed=seed,
                              level=level, basis="one run (bootstrap over factors)")
