"""The estimator study: the paper's four observations as tests with named thresholds, and the law fits.

The estimator chapter runs the estimators (Figure 2 grid, the appendix's law grid) and hands the
results here as long tables; everything it concludes from them is computed by this module, so
each threshold is written once (:class:`rtc.claims.Thresholds`: ``accurate``, ``low_tc``,
``low_d``, ``high_d``, ``most``, ``few``, ``law_slope``) and each verdict is a function of the run.

Inputs (pandas DataFrames, one row per estimate):

- Figure 2 grid: columns ``estimator, D, det, repeat, truth, value`` (``truth`` the exact TC(z)).
- Law grid: columns ``estimator, D, M, shutdown, rule, repeat, value, predicted`` (``M`` the batch
  size, ``shutdown`` the number of shut-down dimensions, 0 or 1, ``rule`` the dataset-size
  convention, ``predicted`` the isolated-point law of :func:`rtc.estimators.isolated_point_tc`).

Verdicts are words of :data:`VERDICTS`: ``confirmed`` (the claim holds in at least ``most`` of the
cells it is about), ``refuted`` (in at most ``few``), ``partly`` (in between) and ``inconclusive``
(the run has no cell the claim is about, e.g. a profile without D < 4 for observation 2).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rtc.claims import THRESHOLDS, VERDICTS, Observation, Thresholds, fraction_verdict, joint_verdict, order_verdict

__all__ = ["VERDICTS", "Observation", "cell_means", "fraction_verdict", "check_observations",
           "error_table", "estimator_errors", "paper_law_x", "law_fits", "per_dim_slopes", "check_paper_laws",
           "isolated_residuals", "shutdown_drop", "shutdown_drop_theory", "spread_term_per_dim"]

MWS_FORMS = ("mws", "mws_noconst")
MSS_FORMS = ("mss0", "mss1")


def _need(df: pd.DataFrame, columns, name: str):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}; it has {list(df.columns)}")


def cell_means(results: pd.DataFrame) -> pd.DataFrame:
    """Per (estimator, D, det) cell: mean ``value`` over repeats, its ``lo``/``hi`` (min/max), mean ``truth``
    and mean ``error`` (= value − truth). ``results``: the Figure 2 grid (see the module docstring)."""
    _need(results, ["estimator", "D", "det", "truth", "value"], "results")
    r = results.assign(error=results["value"] - results["truth"])
    return r.groupby(["estimator", "D", "det"]).agg(value=("value", "mean"), lo=("value", "min"),
                                                    hi=("value", "max"), truth=("truth", "mean"),
                                                    error=("error", "mean")).reset_index()


def _frac(mask) -> float:
    """Fraction of True in ``mask``; NaN (no cells, so no verdict) for an empty one."""
    mask = np.asarray(mask, dtype=bool)
    return float(mask.mean()) if mask.size else float("nan")


def _pct(percent: float) -> str:
    return f"{percent:.0f} %"


def _obs1(mb: pd.DataFrame, t: Thresholds) -> Observation:
    """MWS tends to under-estimate TC — judged for both of its forms."""
    v, verdicts = {}, {}
    for n, key in (("mws", "const"), ("mws_noconst", "noconst")):
        err = mb[mb.estimator == n].error
        under = _frac(err < 0)
        v[f"under-{key}"] = 100 * under
        v[f"mean-{key}"] = float(err.mean()) if len(err) else float("nan")
        verdicts[key] = fraction_verdict(under, most=t.most, few=t.few)
    if verdicts["const"] == verdicts["noconst"]:
        verdict = summary = verdicts["const"]
    else:
        verdict = "partly"
        summary = (f"{verdicts['noconst']} for the form without constants (disentanglement_lib's), "
                   f"{verdicts['const']} for Chen et al.'s form with log(B·N)")
    if math.isnan(v["under-const"]):
        evidence = "This run has no MWS estimates."
    else:
        evidence = (f"Without the log(B·N) constants the cell mean is below the truth in {_pct(v['under-noconst'])} "
                    f"of the cells (mean error {v['mean-noconst']:.1f} nats); with them, in "
                    f"{_pct(v['under-const'])} (mean error {v['mean-const']:.1f} nats).")
    return Observation("MWS tends to under-estimate TC", verdict, summary, evidence, v)


def _obs2(mb: pd.DataFrame, t: Thresholds) -> Observation:
    """For D < low_d, MSS0 and MSS1 are relatively accurate (every cell mean within ±accurate)."""
    low = sorted(int(d) for d in mb.D.unique() if d < t.low_d)
    v, parts, ok = {}, [], []
    for d in low:
        errs = {n: float(mb[(mb.estimator == n) & (mb.D == d)].error.abs().max()) for n in MSS_FORMS}
        v.update({f"maxerr-{n}-{d}": e for n, e in errs.items()})
        parts.append(f"at D = {d}: MSS0 {errs['mss0']:.2f}, MSS1 {errs['mss1']:.2f} nats")
        if all(e <= t.accurate for e in errs.values()):
            ok.append(d)
    if not low:
        verdict = summary = "inconclusive"
        evidence = f"This run has no latent dimension D < {t.low_d}."
    else:
        evidence = "Largest cell-mean error " + "; ".join(parts) + "."
        verdict = joint_verdict("confirmed" if d in ok else "refuted" for d in low)  # every D, as the paper says
        summary = verdict if verdict != "partly" else f"confirmed only for D ∈ {{{', '.join(map(str, ok))}}}"
    return Observation(f"for D < {t.low_d}, MSS0 and MSS1 are relatively accurate", verdict, summary, evidence, v)


def _obs3(mb: pd.DataFrame, t: Thresholds) -> Observation:
    """For high D, MSS over-estimates TC when it is small (error > +accurate where truth < low_tc, D ≥ high_d)."""
    hi = mb[(mb.D >= t.high_d) & (mb.truth < t.low_tc)]
    v, fracs = {}, []
    for n in MSS_FORMS:
        err = hi[hi.estimator == n].error
        fracs.append(_frac(err > t.accurate))
        v[f"over-{n}"] = 100 * fracs[-1]
        v[f"meanerr-{n}"] = float(err.mean()) if len(err) else float("nan")
    if any(math.isnan(f) for f in fracs):
        verdict = "inconclusive"
        evidence = f"This run has no cell with D ≥ {t.high_d} and true TC < {t.low_tc:g}."
    else:
        # confirmed only if both implementations over-estimate in most cells, refuted if neither does
        verdict = joint_verdict(fraction_verdict(f, most=t.most, few=t.few) for f in fracs)
        evidence = (f"Among cells with D ≥ {t.high_d} and true TC < {t.low_tc:g}, MSS0 over-estimates by more than "
                    f"{t.accurate:g} nats in {_pct(v['over-mss0'])} (mean error {v['meanerr-mss0']:.1f}), MSS1 in "
                    f"{_pct(v['over-mss1'])} (mean error {v['meanerr-mss1']:.1f}).")
    return Observation("for high D, MSS over-estimates TC when it is small", verdict, verdict, evidence, v)


def _obs4(mb: pd.DataFrame) -> Observation:
    """Overall MSS1 is closer to the truth than MSS0 (lower mean absolute error and closer in most cells)."""
    e0 = mb[mb.estimator == "mss0"].set_index(["D", "det"]).error.abs()
    e1 = mb[mb.estimator == "mss1"].set_index(["D", "det"]).error.abs()
    e0, e1 = e0.align(e1, join="inner")
    closer = _frac((e1 < e0).to_numpy())
    v = {"mae-mss0": float(e0.mean()) if len(e0) else float("nan"),
         "mae-mss1": float(e1.mean()) if len(e1) else float("nan"),
         "closer": 100 * closer}
    if math.isnan(closer):
        verdict, evidence = "inconclusive", "This run has no cell with both MSS estimates."
    else:
        # both criteria: a lower mean absolute error, and closer in most cells
        verdict = joint_verdict([order_verdict(v["mae-mss1"], v["mae-mss0"]), order_verdict(0.5, closer)])
        evidence = (f"Mean absolute error over all cells: MSS0 {v['mae-mss0']:.2f}, MSS1 {v['mae-mss1']:.2f} nats; "
                    f"MSS1 is closer in {_pct(v['closer'])} of the cells.")
    return Observation("overall MSS1 is closer to the truth than MSS0", verdict, verdict, evidence, v)


def check_observations(cells: pd.DataFrame, thresholds: Thresholds = THRESHOLDS) -> list[Observation]:
    """The paper's four observations (section 4) judged on the cell means of :func:`cell_means`.

    Returns [observation 1, …, observation 4]; see each ``Observation.claim``. Only the minibatch
    estimators' cells (``mws``, ``mws_noconst``, ``mss0``, ``mss1``) are read.
    """
    _need(cells, ["estimator", "D", "det", "truth", "error"], "cells")
    mb = cells[cells.estimator.isin(MWS_FORMS + MSS_FORMS)]
    return [_obs1(mb, thresholds), _obs2(mb, thresholds), _obs3(mb, thresholds), _obs4(mb)]


def error_table(cells: pd.DataFrame, estimators=MWS_FORMS + MSS_FORMS) -> pd.DataFrame:
    """Mean absolute error (nats) of the cell means: one row per estimator (in ``estimators`` order), one column
    per D."""
    _need(cells, ["estimator", "D", "error"], "cells")
    sub = cells[cells.estimator.isin(estimators)]
    table = sub.assign(abs_error=sub.error.abs()).groupby(["estimator", "D"]).abs_error.mean().unstack("D")
    return table.reindex([e for e in estimators if e in table.index])


def estimator_errors(cells: pd.DataFrame, estimator: str) -> tuple[float, float]:
    """(mean, max) absolute error (nats) of ``estimator``'s cell means over all cells."""
    _need(cells, ["estimator", "error"], "cells")
    err = cells[cells.estimator == estimator].error.abs()
    if err.empty:
        raise ValueError(f"estimator {estimator!r} has no cell; cells has {sorted(cells.estimator.unique())}")
    return float(err.mean()), float(err.max())


# --- the appendix's laws -------------------------------------------------------------------------------

def paper_law_x(dim, batch_size, shutdown=0):
    """The paper's law, in nats: (D − 1 − shutdown)·log M (appendix 1.3; (D − 2)·log M with one dimension shut)."""
    return (np.asarray(dim) - 1 - np.asarray(shutdown)) * np.log(np.asarray(batch_size, dtype=float))


def _line(x, y) -> tuple[float, float]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.unique(x).size < 2:
        raise ValueError(f"a slope needs at least two distinct x values, got {np.unique(x).tolist()} "
                         "(the law grid needs at least two batch sizes)")
    a, b = np.polyfit(x, y, 1)
    return float(a), float(b)


def law_fits(law: pd.DataFrame) -> pd.DataFrame:
    """Least-squares fit of the estimate on the paper's law x = (D − 1 − shutdown)·log M over the whole grid,
    per (estimator, rule, shutdown): columns ``estimator, rule, shutdown, slope, intercept, R2``. A law that
    holds has slope ≈ 1, intercept ≈ 0, R² ≈ 1."""
    _need(law, ["estimator", "D", "M", "shutdown", "rule", "value"], "law")
    rows = []
    for (name, rule, shut), g in law.groupby(["estimator", "rule", "shutdown"]):
        x = paper_law_x(g.D, g.M, g.shutdown)
        a, b = _line(x, g.value)
        r2 = 1 - np.sum((g.value - (a * x + b)) ** 2) / np.sum((g.value - g.value.mean()) ** 2)
        rows.append(dict(estimator=name, rule=rule, shutdown=shut, slope=a, intercept=b, R2=float(r2)))
    return pd.DataFrame(rows)


def per_dim_slopes(law: pd.DataFrame) -> pd.DataFrame:
    """Slope and intercept of the estimate in log M per (estimator, rule, shutdown, D)."""
    _need(law, ["estimator", "D", "M", "shutdown", "rule", "value"], "law")
    rows = []
    for (name, rule, shut, d), g in law.groupby(["estimator", "rule", "shutdown", "D"]):
        a, b = _line(np.log(g.M.to_numpy(dtype=float)), g.value)
        rows.append(dict(estimator=name, rule=rule, shutdown=shut, D=d, slope=a, intercept=b))
    return pd.DataFrame(rows)


def check_paper_laws(slopes: pd.DataFrame, thresholds: Thresholds = THRESHOLDS,
                     labels: dict | None = None) -> list[Observation]:
    """The appendix's two laws judged on :func:`per_dim_slopes`: [(D − 1)·log M with all dimensions
    active, (D − 2)·log M with one shut down].

    A (estimator, rule, D) slope follows the law if it is within ±``law_slope`` of D − 1 − shutdown;
    the verdict is :func:`fraction_verdict` of the fraction that do. ``values`` hold that share (percent) and,
    for the second law, the mean/min/max change of the slope when a dimension is shut down (the law
    predicts −1). ``labels`` maps estimator names to the names printed in the summaries.
    """
    _need(slopes, ["estimator", "rule", "shutdown", "D", "slope"], "slopes")
    labels = labels or {}
    s = slopes.assign(paper=slopes.D - 1 - slopes.shutdown)
    s = s.assign(follows=(s.slope - s.paper).abs() <= thresholds.law_slope)
    out = []
    for shut, law_name in ((0, "(D − 1)·log M"), (1, "(D − 2)·log M")):
        g = s[s.shutdown == shut]
        follows = _frac(g.follows)
        v = {"follows": 100 * follows}
        verdict = fraction_verdict(follows, most=thresholds.most, few=thresholds.few)
        pairs = g[g.follows].groupby(["estimator", "rule"]).D.apply(list)
        who = "; ".join(f"{labels.get(n, n)} with {rule}, D ∈ {{{', '.join(map(str, ds))}}}"
                        for (n, rule), ds in pairs.items())
        summary = verdict if verdict in ("confirmed", "refuted", "inconclusive") else f"partly ({who})"
        evidence = (f"{_pct(v['follows'])} of the (estimator, N convention, D) slopes lie within "
                    f"±{thresholds.law_slope:g} of D − {1 + shut}" + (f" ({who})" if who else "") + "."
                    if len(g) else "This run has no such slopes.")
        if shut:
            both = s.pivot_table(index=["estimator", "rule", "D"], columns="shutdown", values="slope")
            change = (both[1] - both[0]).dropna() if {0, 1} <= set(both.columns) else pd.Series(dtype=float)
            v.update({"change-mean": float(change.mean()) if len(change) else float("nan"),
                      "change-min": float(change.min()) if len(change) else float("nan"),
                      "change-max": float(change.max()) if len(change) else float("nan")})
            if len(change):
                evidence += (f" Shutting a dimension down changes the slope by {v['change-mean']:+.2f} on average "
                             f"(range {v['change-min']:+.2f} to {v['change-max']:+.2f}); the law predicts −1.")
        out.append(Observation(f"the minibatch estimates grow like {law_name}", verdict, summary, evidence, v))
    return out


def isolated_residuals(law: pd.DataFrame, *, min_batch: int = 256) -> tuple[pd.Series, int]:
    """Largest |value − predicted| (nats) per estimator over the law grid's batch sizes M ≥ m, and m.

    m = min(min_batch, largest M of the grid): the isolated-point law improves as the batch grows, so the
    residual is read on the large batches; a grid whose batches are all smaller than ``min_batch`` is read
    at its largest batch size (never on an empty set).
    """
    _need(law, ["estimator", "M", "value", "predicted"], "law")
    if law.empty:
        raise ValueError("law is empty")
    m = int(min(min_batch, law.M.max()))
    big = law[law.M >= m]
    return (big.value - big.predicted).abs().groupby(big.estimator).max(), m


def shutdown_drop(law: pd.DataFrame) -> pd.Series:
    """Mean estimate with all dimensions active minus with one shut down, per (estimator, rule, D, M) (nats)."""
    _need(law, ["estimator", "rule", "D", "M", "shutdown", "value"], "law")
    keys = ["estimator", "rule", "D", "M"]
    full = law[law.shutdown == 0].groupby(keys).value.mean()
    shut = law[law.shutdown == 1].groupby(keys).value.mean()
    return (full - shut).dropna()


def spread_term_per_dim(sigma: float, var_mu: float = 1.0) -> float:
    """½·log(1 + Var µ_k / σ²): one active dimension's share of the isolated-point law's first term (nats)."""
    if not sigma > 0 or not var_mu >= 0:
        raise ValueError(f"need sigma > 0 and var_mu ≥ 0, got sigma={sigma!r}, var_mu={var_mu!r}")
    return 0.5 * math.log1p(var_mu / sigma ** 2)


def shutdown_drop_theory(sigma: float, sigma0: float) -> float:
    """What shutting one unit-variance dimension down to Var µ = σ₀² removes from the isolated-point law:
    ½·log((1 + σ²)/(σ² + σ₀²)) nats, independent of M and N."""
    if not sigma > 0 or not sigma0 >= 0:
        raise ValueError(f"need sigma > 0 and sigma0 ≥ 0, got sigma={sigma!r}, sigma0={sigma0!r}")
    return 0.5 * math.log((1 + sigma ** 2) / (sigma ** 2 + sigma0 ** 2))
