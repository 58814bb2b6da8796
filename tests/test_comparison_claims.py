"""The comparison's claims (rtc.experiments.comparison.check_claims and its claim functions) on synthetic run
tables and codes with a known effect — clearly on, clearly off, straddling the threshold, one seed, many seeds,
a run outside the paper's regime, half training — each giving the verdict it was designed to give. No training."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rtc.claims import Thresholds, verdict_table
from rtc.experiments.comparison import (
    CLAIMS,
    QUANTITIES,
    Stage,
    check_claims,
    claim_disparity,
    claim_lower_than_factor_vae,
    claim_pairwise,
    claim_primary,
    claim_revised_lower,
    claim_rtc_recon,
    claim_tc_sap,
    dip_control,
    disparity_readings,
    itt_stage,
)
from rtc.models.encoding import Encoding

T = Thresholds()
FAST = dict(repeats=60, seed=0)


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Small covariances in every bootstrap resample: one torch thread is ~10× faster on a loaded 2-core machine."""


def row(model, strength=10, seed=0, *, dataset="dsprites", learned=True, band_share=math.nan, in_regime=True,
        **q):
    """One run: the quantity columns default to a neutral run (TC 1 nat, no disparity, recon 100, SAP 0.3);
    the ``_active`` forms follow the all-latent ones unless given."""
    base = dict(tc_mean=1.0, tc_sample=1.0, recon=100.0, sap_r2=0.3)
    base.update(q)
    for name in ("tc_mean", "tc_sample"):
        base.setdefault(f"{name}_active", base[name])
    base.setdefault("disparity", base["tc_mean"] - base["tc_sample"])
    base.setdefault("disparity_active", base["tc_mean_active"] - base["tc_sample_active"])
    return dict(model=model, dataset=dataset, strength=float(strength), seed=seed, learned=learned,
                in_regime=in_regime, band_share=band_share, **base)


def stage(rows, codes=None, missing=()):
    t = pd.DataFrame(rows)
    assert set(QUANTITIES) <= set(t.columns)
    return Stage(t, codes or {}, frozenset(missing))


def codes(kind: str, n: int = 600, seed: int = 0, *, recon: float = 100.0) -> Encoding:
    """Synthetic codes of n images (the same images for every kind with one seed: the rows pair up).

    "disparity": µ strongly correlated (TC_mean ≈ 1.2 nats), z = µ + unit noise on a small µ scale (TC_sample
    small); "none": z = µ; "dependent": latents 0, 1 uncorrelated but dependent (x, |x|), the rest independent;
    "independent": independent uniform latents."""
    rng = np.random.default_rng(seed)
    if kind in ("disparity", "none"):
        base = rng.normal(size=(n, 1))
        mu = 0.3 * (base + 0.3 * rng.normal(size=(n, 4)))
        z = mu + (rng.normal(size=mu.shape) if kind == "disparity" else 0.0)
    elif kind in ("dependent", "independent"):
        mu = rng.uniform(-1, 1, size=(n, 4))
        if kind == "dependent":
            mu[:, 1] = np.abs(mu[:, 0]) + 0.02 * rng.normal(size=n)
        z = mu.copy()
    else:
        raise ValueError(kind)
    return Encoding(mu, np.full_like(mu, 0.1), z, None, recon + rng.normal(size=n))


# ------------------------------------------------------------------------------------------------ Fig. 3

@pytest.mark.parametrize("values, want", [
    ([2.0, 2.1, 1.9], "confirmed"),       # clearly on: the interval lies above 0.25
    ([0.01, 0.02, 0.0], "refuted"),       # clearly off
    ([0.1, 0.5, 0.3], "inconclusive"),    # mean 0.3, the interval straddles 0.25
])
def test_disparity_over_seeds(values, want):
    s = stage([row("factor_vae", 10, i, tc_mean=1 + d, tc_sample=1.0) for i, d in enumerate(values)])
    o = claim_disparity(s, "factor_vae", T)
    assert o.verdict == want and o.seeds == 3 and o.interval.basis == "seeds" and o.threshold == T.disparity_abs
    assert o.interval.estimate == pytest.approx(np.mean(values))


def test_a_single_run_is_described_never_judged():
    """One run says nothing of the seed-to-seed spread a claim is about: its value is described, the claim is
    inconclusive whatever the value, and a claim whose other cells are judged does not count it."""
    for value in (3.0, 0.0):   # far above and far below the 0.25-nat threshold: the same verdict
        o = claim_disparity(stage([row("beta_tcvae", 10, tc_mean=1.0 + value)]), "beta_tcvae", T)
        assert o.verdict == "inconclusive" and o.interval is None and o.seeds == 0
        assert o.summary == "inconclusive: single runs only (described, not judged)"
        assert f"single run, disparity {value:.3g} (described, not judged)" in o.evidence
    rows = ([row("beta_vae", 4, i, tc_mean=3.0, tc_sample=0.5 + 0.1 * i) for i in range(3)]
            + [row("beta_vae", 16, 0, tc_mean=1.0, tc_sample=1.0)])        # a one-run cell far below: not counted
    o = claim_disparity(stage(rows), "beta_vae", T)
    assert o.verdict == "confirmed" and o.summary == "confirmed (1 single-run cell(s) described, not counted)"


def test_a_cell_gated_down_to_one_run_says_so():
    rows = [row("rtc_vae", 10, 0, tc_mean=0.5, tc_sample=0.4, band_share=0.9),
            row("rtc_vae", 10, 1, learned=False), row("rtc_vae", 10, 2, band_share=0.1, in_regime=False)]
    o = claim_disparity(stage(rows), "rtc_vae", T, none=True)
    assert o.verdict == "inconclusive" and o.interval is None
    assert ("gated down to 1 run(s) of 3: RTC-VAE 10 s1 not learned, RTC-VAE 10 s2 outside the regime"
            in o.evidence)


def test_disparity_every_strength_and_unlearned_runs():
    rows = ([row("beta_vae", 4, i, tc_mean=3.0, tc_sample=0.5 + 0.1 * i) for i in range(3)]
            + [row("beta_vae", 16, i, tc_mean=1.0, tc_sample=1.0 - 0.01 * i) for i in range(3)]   # off at 16
            + [row("beta_vae", 1, 0, tc_mean=1.0, tc_sample=1.0, learned=False)])                 # never counts
    o = claim_disparity(stage(rows), "beta_vae", T)
    assert o.verdict == "refuted" and "β-VAE 16" in o.evidence and "β-VAE 1:" not in o.evidence
    assert o.values["rows"] == list(range(6))
    assert claim_disparity(stage(rows[:3]), "beta_vae", T).verdict == "confirmed"
    none = claim_disparity(stage(rows[-1:]), "beta_vae", T)
    assert none.verdict == "inconclusive" and none.interval is None and "no learned run" in none.summary


def test_disparity_shown_over_all_and_over_active_latents():
    """β-TCVAE's pattern: a disparity from shut-down latents only — gone over the active ones."""
    rows = [row("beta_tcvae", 10, i, tc_mean=2.0 + 0.1 * i, tc_sample=0.1, tc_mean_active=0.2, tc_sample_active=0.2)
            for i in range(3)]
    o = claim_disparity(stage(rows), "beta_tcvae", T)
    assert o.verdict == "confirmed" and o.values["active_verdict"] == "refuted"
    assert o.summary == "confirmed (over the active latents: refuted)"


def test_no_disparity_counts_only_runs_in_the_paper_regime():
    rows = [row("rtc_vae", 10, i, tc_mean=0.5, tc_sample=0.5 - 0.01 * i, band_share=0.8) for i in range(3)]
    rows.append(row("rtc_vae", 10, 3, tc_mean=3.0, tc_sample=0.1, band_share=0.2, in_regime=False))
    o = claim_disparity(stage(rows), "rtc_vae", T, none=True)
    assert o.verdict == "confirmed" and o.regime == "3 of 4 runs in the paper's regime"
    assert ("Outside the paper's regime (not counted; counted in the intention-to-treat view): RTC-VAE 10 s3 (band "
            "share 20 %, disparity 2.9)") in o.evidence and o.values["outside"] == [3]
    assert 3 not in o.values["rows"]
    # intention to treat: counted, the out-of-band run drags the interval across the threshold
    assert claim_disparity(itt_stage(stage(rows)), "rtc_vae", T, none=True).verdict == "inconclusive"
    itt = claim_disparity(itt_stage(stage(rows)), "rtc_vae", T, none=True)
    assert itt.values["rows"] == [0, 1, 2, 3] and itt.values["outside"] == []


# ------------------------------------------------------------------------------------------------ Fig. 4

def _pairs(van, rev, van_tc, rev_tc, *, strength=10, van_ts=None, rev_ts=None):
    out = []
    for i, (a, b) in enumerate(zip(van_tc, rev_tc, strict=True)):
        out.append(row(van, strength, i, tc_mean=a, tc_sample=(van_ts or van_tc)[i]))
        out.append(row(rev, strength, i, tc_mean=b, tc_sample=(rev_ts or rev_tc)[i], band_share=0.9))
    return out


@pytest.mark.parametrize("rev, want", [
    ([0.4, 0.3, 0.5], "confirmed"),    # ratio 0.1 per seed
    ([4.2, 2.9, 5.1], "refuted"),      # ratio ≈ 1
    ([1.2, 2.4, 2.0], "inconclusive"), # ratios 0.3, 0.8, 0.4: straddles 0.5
])
def test_revised_lower_paired_by_seed(rev, want):
    o = claim_revised_lower(stage(_pairs("factor_vae", "rtc_vae", [4.0, 3.0, 5.0], rev)), T)
    assert o.verdict == want and o.interval.basis == "paired seeds (log ratio)" and o.seeds == 3
    # the geometric mean of the same-seed ratios (the mean on the log scale)
    assert o.interval.estimate == pytest.approx(np.exp(np.mean(np.log(np.array(rev) / [4.0, 3.0, 5.0]))))


def test_a_ratio_interval_never_goes_below_zero():
    """Ratios of positive quantities judged on the log scale: spread-out ratios (0.05, 0.9, 2.0) give a Student-t
    interval of the plain ratios that reaches below 0; the log-ratio interval stays in (0, ∞) and brackets the
    geometric mean."""
    o = claim_revised_lower(stage(_pairs("factor_vae", "rtc_vae", [4.0, 3.0, 5.0], [0.2, 2.7, 10.0])), T)
    plain = np.array([0.05, 0.9, 2.0])
    assert plain.mean() - 2.92 * plain.std(ddof=1) / np.sqrt(3) < 0   # what the old interval did
    assert 0 < o.interval.lo < o.interval.estimate < o.interval.hi and o.verdict == "inconclusive"


def test_revised_lower_is_one_claim_in_two_parts():
    """TC_sample comparably low is reported as the second part, not a verdict of its own."""
    rows = _pairs("beta_vae", "revised_beta_vae", [4.0, 3.0, 5.0], [0.4, 0.3, 0.5], strength=4,
                  van_ts=[0.1, 0.1, 0.1], rev_ts=[0.4, 0.3, 0.5])   # TC_sample 4× the vanilla one
    o = claim_revised_lower(stage(rows), T)
    assert o.verdict == "confirmed" and o.values["second_verdict"] == "refuted"
    geo = np.exp(np.mean(np.log([4.0, 3.0, 5.0])))  # the geometric mean of the ratios 4, 3, 5 (over 0.1)
    assert "Second part" in o.evidence and o.values["second_interval"].estimate == pytest.approx(geo)


def test_a_single_pair_is_described_and_a_ratio_without_a_denominator_is_not_a_number():
    o = claim_revised_lower(stage(_pairs("factor_vae", "rtc_vae", [4.0], [0.4])), T)
    assert o.verdict == "inconclusive" and o.interval is None and "single run, ratio of tc_mean 0.1" in o.evidence
    zero = claim_revised_lower(stage(_pairs("factor_vae", "rtc_vae", [0.0, 0.0], [0.4, 0.3])), T)
    assert zero.verdict == "inconclusive" and "no pair with a positive, finite ratio of tc_mean" in zero.evidence


def test_revised_lower_leaves_out_pairs_outside_the_regime():
    rows = _pairs("factor_vae", "rtc_vae", [4.0, 3.0, 5.0], [0.4, 0.3, 0.5])
    rows[1]["in_regime"] = rows[3]["in_regime"] = rows[5]["in_regime"] = False
    o = claim_revised_lower(stage(rows), T)
    assert o.verdict == "inconclusive" and o.regime == "0 of 3 runs in the paper's regime"


# ------------------------------------------------------------------------------------------------ Fig. 9

def test_rtc_recon_paired_seeds_and_one_seed():
    rows = ([row("rtc_vae", 10, i, recon=100.0 + i, band_share=0.9) for i in range(3)]
            + [row("rtc_vae", 20, i, recon=r, band_share=0.9) for i, r in enumerate((120.0, 125.0, 118.0))])
    o = claim_rtc_recon(stage(rows), T)
    assert o.verdict == "confirmed" and o.interval.basis == "paired seeds (log ratio)"
    for r, v in zip(rows[3:], (101.0, 102.0, 101.5), strict=True):
        r["recon"] = v
    assert claim_rtc_recon(stage(rows), T).verdict == "refuted"       # < 5 % worse
    one = claim_rtc_recon(stage([rows[0], rows[3]]), T)                       # one pair: described
    assert one.verdict == "inconclusive" and "single run, ratio of recon 0.01" in one.evidence
    assert claim_rtc_recon(stage(rows[:3]), T).verdict == "inconclusive"   # no strength above 10


def _sap_rows(tc, sap):
    return [row("factor_vae", 10, i, tc_mean=a, sap_r2=b) for i, (a, b) in enumerate(zip(tc, sap, strict=True))]


def test_tc_sap_band_rule():
    n = 40
    rng = np.random.default_rng(3)
    tc = rng.uniform(0, 5, n)
    strong = claim_tc_sap(stage(_sap_rows(tc, tc / 10)), T, repeats=300)
    assert strong.verdict == "refuted" and strong.interval.lo == pytest.approx(1.0)    # ρ = 1: wholly beyond 0.5
    order = np.argsort(tc)
    sap = np.empty(n)
    sap[order] = np.tile([0.1, 0.4, 0.2, 0.3], n // 4)    # ρ ≈ 0: the interval lies inside (−0.5, 0.5)
    weak = claim_tc_sap(stage(_sap_rows(tc, sap)), T, repeats=300)
    assert abs(weak.interval.estimate) < 0.2 and weak.verdict == "confirmed" and weak.interval.basis == \
        "runs (bootstrap)"
    few = claim_tc_sap(stage(_sap_rows(tc[:8], (tc[:8] + rng.normal(0, 2, 8)) / 10)), T, repeats=300)
    assert few.verdict == "inconclusive"          # 8 noisy runs: the interval straddles ±0.5
    assert claim_tc_sap(stage(_sap_rows(tc[:4], tc[:4])), T, repeats=300).summary.startswith("inconclusive: 4 runs")


def test_lower_than_factor_vae_judges_what_each_dip_penalises_against_factor_vae():
    rows = []
    for i in range(3):
        rows.append(row("factor_vae", 10, i, tc_mean=4.0 + i, tc_sample=2.0 + i))
        rows.append(row("dip_vae_i", 10, i, tc_mean=0.2 + 0.1 * i, tc_sample=3.0))     # low TC_mean only
        rows.append(row("dip_vae_ii", 10, i, tc_mean=3.0 + i, tc_sample=0.1 + 0.1 * i))  # low TC_sample only
        rows.append(row("rtc_vae", 10, i, tc_mean=0.01, tc_sample=0.01, band_share=0.9))  # not the comparison
    kw = dict(datasets=None, claim="x", name="dip_gaussian")
    o = claim_lower_than_factor_vae(stage(rows), {"dip_vae_i": "tc_mean", "dip_vae_ii": "tc_sample"}, T, **kw)
    assert o.verdict == "confirmed" and o.regime == "no η band (vanilla models)"
    swapped = claim_lower_than_factor_vae(stage(rows), {"dip_vae_i": "tc_sample", "dip_vae_ii": "tc_mean"}, T, **kw)
    assert swapped.verdict == "refuted"
    fig9d = claim_lower_than_factor_vae(stage(rows), {"dip_vae_i": "tc_mean", "dip_vae_ii": "tc_mean",
                                                      "rtc_vae": "tc_mean"}, T, **{**kw, "name": "low_tc_mean"})
    assert fig9d.verdict == "refuted" and "DIP-VAE-II / FactorVAE tc_mean" in fig9d.evidence


# ------------------------------------------------------------------------------------------------ §5.2 pairs

def test_pairwise_claims_many_seeds_and_one_seed():
    dep = {i: codes("dependent", n=2000, seed=i) for i in range(3)}
    ind = {i: codes("independent", n=2000, seed=i) for i in range(3)}
    rows = [row("dip_vae_i", 10, i) for i in range(3)]
    kw = dict(permutations=39, k=3, seed=0)
    assert dip_control(stage(rows, dep), T)["holds"].all()      # x and |x|: uncorrelated, so the control holds
    o = claim_pairwise(stage(rows, dep), ["dip_vae_i"], T, name="dip_dependent", claim="x", **kw)
    assert o.verdict == "confirmed" and o.values == {**o.values, "beats_null": 3, "tested": 3}
    assert o.interval.basis == "seeds" and o.interval.lo > T.independent_mi
    assert "over the null alone (the rule before)" in o.evidence     # the reading it replaced, beside it
    assert claim_pairwise(stage(rows, ind), ["dip_vae_i"], T, name="dip_dependent", claim="x", **kw).verdict \
        == "refuted"
    rtc = [row("rtc_vae", 10, 0, band_share=0.9)]   # one seed: described, never judged
    one = claim_pairwise(stage(rtc, {0: codes("independent", n=1000)}), ["rtc_vae"], T, name="rtc_factorised",
                         claim="x", **kw)
    assert one.verdict == "inconclusive" and one.interval is None and "single run" in one.evidence
    many = claim_pairwise(stage([row("rtc_vae", 10, i, band_share=0.9) for i in range(3)], dep), ["rtc_vae"], T,
                          name="rtc_factorised", claim="x", **kw)
    assert many.verdict == "refuted"


def test_dip_claims_are_untestable_while_the_positive_control_fails():
    """Correlated DIP latents: the pairs' dependence may be plain correlation, so "uncorrelated but dependent"
    cannot be tested — whatever the pair test says."""
    rng = np.random.default_rng(0)
    corr = {}
    for i in range(3):
        e = codes("dependent", n=2000, seed=i)
        e.mu[:, 2] = e.mu[:, 3] + 0.3 * rng.normal(size=2000)          # |corr| ≈ 0.9 between latents 2 and 3
        corr[i] = e
    rows = [row("dip_vae_i", 10, i) for i in range(3)]
    control = dip_control(stage(rows, corr), T)
    assert not control["holds"].any() and (control["max_abs_corr"] > 0.8).all() and set(control["code"]) == {"µ"}
    o = claim_pairwise(stage(rows, corr), ["dip_vae_i"], T, name="dip_dependent", claim="x", permutations=39)
    assert o.verdict == "inconclusive" and o.summary.startswith("inconclusive: untestable at this budget")
    assert o.values["untested_verdict"] in ("confirmed", "inconclusive", "refuted")


# ------------------------------------------------------------------------------------------------ check_claims

def _grid(disparity_at_half: float):
    """FactorVAE and RTC-VAE at 10, three seeds; FactorVAE's disparity at half training as given. The RTC-VAE
    runs' codes (independent latents) feed the pair test of "RTC-VAE factorised"."""
    rows = []
    for i in range(3):
        rows.append(row("factor_vae", 10, i, tc_mean=3.0 + 0.1 * i, tc_sample=0.5))
        rows.append(row("rtc_vae", 10, i, tc_mean=0.3, tc_sample=0.3 - 0.01 * i, band_share=0.9))
    rtc_codes = {2 * i + 1: codes("independent", seed=i) for i in range(3)}
    half_rows = [dict(r) for r in rows]
    for r in half_rows[::2]:
        r["disparity"] = disparity_at_half + 0.01 * r["seed"]
    return stage(rows, rtc_codes), stage(half_rows, rtc_codes)


def test_check_claims_half_training_and_not_converged():
    full, half = _grid(0.0)
    claims = check_claims(full, half, T, **FAST, permutations=19)
    assert list(claims) == list(CLAIMS)
    o = claims["disparity_factor_vae"]
    assert o.half == "refuted" and o.verdict == "not converged" and o.summary.startswith("not converged (confirmed")
    assert o.end == "confirmed"                             # the end-of-training verdict, kept apart from the half
    full, half = _grid(2.0)
    o = check_claims(full, half, T, **FAST, permutations=19)["disparity_factor_vae"]
    assert (o.verdict, o.half) == ("confirmed", "confirmed")
    full, half = _grid(0.0)
    missing = Stage(half.table, half.codes, frozenset({0}))     # run 0 has no snapshot at half training
    o = check_claims(full, missing, T, **FAST, permutations=19)
    assert o["disparity_factor_vae"].half is None and o["disparity_factor_vae"].verdict == "confirmed"
    assert o["disparity_factor_vae"].end == "confirmed"
    assert o["none_rtc_vae"].half == "confirmed"        # rows 1, 3, 5: all present at half training
    assert check_claims(full, None, T, **FAST, permutations=19)["none_rtc_vae"].half is None


def test_check_claims_on_an_empty_profile_is_inconclusive_and_the_table_lists_every_claim():
    claims = check_claims(stage([row("dip_vae_i", 10, learned=False)]), None, T, **FAST, permutations=19)
    assert {o.verdict for o in claims.values()} == {"inconclusive"}
    table = verdict_table(claims, CLAIMS)
    assert list(table.columns) == ["claim", "in the paper", "quantity", "interval", "threshold", "seeds", "regime",
                                   "half training", "verdict", "active latents"]
    assert len(table) == len(CLAIMS) and "Fig. 9e" not in " ".join(table["in the paper"])
    assert set(table["in the paper"]) >= {"§5.1, Fig. 3 left", "§5.1, Fig. 3 right", "§5.1, Fig. 4",
                                          "Appendix, Fig. 9a", "Appendix, Fig. 9b", "Appendix, Fig. 9d"}


def test_claims_read_the_one_threshold_registry():
    """A changed threshold of rtc.claims.Thresholds changes the verdict: the comparison has no copy of its own."""
    s = stage([row("factor_vae", 10, i, tc_mean=1.0 + d, tc_sample=1.0) for i, d in enumerate((0.6, 0.7, 0.65))])
    assert claim_disparity(s, "factor_vae", T).verdict == "confirmed"
    assert claim_disparity(s, "factor_vae", Thresholds.from_mapping({"disparity_abs": 1.0})).verdict \
        == "refuted"


# ---------------------------------------------------------------------------------------- Fig. 3 right, three ways

def test_no_disparity_read_three_ways_known_answers():
    """RTC-VAE's disparity 0.8 nats on a TC_mean of 5 against FactorVAE's 8 nats: not below the absolute 0.25 nats,
    but 16 % of its TC_mean (< 25 %) and a tenth of the vanilla model's (≤ 0.25×)."""
    rows = []
    for i in range(3):
        rows.append(row("factor_vae", 10, i, tc_mean=20.0, tc_sample=12.0 + 0.1 * i))
        rows.append(row("rtc_vae", 10, i, tc_mean=5.0, tc_sample=4.2 + 0.01 * i, band_share=0.9))
    r = disparity_readings(stage(rows), T).set_index("reading")
    assert r.loc["absolute (nats)", "interval lies"] == "not below"
    assert r.loc["relative (share of TC_mean)", "interval lies"] == "below"
    ratio = r.loc["ratio to vanilla (paired, log scale)"]
    assert ratio["interval lies"] == "below" and ratio["cell"] == "RTC-VAE / FactorVAE 10"
    assert ratio["value"].startswith("0.10") and "log ratio" in ratio["value"]


def test_a_single_run_is_described_not_judged_and_a_vanished_disparity_is_floored():
    rows = [row("factor_vae", 10, 0, tc_mean=20.0, tc_sample=12.0),
            row("rtc_vae", 10, 0, tc_mean=5.0, tc_sample=5.5, band_share=0.9)]  # negative disparity
    r = disparity_readings(stage(rows), T)
    assert set(r["interval lies"]) == {"single run"} and r["value"].str.startswith("single run").all()
    ratio = r.set_index("reading").loc["ratio to vanilla (paired, log scale)", "value"]
    assert ratio == f"single run: {T.disparity_floor / 8.0:.3g}"


# ------------------------------------------------------------------------------------------------ Holm, primary, ITT

def test_a_refutation_across_cells_needs_holms_correction():
    """Two strengths each refuted alone at p ≈ 0.04: one such cell refutes the claim, two do not (Holm at 0.05
    doubles the smaller p-value); a cell refuted at p ≈ 0.001 survives the correction."""
    def cells(per_strength):
        return stage([row("beta_vae", s, i, tc_mean=1.0 + d, tc_sample=1.0) for s, vals in per_strength.items()
                      for i, d in enumerate(vals)])
    edge = [-0.04, 0.06, 0.16]                          # mean 0.06, interval below 0.25: refuted alone, p = 0.041
    assert claim_disparity(cells({4: edge}), "beta_vae", T).verdict == "refuted"
    two = claim_disparity(cells({4: edge, 8: edge}), "beta_vae", T)
    # both cells say so, over all latents and over the active ones
    assert two.verdict == "inconclusive" and two.evidence.count("not after Holm's correction") == 4
    clear = claim_disparity(cells({4: edge, 8: [0.0, 0.01, 0.02]}), "beta_vae", T)
    assert clear.verdict == "refuted" and "β-VAE 8" in clear.evidence


def test_primary_endpoint_is_the_paired_log_ratio_of_rtc_vae_to_factor_vae():
    rows = []
    for i, (f, r) in enumerate(((8.0, 0.8), (6.0, 0.9), (10.0, 0.7))):
        rows.append(row("factor_vae", 10, i, tc_mean=20.0 + i, tc_sample=20.0 + i - f))
        rows.append(row("rtc_vae", 10, i, tc_mean=5.0, tc_sample=5.0 - r, band_share=0.9))
    o = claim_primary(stage(rows), "disparity", T)
    geo = np.exp(np.mean(np.log([0.8 / 8, 0.9 / 6, 0.7 / 10])))
    assert o.verdict == "confirmed" and o.interval.estimate == pytest.approx(geo) and o.threshold == T.none_ratio
    tc = claim_primary(stage(rows), "tc_mean", T)
    assert tc.verdict == "confirmed" and tc.threshold == T.much_lower      # 5 / 20–22 ≈ 0.24 ≤ 0.5
    rows[1]["disparity"] = -0.5                         # a negative disparity counts as the floor, 0.01 nats
    floored = claim_primary(stage(rows), "disparity", T)
    assert floored.interval.estimate == pytest.approx(np.exp(np.mean(np.log([0.01 / 8, 0.9 / 6, 0.7 / 10]))))


def test_intention_to_treat_counts_the_runs_the_regime_gate_leaves_out():
    full, _ = _grid(2.0)
    full.table.loc[5, "in_regime"] = False
    gated = check_claims(full, None, T, **FAST, permutations=19)
    itt = check_claims(full, None, T, **FAST, permutations=19, itt=True)
    assert 5 not in gated["none_rtc_vae"].values["rows"] and gated["none_rtc_vae"].values["outside"] == [5]
    assert 5 in itt["none_rtc_vae"].values["rows"] and itt["none_rtc_vae"].values["outside"] == []
    only = check_claims(full, None, T, **FAST, permutations=19, itt=True, names={"none_rtc_vae"})
    assert list(only) == ["none_rtc_vae"] and only["none_rtc_vae"].verdict == itt["none_rtc_vae"].verdict
    assert full.table.loc[5, "in_regime"] == False  # noqa: E712  (the stage given is not changed)
