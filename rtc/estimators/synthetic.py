"""Latent distributions with exactly known total correlation, for testing TC estimators.

* :func:`figure2_latents` — the paper's Figure 2 setting: µ ~ N(0, Σ) with diag Σ = I and a
  chosen |Σ|, z | µ ~ N(µ, σ²I). Because the noise is homoscedastic, z ~ N(0, Σ + σ²I) *exactly*
  (the paper calls it an approximation; it is not one), so TC(z) = Prop. 1 on Σ + σ²I.
  Σ is a random correlation matrix with the requested log-determinant from
  :func:`rtc.gaussian.random_correlation` (a Wishart draw normalised to unit diagonal, then moved
  along a path of correlation matrices until |Σ| hits the target by bisection).
* :func:`shutdown_latents` — appendix 1.3.2: µ_0 ~ N(0, σ_0²) with σ_0 ≪ 1 ("shut-down"
  dimensions), the other µ_k ~ N(0, 1), all independent; z | µ ~ N(µ, σ²I). TC(z) = 0 exactly.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .._validate import is_integer, is_real
from ..gaussian import gaussian_tc, random_correlation

__all__ = ["LatentSample", "figure2_latents", "shutdown_latents"]


class LatentSample(NamedTuple):
    """mu, z, logvar: (N, D) tensors (the encoder outputs and a sample); cov_z: (D, D) exact covariance
    of z; tc_true: exact TC(z) in nats (float)."""

    mu: torch.Tensor
    z: torch.Tensor
    logvar: torch.Tensor
    cov_z: torch.Tensor
    tc_true: float


def _check(dim, n, sigma) -> tuple[int, int]:
    """(dim, n) as Python ints (numpy integers accepted); ValueError naming the argument otherwise."""
    if not is_integer(dim) or dim < 1:
        raise ValueError(f"dim must be a positive int, got {dim!r}")
    if not is_integer(n) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not is_real(sigma) or not sigma > 0:
        raise ValueError(f"sigma must be a real number > 0, got {sigma!r}")
    return int(dim), int(n)


def _sample(cov_mu, posterior_std, n, generator, dtype):
    dim = cov_mu.shape[0]
    chol = torch.linalg.cholesky(cov_mu)
    mu = torch.randn(n, dim, generator=generator, dtype=torch.float64) @ chol.T
    z = mu + posterior_std * torch.randn(n, dim, generator=generator, dtype=torch.float64)
    logvar = (2 * torch.log(posterior_std)).expand(n, dim)
    cov_z = cov_mu + torch.diag(posterior_std ** 2)
    return LatentSample(mu.to(dtype), z.to(dtype), logvar.to(dtype).contiguous(), cov_z,
                        float(gaussian_tc(cov_z)))


def figure2_latents(dim: int, det: float, n: int, *, sigma: float = 0.1, generator: torch.Generator | None = None,
                    dtype=torch.float64) -> LatentSample:
    """n draws of the Figure 2 distribution with |Σ| = ``det`` ∈ (0, 1] (a fresh random Σ per call)."""
    dim, n = _check(dim, n, sigma)
    if not 0.0 < det <= 1.0:
        raise ValueError(f"det must lie in (0, 1] (determinant of a correlation matrix), got {det!r}")
    if dim == 1 and det != 1.0:
        raise ValueError("a 1×1 correlation matrix has determinant 1")
    cov_mu = random_correlation(dim, log_det=math.log(det), generator=generator)
    return _sample(cov_mu, torch.full((dim,), float(sigma), dtype=torch.float64), n, generator, dtype)


def shutdown_latents(dim: int, n: int, *, n_shutdown: int = 1, sigma: float = 0.1, sigma0: float = 0.01,
                     shutdown_posterior_sigma: float | None = None, generator: torch.Generator | None = None,
                     dtype=torch.float64) -> LatentSample:
    """Independent µ with the first ``n_shutdown`` dimensions of std ``sigma0`` (others 1); z = µ + σ·noise.

    ``shutdown_posterior_sigma``: posterior std of the shut-down dimensions (default ``sigma``, the
    paper's setting; a VAE's shut-down dimension has ≈ 1, its posterior equal to the prior).
    """
    dim, n = _check(dim, n, sigma)
    if not 0 <= n_shutdown <= dim:
        raise ValueError(f"n_shutdown must lie in [0, dim={dim}], got {n_shutdown}")
    if not sigma0 > 0:
        raise ValueError(f"sigma0 must be > 0, got {sigma0!r}")
    std_mu = torch.ones(dim, dtype=torch.float64)
    std_mu[:n_shutdown] = sigma0
    post = torch.full((dim,), float(sigma), dtype=torch.float64)
    if shutdown_posterior_sigma is not None:
        post[:n_shutdown] = shutdown_posterior_sigma
    return _sample(torch.diag(std_mu ** 2), post, n, generator, dtype)
