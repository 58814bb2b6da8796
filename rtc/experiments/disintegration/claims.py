"""The disintegration chapter's claims (:data:`CLAIMS`), each judged by an interval.

Each ``check_*`` turns the analysis of the learned runs into one quantity with a 90 % interval (``rtc.claims``:
Student's t over factors, runs or seeds, the exact McNemar interval of runs against their own controls, or a
bootstrap over runs of a rank correlation; one unit is described, never judged) and a verdict from where the
interval lies against the threshold the claims registry names (exists_share, suppression, dependent_excess,
strong_rho; min_score, min_runs, min_cases guard the inputs). :func:`check_claims` checks them
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
    binomial_interval,
    convergence_verdict,
    interval_verdict,
    paired_interval,
    seed_interval,
    share_difference_interval,
    sign_test,
    spearman_bootstrap,
)
from rtc.experiments.columns import need_columns

from .common import CLAIMS, DESCRIPTIVE_RUNS, DIP_MODELS, FACTOR_COLUMNS, FACTORISED_MODELS, int_arg
from .quantities import permutation_pvalue, run_summary, suppression_table
from .runs import active_encodings, analyse_runs, tradeoff_dataset

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


def _single(name: str, th: Thresholds, what: str, value: float, values=None) -> Observation:
    """A claim with one unit to judge (one run, one factor, one seed): its value described, never a verdict."""
    return Observation(CLAIMS[name][0], "inconclusive", "inconclusive: a single unit (described, not judged)",
                       f"Single {what}: {value:.3g} (described, not judged: one unit says nothing of the spread "
                       "between seeds).", {**(values or {}), "side": CLAIMS[name][3], "single": True},
                       threshold=getattr(th, CLAIMS[name][2]), seeds=1)


def paired_share_interval(b: int, c: int, n: int, *, level: float = LEVEL) -> Interval:
    """The share of ``n`` paired units (a run and its own control) positive beyond their control, d = (b − c)/n —
    ``b`` units positive with a clean control, ``c`` clean with a positive control (the discordant pairs), the
    others concordant. Lower bound: McNemar's exact test inverted, conditional on the m = b + c discordant pairs,
    (m/n)(2p − 1) with p the Clopper–Pearson lower bound of b of m — what confirming the claim needs. Upper bound:
    unconditional and conservative, the exact upper bound of b/n minus the exact lower bound of c/n (each at the
    level that makes both hold together), because m/n is itself uncertain and a refutation must not lean on the
    observed one. With no discordant pair the lower bound is minus the upper one."""
    b, c, n = int_arg("b", b, 0), int_arg("c", c, 0), int_arg("n", n, 1)
    if b + c > n:
        raise ValueError(f"{b} + {c} discordant pairs of {n}")
    m = b + c
    hi = share_difference_interval(b, n, c, n, level=level).hi
    if m == 0:
        return Interval(0.0, -hi, hi, n, "runs against their own controls (exact, no discordant pair)", level)
    lo_p, _ = binomial_interval(b, m, level=level)
    return Interval((b - c) / n, min(m / n * (2 * lo_p - 1), (b - c) / n), max(hi, (b - c) / n), n,
                    "runs against their own controls (exact McNemar)", level)


def check_exists(factors: pd.DataFrame, th: Thresholds = THRESHOLDS, *, level: float = LEVEL) -> Observation:
    """Claim: factor disintegration exists in trained factorised models (FactorVAE, RTC-VAE, β-TCVAE).

    Each factorised run with a captured factor is paired with its own control code (:func:`pair_gain_table`'s
    ``control``: each captured factor's second latent permuted, so no split over that pair is possible). Quantity:
    the share of those runs flagged beyond their control, (b − c)/n over the discordant pairs — b runs flagged
    with a clean control, c clean with a flagged control — with the exact McNemar interval
    (:func:`paired_share_interval`) and the exact sign test on the discordant pairs (:func:`rtc.claims.sign_test`,
    reported). Confirmed when the interval lies above ``exists_share``. One run is described, never judged.
    ``factors``: an :func:`analyse_runs` table (of the learned runs: :func:`check_claims` filters them)."""
    name = "exists"
    runs = run_summary(factors)
    fz = runs[runs.model.isin(FACTORISED_MODELS)]
    if fz.empty:
        return _none(name, "no factorised-model run in this profile", th)
    judged = fz[fz.captured > 0]
    if judged.empty:
        return _none(name, f"no factor of the {len(fz)} factorised runs is captured (best score ≥ chance + "
                           f"{th.min_score})", th, int(fz.seed.nunique()))
    flagged, control = judged.flagged.astype(bool), judged.control.astype(bool)
    b, c = int((flagged & ~control).sum()), int((~flagged & control).sum())
    if len(judged) == 1:
        return _single(name, th, "run (flagged beyond its control: 1, else 0)", float(b - c))
    iv = paired_share_interval(b, c, len(judged), level=level)
    p = sign_test(b, c)
    unpaired = share_difference_interval(int(flagged.sum()), len(judged), int(control.sum()), len(judged),
                                         level=level)
    others = runs[~runs.model.isin(FACTORISED_MODELS) & (runs.captured > 0)]
    evidence = (f"{int(flagged.sum())} of {len(judged)} factorised runs with a captured factor have a flagged "
                f"factor, {int(control.sum())} on their control codes; discordant pairs: {b} flagged with a clean "
                f"control, {c} the reverse (exact sign test p = {p:.3f})"
                + (f"; the other models (descriptive): {int(others.flagged.sum())} of {len(others)} runs, "
                   f"{int(others.control.sum())} on the controls" if len(others) else "")
                + f"; threshold {th.exists_share:g}. The unpaired rule this replaced (flagged share minus control "
                f"share, Bonferroni): {unpaired.text()} → "
                f"{interval_verdict(unpaired, th.exists_share, side='above')}.")
    return _judged(name, iv, interval_verdict(iv, th.exists_share, side="above"), th, int(judged.seed.nunique()),
                   evidence, {"runs": len(judged), "runs_flagged": int(flagged.sum()),
                              "runs_control": int(control.sum()), "discordant": (b, c), "p": p})


def check_suppression(factors: pd.DataFrame, metric: str, th: Thresholds = THRESHOLDS, *,
                      repeats: int = 1000, seed: int = 0, level: float = LEVEL) -> Observation:
    """Claim: disintegration suppresses SAP (``metric="sap"``) or MIG (``"mig"``).

    The same factor compared across runs (:func:`suppression_table`: gaps of the metric's matrix, flags from the
    other one): for each factor of a dataset captured in runs where it is flagged and in runs where it is not, its
    mean gap where not flagged minus where flagged; the interval is Student's t over those factors (one factor is
    described, never judged). Confirmed when it lies above ``suppression``; inconclusive with fewer than
    ``min_cases`` flagged cases. The rule it replaced — within runs, a run's flagged factors against its other
    factors, with a permutation p-value (flags shuffled within runs, :func:`permutation_pvalue`) — is reported
    beside it."""
    name = f"suppression-{metric}"
    t = suppression_table(factors, metric)
    per = t.groupby(["dataset", "factor_index", "flag"]).gap.mean().unstack()
    per = per.dropna() if {True, False} <= set(per.columns) else per.iloc[:0]
    shared = t.set_index(["dataset", "factor_index"]).index.isin(per.index)
    flagged = int(t[shared].flag.sum())
    old = _within_runs(t, repeats=repeats, seed=seed, level=level)
    if flagged < th.min_cases or per.empty:
        return _none(name, f"{flagged} flagged cases of factors also captured unflagged in another run (need ≥ "
                           f"{th.min_cases})", th, int(t.seed.nunique()), {"flagged": flagged, "within_runs": old})
    diffs = per[False] - per[True]
    if len(diffs) == 1:
        return _single(name, th, "factor (gap where not flagged − where flagged)", float(diffs.iloc[0]),
                       {"flagged": flagged, "within_runs": old})
    iv = replace(seed_interval(diffs.to_numpy(), level=level),
                 basis="factors (unflagged − flagged runs of the same factor)")
    evidence = (f"{len(diffs)} factors captured both flagged and not flagged across runs ({flagged} flagged cases); "
                f"mean gap {t[shared & t.flag].gap.mean():.2f} flagged against {t[shared & ~t.flag].gap.mean():.2f} "
                f"not flagged; threshold {th.suppression:g}. The rule this replaced (within runs): {old}.")
    return _judged(name, iv, interval_verdict(iv, th.suppression, side="above"), th, int(t.seed.nunique()),
                   evidence, {"flagged": flagged, "factors": len(diffs), "within_runs": old})


def _within_runs(t: pd.DataFrame, *, repeats: int, seed: int, level: float) -> str:
    """The within-run reading of suppression (the rule before the registry): over runs with both flagged and
    unflagged captured factors, each run's mean unflagged gap minus its mean flagged gap, with its interval over
    runs and the permutation p-value."""
    counts = t.groupby("run").flag.agg(["sum", "count"])
    both = counts[(counts["sum"] > 0) & (counts["sum"] < counts["count"])].index
    e = t[t.run.isin(both)]
    if len(both) < 2:
        return f"{len(both)} run(s) with both flagged and unflagged factors: not computed"
    means = e.groupby(["run", "flag"]).gap.mean().unstack()
    iv = paired_interval(means[True], means[False], level=level)
    p = permutation_pvalue(e.run, e.gap, e.flag, repeats=repeats, seed=seed)
    return f"{iv.text()} over {len(both)} runs, permutation p = {p:.3f}"


def check_distinct(factors: pd.DataFrame, th: Thresholds = THRESHOLDS, *, level: float = LEVEL) -> Observation:
    """Claim: the disintegration of factorised models is distinct from DIP-VAE's dependence (the paper's Fig. 7
    against Fig. 6): DIP-VAE's split pairs are dependent beyond their correlation, the factorised models' are not.

    Pairs: the top pairs of captured factors whose two best latents are dedicated to them (normalised MI), with a
    finite excess MI (kNN MI − Gaussian MI, nats). Units: a dataset and seed with pairs of both groups. Quantity:
    the DIP-VAE pairs' mean excess MI minus the factorised models' in each unit; Student's t over the paired
    differences (one unit is described, never judged). Confirmed when the interval lies above ``dependent_excess``;
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
    if len(units) == 1:
        return _single(name, th, "dataset and seed (DIP-VAE − factorised mean excess MI, nats)",
                       float(dip.excess_mi.mean() - fz.excess_mi.mean()))
    mean = lambda df: df.groupby(["dataset", "seed"]).excess_mi.mean().loc[units]  # noqa: E731
    iv = paired_interval(mean(fz), mean(dip), level=level)
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


def _claims(factors, th: Thresholds, repeats: int, seed: int, untestable: dict) -> dict:
    if factors.empty:
        return {name: _none(name, "no learned run to judge", th) for name in CLAIMS}
    kw = dict(repeats=repeats, seed=seed)
    out = {"exists": check_exists(factors, th),
           "suppression-sap": check_suppression(factors, "sap", th, **kw),
           "suppression-mig": check_suppression(factors, "mig", th, **kw),
           "distinct": check_distinct(factors, th), "tradeoff": check_tradeoff(factors, th, **kw)}
    for name, why in untestable.items():
        o = out[name]
        out[name] = replace(o, verdict="inconclusive", values={**o.values, "untested_verdict": o.verdict},
                            summary=f"inconclusive: untestable at this budget — {why}; without it: {o.verdict}")
    return out


def _learned_only(factors: pd.DataFrame | None, learned) -> tuple[pd.DataFrame | None, str]:
    """``factors`` restricted to the runs in ``learned`` (None: every run), and a sentence naming the runs left
    out as not learned ("" where none was)."""
    if factors is None or learned is None:
        return factors, ""
    keep = factors.run.isin(set(int(r) for r in learned))
    gone = factors[~keep].drop_duplicates("run")
    text = ("Not learned (left out): " + ", ".join(f"{m} s{s}" for m, s in zip(gone.model, gone.seed, strict=True))
            + "." if len(gone) else "")
    return factors[keep], text


def check_claims(factors: pd.DataFrame, th: Thresholds = THRESHOLDS, *, half: pd.DataFrame | None = None,
                 learned=None, untestable: dict | None = None, repeats: int = 1000, seed: int = 0) -> dict:
    """The chapter's claims (:data:`CLAIMS`, the registry's order) on an :func:`analyse_runs` table ``factors``,
    each checked again on ``half`` — the same analysis of the runs' snapshots at half training (None: not
    computed). ``learned``: the run positions that learned (None: every run counts); the others are left out and
    named. ``untestable``: claim name → why a positive control it leans on fails (the DIP control for
    "distinct"): such a claim reads "inconclusive: untestable at this budget", its verdict without the control
    kept in ``values["untested_verdict"]``. The final verdict is ``rtc.claims.convergence_verdict`` of end and half
    ("not converged" when confirmed at one and refuted at the other); ``Observation.end`` and ``Observation.half``
    hold them apart. Returns name → Observation."""
    factors, gone = _learned_only(factors, learned)
    half, _ = _learned_only(half, learned)
    untestable = untestable or {}
    full = _claims(factors, th, repeats, seed, untestable)
    if gone:
        full = {k: replace(o, evidence=f"{o.evidence} {gone}") for k, o in full.items()}
    if half is None:
        return {k: replace(o, end=o.verdict,
                           evidence=o.evidence + " Half training: no run kept a snapshot at half training.")
                for k, o in full.items()}
    halves = _claims(half, th, repeats, seed, untestable)
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
                        learned=None, untestable: dict | None = None, max_points: int = 2000, repeats: int = 1000,
                        seed: int = 0) -> dict:
    """:func:`check_claims` over each run's active latents (:func:`active_encodings` of ``encodings`` and of
    ``half_encodings``, the snapshots at half training, None: not computed), analysed as :func:`analyse_runs`
    does with ``th.min_score``. A latent whose µ barely varies can still score on a scale-free metric (R², MI), so
    this view can differ from the one over all latents. ``factors`` / ``half_factors``: the :func:`analyse_runs`
    tables over all latents, already computed with the same settings — a run whose latents are all active takes
    its rows from there instead of being analysed again. ``learned``, ``untestable``: as :func:`check_claims`.
    Returns name → Observation, or {} when no run has two active latents (nothing to judge; the chapter shows the
    view over all latents only)."""
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

    factors, _ = analyse(encodings, factors)
    if factors is None:
        return {}
    half = analyse(half_encodings, half_factors)[0] if half_encodings is not None else None
    return check_claims(factors, th, half=half, learned=learned, untestable=untestable, repeats=repeats, seed=seed)
