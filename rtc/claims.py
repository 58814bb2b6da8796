"""Claims and their verdicts: the vocabulary every chapter's checks share.

An :class:`Observation` is one claim of the paper checked against a run: its ``verdict`` is a word of
:data:`VERDICTS`, computed — never typed — from the measured numbers and thresholds fixed before the run.
:func:`fraction_verdict` judges a claim that should hold in most of the cells it is about;
:func:`no_strong_correlation_verdict` a claim that two quantities are not strongly correlated;
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

__all__ = ["VERDICTS", "MOST", "FEW", "Thresholds", "THRESHOLDS", "Observation", "fraction_verdict",
           "no_strong_correlation_verdict", "verdict_counts", "observation_texts", "spearman_bootstrap",
           "paired_difference", "equivalence_verdict"]

VERDICTS = ("confirmed", "partly", "refuted", "inconclusive")
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
                     "much_lower", "comparable", "recon_worse", "strong_rho", "knn_excess", "min_score",
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
        for name in ("exists_share", "strong_rho", "learned"):
            if getattr(self, name) > 1:
                raise ValueError(f"Thresholds.{name} must be ≤ 1, got {getattr(self, name)!r}")


THRESHOLDS = Thresholds()


@dataclass
class Observation:
    """One checked claim: ``verdict`` a word of :data:`VERDICTS`; ``summary`` the verdict with its
    qualification (what the book prints); ``evidence`` a sentence with the measured numbers;
    ``values`` those numbers by name (shares of cells in percent, 0–100; errors in nats)."""

    claim: str
    verdict: str
    summary: str
    evidence: str
    values: dict = field(default_factory=dict)


def fraction_verdict(fraction: float, *, most: float = MOST, few: float = FEW) -> str:
    """``confirmed`` if fraction ≥ most, ``refuted`` if ≤ few, ``partly`` between, ``inconclusive`` for NaN
    (no cell to judge)."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "inconclusive"
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1] (or NaN for no cells), got {fraction!r}")
    return "confirmed" if fraction >= most else ("refuted" if fraction <= few else "partly")


def no_strong_correlation_verdict(rho: float, lo: float, hi: float, *, strong: float) -> str:
    """The verdict on "x and y show no strong correlation" from a rank correlation ``rho`` and its bootstrap
    interval (lo, hi): ``confirmed`` when |ρ| < ``strong``; ``refuted`` when |ρ| ≥ ``strong`` and the interval
    excludes 0; ``inconclusive`` otherwise — a strong ρ whose interval contains 0, or a NaN ρ (too few runs,
    a constant column). A NaN bound never excludes 0."""
    if not is_real(strong) or not 0 < strong <= 1:
        raise ValueError(f"strong must be in (0, 1], got {strong!r}")
    if not math.isfinite(rho):
        return "inconclusive"
    if abs(rho) < strong:
        return "confirmed"
    return "refuted" if lo > 0 or hi < 0 else "inconclusive"


def verdict_counts(observations) -> dict[str, int]:
    """How many of ``observations`` (Observations, or a mapping whose values are) carry each word of
    :data:`VERDICTS`, in that order; a verdict outside :data:`VERDICTS` raises ``ValueError`` naming its claim."""
    obs = list(observations.values()) if isinstance(observations, dict) else list(observations)
    bad = [(o.claim, o.verdict) for o in obs if o.verdict not in VERDICTS]
    if bad:
        raise ValueError(f"verdicts outside {VERDICTS}: {bad}")
    return {v: sum(o.verdict == v for o in obs) for v in VERDICTS}


def observation_texts(observations: dict, *, prefix: str = "claim", empty: str = "No runs.") -> dict[str, str]:
    """The texts a chapter glues for each named observation: ``<prefix>-<name>-verdict`` → its summary and
    ``<prefix>-<name>-evidence`` → its evidence (``empty`` where the evidence is blank)."""
    out = {}
    for name, o in observations.items():
        out[f"{prefix}-{name}-verdict"] = o.summary
        out[f"{prefix}-{name}-evidence"] = o.evidence or empty
    return out


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
    from scipy.stats import t as student_t

    if not is_real(level) or not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D of one length, got shapes {a.shape} and {b.shape}")
    d = (b - a)[np.isfinite(a) & np.isfinite(b)]
    n, nan = len(d), float("nan")
    if n < 2:
        return dict(n=n, mean=float(d.mean()) if n else nan, lo=nan, hi=nan, sd=nan)
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    half = float(student_t.ppf((1 + level) / 2, n - 1)) * sd / math.sqrt(n)
    return dict(n=n, mean=mean, lo=mean - half, hi=mean + half, sd=sd)


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
