"""Factor disintegration (one factor carried by several independent latents): controlled codes with closed-form
metric values, and the analyses of trained runs behind the disintegration chapter.

The stages, one module each, in the chapter's order:

- :mod:`.codes`: the controlled codes on a full factorial grid (:func:`synthetic_code`) and their closed forms;
- :mod:`.controlled`: every metric of those codes beside its closed form (:func:`controlled_experiment`) and the
  look-ups in that table;
- :mod:`.trained`: the score a trained code loses to disintegration (:func:`pair_gain_table`,
  :func:`analyse_codes`) and rank correlations over runs (:func:`correlation_table`);
- :mod:`.runs`: the steps over the trained grid (encode, analyse, pick a run's clearest split, sum its deficits);
- :mod:`.quantities` and :mod:`.claims`: the claims (:data:`CLAIMS`), each judged by an interval;
- :mod:`.text`: numbers and sentences for the prose; :mod:`.plots`: the figures (imported on its own, it needs
  Matplotlib);
- :mod:`.common`: the constants every stage shares.
"""
from __future__ import annotations

from rtc.claims import spearman_bootstrap

from .claims import (
    check_claims,
    check_claims_active,
    check_distinct,
    check_exists,
    check_suppression,
    check_tradeoff,
    paired_share_interval,
)
from .codes import SyntheticCode, closed_forms, split_r2, synthetic_code
from .common import CLAIMS, DESCRIPTIVE_RUNS, DIP_MODELS, FACTORISED_MODELS, MAX_VALUES, MODES, NO_RUN, QUANTITIES
from .controlled import (
    SYNTHETIC_METRICS,
    SyntheticDataset,
    closed_form_agreement,
    controlled_experiment,
    controlled_value,
    evaluate_synthetic,
    reaction_table,
)
from .quantities import deficit_share_interval, permutation_pvalue, run_summary, suppression_table
from .runs import (
    active_encodings,
    analyse_runs,
    clearest_split,
    deficit_shares,
    deficit_table,
    dip_control_runs,
    encode_half,
    encode_runs,
    tradeoff_dataset,
)
from .text import pair_text, split_texts
from .trained import (
    analyse_codes,
    correlation_table,
    deficit_summary,
    most_split_factor,
    pair_gain_table,
    top_pair_dependence,
)

__all__ = ["MAX_VALUES", "MODES", "FACTORISED_MODELS", "DIP_MODELS", "SYNTHETIC_METRICS", "SyntheticCode",
           "SyntheticDataset", "synthetic_code", "split_r2", "closed_forms", "evaluate_synthetic",
           "controlled_experiment", "controlled_value", "closed_form_agreement", "pair_gain_table", "analyse_codes",
           "most_split_factor", "reaction_table", "deficit_summary", "top_pair_dependence", "spearman_bootstrap",
           "correlation_table", "NO_RUN", "encode_runs",
           "encode_half", "analyse_runs", "clearest_split", "split_texts", "pair_text", "deficit_table",
           "deficit_shares", "deficit_share_interval", "tradeoff_dataset", "CLAIMS", "DESCRIPTIVE_RUNS",
           "run_summary", "permutation_pvalue", "suppression_table", "check_exists", "check_suppression",
           "check_distinct", "check_tradeoff", "check_claims", "QUANTITIES", "active_encodings",
           "check_claims_active", "paired_share_interval", "dip_control_runs"]
