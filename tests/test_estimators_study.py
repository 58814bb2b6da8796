"""rtc.experiments.estimator_study: the observations' verdicts and the law fits on hand-made tables with known
answers."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.claims import Thresholds
from rtc.experiments import estimator_study as study


def cells_from(errors: dict, truth: dict | None = None) -> pd.DataFrame:
    """Cell means from {(estimator, D, det): error}; truth defaults to 1.0 nat."""
    truth = truth or {}
    rows = []
    for (name, d, det), err in errors.items():
        t = truth.get((d, det), 1.0)
        rows.append(dict(estimator=name, D=d, det=det, repeat=0, truth=t, value=t + err))
    return study.cell_means(pd.DataFrame(rows))


def grid(errors_by_estimator: dict, dims, dets, truth=None):
    return cells_from({(n, d, det): f(d, det) for n, f in errors_by_estimator.items() for d in dims for det in dets},
                      truth)


# --- cell means ---------------------------------------------------------------------------------------

def test_cell_means_averages_repeats_and_keeps_range():
    rows = [dict(estimator="mss1", D=2, det=0.5, repeat=r, truth=1.0, value=v) for r, v in enumerate([0.5, 1.5, 2.5])]
    c = study.cell_means(pd.DataFrame(rows))
    assert len(c) == 1
    assert c.value.item() == pytest.approx(1.5) and c.lo.item() == 0.5 and c.hi.item() == 2.5
    assert c.error.item() == pytest.approx(0.5)


def test_cell_means_names_missing_columns():
    with pytest.raises(ValueError, match="truth"):
        study.cell_means(pd.DataFrame({"estimator": ["mws"], "D": [2], "det": [1.0], "value": [0.0]}))


# --- verdict vocabulary -------------------------------------------------------------------------------

@pytest.mark.parametrize("fraction, verdict", [(1.0, "confirmed"), (0.9, "confirmed"), (0.5, "partly"),
                                               (0.1, "refuted"), (0.0, "refuted"), (float("nan"), "inconclusive")])
def test_fraction_verdict(fraction, verdict):
    assert study.fraction_verdict(fraction) == verdict


def test_fraction_verdict_rejects_out_of_range():
    with pytest.raises(ValueError, match="fraction"):
        study.fraction_verdict(1.5)


@given(st.floats(0, 1))
def test_fraction_verdict_is_monotone(f):
    order = {"refuted": 0, "partly": 1, "confirmed": 2}
    assert order[study.fraction_verdict(f)] <= order[study.fraction_verdict(min(1.0, f + 0.05))]


def test_thresholds_validated():
    with pytest.raises(ValueError, match="accurate"):
        Thresholds(accurate=0)
    with pytest.raises(ValueError, match="few"):
        Thresholds(few=0.9, most=0.5)


def test_the_study_judges_by_the_one_registry():
    """The study's default thresholds are rtc.claims.THRESHOLDS, not a copy of them."""
    import inspect

    from rtc.claims import THRESHOLDS

    for f in (study.check_observations, study.check_paper_laws):
        assert inspect.signature(f).parameters["thresholds"].default is THRESHOLDS
    assert not hasattr(study, "Thresholds") or study.Thresholds is Thresholds


# --- the four observations ----------------------------------------------------------------------------

DIMS, DETS = [2, 3, 5, 10], [0.05, 0.5, 1.0]
TRUTH = {(d, det): -0.5 * math.log(det) for d in DIMS for det in DETS}  # det 1.0: truth 0 (small TC)


def paper_world():
    """A run in which every observation holds as the paper states it (for the constant-free MWS)."""
    return grid({"mws": lambda d, det: 20.0 * d,                    # Chen et al.'s form over-estimates
                 "mws_noconst": lambda d, det: -5.0 * d,             # under-estimates everywhere
                 "mss0": lambda d, det: 0.2 if d < 4 else 2.0,      # accurate in low D, over in high D
                 "mss1": lambda d, det: 0.1 if d < 4 else 1.0},
                DIMS, DETS, TRUTH)


def test_observations_in_the_papers_world():
    obs = study.check_observations(paper_world())
    assert [o.verdict for o in obs] == ["partly", "confirmed", "confirmed", "confirmed"]
    assert obs[0].summary.startswith("confirmed for the form without constants")
    assert "refuted for Chen et al.'s form" in obs[0].summary
    assert obs[0].values["under-noconst"] == 100.0 and obs[0].values["under-const"] == 0.0
    assert obs[1].values["maxerr-mss0-2"] == pytest.approx(0.2)
    assert obs[2].values["over-mss0"] == 100.0 and obs[2].values["meanerr-mss1"] == pytest.approx(1.0)
    assert obs[3].values["closer"] == 100.0 and obs[3].values["mae-mss1"] < obs[3].values["mae-mss0"]
    for o in obs:
        assert o.verdict in study.VERDICTS and o.evidence


def test_observations_refuted():
    cells = grid({"mws": lambda d, det: 1.0, "mws_noconst": lambda d, det: 1.0,   # both over-estimate
                  "mss0": lambda d, det: 0.1 if d < 4 else -0.1,                  # MSS0 accurate, no over-estimate
                  "mss1": lambda d, det: 1.0},                                    # MSS1 worse everywhere
                 DIMS, DETS, TRUTH)
    obs = study.check_observations(cells)
    assert [o.verdict for o in obs] == ["refuted", "refuted", "partly", "refuted"]
    assert obs[0].summary == "refuted"


def test_observation2_partly_names_the_dimensions_that_pass():
    cells = grid({"mws": lambda d, det: -1.0, "mws_noconst": lambda d, det: -1.0,
                  "mss0": lambda d, det: 0.1 if d == 2 else 0.3, "mss1": lambda d, det: 0.0},
                 DIMS, DETS, TRUTH)
    o = study.check_observations(cells)[1]
    assert o.verdict == "partly" and o.summary == "confirmed only for D ∈ {2}"


def test_thresholds_are_parameters_not_constants():
    cells = grid({"mws": lambda d, det: -1.0, "mws_noconst": lambda d, det: -1.0,
                  "mss0": lambda d, det: 0.3, "mss1": lambda d, det: 0.3}, DIMS, DETS, TRUTH)
    assert study.check_observations(cells)[1].verdict == "refuted"
    assert study.check_observations(cells, Thresholds(accurate=0.35))[1].verdict == "confirmed"
    # observation 2 covers D < low_d: with low_d = 3 only D = 2 counts
    assert "D = 3" not in study.check_observations(cells, Thresholds(low_d=3))[1].evidence


def test_observations_inconclusive_without_cells_to_judge():
    # no D < 4 (observation 2) and no small true TC (observation 3): nothing to judge, no NaN verdicts
    cells = grid({"mws": lambda d, det: -1.0, "mws_noconst": lambda d, det: -1.0,
                  "mss0": lambda d, det: 0.3, "mss1": lambda d, det: 0.1}, [5, 8], [0.05], TRUTH | {(8, 0.05): 1.5})
    obs = study.check_observations(cells)
    assert obs[1].verdict == "inconclusive" and "no latent dimension D < 4" in obs[1].evidence
    assert obs[2].verdict == "inconclusive" and "nan" not in obs[2].evidence.lower()
    assert obs[0].verdict == "confirmed" and obs[3].verdict == "confirmed"


def test_error_table_and_estimator_errors():
    cells = paper_world()
    table = study.error_table(cells)
    assert list(table.index) == ["mws", "mws_noconst", "mss0", "mss1"] and list(table.columns) == DIMS
    assert table.loc["mss0", 10] == pytest.approx(2.0) and table.loc["mws_noconst", 3] == pytest.approx(15.0)
    mae, mx = study.estimator_errors(cells, "mss1")
    assert mae == pytest.approx(0.55) and mx == pytest.approx(1.0)
    with pytest.raises(ValueError, match="knn"):
        study.estimator_errors(cells, "knn")


# --- the laws -------------------------------------------------------------------------------------------

def law_table(slope_of, dims=(5, 10), ms=(64, 128, 256), rules=("N fixed", "N = M")):
    """Estimates that are exactly slope_of(name, rule, shut, D)·log M + 1, with the isolated law predicting
    value − 0.1."""
    rows = []
    for name in ("mws", "mss1"):
        for rule in rules:
            for shut in (0, 1):
                for d in dims:
                    for m in ms:
                        v = slope_of(name, rule, shut, d) * math.log(m) + 1.0
                        rows.append(dict(estimator=name, D=d, M=m, shutdown=shut, rule=rule, repeat=0, value=v,
                                         predicted=v - 0.1 * (m < 256) - 0.01))
    return pd.DataFrame(rows)


def test_paper_law_x():
    assert study.paper_law_x(5, math.e ** 2) == pytest.approx(8.0)
    assert study.paper_law_x(5, math.e ** 2, 1) == pytest.approx(6.0)


def test_per_dim_slopes_recover_known_slopes():
    law = law_table(lambda n, rule, shut, d: d - 1 - shut if n == "mws" else -1.0)
    s = study.per_dim_slopes(law).set_index(["estimator", "rule", "shutdown", "D"])
    assert s.loc[("mws", "N = M", 0, 10), "slope"] == pytest.approx(9.0)
    assert s.loc[("mws", "N = M", 1, 5), "slope"] == pytest.approx(3.0)
    assert s.loc[("mss1", "N fixed", 0, 5), "intercept"] == pytest.approx(1.0)


def test_law_fits_exact_law_has_unit_slope():
    law = law_table(lambda n, rule, shut, d: d - 1 - shut)
    f = study.law_fits(law)
    assert np.allclose(f.slope, 1.0) and np.allclose(f.intercept, 1.0) and np.allclose(f.R2, 1.0)


def test_slopes_need_two_batch_sizes():
    with pytest.raises(ValueError, match="two batch sizes"):
        study.per_dim_slopes(law_table(lambda *a: 1.0, ms=(64,)))


def test_paper_laws_confirmed_refuted_partly():
    exact = study.check_paper_laws(study.per_dim_slopes(law_table(lambda n, rule, shut, d: d - 1 - shut)))
    assert [o.verdict for o in exact] == ["confirmed", "confirmed"]
    assert exact[1].values["change-mean"] == pytest.approx(-1.0)
    flat = study.check_paper_laws(study.per_dim_slopes(law_table(lambda *a: 0.0)))
    assert [o.verdict for o in flat] == ["refuted", "refuted"]
    assert flat[1].values["change-max"] == pytest.approx(0.0, abs=1e-9)
    # only MWS at N = M follows the law (in both shut-down states): 1 of 4 (estimator, rule) pairs
    one = study.check_paper_laws(study.per_dim_slopes(
        law_table(lambda n, rule, shut, d: d - 1 - shut if (n, rule) == ("mws", "N = M") else -1.0)),
        labels={"mws": "MWS"})
    assert one[0].verdict == "partly" and one[0].values["follows"] == 25.0
    assert "MWS with N = M, D ∈ {5, 10}" in one[0].summary
    # the tolerance is a parameter: slopes 0.4 off follow the law only with a wider tolerance
    off = study.per_dim_slopes(law_table(lambda n, rule, shut, d: d - 1 - shut + 0.4))
    assert study.check_paper_laws(off, Thresholds(law_slope=0.3))[0].verdict == "refuted"
    assert study.check_paper_laws(off, Thresholds(law_slope=0.5))[0].verdict == "confirmed"


def test_isolated_residuals_read_large_batches_or_the_largest():
    law = law_table(lambda *a: 1.0)
    res, m = study.isolated_residuals(law)
    assert m == 256 and res.to_dict() == pytest.approx({"mws": 0.01, "mss1": 0.01})
    small = law[law.M < 256]
    res, m = study.isolated_residuals(small)
    assert m == 128 and res.to_dict() == pytest.approx({"mws": 0.11, "mss1": 0.11})


def test_shutdown_drop():
    law = law_table(lambda n, rule, shut, d: 0.0)
    law.loc[law.shutdown == 1, "value"] -= 2.3
    drop = study.shutdown_drop(law)
    assert len(drop) == 2 * 2 * 2 * 3 and np.allclose(drop, 2.3)


def test_isolated_law_terms():
    assert study.spread_term_per_dim(0.1) == pytest.approx(0.5 * math.log(101))
    assert study.spread_term_per_dim(0.1) == pytest.approx(2.3076, abs=1e-4)
    # shutting a dimension down removes its spread term and adds the shut one's
    assert study.shutdown_drop_theory(0.1, 0.01) == pytest.approx(
        study.spread_term_per_dim(0.1) - study.spread_term_per_dim(0.1, 0.01 ** 2))
    assert study.shutdown_drop_theory(0.1, 0.0) == pytest.approx(0.5 * math.log(1.01 / 0.01))
    with pytest.raises(ValueError, match="sigma"):
        study.spread_term_per_dim(0.0)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.01, 3), st.floats(0, 0.5))
def test_shutdown_drop_theory_positive_when_shut_below_one(sigma, sigma0):
    assert study.shutdown_drop_theory(sigma, sigma0) > 0
