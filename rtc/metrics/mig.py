"""MIG — Mutual Information Gap (Chen et al., 2018), in two conventions.

For each factor v_k, with I_jk = I(z_j; v_k) and H_k = H(v_k) (nats),

    MIG = (1/F) Σ_k [ I_(1)k − I_(2)k ] / H_k        (top two over latents j).

Two conventions disagree on how I_jk is estimated, and give different numbers for the same model;
every number says which it used:

- :func:`mig` — **reference library** ("mig_ref"): the *mean* representation of 10,000 sampled points,
  each latent discretized into 20 equal-width bins, plug-in MI of the contingency table
  (:mod:`rtc.metrics.mutual_info`); H_k is the plug-in entropy of the factor in the sample. A factor with
  more values than bins cannot reach 1: I ≤ log 20, so a perfect code of a 32-valued position factor
  scores at most log 20 / log 32 = 0.86 (the bench's perfect code gets MIG 0.886 over dSprites' sizes).
- :func:`mig_chen` — **Chen et al.** ("mig_chen"): I(z_j; v_k) = H(z_j) − H(z_j | v_k) for the *sampled*
  representation under the Gaussian encoder q(z|x) = N(µ(x), diag σ²(x)), each entropy a Monte Carlo
  estimate: H(z_j) ≈ −mean_s log q(z_j^s), q(z_j) = (1/N) Σ_n N(z_j; µ_nj, σ²_nj) over the N points
  given, and likewise H(z_j | v_k = v) with the mixture over the points having v_k = v, weighted by
  p(v). Chen et al. use the whole dataset as the N points and drop dSprites' shape factor
  (``exclude``); we use whatever points are given (all of them, or a uniform sample — then q(z) is
  itself estimated) and H_k = the factor's plug-in entropy in those points (= log K on a full grid).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..gaussian import gaussian_log_density_elementwise
from .mutual_info import discrete_entropy, mutual_info_matrix
from .sampling import MetricInputError, as_codes, check_pair
from .sap import top_two_gap

__all__ = ["MIGResult", "mig", "mig_chen", "mig_from_mi", "normalized_mi_matrix"]


@dataclass
class MIGResult:
    """``score``; ``per_factor`` (F,) normalized gaps; ``mi`` (L, F) nats; ``entropy`` (F,) nats;
    ``normalized`` (L, F) = mi / entropy; ``convention`` ("ref" or "chen"); ``factors`` indices scored."""
    score: float
    per_factor: np.ndarray
    mi: np.ndarray
    entropy: np.ndarray
    normalized: np.ndarray
    convention: str
    factors: tuple

    def as_dict(self) -> dict:
        return {"mig_" + self.convention: self.score}


def mig_from_mi(mi, entropy, convention: str = "ref", factors=None) -> MIGResult:
    """MIG from an MI matrix (L, F) and factor entropies (F,) — the arithmetic, separate from the estimation."""
    mi = np.asarray(mi, dtype=np.float64)
    h = np.asarray(entropy, dtype=np.float64)
    if mi.ndim != 2 or h.shape != (mi.shape[1],):
        raise MetricInputError(f"mi must be (L, F) and entropy (F,), got {mi.shape} and {h.shape}")
    if (h <= 0).any():
        raise MetricInputError(f"factor entropies must be > 0, got {h}")
    nmi = mi / h[None, :]
    gaps = top_two_gap(nmi)
    return MIGResult(float(gaps.mean()), gaps, mi, h, nmi, convention,
                     tuple(range(mi.shape[1])) if factors is None else tuple(factors))


def normalized_mi_matrix(codes, factors, *, num_bins: int = 20) -> np.ndarray:
    """I(z_j; v_k) / H(v_k), (L, F), with the reference library's 20-bin histogram MI (the paper's Fig. 8 right)."""
    c, f = check_pair(codes, factors)
    return mutual_info_matrix(c, f, num_bins=num_bins) / discrete_entropy(f)[None, :]


def mig(codes, factors, *, num_bins: int = 20) -> MIGResult:
    """Reference-library MIG of codes (N, L) (means, ideally N = 10,000) against factors (N, F)."""
    c, f = check_pair(codes, factors)
    return mig_from_mi(mutual_info_matrix(c, f, num_bins=num_bins), discrete_entropy(f), "ref")


def _mc_entropy(z_query: np.ndarray, mu: np.ndarray, var: np.ndarray, chunk: int, device=None) -> np.ndarray:
    """−mean_s log[(1/N) Σ_n N(z_sj; µ_nj, σ²_nj)] per latent j; z_query (S, L), mu/var (N, L) → (L,).

    Each log-density term (:func:`rtc.gaussian.gaussian_log_density_elementwise`) and its logsumexp
    are float32 (measured ≈ 2× faster than float64 on this CPU; the entropy changes by ~1e-7 nats,
    far below the Monte Carlo error); the sum over queries is float64.
    """
    zq_all = torch.from_numpy(z_query).float().to(device)
    m = torch.from_numpy(mu).T[None].float().contiguous().to(device)          # (1, L, N)
    v = torch.from_numpy(var).T[None].float().contiguous().to(device)
    total = torch.zeros(mu.shape[1], dtype=torch.float64, device=device)
    for s0 in range(0, z_query.shape[0], chunk):
        lp = gaussian_log_density_elementwise(zq_all[s0:s0 + chunk, :, None], m, var=v)  # (s, L, N)
        total += (torch.logsumexp(lp, dim=2).double() - math.log(mu.shape[0])).sum(0)
    return (-total / z_query.shape[0]).cpu().numpy()


def mig_chen(mean, logvar, factors, *, exclude=(), num_samples: int = 10000, seed: int = 0,
             chunk: int = 64, device=None) -> MIGResult:
    """Chen et al.'s MIG from encoder means (N, L), log-variances (N, L) and factors (N, F).

    ``exclude``: factor indices left out (Chen et al. exclude dSprites' shape, index 0).
    ``num_samples``: query points per entropy (Chen: 10,000), drawn without replacement from the
    points (from the points with v_k = v for a conditional entropy), one z ~ q(z|x) each.
    Cost ∝ num_samples × N × L (≈ 50–100 ns per term on this shared 2-core CPU: N = num_samples = 10,000, L = 10
    take minutes — pass ``device="cuda"`` on a GPU, or fewer samples); ``chunk`` bounds memory
    (chunk × N × L floats).

    Bias: the N points' own components are part of every mixture (as in Chen et al., who use the
    whole dataset, so that q(z) is exact for the empirical distribution). On a subsample whose
    per-value subsets are sparse relative to σ (subset spacing ≳ σ), each z sits in its own narrow
    peak and any latent seems informative, inflating the second-best MI: use many points or
    report the bias.
    """
    mu, f = check_pair(mean, factors, codes_name="mean")
    lv = as_codes(logvar, "logvar")
    if lv.shape != mu.shape:
        raise MetricInputError(f"logvar must have the shape of mean {mu.shape}, got {lv.shape}")
    var = np.exp(lv)
    keep = [k for k in range(f.shape[1]) if k not in set(exclude)]
    if not keep:
        raise MetricInputError(f"exclude={exclude} leaves no factor to score")
    rng = np.random.default_rng(seed)
    z = mu + np.sqrt(var) * rng.standard_normal(mu.shape)

    def entropy_over(idx):
        q = idx if len(idx) <= num_samples else rng.choice(idx, num_samples, replace=False)
        return _mc_entropy(z[q], mu[idx], var[idx], chunk, device)

    n = mu.shape[0]
    h_z = entropy_over(np.arange(n))
    mi = np.zeros((mu.shape[1], len(keep)))
    for col, k in enumerate(keep):
        h_cond = np.zeros(mu.shape[1])
        for v in np.unique(f[:, k]):
            idx = np.flatnonzero(f[:, k] == v)
            h_cond += len(idx) / n * entropy_over(idx)
        # max(…, 0): MI ≥ 0; Monte Carlo noise can push the difference of two estimates below 0.
        mi[:, col] = np.maximum(h_z - h_cond, 0.0)
    return mig_from_mi(mi, discrete_entropy(f[:, keep]), "chen", keep)
