"""rtc.claims: the paired interval and the equivalence rule, on hand-computed cases."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.claims import (
    VERDICTS,
    Interval,
    Observation,
    Thresholds,
    agreement,
    compare_verdicts,
    equivalence_verdict,
    observation_texts,
    paired_difference,
    stage_agreement,
    threshold_text,
    verdict_counts,
    verdict_table,
    with_active,
)


def test_paired_difference_hand_computed():
    # differences 1, 2, 3: mean 2, sd 1, t(0.95, 2) = 2.919986 -> half width 2.919986 / sqrt(3) = 1.685854
    r = paired_difference([0, 0, 0], [1, 2, 3], level=0.9)
    assert r["n"] == 3 and r["mean"] == 2 and r["sd"] == pytest.approx(1.0)
    assert r["lo"] == pytest.approx(2 - 1.685854, abs=1e-6) and r["hi"] == pytest.approx(2 + 1.685854, abs=1e-6)


def test_pairing_removes_the_shared_seed_effect():
    seed_effect = np.array([10.0, -7.0, 3.0, 0.5])
    r = paired_difference(seed_effect, seed_effect + 0.25)
    assert r["mean"] == pytest.approx(0.25) and r["lo"] == pytest.approx(0.25) and r["hi"] == pytest.approx(0.25)


def test_nan_pairs_dropped_and_one_pair_gives_no_interval():
    r = paired_difference([1.0, np.nan, 2.0], [2.0, 5.0, np.nan])
    assert r["n"] == 1 and r["mean"] == 1.0 and math.isnan(r["lo"]) and math.isnan(r["hi"])
    with pytest.raises(ValueError):
        paired_difference([1, 2], [1, 2, 3])


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=20), st.floats(-100, 100))
@settings(max_examples=100, deadline=None)
def test_interval_contains_the_mean_and_shifts_with_it(xs, shift):
    a = np.array(xs)
    r = paired_difference(a, a + shift + np.linspace(0, 1, len(a)))
    assert r["lo"] <= r["mean"] <= r["hi"]


@pytest.mark.parametrize("lo, hi, margin, want", [(-0.1, 0.2, 0.5, "equivalent"), (0.6, 1.0, 0.5, "different"),
                                                  (-1.2, -0.5, 0.5, "different"), (-0.2, 0.7, 0.5, "inconclusive"),
                                                  (-2.0, 2.0, 0.5, "inconclusive"),
                                                  (float("nan"), 0.1, 0.5, "inconclusive"),
                                                  (-0.1, 0.1, 0.0, "inconclusive")])
def test_equivalence_verdict(lo, hi, margin, want):
    assert equivalence_verdict(lo, hi, margin) == want


# ------------------------------------------------------------------------------------------------ shared rules

def _obs(verdict, evidence="e"):
    return Observation("c", verdict, f"{verdict}!", evidence)


def test_verdict_counts_and_observation_texts():
    obs = {"a": _obs("confirmed"), "b_c": _obs("partly", ""), "d": _obs("confirmed")}
    assert verdict_counts(obs) == {"confirmed": 2, "partly": 1, "refuted": 0, "inconclusive": 0, "not converged": 0,
                                   "holds, still moving": 0, "not reproduced, still moving": 0}
    assert list(verdict_counts(obs.values())) == list(VERDICTS)
    with pytest.raises(ValueError, match="maybe"):
        verdict_counts([_obs("maybe")])
    texts = observation_texts(obs)
    assert {k: v for k, v in texts.items() if k.endswith(("-verdict", "-evidence"))} == {
        "claim-a-verdict": "confirmed!", "claim-a-evidence": "e", "claim-b_c-verdict": "partly!",
        "claim-b_c-evidence": "No runs.", "claim-d-verdict": "confirmed!", "claim-d-evidence": "e"}
    # what a built book is read back by: the bare verdict, the interval's text, the active view
    assert texts["claim-a-result"] == "confirmed" and texts["claim-a-interval"] == "none"
    assert texts["claim-a-active"] == ""
    # and the two verdicts a trained claim's combines, "not computed" where the chapter did not compute one
    assert texts["claim-a-end"] == texts["claim-a-half"] == "not computed"
    nc = Observation("c", "not converged", "not converged", "", end="refuted", half="confirmed")
    t = observation_texts({"y": nc})
    assert (t["claim-y-result"], t["claim-y-end"], t["claim-y-half"]) == ("not converged", "refuted", "confirmed")
    iv = Interval(1.0, 0.5, 1.5, 3, "paired seeds")
    o = Observation("c", "confirmed", "confirmed", "", {"active_verdict": "refuted"}, interval=iv)
    t = observation_texts({"x": o})
    assert t["claim-x-interval"] == iv.text() and t["claim-x-active"] == "refuted"


def test_threshold_text_reads_the_side():
    o = lambda side, t=0.25: Observation("c", "confirmed", "s", "e", {"side": side}, threshold=t)  # noqa: E731
    assert threshold_text(o("above")) == "> 0.25" and threshold_text(o("below")) == "< 0.25"
    assert threshold_text(o("inside", 0.5)) == "inside ±0.5"
    assert threshold_text(o("band", 0.5)) == "< −0.5 (inside ±0.5: refuted)"
    assert threshold_text(Observation("c", "confirmed", "s", "e")) == ""


def test_with_active_says_where_the_views_differ():
    full = {"a": _obs("confirmed"), "b": _obs("refuted"), "c": _obs("inconclusive")}
    active = {"a": _obs("confirmed"), "b": _obs("inconclusive")}
    out = with_active(full, active)
    assert out["a"].summary == "confirmed!" and out["a"].values["active_verdict"] == "confirmed"
    assert out["b"].summary == "refuted! (over the active latents: inconclusive)"
    assert out["b"].verdict == "refuted"           # the verdict itself is the one over all latents
    assert out["c"] is full["c"]                  # not judged over the active latents: left as it was


def test_verdict_table_one_row_per_claim():
    iv = Interval(0.8, 0.6, 1.0, 3, "paired seeds")
    claims = {"a": Observation("claim a", "confirmed", "s", "e", {"side": "above", "active_verdict": "refuted"},
                               interval=iv, threshold=0.25, seeds=3, regime="in band: 3 of 3", half="confirmed"),
              "b": Observation("claim b", "inconclusive", "s", "e", {"side": "below"}, threshold=1.0)}
    t = verdict_table(claims, {"a": ("Fig. 3", "TC gap")})
    assert list(t.columns) == ["claim", "in the paper", "quantity", "interval", "threshold", "seeds", "regime",
                               "half training", "verdict", "active latents"]
    assert t.iloc[0].tolist() == ["claim a", "Fig. 3", "TC gap", iv.text(), "> 0.25", 3, "in band: 3 of 3",
                                  "confirmed", "confirmed", "refuted"]
    assert t.iloc[1].tolist() == ["claim b", "", "", "none", "< 1", 0, "", "not computed", "inconclusive", ""]
    bare = verdict_table({"b": claims["b"]})     # columns blank for every claim are left out
    assert list(bare.columns) == ["claim", "interval", "threshold", "seeds", "half training", "verdict"]


def test_agreement_and_compare_verdicts():
    assert agreement("confirmed", "confirmed") == "same"
    assert agreement("confirmed", "inconclusive") == "one undecided"
    assert agreement("not converged", "refuted") == "one undecided"
    assert agreement("refuted", "confirmed") == agreement("confirmed", "refuted") == "contradiction"
    with pytest.raises(ValueError, match="maybe"):
        agreement("maybe", "confirmed")
    a = {"x": ("confirmed", "1 [0.5, 1.5]"), "y": ("refuted", "none")}
    b = {"y": ("confirmed", "2"), "z": ("inconclusive", "none")}
    t = compare_verdicts(a, b, labels=("s0-2", "s3-5"))
    assert list(t.columns) == ["claim", "verdict s0-2", "interval s0-2", "verdict s3-5", "interval s3-5", "agreement",
                               "end s0-2", "end s3-5", "end agreement", "half s0-2", "half s3-5", "half agreement"]
    assert t.claim.tolist() == ["x", "y", "z"]
    assert t.agreement.tolist() == ["missing", "contradiction", "missing"]
    assert t.iloc[1]["interval s3-5"] == "2"
    # builds without end and half verdicts (older ones): missing, shown as not glued, never guessed
    assert t["end agreement"].tolist() == t["half agreement"].tolist() == ["missing"] * 3
    assert t.iloc[1]["end s0-2"] == t.iloc[1]["half s3-5"] == "not glued"


def test_compare_verdicts_sees_end_and_half_contradictions_behind_not_converged():
    """Both builds "not converged": the combined verdicts agree, yet the end verdicts contradict (x), or the half
    verdicts do (y), or neither (z); a half verdict not computed in one build leaves it undecided (w)."""
    a = {"x": ("not converged", "i", "confirmed", "refuted"), "y": ("not converged", "i", "refuted", "confirmed"),
         "z": ("confirmed", "i", "confirmed", "confirmed"), "w": ("refuted", "i", "refuted", "not computed")}
    b = {"x": ("not converged", "i", "refuted", "confirmed"), "y": ("refuted", "i", "refuted", "refuted"),
         "z": ("confirmed", "i", "confirmed", "not computed"), "w": ("refuted", "i", "refuted", "not computed")}
    t = compare_verdicts(a, b).set_index("claim")
    assert t.agreement.tolist() == ["same", "one undecided", "same", "same"]
    assert t["end agreement"].tolist() == ["contradiction", "same", "same", "same"]
    assert t["half agreement"].tolist() == ["contradiction", "contradiction", "one undecided", "not computed"]
    assert (t.loc["x", "end A"], t.loc["x", "end B"]) == ("confirmed", "refuted")
    assert stage_agreement(None, "confirmed") == "missing" and stage_agreement("partly", "partly") == "same"
    with pytest.raises(ValueError, match="maybe"):
        stage_agreement("maybe", "confirmed")


def test_thresholds_are_documented_fields():
    doc = Thresholds.__doc__
    for f in Thresholds.__dataclass_fields__:
        assert f in doc, f


def test_comparison_thresholds_keep_their_values():
    """The comparison's verdicts were fixed with these values before its runs; a change must be deliberate."""
    t = Thresholds()
    assert (t.learned, t.disparity_abs, t.disparity_rel, t.none_rel, t.much_lower, t.comparable, t.recon_worse,
            t.strong_rho, t.knn_excess, t.most, t.few) == (0.5, 0.25, 0.5, 0.25, 0.5, 2.0, 0.05, 0.5, 1.0, 0.9, 0.1)


# ---------------------------------------------------------------------------------------- interval rules
from rtc.claims import (  # noqa: E402
    band_verdict,
    bootstrap_interval,
    convergence_verdict,
    interval_verdict,
    paired_interval,
    seed_interval,
)


def test_seed_interval_known_answer():
    # mean 2, sd 1, n = 3: half-width t_{0.95, 2} · 1/√3 = 2.919986 / 1.7320508 = 1.685854
    iv = seed_interval([1.0, 2.0, 3.0])
    assert iv.estimate == 2.0 and iv.n == 3 and iv.basis == "seeds"
    assert iv.lo == pytest.approx(2 - 1.685854, abs=1e-5) and iv.hi == pytest.approx(2 + 1.685854, abs=1e-5)
    with pytest.raises(ValueError, match="at least 2"):
        seed_interval([1.0, float("nan")])


def test_paired_interval_cancels_the_seed_spread():
    a = np.array([10.0, 20.0, 30.0])  # seeds differ a lot ...
    b = a + np.array([1.0, 1.1, 0.9])  # ... the paired effect is ≈ 1 with a small spread
    iv = paired_interval(a, b)
    assert iv.basis == "paired seeds" and iv.n == 3 and 0.7 < iv.lo < 1 < iv.hi < 1.3
    assert interval_verdict(iv, 0.5, side="above") == "confirmed"
    # unpaired, the same numbers straddle anything near 1: the pairing is what gives the power
    assert seed_interval(b - a.mean()).hi - seed_interval(b - a.mean()).lo > 20


@pytest.mark.parametrize("values, verdict", [
    ([1.0, 1.1, 0.9, 1.05], "confirmed"),     # clearly on the claim's side (above 0.25)
    ([-1.0, -1.1, -0.9, -1.05], "refuted"),   # clearly off
    ([0.0, 0.5, 0.2, 0.3], "inconclusive"),   # straddles the threshold
    ([2.0, -1.0], "inconclusive"),            # two seeds that disagree: a wide interval
])
def test_interval_verdict_on_synthetic_seed_tables(values, verdict):
    assert interval_verdict(seed_interval(values), 0.25, side="above") == verdict
    # the same claim stated the other way round gives the mirrored verdict
    mirrored = {"confirmed": "refuted", "refuted": "confirmed", "inconclusive": "inconclusive"}[verdict]
    assert interval_verdict(seed_interval(-np.asarray(values)), -0.25, side="above") == mirrored
    assert interval_verdict(seed_interval(values), 0.25, side="below") == mirrored


def test_interval_verdict_edges():
    assert interval_verdict(None, 0.0, side="above") == "inconclusive"
    touching = Interval(1.0, 0.25, 2.0, 3, "seeds")
    assert interval_verdict(touching, 0.25, side="above") == "inconclusive"
    assert interval_verdict(Interval(0.0, -1.0, 0.25, 3, "seeds"), 0.25, side="above") == "refuted"
    with pytest.raises(ValueError):
        interval_verdict(touching, 0.25, side="up")
    with pytest.raises(ValueError):
        Interval(0.0, 1.0, -1.0, 3, "seeds")


def test_bootstrap_interval_one_seed_gaussian_mean():
    rng = np.random.default_rng(0)
    x = rng.normal(0.6, 1.0, size=4000)  # the mean's standard error is 1/√4000 = 0.0158
    iv = bootstrap_interval(np.mean, x, repeats=400, seed=1)
    assert iv.n == 1 and iv.basis.startswith("one seed")
    assert iv.lo < 0.6 < iv.hi and 0.03 < iv.hi - iv.lo < 0.07  # ≈ 2 · 1.645 · 0.0158 = 0.052
    assert interval_verdict(iv, 0.5, side="above") == "confirmed"
    assert interval_verdict(bootstrap_interval(np.mean, x - 0.6, repeats=400), 0.0, side="above") == "inconclusive"
    with pytest.raises(ValueError, match="not finite"):
        bootstrap_interval(lambda v: np.log(v.min()), x, repeats=50)


@pytest.mark.parametrize("lo, hi, verdict", [
    (-0.3, 0.2, "confirmed"),      # inside (−0.5, 0.5): no strong correlation
    (0.55, 0.9, "refuted"),        # wholly beyond 0.5
    (-0.95, -0.6, "refuted"),      # wholly beyond −0.5
    (0.1, 0.7, "inconclusive"),    # excludes 0 but straddles 0.5: refutes nothing
    (-0.8, 0.8, "inconclusive"),
])
def test_band_verdict_no_strong_correlation(lo, hi, verdict):
    assert band_verdict(Interval((lo + hi) / 2, lo, hi, 19, "runs (bootstrap)"), -0.5, 0.5) == verdict


def test_binomial_interval_known_answers():
    from rtc.claims import binomial_interval, share_difference_interval

    # 0 of 3 at 90 %: the upper bound solves (1 − p)³ = 0.05 → p = 1 − 0.05^(1/3) = 0.631597
    assert binomial_interval(0, 3) == (0.0, pytest.approx(0.631597, abs=1e-6))
    assert binomial_interval(3, 3) == (pytest.approx(0.368403, abs=1e-6), 1.0)
    lo, hi = binomial_interval(5, 10)
    assert lo == pytest.approx(1 - hi) and 0.2 < lo < 0.5 < hi
    with pytest.raises(ValueError):
        binomial_interval(4, 3)
    # three runs that all agree cannot decide a 0.25 threshold either way; thirty can
    assert interval_verdict(share_difference_interval(0, 3, 0, 3), 0.25, side="above") == "inconclusive"
    assert interval_verdict(share_difference_interval(3, 3, 0, 3), 0.25, side="above") == "inconclusive"
    assert interval_verdict(share_difference_interval(0, 30, 0, 30), 0.25, side="above") == "refuted"
    assert interval_verdict(share_difference_interval(30, 30, 0, 30), 0.25, side="above") == "confirmed"


def test_convergence_verdict():
    assert convergence_verdict("confirmed", "refuted") == "not converged"
    assert convergence_verdict("refuted", "confirmed") == "not converged"
    assert convergence_verdict("confirmed", "inconclusive") == "confirmed"
    assert convergence_verdict("inconclusive", "confirmed") == "inconclusive"
    assert convergence_verdict("refuted", None) == "refuted"
    with pytest.raises(ValueError):
        convergence_verdict("yes", None)


def test_the_combining_rules_on_hand_made_verdicts():
    from rtc.claims import Interval, all_cells_verdict, below_band_verdict, joint_verdict, order_verdict

    assert joint_verdict(["confirmed", "confirmed"]) == "confirmed"
    assert joint_verdict(["refuted", "refuted"]) == "refuted"
    assert joint_verdict(["confirmed", "refuted"]) == joint_verdict(["partly", "confirmed"]) == "partly"
    assert order_verdict(1.0, 2.0) == "confirmed" and order_verdict(2.0, 1.0) == "refuted"
    assert order_verdict(1.0, 1.0) == "partly"
    assert all_cells_verdict([]) == "inconclusive"
    assert all_cells_verdict(["confirmed", "refuted", "inconclusive"]) == "refuted"
    assert all_cells_verdict(["confirmed", "confirmed"]) == "confirmed"
    assert all_cells_verdict(["confirmed", "inconclusive"]) == "inconclusive"
    iv = lambda lo, hi: Interval((lo + hi) / 2, lo, hi, 10, "runs", 0.9)  # noqa: E731
    assert below_band_verdict(iv(-0.9, -0.6), -0.5, 0.5) == "confirmed"   # wholly below the band: strong negative
    assert below_band_verdict(iv(-0.2, 0.3), -0.5, 0.5) == "refuted"      # wholly inside: no strong correlation
    assert below_band_verdict(iv(0.6, 0.9), -0.5, 0.5) == "refuted"       # strongly positive
    assert below_band_verdict(iv(-0.7, 0.1), -0.5, 0.5) == "inconclusive"  # straddles a bound
