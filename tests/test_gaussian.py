"""Known answers and invariances of the Gaussian total correlation (Proposition 1)."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.gaussian import (CovarianceError, as_covariance, bivariate_tc, correlation_from_covariance, gaussian_tc,
                          gaussian_tc_from_samples, psd_sqrt, random_correlation)


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


def test_sample_tc_never_raises():
    from rtc.gaussian import sample_tc

    g = torch.Generator().manual_seed(0)
    x = torch.randn(5000, 3, generator=g, dtype=torch.float64)
    assert sample_tc(x) == pytest.approx(float(gaussian_tc_from_samples(x)), rel=1e-12)
    dead = torch.cat([x, torch.zeros(5000, 1, dtype=torch.float64)], dim=1)  # a shut-down latent
    assert sample_tc(dead) == math.inf
    assert sample_tc(dead, drop_constant=True) == pytest.approx(sample_tc(x), rel=1e-12)
    assert sample_tc(x[:, :1]) == 0.0
    assert sample_tc(x.numpy()) == pytest.approx(sample_tc(x), rel=1e-12)
