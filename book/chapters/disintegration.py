# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Factor disintegration: is a factorised representation disentangled?
#
# Sections 5.3–5.4 of the paper name a failure that a factorised code can still have: one factor of variation
# *disintegrates* into several latents that are independent of each other, each covering part of the factor's
# range (the paper's example: an RTC-VAE on Shapes3D spreading wall hue over two latents). Because SAP and MIG
# score the *gap* between a factor's two best latents, such a split suppresses them. The paper shows one model.
# This chapter makes the claim quantitative: first on controlled codes where every metric has a known answer, then
# on every trained run of the training chapter (read from its cache; nothing is retrained here).

# %% tags=["parameters"]
profile = "default"  # the runs: parameters/<profile>/training.yaml (shared with the training chapter)
seed = 0
threads = 1
m = 4
ks = [1, 2, 3, 4]
noises = [0.0, 0.1, 0.3]
dependent_m = 8
alphas_deg = [0.0, 15.0, 30.0, 45.0]
other_sizes = [5, 4]
chen_samples = 300
score_batch = 16
score_train = 300
score_eval = 150
score_variance = 2000
encode_n = 2000
knn_max_points = 2000
bootstrap_repeats = 1000
walk_steps = 8
count_unlearned = False

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from rtc.experiments.selection import find_run
from rtc.params import describe_run

display(Markdown(describe_run("disintegration", globals())))

# %% tags=["hide-cell"]
import math
import time

import pandas as pd
import torch

from rtc.claims import LEVEL, THRESHOLDS, observation_texts, registry_table, verdict_table, with_active, with_budget
from rtc.data import load_dataset
from rtc.experiments import default_results_dir
from rtc.experiments.comparison import add_learning, mean_image_baseline, trained_reconstruction
from rtc.experiments.disintegration import (
    DESCRIPTIVE_RUNS,
    QUANTITIES,
    analyse_runs,
    check_claims,
    check_claims_active,
    clearest_split,
    closed_form_agreement,
    closed_forms,
    controlled_experiment,
    controlled_value,
    correlation_table,
    deficit_share_interval,
    deficit_shares,
    deficit_table,
    dip_control_runs,
    encode_half,
    encode_runs,
    pair_text,
    reaction_table,
    split_r2,
    split_texts,
    suppression_table,
)
from rtc.experiments.disintegration.plots import (
    METRIC_LABELS,
    claims_figure,
    controlled_figure,
    correlation_figure,
    deficit_figure,
    pair_figures,
    score_matrices_figure,
    suppression_figure,
)
from rtc.experiments.grid import pooled_seeds, pooled_text
from rtc.report import glue_figure, glue_values, markdown_table, number_text, rho_text, run_label
from rtc.sweep import grid_runs, run_grid

# The CPU is shared by several jobs: one thread per process avoids oversubscription.
torch.set_num_threads(threads)
if 1 not in ks or 0.0 not in noises:
    raise ValueError(f"ks must include 1 (the identity code) and noises 0.0 (the exact case); got ks={ks}, "
                     f"noises={noises}")
thresholds = THRESHOLDS  # rtc.claims.Thresholds: every threshold of the verdicts below, fixed before the run
t_start = time.perf_counter()
glue_values({"m": m, "dep-n": dependent_m, "kmax": max(ks), "grid-profile": profile, "level-pct": round(100 * LEVEL),
             "descriptive-runs": DESCRIPTIVE_RUNS,
             "th-min_score": thresholds.min_score, "th-exists_share": thresholds.exists_share,
             "th-suppression": thresholds.suppression, "th-independent_mi": thresholds.independent_mi,
             "th-dependent_excess": thresholds.dependent_excess, "th-strong_rho": thresholds.strong_rho,
             "th-min_runs": thresholds.min_runs, "th-min_cases": thresholds.min_cases,
             "th-dip_corr": thresholds.dip_corr})

# %% [markdown]
# ## 1. Controlled disintegration: every metric against a known answer
#
# `rtc.experiments.disintegration.synthetic_code` enumerates a full factorial grid of factors (each combination
# once, so every empirical distribution is exact) and builds a code from it. Factor 0 is the one we manipulate;
# every other factor has one latent of its own. Every latent is standardised, then Gaussian noise σ is added.
#
# - **Split into k independent latents.** Factor 0 takes n = m^k values (here m = {glue:text}`m`), written in
#   base m with k digits, t = Σ_j d_j·m^(k−j): the coarse digit says in which of m sub-ranges t lies, the finer
#   digits where inside it. Latent j carries digit d_j. With t uniform the digits are *exactly* independent and
#   uniform, so the code stays factorised. k = 1 is the identity code.
# - **Dependent split** (the DIP-VAE pattern of the paper's Fig. 6): factor 0 has n = {glue:text}`dep-n` values,
#   u = t/(n − 1), and two latents carry u and |u − ½| — uncorrelated by symmetry, yet the second is a function
#   of the first.
# - **Entanglement:** the latents of factors 0 and 1 rotated by an angle α.
#
# **Closed forms (σ = 0).** A digit is a function of t, so I(d_j; t) = H(d_j) = log m, while H(t) = k·log m:
# each digit latent has normalised MI 1/k, and factor 0's MIG is 1 for k = 1 and 0 for every k ≥ 2 — a
# perfectly factorised code with one factor's MIG wiped out. For R², Var t = (m^2k − 1)/12 and, by independence,
# Cov(t, d_j) = m^(k−j)·Var d_j, so
#
# $$
# R^2_j = \frac{m^{2(k-j)}\,(m^2 - 1)}{m^{2k} - 1}, \qquad
# \mathrm{SAP}_0 = R^2_1 - R^2_2 = \frac{m^{2k-4}\,(m^2-1)^2}{m^{2k}-1}\quad (k \ge 2).
# $$ (eq-split-r2)
#
# The coarse digit dominates (R²₁ = 1 − 1/m² for k = 2), so the R² gap barely moves: **SAP hardly notices a split
# that MIG sees fully**. The dependent split has MIG₀ = log 2 / log n (|u − ½| merges value pairs) and SAP₀ = 1;
# the rotation gives R² of cos²α and sin²α, so SAP₀ = |cos 2α|. Every other factor scores 1 exactly. These
# numbers need lossless binning: the reference MIG puts each latent into 20 equal-width bins, and a latent with
# at most 20 equispaced values keeps one bin per value (consecutive values are 20/(v − 1) > 1 bin apart), which
# `synthetic_code` checks. With noise the R² shrink by 1/(1 + σ²) in the population (not exactly in one draw);
# the binned MI has no closed form.

# %%
controlled = controlled_experiment(
    ks=ks, noises=noises, m=m, dependent_m=dependent_m,
    alphas=[math.radians(a) for a in alphas_deg], other_sizes=other_sizes,
    chen_samples=chen_samples, seed=seed,
    score_kwargs=dict(batch_size=score_batch, num_train=score_train,
                      num_eval=score_eval, num_variance_estimate=score_variance))
agreement = closed_form_agreement(controlled)
reactions = reaction_table(controlled)

# %% tags=["hide-cell"]
flag = {True: "flagged", False: "not flagged"}
glue_values({
    "cf-maxdev-exact": agreement["maxdev_exact"], "cf-count-exact": agreement["count_exact"],
    "cf-maxdev-noisy": number_text(agreement["maxdev_noisy"], ".3f"), "cf-count-noisy": agreement["count_noisy"],
    "cf-sap0-kmax": closed_forms("split", k=max(ks), m=m, num_factors=1 + len(other_sizes))["sap_r2"][0],
    "cf-r2-coarse-kmax": float(split_r2(m, max(ks))[0]),
    "cf-dep-mig0": closed_forms("dependent", m=dependent_m)["mig_ref"][0],
    "ctl-flag-nmi-kmax": flag[controlled_value(controlled, "split", "flag_nmi", k=max(ks)) == 1],
    "ctl-flag-r2-kmax": flag[controlled_value(controlled, "split", "flag_r2", k=max(ks)) == 1],
    "ctl-ratio-r2-kmax": controlled_value(controlled, "split", "split_ratio_r2", k=max(ks)),
    "ctl-dep-pairnmi": controlled_value(controlled, "dependent", "pair_nmi"),
    "ctl-dep-flag": flag[controlled_value(controlled, "dependent", "flag_nmi") == 1],
    "ctl-alpha-max": max(alphas_deg),
    "react-dci_completeness-split": number_text(reactions.loc["dci_completeness", "split"], "+.2f"),
    "react-dci_completeness-dependent": number_text(reactions.loc["dci_completeness", "dependent"], "+.2f"),
    "react-dci_completeness-rotation": number_text(reactions.loc["dci_completeness", "rotation"], "+.2f"),
    "react-dci_disentanglement-split": number_text(reactions.loc["dci_disentanglement", "split"], "+.2f"),
    "react-dci_disentanglement-dependent": number_text(reactions.loc["dci_disentanglement", "dependent"], "+.2f"),
    "react-dci_disentanglement-rotation": number_text(reactions.loc["dci_disentanglement", "rotation"], "+.2f"),
    "react-modularity-split": number_text(reactions.loc["modularity", "split"], "+.2f"),
    "react-modularity-dependent": number_text(reactions.loc["modularity", "dependent"], "+.2f"),
    "react-modularity-rotation": number_text(reactions.loc["modularity", "rotation"], "+.2f"),
    "react-beta_vae_eval-split": number_text(reactions.loc["beta_vae_eval", "split"], "+.2f"),
    "react-beta_vae_eval-dependent": number_text(reactions.loc["beta_vae_eval", "dependent"], "+.2f"),
    "react-beta_vae_eval-rotation": number_text(reactions.loc["beta_vae_eval", "rotation"], "+.2f"),
    "react-factor_vae_eval-split": number_text(reactions.loc["factor_vae_eval", "split"], "+.2f"),
    "react-factor_vae_eval-dependent": number_text(reactions.loc["factor_vae_eval", "dependent"], "+.2f"),
    "react-factor_vae_eval-rotation": number_text(reactions.loc["factor_vae_eval", "rotation"], "+.2f"),
    "react-mig_ref-split": number_text(reactions.loc["mig_ref", "split"], "+.2f"),
    "react-mig_ref-dependent": number_text(reactions.loc["mig_ref", "dependent"], "+.2f"),
    "react-mig_ref-rotation": number_text(reactions.loc["mig_ref", "rotation"], "+.2f"),
    "react-sap_r2-split": number_text(reactions.loc["sap_r2", "split"], "+.2f"),
    "react-sap_r2-dependent": number_text(reactions.loc["sap_r2", "dependent"], "+.2f"),
    "react-sap_r2-rotation": number_text(reactions.loc["sap_r2", "rotation"], "+.2f")})

# %% tags=["hide-input"]
glue_figure("fig-dis-controlled", controlled_figure(controlled, ks=ks, noises=noises))

# %% [markdown]
# ```{glue:figure} fig-dis-controlled
# :name: fig-dis-controlled
#
# Every metric against the number k of independent latents carrying factor 0 (this run's profile; m =
# {glue:text}`m` values per digit latent). Solid: factor 0's own score (where a metric has one), dotted: the
# model-level score; colours: noise σ; black crosses: the closed forms (σ = 0 exact; σ > 0 SAP's population
# value).
# ```
#
# **Agreement with the closed forms.** Over the {glue:text}`cf-count-exact` measured values that have an exact
# closed form (σ = 0: SAP and the reference MIG, factor 0 and model level, split and dependent codes, and SAP under
# rotation), the largest deviation is {glue:text}`cf-maxdev-exact:.1e` — round-off. Over the
# {glue:text}`cf-count-noisy` noisy SAP values the largest deviation from the population value is
# {glue:text}`cf-maxdev-noisy`. At k = {glue:text}`kmax` factor 0's SAP is {glue:text}`cf-sap0-kmax:.3f`
# (the coarse digit alone has R² = {glue:text}`cf-r2-coarse-kmax:.3f`), its MIG 0.
#
# **Which metric reacts to which.** The table gives each model-level metric for the identity code and its change
# under the largest split (k = {glue:text}`kmax`), the dependent split and the largest rotation
# (α = {glue:text}`ctl-alpha-max`°), all at σ = 0.

# %% tags=["hide-input"]
display(Markdown(markdown_table(
    reactions.loc[list(METRIC_LABELS), ["identity", "split", "dependent", "rotation"]]
    .rename(index=METRIC_LABELS).rename_axis("metric (σ = 0)").reset_index())))

# %% [markdown]
# A split moves MIG (by {glue:text}`react-mig_ref-split`) and DCI completeness
# ({glue:text}`react-dci_completeness-split`) but leaves DCI disentanglement
# ({glue:text}`react-dci_disentanglement-split`), modularity ({glue:text}`react-modularity-split`), the BetaVAE
# ({glue:text}`react-beta_vae_eval-split`) and FactorVAE ({glue:text}`react-factor_vae_eval-split`) scores
# nearly where they were, and SAP moves little ({glue:text}`react-sap_r2-split`): these metrics ask whether each
# *latent* is tied to one factor, and every digit latent is. A rotation lowers the latent-side metrics too
# (DCI disentanglement {glue:text}`react-dci_disentanglement-rotation`, modularity
# {glue:text}`react-modularity-rotation`, SAP {glue:text}`react-sap_r2-rotation`, BetaVAE
# {glue:text}`react-beta_vae_eval-rotation`, FactorVAE {glue:text}`react-factor_vae_eval-rotation`). The dependent
# split lowers MIG ({glue:text}`react-mig_ref-dependent`; closed form for factor 0: log 2/log n =
# {glue:text}`cf-dep-mig0:.3f`) and DCI completeness ({glue:text}`react-dci_completeness-dependent`), not SAP
# ({glue:text}`react-sap_r2-dependent`): from the scores alone it looks like a split.
#
# The library's disintegration flag (`rtc.metrics.disintegration`: a captured factor whose two best latents have a
# split ratio s₂/s₁ ≥ ½, are dedicated to it, and are nearly independent, pair NMI < 0.2) sees the split at
# k = {glue:text}`kmax` in the normalised-MI matrix ({glue:text}`ctl-flag-nmi-kmax`) but not in the R² matrix
# ({glue:text}`ctl-flag-r2-kmax`: split ratio {glue:text}`ctl-ratio-r2-kmax:.3f`, the fine digit explains little
# variance). The dependent split has pair NMI {glue:text}`ctl-dep-pairnmi:.2f` (one latent is a function of the
# other) and is {glue:text}`ctl-dep-flag`: dependence is told apart from disintegration.


# %% [markdown]
# ## 2. The trained runs
#
# The runs are those of the training chapter, the grid of the {glue:text}`grid-profile` profile
# (`parameters/<profile>/training.yaml`, one definition for both chapters); they are read from the results cache.
# For the analyses that need codes, each model encodes a fresh sample of images (this profile's `encode_n`) and
# the encoder means µ are used (`analyse_runs`). Every claim below is also checked on the runs' weight snapshots
# at half training (`encode_half`: {glue:text}`half-n` images each, the same factors; a run without a snapshot at
# half its steps is left out there): {glue:text}`n-half` of the {glue:text}`n-runs` runs have one. The claims count
# only the runs that learned, by the training chapter's check (`add_learning`): {glue:text}`n-learned` of
# {glue:text}`n-runs` (not learned: {glue:text}`not-learned`); the figures show every run.

# %%
runs = grid_runs(profile)
n_profile = len(runs)
runs += pooled_seeds(runs, results_dir=default_results_dir())  # other seed sets' runs
table, results = run_grid(runs, results_dir=default_results_dir(), progress=False)
# the training chapter's learning check: only runs that learned enter a claim
baselines = {name: mean_image_baseline(load_dataset(name), seed=seed)
             for name in sorted(set(table["dataset"]))}
learned_table = add_learning(table.reset_index(drop=True), baselines, thresholds,
                             trained_recon=trained_reconstruction(results))
learned = [i for i, ok in enumerate(learned_table["learned"]) if ok or count_unlearned]
encodings = encode_runs(results, n=encode_n, seed=seed)
factors_all = analyse_runs(results, encodings, max_points=knn_max_points,
                           min_score=thresholds.min_score, seed=seed)
# half training is a check: ≤ 2,000 images per snapshot keep it cheap
half_n = min(encode_n, 2000)
half_encodings = encode_half(results, n=half_n, seed=seed)
factors_half = analyse_runs(results, half_encodings, max_points=knn_max_points,
                            min_score=thresholds.min_score, seed=seed)

# %% tags=["hide-cell"]
glue_values({"n-runs": len(runs), "n-half": sum(e is not None for e in half_encodings), "half-n": half_n,
             "n-learned": len(learned),
             "not-learned": ", ".join(run_label(r) for i, r in enumerate(results) if i not in learned) or "none"})

# %% tags=["hide-input"]
display(Markdown(pooled_text(runs[n_profile:]) + " The grid: seeds per model, dataset and strength.\n\n"
                 + markdown_table(
    pd.DataFrame([dict(model=r.config.model, dataset=r.dataset.name, strength=r.config.strength, seed=r.config.seed)
                  for r in results])
    .groupby(["model", "dataset", "strength"]).seed.agg(lambda s: ", ".join(map(str, sorted(s)))).reset_index())))

# %% [markdown]
# ## 3. Fig. 8: where SAP and MIG lose their gap
#
# Fig. 8's model is the grid's first RTC-VAE on Shapes3D (the paper's dataset) or, without one, on dSprites or
# Cars3D (`find_run`: the grid's order decides): here {glue:text}`fig8-run`. `split_texts` reads its evaluation's
# SAP and MIG and, on the codes encoded here, its clearest split (`clearest_split`: the captured factor with the
# largest split ratio, preferring a flagged, then a dedicated pair). The example is *selected* — the most split
# factor of one run, chosen for being the clearest — so it shows what disintegration looks like, not how common
# it is: that is claim 1's question, over every learned run.

# %%
PREFERENCE = ("shapes3d", "dsprites", "cars3d")
fig8_run = find_run(results, "rtc_vae", PREFERENCE)
dip_run = find_run(results, "dip_vae_i", PREFERENCE)
fig8_split = split_texts(results, factors_all, fig8_run)

# %% tags=["hide-cell"]
glue_values({"fig8-run": run_label(results[fig8_run]) if fig8_run is not None else "no RTC-VAE run in this grid",
             "dip-run": run_label(results[dip_run]) if dip_run is not None else "no DIP-VAE-I run in this grid",
             "fig8-sap": fig8_split["sap"], "fig8-mig": fig8_split["mig"],
             "fig8-split-factor": fig8_split["split-factor"], "fig8-split-gap-nmi": fig8_split["split-gap-nmi"],
             "fig8-split-gap-r2": fig8_split["split-gap-r2"], "fig8-split-pair": fig8_split["split-pair"]})

# %% tags=["hide-input"]
if fig8_run is None:
    glue_values({"fig-dis-fig8": Markdown("*No RTC-VAE run in this profile's grid: nothing to show.*")})
else:
    glue_figure("fig-dis-fig8", score_matrices_figure(results[fig8_run]))

# %% [markdown]
# ```{glue:figure} fig-dis-fig8
# :name: fig-dis-fig8
#
# The R² (left, SAP's scores) and normalised-MI (right, MIG's) matrices, latents × factors, of Fig. 8's RTC-VAE
# ({glue:text}`fig8-run`), from its cached evaluation. Red: each factor's best latent; orange: the second; the
# column label gives the gap between them, the factor's contribution to SAP or MIG.
# ```
#
# This model scores SAP {glue:text}`fig8-sap` and MIG {glue:text}`fig8-mig` (its evaluation's codes). On the
# codes encoded here, the clearest split by normalised MI (selected as the clearest) is the factor
# {glue:text}`fig8-split-factor`, carried by ({glue:text}`fig8-split-pair`), with an MI gap of
# {glue:text}`fig8-split-gap-nmi` and an R² gap of {glue:text}`fig8-split-gap-r2`.

# %% [markdown]
# ## 4. Figs 5 and 7: the latents that share a factor
#
# For the RTC-VAE above and, as the contrast, the grid's first DIP-VAE-I ({glue:text}`dip-run`), we take the
# factor whose normalised-MI scores are most evenly split between two latents (preferring a flagged, then a
# dedicated pair), walk each of the two latents from the 1st to the 99th percentile of the encoded means with the
# other latents at their medians, and plot the pair coloured by the factor (`pair_text` describes the pair).

# %%
rtc_pair, dip_pair = pair_text(factors_all, fig8_run), pair_text(factors_all, dip_run)

# %% tags=["hide-cell"]
glue_values({"rtc-pair-text": rtc_pair, "dip-pair-text": dip_pair})

# %% tags=["hide-input"]
if fig8_run is None:
    nothing = Markdown("*No RTC-VAE run in this profile's grid: nothing to show.*")
    glue_values({"fig-dis-rtc-walks": nothing, "fig-dis-rtc-pairs": nothing})
else:
    walks, pairs = pair_figures(results[fig8_run].load_model(), encodings[fig8_run],
                                clearest_split(factors_all, fig8_run, fallback=True), results[fig8_run].factor_names,
                                steps=walk_steps, max_points=knn_max_points, seed=seed)
    glue_figure("fig-dis-rtc-walks", walks)
    glue_figure("fig-dis-rtc-pairs", pairs)
if dip_run is None:
    nothing = Markdown("*No DIP-VAE-I run in this profile's grid: nothing to show.*")
    glue_values({"fig-dis-dip-walks": nothing, "fig-dis-dip-pairs": nothing})
else:
    walks, pairs = pair_figures(results[dip_run].load_model(), encodings[dip_run],
                                clearest_split(factors_all, dip_run, fallback=True), results[dip_run].factor_names,
                                steps=walk_steps, max_points=knn_max_points, seed=seed)
    glue_figure("fig-dis-dip-walks", walks)
    glue_figure("fig-dis-dip-pairs", pairs)

# %% [markdown]
# ```{glue:figure} fig-dis-rtc-walks
# :name: fig-dis-rtc-walks
#
# RTC-VAE ({glue:text}`fig8-run`): decoded walks along the two latents that share the clearest split factor.
# ```
#
# ```{glue:figure} fig-dis-rtc-pairs
# :name: fig-dis-rtc-pairs
#
# RTC-VAE ({glue:text}`fig8-run`): the pair of latents coloured by the factor's grid index (paper's Fig. 7).
# ```
#
# RTC-VAE: {glue:text}`rtc-pair-text`.
#
# ```{glue:figure} fig-dis-dip-walks
# :name: fig-dis-dip-walks
#
# DIP-VAE-I ({glue:text}`dip-run`): decoded walks along its two latents that share the clearest split factor.
# ```
#
# ```{glue:figure} fig-dis-dip-pairs
# :name: fig-dis-dip-pairs
#
# DIP-VAE-I ({glue:text}`dip-run`): the same pairplot (paper's Fig. 6).
# ```
#
# DIP-VAE-I: {glue:text}`dip-pair-text`. Disintegration in the paper's sense is an independent pair (kNN MI ≈ 0);
# the DIP-VAE pattern is an uncorrelated but dependent one (kNN MI well above the Gaussian value −½·log(1 − ρ²)).

# %% [markdown]
# ## 5. Across every trained run: disintegration against the metrics and against TC
#
# The disintegration index of each run (`rtc.metrics.disintegration_index`, computed by the evaluation: the mean
# over captured factors of the split ratio s₂/s₁ when the two best latents are dedicated to the factor, else 0;
# on the R² and on the normalised-MI matrix) against SAP, MIG, DCI completeness and TC of the means, with
# Spearman's ρ and a {glue:text}`level-pct` % bootstrap interval over runs ({glue:text}`boot-repeats`
# resamples). These correlations mix models, strengths and datasets and rest on fewer than
# {glue:text}`descriptive-runs` runs: they are descriptive, not claims.

# %%
X_COLS = ["disintegration_r2", "disintegration_nmi"]
Y_COLS = ["sap_r2", "mig_ref", "dci_completeness", "tc_mean"]
corr = correlation_table(table, X_COLS, Y_COLS, repeats=bootstrap_repeats, seed=seed,
                         level=LEVEL)

# %% tags=["hide-cell"]
rho = {(r.x, r.y): rho_text(r) for _, r in corr.iterrows()}
glue_values({"boot-repeats": bootstrap_repeats,
             "rho-disintegration_r2-sap_r2": rho[("disintegration_r2", "sap_r2")],
             "rho-disintegration_r2-mig_ref": rho[("disintegration_r2", "mig_ref")],
             "rho-disintegration_r2-dci_completeness": rho[("disintegration_r2", "dci_completeness")],
             "rho-disintegration_r2-tc_mean": rho[("disintegration_r2", "tc_mean")],
             "rho-disintegration_nmi-sap_r2": rho[("disintegration_nmi", "sap_r2")],
             "rho-disintegration_nmi-mig_ref": rho[("disintegration_nmi", "mig_ref")],
             "rho-disintegration_nmi-dci_completeness": rho[("disintegration_nmi", "dci_completeness")],
             "rho-disintegration_nmi-tc_mean": rho[("disintegration_nmi", "tc_mean")]})

# %% tags=["hide-input"]
glue_figure("fig-dis-scatter", correlation_figure(table, corr, X_COLS, Y_COLS))

# %% [markdown]
# ```{glue:figure} fig-dis-scatter
# :name: fig-dis-scatter
#
# Each trained run of this profile's grid (colour: model): the disintegration index on the R² matrix (top) and on
# the normalised-MI matrix (bottom) against SAP, MIG, DCI completeness and TC_mean. A run without a captured
# factor has no index and is not drawn.
# ```
#
# Spearman ρ [bootstrap interval] (runs with both values): disintegration (normalised MI) against MIG
# {glue:text}`rho-disintegration_nmi-mig_ref`, SAP {glue:text}`rho-disintegration_nmi-sap_r2`, DCI completeness
# {glue:text}`rho-disintegration_nmi-dci_completeness`, TC_mean {glue:text}`rho-disintegration_nmi-tc_mean`;
# disintegration (R²) against SAP {glue:text}`rho-disintegration_r2-sap_r2`, MIG
# {glue:text}`rho-disintegration_r2-mig_ref`, DCI completeness {glue:text}`rho-disintegration_r2-dci_completeness`,
# TC_mean {glue:text}`rho-disintegration_r2-tc_mean`.
#
# ## 6. Beyond the paper: the score lost to disintegration, and the rest
#
# A factor's SAP (or MIG) contribution is the gap s₁ − s₂ between its two best latents; its *deficit* is
# 1 − (s₁ − s₂). `pair_gain_table` asks how much of that deficit the split over the two best latents a, b
# explains. Let *joint* be the score of a and b together (the R² of the linear regression on both; for MI the
# plug-in MI of their 20 × 20-bin joint label) and gain = joint − s₁ what b adds to a: s₂ for an independent split,
# 0 for a redundant copy. If a and b were one latent, the factor would score s₁ + gain against the next latent s₃,
# so counting only b's new information, gain′ = min(max(gain, 0), s₂), the split costs
#
# $$
# \ell = [\text{a, b dedicated to the factor}]\cdot \operatorname{clip}(2\,\mathrm{gain}' - s_3,\ 0,\ \mathrm{deficit}).
# $$ (eq-explained)
#
# For a clean two-way split ℓ equals the whole deficit, for the identity code, a redundant copy or an entangled
# (not dedicated) pair it is 0 (the library's tests check these). The rest of the deficit — a factor no latent
# captures, entanglement, redundancy — is "unexplained". Per run, the SAP and MIG deficits (here on the encoded
# codes, so they differ slightly from the evaluation's 1 − SAP and 1 − MIG) and the share ℓ explains, with the
# share's {glue:text}`level-pct` % interval (`deficit_share_interval`: a bootstrap over runs):

# %%
deficits = {"sap": deficit_table(factors_all, results, "r2"),
            "mig": deficit_table(factors_all, results, "nmi")}
shares, share_ivs = {}, {}
for key, score in (("sap", "r2"), ("mig", "nmi")):
    shares[key] = deficit_shares(deficits[key])
    share_ivs[key] = deficit_share_interval(factors_all, score,
                                            repeats=bootstrap_repeats, seed=seed)

# %% tags=["hide-cell"]
glue_values({
    "share-sap": number_text(shares["sap"]["share"], ".1f"),
    "share-sap-interval": (share_ivs["sap"].text(".1f") if share_ivs["sap"] is not None
                            else "none (no deficit)"),
    "share-sap-max": number_text(shares["sap"]["max_share"], ".0f"),
    "share-sap-max-run": shares["sap"]["max_run"],
    "share-mig": number_text(shares["mig"]["share"], ".1f"),
    "share-mig-interval": (share_ivs["mig"].text(".1f") if share_ivs["mig"] is not None
                            else "none (no deficit)"),
    "share-mig-max": number_text(shares["mig"]["max_share"], ".0f"),
    "share-mig-max-run": shares["mig"]["max_run"]})

# %% tags=["hide-input"]
glue_figure("fig-dis-deficits", deficit_figure(deficits))
display(Markdown("Per run: mean deficit over factors, the part explained by disintegration (ℓ), and its share.\n\n"
                 + markdown_table(pd.concat([deficits["sap"][["run"]]] + [
                     d[["deficit", "explained", "share"]].add_prefix(f"{key.upper()} ")
                     for key, d in deficits.items()], axis=1))))

# %% [markdown]
# ```{glue:figure} fig-dis-deficits
# :name: fig-dis-deficits
#
# Per run: the SAP (left) and MIG (right) deficit, split into the part lost to disintegration (red, ℓ of
# {eq}`eq-explained` averaged over factors) and the rest.
# ```
#
# Per factor, for Fig. 8's RTC-VAE ({glue:text}`fig8-run`; both scores):

# %% tags=["hide-input"]
if fig8_run is None:
    display(Markdown("*No RTC-VAE run in this profile's grid: nothing to show.*"))
else:
    display(Markdown(
        f"{run_label(results[fig8_run])}, per factor: single, second and third best scores, the pair's joint score, "
        "the gap, the deficit and the part explained by disintegration (score r2 → SAP, nmi → MIG).\n\n"
        + markdown_table(factors_all[factors_all.run == fig8_run][
            ["score", "factor", "s1", "s2", "s3", "joint", "gain", "gap", "deficit", "dedicated", "explained",
             "chance", "captured", "disintegrated", "control"]])))

# %% [markdown]
# **The headline number.** Over all runs, disintegration explains {glue:text}`share-sap` % of the summed SAP
# deficit ({glue:text}`share-sap-interval`) and {glue:text}`share-mig` % of the MIG deficit
# ({glue:text}`share-mig-interval`); the largest share is {glue:text}`share-sap-max` % of SAP's for
# {glue:text}`share-sap-max-run` and {glue:text}`share-mig-max` % of MIG's for {glue:text}`share-mig-max-run`.
# The controlled codes show why MIG's share can be larger: a coarse/fine split costs R² little.

# %% [markdown]
# ## 7. The claims, checked
#
# Each claim is one quantity with a {glue:text}`level-pct` % interval and a threshold from the claims registry
# (`rtc.claims.Thresholds`). The interval is Student's t over factors, runs or seeds, or exact where the units are
# 0/1 outcomes; one unit is described, never judged; a claim is **confirmed** when the whole interval lies on its
# side of the threshold, **refuted** when it lies wholly on the other side, **inconclusive** otherwise; **not
# converged** when the same check on the snapshots at half training gives the opposite verdict. A factor counts
# only when it is captured: its best latent scores at least {glue:text}`th-min_score` above chance, chance being
# the best score of any latent against the factors with their rows shuffled (the 20-bin plug-in MI is biased
# upwards by about 19·(n_v − 1)/(2N) nats, a large bias for a many-valued factor and few codes). "Factorised
# models" are those that penalise the total correlation (FactorVAE, RTC-VAE, β-TCVAE) — factorised by objective,
# not shown to be: the training chapter's verdict on "RTC-VAE latents factorised" (in its verdict table) is what
# says whether their codes are, at this budget.
#
# 1. *Disintegration exists in trained factorised models.* The flag could fire by artefact — the plug-in MI bias
#    lifting an unrelated latent to half the best score of a weakly captured factor — so it is compared with a
#    **control**: the same codes with each captured factor's second latent permuted across the images. That latent
#    keeps its marginal and every other latent is untouched, but it no longer carries the factor, so no split over
#    that pair is possible (`pair_gain_table`'s `control`). Quantity: the share of factorised runs with a flagged
#    captured factor beyond its own control: each run is paired with its control, and only the discordant pairs
#    count (flagged with a clean control, against clean with a flagged control), with the exact McNemar interval
#    and sign test. Confirmed above {glue:text}`th-exists_share`.
# 2. *It suppresses SAP and MIG.* A flag on the score's own matrix needs s₂ ≥ s₁/2, hence a gap ≤ s₁/2: a test on
#    it could not fail. So the flag comes from the *other* matrix (SAP's gaps against the normalised-MI flags,
#    MIG's against the R² flags; `suppression_table`), and the quantity compares the *same factor* across runs:
#    for each factor flagged in some learned runs and not in others, its mean gap where not flagged minus where
#    flagged, with the interval over those factors. Confirmed above {glue:text}`th-suppression`; fewer than
#    {glue:text}`th-min_cases` flagged cases is inconclusive. The rule this replaced — within each run, its unflagged
#    factors against its flagged ones, which compares different factors — is reported beside it.
# 3. *It is distinct from DIP-VAE's dependence.* Quantity: the excess kNN MI over the Gaussian value of DIP-VAE's
#    dedicated top pairs minus that of the factorised models' pairs, paired by dataset and seed. Confirmed above
#    {glue:text}`th-dependent_excess` nats (the factorised pairs' kNN MI is shown against
#    {glue:text}`th-independent_mi` nats). It leans on the DIP positive control of the training chapter — DIP-VAE's
#    latents must be uncorrelated (max |corr| ≤ {glue:text}`th-dip_corr`) — and reads "untestable at this budget"
#    until that holds: {glue:text}`dip-control`.
# 4. *The trade-off* (more factorised ↔ more disintegrated): Spearman ρ between TC_mean and the disintegration
#    index (normalised MI, both from the codes encoded here) over the factorised runs of one dataset (the one with
#    most of them). Confirmed when the interval lies below −{glue:text}`th-strong_rho`, refuted when it lies
#    inside ±{glue:text}`th-strong_rho` (no strong correlation) or above +{glue:text}`th-strong_rho`; an interval
#    that merely excludes 0 decides nothing. Fewer than {glue:text}`th-min_runs` runs is inconclusive, and a rank
#    correlation over fewer than {glue:text}`descriptive-runs` runs is descriptive.
#
# Every claim counts learned runs only, and one unit (one run, one factor, one seed) is described, never judged.
# Every claim is written in the claims registry (`rtc/claims/registry.toml`; rules fixed after results were seen say
# so, with the rule they replaced):

# %%
display(Markdown(markdown_table(registry_table("disintegration", thresholds))))

# %% [markdown]
# Every claim is judged twice: over all latents and over each run's active ones (Var µ_k > 0.01;
# `check_claims_active`). A latent whose mean barely varies can still score on R² or MI, which ignore scale, so
# the two views can differ; where they do, the verdict says so.
#
# Every verdict names the images per run it rests on. These quantities are measured at half training and at the
# end only, not along training, so no plateau can be shown: a claim whose interval lies on one side reads **holds,
# still moving** or **not reproduced, still moving** (`rtc.claims.with_budget`), never confirmed or refuted.

# %%
control, dip_why = dip_control_runs(results, encodings, learned, thresholds)
untestable = {"distinct": dip_why} if dip_why else {}
claims = check_claims(factors_all, thresholds, half=factors_half,
                      learned=learned, untestable=untestable,
                      repeats=bootstrap_repeats, seed=seed)
active = check_claims_active(results, encodings, half_encodings, thresholds,
                             factors=factors_all, half_factors=factors_half,
                             learned=learned, untestable=untestable,
                             max_points=knn_max_points,
                             repeats=bootstrap_repeats, seed=seed)
claims = with_active(claims, active)
images = min(r.config.steps * r.config.batch_size for r in results)
for o in claims.values():
    with_budget(o, images, None, "measured at half training and at the end only")

# %% tags=["hide-cell"]
glue_values({**observation_texts(claims),
             "dip-control": dip_why or ("it holds in every learned DIP-VAE run" if not control.empty
                                        else "no learned DIP-VAE run")})

# %% tags=["hide-input"]
glue_figure("fig-dis-suppression", suppression_figure({m: suppression_table(factors_all, m) for m in ("sap", "mig")}))
glue_figure("fig-dis-claims", claims_figure(claims, thresholds))
display(Markdown("The claims of §5.3–5.4 and the conclusion, with this profile's verdicts.\n\n"
                 + markdown_table(verdict_table(claims, QUANTITIES))))

# %% tags=["hide-cell"]
glue_values({"chapter-seconds": time.perf_counter() - t_start})

# %% [markdown]
# ```{glue:figure} fig-dis-suppression
# :name: fig-dis-suppression
#
# Claim 2: the SAP (left) and MIG (right) gap of every captured factor, not flagged and flagged on the other
# score's matrix; grey lines join each factor's two means, over the runs where it is not flagged and where it is.
# ```
#
# ```{glue:figure} fig-dis-claims
# :name: fig-dis-claims
#
# Each claim's estimate and {glue:text}`level-pct` % interval against its threshold (dashed).
# ```
#
# ## Conclusions
#
# - **Controlled codes.** A factor split over k independent latents keeps the code factorised and drives the
#   factor's MIG to 0 for every k ≥ 2, while SAP drops only by the fine digits' share of the variance
#   {eq}`eq-split-r2`; the measured values match the closed forms to {glue:text}`cf-maxdev-exact:.1e`. DCI
#   completeness reacts to a split, DCI disentanglement, modularity and the BetaVAE/FactorVAE scores hardly do;
#   an uncorrelated-but-dependent pair (DIP-VAE's pattern) is told apart by its pair dependence.
# - Claim 1, disintegration exists in trained factorised models: {glue:text}`claim-exists-verdict`.
#   {glue:text}`claim-exists-evidence`
# - Claim 2, it suppresses SAP: {glue:text}`claim-suppression-sap-verdict`.
#   {glue:text}`claim-suppression-sap-evidence` It suppresses MIG: {glue:text}`claim-suppression-mig-verdict`.
#   {glue:text}`claim-suppression-mig-evidence`
# - Claim 3, it is distinct from DIP-VAE's dependence: {glue:text}`claim-distinct-verdict`.
#   {glue:text}`claim-distinct-evidence`
# - Claim 4, the trade-off: {glue:text}`claim-tradeoff-verdict`. {glue:text}`claim-tradeoff-evidence`
# - Beyond the paper: disintegration explains {glue:text}`share-sap` % of the SAP deficit
#   ({glue:text}`share-sap-interval`) and {glue:text}`share-mig` % of the MIG deficit
#   ({glue:text}`share-mig-interval`) summed over this profile's runs; the rest is entanglement, redundancy or
#   factors no latent captures.
#
# This chapter ran in {glue:text}`chapter-seconds:.0f` s (the training itself is the training chapter's).
