"""Gaussian total correlation (the paper's Proposition 1) and covariance utilities.

For x ~ N(m, Σ) with Σ a D×D symmetric positive-definite matrix,

    TC(x) = KL(p(x) ‖ ∏_k p(x_k)) = ½ (Σ_k log Σ_kk − log |Σ|) = −½ log |R|,

where R = diag(Σ)^{-½} Σ diag(Σ)^{-½} is the correlation matrix (eq. 6 of the paper). The
value is in nats, does not depend on the mean m, is 0 exactly when Σ is diagonal, is
invariant under per-dimension rescaling x_k → a_k x_k (a_k ≠ 0) and under permutations of
the coordinates, and tends to +∞ as |R| → 0.

Every function here accepts batches: a tensor of shape (..., D, D) gives results of shape
(...). Computation is in float64 (inputs of other float dtypes are promoted), because
log |R| of a nearly singular R loses all its digits in float32.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from rtc._validate import is_integer

LOG_2PI = math.log(2 * math.pi)  # the one copy of log 2π, used by every Gaussian log density in the library

__all__ = [
    "CovarianceError",
    "as_covariance",
    "correlation_from_covariance",
    "gaussian_tc",
    "gaussian_tc_from_samples",
    "sample_tc",
    "gaussian_log_density",
    "gaussian_log_density_elementwise",
    "LOG_2PI",
    "psd_sqrt",
    "bivariate_tc",
    "random_correlation",
    "random_covariance",
]


class CovarianceError(ValueError):
    """A matrix offered as a covariance is not one (shape, finiteness, symmetry or definiteness)."""


def _input_eps(x) -> float:
    """Machine epsilon of the precision the caller's data was stored in (float64 for non-tensors)."""
    if isinstance(x, torch.Tensor) and x.is_floating_point():
        return torch.finfo(x.dtype).eps
    if hasattr(x, "dtype") and getattr(x.dtype, "kind", "") == "f":
        return float(np.finfo(x.dtype).eps)
    return float(np.finfo(np.float64).eps)


def _as_tensor(x, dtype=torch.float64) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        if not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64)):
            raise CovarianceError(f"covariance must be a real floating tensor, got dtype {x.dtype}")
        return x.to(dtype)
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CovarianceError(f"covariance must be numeric, got {type(x).__name__}: {exc}") from None
    return torch.as_tensor(arr, dtype=dtype)


def as_covariance(cov, *, psd: bool = False, sym_rtol: float = 1e-8, name: str = "covariance") -> torch.Tensor:
    """Validate ``cov`` (shape (..., D, D)) and return it as a float64 tensor.

    Checks, in order, with a message that says which one failed and for which batch element:
    at least 2-D and square; finite; symmetric to ``sym_rtol`` relative to the largest entry
    (a float32 covariance computed as ``X.T @ X`` is symmetric to ~1e-7, so pass ``sym_rtol``
    ≈ 1e-6 for those); positive definite (Cholesky succeeds), or only positive
    semi-definite when ``psd=True`` (smallest eigenvalue ≥ −10·D·ε·max|Σ|, ε the machine
    epsilon of the input's own dtype: a float32 matrix that is singular on paper has
    eigenvalues of order −1e-7·max|Σ| after rounding, and that must not count as indefinite).

    The returned tensor is symmetrised, (Σ + Σᵀ)/2, so round-off asymmetry never leaks on.
    """
    eps_in = _input_eps(cov)
    c = _as_tensor(cov)
    if c.ndim < 2 or c.shape[-1] != c.shape[-2]:
        raise CovarianceError(f"{name} must have shape (..., D, D), got {tuple(c.shape)}")
    if c.shape[-1] == 0:
        raise CovarianceError(f"{name} must have D ≥ 1, got shape {tuple(c.shape)}")
    if not torch.isfinite(c).all():
        raise CovarianceError(f"{name} has non-finite entries (NaN or inf)")
    scale = c.abs().amax(dim=(-2, -1)).clamp_min(torch.finfo(torch.float64).tiny)
    asym = (c - c.transpose(-1, -2)).abs().amax(dim=(-2, -1)) / scale
    if (asym > sym_rtol).any():
        worst = float(asym.max())
        raise CovarianceError(f"{name} is not symmetric: max |Σ − Σᵀ| / max |Σ| = {worst:.3g} > {sym_rtol:g}")
    c = 0.5 * (c + c.transpose(-1, -2))
    if psd:
        lam_min = torch.linalg.eigvalsh(c)[..., 0]
        bad = lam_min < -10 * c.shape[-1] * eps_in * scale
        if bad.any():
            raise CovarianceError(
                f"{name} is not positive semi-definite: smallest eigenvalue {float(lam_min.min()):.3g}"
            )
    else:
        _, info = torch.linalg.cholesky_ex(c)
        if (info != 0).any():
            idx = torch.nonzero(info.reshape(-1) != 0)[0].item()
            lam_min = float(torch.linalg.eigvalsh(c.reshape(-1, *c.shape[-2:])[idx])[0])
            raise CovarianceError(
                f"{name} is not positive definite (batch element {idx}: smallest eigenvalue {lam_min:.3g}); "
                "a singular covariance has infinite Gaussian total correlation"
            )
    return c


def correlation_from_covariance(cov) -> torch.Tensor:
    """Correlation matrix R = D^{-½} Σ D^{-½} of a validated PD covariance; shape (..., D, D), float64."""
    c = as_covariance(cov)
    d = torch.diagonal(c, dim1=-2, dim2=-1).rsqrt()
    r = c * d.unsqueeze(-1) * d.unsqueeze(-2)
    r.diagonal(dim1=-2, dim2=-1).fill_(1.0)
    return r


_SPLIT = 134217729.0  # 2**27 + 1: Dekker's splitting constant for float64


def _two_sum(a: torch.Tensor, b: torch.Tensor):
    """s, e with s = fl(a + b) and s + e = a + b exactly (Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a: torch.Tensor, b: torch.Tensor):
    """p, e with p = fl(a·b) and p + e = a·b exactly (Dekker's TwoProduct; no fma in torch)."""
    p = a * b
    ca, cb = _SPLIT * a, _SPLIT * b
    ah, bh = ca - (ca - a), cb - (cb - b)
    al, bl = a - ah, b - bh
    return p, al * bl - (((p - ah * bh) - al * bh) - ah * bl)


def _cholesky_residual(a: torch.Tensor, chol: torch.Tensor) -> torch.Tensor:
    """A − L Lᵀ (..., D, D) in compensated (≈ twice float64) precision (Ogita–Rump–Oishi Dot2)."""
    s, comp = a.clone(), torch.zeros_like(a)
    for k in range(a.shape[-1]):
        col = chol[..., :, k]
        p, pe = _two_prod(-col.unsqueeze(-1), col.unsqueeze(-2))
        s, se = _two_sum(s, p)
        comp = comp + (se + pe)
    return s + comp


def gaussian_tc(cov) -> torch.Tensor:
    """Total correlation (nats) of N(·, Σ) by Proposition 1; ``cov`` (..., D, D) → (...) float64.

    TC = ½ Σ_k log Σ_kk − ½ log |Σ|, with log |Σ| from a refined Cholesky factorisation:

    1. Σ is rescaled by powers of two, A = S Σ S with S_kk = 2^round(−½ log₂ Σ_kk) — exact in
       binary floating point, so no rounding enters (a variance of 1e-8 next to one of 1e8 costs
       nothing) and TC(A) = TC(Σ) exactly;
    2. A = L Lᵀ (Cholesky); log |A| = 2 Σ log L_kk + log |I + M| with M = L⁻¹ (A − L Lᵀ) L⁻ᵀ, where
       the residual A − L Lᵀ is computed in compensated (≈ 2×float64) arithmetic and I + M is
       well conditioned. This removes the Cholesky rounding error, which grows like cond(R)·ε
       (R the correlation matrix): at cond(R) = 1e9–1e13 plain Cholesky or LU
       (``numpy.linalg.slogdet``) are off by up to ~1e-4 nats, the refined value by ~1e-14
       (measured against the exact rational determinant; checked in the tests). Cost: O(D³), as Cholesky.

    Raises :class:`CovarianceError` on a matrix that is not a symmetric positive-definite finite
    covariance, or whose correlation matrix is singular to round-off: a pivot L_kk²/A_kk =
    1 − R²(k | previous) below 64·D·ε is round-off, not information, and any finite TC
    reported for it (≳ 15 nats) would be noise.
    """
    c = as_covariance(cov)
    d = c.shape[-1]
    diag = torch.diagonal(c, dim1=-2, dim2=-1)
    scale = torch.ldexp(torch.ones_like(diag), torch.round(-0.5 * torch.log2(diag)))
    a = c * scale.unsqueeze(-1) * scale.unsqueeze(-2)
    a_diag = torch.diagonal(a, dim1=-2, dim2=-1)
    chol, info = torch.linalg.cholesky_ex(a)
    l_diag = torch.diagonal(chol, dim1=-2, dim2=-1)
    tiny = 64 * d * torch.finfo(torch.float64).eps
    if (info != 0).any() or (l_diag ** 2 / a_diag < tiny).any():
        raise CovarianceError("covariance is numerically singular after normalising to a correlation matrix "
                              "(collinear dimensions): its Gaussian total correlation is infinite")
    resid = _cholesky_residual(a, chol)
    m = torch.linalg.solve_triangular(chol, torch.linalg.solve_triangular(chol, resid, upper=False)
                                      .transpose(-1, -2), upper=False)
    m = 0.5 * (m + m.transpose(-1, -2))
    log_det_correction = torch.linalg.slogdet(torch.eye(d, dtype=a.dtype, device=a.device) + m)[1]
    tc = (0.5 * torch.log(a_diag) - torch.log(l_diag)).sum(-1) - 0.5 * log_det_correction
    # Clamp at 0: TC ≥ 0 exactly; round-off can give −1e-16. "+ 0.0" turns −0.0 into 0.0.
    return tc.clamp_min(0.0) + 0.0


def bivariate_tc(rho) -> torch.Tensor:
    """Closed form for D = 2: TC = −½ log(1 − ρ²) for correlation ρ ∈ (−1, 1); ``inf`` at |ρ| = 1."""
    r = _as_tensor(rho)
    if ((r.abs() > 1) | ~torch.isfinite(r)).any():
        raise ValueError("correlation must lie in [−1, 1]")
    return -0.5 * torch.log1p(-r * r)


def gaussian_tc_from_samples(x, *, correction: int = 1) -> torch.Tensor:
    """Prop. 1 applied to the sample covariance of ``x`` (shape (N, D) or (..., N, D)).

    This is how the paper (after Locatello et al.) reports TC_mean and TC_sample of an encoder:
    the covariance of N encoded means or samples. It is only the TC of the Gaussian with that
    covariance, blind to any non-Gaussian dependence. Raises :class:`CovarianceError` when the
    sample covariance is singular (a dimension that never varies, or N ≤ D).
    """
    t = torch.as_tensor(x).to(torch.float64)
    if t.ndim < 2:
        raise ValueError(f"samples must have shape (..., N, D), got {tuple(t.shape)}")
    n = t.shape[-2]
    if n <= t.shape[-1]:
        raise CovarianceError(f"need more samples than dimensions for a covariance, got N={n}, D={t.shape[-1]}")
    # An exactly constant column is checked as max = min: its computed variance is round-off (~1e-31),
    # not 0, and would pass the definiteness check with a correlation made of noise.
    constant = (t.amax(dim=-2) == t.amin(dim=-2)).reshape(-1, t.shape[-1]).any(0)
    if constant.any():
        raise CovarianceError(f"dimension(s) {torch.nonzero(constant).flatten().tolist()} of the samples are constant: "
                              "the sample covariance is singular (infinite Gaussian total correlation)")
    xc = t - t.mean(dim=-2, keepdim=True)
    cov = xc.transpose(-1, -2) @ xc / (n - correction)
    return gaussian_tc(cov)


def sample_tc(x, *, drop_constant: bool = False) -> float:
    """Prop. 1 on the sample covariance of codes ``x`` (N, D), as a float that never raises.

    ``x`` must be finite (NaN or ±inf raise ValueError: a broken encoder is an error, not a TC).
    The returned ``inf`` means only that the sample covariance is singular — collinear
    dimensions, a constant dimension kept, or N ≤ D — Prop. 1's limit; 0.0 when fewer than two
    dimensions remain. ``drop_constant=True`` first removes dimensions that are exactly constant
    (max = min: a shut-down latent; a computed variance of such a column is ~1e-31, not 0, so
    the variance is not the test), so the value is the TC of the rest. This is how
    TC_mean / TC_sample of an encoder are reported (see :func:`gaussian_tc_from_samples` for the
    raising version).
    """
    t = torch.as_tensor(np.ascontiguousarray(x) if isinstance(x, np.ndarray) else x).to(torch.float64)
    if t.ndim != 2:
        raise ValueError(f"x must have shape (N, D), got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        bad = torch.nonzero(~torch.isfinite(t))[0].tolist()
        raise ValueError(f"x has a non-finite value at row {bad[0]}, column {bad[1]}: {float(t[bad[0], bad[1]])}")
    if drop_constant and t.shape[0] > 0:
        t = t[:, t.amax(dim=0) > t.amin(dim=0)]
    if t.shape[1] < 2:
        return 0.0
    try:
        return float(gaussian_tc_from_samples(t))
    except CovarianceError:
        return math.inf


def psd_sqrt(cov) -> torch.Tensor:
    """A factor A with A Aᵀ = Σ for a symmetric PSD Σ (eigen-decomposition; singular Σ allowed).

    Shape (..., D, D), float64. Used to sample µ ~ N(0, Σ) as A u, u ~ N(0, I), which stays
    valid when Σ is singular (the paper's Figure 1 example has |Σ| = 0).
    """
    c = as_covariance(cov, psd=True)
    lam, vec = torch.linalg.eigh(c)
    return vec * lam.clamp_min(0.0).sqrt().unsqueeze(-2)


def gaussian_log_density_elementwise(x, mean, *, var=None, logvar=None) -> torch.Tensor:
    """Per-coordinate log N(x; mean, var) = −½ ((x − mean)²/var + log var + log 2π), not summed.

    The library's one copy of the diagonal-Gaussian log density (used by the minibatch TC
    estimators, the Monte Carlo and quadrature TCs, Chen's MIG and the training objectives).
    ``x``, ``mean`` and the variance are torch tensors of broadcastable shapes; the result has
    the broadcast shape and dtype, is differentiable, and includes the constant −½ log 2π.
    Give the variance as exactly one of ``var`` (variances, > 0) or ``logvar`` (log-variances,
    as a VAE encoder outputs them: evaluated as (x − mean)²·e^{−logvar} + logvar, with no
    exp/log round trip). No input checks (hot path): NaN in gives NaN out.
    """
    if (var is None) == (logvar is None):
        raise TypeError("give exactly one of var= or logvar=")
    sq = (x - mean) ** 2
    # The constant part −½(log var + log 2π) has the (often much smaller) shape of the variance; the
    # fused addcdiv/addcmul keep the full-size temporaries to three (on a (64, 10, 5000) Chen-MIG block:
    # measured 1.5–2× faster than the plain expression, as fast as a hand-written in-place chain).
    if logvar is None:
        return torch.addcdiv(-0.5 * (torch.log(var) + LOG_2PI), sq, var, value=-0.5)
    return torch.addcmul(-0.5 * (logvar + LOG_2PI), sq, torch.exp(-logvar), value=-0.5)


def gaussian_log_density(x, mean, var) -> torch.Tensor:
    """log N(x; mean, diag(var)) summed over the last axis: (..., D) tensors (broadcastable) → (...).

    ``var`` holds variances (not log-variances; see :func:`gaussian_log_density_elementwise` for
    ``logvar=`` and for the per-coordinate terms). Includes the constant −(D/2) log 2π.
    """
    return gaussian_log_density_elementwise(x, mean, var=var).sum(-1)


def random_correlation(dim: int, *, log_det: float | None = None, generator: torch.Generator | None = None,
                       concentration: float = 1.0) -> torch.Tensor:
    """A random D×D correlation matrix (unit diagonal, float64), optionally with a given log-determinant.

    Draw: W ~ Wishart-like G Gᵀ with G a D×(D+k) standard normal matrix (k = ⌈concentration·D⌉),
    normalised to a correlation matrix R₁. To reach a target |R| = e^{log_det} ∈ (0, 1]:
    above |R₁| we move along R(t) = (1 − t)·I + t·R₁ (log|R| is concave in t with its maximum 0
    at t = 0, hence decreasing on [0, 1]); below |R₁| we continue along
    R(s) = normalise(R₁ + s·v vᵀ), v the leading eigenvector of R₁, which concentrates mass on
    one direction and drives |R| to 0 as s → ∞. Every point on both paths is a correlation
    matrix; a bisection on the path parameter hits the target log-determinant to ~1e-12, so
    the Gaussian TC of the result is −½·log_det (checked in the tests).
    """
    if dim < 1:
        raise ValueError("dim must be ≥ 1")
    g = torch.randn(dim, dim + max(1, math.ceil(concentration * dim)), generator=generator, dtype=torch.float64)
    w = g @ g.T
    d = torch.diagonal(w).rsqrt()
    r1 = w * d[:, None] * d[None, :]
    if log_det is None:
        return r1
    if log_det > 0:
        raise ValueError("a correlation matrix has |R| ≤ 1, so log_det must be ≤ 0")
    if dim == 1:
        if log_det != 0:
            raise ValueError("a 1×1 correlation matrix has determinant 1")
        return torch.ones(1, 1, dtype=torch.float64)
    eye = torch.eye(dim, dtype=torch.float64)

    def normalise(m):
        dd = torch.diagonal(m).rsqrt()
        out = m * dd[:, None] * dd[None, :]
        return 0.5 * (out + out.T)

    ld1 = float(torch.linalg.slogdet(r1)[1])
    if log_det >= ld1:
        def path(t):
            return (1 - t) * eye + t * r1
        lo, hi = 0.0, 1.0  # logdet decreasing in t
    else:
        v = torch.linalg.eigh(r1)[1][:, -1]
        vv = torch.outer(v, v)

        def path(t):  # t in [0, 1) maps to s = t / (1 − t) ∈ [0, ∞)
            s = t / (1 - t)
            return normalise(r1 + s * vv)
        lo, hi = 0.0, 1.0 - 1e-15
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        ld = float(torch.linalg.slogdet(path(mid))[1])
        if abs(ld - log_det) < 1e-12:
            break
        if ld > log_det:
            lo = mid
        else:
            hi = mid
    return path(0.5 * (lo + hi))


def random_covariance(dim: int, *, generator: torch.Generator | None = None, log_det_per_dim: float = 1.5,
                      log_scale: float = 3.0) -> torch.Tensor:
    """A random D×D covariance Σ = S R S (float64) whose Gaussian TC spans weak to strong dependence.

    R = :func:`random_correlation` with log|R| drawn uniformly in [−log_det_per_dim·D, 0] (so the
    Gaussian TC −½·log|R| is uniform in [0, ½·log_det_per_dim·D]); S = diag(s) with log s_k uniform in
    [−log_scale, log_scale] (scales over 2·log_scale/ln 10 orders of magnitude), because TC must not
    depend on them. Draws, in order: one uniform for log|R|, R, then the D scales.
    """
    if not is_integer(dim) or dim < 2:
        raise ValueError(f"dim must be an int ≥ 2 (one coordinate has no dependence to draw), got {dim!r}")
    if not log_det_per_dim >= 0 or not log_scale >= 0:
        raise ValueError(f"log_det_per_dim and log_scale must be ≥ 0, got {log_det_per_dim!r} and {log_scale!r}")
    log_det = -log_det_per_dim * dim * float(torch.rand(1, generator=generator, dtype=torch.float64))
    r = random_correlation(dim, log_det=log_det, generator=generator)
    s = torch.exp(2 * log_scale * torch.rand(dim, generator=generator, dtype=torch.float64) - log_scale)
    return s[:, None] * r * s[None, :]
