"""Trained codes: the score a factor loses to disintegration, separated from the rest.

:func:`pair_gain_table` separates the score lost to disintegration from the rest and flags each factor on the codes
and on a control code (its docstring defines both); :func:`analyse_codes` adds the dependence of each factor's top
pair (:func:`top_pair_dependence`); :func:`correlation_table` gives Spearman's ρ with a seeded bootstrap interval over
runs (``rtc.claims.spearman_bootstrap``) for pairs of a table's columns.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rtc.claims import THRESHOLDS, spearman_bootstrap
from rtc.experiments.columns import need_columns
from rtc.experiments.dependence import pairwise_dependence
from rtc.metrics import (
    discrete_entropy,
    discrete_mutual_info,
    disintegration,
    histogram_discretize,
    normalized_mi_matrix,
    r2_matrix,
)

__all__ = ["score_matrix", "factor_flags", "pair_gain_table", "analyse_codes", "most_split_factor",
           "deficit_summary", "top_pair_dependence", "correlation_table"]


def _joint_r2(x: np.ndarray, y: np.ndarray) -> float:
    """R² of the least-squares regression of y (N,) on the columns of x (N, p) with an intercept."""
    a = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    sst = ((y - y.mean()) ** 2).sum()
    return float(np.clip(1.0 - ((y - a @ coef) ** 2).sum() / sst, 0.0, 1.0)) if sst > 0 else 0.0


def score_matrix(codes: np.ndarray, factors: np.ndarray, score: str, num_bins: int) -> np.ndarray:
    """R² (``score="r2"``, SAP's scores) or 20-bin normalised MI (``"nmi"``, MIG's), (L, F)."""
    return r2_matrix(codes, factors) if score == "r2" else normalized_mi_matrix(codes, factors, num_bins=num_bins)


def factor_flags(codes: np.ndarray, factors: np.ndarray, score: str, *, num_bins: int, min_score: float, seed: int):
    """The score matrix (L, F), ``rtc.metrics.disintegration``'s table, the chance level (F,), ``captured`` (F,)
    and ``control`` (F,): the flag of each captured factor on the control code whose second latent is permuted
    (:func:`pair_gain_table` defines them). The first permutation of ``seed`` shuffles the factors (chance), the
    next ones the second latents, factor by factor."""
    mat = score_matrix(codes, factors, score, num_bins)
    table = disintegration(mat, codes=codes, num_bins=num_bins)
    rng = np.random.default_rng(seed)
    chance = score_matrix(codes, factors[rng.permutation(len(factors))], score, num_bins).max(axis=0)
    captured = mat.max(axis=0) >= chance + min_score
    control = np.zeros(len(captured), dtype=bool)
    for k in np.flatnonzero(captured):
        b = int(table.second_latent.iloc[k])
        c = codes.copy()
        c[:, b] = c[rng.permutation(len(c)), b]  # b keeps its marginal, loses every tie to the images
        m = mat.copy()
        m[b] = score_matrix(c[:, [b]], factors, score, num_bins)[0]
        control[k] = bool(disintegration(m, codes=c, num_bins=num_bins).disintegrated.iloc[k])
    return mat, table, chance, captured, control


def _pair_scores(scores: np.ndarray, row, pair: np.ndarray, factor: np.ndarray, score: str, bins, num_bins: int
                 ) -> dict:
    """One factor's columns of :func:`pair_gain_table` from ``top_latent`` to ``unexplained``: ``scores`` (L,) its
    column of the score matrix, ``row`` its row of ``rtc.metrics.disintegration``'s table, ``pair`` (N, 2) the
    codes of its top two latents, ``factor`` (N,) its values, ``bins`` the binned codes (``score="nmi"``)."""
    a, b = int(row.top_latent), int(row.second_latent)
    col = np.sort(scores)[::-1]
    s1, s2 = float(col[0]), float(col[1])
    s3 = float(col[2]) if len(col) > 2 else 0.0
    if score == "r2":
        joint = _joint_r2(pair, factor.astype(np.float64))
    else:
        label = (bins[:, a] * num_bins + bins[:, b])[:, None]
        joint = float(discrete_mutual_info(label, factor[:, None])[0, 0] / discrete_entropy(factor[:, None])[0])
    gain = joint - s1
    gap = s1 - s2
    deficit = 1.0 - gap
    g = min(max(gain, 0.0), s2)
    explained = float(np.clip(2 * g - s3, 0.0, deficit)) if row.dedicated else 0.0
    return dict(top_latent=a, second_latent=b, s1=s1, s2=s2, s3=s3, joint=joint, gain=gain, gap=gap,
                deficit=deficit, dedicated=bool(row.dedicated), explained=explained, unexplained=deficit - explained)


def pair_gain_table(codes, factors, *, score: str = "r2", factor_names=None, num_bins: int = 20,
                    min_score: float = THRESHOLDS.min_score, seed: int = 0) -> pd.DataFrame:
    """Per factor: how much of its SAP (``score="r2"``) or MIG (``"nmi"``) deficit the split over its top two
    latents explains, and whether the split is flagged on the codes and on their control.

    With the factor's single-latent scores sorted s1 ≥ s2 ≥ s3 (latents a, b, … as in
    ``rtc.metrics.disintegration``; R² or 20-bin normalised MI) and ``joint`` the score of the pair (a, b)
    together (R² of the linear regression on both; for MI, the plug-in MI of the pair's 20 × 20-bin joint label,
    normalised by H(v)):

    - ``gap`` = s1 − s2 (the factor's SAP/MIG contribution), ``deficit`` = 1 − gap;
    - ``gain`` = joint − s1: what b adds to a. For independent a, b it is s2 (R² of uncorrelated predictors add;
      MI of independent latents that are functions of the factor add), for a redundant copy of a it is 0;
    - ``dedicated``: both a and b score highest for this factor (``rtc.metrics.disintegration``), so b is not
      another factor's latent leaking in (entanglement);
    - ``explained`` = dedicated · clip(2·min(max(gain, 0), s2) − s3, 0, deficit): the gap the factor would gain if
      a and b were merged into one latent, counting only b's *new* information: the merged latent would score
      s1 + gain' (gain' = min(max(gain, 0), s2)) against the next competitor s3 instead of s1 against s2,
      i.e. gap + gain' + s2 − s3, and for a split (gain' = s2) that is gap + 2·s2 − s3. For a clean two-way split
      explained = deficit; for the identity code, a redundant copy or a non-dedicated (entangled) pair it is 0.
      Splits over k ≥ 3 latents are only partly explained by the top pair (explained = 2·s2 − s3).
    - ``unexplained`` = deficit − explained: the rest (entanglement, redundancy, a factor not captured).
    - ``chance``: the best score of any latent against the factors with their rows shuffled (one seeded
      permutation): what s1 reaches with no relation at all. The plug-in MI of 20-bin latents is biased upwards by
      ≈ (20 − 1)(n_v − 1)/(2N) nats (0.5 nats for a 32-valued factor at N = 500), so a raw ``min_score`` would
      count noise as a captured factor; ``captured`` = s1 ≥ chance + ``min_score``.
    - ``split_ratio``, ``pair_nmi``, ``disintegrated``: from ``rtc.metrics.disintegration`` with these codes.
    - ``control``: for a captured factor, ``disintegrated`` on the *control code*: the same codes with the second
      latent b permuted across the images (seeded). b keeps its marginal and a, the other latents and the factor
      are untouched, but b no longer carries anything about any factor, so a split of this factor over (a, b) is
      impossible; the flag can then fire only through the estimator (the plug-in MI bias lifting an unrelated
      latent to s1/2 when s1 is small) or through a third latent that also carries the factor. False for a factor
      that is not captured.

    ``codes`` (N, L ≥ 2), ``factors`` (N, F) grid indices. Returns one row per factor (in factor order,
    ``factor_index`` 0 … F − 1) with the columns above and factor, top_latent, second_latent, s1, s2, s3, joint.
    """
    if score not in ("r2", "nmi"):
        raise ValueError(f"score must be 'r2' or 'nmi', got {score!r}")
    c, f = np.asarray(codes, dtype=np.float64), np.asarray(factors, dtype=np.int64)
    mat, table, chance, captured, control = factor_flags(c, f, score, num_bins=num_bins, min_score=min_score, seed=seed)
    names = list(factor_names) if factor_names is not None else list(table.factor)
    if len(names) != f.shape[1]:
        raise ValueError(f"factor_names has {len(names)} names for {f.shape[1]} factors")
    bins = histogram_discretize(c, num_bins) if score == "nmi" else None
    rows = []
    for k, row in table.iterrows():
        pair = _pair_scores(mat[:, k], row, c[:, [int(row.top_latent), int(row.second_latent)]], f[:, k], score,
                            bins, num_bins)
        rows.append(dict(factor=names[k], factor_index=int(k), **pair, chance=float(chance[k]),
                         captured=bool(captured[k]), split_ratio=float(row.split_ratio),
                         pair_nmi=float(row.pair_nmi), disintegrated=bool(row.disintegrated),
                         control=bool(control[k])))
    return pd.DataFrame(rows)


def analyse_codes(codes, factors, *, factor_names=None, num_bins: int = 20, knn_k: int = 3, max_points: int = 2000,
                  min_score: float = THRESHOLDS.min_score, seed: int = 0) -> pd.DataFrame:
    """:func:`pair_gain_table` under both scores ("r2" → SAP, "nmi" → MIG) with a ``score`` column, plus the
    dependence of each factor's top pair (:func:`top_pair_dependence`: corr, gaussian_mi, knn_mi, excess_mi).
    ``codes`` (N, L ≥ 2): encoder means of a trained model; ``factors`` (N, F)."""
    out, cache = [], {}
    for score in ("r2", "nmi"):
        t = pair_gain_table(codes, factors, score=score, factor_names=factor_names, num_bins=num_bins,
                            min_score=min_score, seed=seed)
        dep = []
        for a, b in zip(t.top_latent, t.second_latent, strict=True):
            key = (min(a, b), max(a, b))
            if key not in cache:
                cache[key] = top_pair_dependence(codes, a, b, k=knn_k, max_points=max_points, seed=seed)
            dep.append(cache[key])
        out.append(pd.concat([t.assign(score=score), pd.DataFrame(dep)], axis=1))
    return pd.concat(out, ignore_index=True)


def most_split_factor(table: pd.DataFrame) -> int | None:
    """Row of a :func:`pair_gain_table` (one score) whose factor is the clearest split: among captured factors
    (column ``captured``) the largest split ratio s2/s1, preferring flagged, then dedicated pairs; None if no
    factor is captured."""
    need_columns(table, ["captured", "split_ratio", "dedicated", "disintegrated"])
    cap = table[table.captured.astype(bool)]
    if cap.empty:
        return None
    order = cap.assign(_f=cap.disintegrated.astype(int), _d=cap.dedicated.astype(int)).sort_values(
        ["_f", "_d", "split_ratio"], ascending=False, kind="stable")
    return int(order.index[0])


def deficit_summary(table: pd.DataFrame) -> dict:
    """Model level of a :func:`pair_gain_table`: ``deficit`` (= 1 − SAP or 1 − MIG of those codes), ``explained``
    (mean over factors), ``share`` = Σ explained / Σ deficit (NaN when the deficit is 0)."""
    d, e = float(table["deficit"].mean()), float(table["explained"].mean())
    return {"deficit": d, "explained": e, "share": e / d if d > 1e-12 else float("nan")}


def top_pair_dependence(codes, a: int, b: int, *, k: int = 3, max_points: int = 2000, seed: int = 0) -> dict:
    """corr, gaussian_mi, knn_mi, excess_mi of latents a and b (``rtc.experiments.dependence.pairwise_dependence``);
    all NaN when either latent is constant (no dependence is defined). KSG assumes distinct rows (a row repeated
    more than k times makes a k-th neighbour distance 0, which it rejects; fewer repeats bias it), so repeated
    rows of the pair are kept once: encoding images of uniformly drawn factors repeats images (2,000 draws from
    dSprites' 737,280 combinations give ≈ 2.7 repeated pairs on average), and a collapsed encoder maps many images
    to one mean. A discrete code has few distinct rows and is no input for this (use noisy codes)."""
    c = np.asarray(codes, dtype=np.float64)
    if np.ptp(c[:, a]) == 0 or np.ptp(c[:, b]) == 0:
        return dict(corr=float("nan"), gaussian_mi=float("nan"), knn_mi=float("nan"), excess_mi=float("nan"))
    pair = np.unique(c[:, [a, b]], axis=0)
    row = pairwise_dependence(pair, k=k, max_points=max_points, seed=seed).iloc[0]
    return {key: float(row[key]) for key in ("corr", "gaussian_mi", "knn_mi", "excess_mi")}


def correlation_table(table: pd.DataFrame, xs, ys, *, repeats: int = 1000, seed: int = 0,
                      level: float = 0.95) -> pd.DataFrame:
    """:func:`spearman_bootstrap` for every (x, y) of column names of ``table``; columns x, y, n, rho, lo, hi,
    pvalue. A missing column is a ``KeyError`` naming it."""
    missing = [c for c in (*xs, *ys) if c not in table.columns]
    if missing:
        raise KeyError(f"table lacks the columns {missing}; it has {list(table.columns)}")
    return pd.DataFrame([dict(x=x, y=y, **spearman_bootstrap(table[x], table[y], repeats=repeats, seed=seed,
                                                             level=level)) for x in xs for y in ys])
