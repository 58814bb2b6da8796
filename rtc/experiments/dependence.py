"""Pairwise dependence between the latents of a representation: :func:`pairwise_dependence`.

For every pair (a, b) of latents of codes (N, L):

- ``corr``: the Pearson correlation — what a Gaussian (Proposition 1) or DIP-VAE's covariance penalty sees;
- ``gaussian_mi`` = −½·log(1 − corr²) nats: the mutual information the pair would have if it were jointly
  Gaussian with that correlation (so 0 exactly when uncorrelated);
- ``knn_mi``: the KSG estimate (``rtc.estimators.knn_tc`` on the two columns, k neighbours; the TC of two
  variables is their mutual information) — any dependence, not only correlation. Each column is
  standardised inside the estimator, so the value does not depend on the latents' scales.

``excess_mi`` = knn_mi − gaussian_mi is the dependence that correlation does not explain: ≈ 0 for a Gaussian
pair, large for "uncorrelated but dependent" pairs (the DIP-VAE pattern of the paper's Fig. 6), ≈ 0 for
independent pairs (the RTC-VAE pattern of Fig. 15). The KSG estimate is biased towards 0 for strong
dependence and may be slightly negative near 0 (finite samples).

:func:`top_pair_test` tests the most dependent pair of a representation against a permutation null, the pair
chosen on one half of the codes and tested on the other.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from rtc._validate import is_integer
from rtc.estimators import knn_tc
from rtc.models.encoding import active_latents

__all__ = ["pairwise_dependence", "dependence_matrix", "top_pair_test", "max_abs_corr", "DIP_PENALISED",
           "dip_control_row", "dip_failures"]

# What each DIP-VAE decorrelates (Kumar et al. 2017): DIP-VAE-I the covariance of µ, DIP-VAE-II that of z — the code
# the DIP positive control reads (:func:`max_abs_corr` over its active latents).
DIP_PENALISED = {"dip_vae_i": "mu", "dip_vae_ii": "z"}


def _as_codes(codes) -> np.ndarray:
    c = np.asarray(codes, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] < 2:
        raise ValueError(f"codes must be (N, L) with L ≥ 2 latents, got shape {c.shape}")
    if not np.isfinite(c).all():
        bad = np.argwhere(~np.isfinite(c))[0]
        raise ValueError(f"codes must be finite; row {bad[0]}, column {bad[1]} is {c[bad[0], bad[1]]}")
    return c


def pairwise_dependence(codes, *, latents=None, k: int = 3, max_points: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per pair a < b of ``latents`` (default: all columns): a, b, corr, gaussian_mi, knn_mi, excess_mi.

    ``codes`` (N, L) finite; at most ``max_points`` rows (a seeded subsample) enter the kNN estimate (its cost
    grows as N log N per pair); the correlation uses all rows. A constant latent has no correlation: it raises
    ``ValueError`` naming it (drop inactive latents first). Rows sorted by ``knn_mi``, largest first.
    """
    c = _as_codes(codes)
    idx = list(range(c.shape[1])) if latents is None else [int(i) for i in latents]
    if len(idx) < 2 or len(set(idx)) != len(idx) or min(idx) < 0 or max(idx) >= c.shape[1]:
        raise ValueError(f"latents must be ≥ 2 distinct column indices of codes (L = {c.shape[1]}), got {latents!r}")
    const = [i for i in idx if np.ptp(c[:, i]) == 0]
    if const:
        raise ValueError(f"latents {const} are constant: no correlation or kNN dependence is defined for them")
    if not (is_integer(max_points) and max_points > k + 1):
        raise ValueError(f"max_points must be an integer > k + 1 = {k + 1}, got {max_points!r}")
    sub = c
    if len(c) > max_points:
        sub = c[np.random.default_rng(seed).choice(len(c), max_points, replace=False)]
    corr = np.corrcoef(c[:, idx], rowvar=False)
    rows = []
    for (i, a), (j, b) in itertools.combinations(enumerate(idx), 2):
        r = float(np.clip(corr[i, j], -1.0, 1.0))
        g = float(-0.5 * np.log1p(-r * r)) if abs(r) < 1 else float("inf")
        m = float(knn_tc(sub[:, [a, b]], k))
        rows.append(dict(a=a, b=b, corr=r, gaussian_mi=g, knn_mi=m, excess_mi=m - g))
    return pd.DataFrame(rows).sort_values("knn_mi", ascending=False, kind="stable").reset_index(drop=True)


def dependence_matrix(table: pd.DataFrame, column: str, size: int) -> np.ndarray:
    """The symmetric (size, size) matrix of ``column`` from a :func:`pairwise_dependence` table (NaN on the
    diagonal and for pairs not in the table)."""
    if column not in table.columns:
        raise KeyError(f"no column {column!r}; have {list(table.columns)}")
    m = np.full((size, size), np.nan)
    for a, b, v in zip(table["a"], table["b"], table[column], strict=True):
        m[a, b] = m[b, a] = v
    return m


def top_pair_test(codes, *, latents=None, k: int = 3, permutations: int = 200, max_points: int = 2000,
                  seed: int = 0) -> dict:
    """The most dependent pair of latents of ``codes`` (N, L) and a permutation test of its dependence, the pair
    chosen and tested on disjoint halves of the rows so that choosing the largest of many pairs does not bias
    the test.

    The rows (at most ``max_points``, a seeded subsample) are split at random (seeded) into halves A and B. On A,
    :func:`pairwise_dependence` over ``latents`` (default all; ≥ 2, none constant) picks the pair (a, b) with the
    largest kNN mutual information. On B its kNN MI ``knn_mi`` (nats, KSG with ``k`` neighbours) is set against
    ``permutations`` values of the same pair with latent b's rows shuffled — its marginal kept, its pairing with a
    broken: ``null`` (permutations,), ``null_mean``, ``excess`` = knn_mi − null_mean (the dependence beyond what
    the estimator reports for an independent pair of these marginals) and ``pvalue`` = (1 + #{null ≥ knn_mi}) /
    (1 + permutations). Also ``a``, ``b`` and ``corr`` (their correlation on B)."""
    c = _as_codes(codes)
    if not (is_integer(permutations) and permutations >= 19):
        raise ValueError(f"permutations must be an integer ≥ 19 (a p-value below 5 % needs them), got {permutations!r}")
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(c))[:max_points]
    half = len(rows) // 2
    if half < 2 * (k + 1):
        raise ValueError(f"codes need at least {4 * (k + 1)} rows for two halves of kNN estimates, got {len(c)}")
    a_rows, b_rows = rows[:half], rows[half:]
    top = pairwise_dependence(c[a_rows], latents=latents, k=k, max_points=half, seed=seed).iloc[0]
    a, b = int(top["a"]), int(top["b"])
    x, y = c[b_rows, a], c[b_rows, b]
    obs = float(knn_tc(np.c_[x, y], k))
    null = np.array([knn_tc(np.c_[x, rng.permutation(y)], k) for _ in range(permutations)], dtype=np.float64)
    return {"a": a, "b": b, "corr": float(np.corrcoef(x, y)[0, 1]), "knn_mi": obs, "null": null,
            "null_mean": float(null.mean()), "excess": obs - float(null.mean()),
            "pvalue": float((1 + np.sum(null >= obs)) / (1 + permutations))}


def max_abs_corr(codes) -> float:
    """The largest |Pearson correlation| between two columns of ``codes`` (N, L), L ≥ 2 (NaN for L < 2): the DIP
    positive control's quantity."""
    c = np.asarray(codes, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"codes must be (N, L), got shape {c.shape}")
    if c.shape[1] < 2:
        return math.nan
    r = np.corrcoef(c, rowvar=False)
    np.fill_diagonal(r, 0.0)
    return float(np.max(np.abs(r)))


def dip_control_row(model: str, enc, max_corr: float) -> dict:
    """The DIP positive control of one DIP-VAE run: ``code`` (what ``model`` decorrelates, :data:`DIP_PENALISED`:
    "µ" or "z"), ``active`` (its active latents, Var µ_k > 0.01, :func:`rtc.models.encoding.active_latents`),
    ``max_abs_corr`` (:func:`max_abs_corr` of that code over the active latents; NaN with fewer than two) and
    ``holds`` (at most ``max_corr``). ``enc``: the run's encoding (``mu``, ``z``: (N, L))."""
    act = active_latents(enc.mu)
    m = max_abs_corr((enc.mu if DIP_PENALISED[model] == "mu" else enc.z)[:, act])
    return {"code": "µ" if DIP_PENALISED[model] == "mu" else "z", "active": int(act.sum()), "max_abs_corr": m,
            "holds": bool(math.isfinite(m) and m <= max_corr)}


def dip_failures(control: pd.DataFrame) -> str:
    """The runs of a DIP control table (columns run, code, max_abs_corr, holds) where it fails, as text:
    "DIP-VAE-I 10 (µ 0.99), DIP-VAE-II 10 (z: fewer than two active latents)"; "" where it holds in every run."""
    bad = control[~control["holds"].astype(bool)]
    return ", ".join(f"{r} ({c} {m:.2f})" if math.isfinite(m) else f"{r} ({c}: fewer than two active latents)"
                     for r, c, m in zip(bad["run"], bad["code"], bad["max_abs_corr"], strict=True))
