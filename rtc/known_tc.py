"""Distributions whose total correlation is known, and a Monte Carlo TC from exact densities.

Each distribution offers ``dim``, ``sample(n, generator) -> (n, D)``, ``log_density(x) -> (n,)``,
``marginal_log_density(x) -> (n, D)`` (column k = log p_k(x_k)) and ``tc`` (exact, nats).
:func:`monte_carlo_tc` averages log p(x) − Σ_k log p_k(x_k) over samples: an unbiased estimate
of TC with a normal-theory confidence interval, independent of any closed form — used to check
Proposition 1 and, for the non-Gaussian cases, to show what Proposition 1 misses.

The non-Gaussian examples are uncorrelated (covariance ∝ I, so Prop. 1 reports TC = 0) but
dependent, with TC in closed form:

* :class:`RotatedUniformSquare` — u uniform on [−1, 1]², x = R₄₅° u. Marginals are triangular
  on [−√2, √2] with entropy ½ + ½ log 2, the joint entropy is log 4, so TC = 1 − log 2 ≈ 0.3069.
* :class:`UniformDisk` — uniform on the unit disk. Marginals are semicircle laws with entropy
  log π − ½, the joint entropy is log π, so TC = log π − 1 ≈ 0.1447.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .gaussian import LOG_2PI, as_covariance, gaussian_log_density_elementwise, gaussian_tc

__all__ = ["Gaussian", "RotatedUniformSquare", "UniformDisk", "monte_carlo_tc", "MCEstimate"]


class Gaussian:
    """N(0, Σ) with a validated positive-definite Σ (D×D); exact TC by Proposition 1."""

    def __init__(self, cov):
        self.cov = as_covariance(cov)
        self.dim = self.cov.shape[-1]
        self._chol = torch.linalg.cholesky(self.cov)
        self.tc = float(gaussian_tc(self.cov))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.dim, generator=generator, dtype=torch.float64) @ self._chol.T

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        sol = torch.linalg.solve_triangular(self._chol, x.T, upper=False)
        return (-0.5 * (sol * sol).sum(0) - torch.log(torch.diagonal(self._chol)).sum()
                - 0.5 * self.dim * LOG_2PI)

    def marginal_log_density(self, x: torch.Tensor) -> torch.Tensor:
        return gaussian_log_density_elementwise(x, torch.zeros((), dtype=x.dtype), var=torch.diagonal(self.cov))


class RotatedUniformSquare:
    """Uniform on the square [−1, 1]² rotated by 45°: uncorrelated, dependent, TC = 1 − log 2."""

    dim = 2
    tc = 1.0 - math.log(2.0)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        u = 2 * torch.rand(n, 2, generator=generator, dtype=torch.float64) - 1
        return torch.stack([(u[:, 0] - u[:, 1]), (u[:, 0] + u[:, 1])], dim=1) / math.sqrt(2)

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        u0 = (x[:, 0] + x[:, 1]) / math.sqrt(2)
        u1 = (x[:, 1] - x[:, 0]) / math.sqrt(2)
        inside = (u0.abs() <= 1) & (u1.abs() <= 1)
        return torch.where(inside, torch.full_like(u0, -math.log(4.0)), torch.full_like(u0, -math.inf))

    def marginal_log_density(self, x: torch.Tensor) -> torch.Tensor:
        # triangular on [−√2, √2]: p(t) = (√2 − |t|) / 2
        return torch.log(((math.sqrt(2) - x.abs()) / 2).clamp_min(0))


class UniformDisk:
    """Uniform on the unit disk: uncorrelated, dependent, TC = log π − 1."""

    dim = 2
    tc = math.log(math.pi) - 1.0

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        r = torch.rand(n, generator=generator, dtype=torch.float64).sqrt()
        th = 2 * math.pi * torch.rand(n, generator=generator, dtype=torch.float64)
        return torch.stack([r * torch.cos(th), r * torch.sin(th)], dim=1)

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        inside = (x * x).sum(1) <= 1
        return torch.where(inside, torch.full_like(x[:, 0], -math.log(math.pi)), torch.full_like(x[:, 0], -math.inf))

    def marginal_log_density(self, x: torch.Tensor) -> torch.Tensor:
        # semicircle law: p(t) = (2/π) √(1 − t²)
        return math.log(2 / math.pi) + 0.5 * torch.log((1 - x * x).clamp_min(0))


@dataclass
class MCEstimate:
    estimate: float
    stderr: float
    ci_low: float   # 95 % normal-theory interval
    ci_high: float
    n: int

    def contains(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high


def monte_carlo_tc(dist, n: int, *, generator: torch.Generator | None = None) -> MCEstimate:
    """Unbiased Monte Carlo TC = mean over x ~ p of log p(x) − Σ_k log p_k(x_k), with a 95 % CI."""
    if n < 2:
        raise ValueError("need at least 2 samples for a standard error")
    x = dist.sample(n, generator)
    terms = dist.log_density(x) - dist.marginal_log_density(x).sum(1)
    est = float(terms.mean())
    se = float(terms.std(unbiased=True)) / math.sqrt(n)
    return MCEstimate(est, se, est - 1.96 * se, est + 1.96 * se, n)
