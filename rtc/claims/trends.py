"""Statistics for claims about trained quantities that a verdict needs beyond one interval: the plateau of a
quantity along training (:func:`plateau_test`), ratios on the log scale (:func:`log_ratio_interval`), Holm's
correction within a claim of several cells (:func:`holm`), and the exact paired test of discordant pairs
(:func:`sign_test`, McNemar's exact test).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom
from scipy.stats import t as student_t

from rtc._validate import check_int, is_real

from .intervals import Interval, _finite_1d, _level, _student
from .thresholds import LEVEL

__all__ = ["Plateau", "PLATEAU_WORDS", "plateau_test", "log_ratio_interval", "refute_pvalue", "holm", "sign_test"]

# What plateau_test says of a quantity along training: on a plateau, still moving, undecided (its interval
# straddles ±δ), or not enough snapshots (fewer than min_points in the last part, or fewer than 2 seeds).
PLATEAU_WORDS = ("plateau", "moving", "undecided", "too few snapshots")


@dataclass(frozen=True)
class Plateau:
    """:func:`plateau_test`'s answer: ``word`` (one of :data:`PLATEAU_WORDS`), ``slope`` (the mean over seeds
    of the quantity's change per doubling of images over the last part of training; None without enough points),
    its interval over seeds, the bound ``delta``, the snapshot ``images`` it used and the number of ``seeds``."""
    word: str
    slope: Interval | None
    delta: float
    images: tuple
    seeds: int


def _slope_per_doubling(images: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of ``values`` against log2(``images``): the change per doubling of images seen."""
    x = np.log2(images)
    x = x - x.mean()
    return float((x * (values - values.mean())).sum() / (x * x).sum())


def plateau_test(images, values, *, delta: float, last_share: float = 1 / 3, min_points: int = 3,
                 level: float = LEVEL) -> Plateau:
    """Has a trained quantity stopped moving? ``images`` (S,): the images seen at each snapshot, increasing and
    positive; ``values`` (seeds, S): the quantity of each seed's run at those snapshots (NaN: not measured).

    Over the last ``last_share`` of the snapshots (at least ``min_points`` of them), each seed's least-squares slope
    of the quantity against log2(images) — its change per doubling of the images seen — then the Student-t interval
    of the mean slope over seeds (:func:`rtc.claims.seed_interval`). The word: "plateau" when the whole interval
    lies inside (−δ, δ), "moving" when it lies wholly beyond one bound, "undecided" otherwise, and "too few
    snapshots" with fewer than ``min_points`` snapshots in that part or fewer than two seeds measured at all of
    them. ``delta`` is in the quantity's units (nats for a TC or a difference; a share for a ratio)."""
    images = _finite_1d(images, "images")
    if not (np.all(np.isfinite(images)) and np.all(images > 0) and np.all(np.diff(images) > 0)):
        raise ValueError(f"images must be positive and increasing, got {images}")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(images):
        raise ValueError(f"values must be (seeds, {len(images)} snapshots), got shape {values.shape}")
    if not (is_real(delta) and delta > 0):
        raise ValueError(f"delta must be a positive number, got {delta!r}")
    if not (is_real(last_share) and 0 < last_share <= 1):
        raise ValueError(f"last_share must be in (0, 1], got {last_share!r}")
    min_points = check_int(min_points, "min_points", minimum=2)
    level = _level(level)
    k = max(min_points, math.ceil(last_share * len(images)))
    if k > len(images):
        return Plateau("too few snapshots", None, float(delta), tuple(images.tolist()), 0)
    x, y = images[-k:], values[:, -k:]
    y = y[np.all(np.isfinite(y), axis=1)]
    if len(y) < 2:
        return Plateau("too few snapshots", None, float(delta), tuple(x.tolist()), len(y))
    iv = _student(np.array([_slope_per_doubling(x, row) for row in y]), level, "seeds")
    if -delta < iv.lo and iv.hi < delta:
        word = "plateau"
    elif iv.lo >= delta or iv.hi <= -delta:
        word = "moving"
    else:
        word = "undecided"
    return Plateau(word, iv, float(delta), tuple(x.tolist()), len(y))


def log_ratio_interval(numerator, denominator, *, level: float = LEVEL) -> Interval:
    """A ratio of positive quantities over paired seeds, on the log scale: the Student-t interval of the mean of
    log(numerator_i / denominator_i), exponentiated — the geometric mean ratio, whose interval never leaves
    (0, ∞). Pairs with a non-finite or non-positive member are dropped; ≥ 2 pairs are needed."""
    a, b = _finite_1d(numerator, "numerator"), _finite_1d(denominator, "denominator")
    if a.shape != b.shape:
        raise ValueError(f"numerator and denominator must be paired (same length), got {a.shape} and {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    iv = _student(np.log(a[ok] / b[ok]), _level(level), "paired seeds (log ratio)")
    return Interval(math.exp(iv.estimate), math.exp(iv.lo), math.exp(iv.hi), iv.n, iv.basis, iv.level)


def refute_pvalue(values, threshold: float, side: str) -> float:
    """The one-sided Student-t p-value against a claim that the mean of ``values`` (≥ 2 finite: seeds, or paired
    seeds' differences or log-ratios) lies ``side`` ("above" or "below") ``threshold``: small when the mean lies on
    the other side. It is ≤ α exactly when the two-sided (1 − 2α) interval lies wholly on the other side, the rule
    of :func:`rtc.claims.interval_verdict`; Holm's correction (:func:`holm`) takes these p-values within a claim."""
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    if not (is_real(threshold) and math.isfinite(threshold)):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    v = _finite_1d(values, "values")
    v = v[np.isfinite(v)]
    if len(v) < 2:
        raise ValueError(f"a p-value over seeds needs at least 2 finite values, got {len(v)}")
    sd = float(v.std(ddof=1))
    diff = float(v.mean()) - threshold
    if sd == 0:  # every seed alike: the mean is the value, on one side or exactly at the threshold
        return 0.0 if (diff > 0 if side == "below" else diff < 0) else 1.0
    stat = diff / (sd / math.sqrt(len(v)))
    return float(student_t.sf(stat, len(v) - 1) if side == "below" else student_t.cdf(stat, len(v) - 1))


def holm(pvalues, *, alpha: float = 1 - LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down correction of ``pvalues`` (one per cell of a claim): (adjusted p-values, rejected at
    ``alpha``), both in the input's order. Adjusted p_(i) = max over j ≤ i of min(1, (m − j + 1)·p_(j)) with the
    p-values sorted ascending; it controls the family-wise error at ``alpha``."""
    p = _finite_1d(pvalues, "pvalues")
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p}")
    if not (is_real(alpha) and 0 < alpha < 1):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out, out <= alpha


def sign_test(successes: int, failures: int) -> float:
    """Two-sided exact sign test (McNemar's exact test on the discordant pairs): the p-value of ``successes``
    against ``failures`` under a fair coin, ties left out by the caller; 1.0 with no discordant pair."""
    b = check_int(successes, "successes", minimum=0)
    c = check_int(failures, "failures", minimum=0)
    n = b + c
    if n == 0:
        return 1.0
    return float(min(1.0, 2 * binom.cdf(min(b, c), n, 0.5)))
