"""rtc.gaussian.random_covariance: a valid covariance whose TC and scales lie in the documented ranges."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.gaussian import as_covariance, correlation_from_covariance, gaussian_tc, random_correlation, random_covariance


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 10), st.integers(0, 2**31 - 1))
def test_valid_covariance_in_documented_ranges(dim, seed):
    cov = random_covariance(dim, generator=torch.Generator().manual_seed(seed))
    assert cov.shape == (dim, dim) and cov.dtype == torch.float64
    as_covariance(cov)  # symmetric positive definite, or it raises
    tc = float(gaussian_tc(cov))
    assert -1e-9 <= tc <= 0.75 * dim + 1e-9  # −½·log|R| with log|R| ∈ [−1.5·D, 0]
    d = torch.diagonal(cov)
    assert torch.all(d >= math.exp(-6) * (1 - 1e-12)) and torch.all(d <= math.exp(6) * (1 + 1e-12))


def test_reproducible_and_draw_order():
    a = random_covariance(4, generator=torch.Generator().manual_seed(3))
    b = random_covariance(4, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    # documented draw order: one uniform for log|R|, then R, then the scales
    g = torch.Generator().manual_seed(3)
    log_det = -1.5 * 4 * float(torch.rand(1, generator=g, dtype=torch.float64))
    r = random_correlation(4, log_det=log_det, generator=g)
    s = torch.exp(6 * torch.rand(4, generator=g, dtype=torch.float64) - 3)
    assert torch.equal(a, s[:, None] * r * s[None, :])
    torch.testing.assert_close(correlation_from_covariance(a), r)
    assert float(gaussian_tc(a)) == pytest.approx(-0.5 * log_det, abs=1e-9)


def test_ranges_are_parameters():
    cov = random_covariance(5, generator=torch.Generator().manual_seed(0), log_det_per_dim=0.0, log_scale=0.0)
    # log|R| = 0 is met by bisection to 1e-12, so R is the identity up to ~1e-6 and TC(Σ) ≈ 0; unit scales
    torch.testing.assert_close(torch.diagonal(cov), torch.ones(5, dtype=torch.float64), rtol=0, atol=1e-15)
    torch.testing.assert_close(cov, torch.eye(5, dtype=torch.float64), rtol=0, atol=1e-5)
    assert float(gaussian_tc(cov)) < 1e-11


@pytest.mark.parametrize("kwargs, match", [(dict(dim=0), "dim"), (dict(dim=1), "dim"), (dict(dim=True), "dim"),
                                           (dict(dim=2.0), "dim"),
                                           (dict(dim=2, log_scale=-1.0), "log_scale"),
                                           (dict(dim=2, log_det_per_dim=float("nan")), "log_det_per_dim")])
def test_rejects_bad_input(kwargs, match):
    dim = kwargs.pop("dim")
    with pytest.raises(ValueError, match=match):
        random_covariance(dim, **kwargs)
