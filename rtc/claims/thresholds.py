"""The verdict vocabulary (:data:`VERDICTS`, :data:`LEVEL`, :data:`MOST`, :data:`FEW`) and the thresholds every
training claim is judged against (:class:`Thresholds`, fixed before the runs)."""
from __future__ import annotations

from dataclasses import dataclass

from rtc._validate import Config, check_int, check_real

__all__ = ["VERDICTS", "LEVEL", "MOST", "FEW", "Thresholds", "THRESHOLDS"]


# "not converged": confirmed at the end of training but refuted at half training, or the reverse
# (:func:`convergence_verdict`); "partly": a claim about cells that holds in some of them (:func:`fraction_verdict`);
# "holds, still moving" / "not reproduced, still moving": a claim on trained runs whose interval lies on one side at
# the end of training while the quantity has not been shown to plateau (:func:`trajectory_verdict`) — a statement
# about the budget the runs had ("at N images"), not about the model; confirmed / refuted need the plateau too.
VERDICTS = ("confirmed", "partly", "refuted", "inconclusive", "not converged", "holds, still moving",
            "not reproduced, still moving")


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
    none_ratio: float = 0.25
    much_lower: float = 0.5
    comparable: float = 2.0
    recon_worse: float = 0.05
    strong_rho: float = 0.5
    knn_excess: float = 1.0
    regime_share: float = 0.5
    plateau_nats: float = 0.25
    plateau_log: float = 0.1
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
                     "none_ratio", "much_lower", "comparable", "recon_worse", "strong_rho", "knn_excess",
                     "regime_share", "plateau_nats", "plateau_log", "min_score", "exists_share", "suppression",
                     "independent_mi", "dependent_excess"):
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
