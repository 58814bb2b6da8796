"""Numerical TC of z = µ + heteroscedastic noise (Theorem 1's setting) against closed forms and each other."""
import math

import pytest
import torch

from rtc.gaussian import random_correlation
from rtc.mixture_tc import (
    BoundedVariance,
    ConstantVariance,
    mixture_density_2d,
    tc_constant_noise,
    tc_monte_carlo,
    tc_quadrature_2d,
)


def test_figure1_closed_form():
    s = [[1.0, 0.1], [0.1, 0.01]]
    # Σ + diag(0.01, 1) = [[1.01, .1], [.1, 1.01]] → ρ = 0.1/1.01, TC = −½ log(1 − ρ²)
    rho = 0.1 / 1.01
    assert float(tc_constant_noise(s, (0.01, 1.0))) == pytest.approx(-0.5 * math.log1p(-rho * rho), rel=1e-12)


@pytest.mark.parametrize("rho, c", [(0.0, 0.1), (0.9, 0.05), (0.999, 0.02), (1.0, 0.05)])
def test_quadrature_matches_closed_form(rho, c):
    s = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
    q = tc_quadrature_2d(s, ConstantVariance((c, c)))
    exact = float(tc_constant_noise(s, c))
    # The error estimate must cover the actual error (with a floor for round-off at TC = 0),
    # and the Richardson-extrapolated value is accurate to 1e-3 nats at the default resolution.
    assert abs(q.tc - exact) <= max(3 * q.error, 1e-6)
    assert abs(q.tc - exact) < 1e-3
    assert q.mass_deficit < 1e-10


def test_quadrature_density_integrates_to_one():
    z1, z2, p = mixture_density_2d([[1.0, 0.8], [0.8, 1.0]], BoundedVariance(0.05, 0.5), width=7.5)
    mass = float(p.sum() * (z1[1] - z1[0]) * (z2[1] - z2[0]))
    assert mass == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("dim, log_det, c", [(2, -1.0, 0.05), (3, -5.0, 0.05), (5, -2.0, 0.1)])
def test_monte_carlo_matches_closed_form(dim, log_det, c):
    r = random_correlation(dim, log_det=log_det, generator=torch.Generator().manual_seed(dim))
    mc = tc_monte_carlo(r, ConstantVariance((c,) * dim), n_outer=1000, n_inner=128, seed=1)
    exact = float(tc_constant_noise(r, c))
    # 4 standard errors (a false alarm once in ~16,000 seeds; a 95 % CI would fail 1 run in 20)
    # plus a 0.01-nat allowance for the residual (second-order) inner bias.
    assert abs(mc.tc - exact) <= 4 * mc.stderr + 0.01
    assert mc.min_ess > 20


def test_quadrature_and_monte_carlo_agree_for_mu_dependent_noise():
    s = torch.tensor([[1.0, 0.95], [0.95, 1.0]], dtype=torch.float64)
    var = BoundedVariance(0.02, 0.5, slope=2.0)
    q = tc_quadrature_2d(s, var)
    mc = tc_monte_carlo(s, var, n_outer=1500, n_inner=128, seed=2)
    # Two independent methods: within 4 MC standard errors + 0.01 nats of inner bias + the quadrature error.
    assert abs(mc.tc - q.tc) <= 4 * mc.stderr + 0.01 + q.error
    # The µ-dependent case differs from both constant-noise closed forms, so the test is not vacuous.
    assert float(tc_constant_noise(s, 0.5)) + 0.05 < q.tc < float(tc_constant_noise(s, 0.02)) - 0.05


def test_tc_z_stays_bounded_as_tc_mu_diverges():
    var = BoundedVariance(0.05, 0.5)
    vals = [tc_quadrature_2d([[1.0, r], [r, 1.0]], var, resolution=0.5).tc for r in (0.99, 0.9999, 1.0)]
    assert max(vals) - min(vals) < 0.05  # saturates while TC(µ) goes 1.96 → 4.26 → ∞
    assert vals[0] < vals[1] < vals[2] + 1e-3


def test_bad_inputs():
    with pytest.raises(ValueError, match="separable"):
        tc_quadrature_2d([[1.0, 0.5], [0.5, 1.0]], BoundedVariance(0.1, 0.5, source="next"))
    with pytest.raises(ValueError, match="D = 2"):
        tc_quadrature_2d(torch.eye(3), ConstantVariance((0.1,) * 3))
    with pytest.raises(ValueError, match="c1 ≤ c2"):
        BoundedVariance(0.5, 0.1)
    with pytest.raises(ValueError):
        ConstantVariance((0.1, -1.0))
