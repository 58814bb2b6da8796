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

__all__ = [
    "CovarianceError",
    "as_covariance",
    "correlation_from_covariance",
    "gaussian_tc",
    "gaussian_tc_from_samples",
    "sample_tc",
    "gaussian_log_density",
    "psd_sqrt",
    "bivariate_tc",
    "random_correlation",
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


def gaussian_tc(cov) -> torch.Tensor:
    """Total correlation (nats) of N(·, Σ) by Proposition 1; ``cov`` (..., D, D) → (...) float64.

    Computed as −Σ_k log L_kk² / 2 = −½ log |R| with L the Cholesky factor of the correlation
    matrix R, so the scale of each coordinate cancels before any logarithm is taken (a variance
    of 1e-8 next to one of 1e8 costs no precision). Raises :class:`CovarianceError` on a
    matrix that is not a symmetric positive-definite finite covariance.
    """
    r = correlation_from_covariance(cov)
    # Σ can pass the definiteness check yet have a correlation matrix that is singular to
    # round-off (exactly collinear samples): report that as what it is, not a LinAlgError.
    # A pivot L_kk² = 1 − R²(k | previous) below ~64·D·ε is round-off, not information: such a
    # matrix is singular in float64 and any finite TC reported for it (≳ 15 nats) would be noise.
    chol, info = torch.linalg.cholesky_ex(r)
    d = r.shape[-1]
    tiny = 64 * d * torch.finfo(torch.float64).eps
    if (info != 0).any() or (torch.diagonal(chol, dim1=-2, dim2=-1) ** 2 < tiny).any():
        raise CovarianceError("covariance is numerically singular after normalising to a correlation matrix "
                              "(collinear dimensions): its Gaussian total correlation is infinite")
    # −½ log|R| = −Σ log L_kk. Clamp at 0: TC ≥ 0 exactly; round-off can give −1e-16.
    return (-torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)).clamp_min(0.0) + 0.0  # + 0.0: no −0.0


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
    xc = t - t.mean(dim=-2, keepdim=True)
    cov = xc.transpose(-1, -2) @ xc / (n - correction)
    return gaussian_tc(cov)


def sample_tc(x, *, drop_constant: bool = False) -> float:
    """Prop. 1 on the sample covariance of codes ``x`` (N, D), as a float that never raises.

    Returns ``inf`` when the covariance is singular (collinear or constant dimensions), 0.0 when
    fewer than two dimensions remain. ``drop_constant=True`` first removes dimensions whose
    sample variance is exactly 0 (a shut-down latent), so the value is the TC of the rest.
    This is how TC_mean / TC_sample of an encoder are reported (see
    :func:`gaussian_tc_from_samples` for the raising version).
    """
    t = torch.as_tensor(np.ascontiguousarray(x) if isinstance(x, np.ndarray) else x).to(torch.float64)
    if drop_constant:
        t = t[:, t.var(dim=0) > 0]
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


def gaussian_log_density(x, mean, var) -> torch.Tensor:
    """log N(x; mean, diag(var)) summed over the last axis; broadcasting shapes, float64-safe."""
    return -0.5 * (((x - mean) ** 2) / var + torch.log(var) + math.log(2 * math.pi)).sum(-1)


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
