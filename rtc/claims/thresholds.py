"""The verdict vocabulary (:data:`VERDICTS`, :data:`LEVEL`, :data:`MOST`, :data:`FEW`) and the thresholds every
training claim is judged against (:class:`Thresholds`, fixed before the runs)."""
from __future__ import annotations

from dataclasses import dataclass

from rtc._validate import Config, check_int, check_real

from .registry import threshold_values

__all__ = ["VERDICTS", "LEVEL", "MOST", "FEW", "Thresholds", "THRESHOLDS"]


# "not converged": confirmed at the end of training but refuted at half training, or the reverse
# (:func:`convergence_verdict`); "partly": a claim about cells that holds in some of them (:func:`fraction_verdict`);
# "holds, still moving" / "not reproduced, still moving": a claim on trained runs whose interval lies on one side at
# the end of training while the quantity has not been shown to plateau (:func:`trajectory_verdict`) — a statement
# about the budget the runs had ("at N images"), not about the model; confirmed / refuted need the plateau too.
VERDICTS = ("confirmed", "partly", "refuted", "inconclusive", "not converged", "holds, still moving",
            "not reproduced, still moving")


_R = threshold_values()  # the claims registry (registry.toml): the one place a threshold is typed

# The level of every claim's interval: a verdict is confirmed / refuted when the whole 90 % interval lies on one side,
# i.e. a one-sided test at the registry's significance level (0.05).
LEVEL = 1 - 2 * _R["significance"]


# A claim that should hold in most cells: confirmed when it holds in at least MOST of them, refuted in at most FEW.
MOST, FEW = _R["most"], _R["few"]


@dataclass(frozen=True)
class Thresholds(Config):
    """Every threshold of every verdict in the book, fixed before any run (the chapters print the ones they use).

    Their values are the claims registry's (``rtc/claims/registry.toml``, :mod:`rtc.claims.registry`: each with the
    date it was fixed and whether results had been seen by then); the estimator study, the comparison and factor
    disintegration all read their thresholds from here, so no two chapters can judge one quantity by different
    numbers. Build a variant with ``Thresholds.from_mapping({...})`` (unknown names and wrong types are errors).

    Shared:
      most, few: a claim about several cells is confirmed when it holds in ≥ ``most`` of them, refuted in ≤ ``few``.
      significance: the one-sided level of each test behind a verdict (:data:`LEVEL` = 1 − 2·significance);
        within a claim of several cells, a refutation needs Holm's correction at that level (:func:`rtc.claims.holm`).
    Estimator study (:mod:`rtc.experiments.estimator_study`):
      accurate: a cell mean within ±accurate nats of the truth is accurate; an error above +accurate is an
        over-estimate.  low_tc: a true TC below this is "small".  low_d / high_d: the observations about
        D < low_d and D ≥ high_d.  law_slope: a slope in log M within ±law_slope of the paper's law follows it.
    Comparison (:mod:`rtc.experiments.comparison`):
      learned: a run learned if (recon − floor) ≤ learned · (baseline − floor) (the mean-image predictor).
      disparity_abs, disparity_rel: a run shows the disparity when TC_mean − TC_sample ≥ disparity_abs nats and
        ≥ disparity_rel · TC_mean; none when the difference is below disparity_abs or below none_rel · TC_mean.
      none_ratio: the comparative reading of "no disparity" (Fig. 3 right): the revised model's disparity at most
        none_ratio × its vanilla model's, same seed and strength (the log-ratio interval; reported beside the
        absolute and relative rules, :func:`rtc.experiments.comparison.disparity_readings`).
      disparity_floor: a disparity at or below this (nats) counts as this much in a ratio of disparities.
      dip_corr: the DIP positive control — the largest |corr| between active latents of µ (DIP-VAE-I) or z
        (DIP-VAE-II) at most this, else the DIP dependence claims are "untestable at this budget".
      shape_learned: the recipe study's shape check — a run has learned dSprites' shapes when a random forest on µ
        tells them apart on held-out images with at least this accuracy (chance 1/3; halfway to 1)
        (:mod:`rtc.experiments.probes`, :mod:`rtc.experiments.comparison.recipes`).
      much_lower: the revised model's TC_mean is "much lower" when ≤ much_lower × the vanilla model's.
      comparable: TC_samples are "comparably low" when the revised one is ≤ comparable × the vanilla one or
        within disparity_abs nats of it.
      recon_worse: a reconstruction error more than (1 + recon_worse) × another is "worse".
      strong_rho: |Spearman ρ| ≥ strong_rho is a strong (monotone) correlation.
      knn_excess: kNN (KSG) TC of µ above its Gaussian TC by ≥ knn_excess nats is "not factorised beyond
        correlation".
      plateau_nats, plateau_log: a trained quantity has reached a plateau when the interval over seeds of its slope
        per doubling of the images seen, over the last third of its kept steps, lies inside ±plateau_nats (a TC
        difference, in nats) or ±plateau_log (a positive quantity — a TC, a reconstruction — on the log scale:
        0.1 is ≈ 10 % per doubling) (:func:`rtc.claims.plateau_test`, :func:`rtc.claims.trajectory_verdict`).
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

    # Every default is the registry's value (registry.toml): the one place a threshold is typed.
    most: float = _R["most"]
    few: float = _R["few"]
    significance: float = _R["significance"]
    # estimator study
    accurate: float = _R["accurate"]
    low_tc: float = _R["low_tc"]
    low_d: int = _R["low_d"]
    high_d: int = _R["high_d"]
    law_slope: float = _R["law_slope"]
    # comparison
    learned: float = _R["learned"]
    disparity_abs: float = _R["disparity_abs"]
    disparity_rel: float = _R["disparity_rel"]
    none_rel: float = _R["none_rel"]
    none_ratio: float = _R["none_ratio"]
    disparity_floor: float = _R["disparity_floor"]
    much_lower: float = _R["much_lower"]
    comparable: float = _R["comparable"]
    recon_worse: float = _R["recon_worse"]
    strong_rho: float = _R["strong_rho"]
    knn_excess: float = _R["knn_excess"]
    regime_share: float = _R["regime_share"]
    plateau_nats: float = _R["plateau_nats"]
    plateau_log: float = _R["plateau_log"]
    dip_corr: float = _R["dip_corr"]
    shape_learned: float = _R["shape_learned"]
    # factor disintegration
    min_score: float = _R["min_score"]
    exists_share: float = _R["exists_share"]
    suppression: float = _R["suppression"]
    independent_mi: float = _R["independent_mi"]
    dependent_excess: float = _R["dependent_excess"]
    min_runs: int = _R["min_runs"]
    min_cases: int = _R["min_cases"]

    def __post_init__(self):
        put = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731  (frozen dataclass)
        for name in ("accurate", "low_tc", "law_slope", "learned", "disparity_abs", "disparity_rel", "none_rel",
                     "none_ratio", "much_lower", "comparable", "recon_worse", "strong_rho", "knn_excess",
                     "regime_share", "plateau_nats", "plateau_log", "dip_corr", "shape_learned", "disparity_floor",
                     "min_score",
                     "exists_share", "suppression",
                     "independent_mi", "dependent_excess"):
            put(name, check_real(getattr(self, name), f"Thresholds.{name}", positive=True))
        for name, minimum in (("low_d", 1), ("high_d", 1), ("min_runs", 3), ("min_cases", 1)):
            try:
                put(name, check_int(getattr(self, name), f"Thresholds.{name}", minimum=minimum))
            except TypeError as e:
                raise ValueError(str(e)) from None
        put("most", check_real(self.most, "Thresholds.most"))
        put("significance", check_real(self.significance, "Thresholds.significance"))
        put("few", check_real(self.few, "Thresholds.few"))
        if not 0 <= self.few < self.most <= 1:
            raise ValueError(f"Thresholds need 0 ≤ few < most ≤ 1, got few={self.few!r}, most={self.most!r}")
        if not 0 < self.significance < 0.5:
            raise ValueError(f"Thresholds.significance must be in (0, 0.5), got {self.significance!r}")
        for name in ("exists_share", "strong_rho", "learned", "regime_share", "dip_corr"):
            if getattr(self, name) > 1:
                raise ValueError(f"Thresholds.{name} must be ≤ 1, got {getattr(self, name)!r}")


THRESHOLDS = Thresholds()


if {f for f in Thresholds.__dataclass_fields__} != set(_R):
    raise RuntimeError(f"Thresholds and the claims registry disagree: only in Thresholds "
                       f"{sorted(set(Thresholds.__dataclass_fields__) - set(_R))}, only in the registry "
                       f"{sorted(set(_R) - set(Thresholds.__dataclass_fields__))}")
