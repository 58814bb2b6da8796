"""The comparison's models, their labels, the claims of §5.1–5.2 and the columns of its tables."""
from __future__ import annotations

from rtc.claims import claim_specs
from rtc.models.objectives import REVISED_MODELS
from rtc.report import MODEL_LABELS

__all__ = ["PAIRS", "REVISED", "LABELS", "MODELS", "SIDE_MODELS", "CLAIMS", "QUANTITIES", "STAGE_COLUMNS",
           "TABLE_COLUMNS"]

# vanilla model → its revised form (the paper's "revised β-VAE" and RTC-VAE = revised FactorVAE)
PAIRS = {"beta_vae": "revised_beta_vae", "factor_vae": "rtc_vae"}
# the models whose variance term the η rule keeps in the paper's band (their claims count only runs in that regime)
REVISED = REVISED_MODELS  # rtc.models.objectives: the models with the variance penalty
LABELS = MODEL_LABELS  # how the book names each model (rtc.report, with the one run_label)
# the comparison's models in the order its figures list them (and the models traced through training)
MODELS = ("beta_vae", "revised_beta_vae", "factor_vae", "rtc_vae", "beta_tcvae", "dip_vae_i", "dip_vae_ii")
# the models whose TC_mean the appendix's Fig. 9d sets side by side
SIDE_MODELS = ("factor_vae", "dip_vae_i", "dip_vae_ii", "rtc_vae")

# the columns of a claim stage (rtc.experiments.comparison.stage.claim_stage): the run's identity and standing …
STAGE_COLUMNS = ["model", "dataset", "strength", "seed", "learned", "in_regime", "band_share"]
# … and the quantities the claims judge
QUANTITIES = ["tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active", "disparity", "disparity_active",
              "recon", "sap_r2"]

# the claims of §5.1–5.2, from the claims registry (rtc/claims/registry.toml): name → (where the paper states it,
# the quantity judged), in the registry's order — the first columns of rtc.claims.verdict_table
CLAIMS = {name: (spec.place, spec.quantity) for name, spec in claim_specs("comparison").items()}

# the run table's columns, in the order the chapter shows and writes them (those a table has)
TABLE_COLUMNS = ["model", "dataset", "strength", "seed", "steps", "batch_size", "recon", "trained_recon", "baseline",
                 "learned", "kl", "tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active", "tc_mean_knn",
                 "tc_mean_dr", "active_dims", "var_sum", "final_eta", "sap_r2", "mig_ref", "mig_chen",
                 "dci_disentanglement", "dci_completeness", "dci_informativeness_test", "factor_vae_eval",
                 "disintegration_r2", "train_seconds", "eval_seconds"]
