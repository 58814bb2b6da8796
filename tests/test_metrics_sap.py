"""SAP (rtc.metrics.sap): known answers, the split-factor case, hand-computed R², invariances."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_synthetic import full_grid

from rtc.metrics import r2_matrix, sap, top_two_gap

GRID = full_grid((6, 4), repeat=2)  # exactly uniform, exactly independent factors


def test_identity_and_permuted_scaled_identity_score_one():
    # On the full grid R²(z_j, v_k) is exactly 1 on the matching pair and exactly 0 elsewhere
    # (zero sample covariance); 1e-12 covers float round-off in the moments.
    assert sap(GRID.astype(float), GRID, continuous=True).score == pytest.approx(1.0, abs=1e-12)
    codes = np.stack([GRID[:, 1] * -3.0 + 1, np.zeros(len(GRID)) + 2.0, GRID[:, 0] * 0.1], 1)
    r = sap(codes, GRID, continuous=True)
    assert r.score == pytest.approx(1.0, abs=1e-12)
    assert r.matrix[1].tolist() == [0.0, 0.0]  # the constant latent scores 0


def test_constant_and_noise_codes_score_about_zero():
    rng = np.random.default_rng(0)
    f = rng.integers(5, size=(4000, 3))
    assert sap(np.ones((4000, 4)), f, continuous=True).score == 0.0
    # noise: every R² ~ chi²_1/N ≈ 2.5e-4 here; 0.01 is > 10 standard deviations above
    assert sap(rng.standard_normal((4000, 4)), f, continuous=True).score < 0.01


def test_split_factor_lowers_sap_by_the_closed_form():
    # factor 0, v ∈ {0..5} = 3a + b split over z1 = a (2 values) and z2 = b (3 values), independent on the grid.
    # R²(a, v) = 9·Var a / Var v = 9·(3/12) / (35/12) = 27/35, R²(b, v) = Var b / Var v = 8/35.
    v, w = GRID[:, 0], GRID[:, 1]
    codes = np.stack([v // 3, v % 3, w], 1).astype(float)
    r = sap(codes, GRID, continuous=True)
    assert r.matrix[:, 0] == pytest.approx([27 / 35, 8 / 35, 0.0], abs=1e-12)
    assert r.score == pytest.approx((19 / 35 + 1) / 2, abs=1e-12)


def test_r2_hand_case():
    z = np.array([[0.0], [1.0], [2.0], [4.0]])
    v = np.array([[0], [1], [1], [2]])
    # by hand: z̄ = 7/4, v̄ = 1; Σ(z−z̄)(v−v̄) = (−7/4)(−1) + 0 + 0 + (9/4)(1) = 4 (rows z=1,2 have v−v̄ = 0);
    # Σ(z−z̄)² = 49/16 + 9/16 + 1/16 + 81/16 = 35/4; Σ(v−v̄)² = 2 → R² = 4² / (35/4 · 2) = 32/35
    assert r2_matrix(z, v)[0, 0] == pytest.approx(32 / 35, rel=1e-12)  # rel 1e-12: four-term float sums


def test_top_two_gap_hand_case():
    m = np.array([[0.9, 0.1], [0.5, 0.2], [0.0, 0.7]])
    assert top_two_gap(m) == pytest.approx([0.4, 0.5])


def test_svc_variant_identity_and_noise():
    rng = np.random.default_rng(0)
    f = rng.integers(2, size=(900, 2))
    r = sap(f.astype(float), f, continuous=False)
    # a binary factor read off its own latent: the SVC separates it perfectly, the other latent is chance
    assert r.matrix.diagonal() == pytest.approx([1.0, 1.0])
    assert r.score > 0.35  # gaps ≈ 1 − 0.5 (chance on the other latent) ± sampling
    noise = sap(rng.standard_normal((900, 3)), f, continuous=False)
    assert noise.score < 0.15  # all accuracies ≈ 0.5 ± 0.03 on 300 test points


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.1, 10), min_size=3, max_size=3), st.lists(st.floats(-5, 5), min_size=3, max_size=3),
       st.permutations([0, 1, 2]))
def test_sap_r2_invariant_to_affine_maps_and_permutation(scale, shift, perm):
    rng = np.random.default_rng(1)
    f = rng.integers(6, size=(300, 2))
    codes = np.stack([f[:, 0] + rng.normal(0, 1, 300), f[:, 1] * 1.0, rng.normal(size=300)], 1)
    base = sap(codes, f, continuous=True).score
    sign = np.array([1, -1, 1])
    moved = (codes * np.array(scale) * sign + np.array(shift))[:, perm]
    # R² is a squared correlation: exactly invariant in exact arithmetic; 1e-9 allows float round-off
    assert sap(moved, f, continuous=True).score == pytest.approx(base, abs=1e-9)
