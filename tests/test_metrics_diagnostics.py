"""TC diagnostics and the factor-disintegration measure (rtc.metrics.diagnostics)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_synthetic import full_grid

from rtc.metrics import disintegration, disintegration_index, normalized_mi_matrix, r2_matrix, tc_diagnostics


def test_gaussian_tc_matches_closed_form_mean_and_sample():
    rng = np.random.default_rng(0)
    rho, n = 0.8, 20000
    mu = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    z = mu + rng.normal(0, 1, size=mu.shape)  # Σ + I: correlation ρ/2
    t = tc_diagnostics(mu, z, knn=False)
    # closed form −½ log(1 − ρ²); the sample correlation has sd ≈ (1 − ρ²)/√N = 0.0025 → TC sd ≈ 0.006
    assert t.tc_mean == pytest.approx(-0.5 * math.log(1 - rho ** 2), abs=0.03)
    assert t.tc_sample == pytest.approx(-0.5 * math.log(1 - (rho / 2) ** 2), abs=0.03)
    assert t.active_dims == 2 and t.knn_tc_mean is None


def test_constant_latent_adds_nothing_and_collinear_is_infinite():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((500, 2))
    base = tc_diagnostics(x, knn=False).tc_mean
    with_const = tc_diagnostics(np.concatenate([x, np.full((500, 1), 3.0)], 1), knn=False)
    assert with_const.tc_mean == pytest.approx(base, abs=1e-12)
    assert with_const.active_dims == 2
    # exactly collinear: |R| is round-off (≲ 1e-14) → −½ log|R| ≥ 15, or inf when Cholesky fails
    assert tc_diagnostics(np.stack([x[:, 0], 2 * x[:, 0]], 1), knn=False).tc_mean > 15


def test_constant_latent_with_round_off_variance_is_dropped_from_both_estimates():
    # Regression: np.var of a constant 0.3 column is ~1e-33, not 0, so the column was kept, scaled by
    # 1/std ~ 1e15 and the kNN TC came out NaN. Expected: the TC of the other latents.
    rng = np.random.default_rng(1)
    x = rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], 600)
    const = np.concatenate([x, np.full((600, 1), 0.3)], 1)
    assert const[:, 2].var() > 0
    base, t = tc_diagnostics(x, knn_max_points=600), tc_diagnostics(const, knn_max_points=600)
    assert t.knn_tc_mean == pytest.approx(base.knn_tc_mean, abs=1e-12)
    assert t.tc_mean == pytest.approx(base.tc_mean, abs=1e-12)
    assert t.active_dims == 2


def test_knn_column_present():
    rng = np.random.default_rng(2)
    t = tc_diagnostics(rng.standard_normal((800, 3)), rng.standard_normal((800, 3)), knn_max_points=800)
    assert abs(t.knn_tc_mean) < 0.1 and abs(t.knn_tc_sample) < 0.1  # independent → ≈ 0
    f = np.repeat(np.arange(4), 100)[:, None] * np.ones((1, 2))  # duplicate rows → NaN, not an exception
    assert math.isnan(tc_diagnostics(f, knn_max_points=400).knn_tc_mean)


def test_disintegration_hand_case():
    m = np.array([[0.6, 0.0], [0.3, 0.1], [0.1, 0.9]])
    t = disintegration(m, factor_names=["a", "b"])
    r = t.iloc[0]
    assert (r.top_latent, r.second_latent) == (0, 1)
    assert r.gap == pytest.approx(0.3) and r.split_ratio == pytest.approx(0.5)
    assert r.effective_latents == pytest.approx(1.0 / (0.36 + 0.09 + 0.01))  # (Σs)² = 1
    assert r.n_comparable == 2 and bool(r.dedicated) and bool(r.disintegrated)
    assert not t.iloc[1].disintegrated  # 0.1 / 0.9 < 0.5
    # factor b's second latent (1) mainly represents a: not dedicated → counts 0 in the index
    assert not bool(t.iloc[1].dedicated)
    assert disintegration_index(t) == pytest.approx((0.5 + 0.0) / 2)
    # entangled: latent 1 mainly represents factor b, so factor a's split is not disintegration
    ent = disintegration(np.array([[0.6, 0.0], [0.4, 0.8]]))
    assert not bool(ent.loc[0, "dedicated"]) and not bool(ent.loc[0, "disintegrated"])


def test_split_factor_is_flagged_and_redundant_copy_is_not():
    g = full_grid((6, 4), repeat=2)
    v, w = g[:, 0], g[:, 1]
    split = np.stack([v // 3, v % 3, w], 1).astype(float)
    t = disintegration(normalized_mi_matrix(split, g), codes=split)
    # split ratio log 2 / log 3 = 0.63; the two latents are exactly independent on the grid
    assert t.loc[0, "split_ratio"] == pytest.approx(math.log(2) / math.log(3), abs=1e-12)
    assert t.loc[0, "pair_nmi"] == pytest.approx(0.0, abs=1e-12)
    assert bool(t.loc[0, "disintegrated"]) and not bool(t.loc[1, "disintegrated"])
    # captured factors 0 (ρ = log 2/log 3, dedicated) and 1 (ρ = 0: the other latents carry nothing)
    assert disintegration_index(t) == pytest.approx(math.log(2) / math.log(3) / 2, abs=1e-12)
    # R² sees the coarse digit dominate: ratio (8/35)/(27/35) = 8/27 < 0.5, not flagged
    tr = disintegration(r2_matrix(split, g), codes=split)
    assert tr.loc[0, "split_ratio"] == pytest.approx(8 / 27, abs=1e-12) and not bool(tr.loc[0, "disintegrated"])
    copy = np.stack([v, v * 2.0, w], 1)
    tc = disintegration(normalized_mi_matrix(copy, g), codes=copy)
    assert tc.loc[0, "split_ratio"] == pytest.approx(1.0) and tc.loc[0, "pair_nmi"] == pytest.approx(1.0)
    assert not bool(tc.loc[0, "disintegrated"])  # dependent copies: redundancy, not disintegration


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=8).filter(lambda s: max(s) > 0.01),
       st.floats(0.1, 10.0))
def test_disintegration_invariants(col, c):
    m = np.array(col)[:, None]
    r = disintegration(m).iloc[0]
    assert r.gap == pytest.approx(r.top1 * (1 - r.split_ratio), abs=1e-12)  # gap = s₁(1 − ρ)
    assert 1 - 1e-12 <= r.effective_latents <= len(col) + 1e-12
    scaled = disintegration(m * c).iloc[0]  # ratios are scale-free
    assert scaled.split_ratio == pytest.approx(r.split_ratio, rel=1e-9)
    assert scaled.effective_latents == pytest.approx(r.effective_latents, rel=1e-9)
