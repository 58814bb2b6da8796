"""The disintegration chapter's claims judged by intervals (rtc.experiments.disintegration.check_*): hand-made
analysis tables and synthetic codes with a known effect — clearly on, clearly off, straddling the threshold, one
seed, several seeds — give confirmed / refuted / inconclusive as designed, for every rule."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from rtc.claims import VERDICTS, Thresholds, verdict_table
from rtc.experiments.disintegration import (
    CLAIMS,
    QUANTITIES,
    active_encodings,
    analyse_codes,
    analyse_runs,
    check_claims,
    check_claims_active,
    check_distinct,
    check_exists,
    check_suppression,
    check_tradeoff,
    deficit_share_interval,
    permutation_pvalue,
    run_summary,
    suppression_table,
    synthetic_code,
)

REPEATS = 200


def _rows(run, model="rtc_vae", *, seed=0, dataset="dsprites", n_factors=5, gaps_r2=None, gaps_nmi=None,
          flag_r2=(), flag_nmi=(), control=(), captured=True, excess=None, tc_mean=1.0, ratio=0.0):
    """One run of an analyse_runs table: ``flag_*`` / ``control`` the flagged factor indices (control on the
    normalised-MI rows), gaps 0.8 unless given, ``excess`` the pairs' excess MI per factor."""
    rows = []
    for score, gaps, flags in (("r2", gaps_r2, flag_r2), ("nmi", gaps_nmi, flag_nmi)):
        gaps = [0.8] * n_factors if gaps is None else list(gaps)
        for k in range(n_factors):
            e = 0.0 if excess is None else excess[k]
            rows.append(dict(run=run, model=model, dataset=dataset, seed=seed, strength=10.0, score=score,
                             factor=f"f{k}", factor_index=k, captured=captured, gap=gaps[k],
                             disintegrated=k in flags, control=score == "nmi" and k in control, dedicated=True,
                             split_ratio=ratio, knn_mi=e + 0.01, excess_mi=e, corr=0.0, tc_mean=tc_mean,
                             deficit=1 - gaps[k], explained=0.5 * (1 - gaps[k])))
    return rows


def _table(*runs) -> pd.DataFrame:
    return pd.DataFrame([r for run in runs for r in run])


def _analysed(code, *, n=600, model="rtc_vae", seed=0):
    """analyse_codes of ``n`` rows of a controlled code, as run 0 of an analyse_runs table, and its encoding."""
    i = np.random.default_rng(seed).integers(len(code.codes), size=n)
    enc = SimpleNamespace(mu=code.codes[i], factors=code.factors[i])
    t = analyse_codes(enc.mu, enc.factors, max_points=n).assign(run=0, model=model, dataset="grid", strength=10.0,
                                                                 seed=0, tc_mean=0.0)
    return t, [enc]


# ---------------------------------------------------------------------------------------------------------------
# §5.3: disintegration exists (against the control)
# ---------------------------------------------------------------------------------------------------------------

def test_exists_over_several_runs():
    # each run paired with its own control (exact McNemar): 10 of 10 flagged, controls clean → the share beyond the
    # controls is 1 with lower bound 2 · 0.05^(1/10) − 1 = 0.482 > 0.25
    flagged = _table(*[_rows(r, seed=r, flag_nmi=(0,)) for r in range(10)])
    o = check_exists(flagged)
    assert o.verdict == "confirmed" and o.interval.lo == pytest.approx(2 * 0.05 ** 0.1 - 1) and o.seeds == 10
    assert o.interval.basis == "runs against their own controls (exact McNemar)" and o.threshold == 0.25
    assert o.values["discordant"] == (10, 0) and o.values["p"] == pytest.approx(2 * 0.5 ** 10)   # the sign test
    # four runs that all agree decide nothing (a Student t over 0/1 outcomes would have given the point [1, 1])
    assert check_exists(_table(*[_rows(r, seed=r, flag_nmi=(0,)) for r in range(4)])).verdict == "inconclusive"
    # 7 of 8: decided where the unpaired difference of two shares (Bonferroni) could not be
    seven = check_exists(_table(*[_rows(r, seed=r, flag_nmi=(0,) if r < 7 else ()) for r in range(8)]))
    assert seven.verdict == "confirmed" and seven.interval.lo == pytest.approx(7 / 8 * (2 * 0.05 ** (1 / 7) - 1))
    assert "The unpaired rule this replaced" in seven.evidence and seven.evidence.endswith("→ inconclusive.")
    assert check_exists(_table(*[_rows(r) for r in range(14)])).verdict == "refuted"           # no flag at all
    both = _table(*[_rows(r, flag_nmi=(0,), control=(0,)) for r in range(14)])                 # the control flags too
    assert check_exists(both).verdict == "refuted" and both is not None
    half = _table(*[_rows(r, flag_nmi=(0,) if r < 3 else ()) for r in range(6)])
    o = check_exists(half)
    assert o.verdict == "inconclusive" and o.interval.lo < 0.25 < o.interval.hi


def test_paired_share_interval_known_answers():
    from rtc.experiments.disintegration import paired_share_interval
    iv = paired_share_interval(0, 0, 14)
    assert iv.estimate == 0 and iv.hi == pytest.approx(1 - 0.025 ** (1 / 14)) and iv.lo == -iv.hi
    # every discordant pair positive: the upper bound is not the observed m/n (m is uncertain too)
    iv = paired_share_interval(3, 0, 7)
    assert iv.estimate == pytest.approx(3 / 7) and iv.hi > 3 / 7
    assert iv.lo == pytest.approx(3 / 7 * (2 * 0.05 ** (1 / 3) - 1))
    assert paired_share_interval(1, 0, 7).hi > 0.25        # one flagged run of seven does not refute "exists"
    iv = paired_share_interval(2, 2, 10)          # discordant both ways alike: 0, the interval across it
    assert iv.estimate == 0 and iv.lo < 0 < iv.hi
    with pytest.raises(ValueError, match="discordant pairs"):
        paired_share_interval(6, 6, 10)


def test_exists_has_nothing_to_judge_without_factorised_or_captured_runs():
    o = check_exists(_table(*[_rows(r, "beta_vae", flag_nmi=(0,)) for r in range(3)]))
    assert o.verdict == "inconclusive" and "no factorised" in o.summary and o.interval is None
    o = check_exists(_table(*[_rows(r, captured=False, flag_nmi=(0,)) for r in range(3)]))
    assert o.verdict == "inconclusive" and "captured" in o.summary
    # β-VAE runs are described beside the factorised ones, not counted
    mixed = _table(*[_rows(r, flag_nmi=(0,)) for r in range(3)], _rows(3, "beta_vae"))
    assert "other models (descriptive): 0 of 1" in check_exists(mixed).evidence


def test_exists_on_a_single_run_is_described_not_judged():
    split = synthetic_code("split", k=2, m=4, other_sizes=(4, 3), noise=0.02, seed=1)
    table, _ = _analysed(split)
    o = check_exists(table)
    assert o.verdict == "inconclusive" and o.interval is None and o.values["single"] and "Single run" in o.evidence


# ---------------------------------------------------------------------------------------------------------------
# §5.4: suppression, flags from the other score
# ---------------------------------------------------------------------------------------------------------------

def _suppression_runs(diffs, *, n_factors=6, noise=0.02, seed=0):
    """Run r flags factor r mod n_factors (on both matrices), its gap smaller there by ``diffs[r]``: every factor is
    flagged in some runs and not in the others."""
    rng = np.random.default_rng(seed)
    runs = []
    for r, d in enumerate(diffs):
        gaps = 0.8 + noise * rng.standard_normal(n_factors)
        k = r % n_factors
        gaps[k] -= d
        runs.append(_rows(r, seed=r, n_factors=n_factors, gaps_r2=gaps, gaps_nmi=gaps, flag_r2=(k,), flag_nmi=(k,)))
    return _table(*runs)


def test_suppression_table_takes_the_flag_from_the_other_matrix():
    t = _table(_rows(0, gaps_r2=[0.1, 0.9, 0.9], gaps_nmi=[0.5, 0.5, 0.5], flag_nmi=(0,), n_factors=3))
    sap, mig = suppression_table(t, "sap"), suppression_table(t, "mig")
    assert list(sap.flag) == [True, False, False] and list(sap.gap) == [0.1, 0.9, 0.9]
    assert not mig.flag.any() and list(mig.gap) == [0.5] * 3  # the R² matrix flags nothing
    with pytest.raises(ValueError, match="metric must"):
        suppression_table(t, "dci")


@pytest.mark.parametrize("metric", ["sap", "mig"])
def test_suppression_verdicts(metric):
    """The same factor across runs: where it is flagged against where it is not."""
    o = check_suppression(_suppression_runs([0.6] * 6), metric, repeats=REPEATS)
    assert o.verdict == "confirmed" and o.interval.lo > 0.1 and o.values["factors"] == 6 and o.seeds == 6
    assert o.interval.basis == "factors (unflagged − flagged runs of the same factor)"
    assert "The rule this replaced (within runs)" in o.evidence
    o = check_suppression(_suppression_runs([0.0] * 6), metric, repeats=REPEATS)
    assert o.verdict == "refuted" and o.interval.hi <= 0.1                   # flagged factors lose nothing
    o = check_suppression(_suppression_runs([0.5, -0.3, 0.2, 0.0, 0.4, -0.2]), metric, repeats=REPEATS)
    assert o.verdict == "inconclusive" and o.interval.lo < 0.1 < o.interval.hi
    o = check_suppression(_suppression_runs([0.6, 0.0]), metric, repeats=REPEATS)      # one flagged case per factor
    assert o.verdict == "inconclusive" and "2 flagged" in o.summary and o.interval is None   # < min_cases


def test_suppression_of_a_single_factor_is_described_not_judged():
    two = _table(_rows(0, seed=0, n_factors=2, gaps_r2=[0.2, 0.8], gaps_nmi=[0.2, 0.8], flag_r2=(0,), flag_nmi=(0,)),
                 _rows(1, seed=1, n_factors=2))
    o = check_suppression(two, "sap", Thresholds.from_mapping({"min_cases": 1}))
    assert o.verdict == "inconclusive" and o.values["single"] and "Single factor" in o.evidence and "0.6" in o.evidence


def test_permutation_pvalue_rarely_rejects_a_null_and_always_a_strong_effect():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(8), 6)
    labels = np.tile([True, True, False, False, False, False], 8)
    null = [permutation_pvalue(groups, rng.standard_normal(48), labels, repeats=200, seed=s) for s in range(100)]
    assert np.mean(np.array(null) < 0.05) <= 0.12 and 0.3 < np.mean(null) < 0.7  # ≈ uniform: 5 %, mean ½
    strong = [permutation_pvalue(groups, rng.standard_normal(48) - 3 * labels, labels, repeats=200, seed=s)
              for s in range(20)]
    assert max(strong) < 0.01
    with pytest.raises(ValueError, match="lack one of the two labels"):
        permutation_pvalue([0, 0, 1, 1], [1.0, 2.0, 3.0, 4.0], [True, False, True, True])


# ---------------------------------------------------------------------------------------------------------------
# Distinct from DIP-VAE's dependence
# ---------------------------------------------------------------------------------------------------------------

def _distinct_runs(dip_excess, *, seeds=(0, 1, 2)):
    runs = []
    for s in seeds:
        runs.append(_rows(2 * s, "factor_vae", seed=s, n_factors=3, excess=[0.0, 0.02, 0.01]))
        runs.append(_rows(2 * s + 1, "dip_vae_i", seed=s, n_factors=3,
                          excess=[dip_excess + 0.05 * s, dip_excess, dip_excess - 0.02]))
    return _table(*runs)


def test_distinct_verdicts():
    o = check_distinct(_distinct_runs(0.8))
    assert o.verdict == "confirmed" and o.interval.basis == "paired seeds" and o.seeds == 3 and o.interval.n == 3
    assert check_distinct(_distinct_runs(0.01)).verdict == "refuted"
    wide = _table(_rows(0, "factor_vae", seed=0, n_factors=3, excess=[0.0] * 3),
                  _rows(1, "dip_vae_i", seed=0, n_factors=3, excess=[0.6] * 3),
                  _rows(2, "factor_vae", seed=1, n_factors=3, excess=[0.0] * 3),
                  _rows(3, "dip_vae_i", seed=1, n_factors=3, excess=[-0.4] * 3))
    assert check_distinct(wide).verdict == "inconclusive"   # 0.1 ± a wide interval over two seeds
    one = check_distinct(_distinct_runs(0.8, seeds=(0,)))
    assert one.verdict == "inconclusive" and one.interval is None and one.values["single"]
    no_dip = _table(*[_rows(r, "factor_vae", seed=r, n_factors=3) for r in range(3)])
    o = check_distinct(no_dip)
    assert o.verdict == "inconclusive" and "0 DIP-VAE" in o.summary
    # pairs on different datasets or seeds are not compared
    apart = _table(_rows(0, "factor_vae", seed=0, n_factors=3), _rows(1, "dip_vae_i", seed=1, n_factors=3,
                                                                      excess=[0.8] * 3))
    assert check_distinct(apart).verdict == "inconclusive"


# ---------------------------------------------------------------------------------------------------------------
# The trade-off: the band rule on a rank correlation
# ---------------------------------------------------------------------------------------------------------------

def _tradeoff_runs(tc, index, model="factor_vae"):
    return _table(*[_rows(r, model, seed=r, n_factors=2, tc_mean=t, ratio=i)
                    for r, (t, i) in enumerate(zip(tc, index, strict=True))])


def test_tradeoff_band_rule():
    x = np.arange(8.0)
    o = check_tradeoff(_tradeoff_runs(x, -x), repeats=REPEATS)
    assert o.verdict == "confirmed" and o.interval.hi == pytest.approx(-1.0) and "descriptive" in o.summary
    assert check_tradeoff(_tradeoff_runs(x, x), repeats=REPEATS).verdict == "refuted"  # the opposite relation
    rng = np.random.default_rng(0)
    o = check_tradeoff(_tradeoff_runs(rng.standard_normal(300), rng.standard_normal(300)), repeats=REPEATS)
    assert o.verdict == "refuted" and -0.5 < o.interval.lo and o.interval.hi < 0.5 and "descriptive" not in o.summary
    # a moderate negative correlation over few runs: the interval straddles −0.5, even if it excludes 0
    o = check_tradeoff(_tradeoff_runs(x, -x + 4 * np.random.default_rng(3).standard_normal(8)), repeats=REPEATS)
    assert o.verdict == "inconclusive" and o.interval.lo < -0.5 < o.interval.hi
    assert check_tradeoff(_tradeoff_runs(x[:4], -x[:4])).verdict == "inconclusive"  # < min_runs
    assert check_tradeoff(_tradeoff_runs(x, -x, model="beta_vae")).verdict == "inconclusive"


def test_run_summary_index_is_over_captured_nmi_factors():
    t = _table(_rows(0, ratio=0.6, flag_nmi=(1,)), _rows(1, ratio=0.2, captured=False))
    s = run_summary(t)
    assert list(s.disintegration_nmi[:1]) == [0.6] and np.isnan(s.disintegration_nmi[1])
    assert list(s.flagged) == [True, False] and list(s.captured) == [5, 0]


# ---------------------------------------------------------------------------------------------------------------
# All claims: half training, the verdict table, the headline share
# ---------------------------------------------------------------------------------------------------------------

def test_check_claims_combines_full_and_half_training():
    full = _table(*[_rows(r, seed=r, flag_nmi=(0,)) for r in range(14)])  # 14 runs: enough to decide either way
    half = _table(*[_rows(r, seed=r) for r in range(14)])
    claims = check_claims(full, half=half, repeats=50)
    assert list(claims) == list(CLAIMS)
    o = claims["exists"]
    assert o.verdict == "not converged" and (o.end, o.half) == ("confirmed", "refuted")  # both kept apart
    assert o.summary == "not converged: confirmed at the end of training, refuted at half training"
    same = check_claims(full, half=full, repeats=50)["exists"]
    assert same.verdict == "confirmed" and same.half == "confirmed" and "At half training: 1.00" in same.evidence
    none = check_claims(full, repeats=50)["exists"]
    assert none.verdict == none.end == "confirmed" and none.half is None and "no run kept a snapshot" in none.evidence
    assert all(any(w in o.summary for w in VERDICTS) for o in claims.values())


def test_verdict_table():
    claims = check_claims(_table(*[_rows(r, seed=r, flag_nmi=(0,)) for r in range(14)]), repeats=50)
    t = verdict_table(claims, QUANTITIES)
    assert list(t.columns) == ["claim", "in the paper", "quantity", "interval", "threshold", "seeds", "half training",
                               "verdict"]
    assert len(t) == len(CLAIMS) and t.threshold[0] == "> 0.25" and t.seeds[0] == 14
    assert t["in the paper"].tolist() == ["§5.3", "§5.4, Figs 7, 8", "§5.4, Fig. 8", "§5.3, §6", "§5.3"]
    assert t.threshold.tolist()[-1] == "< −0.5 (inside ±0.5: refuted)"  # the trade-off's band
    assert t["half training"][0] == "not computed" and t.interval[0].startswith("1.00 [0.61, 1.00] (90 % interval")


def test_deficit_share_interval():
    t = _table(_rows(0, n_factors=3, gaps_r2=[0.5, 0.6, 0.7]), _rows(1, n_factors=3, gaps_r2=[0.2, 0.4, 0.6]))
    iv = deficit_share_interval(t, "r2", repeats=50)
    assert iv.estimate == pytest.approx(50.0) and iv.basis == "runs (bootstrap)" and iv.n == 2  # explained = ½ deficit
    one = deficit_share_interval(t[t.run == 0], "r2", repeats=50)
    assert one.basis == "one run (bootstrap over factors)" and one.estimate == pytest.approx(50.0)
    assert deficit_share_interval(t.assign(deficit=0.0), "r2") is None


def test_claims_and_suppression_figures_draw_what_they_are_given():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rtc.claims import THRESHOLDS
    from rtc.experiments.disintegration.plots import claims_figure, suppression_figure

    claims = check_claims(_suppression_runs([0.6] * 4), repeats=50)
    fig = claims_figure(claims, THRESHOLDS)
    assert [ax.get_title() for ax in fig.axes] == [f"{o.claim}: {o.verdict}" for o in claims.values()]
    assert len(fig.axes[-1].lines) == 2  # the band rule: both bounds; no interval for the trade-off here
    assert fig.axes[-1].texts[0].get_text() == "no interval"
    tables = {m: suppression_table(_suppression_runs([0.6] * 4), m) for m in ("sap", "mig")}
    fig = suppression_figure(tables)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 4  # one line per run with both kinds of factor
    plt.close("all")


# ------------------------------------------------------------------------------------------------ active latents

def _enc(codes, factors):
    from rtc.models.encoding import Encoding

    return Encoding(codes, np.ones_like(codes), codes, factors, np.zeros(len(codes)))


def test_active_encodings_keep_the_latents_whose_mean_varies():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((500, 4)) * np.array([1.0, 0.05, 0.5, 0.001])  # variances 1, 0.0025, 0.25, 1e-6
    out = active_encodings([_enc(mu, None), None, _enc(mu[:, [0, 1]], None)])
    assert out[0].mu.shape == (500, 2) and np.array_equal(out[0].mu, mu[:, [0, 2]])
    assert np.array_equal(out[0].z, mu[:, [0, 2]]) and out[0].sigma.shape == (500, 2)
    assert out[1] is None and out[2] is None  # no encoding; one active latent: no pair to split into


def test_a_split_over_an_inactive_latent_differs_between_the_two_views():
    # factor 0 split over latents 0 and 1 (k = 2 digits); latent 1 then shrunk to variance 0.0025 < 0.01: MI
    # ignores scale, so over all latents the split is flagged, over the active ones there is none to flag.
    code = synthetic_code("split", k=2, m=4)
    codes = code.codes * np.array([1.0, 0.05, 1.0, 1.0])
    full = analyse_codes(codes, code.factors, factor_names=code.factor_names)
    (act,) = active_encodings([_enc(codes, code.factors)])
    active = analyse_codes(act.mu, code.factors, factor_names=code.factor_names)
    assert act.mu.shape[1] == 3
    # (normalised MI: each base-4 digit carries half of the 16-valued factor's entropy)
    assert full[(full.score == "nmi") & (full.factor_index == 0)].disintegrated.item()
    assert not active[(active.score == "nmi") & (active.factor_index == 0)].disintegrated.any()


def test_check_claims_active_judges_the_active_view_and_needs_two_active_latents():
    code = synthetic_code("split", k=2, m=4)
    run = SimpleNamespace(config=SimpleNamespace(model="rtc_vae", strength=10.0, seed=0),
                          dataset=SimpleNamespace(name="dsprites"), factor_names=code.factor_names)
    enc = _enc(code.codes, code.factors)
    claims = check_claims_active([run], [enc], None, repeats=50)
    assert list(claims) == list(CLAIMS) and all(o.verdict in VERDICTS for o in claims.values())
    flat = _enc(code.codes * np.array([1.0, 0.01, 0.01, 0.01]), code.factors)  # one active latent
    assert check_claims_active([run], [flat], None, repeats=50) == {}


def test_check_claims_active_reuses_the_rows_of_runs_whose_latents_are_all_active():
    code = synthetic_code("split", k=2, m=4)
    runs = [SimpleNamespace(config=SimpleNamespace(model=m, strength=10.0, seed=s),
                            dataset=SimpleNamespace(name="dsprites"), factor_names=code.factor_names)
            for m, s in (("rtc_vae", 0), ("factor_vae", 1))]
    encs = [_enc(code.codes, code.factors), _enc(code.codes * np.array([1.0, 0.05, 1.0, 1.0]), code.factors)]
    full = analyse_runs(runs, encs)
    fresh = check_claims_active(runs, encs, repeats=50)
    reused = check_claims_active(runs, encs, factors=full, repeats=50)
    assert {k: (o.verdict, o.evidence) for k, o in fresh.items()} == \
        {k: (o.verdict, o.evidence) for k, o in reused.items()}


def test_check_claims_counts_learned_runs_only_and_marks_untestable_claims():
    full = _table(*[_rows(r, seed=r, flag_nmi=(0,)) for r in range(10)], *[_rows(r, seed=r) for r in range(10, 14)])
    every = check_claims(full, repeats=50)["exists"]
    learned = check_claims(full, learned=range(10), repeats=50)["exists"]
    assert every.values["runs"] == 14 and learned.values["runs"] == 10 and learned.verdict == "confirmed"
    assert "Not learned (left out): rtc_vae s10, rtc_vae s11, rtc_vae s12, rtc_vae s13." in learned.evidence
    o = check_claims(full, untestable={"distinct": "the DIP positive control fails"}, repeats=50)["distinct"]
    assert o.verdict == "inconclusive" and o.summary.startswith("inconclusive: untestable at this budget — the DIP")


def test_check_claims_without_a_learned_run_is_inconclusive():
    full = _table(*[_rows(r, seed=r, flag_nmi=(0,)) for r in range(4)])
    claims = check_claims(full, half=full, learned=[], repeats=50)
    assert {o.verdict for o in claims.values()} == {"inconclusive"}
    assert all("no learned run" in o.summary for o in claims.values())
