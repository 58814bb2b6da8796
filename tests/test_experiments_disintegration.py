"""Known answers for the controlled disintegration codes and the analyses of rtc.experiments.disintegration."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.claims import Thresholds
from rtc.experiments.disintegration import (
    closed_forms,
    deficit_summary,
    evaluate_synthetic,
    pair_gain_table,
    spearman_bootstrap,
    split_r2,
    synthetic_code,
    top_pair_dependence,
)
from rtc.metrics import histogram_discretize, mig, r2_matrix, sap

FAST = dict(scores=False, chen_samples=50)


def _value(df, scope, metric):
    row = df[(df.scope == scope) & (df.metric == metric)]
    assert len(row) == 1, (scope, metric)
    return float(row.value.iloc[0]), float(row.closed_form.iloc[0])


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_clean_split_sap_and_mig_equal_closed_forms(k):
    code = synthetic_code("split", k=k, m=3, other_sizes=(4, 2))
    df = evaluate_synthetic(code, **FAST)
    for scope in ("factor 0", "model"):
        for metric in ("sap_r2", "mig_ref"):
            v, c = _value(df, scope, metric)
            assert v == pytest.approx(c, abs=1e-12), (scope, metric)
    # the closed forms themselves, by hand for m = 3: R²_j = 9^(k−j)·8/(9^k − 1)
    r2 = split_r2(3, k)
    assert r2.sum() == pytest.approx(1.0, abs=1e-15)
    if k >= 2:
        assert _value(df, "factor 0", "sap_r2")[1] == pytest.approx((9 ** (k - 1) - 9 ** (k - 2)) * 8 / (9 ** k - 1))
        assert _value(df, "factor 0", "mig_ref")[1] == 0.0


def test_control_flag_fires_only_where_another_latent_still_splits_the_factor():
    # k = 2: the flagged pair's second latent permuted, nothing else carries factor 0 — the control is clean
    two = synthetic_code("split", k=2, m=4, other_sizes=(3,), noise=0.02, seed=1)
    t = pair_gain_table(two.codes, two.factors, score="nmi").iloc[0]
    assert t.disintegrated and t.captured and not t.control
    # k = 3: the third digit latent takes the second place on the control code, and that split is real
    three = synthetic_code("split", k=3, m=3, other_sizes=(3,), noise=0.02, seed=1)
    t = pair_gain_table(three.codes, three.factors, score="nmi").iloc[0]
    assert t.disintegrated and t.control
    # the identity code: nothing flagged, on the codes or the controls
    ident = synthetic_code("split", k=1, m=6, other_sizes=(5, 3), noise=0.02, seed=1)
    t = pair_gain_table(ident.codes, ident.factors, score="nmi")
    assert not t.disintegrated.any() and not t.control.any() and t.captured.all()


def test_identity_code_is_perfect_and_not_flagged():
    code = synthetic_code("split", k=1, m=6, other_sizes=(5, 3))
    assert np.array_equal(code.codes, code.clean)
    s, g = sap(code.codes, code.factors, continuous=True), mig(code.codes, code.factors)
    np.testing.assert_allclose(s.per_factor, 1.0, atol=1e-12)
    np.testing.assert_allclose(g.per_factor, 1.0, atol=1e-12)
    df = evaluate_synthetic(code, **FAST)
    assert _value(df, "factor 0", "flag_r2")[0] == 0.0 and _value(df, "factor 0", "flag_nmi")[0] == 0.0
    for score in ("r2", "nmi"):
        t = pair_gain_table(code.codes, code.factors, score=score)
        np.testing.assert_allclose(t.deficit, 0.0, atol=1e-12)
        np.testing.assert_allclose(t.explained, 0.0, atol=1e-12)
        assert math.isnan(deficit_summary(t)["share"])


@pytest.mark.parametrize("m", [2, 7, 13, 20])
def test_binning_is_lossless_up_to_twenty_values(m):
    code = synthetic_code("split", k=1, m=m, other_sizes=(2,))
    assert len(np.unique(histogram_discretize(code.codes, 20)[:, 0])) == m


def test_split_is_factorised_and_flagged_by_nmi():
    code = synthetic_code("split", k=2, m=4, other_sizes=(3,))
    df = evaluate_synthetic(code, **FAST)
    assert _value(df, "factor 0", "flag_nmi")[0] == 1.0
    assert _value(df, "factor 0", "pair_nmi")[0] == pytest.approx(0.0, abs=1e-12)
    # the two digit latents are exactly uncorrelated on the full grid
    assert abs(np.corrcoef(code.codes[:, 0], code.codes[:, 1])[0, 1]) < 1e-12
    # a clean two-way split: the merged-pair analysis explains the whole deficit, under both scores
    for score in ("r2", "nmi"):
        t = pair_gain_table(code.codes, code.factors, score=score)
        row = t.iloc[0]
        assert row.joint == pytest.approx(1.0, abs=1e-12)
        assert row.gain == pytest.approx(row.s2, abs=1e-12)
        assert row.explained == pytest.approx(row.deficit, abs=1e-12)
        assert deficit_summary(t)["share"] == pytest.approx(1.0, abs=1e-12)


def test_dependent_split_is_uncorrelated_but_dependent():
    code = synthetic_code("dependent", m=8, other_sizes=(3,))
    assert abs(np.corrcoef(code.codes[:, 0], code.codes[:, 1])[0, 1]) < 1e-12
    df = evaluate_synthetic(code, **FAST)
    v, c = _value(df, "factor 0", "mig_ref")
    assert v == pytest.approx(math.log(2) / math.log(8), abs=1e-12) and c == pytest.approx(v, abs=1e-15)
    assert _value(df, "factor 0", "sap_r2")[0] == pytest.approx(1.0, abs=1e-12)
    assert _value(df, "factor 0", "pair_nmi")[0] == pytest.approx(1.0, abs=1e-12)  # a function of the other
    assert _value(df, "factor 0", "flag_nmi")[0] == 0.0   # dependence is not disintegration
    noisy = synthetic_code("dependent", m=8, other_sizes=(3,), noise=0.02, seed=1)
    dep = top_pair_dependence(noisy.codes, 0, 1, max_points=1000)
    # KSG is biased towards 0 for strong dependence (24 tight clusters here): 0.39 nats measured, log 4 true
    assert abs(dep["corr"]) < 0.05 and dep["knn_mi"] > 0.3 and dep["excess_mi"] > 0.3
    split = synthetic_code("split", k=2, m=4, other_sizes=(3,), noise=0.02, seed=1)
    assert top_pair_dependence(split.codes, 0, 1, max_points=1000)["knn_mi"] < 0.1


def test_pair_dependence_tolerates_repeated_rows():
    # encoding uniformly drawn factors repeats images, so encoder means repeat rows; a row repeated more than k
    # times makes KSG raise (pairwise_dependence on `repeated` raises "duplicate samples")
    code = synthetic_code("split", k=2, m=4, other_sizes=(3,), noise=0.05, seed=2)
    repeated = np.concatenate([code.codes, np.repeat(code.codes[:1], 5, axis=0)])
    dep = top_pair_dependence(repeated, 0, 1, max_points=5000)
    assert np.isfinite(dep["knn_mi"]) and dep == top_pair_dependence(code.codes, 0, 1, max_points=5000)
    const = np.column_stack([code.codes[:, 0], np.ones(len(code.codes))])
    assert all(math.isnan(v) for v in top_pair_dependence(const, 0, 1).values())


@pytest.mark.parametrize("alpha", [0.0, 0.3, math.pi / 8, math.pi / 4, 1.2])
def test_rotation_sap_is_abs_cos_two_alpha(alpha):
    code = synthetic_code("rotation", m=5, alpha=alpha, other_sizes=(4, 3))
    s = sap(code.codes, code.factors, continuous=True)
    np.testing.assert_allclose(s.per_factor[:2], abs(math.cos(2 * alpha)), atol=1e-12)
    r2 = r2_matrix(code.codes, code.factors)
    np.testing.assert_allclose(r2[0, 0], math.cos(alpha) ** 2, atol=1e-12)
    np.testing.assert_allclose(r2[1, 0], math.sin(alpha) ** 2, atol=1e-12)
    cf = closed_forms("rotation", m=5, num_factors=3, alpha=alpha)
    assert cf["sap_r2"][1] == pytest.approx(s.score, abs=1e-12)
    # Entangled, not disintegrated: the merged-pair analysis explains nothing. (At exactly α = π/4 both latents
    # score ½ for both factors and "dedicated" is decided by a tie, so that angle is left out here.)
    if 0 < alpha < math.pi / 2 and abs(alpha - math.pi / 4) > 1e-6:
        assert (pair_gain_table(code.codes, code.factors, score="r2").explained[:2] == 0).all()


def test_noise_shrinks_sap_towards_the_population_value():
    code = synthetic_code("split", k=2, m=4, other_sizes=(5, 4), noise=0.5, seed=3)
    v, c = _value(evaluate_synthetic(code, **FAST), "model", "sap_r2")
    assert c == pytest.approx((closed_forms("split", k=2, m=4, num_factors=3)["sap_r2"][1]) / 1.25)
    assert v == pytest.approx(c, abs=0.02)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(2, 6), k=st.integers(1, 3), seed=st.integers(0, 10 ** 6))
def test_split_digits_exactly_independent_and_metrics_permutation_invariant(m, k, seed):
    code = synthetic_code("split", k=k, m=m, other_sizes=(3,))
    d = histogram_discretize(code.codes[:, :k], 20)
    # independence: the empirical joint of the digits is the product of their (uniform) marginals
    joint = np.unique(d, axis=0, return_counts=True)[1]
    assert len(joint) == m ** k and (joint == joint[0]).all()
    perm = np.random.default_rng(seed).permutation(code.codes.shape[1])
    for f in (lambda c: sap(c, code.factors, continuous=True).per_factor, lambda c: mig(c, code.factors).per_factor):
        np.testing.assert_allclose(f(code.codes[:, perm]), f(code.codes), atol=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    (dict(k=0), "k must"), (dict(m=1), "m must"), (dict(m=21), "m must"), (dict(noise=-0.1), "noise must"),
    (dict(noise=float("nan")), "noise must"), (dict(k=2.0), "k must be an int"),
    (dict(other_sizes=(1,)), r"other_sizes\[0\]"),
])
def test_bad_arguments_raise_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        synthetic_code("split", **kwargs)


def test_bad_modes_and_combinations_raise():
    with pytest.raises(ValueError, match="mode must"):
        synthetic_code("spilt")
    with pytest.raises(ValueError, match="even m"):
        synthetic_code("dependent", m=5)
    with pytest.raises(ValueError, match="alpha"):
        synthetic_code("rotation", alpha=float("nan"))
    with pytest.raises(ValueError, match="k applies"):
        synthetic_code("rotation", k=2)
    with pytest.raises(ValueError, match="score must"):
        pair_gain_table(np.zeros((4, 2)), np.zeros((4, 1), dtype=int), score="mi")
    with pytest.raises(ValueError, match="level"):
        spearman_bootstrap([1, 2, 3], [1, 2, 3], level=1.5)
    with pytest.raises(ValueError, match="min_runs"):
        Thresholds(min_runs=2)


def test_spearman_bootstrap_known_answers():
    x = np.arange(10.0)
    r = spearman_bootstrap(x, -x ** 3, repeats=200, seed=0)
    assert r["rho"] == pytest.approx(-1.0) and r["hi"] == pytest.approx(-1.0) and r["n"] == 10
    same = spearman_bootstrap(x, x, repeats=50, seed=4), spearman_bootstrap(x, x, repeats=50, seed=4)
    assert same[0] == same[1]
    r = spearman_bootstrap([1.0, np.nan, 2.0], [1.0, 2.0, 3.0])
    assert r["n"] == 2 and math.isnan(r["rho"])
