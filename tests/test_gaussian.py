"""Known answers and invariances of the Gaussian total correlation (Proposition 1)."""
import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.gaussian import (
    LOG_2PI,
    CovarianceError,
    as_covariance,
    bivariate_tc,
    correlation_from_covariance,
    gaussian_log_density,
    gaussian_log_density_elementwise,
    gaussian_tc,
    gaussian_tc_from_samples,
    psd_sqrt,
    random_correlation,
    sample_tc,
)


def test_diagonal_covariance_has_zero_tc():
    cov = torch.diag(torch.tensor([1e-6, 3.0, 1e6], dtype=torch.float64))
    assert float(gaussian_tc(cov)) == 0.0  # exactly: Cholesky of I has unit diagonal


@pytest.mark.parametrize("rho", [-0.999, -0.5, 0.0, 0.1, 0.9, 0.999999])
def test_bivariate_closed_form(rho):
    cov = [[4.0, 2 * 0.5 * rho * 4], [2 * 0.5 * rho * 4, 16.0 * 0.25]]  # sds 2 and 2, correlation rho
    expected = -0.5 * math.log1p(-rho * rho)
    # float64 Cholesky of a 2×2 correlation matrix: relative error ~ eps / (1 − ρ²) ≤ 1e-9 here.
    assert float(gaussian_tc(cov)) == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert float(bivariate_tc(rho)) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_matches_half_log_det_formula():
    g = torch.Generator().manual_seed(3)
    a = torch.randn(6, 9, generator=g, dtype=torch.float64)
    cov = a @ a.T
    direct = 0.5 * (torch.log(torch.diagonal(cov)).sum() - torch.logdet(cov))
    assert float(gaussian_tc(cov)) == pytest.approx(float(direct), rel=1e-10)


def test_batched_shapes():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(3, 4, 5, 8, generator=g, dtype=torch.float64)
    cov = a @ a.transpose(-1, -2)
    out = gaussian_tc(cov)
    assert out.shape == (3, 4) and out.dtype == torch.float64
    assert float(out[1, 2]) == pytest.approx(float(gaussian_tc(cov[1, 2])), rel=1e-12)


def test_float32_input_is_computed_in_float64():
    cov32 = torch.tensor([[1.0, 0.999], [0.999, 1.0]], dtype=torch.float32)
    # float32 stores 0.999 as 0.99900001287...; compare with the exact TC of the stored value.
    rho = float(cov32[0, 1])
    assert float(gaussian_tc(cov32)) == pytest.approx(-0.5 * math.log1p(-rho * rho), rel=1e-9)


@pytest.mark.parametrize("bad, match", [
    ([[1.0, 2.0], [2.0, 1.0]], "not positive definite"),
    ([[1.0, 0.5], [0.4, 1.0]], "not symmetric"),
    ([[1.0, float("nan")], [float("nan"), 1.0]], "non-finite"),
    ([[1.0, float("inf")], [float("inf"), 1.0]], "non-finite"),
    ([1.0, 2.0], "shape"),
    (np.ones((2, 3)), "shape"),
    ([[1.0, 1.0], [1.0, 1.0]], "not positive definite"),
    ("abc", "numeric"),
])
def test_invalid_covariances_raise(bad, match):
    with pytest.raises(CovarianceError, match=match):
        gaussian_tc(bad)


def test_psd_allows_singular_but_rejects_indefinite():
    sing = [[1.0, 0.1], [0.1, 0.01]]  # the paper's Figure 1: |Σ| = 0
    a = psd_sqrt(sing)
    assert torch.allclose(a @ a.T, torch.tensor(sing, dtype=torch.float64), atol=1e-15)
    with pytest.raises(CovarianceError, match="semi-definite"):
        as_covariance([[1.0, 0.0], [0.0, -1e-3]], psd=True)
    with pytest.raises(CovarianceError):
        gaussian_tc(sing)


@st.composite
def covariances(draw):
    d = draw(st.integers(2, 7))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d + 2, generator=g, dtype=torch.float64)
    return a @ a.T + 1e-3 * torch.eye(d, dtype=torch.float64)


@settings(max_examples=60, deadline=None)
@given(covariances(), st.data())
def test_invariant_under_scaling_and_permutation(cov, data):
    d = cov.shape[0]
    logs = data.draw(st.lists(st.floats(-8, 8), min_size=d, max_size=d))
    signs = data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=d, max_size=d))
    perm = data.draw(st.permutations(list(range(d))))
    a = torch.tensor(signs, dtype=torch.float64) * torch.exp(torch.tensor(logs, dtype=torch.float64))
    base = float(gaussian_tc(cov))
    scaled = float(gaussian_tc(a[:, None] * cov * a[None, :]))
    permuted = float(gaussian_tc(cov[perm][:, perm]))
    # The scales cancel in the correlation matrix before any log is taken: only round-off remains
    # (relative ~1e-12 for the conditioning these matrices have).
    assert scaled == pytest.approx(base, rel=1e-9, abs=1e-12)
    assert permuted == pytest.approx(base, rel=1e-9, abs=1e-12)
    assert base >= 0.0


@settings(max_examples=40, deadline=None)
@given(covariances())
def test_correlation_matrix_has_unit_diagonal_and_tc_nonnegative(cov):
    r = correlation_from_covariance(cov)
    assert torch.allclose(torch.diagonal(r), torch.ones(cov.shape[0], dtype=torch.float64))
    assert float(gaussian_tc(r)) == pytest.approx(float(gaussian_tc(cov)), rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("dim, log_det", [(2, -0.3), (5, -4.0), (10, -25.0), (10, -0.01), (3, 0.0)])
def test_random_correlation_hits_target_determinant(dim, log_det):
    r = random_correlation(dim, log_det=log_det, generator=torch.Generator().manual_seed(dim))
    assert torch.allclose(torch.diagonal(r), torch.ones(dim, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(r, r.T)
    # bisection stops at |Δ log det| < 1e-12, or at the float64 resolution of the path parameter
    assert float(torch.linalg.slogdet(r)[1]) == pytest.approx(log_det, abs=1e-8)
    assert float(gaussian_tc(r)) == pytest.approx(-0.5 * log_det, abs=1e-8)


def test_tc_from_samples_estimates_the_population_value():
    g = torch.Generator().manual_seed(0)
    r = random_correlation(4, log_det=-2.0, generator=g)
    x = torch.randn(200_000, 4, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(r).T
    # The sample covariance of 2e5 draws gives log|R| to about ±0.01 (sd ≈ sqrt(2D/N) per entry scale).
    assert float(gaussian_tc_from_samples(x)) == pytest.approx(1.0, abs=0.02)
    with pytest.raises(CovarianceError, match="more samples"):
        gaussian_tc_from_samples(x[:3])
    with pytest.raises(CovarianceError):
        gaussian_tc_from_samples(torch.ones(100, 3))  # constant codes: singular covariance


def test_collinear_samples_raise_covariance_error_not_linalg_error():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(100, 1, generator=g, dtype=torch.float64)
    codes = torch.cat([x, 2 * x, torch.randn(100, 1, generator=g, dtype=torch.float64)], dim=1)
    with pytest.raises(CovarianceError):
        gaussian_tc_from_samples(codes)


def test_sample_tc_returns_inf_only_for_singular_samples():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5000, 3, generator=g, dtype=torch.float64)
    assert sample_tc(x) == pytest.approx(float(gaussian_tc_from_samples(x)), rel=1e-12)
    dead = torch.cat([x, torch.zeros(5000, 1, dtype=torch.float64)], dim=1)  # a shut-down latent
    assert sample_tc(dead) == math.inf
    assert sample_tc(dead, drop_constant=True) == pytest.approx(sample_tc(x), rel=1e-12)
    assert sample_tc(x[:, :1]) == 0.0
    assert sample_tc(x.numpy()) == pytest.approx(sample_tc(x), rel=1e-12)


def _exact_tc(cov: np.ndarray) -> float:
    """½ Σ log Σ_kk − ½ log|Σ| of the float64 matrix as stored, with the determinant in exact rationals."""
    a = [[Fraction(float(v)) for v in row] for row in cov]
    n, det = len(a), Fraction(1)
    for k in range(n):  # Gaussian elimination without pivoting (Σ is positive definite)
        det *= a[k][k]
        for i in range(k + 1, n):
            f = a[i][k] / a[k][k]
            a[i] = [x - f * y for x, y in zip(a[i], a[k], strict=True)]
    log_det = math.log(det.numerator) - math.log(det.denominator)
    return 0.5 * (float(np.log(np.diag(cov)).sum()) - log_det)


def test_ill_conditioned_tc_at_least_as_accurate_as_slogdet():
    # Regression: at cond(R) = 1e9–1e13 plain Cholesky of R was up to 3e-4 nats off where
    # numpy's slogdet was 1.7e-5 off. Each matrix: our error ≤ slogdet's (or ≤ 1e-12 absolute).
    rng = np.random.default_rng(0)
    for _ in range(30):
        d = int(rng.integers(2, 9))
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        cov = (q * np.geomspace(1.0, 10.0 ** -rng.uniform(9, 13), d)) @ q.T
        s = np.exp(rng.uniform(-6, 6, d))  # badly scaled too
        cov = cov * s[:, None] * s[None, :]
        cov = 0.5 * (cov + cov.T)
        exact = _exact_tc(cov)
        err_slogdet = abs(0.5 * (np.log(np.diag(cov)).sum() - np.linalg.slogdet(cov)[1]) - exact)
        err = abs(float(gaussian_tc(cov)) - exact)
        assert err <= max(err_slogdet, 1e-12), (d, err, err_slogdet)


def test_sample_tc_rejects_non_finite_input_and_drops_exactly_constant_columns():
    x = torch.randn(500, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for bad in (float("nan"), float("inf")):
        y = x.clone()
        y[7, 1] = bad
        with pytest.raises(ValueError, match="row 7, column 1"):
            sample_tc(y)
    # a constant float column whose computed variance is ~1e-31, not 0 (a regression)
    const = torch.cat([x, torch.full((500, 1), 0.1, dtype=torch.float64)], 1)
    assert float(const[:, 3].var()) > 0
    assert sample_tc(const, drop_constant=True) == pytest.approx(sample_tc(x), rel=1e-12)
    assert sample_tc(const) == math.inf  # kept: singular covariance, Prop. 1's limit


def test_log_density_single_formula_known_values():
    x = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    mean = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    var = torch.tensor([[4.0, 0.25]], dtype=torch.float64)
    want = torch.tensor([[-0.5 * (0.25 / 4 + math.log(4.0) + LOG_2PI), -0.5 * (4 / 0.25 + math.log(0.25) + LOG_2PI)]],
                        dtype=torch.float64)
    assert torch.allclose(gaussian_log_density_elementwise(x, mean, var=var), want, rtol=1e-14)
    assert torch.allclose(gaussian_log_density_elementwise(x, mean, logvar=var.log()), want, rtol=1e-14)
    assert torch.allclose(gaussian_log_density(x, mean, var), want.sum(-1), rtol=1e-14)
    with pytest.raises(TypeError, match="exactly one"):
        gaussian_log_density_elementwise(x, mean)
