"""The disintegration chapter's claims (:data:`CLAIMS`), each judged by an interval.

Each ``check_*`` turns the analysis into one quantity with a 90 % interval
(``rtc.claims``: Student's t over runs or seeds where there are ≥ 2, else a bootstrap, "one seed") and a verdict
from where the interval lies against a threshold of :class:`rtc.claims.Thresholds` (exists_share, suppression,
dependent_excess, strong_rho; min_score, min_runs, min_cases guard the inputs). :func:`check_claims` checks them
at the end and at half training and combines the two (``rtc.claims.convergence_verdict``);
``rtc.claims.verdict_table`` is the table the chapter prints.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from rtc.claims import (
    LEVEL,
    THRESHOLDS,
    Interval,
    Observation,
    Thresholds,
    below_band_verdict,
    bootstrap_interval,
    convergence_verdict,
    interval_verdict,
    paired_interval,
    share_difference_interval,
    spearman_bootstrap,
)
from rtc.experiments.columns import need_columns

from .common import BINS, CLAIMS, DESCRIPTIVE_RUNS, DIP_MODELS, FACTOR_COLUMNS, FACTORISED_MODELS
from .quantities import permutation_pvalue, run_summary, suppression_table
from .runs import active_encodings, analyse_runs, tradeoff_dataset
from .trained import factor_flags, score_matrix

__all__ = ["check_exists", "check_suppression", "check_distinct", "check_tradeoff", "check_claims",
           "check_claims_active"]


def _none(name: str, why: str, th: Thresholds, seeds: int = 0, values=None) -> Observation:
    """An inconclusive claim without an interval: nothing (or too little) to judge."""
    return Observation(CLAIMS[name][0], "inconclusive", f"inconclusive: {why}", f"No interval: {why}.",
                       {**(values or {}), "side": CLAIMS[name][3]}, threshold=getattr(th, CLAIMS[name][2]),
                       seeds=seeds)


def _judged(name: str, interval: Interval, verdict: str, th: Thresholds, seeds: int, evidence: str,
            values: dict, note: str = "") -> Observation:
    return Observation(CLAIMS[name][0], verdict, verdict + note, f"{interval.text()}; {evidence}",
                       {**values, "estimate": interval.estimate, "lo": interval.lo, "hi": interval.hi,
                        "side": CLAIMS[name][3]},
                       interval=interval, threshold=getattr(th, CLAIMS[name][2]), seeds=seeds)


def _codes_of(codes, run: int):
    """The encoding of run ``run`` for a one-run bootstrap over images; a clear error without it."""
    enc = None if codes is None else codes[run]
    if enc is None:
        raise ValueError(f"one run (run {run}) to judge: its interval is a bootstrap over its images, so pass "
                         "its codes (codes[run], an encoding with mu and factors)")
    return enc


def _exists_statistic(codes, factors, *, min_score: float, seed: int) -> float:
    """1[a captured factor is flagged] − 1[one is flagged on its control code], under either score."""
    c, f = np.asarray(codes, dtype=np.float64), np.asarray(factors, dtype=np.int64)
    flagged = control = False
    for score in ("r2", "nmi"):
        _, table, _, captured, ctl = factor_flags(c, f, score, num_bins=BINS, min_score=min_score, seed=seed)
        flagged |= bool((captured & table.disintegrated.to_numpy(dtype=bool)).any())
        control |= bool(ctl.any())
    return float(flagged) - float(control)


def check_exists(factors: pd.DataFrame, codes=None, th: Thresholds = THRESHOLDS, *, repeats: int = 1000,
                 seed: int = 0, level: float = LEVEL) -> Observation:
    """Claim: factor disintegration exists in trained factorised models (FactorVAE, RTC-VAE, β-TCVAE).

    Quantity: over the factorised runs with a captured factor, the share with a flagged captured factor minus the
    share whose control code (:func:`pair_gain_table`'s ``control``: each captured factor's second latent
    permuted, so no split over that pair is possible) has one. Each run is paired with its own control; with ≥ 2
    runs the interval is the exact binomial one of the difference of the two shares
    (:func:`rtc.claims.share_difference_interval`: 0/1 outcomes that all agree must not give a point), with one
    run a bootstrap over its images
    (``codes[run]``: its encoding; the flags recomputed on each resample). Confirmed when the interval lies above
    ``exists_share``. ``factors``: an :func:`analyse_runs` table (run with the ``seed`` the analysis used)."""
    name = "exists"
    runs = run_summary(factors)
    fz = runs[runs.model.isin(FACTORISED_MODELS)]
    if fz.empty:
        return _none(name, "no factorised-model run in this profile", th)
    judged = fz[fz.captured > 0]
    if judged.empty:
        return _none(name, f"no factor of the {len(fz)} factorised runs is captured (best score ≥ chance + "
                           f"{th.min_score})", th, int(fz.seed.nunique()))
    if len(judged) >= 2:
        iv = share_difference_interval(int(judged.flagged.sum()), len(judged), int(judged.control.sum()),
                                       len(judged), level=level, basis="runs against their controls (exact binomial)")
    else:
        enc = _codes_of(codes, int(judged.run.iloc[0]))
        iv = bootstrap_interval(lambda mu, f: _exists_statistic(mu, f, min_score=th.min_score, seed=seed),
                                enc.mu, enc.factors, repeats=repeats, seed=seed, level=level)
    others = runs[~runs.model.isin(FACTORISED_MODELS) & (runs.captured > 0)]
    evidence = (f"{int(judged.flagged.sum())} of {len(judged)} factorised runs with a captured factor have a flagged "
                f"factor, {int(judged.control.sum())} on their control codes"
                + (f"; the other models (descriptive): {int(others.flagged.sum())} of {len(others)} runs, "
                   f"{int(others.control.sum())} on the controls" if len(others) else "")
                + f"; threshold {th.exists_share:g}.")
    return _judged(name, iv, interval_verdict(iv, th.exists_share, side="above"), th, int(judged.seed.nunique()),
                   evidence, {"runs": len(judged), "runs_flagged": int(judged.flagged.sum()),
                              "runs_control": int(judged.control.sum())})


def check_suppression(factors: pd.DataFrame, metric: str, codes=None, th: Thresholds = THRESHOLDS, *,
                      repeats: int = 1000, seed: int = 0, level: float = LEVEL) -> Observation:
    """Claim: disintegration suppresses SAP (``metric="sap"``) or MIG (``"mig"``).

    Over the runs with both flagged and unflagged captured factors (:func:`suppression_table`: gaps of the
    metric's matrix, flags from the other one), the quantity is each run's mean gap of its unflagged factors minus
    that of its flagged ones. With ≥ 2 such runs the interval is Student's t over the runs; with one, a bootstrap
    over its images (``codes[run]``), the flags fixed and the gaps recomputed. Confirmed when the interval lies
    above ``suppression``; inconclusive with fewer than ``min_cases`` flagged factors. The permutation p-value
    (:func:`permutation_pvalue`, flags shuffled across the factors of each run) is reported with it."""
    name = f"suppression-{metric}"
    t = suppression_table(factors, metric)
    counts = t.groupby("run").flag.agg(["sum", "count"])
    both = counts[(counts["sum"] > 0) & (counts["sum"] < counts["count"])].index
    e = t[t.run.isin(both)]
    flagged = int(e.flag.sum())
    if flagged < th.min_cases:
        return _none(name, f"{flagged} flagged captured factors in runs that also have unflagged ones (need ≥ "
                           f"{th.min_cases})", th, int(e.seed.nunique()), {"flagged": flagged})
    means = e.groupby(["run", "flag"]).gap.mean().unstack()
    if len(both) >= 2:
        iv = replace(paired_interval(means[True], means[False], level=level),
                     basis="runs (unflagged − flagged within each)")
    else:
        run = int(both[0])
        enc, r = _codes_of(codes, run), e[e.run == run]
        own = "r2" if metric == "sap" else "nmi"
        fl, un = r.factor_index[r.flag].to_numpy(), r.factor_index[~r.flag].to_numpy()

        def statistic(mu, f) -> float:
            top = np.sort(score_matrix(mu, f, own, BINS), axis=0)
            gap = top[-1] - top[-2]
            return float(gap[un].mean() - gap[fl].mean())

        iv = bootstrap_interval(statistic, enc.mu, enc.factors, repeats=repeats, seed=seed, level=level,
                                basis="one seed (bootstrap over images, flags fixed)")
    p = permutation_pvalue(e.run, e.gap, e.flag, repeats=repeats, seed=seed)
    evidence = (f"{flagged} flagged and {len(e) - flagged} unflagged captured factors in {len(both)} runs, mean gap "
                f"{e.gap[e.flag].mean():.2f} flagged against {e.gap[~e.flag].mean():.2f} unflagged; permutation "
                f"p = {p:.3f} (flags shuffled within runs); threshold {th.suppression:g}.")
    return _judged(name, iv, interval_verdict(iv, th.suppression, side="above"), th, int(e.seed.nunique()),
                   evidence, {"flagged": flagged, "runs": len(both), "p": p})


def _two_group_interval(a, b, *, repeats: int, seed: int, level: float) -> Interval:
    """mean(b) − mean(a) with a percentile bootstrap that resamples each group on its own (seeded)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    boot = [rng.choice(b, len(b)).mean() - rng.choice(a, len(a)).mean() for _ in range(repeats)]
    est = float(b.mean() - a.mean())
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return Interval(est, float(min(lo, est)), float(max(hi, est)), 1, "one seed (bootstrap over pairs)", level)


def check_distinct(factors: pd.DataFrame, th: Thresholds = THRESHOLDS, *, repeats: int = 1000, seed: int = 0,
                   level: float = LEVEL) -> Observation:
    """Claim: the disintegration of factorised models is distinct from DIP-VAE's dependence (the paper's Fig. 7
    against Fig. 6): DIP-VAE's split pairs are dependent beyond their correlation, the factorised models' are not.

    Pairs: the top pairs of captured factors whose two best latents are dedicated to them (normalised MI), with a
    finite excess MI (kNN MI − Gaussian MI, nats). Units: a dataset and seed with pairs of both groups. Quantity:
    the DIP-VAE pairs' mean excess MI minus the factorised models' in each unit; with ≥ 2 units Student's t over
    the paired differences, with one a bootstrap over its pairs (each group resampled; a bootstrap over images
    would re-run the kNN estimator per resample). Confirmed when the interval lies above ``dependent_excess``;
    inconclusive with fewer than ``min_cases`` pairs in a group."""
    name = "distinct"
    need_columns(factors, [*FACTOR_COLUMNS, "dedicated", "knn_mi", "excess_mi", "corr"])
    pairs = factors[factors.captured.astype(bool) & factors.dedicated.astype(bool) & (factors.score == "nmi")
                    & np.isfinite(factors.excess_mi)]
    fz, dip = pairs[pairs.model.isin(FACTORISED_MODELS)], pairs[pairs.model.isin(DIP_MODELS)]
    unit = lambda df: list(zip(df.dataset, df.seed, strict=True))  # noqa: E731  (a dataset and seed)
    units = sorted(set(unit(fz)) & set(unit(dip)))
    inside = lambda df: df[np.array([u in units for u in unit(df)], dtype=bool)]  # noqa: E731
    fz, dip = inside(fz), inside(dip)
    if min(len(fz), len(dip)) < th.min_cases:
        return _none(name, f"{len(fz)} factorised-model and {len(dip)} DIP-VAE dedicated top pairs of captured "
                           f"factors on a shared dataset and seed (need ≥ {th.min_cases} each)", th, len(units))
    if len(units) >= 2:
        mean = lambda df: df.groupby(["dataset", "seed"]).excess_mi.mean().loc[units]  # noqa: E731
        iv = paired_interval(mean(fz), mean(dip), level=level)
    else:
        iv = _two_group_interval(fz.excess_mi, dip.excess_mi, repeats=repeats, seed=seed, level=level)
    v = {"fz_knn": float(fz.knn_mi.mean()), "fz_corr": float(fz["corr"].abs().mean()),
         "dip_knn": float(dip.knn_mi.mean()), "dip_corr": float(dip["corr"].abs().mean()), "fz_pairs": len(fz),
         "dip_pairs": len(dip)}
    evidence = (f"factorised models: {len(fz)} pairs, mean kNN MI {v['fz_knn']:.3f} nats (independent below "
                f"{th.independent_mi:g}), mean |corr| {v['fz_corr']:.2f}; DIP-VAE: {len(dip)} pairs, mean kNN MI "
                f"{v['dip_knn']:.3f} nats, mean |corr| {v['dip_corr']:.2f}; threshold {th.dependent_excess:g} nats.")
    return _judged(name, iv, interval_verdict(iv, th.dependent_excess, side="above"), th, len(units), evidence, v)


def check_tradeoff(factors: pd.DataFrame, th: Thresholds = THRESHOLDS, *, dataset: str | None = None,
                   repeats: int = 1000, seed: int = 0, level: float = LEVEL) -> Observation:
    """Claim: a trade-off — the more factorised a model (lower TC of the means), the more disintegrated (higher
    disintegration index). Spearman ρ over the factorised runs of ``dataset`` (default :func:`tradeoff_dataset`:
    TC values of different datasets are not comparable) of :func:`run_summary`'s tc_mean and disintegration_nmi,
    with its bootstrap interval over runs. The band rule (``rtc.claims.band_verdict`` on (−strong_rho,
    strong_rho)): confirmed when the interval lies wholly below −strong_rho, refuted when it lies inside the band
    (no strong correlation) or wholly above +strong_rho, inconclusive otherwise — an interval that merely excludes
    0 decides nothing. Inconclusive with fewer than ``min_runs`` runs; below :data:`DESCRIPTIVE_RUNS` runs the
    verdict says it is descriptive."""
    name = "tradeoff"
    runs = run_summary(factors)
    fz = runs[runs.model.isin(FACTORISED_MODELS)]
    dataset = dataset if dataset is not None else tradeoff_dataset(fz)
    if dataset is None:
        return _none(name, "no factorised-model run in this profile", th)
    fz = fz[fz.dataset == dataset]
    r = spearman_bootstrap(fz.tc_mean, fz.disintegration_nmi, repeats=repeats, seed=seed, level=level)
    if r["n"] < th.min_runs or not all(math.isfinite(r[k]) for k in ("rho", "lo", "hi")):
        return _none(name, f"{r['n']} factorised runs on {dataset} with a finite TC_mean and disintegration index "
                           f"(need ≥ {th.min_runs} with varying values)", th, int(fz.seed.nunique()), {"n": r["n"]})
    iv = Interval(r["rho"], r["lo"], r["hi"], r["n"], "runs (bootstrap)", level)
    verdict = below_band_verdict(iv, -th.strong_rho, th.strong_rho)
    note = f" (descriptive: a rank correlation over {r['n']} < {DESCRIPTIVE_RUNS} runs)" if r["n"] < DESCRIPTIVE_RUNS \
        else ""
    evidence = (f"Spearman ρ(TC_mean, disintegration index) over {r['n']} factorised runs on {dataset}; a strong "
                f"correlation is |ρ| ≥ {th.strong_rho:g}.")
    return _judged(name, iv, verdict, th, int(fz.seed.nunique()), evidence, {"n": r["n"]}, note)


def _claims(factors, codes, th: Thresholds, repeats: int, seed: int) -> dict:
    kw = dict(repeats=repeats, seed=seed)
    return {"exists": check_exists(factors, codes, th, **kw),
            "suppression-sap": check_suppression(factors, "sap", codes, th, **kw),
            "suppression-mig": check_suppression(factors, "mig", codes, th, **kw),
            "distinct": check_distinct(factors, th, **kw), "tradeoff": check_tradeoff(factors, th, **kw)}


def check_claims(factors: pd.DataFrame, codes=None, th: Thresholds = THRESHOLDS, *, half: pd.DataFrame | None = None,
                 half_codes=None, repeats: int = 1000, seed: int = 0) -> dict:
    """The chapter's claims (:data:`CLAIMS`, in order) on an :func:`analyse_runs` table ``factors`` (``codes``:
    the runs' encodings, for a one-run bootstrap over images), each checked again on ``half`` — the same analysis
    of the runs' snapshots at half training (``half_codes`` their encodings; None: not computed). The final
    verdict is ``rtc.claims.convergence_verdict`` of the two ("not converged" when confirmed at one and refuted
    at the other); ``Observation.end`` and ``Observation.half`` hold the verdicts at the end of training and at
    half training apart. Returns name → Observation."""
    full = _claims(factors, codes, th, repeats, seed)
    if half is None:
        return {k: replace(o, end=o.verdict,
                           evidence=o.evidence + " Half training: no run kept a snapshot at half training.")
                for k, o in full.items()}
    halves = _claims(half, half_codes, th, repeats, seed)
    out = {}
    for k, o in full.items():
        h = halves[k]
        verdict = convergence_verdict(o.verdict, h.verdict)
        summary = (o.summary if verdict == o.verdict else
                   f"not converged: {o.verdict} at the end of training, {h.verdict} at half training")
        at_half = h.interval.text() if h.interval is not None else h.summary
        out[k] = replace(o, verdict=verdict, summary=summary, end=o.verdict, half=h.verdict,
                         evidence=f"{o.evidence} At half training: {at_half} → {h.verdict}.")
    return out


def check_claims_active(results, encodings, half_encodings=None, th: Thresholds = THRESHOLDS, *,
                        factors: pd.DataFrame | None = None, half_factors: pd.DataFrame | None = None,
                        max_points: int = 2000, repeats: int = 1000, seed: int = 0) -> dict:
    """:func:`check_claims` over each run's active latents (:func:`active_encodings` of ``encodings`` and of
    ``half_encodings``, the snapshots at half training, None: not computed), analysed as :func:`analyse_runs`
    does with ``th.min_score``. A latent whose µ barely varies can still score on a scale-free metric (R², MI), so
    this view can differ from the one over all latents. ``factors`` / ``half_factors``: the :func:`analyse_runs`
    tables over all latents, already computed with the same settings — a run whose latents are all active takes
    its rows from there instead of being analysed again. Returns name → Observation, or {} when no run has two
    active latents (nothing to judge; the chapter shows the view over all latents only)."""
    kw = dict(max_points=max_points, min_score=th.min_score, seed=seed)

    def analyse(encs, done):
        act = active_encodings(encs)
        fresh = [a if a is None or done is None or a.mu.shape[1] < e.mu.shape[1] else None
                 for a, e in zip(act, encs, strict=True)]
        reused = [] if done is None else [i for i, (a, f) in enumerate(zip(act, fresh, strict=True))
                                          if a is not None and f is None]
        parts = [analyse_runs(results, fresh, **kw)] if any(f is not None for f in fresh) else []
        parts.append(done[done.run.isin(reused)] if reused else None)
        parts = [p for p in parts if p is not None]
        table = pd.concat(parts).sort_values("run", kind="stable").reset_index(drop=True) if parts else None
        return table, act

    factors, act = analyse(encodings, factors)
    if factors is None:
        return {}
    half = half_codes = None
    if half_encodings is not None:
        half, half_codes = analyse(half_encodings, half_factors)
    return check_claims(factors, act, th, half=half, half_codes=half_codes if half is not None else None,
                        repeats=repeats, seed=seed)
