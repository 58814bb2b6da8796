"""Claims and their verdicts: the vocabulary every chapter's checks share.

An :class:`Observation` is one claim of the paper checked against a run: its ``verdict`` is a word of
:data:`VERDICTS`, computed — never typed — from the measured numbers and thresholds fixed before the run.
:func:`fraction_verdict` judges a claim that should hold in most of the cells it is about;
:func:`interval_verdict` and :func:`band_verdict` judge a quantity by its 90 % :class:`Interval` (over seeds, paired
seeds, or a bootstrap over one run's images) against a threshold fixed before the run;
:func:`verdict_counts` and :func:`observation_texts` are what a chapter prints of its observations;
:func:`spearman_bootstrap` is the rank correlation (with a seeded bootstrap interval over runs) that the
correlation claims use. The estimator study (:mod:`rtc.estimators.study`), the comparison
(:mod:`rtc.experiments.comparison`) and factor disintegration (:mod:`rtc.experiments.disintegration`) build
their claims from these.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._validate import Config, check_int, check_real, is_integer, is_real

__all__ = ["VERDICTS", "MOST", "FEW", "LEVEL", "Thresholds", "THRESHOLDS", "Observation", "Interval", "seed_interval",
           "paired_interval", "bootstrap_interval", "binomial_interval", "share_difference_interval",
           "interval_verdict", "band_verdict", "convergence_verdict",
           "fraction_verdict",
           "verdict_counts", "observation_texts", "spearman_bootstrap",
           "paired_difference", "equivalence_verdict", "threshold_text", "with_active", "verdict_table",
           "AGREEMENTS", "agreement", "compare_verdicts"]

# "not converged": confirmed at the end of training but refuted at half training, or the reverse
# (:func:`convergence_verdict`); "partly": a claim about cells that holds in some of them (:func:`fraction_verdict`).
VERDICTS = ("confirmed", "partly", "refuted", "inconclusive", "not converged")
# The level of every claim's interval: a verdict is confirmed / refuted when the whole 90 % interval lies on one side.
LEVEL = 0.9
# A claim that should hold in most cells: confirmed when it holds in at least MOST of them, refuted in at most FEW.
MOST, FEW = 0.9, 0.1


@dataclass(frozen=True)
class Thresholds(Config):
    """Every threshold of every verdict in the book, fixed before any run (the chapters print the ones they use).

    One registry: the estimator study, the comparison and factor disintegration all read their thresholds
    from here, so no two chapters can judge one quantity by different numbers. Build a variant with
    ``Thresholds.from_mapping({...})`` (unknown names and wrong types are errors).

    Shared:
      most, few: a claim about several cells is confirmed when it holds in ≥ ``most`` of them, refuted in ≤ ``few``.
    Estimator study (:mod:`rtc.estimators.study`):
      accurate: a cell mean within ±accurate nats of the truth is accurate; an error above +accurate is an
        over-estimate.  low_tc: a true TC below this is "small".  low_d / high_d: the observations about
        D < low_d and D ≥ high_d.  law_slope: a slope in log M within ±law_slope of the paper's law follows it.
    Comparison (:mod:`rtc.experiments.comparison`):
      learned: a run learned if (recon − floor) ≤ learned · (baseline − floor) (the mean-image predictor).
      disparity_abs, disparity_rel: a run shows the disparity when TC_mean − TC_sample ≥ disparity_abs nats and
        ≥ disparity_rel · TC_mean; none when the difference is below disparity_abs or below none_rel · TC_mean.
      much_lower: the revised model's TC_mean is "much lower" when ≤ much_lower × the vanilla model's.
      comparable: TC_samples are "comparably low" when the revised one is ≤ comparable × the vanilla one or
        within disparity_abs nats of it.
      recon_worse: a reconstruction error more than (1 + recon_worse) × another is "worse".
      strong_rho: |Spearman ρ| ≥ strong_rho is a strong (monotone) correlation.
      knn_excess: kNN (KSG) TC of µ above its Gaussian TC by ≥ knn_excess nats is "not factorised beyond
        correlation".
      regime_share: a revised model's run is in the paper's regime when its variance term Σ_k E[σ_k²] lies inside
        the η rule's band (0.01, 0.04) for at least this share of the second half of its steps; the others are
        shown as outside the regime and counted neither for nor against a claim.
    Factor disintegration (:mod:`rtc.experiments.disintegration`):
      min_score: a factor is *captured* when its best latent scores at least this much above chance.
      exists_share: "disintegration exists" is confirmed when ≥ this share of the factorised runs has a flag.
      suppression: a flagged factor losing on average ≥ this much of its gap to the split suppresses the score.
      independent_mi: a pair with kNN mutual information below this (nats) counts as independent.
      dependent_excess: a pair whose kNN MI exceeds its Gaussian MI by ≥ this (nats) is dependent beyond
        correlation.
      min_runs: a rank correlation or a share over fewer runs than this is inconclusive.
      min_cases: a claim about flagged factors or top pairs with fewer cases than this is inconclusive.
    """

    most: float = MOST
    few: float = FEW
    # estimator study
    accurate: float = 0.25
    low_tc: float = 0.5
    low_d: int = 4
    high_d: int = 5
    law_slope: float = 0.5
    # comparison
    learned: float = 0.5
    disparity_abs: float = 0.25
    disparity_rel: float = 0.5
    none_rel: float = 0.25
    much_lower: float = 0.5
    comparable: float = 2.0
    recon_worse: float = 0.05
    strong_rho: float = 0.5
    knn_excess: float = 1.0
    regime_share: float = 0.5
    # factor disintegration
    min_score: float = 0.1
    exists_share: float = 0.25
    suppression: float = 0.1
    independent_mi: float = 0.1
    dependent_excess: float = 0.1
    min_runs: int = 5
    min_cases: int = 3

    def __post_init__(self):
        put = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731  (frozen dataclass)
        for name in ("accurate", "low_tc", "law_slope", "learned", "disparity_abs", "disparity_rel", "none_rel",
                     "much_lower", "comparable", "recon_worse", "strong_rho", "knn_excess", "regime_share", "min_score",
                     "exists_share", "suppression", "independent_mi", "dependent_excess"):
            put(name, check_real(getattr(self, name), f"Thresholds.{name}", positive=True))
        for name, minimum in (("low_d", 1), ("high_d", 1), ("min_runs", 3), ("min_cases", 1)):
            try:
                put(name, check_int(getattr(self, name), f"Thresholds.{name}", minimum=minimum))
            except TypeError as e:
                raise ValueError(str(e)) from None
        put("most", check_real(self.most, "Thresholds.most"))
        put("few", check_real(self.few, "Thresholds.few"))
        if not 0 <= self.few < self.most <= 1:
            raise ValueError(f"Thresholds need 0 ≤ few < most ≤ 1, got few={self.few!r}, most={self.most!r}")
        for name in ("exists_share", "strong_rho", "learned", "regime_share"):
            if getattr(self, name) > 1:
                raise ValueError(f"Thresholds.{name} must be ≤ 1, got {getattr(self, name)!r}")


THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Interval:
    """A claim's quantity: its estimate and a two-sided interval at ``level``.

    ``n``: the seeds (or seed pairs) behind it — 1 for a one-seed bootstrap; ``basis``: how the interval was made,
    one of "seeds" (Student t over seeds), "paired seeds" (Student t over same-seed differences), "one seed
    (bootstrap over images)", "runs (bootstrap)" (a statistic over runs, resampled).
    """

    estimate: float
    lo: float
    hi: float
    n: int
    basis: str
    level: float = LEVEL

    def __post_init__(self):
        if any(math.isnan(v) for v in (self.estimate, self.lo, self.hi)):
            raise ValueError(f"an interval needs finite or infinite numbers, got {self}")
        if not self.lo <= self.hi:
            raise ValueError(f"interval bounds out of order: lo={self.lo} > hi={self.hi}")

    def text(self, fmt: str = ".2f") -> str:
        """``"1.23 [0.91, 1.55] (90 % interval, paired seeds, n = 3)"``."""
        return (f"{self.estimate:{fmt}} [{self.lo:{fmt}}, {self.hi:{fmt}}] ({100 * self.level:.0f} % interval, "
                f"{self.basis}, n = {self.n})")


@dataclass
class Observation:
    """One checked claim: ``verdict`` a word of :data:`VERDICTS`; ``summary`` the verdict with its
    qualification (what the book prints); ``evidence`` a sentence with the measured numbers;
    ``values`` those numbers by name (shares of cells in percent, 0–100; errors in nats).

    Claims judged by an interval also carry it: ``interval`` (:class:`Interval`, None where no run could be
    judged), the ``threshold`` it was held against, the number of ``seeds``, ``regime`` (e.g. "in band: 3 of 3
    runs" — the runs counted, and those shown but left out as outside the paper's regime) and ``half`` (the verdict
    from the runs' snapshots at half training, None where not computed)."""

    claim: str
    verdict: str
    summary: str
    evidence: str
    values: dict = field(default_factory=dict)
    interval: Interval | None = None
    threshold: float | None = None
    seeds: int | None = None
    regime: str = ""
    half: str | None = None


def _level(level) -> float:
    if not is_real(level) or not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return float(level)


def _finite_1d(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {x.shape}")
    return x


def _student(d: np.ndarray, level: float, basis: str) -> Interval:
    from scipy.stats import t as student_t

    n = len(d)
    if n < 2:
        raise ValueError(f"an interval over {basis} needs at least 2 finite values, got {n}: use "
                         "bootstrap_interval for one seed")
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    half = float(student_t.ppf((1 + level) / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, basis, level)


def seed_interval(values, *, level: float = LEVEL) -> Interval:
    """The mean over seeds of a quantity with its Student-t interval (≥ 2 finite values; NaNs dropped)."""
    v = _finite_1d(values, "values")
    return _student(v[np.isfinite(v)], _level(level), "seeds")


def paired_interval(a, b, *, level: float = LEVEL) -> Interval:
    """The mean of the same-seed differences ``b − a`` with its Student-t interval (≥ 2 finite pairs).

    ``a[i]`` and ``b[i]`` come from one seed: identical initial weights and batches (the vanilla model and its
    revised form), so the seed-to-seed spread cancels in each difference."""
    a, b = _finite_1d(a, "a"), _finite_1d(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one length, got {a.shape} and {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    return _student((b - a)[ok], _level(level), "paired seeds")


def bootstrap_interval(statistic, *arrays, repeats: int = 1000, seed: int = 0, level: float = LEVEL,
                       basis: str = "one seed (bootstrap over images)") -> Interval:
    """A percentile bootstrap interval of ``statistic(*arrays)``, resampling the rows (axis 0) of all ``arrays``
    together with replacement (seeded), e.g. the images of one run's codes: ``arrays`` (n, ...) each.

    The estimate is the statistic on the data as given. A statistic that is not finite on the data raises;
    resamples where it is not finite are dropped, and if more than 5 % are, ValueError (the interval would be
    biased towards the finite ones)."""
    if not is_integer(repeats) or repeats < 20:
        raise ValueError(f"repeats must be an integer ≥ 20, got {repeats!r}")
    level = _level(level)
    arrays = [np.asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("bootstrap_interval needs at least one array")
    n = len(arrays[0])
    if n < 2 or any(len(a) != n for a in arrays):
        raise ValueError(f"the arrays need one length ≥ 2 along axis 0, got {[a.shape for a in arrays]}")
    est = float(statistic(*arrays))
    if not math.isfinite(est):
        raise ValueError(f"the statistic is not finite on the data ({est})")
    rng = np.random.default_rng(seed)
    boot = np.empty(repeats)
    for r in range(repeats):
        i = rng.integers(n, size=n)
        boot[r] = statistic(*(a[i] for a in arrays))
    ok = np.isfinite(boot)
    if ok.mean() < 0.95:
        raise ValueError(f"the statistic is not finite on {100 * (1 - ok.mean()):.0f} % of the resamples")
    lo, hi = np.quantile(boot[ok], [(1 - level) / 2, (1 + level) / 2])
    return Interval(est, float(min(lo, est)), float(max(hi, est)), 1, basis, level)


def binomial_interval(k: int, n: int, *, level: float = LEVEL) -> tuple[float, float]:
    """The exact (Clopper–Pearson) two-sided interval at ``level`` of a share from ``k`` successes in ``n`` trials.

    Exact means conservative: it covers the true share with probability ≥ ``level`` for every share, where a
    Student-t interval over 0/1 outcomes collapses to a point when all runs agree (0 of 3 would give [0, 0])."""
    from scipy.stats import beta

    k, n = check_int(k, "k", minimum=0), check_int(n, "n", minimum=1)
    if k > n:
        raise ValueError(f"k = {k} successes in n = {n} trials")
    a = (1 - _level(level)) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def share_difference_interval(k1: int, n1: int, k2: int, n2: int, *, level: float = LEVEL,
                              basis: str = "runs (exact binomial)") -> Interval:
    """The difference of two shares k1/n1 − k2/n2 with a conservative interval: each share's exact interval at
    the level that makes both hold together at ``level`` (Bonferroni: 1 − (1 − level)/2 each), the difference's
    bounds from their extremes. ``n`` of the result: n1 (the runs judged)."""
    one = 1 - (1 - _level(level)) / 2
    lo1, hi1 = binomial_interval(k1, n1, level=one)
    lo2, hi2 = binomial_interval(k2, n2, level=one)
    return Interval(k1 / n1 - k2 / n2, lo1 - hi2, hi1 - lo2, int(n1), basis, level)


def interval_verdict(interval: Interval | None, threshold: float, *, side: str) -> str:
    """The verdict on "the quantity is ``side`` ``threshold``" (side "above" or "below") from its interval:
    ``confirmed`` when the whole interval lies on that side, ``refuted`` when it lies wholly on the other side
    (touching the threshold counts as not on the claim's side), ``inconclusive`` when it straddles the threshold
    or there is no interval (None)."""
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    if not is_real(threshold) or math.isnan(threshold):
        raise ValueError(f"threshold must be a number, got {threshold!r}")
    if interval is None:
        return "inconclusive"
    lo, hi = interval.lo, interval.hi
    if side == "below":
        lo, hi, threshold = -hi, -lo, -threshold
    if lo > threshold:
        return "confirmed"
    if hi <= threshold:
        return "refuted"
    return "inconclusive"


def band_verdict(interval: Interval | None, lo: float, hi: float) -> str:
    """The verdict on "the quantity lies inside (lo, hi)", e.g. "no strong correlation": |ρ| < 0.5 is the band
    (−0.5, 0.5). ``confirmed`` when the whole interval lies inside; ``refuted`` when it lies wholly beyond one
    bound (an interval that merely excludes 0 refutes nothing); ``inconclusive`` otherwise or without one."""
    if not (is_real(lo) and is_real(hi) and lo < hi):
        raise ValueError(f"need a band lo < hi, got ({lo!r}, {hi!r})")
    if interval is None:
        return "inconclusive"
    if lo < interval.lo and interval.hi < hi:
        return "confirmed"
    if interval.lo >= hi or interval.hi <= lo:
        return "refuted"
    return "inconclusive"


def convergence_verdict(full: str, half: str | None) -> str:
    """The verdict at the end of training, unless the runs' snapshots at half training give the opposite one:
    confirmed at one and refuted at the other is "not converged". ``half`` None (not computed) keeps ``full``."""
    for v in (full, half):
        if v is not None and v not in VERDICTS:
            raise ValueError(f"unknown verdict {v!r}; verdicts are {VERDICTS}")
    if {full, half} == {"confirmed", "refuted"}:
        return "not converged"
    return full


def fraction_verdict(fraction: float, *, most: float = MOST, few: float = FEW) -> str:
    """``confirmed`` if fraction ≥ most, ``refuted`` if ≤ few, ``partly`` between, ``inconclusive`` for NaN
    (no cell to judge)."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "inconclusive"
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1] (or NaN for no cells), got {fraction!r}")
    return "confirmed" if fraction >= most else ("refuted" if fraction <= few else "partly")


def verdict_counts(observations) -> dict[str, int]:
    """How many of ``observations`` (Observations, or a mapping whose values are) carry each word of
    :data:`VERDICTS`, in that order; a verdict outside :data:`VERDICTS` raises ``ValueError`` naming its claim."""
    obs = list(observations.values()) if isinstance(observations, dict) else list(observations)
    bad = [(o.claim, o.verdict) for o in obs if o.verdict not in VERDICTS]
    if bad:
        raise ValueError(f"verdicts outside {VERDICTS}: {bad}")
    return {v: sum(o.verdict == v for o in obs) for v in VERDICTS}


def observation_texts(observations: dict, *, prefix: str = "claim", empty: str = "No runs.") -> dict[str, str]:
    """The texts a chapter glues for each named observation: ``<prefix>-<name>-verdict`` → its summary,
    ``<prefix>-<name>-evidence`` → its evidence (``empty`` where the evidence is blank), and for reading a built
    book back (:func:`compare_verdicts`): ``-result`` → the bare verdict, ``-interval`` → the interval's text
    ("none" without one) and ``-active`` → the verdict over the active latents ("" where not computed)."""
    out = {}
    for name, o in observations.items():
        out[f"{prefix}-{name}-verdict"] = o.summary
        out[f"{prefix}-{name}-evidence"] = o.evidence or empty
        out[f"{prefix}-{name}-result"] = o.verdict
        out[f"{prefix}-{name}-interval"] = o.interval.text() if o.interval is not None else "none"
        out[f"{prefix}-{name}-active"] = o.values.get("active_verdict", "")
    return out


# How each side of a claim reads in a table: the quantity must lie ... of the threshold t.
_SIDES = {"above": "> {t:g}", "below": "< {t:g}", "inside": "inside ±{t:g}",
          "band": "< −{t:g} (inside ±{t:g}: refuted)"}


def threshold_text(o: Observation) -> str:
    """The threshold of ``o`` with the side its claim needs (``o.values["side"]``: above, below, inside, band),
    e.g. "> 0.25"; "" without a threshold."""
    if o.threshold is None:
        return ""
    side = o.values.get("side")
    return _SIDES[side].format(t=o.threshold) if side in _SIDES else f"{o.threshold:g}"


def with_active(full: dict, active: dict) -> dict:
    """``full`` (name → Observation over all latents) with each claim's verdict over the active latents (the
    same name in ``active``) in ``values["active_verdict"]`` and, where the two differ, said in the summary. A name
    missing from ``active`` is left as it is."""
    from dataclasses import replace

    out = {}
    for k, o in full.items():
        a = active.get(k)
        if a is None:
            out[k] = o
            continue
        summary = o.summary + (f" (over the active latents: {a.verdict})" if a.verdict != o.verdict else "")
        out[k] = replace(o, summary=summary, values={**o.values, "active_verdict": a.verdict,
                                                     "active_interval": a.interval})
    return out


def verdict_table(claims: dict, quantities: dict | None = None):
    """The verdict table a chapter prints: one row per claim of ``claims`` (name → Observation, in order) with
    the claim, where it stands ``in the paper`` and its ``quantity`` (``quantities``: name → (figure or section,
    quantity); columns a chapter leaves blank for every claim are dropped), the interval (its basis and n), the
    threshold with the side the claim needs (:func:`threshold_text`), the number of seeds, the regime of the runs
    it counts, the verdict at half training, the verdict, and the verdict over the active latents (blank where
    not computed)."""
    import pandas as pd

    quantities = quantities or {}
    rows = []
    for name, o in claims.items():
        fig, quantity = quantities.get(name, ("", ""))
        rows.append({"claim": o.claim, "in the paper": fig, "quantity": quantity,
                     "interval": o.interval.text() if o.interval is not None else "none",
                     "threshold": threshold_text(o), "seeds": o.seeds if o.seeds is not None else 0,
                     "regime": o.regime, "half training": o.half or "not computed", "verdict": o.verdict,
                     "active latents": o.values.get("active_verdict", "")})
    table = pd.DataFrame(rows, columns=["claim", "in the paper", "quantity", "interval", "threshold", "seeds", "regime",
                                        "half training", "verdict", "active latents"])
    blank = [c for c in ("in the paper", "quantity", "regime", "active latents") if (table[c] == "").all()]
    return table.drop(columns=blank)


# Two builds' verdicts on one claim: the same word; one of them decided and the other not (inconclusive or not
# converged); or confirmed in one and refuted in the other — a contradiction, which makes the claim noise.
AGREEMENTS = ("same", "one undecided", "contradiction")


def agreement(a: str, b: str) -> str:
    """How two builds' verdicts on one claim agree (:data:`AGREEMENTS`)."""
    for v in (a, b):
        if v not in VERDICTS:
            raise ValueError(f"unknown verdict {v!r}; verdicts are {VERDICTS}")
    if a == b:
        return "same"
    return "contradiction" if {a, b} == {"confirmed", "refuted"} else "one undecided"


def compare_verdicts(a: dict, b: dict, *, labels=("A", "B")):
    """Claim by claim, the verdicts of two builds of one book: ``a``, ``b`` map a claim's name to ``(verdict,
    interval text)`` (e.g. :func:`rtc.report.built_verdicts`). One row per claim of either build, in ``a``'s
    order then ``b``'s new ones: ``claim``, ``verdict <label>``, ``interval <label>`` for each, and ``agreement``
    (:func:`agreement`; "missing" where one build lacks the claim)."""
    import pandas as pd

    la, lb = labels
    rows = []
    for name in list(a) + [n for n in b if n not in a]:
        va, ia = a.get(name, ("", ""))
        vb, ib = b.get(name, ("", ""))
        rows.append({"claim": name, f"verdict {la}": va, f"interval {la}": ia, f"verdict {lb}": vb,
                     f"interval {lb}": ib, "agreement": agreement(va, vb) if va and vb else "missing"})
    return pd.DataFrame(rows, columns=["claim", f"verdict {la}", f"interval {la}", f"verdict {lb}",
                                       f"interval {lb}", "agreement"])


def spearman_bootstrap(x, y, *, repeats: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Spearman ρ of paired values with a percentile bootstrap interval over the pairs (runs).

    Pairs with a NaN are dropped. Returns ``{"n", "rho", "lo", "hi", "pvalue"}``: ρ and its p-value from
    ``scipy.stats.spearmanr``; lo/hi the (1 ± level)/2 quantiles of ρ over ``repeats`` resamples of the pairs
    with replacement (seeded), resamples where x or y is constant (ρ undefined) left out. With n < 3 pairs, or
    x or y constant, everything but n is NaN.
    """
    from scipy.stats import spearmanr

    if not is_integer(repeats) or repeats < 1:
        raise ValueError(f"repeats must be an integer ≥ 1, got {repeats!r}")
    if not is_real(level) or not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of one length, got shapes {x.shape} and {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = len(x)
    nan = float("nan")
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return dict(n=n, rho=nan, lo=nan, hi=nan, pvalue=nan)
    r = spearmanr(x, y)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(repeats):
        i = rng.integers(n, size=n)
        if np.ptp(x[i]) > 0 and np.ptp(y[i]) > 0:
            boot.append(spearmanr(x[i], y[i]).statistic)
    lo, hi = (np.quantile(boot, [(1 - level) / 2, (1 + level) / 2]) if boot else (nan, nan))
    return dict(n=n, rho=float(r.statistic), lo=float(lo), hi=float(hi), pvalue=float(r.pvalue))


def paired_difference(a, b, *, level: float = 0.9) -> dict:
    """Mean of the paired differences ``b − a`` with its two-sided Student-t interval at ``level``.

    ``a``, ``b``: 1-D of one length, pair i measured under the same seed (same initial weights, same batches).
    Pairs with a NaN are dropped. Returns ``{"n", "mean", "lo", "hi", "sd"}`` (``sd`` the differences' sample
    standard deviation); with fewer than 2 pairs everything but n is NaN (no interval from one pair).
    """
    level = _level(level)
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D of one length, got shapes {a.shape} and {b.shape}")
    d = (b - a)[np.isfinite(a) & np.isfinite(b)]
    n, nan = len(d), float("nan")
    if n < 2:
        return dict(n=n, mean=float(d.mean()) if n else nan, lo=nan, hi=nan, sd=nan)
    iv = _student(d, level, "paired seeds")  # the one Student-t interval (paired_interval's)
    return dict(n=n, mean=iv.estimate, lo=iv.lo, hi=iv.hi, sd=float(d.std(ddof=1)))


def equivalence_verdict(lo: float, hi: float, margin: float) -> str:
    """Two one-sided tests as an interval rule: ``equivalent`` when the interval (lo, hi) of a difference lies
    inside (−margin, margin), ``different`` when it lies wholly outside it, ``inconclusive`` otherwise (and for a
    NaN interval or margin)."""
    if any(not math.isfinite(v) for v in (lo, hi, margin)) or margin <= 0:
        return "inconclusive"
    if -margin < lo and hi < margin:
        return "equivalent"
    if lo >= margin or hi <= -margin:
        return "different"
    return "inconclusive"
