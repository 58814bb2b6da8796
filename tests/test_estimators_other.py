"""Tests for the kNN, density-ratio and isolated-point parts of rtc.estimators and the synthetic latents."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.estimators import (
    density_ratio_estimate,
    estimate_all,
    estimator_log_weights,
    figure2_latents,
    isolated_point_tc,
    knn_entropy,
    knn_tc,
    mss,
    mws,
    shutdown_latents,
    weight_signature,
)
from rtc.gaussian import gaussian_tc

# ---------------------------------------------------------------- synthetic latents

def test_figure2_latents_exact_tc_and_shapes():
    g = torch.Generator().manual_seed(0)
    s = figure2_latents(4, 0.3, 50_000, generator=g)
    assert s.z.shape == s.mu.shape == s.logvar.shape == (50_000, 4)
    # |Σ| hit by bisection to ~1e-12; Prop. 1 on Σ + σ²I computed in float64
    cov_mu = s.cov_z - 0.01 * torch.eye(4, dtype=torch.float64)
    assert torch.allclose(torch.diagonal(cov_mu), torch.ones(4, dtype=torch.float64), atol=1e-12)
    assert float(torch.linalg.det(cov_mu)) == pytest.approx(0.3, rel=1e-9)
    assert s.tc_true == pytest.approx(float(gaussian_tc(s.cov_z)), abs=1e-12)
    # the sample covariance of 50k draws: entries within ±0.03 (≈ 5 standard errors of 1/√50000·√2)
    emp = torch.cov(s.z.T)
    assert torch.allclose(emp, s.cov_z, atol=0.03)
    assert torch.allclose(s.logvar, torch.full_like(s.logvar, math.log(0.01)))


def test_shutdown_latents_variances_and_zero_tc():
    g = torch.Generator().manual_seed(1)
    s = shutdown_latents(5, 40_000, n_shutdown=2, sigma0=0.01, generator=g)
    assert s.tc_true == 0.0
    v = s.mu.var(0)
    # sample variance of 40k draws: relative standard error √(2/40000) ≈ 0.7 %; 5 % is safe
    assert torch.allclose(v[:2], torch.full((2,), 1e-4, dtype=torch.float64), rtol=0.05)
    assert torch.allclose(v[2:], torch.ones(3, dtype=torch.float64), rtol=0.05)


def test_synthetic_bad_inputs():
    with pytest.raises(ValueError, match="det must lie"):
        figure2_latents(3, 0.0, 10)
    with pytest.raises(ValueError, match="det must lie"):
        figure2_latents(3, 1.5, 10)
    with pytest.raises(ValueError, match="dim"):
        figure2_latents(0, 0.5, 10)
    with pytest.raises(ValueError, match="n_shutdown"):
        shutdown_latents(3, 10, n_shutdown=4)


# ---------------------------------------------------------------- kNN estimators

@pytest.mark.parametrize("rho", [0.0, 0.6, 0.9])
def test_knn_tc_gaussian_bivariate(rho):
    """N = 4000, k = 3: KSG's standard deviation here is ≈ 0.015 nats and its bias < 0.03 (Kraskov et al.,
    fig. 4, and our seeds); 0.06 nats covers both."""
    rng = np.random.default_rng(0)
    x = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], 4000)
    assert knn_tc(x) == pytest.approx(-0.5 * math.log(1 - rho ** 2), abs=0.06)


def test_knn_tc_gaussian_five_dims():
    g = torch.Generator().manual_seed(2)
    s = figure2_latents(5, 0.3, 4000, generator=g)
    # KSG under-estimates in 5-D (large kNN balls); measured error ≈ −0.05 at this N; 0.15 allows noise
    assert knn_tc(s.z) == pytest.approx(s.tc_true, abs=0.15)


def test_knn_tc_sees_uncorrelated_dependence():
    """Uniform square rotated by 45°: uncorrelated, so Prop. 1 says 0, but TC = 2·H(triangular) − H(square)
    = 2(½ + ½ log 2) − log 4 = 1 − log 2 ≈ 0.307 nats exactly."""
    rng = np.random.default_rng(3)
    u = rng.uniform(-1, 1, (4000, 2))
    y = u @ (np.array([[1.0, 1.0], [-1.0, 1.0]]) / math.sqrt(2)).T
    assert abs(np.corrcoef(y.T)[0, 1]) < 0.05
    # measured error +0.01 at this N (seed-to-seed sd ≈ 0.015); 0.05 covers it
    assert knn_tc(y) == pytest.approx(1 - math.log(2), abs=0.05)
    assert float(gaussian_tc(np.cov(y.T))) < 0.01


def test_knn_entropy_gaussian_closed_form():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5000, 2)) * [1.0, 3.0]
    want = math.log(2 * math.pi * math.e) + math.log(3.0)  # ½ log((2πe)² |Σ|)
    # Kozachenko–Leonenko at N = 5000 in 2-D: bias and sd both ≈ 0.02 nats
    assert knn_entropy(x) == pytest.approx(want, abs=0.06)


@given(shifts=st.lists(st.floats(-1e4, 1e4), min_size=3, max_size=3),
       scales=st.lists(st.floats(1e-3, 1e3), min_size=3, max_size=3),
       signs=st.lists(st.sampled_from([-1.0, 1.0]), min_size=3, max_size=3))
@settings(max_examples=25, deadline=None)
def test_knn_tc_invariant_to_per_coordinate_affine_maps(shifts, scales, signs):
    rng = np.random.default_rng(5)
    x = rng.multivariate_normal([0, 0, 0], [[1, .5, .2], [.5, 1, .3], [.2, .3, 1]], 500)
    a = np.array(scales) * np.array(signs)
    b = np.array(shifts) * np.abs(a)  # offsets up to 1e4 standard deviations: the data keep ~1e-12 resolution
    # A TC is invariant under z_k → a_k z_k + b_k and knn_tc standardizes each column first, so only
    # round-off differs; a flipped neighbour count would move the estimate by ≳ 1e-5.
    assert knn_tc(x * a + b) == pytest.approx(knn_tc(x), abs=1e-9)
    assert knn_tc(x * a + b, method="kl") == pytest.approx(knn_tc(x, method="kl"), abs=1e-9)


def test_knn_tc_large_offset_of_one_coordinate():
    # Regression: +1e12 on one coordinate moved the estimate from 0.271 to 0.343 and +1e14 gave NaN.
    # At 1e12 the data keep ~1e-4 resolution (float64 spacing), at 1e14 ~0.016: small, finite changes.
    rng = np.random.default_rng(5)
    x = rng.multivariate_normal([0, 0, 0], [[1, .5, .2], [.5, 1, .3], [.2, .3, 1]], 500)
    for offset, tol in ((1e12, 1e-3), (1e14, 0.03)):
        y = x.copy()
        y[:, 0] += offset
        assert knn_tc(y) == pytest.approx(knn_tc(x), abs=tol)


def test_knn_tc_constant_column_adds_nothing():
    rng = np.random.default_rng(2)
    x = rng.multivariate_normal([0, 0], [[1, .6], [.6, 1]], 400)
    with_const = np.column_stack([x, np.full(400, 0.1)])
    assert knn_tc(with_const) == pytest.approx(knn_tc(x), abs=1e-12)


def test_knn_bad_inputs():
    with pytest.raises(ValueError, match="D ≥ 1"):
        knn_tc(np.zeros((10, 0)))
    with pytest.raises(ValueError, match="D ≥ 1"):
        knn_entropy(np.zeros((10, 0)))
    assert knn_tc(np.random.default_rng(0).standard_normal((20, 2)), k=np.int64(3)) == \
        knn_tc(np.random.default_rng(0).standard_normal((20, 2)), k=3)
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        knn_tc(np.zeros(10))
    with pytest.raises(ValueError, match="more samples than neighbours"):
        knn_tc(np.random.rand(3, 2), k=3)
    with pytest.raises(ValueError, match="duplicate"):
        knn_tc(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="NaN"):
        knn_tc(np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match="method"):
        knn_tc(np.random.rand(10, 2), method="x")
    with pytest.raises(TypeError, match="numeric"):
        knn_tc(np.array([["a", "b"]] * 5))


# ---------------------------------------------------------------- density ratio

def test_density_ratio_recovers_gaussian_tc(one_thread):
    """D = 2, ρ = 0.9 (TC 0.83): a small discriminator trained 800 steps; measured held-out error −0.03 to
    −0.06 over seeds (the classifier under-fits slightly); 0.2 nats is the tolerance."""
    rng = np.random.default_rng(6)
    z = rng.multivariate_normal([0, 0], [[1, .9], [.9, 1]], 6000).astype(np.float32)
    r = density_ratio_estimate(torch.from_numpy(z), steps=800, hidden=64, layers=3, batch_size=256, seed=0)
    assert r.tc_heldout == pytest.approx(-0.5 * math.log(1 - 0.81), abs=0.2)
    assert len(r.losses) == 800
    # the cross-entropy starts at log 2 (indistinguishable classes) and must fall as TC > 0 is learned
    assert np.mean(r.losses[-100:]) < np.mean(r.losses[:20])


def test_density_ratio_independent_codes_near_zero(one_thread):
    z = torch.randn(4000, 3, generator=torch.Generator().manual_seed(7))
    r = density_ratio_estimate(z, steps=300, hidden=64, layers=3, batch_size=256, seed=1)
    # TC = 0; the held-out logit difference of a briefly trained classifier stays within ±0.1
    assert abs(r.tc_heldout) < 0.1


def test_density_ratio_bad_inputs():
    with pytest.raises(ValueError, match="need ≥ 2·batch_size"):
        density_ratio_estimate(torch.randn(100, 2), batch_size=64)
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        density_ratio_estimate(torch.randn(100))
    with pytest.raises(ValueError, match="train_fraction"):
        density_ratio_estimate(torch.randn(1000, 2), train_fraction=1.0)
    with pytest.raises(TypeError, match="floating"):
        density_ratio_estimate(torch.ones(1000, 2, dtype=torch.long))


# ---------------------------------------------------------------- isolated-point law

def test_weight_signatures_closed_forms():
    b, n, d = 16, 1000, 7
    tol = dict(abs=1e-9)  # float64 logs of O(1e4) values
    assert weight_signature(estimator_log_weights("mws", b, n), d) == pytest.approx(
        (d - 1) * math.log(n) - math.log(b), **tol)
    assert weight_signature(estimator_log_weights("mws_noconst", b, n), d) == pytest.approx(-d * math.log(b), **tol)
    assert weight_signature(estimator_log_weights("mss1", b, n), d) == pytest.approx(-math.log(n), **tol)


def test_isolated_point_law_matches_estimates_in_high_dimension():
    """D = 10, B = 1024, σ = 0.1: the batch is sparse, so the law holds; measured residuals ≤ 0.2 nats for
    MWS (both), MSS0, and ≈ 0.2 for MSS1 (whose 1/N self weight lets neighbours matter); 0.5 allowed."""
    g = torch.Generator().manual_seed(8)
    s = shutdown_latents(10, 1024, n_shutdown=1, sigma0=0.01, generator=g)
    est = estimate_all(s, 100_000)
    var_mu = torch.ones(10)
    var_mu[0] = 1e-4
    for name, value in est.items():
        assert value == pytest.approx(isolated_point_tc(name, 1024, 100_000, var_mu, torch.full((10,), 0.01)),
                                      abs=0.5), name


def test_isolated_point_bad_inputs():
    with pytest.raises(ValueError, match="estimator"):
        isolated_point_tc("mws2", 4, 10, [1, 1], [1, 1])
    with pytest.raises(ValueError, match="shape"):
        isolated_point_tc("mws", 4, 10, [1, 1], [1, 1, 1])


def test_estimate_all_matches_individual_estimators():
    g = torch.Generator().manual_seed(9)
    s = figure2_latents(3, 0.5, 64, generator=g)
    est = estimate_all(s, 1000, chunk=16)
    assert set(est) == {"mws", "mws_noconst", "mss0", "mss1"}
    # same arithmetic (chunked rows vs full): float64 round-off only
    assert est["mws"] == pytest.approx(float(mws(s.z, s.mu, s.logvar, 1000).tc), abs=1e-10)
    assert est["mws_noconst"] == pytest.approx(float(mws(s.z, s.mu, s.logvar, 1000, constants=False).tc), abs=1e-10)
    assert est["mss0"] == pytest.approx(float(mss(s.z, s.mu, s.logvar, 1000, weights="mss0").tc), abs=1e-10)
    assert est["mss1"] == pytest.approx(float(mss(s.z, s.mu, s.logvar, 1000).tc), abs=1e-10)


def test_density_ratio_leaves_the_callers_torch_rng_alone(one_thread):
    z = torch.randn(600, 2, generator=torch.Generator().manual_seed(3))
    torch.manual_seed(123)
    expected_next = torch.rand(4)
    torch.manual_seed(123)
    r1 = density_ratio_estimate(z, steps=5, hidden=16, layers=2, batch_size=64, seed=7)
    assert torch.equal(torch.rand(4), expected_next)  # the global stream continues as if nothing ran
    r2 = density_ratio_estimate(z, steps=5, hidden=16, layers=2, batch_size=64, seed=7)
    assert r1.tc_heldout == r2.tc_heldout and r1.losses == r2.losses  # still a deterministic function of the seed
