"""Claims and their verdicts: the vocabulary every chapter's checks share.

An :class:`Observation` is one claim of the paper checked against a run: its ``verdict`` is a word of
:data:`VERDICTS`, computed — never typed — from the measured numbers and thresholds fixed before the run.
:func:`fraction_verdict` judges a claim that should hold in most of the cells it is about;
:func:`interval_verdict` and :func:`band_verdict` judge a quantity by its 90 % :class:`Interval` (over seeds, paired
seeds, or a bootstrap over one run's images) against a threshold fixed before the run;
:func:`verdict_counts` and :func:`observation_texts` are what a chapter prints of its observations;
:func:`spearman_bootstrap` is the rank correlation (with a seeded bootstrap interval over runs) that the
correlation claims use. The estimator study (:mod:`rtc.experiments.estimators`), the comparison
(:mod:`rtc.experiments.comparison`) and factor disintegration (:mod:`rtc.experiments.disintegration`) build
their claims from these.
"""
from .intervals import (
    Interval,
    binomial_interval,
    bootstrap_interval,
    paired_difference,
    paired_interval,
    seed_interval,
    share_difference_interval,
    spearman_bootstrap,
)
from .registry import ClaimSpec, RegistryError, claim_spec, claim_specs, registry_table
from .thresholds import FEW, LEVEL, MOST, THRESHOLDS, VERDICTS, Thresholds
from .trends import PLATEAU_WORDS, Plateau, holm, log_ratio_interval, plateau_test, refute_pvalue, sign_test
from .verdicts import (
    AGREEMENTS,
    NOT_COMPUTED,
    NOT_GLUED,
    Observation,
    agreement,
    all_cells_verdict,
    band_verdict,
    below_band_verdict,
    budget_text,
    compare_verdicts,
    convergence_verdict,
    equivalence_verdict,
    fraction_verdict,
    interval_verdict,
    joint_verdict,
    observation_texts,
    order_verdict,
    stage_agreement,
    threshold_text,
    trajectory_verdict,
    verdict_counts,
    verdict_table,
    with_active,
    with_budget,
)

__all__ = ["VERDICTS", "MOST", "FEW", "LEVEL", "Thresholds", "THRESHOLDS", "Observation", "Interval", "seed_interval",
           "paired_interval", "bootstrap_interval", "binomial_interval", "share_difference_interval",
           "interval_verdict", "band_verdict", "convergence_verdict", "trajectory_verdict", "budget_text",
           "with_budget", "fraction_verdict",
           "verdict_counts", "observation_texts", "spearman_bootstrap",
           "paired_difference", "equivalence_verdict", "threshold_text", "with_active", "verdict_table",
           "AGREEMENTS", "NOT_COMPUTED", "NOT_GLUED", "agreement", "stage_agreement", "compare_verdicts",
           "joint_verdict", "order_verdict", "all_cells_verdict", "below_band_verdict", "Plateau", "PLATEAU_WORDS",
           "plateau_test", "log_ratio_interval", "holm", "sign_test", "refute_pvalue", "ClaimSpec", "RegistryError",
           "claim_spec", "claim_specs", "registry_table"]
