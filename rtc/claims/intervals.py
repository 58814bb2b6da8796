"""Intervals of the quantities claims are about: over seeds (Student t), over paired seeds, a seeded bootstrap over
one run's images, exact binomial shares and their differences, and the Spearman rank correlation over runs."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import beta, spearmanr
from scipy.stats import t as student_t

from rtc._validate import check_int, is_integer, is_real

from .thresholds import LEVEL

__all__ = ["Interval", "seed_interval", "paired_interval", "bootstrap_interval", "binomial_interval",
           "share_difference_interval", "spearman_bootstrap", "paired_difference"]


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


def spearman_bootstrap(x, y, *, repeats: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Spearman ρ of paired values with a percentile bootstrap interval over the pairs (runs).

    Pairs with a NaN are dropped. Returns ``{"n", "rho", "lo", "hi", "pvalue"}``: ρ and its p-value from
    ``scipy.stats.spearmanr``; lo/hi the (1 ± level)/2 quantiles of ρ over ``repeats`` resamples of the pairs
    with replacement (seeded), resamples where x or y is constant (ρ undefined) left out. With n < 3 pairs, or
    x or y constant, everything but n is NaN.
    """

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
