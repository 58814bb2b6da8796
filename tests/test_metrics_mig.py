"""MIG (rtc.metrics.mig), both conventions: known answers, split factor, hand arithmetic, invariances."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_synthetic import full_grid

from rtc.metrics import MetricInputError, mig, mig_chen, mig_from_mi

GRID = full_grid((6, 4), repeat=2)


def test_identity_is_exactly_one_on_the_grid():
    # full grid: plug-in MI of independent factors is exactly 0, of a latent with its factor exactly H(v)
    r = mig(GRID.astype(float), GRID)
    assert r.score == pytest.approx(1.0, abs=1e-12)
    assert r.entropy == pytest.approx([np.log(6), np.log(4)], abs=1e-12)
    assert r.convention == "ref"
    perm = mig(np.stack([GRID[:, 1] * 7.0, GRID[:, 0] * 0.01], 1), GRID)  # permuted, rescaled
    assert perm.score == pytest.approx(1.0, abs=1e-12)


def test_constant_and_noise_codes_score_about_zero():
    rng = np.random.default_rng(0)
    f = rng.integers(5, size=(5000, 3))
    assert mig(np.ones((5000, 4)), f).score == 0.0
    # plug-in bias per cell ≈ 19·4/(2·5000) = 0.008 nats, /log 5 → < 0.01; gaps are differences of those
    assert mig(rng.standard_normal((5000, 4)), f).score < 0.02


def test_split_factor_lowers_mig_by_the_closed_form():
    v, w = GRID[:, 0], GRID[:, 1]
    codes = np.stack([v // 3, v % 3, w], 1).astype(float)
    r = mig(codes, GRID)
    # I(a; v) = log 2, I(b; v) = log 3 (functions of v), normalized by log 6; gap = log(3/2)/log 6
    assert r.normalized[:, 0] == pytest.approx([np.log(2) / np.log(6), np.log(3) / np.log(6), 0.0], abs=1e-12)
    assert r.score == pytest.approx((np.log(1.5) / np.log(6) + 1) / 2, abs=1e-12)


def test_mig_from_mi_hand_case():
    mi = np.array([[1.0, 0.2], [0.5, 0.1], [0.0, 0.6]])
    r = mig_from_mi(mi, [2.0, 1.0])
    # factor 0: (1.0 − 0.5)/2 = 0.25; factor 1: (0.6 − 0.2)/1 = 0.4
    assert r.per_factor == pytest.approx([0.25, 0.4])
    assert r.score == pytest.approx(0.325)
    with pytest.raises(MetricInputError, match="entropies must be > 0"):
        mig_from_mi(mi, [0.0, 1.0])


@settings(max_examples=20, deadline=None)
@given(st.permutations([0, 1, 2]), st.lists(st.floats(0.01, 100), min_size=3, max_size=3))
def test_mig_invariant_to_permutation_and_positive_scaling(perm, scale):
    rng = np.random.default_rng(2)
    f = rng.integers(4, size=(400, 2))
    codes = np.stack([f[:, 0] + rng.normal(0, 0.3, 400), rng.normal(size=400), f[:, 1] * 1.0], 1)
    base = mig(codes, f).score
    # equal-width bins move with a positive affine map; 1e-9 allows an entry sitting on a bin edge to be
    # unaffected (none here with continuous noise), i.e. this is exact up to round-off
    assert mig((codes * np.array(scale))[:, perm], f).score == pytest.approx(base, abs=1e-9)


def test_chen_identity_noise_and_exclude():
    rng = np.random.default_rng(0)
    f = rng.integers(4, size=(1200, 2))
    mean = np.concatenate([f.astype(float), rng.standard_normal((1200, 1))], 1)
    logvar = np.full(mean.shape, np.log(0.05 ** 2))
    r = mig_chen(mean, logvar, f, num_samples=600, seed=0)
    assert r.convention == "chen"
    # the matched latent carries ≈ all of H(v) (components 1 apart, σ = 0.05); Monte Carlo
    # error of each entropy ≈ 0.05 nats over log 4 = 1.39 → 0.85 leaves room
    assert r.score > 0.85
    assert r.normalized[:, 0].argmax() == 0 and r.normalized[:, 1].argmax() == 1
    noise = mig_chen(rng.standard_normal((1200, 3)), np.zeros((1200, 3)), f, num_samples=600)
    assert noise.score < 0.1  # σ = 1 noise codes: I ≈ 0 up to Monte Carlo error
    ex = mig_chen(mean, logvar, f, exclude=(0,), num_samples=300)
    assert ex.factors == (1,) and ex.mi.shape == (3, 1)
    with pytest.raises(MetricInputError, match="logvar must have the shape"):
        mig_chen(mean, logvar[:, :2], f)
