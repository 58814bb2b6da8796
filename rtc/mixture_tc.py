"""Total correlation of a sampled representation z whose mean µ is Gaussian (Theorem 1's setting).

The model: µ ~ N(0, Σ) (Σ symmetric PSD, possibly singular) and, given µ,
z | µ ~ N(µ, diag v(µ)) with every conditional variance v_j(µ) in [c1_j, c2_j].

* If v is constant, z ~ N(0, Σ + diag v) and TC(z) is Prop. 1 of Σ + diag v
  (:func:`tc_constant_noise`).
* Otherwise z is a continuous Gaussian mixture with no closed form. Two independent numerical
  methods compute TC(z) = E[log p(z) − Σ_k log p(z_k)]:

  - :func:`tc_quadrature_2d` — D = 2 and *separable* variances (v_j depends on µ_j only): the
    law of µ is deposited on a fine µ-grid by cloud-in-cell binning of a trapezoid rule in
    whitened coordinates (exact for singular Σ), p(z) on a z-grid is then one matrix product
    K₁ P K₂ᵀ, and TC is a trapezoid sum. The error estimate is the change when both grids are
    coarsened by a factor 2; the deposit is second-order accurate, so the reported value is the
    Richardson extrapolation fine + (fine − coarse)/3 and the error estimate |fine − coarse|/3
    (checked against the closed form in the tests); the missing probability mass is reported too.
  - :func:`tc_monte_carlo` — any D and any variance function: an outer Monte Carlo average
    over z with a normal-theory confidence interval, where each log-density (joint and the D
    marginals) is an importance-sampled inner integral over µ with a defensive mixture proposal
    (Gaussian posteriors of µ under the smallest and the largest variance, plus the prior).
    The log of an inner average is biased downward (Jensen) by ≈ Var(w)/(2·L·w̄²); each inner
    estimate is corrected to first order with Var(w)/w̄² ≈ L/ESS − 1, and the smallest mean
    effective sample size is reported. The outer confidence interval includes the inner noise
    (each outer term carries its own independent inner estimate); the residual bias is second order.

All computation is float64 on the CPU or on the device of the inputs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ._validate import check_int, is_integer
from .gaussian import (
    LOG_2PI,
    as_covariance,
    gaussian_log_density,
    gaussian_log_density_elementwise,
    gaussian_tc,
    psd_sqrt,
)

__all__ = [
    "ConstantVariance",
    "BoundedVariance",
    "tc_constant_noise",
    "tc_quadrature_2d",
    "tc_monte_carlo",
    "QuadratureResult",
    "MonteCarloResult",
    "sample_latents",
    "mixture_density_2d",
    "theorem1_bound",
]


def _vec(x, dim: int, name: str) -> torch.Tensor:
    t = torch.as_tensor(x, dtype=torch.float64).reshape(-1)
    if t.numel() == 1:
        t = t.expand(dim).clone()
    if t.numel() != dim:
        raise ValueError(f"{name} must be a scalar or have {dim} entries, got {t.numel()}")
    return t


@dataclass(frozen=True)
class ConstantVariance:
    """v(µ) = values, the same for every µ (the closed-form case). ``values``: one per dimension."""

    values: tuple

    def __post_init__(self):
        if any((not math.isfinite(v)) or v <= 0 for v in self.values):
            raise ValueError(f"conditional variances must be finite and > 0, got {self.values}")

    separable = True

    @property
    def dim(self) -> int:
        return len(self.values)

    def lower(self, dim: int) -> torch.Tensor:
        return _vec(self.values, dim, "values")

    upper = lower

    def __call__(self, mu: torch.Tensor) -> torch.Tensor:
        return self.lower(mu.shape[-1]).to(mu).expand(mu.shape)


@dataclass(frozen=True)
class BoundedVariance:
    """v_j(µ) = c1 + (c2 − c1) · sigmoid(slope · µ_s(j)), in [c1, c2] for every µ.

    ``source='self'`` uses s(j) = j (separable: the noise scale of a coordinate depends on its
    own mean, like an encoder that is more certain on one side of a factor); ``source='next'``
    uses s(j) = (j + 1) mod D (each noise scale driven by another coordinate). c1 = c2 gives a
    constant variance.
    """

    c1: float
    c2: float
    slope: float = 2.0
    source: str = "self"

    def __post_init__(self):
        if not (0 < self.c1 <= self.c2 < math.inf):
            raise ValueError(f"need 0 < c1 ≤ c2 < ∞, got c1={self.c1}, c2={self.c2}")
        if self.source not in ("self", "next"):
            raise ValueError("source must be 'self' or 'next'")

    @property
    def separable(self) -> bool:
        return self.source == "self" or self.c1 == self.c2

    def lower(self, dim: int) -> torch.Tensor:
        return torch.full((dim,), float(self.c1), dtype=torch.float64)

    def upper(self, dim: int) -> torch.Tensor:
        return torch.full((dim,), float(self.c2), dtype=torch.float64)

    def __call__(self, mu: torch.Tensor) -> torch.Tensor:
        src = mu if self.source == "self" else torch.roll(mu, shifts=-1, dims=-1)
        return self.c1 + (self.c2 - self.c1) * torch.sigmoid(self.slope * src)


def tc_constant_noise(sigma_mu, variances) -> torch.Tensor:
    """Closed form TC(z) for constant conditional variances: Prop. 1 of Σ + diag(v). Batched over Σ."""
    s = as_covariance(sigma_mu, psd=True)
    v = _vec(variances, s.shape[-1], "variances")
    return gaussian_tc(s + torch.diag_embed(v).expand_as(s))


def sample_latents(sigma_mu, variance, n: int, *, generator: torch.Generator | None = None):
    """Draw (µ, z), each (n, D) float64: µ = A u with A Aᵀ = Σ (singular Σ allowed), z = µ + √v(µ)·ε."""
    a = psd_sqrt(sigma_mu)
    d = a.shape[-1]
    u = torch.randn(n, d, generator=generator, dtype=torch.float64)
    mu = u @ a.T
    eps = torch.randn(n, d, generator=generator, dtype=torch.float64)
    return mu, mu + variance(mu).sqrt() * eps


# ---------------------------------------------------------------- 2-D quadrature
@dataclass
class QuadratureResult:
    tc: float          # TC(z) in nats: Richardson extrapolation fine + (fine − coarse)/3
    error: float       # error estimate |fine − coarse|/3 (both grids coarsened 2×)
    mass_deficit: float  # 1 − ∫ p(z) on the grid (truncation + round-off)
    grid_points: int   # z-grid points per dimension at the fine resolution


def _density_on_grid(a, variance, mu_step, z_step, width):
    """p(z) on a 2-D grid and its two marginals; returns (z1, z2, p_z, p1, p2). See :func:`tc_quadrature_2d`."""
    dtype = torch.float64
    lam = (a * a).sum(0)  # eigenvalues of Σ: A = V diag(√λ)
    sd_mu = (a * a).sum(1).sqrt()  # √Σ_kk
    c_hi = variance.upper(2)
    # µ-grid: one common node count (separable v is evaluated column-wise), range ±width·sd.
    half = width * sd_mu.clamp_min(mu_step)
    n_mu = int(torch.ceil((2 * half / mu_step).max()).item()) + 1
    t = torch.linspace(-1.0, 1.0, n_mu, dtype=dtype)
    mu_grid = t[:, None] * half[None, :]  # (n_mu, 2); column k = grid of µ_k
    h_mu = mu_grid[1] - mu_grid[0]
    # Trapezoid nodes in whitened u-space along each eigen-direction with λ > 0, fine enough
    # that consecutive nodes move µ by ≤ h_µ/2, so the deposit below is smooth.
    us, ws = [], []
    for k in range(2):
        if lam[k] <= 1e-300:
            us.append(torch.zeros(1, dtype=dtype))
            ws.append(torch.ones(1, dtype=dtype))
            continue
        n_u = int(math.ceil(2 * width * math.sqrt(lam[k]) / (0.5 * float(h_mu.min())))) + 1
        n_u = max(n_u | 1, 33)
        u = torch.linspace(-width, width, n_u, dtype=dtype)
        w = torch.exp(-0.5 * u * u)
        us.append(u)
        ws.append(w / w.sum())
    uu = torch.cartesian_prod(us[0], us[1]) if len(us[0]) * len(us[1]) > 1 else torch.zeros(1, 2, dtype=dtype)
    ww = torch.outer(ws[0], ws[1]).reshape(-1)
    mu_nodes = uu @ a.T  # (n_nodes, 2)
    # Cloud-in-cell deposit of the node masses onto the µ-grid (second-order accurate).
    f = (mu_nodes + half) / h_mu
    i0 = f.floor().long().clamp(0, n_mu - 2)
    fr = (f - i0).clamp(0, 1)
    p_mu = torch.zeros(n_mu * n_mu, dtype=dtype)
    for dx in (0, 1):
        for dy in (0, 1):
            wx = fr[:, 0] if dx else 1 - fr[:, 0]
            wy = fr[:, 1] if dy else 1 - fr[:, 1]
            idx = (i0[:, 0] + dx) * n_mu + (i0[:, 1] + dy)
            p_mu.index_add_(0, idx, ww * wx * wy)
    p_mu = p_mu.reshape(n_mu, n_mu)
    # z-grid and separable kernels K_k[i, a] = N(z_k,i; µ_k,a, v_k(µ_k,a)).
    v_grid = variance(mu_grid)  # (n_mu, 2), column k depends only on µ_k (separable)
    zhalf = width * (sd_mu ** 2 + c_hi).sqrt()
    n_z = int(torch.ceil((2 * zhalf / z_step).max()).item()) + 1
    tz = torch.linspace(-1.0, 1.0, n_z, dtype=dtype)
    zs = [tz * zhalf[k] for k in range(2)]
    kern = []
    for k in range(2):
        kern.append(torch.exp(gaussian_log_density_elementwise(zs[k][:, None], mu_grid[None, :, k],
                                                               var=v_grid[None, :, k])))
    p_z = kern[0] @ p_mu @ kern[1].T  # (n_z, n_z)
    p1 = kern[0] @ p_mu.sum(1)
    p2 = kern[1] @ p_mu.sum(0)
    return zs[0], zs[1], p_z, p1, p2


def _tc_on_grid(a, variance, mu_step, z_step, width):
    """One evaluation of the quadrature; returns (tc, mass, grid points per dimension)."""
    z1, z2, p_z, p1, p2 = _density_on_grid(a, variance, mu_step, z_step, width)
    n_z = len(z1)
    cell = float(z1[1] - z1[0]) * float(z2[1] - z2[0])
    mass = float(p_z.sum() * cell)
    ratio = p_z / (p1[:, None] * p2[None, :])
    pos = p_z > 0
    integrand = torch.zeros_like(p_z)
    integrand[pos] = p_z[pos] * torch.log(ratio[pos])
    return float(integrand.sum() * cell), mass, n_z


def tc_quadrature_2d(sigma_mu, variance, *, resolution: float = 1.0, width: float = 7.5) -> QuadratureResult:
    """TC(z) for D = 2 by deterministic quadrature; ``variance`` must be separable.

    ``resolution`` scales both grid spacings (µ-grid h_µ = 0.2·√c1/resolution, z-grid
    h_z = 0.35·√c1/resolution, with c1 the smallest conditional variance); ``width`` is the
    half-width of each grid in standard deviations (7.5σ leaves < 1e-13 of the mass outside).
    Cost grows as resolution³; resolution 1 takes about a second for c1 = 0.01.
    """
    a = psd_sqrt(sigma_mu)  # validates Σ (PSD in the input's own precision)
    if a.shape != (2, 2):
        raise ValueError(f"quadrature is for D = 2, got Σ of shape {tuple(a.shape)}")
    if not variance.separable:
        raise ValueError("quadrature needs a separable variance (v_j depends on µ_j only); use tc_monte_carlo")
    c_lo = float(variance.lower(2).min())
    fine = _tc_on_grid(a, variance, 0.2 * math.sqrt(c_lo) / resolution, 0.35 * math.sqrt(c_lo) / resolution, width)
    coarse = _tc_on_grid(a, variance, 0.4 * math.sqrt(c_lo) / resolution, 0.7 * math.sqrt(c_lo) / resolution, width)
    delta = (fine[0] - coarse[0]) / 3.0  # second-order rule: fine error ≈ (fine − coarse)/3
    return QuadratureResult(tc=fine[0] + delta, error=abs(delta), mass_deficit=1.0 - fine[1], grid_points=fine[2])


# ---------------------------------------------------------------- Monte Carlo, any D
@dataclass
class MonteCarloResult:
    tc: float           # point estimate, nats
    stderr: float       # standard error over outer samples
    ci_low: float       # 95 % normal-theory interval
    ci_high: float
    n_outer: int
    n_inner: int
    min_ess: float      # smallest mean effective sample size of the inner importance samplers

    def contains(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high


def _posterior(a_s, c_s, z_s):
    """u | z_S for u ~ N(0, I), z_S = A_S u + noise(c_S): returns mean (n, r) and Cholesky of the covariance (r, r)."""
    r = a_s.shape[1]
    prec = torch.eye(r, dtype=a_s.dtype) + a_s.T @ (a_s / c_s[:, None])
    cov = torch.cholesky_inverse(torch.linalg.cholesky(prec))
    cov = 0.5 * (cov + cov.T)
    mean = (z_s / c_s) @ a_s @ cov  # (n, r)
    return mean, torch.linalg.cholesky(cov)


def _log_mvn_std(x, mean, chol):
    """log N(x; mean, L Lᵀ) for x (..., r), mean broadcastable, chol (r, r).

    Uses one matmul with L⁻¹ (r ≤ D is tiny) instead of a batched triangular solve, which
    costs a kernel launch per r×r system and dominated the Monte Carlo run time.
    """
    inv = torch.linalg.solve_triangular(chol, torch.eye(chol.shape[0], dtype=chol.dtype), upper=False)
    sol = (x - mean) @ inv.T
    return -0.5 * (sol * sol).sum(-1) - torch.log(torch.diagonal(chol)).sum() - 0.5 * chol.shape[0] * LOG_2PI


def _log_density_is(z, subset, a, variance, n_inner, generator, prior_weight=0.1):
    """log p(z_S) for each row of z (n, D) by importance sampling over u; returns (log p (n,), mean ESS)."""
    n, d = z.shape
    r = a.shape[1]
    a_s = a[subset]
    z_s = z[:, subset]
    comps = []
    for c in (variance.lower(d)[subset], variance.upper(d)[subset]):
        comps.append(_posterior(a_s, c, z_s))
    weights = torch.tensor([(1 - prior_weight) / 2, (1 - prior_weight) / 2, prior_weight], dtype=torch.float64)
    # Deterministic split of the inner samples over the mixture components (stratified
    # sampling of the component index: lower variance than drawing it, same expectation).
    counts = torch.floor(weights * n_inner).long()
    counts[0] += n_inner - counts.sum()
    # Deterministic mixture ("balance heuristic") estimator: the proposal density must use the
    # realised fractions n_m / L, or the estimate is biased by the allocation mismatch.
    weights = counts.to(torch.float64) / n_inner
    samples = []
    for (mean, chol), m in zip(comps, counts[:2].tolist(), strict=True):
        eps = torch.randn(n, m, r, generator=generator, dtype=torch.float64)
        samples.append(mean[:, None, :] + eps @ chol.T)
    samples.append(torch.randn(n, int(counts[2]), r, generator=generator, dtype=torch.float64))
    u = torch.cat(samples, dim=1)  # (n, L, r)
    log_q = torch.stack([
        _log_mvn_std(u, comps[0][0][:, None, :], comps[0][1]),
        _log_mvn_std(u, comps[1][0][:, None, :], comps[1][1]),
        -0.5 * (u * u).sum(-1) - 0.5 * r * LOG_2PI,
    ], dim=-1) + torch.log(weights)
    log_q = torch.logsumexp(log_q, dim=-1)
    log_prior = -0.5 * (u * u).sum(-1) - 0.5 * r * LOG_2PI
    mu = u @ a.T  # (n, L, D)
    log_lik = gaussian_log_density(z_s[:, None, :], mu[..., subset], variance(mu)[..., subset])
    log_w = log_prior + log_lik - log_q
    n_l = u.shape[1]
    log_p = torch.logsumexp(log_w, dim=1) - math.log(n_l)
    w = torch.softmax(log_w, dim=1)
    ess = 1.0 / (w * w).sum(1)
    # First-order (delta-method) correction of the Jensen bias of log(mean of L weights):
    # E[log ŵ] ≈ log w − Var(w)/(2 L w²), and Var(w)/w² is estimated by L/ESS − 1.
    log_p = log_p + 0.5 * (1.0 / ess - 1.0 / n_l)
    return log_p, float(ess.mean())


def tc_monte_carlo(sigma_mu, variance, *, n_outer: int = 2000, n_inner: int = 512, seed: int = 0,
                   chunk: int = 256) -> MonteCarloResult:
    """TC(z) for any D by nested Monte Carlo (see module docstring); returns estimate and 95 % CI.

    Cost ≈ n_outer · n_inner · (D + 1) · D² flops-ish; the defaults take a few seconds for D ≤ 10.
    The CI includes the inner noise (each outer term has its own independent inner estimate); the
    residual inner bias is second order and negligible when ``min_ess`` ≫ 1.
    """
    n_outer, n_inner = check_int(n_outer, "n_outer", minimum=2), check_int(n_inner, "n_inner", minimum=1)
    seed, chunk = check_int(seed, "seed", minimum=0), check_int(chunk, "chunk", minimum=1)
    a = psd_sqrt(sigma_mu)
    d = a.shape[-1]
    keep = (a * a).sum(0) > 1e-14 * float((a * a).sum(0).max())
    a = a[:, keep]  # drop null directions of a singular Σ: u lives in the range of Σ
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(n_outer, a.shape[1], generator=g, dtype=torch.float64)
    mu = u @ a.T
    z = mu + variance(mu).sqrt() * torch.randn(n_outer, d, generator=g, dtype=torch.float64)
    vals, ess_all = [], []
    for start in range(0, n_outer, chunk):
        zc = z[start:start + chunk]
        lp, ess = _log_density_is(zc, list(range(d)), a, variance, n_inner, g)
        ess_all.append(ess)
        total = lp
        for k in range(d):
            lpk, essk = _log_density_is(zc, [k], a, variance, n_inner, g)
            ess_all.append(essk)
            total = total - lpk
        vals.append(total)
    v = torch.cat(vals)
    est = float(v.mean())
    se = float(v.std(unbiased=True) / math.sqrt(n_outer))
    return MonteCarloResult(tc=est, stderr=se, ci_low=est - 1.96 * se, ci_high=est + 1.96 * se,
                            n_outer=n_outer, n_inner=n_inner, min_ess=float(min(ess_all)))


def mixture_density_2d(sigma_mu, variance, *, resolution: float = 1.0, width: float = 5.0):
    """p(z) on a grid for D = 2 (separable variance), for plotting.

    Returns ``(z1, z2, p)`` with z1 (n₁,), z2 (n₂,) and p (n₁, n₂) float64, p[i, j] = p(z1[i], z2[j]).
    """
    a = psd_sqrt(sigma_mu)
    if a.shape != (2, 2) or not variance.separable:
        raise ValueError("mixture_density_2d needs D = 2 and a separable variance")
    c_lo = float(variance.lower(2).min())
    z1, z2, p, _, _ = _density_on_grid(a, variance, 0.2 * math.sqrt(c_lo) / resolution,
                                       0.35 * math.sqrt(c_lo) / resolution, width)
    return z1, z2, p


def theorem1_bound(c1, c2, dim: int, *, constant: float = 1.0):
    """The right-hand side of the paper's Theorem 1, in nats: an upper bound on TC(z) for z | µ ~ N(µ, Σ'(µ))
    with every noise variance σ'_j(µ) in [c1, c2], whatever TC(µ) is,

        C·(c3/c1)^D·log(c2/c1) + C·(c3/c1)^(D+2),   c3 = max(c2, √D).

    The theorem gives no value for C (it depends only on D): ``constant`` is C, 1 by default, so the
    default result is the bound's *shape* (how it scales with c1, c2 and D), not a number TC(z) must
    stay below. c1, c2: floats or arrays of the same shape (variances, 0 < c1 ≤ c2); returns a float or
    a float64 array of that shape. Computed as powers of c3²/c1² so that c3 = √D stays exact.
    """
    if not is_integer(dim) or dim < 1:
        raise ValueError(f"dim must be a positive int, got {dim!r}")
    if not constant > 0:
        raise ValueError(f"constant must be > 0, got {constant!r}")
    lo, hi = np.asarray(c1, dtype=np.float64), np.asarray(c2, dtype=np.float64)
    if not np.all(np.isfinite(lo) & (lo > 0)):
        raise ValueError(f"c1 must be finite and > 0, got {c1!r}")
    if not np.all(np.isfinite(hi) & (hi >= lo)):
        raise ValueError(f"c2 must be finite and ≥ c1, got c1={c1!r}, c2={c2!r}")
    ratio_sq = np.maximum(hi * hi, float(dim)) / (lo * lo)  # (c3/c1)²
    out = constant * ratio_sq ** (dim / 2) * np.log(hi / lo) + constant * ratio_sq ** ((dim + 2) / 2)
    return float(out) if out.ndim == 0 else out
