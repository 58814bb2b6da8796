"""Distributions with known TC: Monte Carlo with exact densities recovers the exact values."""
import math

import pytest
import torch

from rtc.gaussian import gaussian_tc_from_samples, random_correlation
from rtc.known_tc import Gaussian, RotatedUniformSquare, UniformDisk, monte_carlo_tc


def test_exact_values():
    assert RotatedUniformSquare.tc == pytest.approx(1 - math.log(2))
    assert UniformDisk.tc == pytest.approx(math.log(math.pi) - 1)


@pytest.mark.parametrize("dist", [RotatedUniformSquare(), UniformDisk()])
def test_uncorrelated_but_dependent(dist):
    g = torch.Generator().manual_seed(0)
    x = dist.sample(100_000, g)
    # Prop. 1 on the sample covariance: ~0 (sampling noise of a correlation of 1e5 draws is ~3e-3,
    # so the Gaussian TC is ~½ρ² ≈ 1e-5); the true TC is > 0.14.
    assert float(gaussian_tc_from_samples(x)) < 1e-3
    mc = monte_carlo_tc(dist, 100_000, generator=g)
    assert mc.contains(dist.tc) or abs(mc.estimate - dist.tc) < 4 * mc.stderr
    # marginal densities integrate to one (trapezoid on a fine grid, error ~1e-6)
    t = torch.linspace(-2, 2, 40001, dtype=torch.float64)
    pts = torch.stack([t, t], 1)
    mass = torch.trapezoid(dist.marginal_log_density(pts).exp()[:, 0], t)
    assert float(mass) == pytest.approx(1.0, abs=1e-5)


def test_gaussian_monte_carlo_agrees_with_prop1():
    r = random_correlation(6, log_det=-3.0, generator=torch.Generator().manual_seed(1))
    dist = Gaussian(r)
    mc = monte_carlo_tc(dist, 50_000, generator=torch.Generator().manual_seed(2))
    assert abs(mc.estimate - 1.5) < 4 * mc.stderr  # 4σ: a false failure once in ~16,000 runs
