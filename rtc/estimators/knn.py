"""Non-parametric total correlation from k-nearest-neighbour distances (Kraskov et al. 2004).

Prop. 1 only sees the covariance, so it gives TC = 0 for codes that are uncorrelated but
dependent. These estimators see any dependence:

* ``method="ksg"`` (default): the KSG estimator (Kraskov, Stögbauer & Grassberger 2004, their
  algorithm 1 extended to m variables, their eq. 8 generalised) of the multi-information
  TC = Σ_k H(z_k) − H(z). For each sample i, ε_i is the max-norm distance to its k-th
  neighbour in the joint space and n_ik the number of other samples with |z_jk − z_ik| < ε_i:

      TC ≈ ψ(k) + (D − 1)·ψ(N) − mean_i Σ_k ψ(n_ik + 1).

  The same ε_i is used in every marginal, so the biases of the joint and marginal entropy
  estimates largely cancel: TC = 0 data give ≈ 0 (small negative values are noise).
* ``method="kl"``: Σ_k H_KL(z_k) − H_KL(z) with independent Kozachenko–Leonenko entropy
  estimates H_KL(x) = ψ(N) − ψ(k) + d·log 2 + d·mean_i log ε_i (max norm, unit ball volume 2^d).
  Its biases do not cancel; it is kept for comparison.

:func:`knn_tc` first centres each coordinate on its mean and divides it by its standard
deviation (an exactly constant coordinate is set to 0: it adds nothing to TC). A TC is
invariant under per-coordinate affine maps z_k → a_k z_k + b_k, and so is the estimate then (up
to round-off): without it KSG's one ε for all coordinates favours the widest one, and a
coordinate offset by 1e12 left the data a few ulps apart. Bias: KSG is biased towards 0 when the dependence is strong
relative to N (it
under-estimates a large TC; the bias grows with D because kNN balls in D dimensions are large).
Cost: a k-d tree query, O(N log N) in low D and approaching O(N²) in high D, plus D sorted
1-D counts (O(D·N log N)). Not differentiable (numpy/scipy, float64): an evaluation tool.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma

from .._validate import is_integer

__all__ = ["knn_tc", "knn_entropy"]


def _as_samples(x, k: int) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"samples must be numeric, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim != 2:
        raise ValueError(f"samples must have shape (N, D), got {a.shape}")
    if a.shape[1] < 1:
        raise ValueError(f"samples must have D ≥ 1 columns, got shape {a.shape}")
    if not is_integer(k) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    if a.shape[0] <= k:
        raise ValueError(f"need more samples than neighbours: N={a.shape[0]}, k={k}")
    if not np.isfinite(a).all():
        raise ValueError("samples contain NaN or infinite values")
    return a


def _kth_distance(a: np.ndarray, k: int) -> np.ndarray:
    """Max-norm distance of each row to its k-th nearest other row, (N,)."""
    dist, _ = cKDTree(a).query(a, k=k + 1, p=np.inf)
    eps = dist[:, k]
    if (eps <= 0).any():
        raise ValueError("duplicate samples: a k-th neighbour distance is 0 (the estimators assume continuous "
                         "data; add tiny jitter or lower k)")
    return eps


def knn_entropy(x, k: int = 3) -> float:
    """Kozachenko–Leonenko differential entropy (nats) of samples ``x`` (N, D), max norm."""
    a = _as_samples(x, k)
    n, d = a.shape
    eps = _kth_distance(a, k)
    return float(digamma(n) - digamma(k) + d * np.log(2.0) + d * np.mean(np.log(eps)))


def _count_within(col: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """For each i, #{j ≠ i : |col_j − col_i| < eps_i} by binary search on the sorted column."""
    s = np.sort(col)
    # The neighbour that defines eps_i lies exactly at distance eps_i in one coordinate and must not be
    # counted (strict <); after round-off it could land either side, so shrink eps by a few ulps of the data
    # (the columns are standardized first, so the ulps are those of numbers of order 1).
    tol = 64 * np.finfo(np.float64).eps * (np.abs(col).max() + eps)
    hi = np.searchsorted(s, col + eps - tol, side="left")    # count of values < col_i + eps_i
    lo = np.searchsorted(s, col - eps + tol, side="right")   # count of values ≤ col_i − eps_i
    return hi - lo - 1                                        # minus the point itself


def _standardize(a: np.ndarray) -> np.ndarray:
    """Columns centred and scaled to unit standard deviation; an exactly constant column (max = min) becomes 0."""
    out = a - a.mean(axis=0)
    const = a.max(axis=0) == a.min(axis=0)
    sd = out.std(axis=0)
    sd[const] = 1.0
    out[:, const] = 0.0
    return out / sd


def knn_tc(x, k: int = 3, *, method: str = "ksg") -> float:
    """Total correlation (nats) of samples ``x`` (N, D) by kNN distances; see the module docstring.

    ``x``: array or tensor (N, D) with D ≥ 1, N > k, finite, no duplicate rows; each column is
    standardized first (per-coordinate affine invariance). Returns a float; it may be slightly
    negative when the true TC is near 0; 0.0 for D = 1.
    """
    if method not in ("ksg", "kl"):
        raise ValueError(f"method must be 'ksg' or 'kl', got {method!r}")
    a = _standardize(_as_samples(x, k))
    n, d = a.shape
    if d < 2:
        return 0.0  # one variable has no total correlation
    if method == "kl":
        return sum(knn_entropy(a[:, [j]], k) for j in range(d)) - knn_entropy(a, k)
    eps = _kth_distance(a, k)
    marg = sum(digamma(_count_within(a[:, j], eps) + 1).mean() for j in range(d))
    return float(digamma(k) + (d - 1) * digamma(n) - marg)
