"""Representation diagnostics: TC of mean and sampled codes side by side, and factor disintegration.

**Total correlation** (:func:`tc_diagnostics`). The paper (after Locatello et al.) reports TC_mean and
TC_sample as Proposition 1 applied to the sample covariance of encoded means µ and samples z
(:func:`rtc.gaussian.gaussian_tc_from_samples`). A Gaussian TC is blind to non-Gaussian dependence
(0 for any uncorrelated code), so the non-parametric kNN estimate ``rtc.estimators.knn_tc`` is
reported beside it (``None`` when ``knn=False``), on the latents that are not exactly constant
(``knn_tc`` standardizes each one: TC does not change), and NaN when it rejects the sample
(duplicate rows, e.g. a discrete code: zero kNN distances).
A collapsed code makes Prop. 1 explode for no good reason, so the per-latent variance of µ and
the count of active latents (std ≥ 0.05, the FactorVAE score's pruning threshold) are always
returned too. An exactly constant latent (max = min; its computed variance is ~1e-31 rather than 0,
so the variance is not the test) is dropped before either estimate: a constant is independent of
everything, so it adds 0 to TC; a singular covariance among the rest gives TC = +∞ (Prop. 1's limit) — or, when
round-off
keeps it barely positive definite, a large finite value (≈ 18 nats for exactly collinear latents).

**Factor disintegration** (:func:`disintegration`; paper §5.3: one factor represented by several
latents that are themselves (nearly) independent). From a factor × latent score matrix S (L, F) —
normalized MI or R², each column in [0, 1] — per factor k with top scores s₁ ≥ s₂ (latents a, b):

- ``gap`` = s₁ − s₂: exactly factor k's contribution to SAP (S = R²) or MIG (S = normalized MI),
  which factor as  gap = s₁ · (1 − ρ),  with the **split ratio** ρ = s₂ / s₁ ∈ [0, 1].
  s₁ says how well the best single latent captures the factor; ρ says how much the score is
  suppressed because a second latent carries a comparable share — 0: one latent, 1: an even split.
- ``effective_latents`` = (Σ_j S_jk)² / Σ_j S_jk² (participation ratio, in [1, L]): 1 for one latent,
  2 for an even split over two, m for m; less inflated by small noise scores than exp(entropy).
- ``n_comparable`` = #{j : S_jk ≥ ``share`` · s₁} (default share 0.5).
- with codes given: ``pair_nmi`` = I(z_a; z_b) / min(H(z_a), H(z_b)) (20-bin histograms) and
  ``pair_corr`` = corr(z_a, z_b) of the top two latents: disintegration (the paper's sense) has the
  two nearly independent (pair_nmi ≈ 0); two dependent copies of one latent are redundancy instead.
- ``dedicated``: factor k is the highest-scoring factor of both a and b (each latent of the pair
  mainly represents this factor). Without it an *entangled* code — every latent mixing every
  factor — would look disintegrated too (measured: a random linear encoder on dSprites had
  ρ ≈ 0.9 for most factors).
- ``disintegrated`` = captured (s₁ ≥ ``min_score``) and ρ ≥ ``share`` and dedicated (and
  pair_nmi < ``max_pair_nmi`` when codes are given).

The model-level **disintegration index** is the mean over captured factors of ρ for a dedicated
pair and 0 otherwise (NaN if no factor is captured): the part of SAP/MIG's suppression that is
disintegration rather than entanglement. The plain mean of ρ (all suppression) is
``table["split_ratio"].mean()``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..estimators.knn import knn_tc
from ..gaussian import sample_tc
from .mig import normalized_mi_matrix
from .mutual_info import _mi, histogram_discretize
from .sampling import MetricInputError, as_codes
from .sap import r2_matrix

__all__ = ["TCDiagnostics", "tc_diagnostics", "r2_matrix", "normalized_mi_matrix", "disintegration",
           "disintegration_index", "ACTIVE_STD"]

ACTIVE_STD = 0.05  # the FactorVAE score's pruning threshold on a latent's standard deviation


@dataclass
class TCDiagnostics:
    """Gaussian (Prop. 1) and kNN TC (nats) of means and samples; per-latent variances (L,); active count."""
    tc_mean: float
    tc_sample: float | None
    knn_tc_mean: float | None
    knn_tc_sample: float | None
    mean_variance: np.ndarray
    sample_variance: np.ndarray | None
    active_dims: int

    def as_dict(self) -> dict:
        d = {"tc_mean_gaussian": self.tc_mean, "tc_sample_gaussian": self.tc_sample,
             "tc_mean_knn": self.knn_tc_mean, "tc_sample_knn": self.knn_tc_sample,
             "active_dims": float(self.active_dims)}
        return {k: v for k, v in d.items() if v is not None}


def _knn_tc(x: np.ndarray, k: int) -> float:
    keep = x.max(axis=0) > x.min(axis=0)   # exactly constant latents add nothing
    if keep.sum() < 2:
        return 0.0
    try:
        return float(knn_tc(x[:, keep], k=k))
    except ValueError as exc:  # duplicate rows (a discrete or collapsed code): kNN distances of 0
        if "duplicate" not in str(exc):
            raise
        return float("nan")


def tc_diagnostics(mean, sample=None, *, knn: bool = True, knn_k: int = 3, knn_max_points: int = 5000,
                   seed: int = 0) -> TCDiagnostics:
    """TC of mean codes (N, L) and, if given, sampled codes (N, L), side by side (module docstring).

    The kNN estimate uses at most ``knn_max_points`` rows (a fixed random subset; its cost grows
    like N log N per dimension) and ``k = knn_k`` neighbours.
    """
    mu = as_codes(mean, "mean")
    z = None if sample is None else as_codes(sample, "sample")
    if z is not None and z.shape != mu.shape:
        raise MetricInputError(f"sample must have the shape of mean {mu.shape}, got {z.shape}")
    rows = np.random.default_rng(seed).permutation(mu.shape[0])[:knn_max_points]
    km = _knn_tc(mu[rows], knn_k) if knn else None
    kz = _knn_tc(z[rows], knn_k) if (knn and z is not None) else None
    return TCDiagnostics(sample_tc(mu, drop_constant=True), None if z is None else sample_tc(z, drop_constant=True),
                         km, kz, mu.var(axis=0, ddof=1),
                         None if z is None else z.var(axis=0, ddof=1),
                         int((mu.std(axis=0, ddof=1) >= ACTIVE_STD).sum()))


def _pair_nmi(a: np.ndarray, b: np.ndarray, num_bins: int) -> float:
    d = histogram_discretize(np.stack([a, b], 1), num_bins)
    h = min(_mi(d[:, 0], d[:, 0]), _mi(d[:, 1], d[:, 1]))
    return float(_mi(d[:, 0], d[:, 1]) / h) if h > 0 else 0.0


def disintegration(matrix, *, codes=None, factor_names=None, share: float = 0.5, min_score: float = 0.1,
                   max_pair_nmi: float = 0.2, num_bins: int = 20) -> pd.DataFrame:
    """Per-factor disintegration table from a score matrix (L, F) (module docstring for every column)."""
    s = np.asarray(matrix, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] < 2:
        raise MetricInputError(f"matrix must be (L, F) with L ≥ 2 latents, got {s.shape}")
    if not np.isfinite(s).all() or (s < 0).any():
        raise MetricInputError("matrix must hold finite scores ≥ 0 (normalized MI or R²)")
    L, F = s.shape
    names = list(factor_names) if factor_names is not None else [f"factor {k}" for k in range(F)]
    if len(names) != F:
        raise MetricInputError(f"factor_names has {len(names)} names for {F} factors")
    c = None if codes is None else as_codes(codes)
    if c is not None and c.shape[1] != L:
        raise MetricInputError(f"codes has {c.shape[1]} latents but matrix has {L} rows")
    rows = []
    for k in range(F):
        order = np.argsort(-s[:, k], kind="stable")
        a, b = int(order[0]), int(order[1])
        s1, s2 = s[a, k], s[b, k]
        ratio = s2 / s1 if s1 > 0 else float("nan")
        eff = s[:, k].sum() ** 2 / (s[:, k] ** 2).sum() if s1 > 0 else float("nan")
        row = dict(factor=names[k], top_latent=a, second_latent=b, top1=s1, top2=s2, gap=s1 - s2, split_ratio=ratio,
                   effective_latents=eff, n_comparable=int((s[:, k] >= share * s1).sum()) if s1 > 0 else 0)
        row["dedicated"] = bool(s[a].argmax() == k and s[b].argmax() == k)
        flag = bool(s1 >= min_score and ratio >= share and row["dedicated"])
        if c is not None:
            row["pair_nmi"] = _pair_nmi(c[:, a], c[:, b], num_bins)
            sa, sb = c[:, a].std(), c[:, b].std()
            row["pair_corr"] = float(np.corrcoef(c[:, a], c[:, b])[0, 1]) if sa > 0 and sb > 0 else 0.0
            flag = flag and row["pair_nmi"] < max_pair_nmi
        row["disintegrated"] = flag
        rows.append(row)
    return pd.DataFrame(rows)


def disintegration_index(table: pd.DataFrame, *, min_score: float = 0.1) -> float:
    """Mean over captured factors (top1 ≥ min_score) of split ratio × dedicated; NaN if none is captured."""
    cap = table[table["top1"] >= min_score]
    if not len(cap):
        return float("nan")
    return float((cap["split_ratio"] * cap["dedicated"].astype(float)).mean())
