"""Plug-in (histogram) mutual information between discretized latents and discrete factors, in nats.

The reference library's MIG and modularity discretize each latent into ``num_bins`` = 20
equal-width bins spanning its sample range (``np.histogram`` edges; the maximum falls in the
last bin; a constant latent lands in one bin), then compute the plug-in mutual information
of the contingency table (``sklearn.metrics.mutual_info_score``; natural log).

Numbers move with: the bin count (more bins → larger plug-in MI, bias ≈ (B_z − 1)(B_v − 1)/(2N)
nats, ≈ 0.04 nats for 20 bins, a 40-valued factor and N = 10,000), the sample size N, and
equal-width binning (an outlier squeezes the rest of a latent into few bins).
"""
from __future__ import annotations

import numpy as np

from .sampling import MetricInputError, as_codes, as_factors

__all__ = ["histogram_discretize", "discrete_entropy", "discrete_mutual_info", "mutual_info_matrix"]


def histogram_discretize(codes, num_bins: int = 20) -> np.ndarray:
    """Bin index 0 … num_bins−1 of every entry of ``codes`` (N, L), equal-width bins per column.

    Same bins as the reference ``np.digitize(x, np.histogram(x, num_bins)[1][:-1])`` (whose
    indices run 1 … num_bins), shifted to start at 0.
    """
    c = as_codes(codes, min_rows=1)
    if num_bins < 1:
        raise MetricInputError(f"num_bins must be ≥ 1, got {num_bins}")
    out = np.empty(c.shape, dtype=np.int64)
    for j in range(c.shape[1]):
        edges = np.histogram(c[:, j], num_bins)[1][:-1]
        out[:, j] = np.digitize(c[:, j], edges) - 1
    return out


def _entropy_of_labels(x: np.ndarray) -> float:
    _, counts = np.unique(x, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def discrete_entropy(factors) -> np.ndarray:
    """Plug-in entropy (nats) of each column of a discrete (N, F) array → (F,)."""
    f = as_factors(factors, require_varying=False)
    return np.array([_entropy_of_labels(f[:, k]) for k in range(f.shape[1])])


def _mi(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in MI of two label vectors: Σ p(a,b) log p(a,b)/(p(a)p(b))."""
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    nb = bi.max() + 1
    joint = np.bincount(ai * nb + bi, minlength=(ai.max() + 1) * nb).reshape(-1, nb).astype(np.float64)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    # max(…, 0): the plug-in MI is ≥ 0 exactly; round-off can give −1e-17.
    return max(float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum()), 0.0)


def discrete_mutual_info(discrete_codes, factors) -> np.ndarray:
    """MI (nats) between each column of discrete codes (N, L) and each factor (N, F) → (L, F)."""
    c = as_factors(discrete_codes, "discrete_codes", require_varying=False)
    f = as_factors(factors, require_varying=False)
    if c.shape[0] != f.shape[0]:
        raise MetricInputError(f"discrete_codes has {c.shape[0]} rows but factors has {f.shape[0]}")
    return np.array([[_mi(c[:, j], f[:, k]) for k in range(f.shape[1])] for j in range(c.shape[1])])


def mutual_info_matrix(codes, factors, *, num_bins: int = 20) -> np.ndarray:
    """MI (nats) of each continuous latent, discretized in ``num_bins`` equal-width bins, with each factor → (L, F)."""
    return discrete_mutual_info(histogram_discretize(codes, num_bins), factors)
