"""The model comparison of the paper's §5.1–5.2 as library calls: learning checks, TC traces, claims with verdicts.

The comparison chapter trains the profile's grid through :func:`rtc.sweep.run_grid` (a table, one row per run,
and the runs' :class:`rtc.experiments.RunResult` s in the same order) and then calls:

- :func:`mean_image_baseline` — the reconstruction error of a model that ignores its input and predicts the mean
  image, and the error's floor (the targets' own Bernoulli entropy: 0 for binary dSprites, > 0 for the
  continuous Shapes3D pixels); :func:`add_learning` marks a run as *learned* when its reconstruction — through µ,
  and as trained (:func:`trained_reconstruction`, z ~ q(z|x)) — is at most ``Thresholds.learned`` (½) of the
  baseline, both measured above the floor; :func:`learning_summary`;
- :func:`add_disparity` — TC_mean − TC_sample per run (all and active latents) and its class ("disparity",
  "none", "ambiguous"), a description of each run;
- :func:`add_regime` — per revised run the share of the second half of training with its variance term inside the
  paper's band (0.01, 0.04), and whether it is in the paper's regime;
- :func:`claim_stage` — the claim quantities and codes of every run at the end of training or at half training
  (the weight snapshot at steps/2);
- :func:`check_claims` — one :class:`rtc.claims.Observation` per claim of §5.1–5.2 (:data:`CLAIMS`: Figs 3, 4, 9a,
  9b, 9d and §5.2's DIP-VAE and RTC-VAE claims), each a quantity with a 90 % interval — over seeds, paired by seed,
  or over the images of a one-seed run — judged against a threshold of :class:`rtc.claims.Thresholds`, at the end
  and at half training; :func:`rtc.claims.verdict_table` sets them side by side;
- :func:`with_trajectories` — each claim followed along training: the plateau test of the quantities it rests on
  (:data:`CLAIM_CURVES`, :func:`claim_plateau`, on every run's curve), its budget in images per run, and the
  verdict words that need a plateau (:func:`rtc.claims.trajectory_verdict`);
- :func:`traced_runs`, :func:`variance_band_summary`, :func:`traversal_inputs` — what training did (RTC-VAE's η
  and variance term, and the run's curve) for one run per model;
- :func:`pair_codes`, :func:`pair_summary`, :func:`pair_sentence` — the most dependent latent pairs of a run;
- :func:`theorem1_table`, :func:`theorem1_summary` — Theorem 1's noise range and bound on every trained encoder;
- :func:`run_labels` (:func:`rtc.report.run_label` per row), :func:`run_table`, :func:`shown_run_table`,
  :func:`tc_mean_side_by_side`
  — labels and tables (the run table is also written as CSV by the chapter).

Verdict words: ``confirmed`` / ``refuted`` (the whole interval on the claim's side of its threshold / on the other
side), ``inconclusive`` (the interval straddles it, or no learned run in the paper's regime to judge) and ``not
converged`` (confirmed at the end of training and refuted at half training, or the reverse); ``holds, still
moving`` / ``not reproduced, still moving`` (confirmed / refuted at the end of training, the quantity not shown to
plateau). Every verdict names the images per run it rests on.

The package's modules, in the order the chapter calls them: :mod:`.constants` (models, labels, claims, columns),
:mod:`.labels` (run labels), :mod:`.learning` (baseline, learned, disparity, regime), :mod:`.stage` and
:mod:`.cells` / :mod:`.claims` (the claims), :mod:`.traces` (training), :mod:`.mechanism` (pairs, Theorem 1),
:mod:`.tables` and :mod:`.plots` (the chapter's repeated panel and colours; imported on its own).
"""

from __future__ import annotations

from .cells import itt_stage
from .claims import (
    check_claims,
    claim_disparity,
    claim_lower_than_factor_vae,
    claim_pairwise,
    claim_primary,
    claim_revised_lower,
    claim_rtc_recon,
    claim_tc_sap,
)
from .constants import (
    CLAIMS,
    LABELS,
    MODELS,
    PAIRS,
    QUANTITIES,
    REVISED,
    SIDE_MODELS,
    STAGE_COLUMNS,
    TABLE_COLUMNS,
)
from .controls import dip_control, dip_control_text
from .labels import one_seed_text, run_labels, seed_cells, tc_estimator_text
from .learning import (
    add_disparity,
    add_learning,
    add_regime,
    learning_rules,
    learning_summary,
    mean_image_baseline,
    trained_reconstruction,
)
from .mechanism import (
    SNR_ACTIVE,
    active_control,
    disparity_spectrum,
    mechanism_row,
    mechanism_table,
    noise_range,
    pair_codes,
    pair_sentence,
    pair_summary,
    theorem1_row,
    theorem1_summary,
    theorem1_table,
)
from .readings import disparity_readings
from .stage import Stage, claim_stage
from .tables import describe_grid, paper_cost, run_table, shown_run_table, tc_mean_side_by_side
from .traces import traced_runs, traversal_inputs, variance_band_summary
from .trajectory import CLAIM_CURVES, claim_plateau, with_trajectories

__all__ = ["PAIRS", "REVISED", "LABELS", "MODELS", "SIDE_MODELS", "CLAIMS", "QUANTITIES", "STAGE_COLUMNS", "Stage",
           "mean_image_baseline", "add_learning", "trained_reconstruction", "add_disparity", "add_regime",
           "claim_stage", "tc_estimator_text", "seed_cells", "one_seed_text", "claim_disparity",
           "claim_revised_lower", "claim_rtc_recon", "claim_tc_sap", "claim_lower_than_factor_vae",
           "claim_pairwise", "learning_summary", "check_claims", "run_labels", "traced_runs",
           "variance_band_summary", "traversal_inputs", "pair_codes", "pair_summary",
           "pair_sentence", "disparity_spectrum", "noise_range", "theorem1_row", "theorem1_table",
           "theorem1_summary", "run_table", "shown_run_table", "tc_mean_side_by_side", "TABLE_COLUMNS",
           "describe_grid", "paper_cost", "CLAIM_CURVES", "claim_plateau", "with_trajectories",
           "disparity_readings", "SNR_ACTIVE", "mechanism_row", "mechanism_table",
           "active_control", "claim_primary", "itt_stage", "dip_control", "dip_control_text",
           "learning_rules"]
