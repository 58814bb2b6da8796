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
# # RTC-VAE against FactorVAE, β-VAE, the revised models and DIP-VAEs
#
# Section 5 of the paper trains the models of its comparison and makes these claims about them: the
# *disparity* — a low TC of the sampled codes z beside a high TC of the mean codes µ — exists for β-VAE and
# FactorVAE at every regularisation strength (Fig. 3 left); the revised models (a variance penalty
# η·Σ_k E[σ_k²] with the adaptive η; RTC-VAE is the revised FactorVAE) remove it (Fig. 3 right) and reach a
# much lower TC_mean with a comparably low TC_sample (Fig. 4); on dSprites, RTC-VAE with β > 10 reconstructs
# worse (Fig. 9a), TC_mean and SAP are not strongly correlated (Fig. 9b), and DIP-VAE-I/II and RTC-VAE all reach
# a low TC_mean (Fig. 9d); DIP-VAEs reach a low TC only as Proposition 1 measures it — their latents are
# uncorrelated but not independent, RTC-VAE's independent (§5.2, Figs 5c–d, 6, 14, 15). This chapter trains the
# profile's grid of runs, judges every claim with an interval, and adds what the paper leaves out: whether each
# model learned at all, whether the revised models stayed in the paper's regime, whether each verdict already
# held at half training, how training got there, and Theorem 1 on the trained encoders. Two studies too long for a
# book build are read from their published tables (`published/`), each saying which commit and code produced it:
# the training recipe the vanilla models learn with, and a long run of the primary comparison.
#
# The TC of a representation here is Proposition 1 applied to the sample covariance of the codes (the paper's
# measure, "Gaussian TC"), beside a kNN (KSG) estimate of the TC of µ and a held-out discriminator estimate,
# which see dependence beyond correlation.

# %% tags=["parameters"]
profile = "default"
seed = 0
threads = 1
baseline_images = 2000
trace_images = 1000
pair_images = 2000
pair_k = 3
claim_images = 2000
permutations = 200
bootstrap_repeats = 1000
traversal_points = 7
count_unlearned = False

# %% tags=["hide-cell"]
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

from rtc.claims import LEVEL, Thresholds, observation_texts, registry_table, verdict_counts, verdict_table
from rtc.data import load_dataset
from rtc.experiments import default_results_dir
from rtc.experiments.comparison import (
    CLAIMS,
    LABELS,
    PAIRS,
    REVISED,
    active_control,
    add_disparity,
    add_learning,
    add_regime,
    check_claims,
    claim_stage,
    describe_grid,
    dip_control,
    dip_control_text,
    disparity_readings,
    learning_rules,
    learning_summary,
    mean_image_baseline,
    mechanism_table,
    one_seed_text,
    pair_codes,
    pair_sentence,
    paper_cost,
    run_labels,
    run_table,
    shown_run_table,
    tc_estimator_text,
    tc_mean_side_by_side,
    theorem1_summary,
    theorem1_table,
    traced_runs,
    trained_reconstruction,
    traversal_inputs,
    variance_band_summary,
    with_trajectories,
)
from rtc.experiments.comparison.long_run import (
    arm_label,
    long_panels,
    long_runs,
    longest_budget,
    primary_by_budget,
)
from rtc.experiments.comparison.plots import COLORS, curve_panel, tc_panel
from rtc.experiments.comparison.recipes import (
    adopt_recipe,
    every_model_learns,
    recipe_in_build,
    recipe_panels,
    recipe_runs,
    recipe_summary,
)
from rtc.experiments.grid import pooled_seeds, pooled_text
from rtc.experiments.published import provenance, published_path, read_table
from rtc.inspect import VAR_BAND, reconstruction_figure, traversal_figure
from rtc.params import describe_run
from rtc.report import glue_figure, glue_values, markdown_table, run_label
from rtc.studies import load_study, stage_runs
from rtc.sweep import dry_run, grid_runs, run_grid

torch.set_num_threads(threads)  # the chapter's own encoding; Ray gives every training run one thread of its own
results_dir = default_results_dir()
t_start = time.perf_counter()

# %%
display(Markdown(describe_run("comparison", globals())))
display(Markdown(describe_grid(profile)))
thresholds = Thresholds()  # every verdict's threshold, fixed before the runs

# %% tags=["hide-cell"]
glue_values({"t-learned-pct": 100 * thresholds.learned, "level-pct": 100 * LEVEL, "permutations-n": permutations,
             "t-learned": thresholds.learned, "t-disparity_abs": thresholds.disparity_abs,
             "t-much_lower": thresholds.much_lower, "t-comparable": thresholds.comparable,
             "t-recon_worse": thresholds.recon_worse, "t-strong_rho": thresholds.strong_rho,
             "t-independent_mi": thresholds.independent_mi, "t-min_runs": thresholds.min_runs,
             "t-plateau_nats": thresholds.plateau_nats, "t-plateau_log": thresholds.plateau_log,
             "t-none_rel": thresholds.none_rel, "t-none_ratio": thresholds.none_ratio,
             "disparity-floor": thresholds.disparity_floor, "t-regime_share-pct": 100 * thresholds.regime_share,
             "t-dip_corr": thresholds.dip_corr, "significance-pct": 100 * thresholds.significance})

# %% [markdown]
# ## Training the grid
#
# Every run of the grid above is trained and evaluated by `rtc.sweep.run_grid`: runs already in the cache
# (`results/runs`, keyed by the configuration, the dataset and a hash of the training code) are read, the
# others are trained on a local Ray instance, one CPU thread per run. A killed build resumes from the runs'
# checkpoints. Every run starts with a warm-up (its length and start are in the grid's settings above): with
# `warmup_start: autoencoder` every term but the reconstruction is ramped up linearly from 0 (KL annealing).
# A VAE started at its full KL weight can lose its code within the first hundred steps on dSprites — the KL
# drops to 0 and the decoder draws the mean image, for a thousand steps or more at this batch size — and a
# profile whose runs do not learn could not test anything below.
#
# The grid spends its seeds where the verdicts hinge on a difference: a vanilla model and its revised form, or a
# model and FactorVAE, trained with one seed start from identical weights and see identical batches (tested in
# `tests/test_pairing.py`): a same-seed comparison removes what the shared start and batches contribute to the
# seed-to-seed spread. How much of the spread that is, is not assumed: every paired interval below is computed from
# the same-seed ratios themselves.

# %%
runs = grid_runs(profile)
n_profile = len(runs)
# the same cells' other seeds that builds with other seed sets left in the cache
runs += pooled_seeds(runs, results_dir=results_dir)

# %% tags=["hide-cell"]
todo = dry_run(runs, results_dir=results_dir)  # the runs not in the cache yet
t_grid = time.perf_counter()

# %%
# results: one RunResult per run, in the table's order
table, results = run_grid(runs, results_dir=results_dir)

# %% tags=["hide-cell"]
grid_seconds = time.perf_counter() - t_grid
glue_values({"runs-total": len(runs), "runs-trained": int((~todo["cached"]).sum()), "grid-minutes": grid_seconds / 60,
             "train-minutes-sum": float(table["train_seconds"].sum()) / 60,
             "eval-minutes-sum": float(table["eval_seconds"].sum()) / 60,
             "steps": int(table["steps"].iloc[0]), "batch": int(table["batch_size"].iloc[0]),
             "one-seed-cells": one_seed_text(table), "btc-estimator": tc_estimator_text(results),
             "pooled-text": pooled_text(runs[n_profile:])})

# %% [markdown]
# This build trained {glue:text}`runs-trained` of the {glue:text}`runs-total` runs (the others came from the
# cache); the grid step took {glue:text}`grid-minutes:.1f` minutes of wall time. Summed over runs, training took
# {glue:text}`train-minutes-sum:.1f` and evaluation {glue:text}`eval-minutes-sum:.1f` minutes of one CPU thread
# each, {glue:text}`steps` steps at batch {glue:text}`batch`. {glue:text}`pooled-text` Cells trained on one seed
# only are described, never judged (one run says nothing of the spread between seeds): {glue:text}`one-seed-cells`.
#
# ## Did every model learn?
#
# A model that never leaves the "mean image" stage has a collapsed, near-singular µ, and the Gaussian TC of a
# near-singular covariance is large without any entanglement: its TC_mean is an artefact. So before any TC is
# read, each run's reconstruction error (Bernoulli −log p(x | z = µ), nats per image) is compared with that of
# predicting the dataset's mean image, both measured above the floor a Bernoulli error cannot go below (the
# entropy of the target pixels: 0 for binary dSprites). The same ratio is taken of the reconstruction the model
# was trained on — z drawn from q(z|x), the training log's mean over the last 10 % of steps
# (`trained_reconstruction`) — because the final weights alone can pass for a run that sat at the mean image
# (KL ≈ 0) for nearly all of its training and left it only in its last steps: a model a few steps into learning,
# not a trained one. A run *learned* when both are at most {glue:text}`t-learned-pct:.0f` % of the baseline's.
# Runs that did not learn are shown but never enter a verdict.

# %%
datasets = {name: load_dataset(name) for name in sorted(set(table["dataset"]))}
baselines = {name: mean_image_baseline(ds, baseline_images, seed=seed)
             for name, ds in datasets.items()}
trained = trained_reconstruction(results)
table = add_disparity(add_learning(table, baselines, thresholds, trained_recon=trained),
                      thresholds)
labels = run_labels(table)
learning = learning_summary(table)
rules = learning_rules(table, thresholds)

# %% tags=["hide-cell"]
glue_values({"learned-count": learning["count"], "learned-verdict": learning["verdict"],
             "learned-worst": learning["worst"], "learned-worst_trained": learning["worst_trained"],
             "baseline-dsprites": baselines["dsprites"]["baseline"],  # the one the prose cites, then all:
             **{f"{k}-{name}": b[k] for name, b in baselines.items() for k in ("baseline", "floor")}})

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(8, 3.4))
ax.bar(range(len(table)), table["recon_ratio"], color=[COLORS.get(m, "grey") for m in table.model],
       label="through µ")
ax.plot(range(len(table)), table["trained_ratio"], "kx", ms=6, label="as trained (z ~ q(z|x))")
ax.axhline(thresholds.learned, color="k", ls="--", lw=1, label="learned: at most this fraction of the baseline")
ax.axhline(1.0, color="grey", ls=":", lw=1, label="mean-image baseline")
ax.set_xticks(range(len(table)))
ax.set_xticklabels(labels, rotation=70, ha="right", fontsize=7)
ax.set_ylabel("(recon − floor) / (baseline − floor)")
ax.legend(fontsize=7)
glue_figure("fig-comparison-learned", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-learned
# :name: fig-comparison-learned
#
# Reconstruction error of every run relative to the mean-image baseline (0: perfect, 1: no better than the mean
# image), above the Bernoulli floor: bars through µ, crosses as trained. A run counts as learned when both lie
# below the dashed line.
# ```
#
# {glue:text}`learned-count` of {glue:text}`runs-total` runs learned ({glue:text}`learned-verdict`; the largest
# ratio is {glue:text}`learned-worst:.2f` through µ and {glue:text}`learned-worst_trained:.2f` as trained). The
# mean-image baseline is {glue:text}`baseline-dsprites:.0f` nats per image on dSprites.
#
# The rule was first the reconstruction through µ alone; the trained reconstruction was added after runs had been
# seen, so both rules are shown, per model, with the share of runs that did not learn under the rule applied and its
# exact (Clopper–Pearson) {glue:text}`level-pct:.0f` % interval:

# %%
display(Markdown(markdown_table(rules)))

# %% [markdown]
# ## The training recipe (a published study)
#
# At Adam's learning rate 1e-3 and batch 32, about one β-VAE or FactorVAE seed in eight never left the mean image in
# earlier builds of this profile, and the learned ones spread over an order of magnitude of TC_mean. The paper pairs
# lr 1e-3 with batch 500, disentanglement_lib uses lr 1e-4 at batch 64. Which recipe do the models learn with
# at this profile's budget? The recipe study (`make recipes`, `parameters/studies/recipes.yaml`) trains β-VAE (β = 4),
# FactorVAE (γ = 10) and RTC-VAE (γ = 10) with lr ∈ {1e-3, 3e-4, 1e-4} × batch ∈ {32, 64}, every recipe on the same
# 48,000 images per run, and reads each run along its training. Besides the learning check above, it asks whether a
# run has learned the **shapes**: a random forest on µ must tell dSprites' three shapes apart on held-out images with
# an accuracy of at least {glue:text}`t-shape_learned` (chance 1/3; `rtc.experiments.probes`). A run *fails* when it
# is not learned or has not learned the shapes. The rule that picks the recipe was fixed before the study's runs were
# evaluated (`adopt_recipe`): on the seeds every recipe has, the fewest failures of the two vanilla models together
# (RTC-VAE, trained with every recipe later, is left to the check after it); ties go to the fewer mean-image failures,
# then to the recipe in use, then to the smaller seed spread of TC_mean within each model's learned runs. The study is
# too long for a book build: its numbers come from its published table, not from this build —
# {glue:text}`recipe-provenance`.

# %%
recipe_published = read_table(published_path("recipes"), study="recipes")
recipe_origin = provenance(recipe_published, load_dataset("dsprites"))
# every run at every kept step, both checks applied
recipe_rows = recipe_runs(recipe_published, thresholds)
recipe_table = recipe_summary(recipe_rows, thresholds)
adopted = adopt_recipe(recipe_rows, t=thresholds)  # the rule: β-VAE and FactorVAE
# the rule's ranking held against every model (RTC-VAE too), on the paired seeds
chosen = every_model_learns(adopted, recipe_rows)
profile_recipe = (float(table["lr"].iloc[0]), int(table["batch_size"].iloc[0]))

# %% tags=["hide-cell"]
recipe_end = recipe_rows[recipe_rows["final"]]
glue_values({"t-shape_learned": thresholds.shape_learned, "recipe-provenance": recipe_origin["text"],
             "recipe-adopted": adopted["text"], "recipe-runs": len(recipe_end),
             "recipe-shape-max": float(recipe_end["acc_shape"].max()),
             "recipe-shape-passed": int(recipe_end["shape_learned"].sum()),
             "recipe-mean-image": int((~recipe_end["learned"]).sum()),
             "recipe-pooled": adopted["pooled_choice"],
             "recipe-precondition": ("every recipe has a run that learned the shapes" if
                                     recipe_end.groupby("recipe")["shape_learned"].any().all() else
                                     "no recipe had all its runs learn the shapes" if
                                     recipe_end["shape_learned"].any() else
                                     "no run of any recipe learned the shapes"),
             "recipe-checked": chosen["text"],
             "recipe-profile": recipe_in_build(chosen, profile_recipe, profile),
             })

# %% tags=["hide-input"]
recipe_colors = {lab: plt.cm.tab10(i) for i, lab in enumerate(sorted(set(recipe_rows["recipe"])))}
recipe_models = [m for m in ("beta_vae", "factor_vae", "rtc_vae") if m in set(recipe_rows["model"])]
fig, axes = plt.subplots(2, len(recipe_models), figsize=(5.2 * len(recipe_models), 6.5), sharex=True,
                         squeeze=False)
recipe_panels(axes, recipe_rows, recipe_models, recipe_colors, thresholds)
fig.tight_layout()
glue_figure("fig-comparison-recipes", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-recipes
# :name: fig-comparison-recipes
#
# The recipe study along training (published table): each run's reconstruction relative to the mean image
# (top; learned below the dotted line) and its held-out shape accuracy (bottom; the shapes learned above the upper
# dotted line, chance the lower), one colour per recipe; dashed runs ended at the mean image.
# ```
#
# Of the {glue:text}`recipe-runs` runs, {glue:text}`recipe-mean-image` ended at the mean image and
# {glue:text}`recipe-shape-passed` learned the shapes (the best shape accuracy: {glue:text}`recipe-shape-max:.2f`).
# Per recipe and model, at the end of training (failures with their exact {glue:text}`level-pct:.0f` % interval;
# TC_mean and the disparity over the learned runs, with their seed spread):

# %%
display(Markdown(markdown_table(recipe_table)))

# %% [markdown]
# **The rule's recipe**: {glue:text}`recipe-adopted`.
#
# **Held against every model.** The rule counts the two vanilla models, but the recipe must be one every model
# of the comparison learns with. This check was added after the rule's recipe had been seen to fail RTC-VAE (in
# the long run's arm at that recipe, below), and RTC-VAE was then trained with every recipe: down the rule's
# ranking, the first recipe at which every paired run of every model passed the learning check at the end
# (`every_model_learns`; the runs that learned, of the paired seeds, per recipe in the rule's order):

# %%
display(Markdown(markdown_table(chosen["table"])))

# %% [markdown]
# {glue:text}`recipe-checked`. {glue:text}`recipe-profile`
#
# Two more readings beside the rule. The study was first asked for "the recipe with the fewest failures that
# still learns the shapes within the budget": at this budget {glue:text}`recipe-precondition`, so no recipe
# meets that condition and the shape check cannot tell the recipes apart — the mean-image failures and the seed
# spread decide. The tie-break by the seed spread was changed after the results had been seen (it was first one log
# range of TC_mean over both models' runs together); under that first form the rule picks
# {glue:text}`recipe-pooled`. A slower learner wins the spread tie-break: at lr 1e-4 the runs are still early in
# training at 48,000 images (see "images to learn" and the reconstruction above) — and RTC-VAE, whose variance
# penalty works against the code from the start, had not left the mean image there in most seeds.

# %% [markdown]
#
# ## The paper's regime
#
# The paper keeps the revised models' variance term Σ_k E[σ_k²] inside (0.01, 0.04) with its η rule (§3), and
# every claim about them is made in that regime. `add_regime` reads each revised run's per-step training log: the
# share of the second half of its steps with the term inside the band. A revised run in the band for at least
# {glue:text}`t-regime_share-pct:.0f` % of them is *in the paper's regime*; the others are named beside each claim
# with their values, as "outside the paper's regime". This gate was set after runs had been seen, so every claim is
# also judged on every learned run (intention to treat), side by side in the verdict table.

# %%
table = add_regime(table, results, thresholds)
revised = table[table["model"].isin(REVISED)]

# %% tags=["hide-cell"]
glue_values({"regime-in": int(revised["in_regime"].sum()), "regime-total": len(revised)})

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 3))
ax.bar(range(len(revised)), 100 * revised["band_share"], color=[COLORS.get(m, "grey") for m in revised.model])
ax.axhline(100 * thresholds.regime_share, color="k", ls="--", lw=1, label="in the paper's regime from this share up")
ax.set_xticks(range(len(revised)))
ax.set_xticklabels(run_labels(revised), rotation=60, ha="right", fontsize=7)
ax.set(ylabel="% of the second half in (0.01, 0.04)", ylim=(0, 100))
ax.legend(fontsize=7)
glue_figure("fig-comparison-regime", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-regime
# :name: fig-comparison-regime
#
# Every revised run: the share of the second half of its training steps with Σ_k E[σ_k²] inside the paper's band.
# ```
#
# {glue:text}`regime-in` of the {glue:text}`regime-total` revised runs stayed in the paper's regime.
#
# ## How every claim is judged
#
# Every claim is written down in the claims registry (`rtc/claims/registry.toml`): the paper's words and where
# they stand, the quantity, the rule, the threshold and its side, and the date each was fixed — "after results were
# seen" where so, with the rule it replaced. The table below is that file; the verdicts further down are computed
# from it (a test fails if a threshold is typed anywhere else). The two *primary* claims are the comparison the
# paper is built on: RTC-VAE against FactorVAE, paired by seed.

# %%
display(Markdown(markdown_table(registry_table("comparison", thresholds))))

# %% [markdown]
# Every claim is a quantity with a {glue:text}`level-pct:.0f` % interval. Where a cell (model, dataset, strength)
# has two or more seeds the interval is over seeds (Student t); where the claim compares two models, over the
# same-seed ratios on the log scale ("paired seeds (log ratio)": the geometric mean ratio, whose interval never
# leaves (0, ∞)). A cell with **one run is described, never judged**, and not counted: one run says nothing of the
# spread between seeds; a cell the learning check or the regime gate left with one run says so and names the runs it
# lost. A claim is **confirmed** when the whole interval lies on its side of its threshold in every judged cell,
# **refuted** when one cell's interval lies wholly on the other side and that refutation survives Holm's correction
# over the claim's cells (one-sided tests at {glue:text}`significance-pct:.0f` %), **inconclusive** otherwise.
# Every verdict is computed twice: from the final models and from the weight snapshots at half training
# (`claim_stage(..., half=True)`); confirmed at one and refuted at the other is **not converged**. Verdicts on a
# Gaussian TC are also computed over the active latents only (Var µ_k > 0.01) and shown where they differ.
#
# A verdict is about runs that saw a given number of images, and says so ("at N images per run"). Every kept step
# of every run is evaluated (its *curve*, `RunResult.curve`), and each claim is followed along training through
# the quantity it rests on (`with_trajectories`): in each cell with two or more seeds, the slope of the quantity
# per doubling of the images seen, over the last third of the kept steps, with its interval over seeds. The
# quantity is on a **plateau** when that interval lies inside ±{glue:text}`t-plateau_nats` nats (a disparity) or
# ±{glue:text}`t-plateau_log` on the log scale (a TC or a reconstruction, ≈ 10 % per doubling). **Confirmed** and
# **refuted** need a plateau in every cell; without one a claim on its side reads **holds, still moving** or **not
# reproduced, still moving**: what the runs show at this budget, not what the model does. A cell with one seed
# cannot show a plateau.
#
# In the `ci` profile, whose tiny runs learn nothing, `count_unlearned` counts every run so that every claim's
# code runs; its verdicts mean nothing there.

# %%
judged = table.assign(learned=True) if count_unlearned else table
full = claim_stage(judged, results, datasets, n=claim_images, seed=seed)
half = claim_stage(judged, results, datasets, half=True, n=claim_images, seed=seed)
claims = check_claims(full, half, thresholds, repeats=bootstrap_repeats, seed=seed,
                      permutations=permutations, k=pair_k)
curves = {i: r.curve() for i, r in enumerate(results)}  # every kept step of every run
claims = with_trajectories(claims, judged, curves, thresholds)
# intention to treat: every learned run counted, the regime gate lifted
# (judged again only where the gate left a run out)
gated = {n for n, o in claims.items() if o.values.get("outside")}
itt = {}
if gated:
    itt = check_claims(full, half, thresholds, repeats=bootstrap_repeats, seed=seed,
                       permutations=permutations, k=pair_k, itt=True, names=gated)
    itt = with_trajectories(itt, judged, curves, thresholds)
itt_verdicts = {n: (itt[n].verdict if n in gated else "same runs") for n in claims}
curve_seconds = sum(float(c["seconds"].sum()) for c in curves.values())

# %% tags=["hide-cell"]
glue_values({**observation_texts(claims), "half-missing": len(half.missing),
             "curve-points": sum(len(c) for c in curves.values()),
             "curve-cost-pct": 100 * curve_seconds / float(table["train_seconds"].sum()),
             "tc-sap-runs": claims["tc_sap"].values["n"], "itt-gated": len(gated),
             "itt-changed": sum(itt[n].verdict != claims[n].verdict for n in gated),
             "pairs-beat-null": claims["dip_dependent"].values["beats_null"],
             "pairs-tested": claims["dip_dependent"].values["tested"]})

# %% [markdown]
# ## The primary endpoint
#
# The comparison the paper is built on, fixed in the registry as the primary endpoint: RTC-VAE against FactorVAE,
# the same seed and strength, each a geometric mean ratio with its interval on the log scale.
#
# - *RTC-VAE removes most of FactorVAE's disparity* (its disparity at most {glue:text}`t-none_ratio`× FactorVAE's;
#   a disparity below {glue:text}`disparity-floor` nats counts as that floor):
#   {glue:text}`claim-primary_disparity-verdict`. {glue:text}`claim-primary_disparity-evidence`
# - *RTC-VAE's TC_mean is much lower than FactorVAE's* (at most {glue:text}`t-much_lower`×):
#   {glue:text}`claim-primary_tc_mean-verdict`. {glue:text}`claim-primary_tc_mean-evidence`

# %% [markdown]
# ## The long run (a published study)
#
# This build's runs saw {glue:text}`long-own-images` images each. How do the two primary quantities move beyond
# that? The long run (`make long`, `parameters/studies/long.yaml`) trains FactorVAE and RTC-VAE, five paired seeds
# each, with the default profile's recipe (the recipe check's, above), to budgets that double from 48,000 images —
# the default profile's runs are the first 48,000 images of these runs — then at γ = 50 and at disentanglement_lib's
# recipe, as far as the machine goes, evaluating every kept step. Its last arm is the recipe in use before the
# recipe study (lr 1e-3, batch 32), which the long run trained first, to 192,000 images, before the switch.
# It is resumable (a kill loses at most a checkpoint's steps) and writes its table after every budget. Its numbers
# come from that published table, not from this build — {glue:text}`long-provenance`. The primary endpoint is
# judged on it at every budget with the same functions and rules as above (`primary_by_budget`: `claim_primary`
# and the plateau test along the runs' curves up to that budget).

# %%
long_published = read_table(published_path("long"), study="long")
long_origin = provenance(long_published, load_dataset("dsprites"))
# every run and kept step, the learning rule applied
long_rows = long_runs(long_published, thresholds)
long_study = load_study("long")
long_budgets = sorted({b for phase in long_study.phases for b in phase.images})
primary_long = primary_by_budget(long_rows, long_budgets, thresholds)
# this build's runs of the same cells, drawn beside the published ones
own = table[(table["strength"] == 10) & (table["dataset"] == "dsprites")]
own_curves = {m: [curves[i] for i in own.index[own["model"] == m]]
              for m in ("factor_vae", "rtc_vae")}
# the prose's verdicts: the study's first arm (default recipe), longest budget
lead = stage_runs(long_study, long_study.phases[0], None)[0].config
lead_arm = arm_label(lead.strength, lead.lr, lead.batch_size)
longest = longest_budget(primary_long, lead_arm)

# %% tags=["hide-cell"]
own_images = sorted({int(s * b) for s, b in zip(table["steps"], table["batch_size"], strict=True)})
glue_values({"long-provenance": long_origin["text"], "long-own-images": ", ".join(f"{i:,}" for i in own_images),
             "long-arm": longest["arm"], "long-images": longest["images"], "long-pairs": longest["pairs"],
             "long-disparity": longest["disparity"], "long-disparity-evidence": longest["disparity-evidence"],
             "long-tc_mean": longest["tc_mean"], "long-tc_mean-evidence": longest["tc_mean-evidence"]})

# %% tags=["hide-input"]
main_arm = longest["arm"]
arms = sorted(dict.fromkeys(long_rows["arm"]), key=lambda a: a != main_arm)  # this build's first
fig, axes = plt.subplots(len(arms), 5, figsize=(16, 3.2 * len(arms)), squeeze=False)
for row, arm in zip(axes, arms, strict=True):
    long_panels(row, long_rows, arm, COLORS, own=own_curves if arm == main_arm else None)
    row[0].set_title(arm, loc="left", fontsize=9)
fig.tight_layout()
glue_figure("fig-comparison-long", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-long
# :name: fig-comparison-long
#
# The long run (published table): FactorVAE and RTC-VAE against the images seen (log axes), each seed thin, the
# geometric mean over the seeds that reached a point bold (the disparity: the arithmetic mean), one row per arm,
# the study's first arm (the default profile's recipe) first; open markers there: this build's own runs of the
# same cells.
# From left: the disparity, TC_mean, TC_sample, the smallest eigenvalue of Corr(µ), the reconstruction through µ.
# ```
#
# At the longest budget of the study's first arm, at the default profile's recipe ({glue:text}`long-arm`,
# {glue:text}`long-images:,.0f` images per run, {glue:text}`long-pairs` seed pairs):
#
# - *RTC-VAE removes most of FactorVAE's disparity*: {glue:text}`long-disparity`.
#   {glue:text}`long-disparity-evidence`
# - *RTC-VAE's TC_mean is much lower than FactorVAE's*: {glue:text}`long-tc_mean`.
#   {glue:text}`long-tc_mean-evidence`
#
# Every budget of every arm reached (pairs, learned runs, the paired geometric-mean ratios with their
# {glue:text}`level-pct:.0f` % intervals, the verdicts, and the plateau of each quantity):

# %%
budgets_shown = primary_long.drop(columns="_obs") if len(primary_long) else None
display(Markdown("no budget reached by both models yet" if budgets_shown is None
                 else markdown_table(budgets_shown)))

# %% [markdown]
# ## The disparity (Fig. 3)
#
# For each run, TC_mean (dashed) and TC_sample (solid) against the regularisation strength (β, γ or λ_od). A model
# shows *the disparity* when TC_mean − TC_sample exceeds {glue:text}`t-disparity_abs` nats, *none* when it lies
# below. That absolute rule for "none" was fixed after results had been seen; the relative rule it replaced and
# the comparative reading of the paper's words are set beside it below, and the primary endpoint above is the
# comparative one.

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
tc_panel(axes[0], table, ["beta_vae", "factor_vae", "beta_tcvae"], "vanilla models")
tc_panel(axes[1], table, ["revised_beta_vae", "rtc_vae"], "revised models")
glue_figure("fig-comparison-fig3", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-fig3
# :name: fig-comparison-fig3
#
# The paper's Fig. 3 at this profile, dSprites: TC_mean (dashed) and TC_sample (solid) of the vanilla (left)
# and revised (right) models; circled markers are runs that did not learn.
# ```
#
# - *β-VAE shows the disparity at every strength*: {glue:text}`claim-disparity_beta_vae-verdict`.
#   {glue:text}`claim-disparity_beta_vae-evidence`
# - *FactorVAE shows it at every strength*: {glue:text}`claim-disparity_factor_vae-verdict`.
#   {glue:text}`claim-disparity_factor_vae-evidence`
# - *β-TCVAE has "the same problem of disparity as FactorVAE"* (the paper's reason to skip it):
#   {glue:text}`claim-disparity_beta_tcvae-verdict`. {glue:text}`claim-disparity_beta_tcvae-evidence` Its TC term
#   was estimated by {glue:text}`btc-estimator`: a minibatch estimator that scores a code with fewer active
#   latents lower, so that penalising it shuts latents down by itself (the paper's appendix 1.3.2); a shut-down
#   latent has a near-constant µ_k that still correlates with the rest while its z_k is prior noise — hence the
#   verdict over the active latents beside the one over all.
# - *The revised β-VAE shows none*: {glue:text}`claim-none_revised_beta_vae-verdict`.
#   {glue:text}`claim-none_revised_beta_vae-evidence`
# - *RTC-VAE shows none*: {glue:text}`claim-none_rtc_vae-verdict`. {glue:text}`claim-none_rtc_vae-evidence`
#
# The paper's words are comparative — "there is almost no difference between TCsample and TCmean, i.e., the
# disparity is evidently remedied" — and the absolute rule above (below {glue:text}`t-disparity_abs` nats) was
# fixed after the first results had been seen, replacing a relative one (below {glue:text}`t-none_rel` ×
# TC_mean). The three readings side by side, end of training: the absolute and relative rules over seeds, and
# the revised model's disparity as a share of its vanilla model's, same seed, on the log scale (at most
# {glue:text}`t-none_ratio` ×; a disparity below {glue:text}`disparity-floor` nats counts as that much). A cell
# with one run is described, not judged. The table says where each interval lies against its threshold at the
# end of training; it applies no plateau test, so it gives no verdicts — the claim's verdict is the one above.

# %%
display(Markdown(markdown_table(disparity_readings(full, thresholds))))

# %% [markdown]
# ## Revised against vanilla (Fig. 4)

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, col, title in ((axes[0], "tc_mean", "TC_mean"), (axes[1], "tc_sample", "TC_sample")):
    for van, rev in PAIRS.items():
        for m, ls in ((van, "--"), (rev, "-")):
            g = table[(table.model == m) & (table.dataset == "dsprites")].sort_values("seed")
            ax.plot(g.seed, g[col], ls, marker="o", color=COLORS[m], label=f"{LABELS[m]} {g.strength.max():g}",
                    ms=4)
    ax.set_xlabel("seed (same-seed runs start from the same weights)")
    ax.set_ylabel(f"{title} (nats)")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
glue_figure("fig-comparison-fig4", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-fig4
# :name: fig-comparison-fig4
#
# The paper's Fig. 4 at this profile, dSprites: TC_mean (left) and TC_sample (right) of each revised model
# (solid) and its vanilla model (dashed), seed by seed (every strength of the model in one line).
# ```
#
# The paper's two panels are judged as one claim in two parts, the second reported beside the first rather than
# counted on its own: a revised model's TC_sample is close to its TC_mean (small σ), so its TC_sample is low when
# its TC_mean is — but "comparably low" is against the vanilla model's TC_sample, which can be lower still, so the
# second part can fail where the first holds, and the evidence shows it. *The revised models' TC_mean is much
# lower* (the same-seed
# ratio below {glue:text}`t-much_lower`), *their TC_sample comparably low* (the ratio below
# {glue:text}`t-comparable`, reported as its second part): {glue:text}`claim-revised_lower-verdict`.
# {glue:text}`claim-revised_lower-evidence`
#
# ## Scores, strength and reconstruction on dSprites (appendix, Fig. 9)

# %%
# mean TC_mean: datasets × (FactorVAE, DIP-VAE-I, DIP-VAE-II, RTC-VAE)
side = tc_mean_side_by_side(table)

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
for m, g in table[table.dataset == "dsprites"].groupby("model"):
    axes[0, 0].scatter(g.recon, g.sap_r2, color=COLORS.get(m, "grey"), label=LABELS.get(m, m), s=18)
    axes[0, 1].scatter(g.tc_mean, g.sap_r2, color=COLORS.get(m, "grey"), label=LABELS.get(m, m), s=18)
    gm = g.groupby("strength")["sap_r2"].mean()
    axes[1, 0].plot(gm.index, gm.values, "-o", color=COLORS.get(m, "grey"), label=LABELS.get(m, m), ms=4)
axes[0, 0].set(xlabel="reconstruction error (nats per image)", ylabel="SAP", title="(a) SAP vs reconstruction")
axes[0, 1].set(xlabel="TC_mean (nats)", ylabel="SAP", title="(b) SAP vs TC_mean", xscale="symlog")
axes[1, 0].set(xlabel="regularisation strength", ylabel="SAP", title="(c) SAP vs strength", xscale="log")
width = 0.8 / max(len(side), 1)
for j, (d, g) in enumerate(side.iterrows()):
    xs = [i for i, m in enumerate(side.columns) if np.isfinite(g[m])]
    axes[1, 1].bar(np.array(xs) + j * width, [g.iloc[i] for i in xs], width, label=d,
                   color=[COLORS[side.columns[i]] for i in xs], alpha=1 - 0.4 * j, edgecolor="k")
axes[1, 1].set_xticks(np.arange(len(side.columns)) + width * (len(side) - 1) / 2)
axes[1, 1].set_xticklabels([LABELS[m] for m in side.columns], fontsize=8)
axes[1, 1].set(ylabel="TC_mean (nats)", title="(d) TC_mean side by side (" + ", ".join(side.index) + ")")
for ax in axes.flat[:3]:
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
glue_figure("fig-comparison-scores", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-scores
# :name: fig-comparison-scores
#
# The paper's Fig. 9 at this profile, every dSprites run: SAP (R² form) against (a) reconstruction error,
# (b) TC_mean and (c) strength; (d) the mean TC_mean of FactorVAE, DIP-VAE-I/II and RTC-VAE.
# ```
#
# - Fig. 9a, *"for RTC-VAE, β > 10 can affect the quality of reconstruction"*: RTC-VAE at each strength above 10
#   reconstructs worse than at 10, by more than {glue:text}`t-recon_worse` relative, same seed:
#   {glue:text}`claim-rtc_recon-verdict`. {glue:text}`claim-rtc_recon-evidence`
# - Fig. 9b, *TC_mean and SAP show no strong correlation* (|ρ| < {glue:text}`t-strong_rho`: confirmed when the
#   interval lies inside ±{glue:text}`t-strong_rho`, refuted when it lies wholly beyond, inconclusive otherwise
#   and over fewer than {glue:text}`t-min_runs` runs): {glue:text}`claim-tc_sap-verdict`.
#   {glue:text}`claim-tc_sap-evidence` A rank correlation over fewer than 30 runs — here
#   {glue:text}`tc-sap-runs` — is descriptive: it describes these runs, not the models.
# - Fig. 9c, SAP against strength, is descriptive (the paper draws no conclusion from it, and a strength trend on
#   one seed describes that seed only).
# - Fig. 9d, *DIP-VAEs and RTC-VAE have a low TC_mean*: each one's TC_mean against FactorVAE's of the same seed,
#   a ratio below {glue:text}`t-much_lower`: {glue:text}`claim-low_tc_mean-verdict`.
#   {glue:text}`claim-low_tc_mean-evidence`
#
# ## Uncorrelated is not independent: DIP-VAE (§5.2, Figs 5c–d, 6, 14, 15)
#
# DIP-VAE-I penalises the covariance of µ and DIP-VAE-II that of z, so by Proposition 1 each is driven towards a
# low Gaussian TC of what it penalises; whether it gets there at this budget is measured — against FactorVAE of the
# same seed, as the paper compares them, and by the positive control below. The
# figure sets the Gaussian TC of µ beside the kNN (KSG) TC and the held-out discriminator TC of µ for every run
# (the 10-D kNN TC is large for every model here: it is descriptive). The paper's argument is pairwise: a pair of
# latents that is uncorrelated but dependent (Figs 5c, 6, 14) against independent pairs (Figs 5d, 15). So per run
# the most dependent pair of active latents is chosen on one half of the images and its kNN mutual information
# measured on the other half, against {glue:text}`permutations-n` permutations of one latent of the pair (its
# marginal kept, the pairing broken); the claim's quantity is the pair's MI above the permutations' mean, against
# {glue:text}`t-independent_mi` nats (below it a pair counts as independent). The paper shows these pairs on
# Shapes3D; this profile trains its DIP-VAEs on dSprites (Fig. 9d's dataset), so they are judged there.

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(9, 3.6))
x = np.arange(len(table))
for k, (col, lab) in enumerate((("tc_mean", "Gaussian (Prop. 1)"), ("tc_mean_knn", "kNN (KSG)"),
                                ("tc_mean_dr", "discriminator, held out"))):
    ax.bar(x + (k - 1) * 0.27, table[col].clip(lower=0), 0.27, label=lab)
ax.set_xticks(x)
ax.set_xticklabels(labels, rotation=70, ha="right", fontsize=7)
ax.set_ylabel("TC of µ (nats)")
ax.set_yscale("symlog", linthresh=0.1)
ax.legend(fontsize=7)
glue_figure("fig-comparison-tc-estimates", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-tc-estimates
# :name: fig-comparison-tc-estimates
#
# Three estimates of the TC of µ for every run: Proposition 1 on the covariance (sees correlation only), kNN
# (KSG, k = 3, latents standardised) and the held-out density-ratio discriminator (a small discriminator in
# reduced profiles: compare its values between runs, not with the other two). Symmetric-log axis; negative
# estimates drawn at 0.
# ```

# %%
# None where the profile has no such run
pairs = {m: pair_codes(results, datasets, m, "dsprites", n=pair_images, k=pair_k,
                       seed=seed)
         for m in ("dip_vae_i", "rtc_vae")}

# %% tags=["hide-cell"]
glue_values({"pairs-dip_vae_i-text": pair_sentence(pairs["dip_vae_i"], "DIP-VAE-I"),
             "pairs-rtc_vae-text": pair_sentence(pairs["rtc_vae"], "RTC-VAE")})

# %% tags=["hide-input"]
shown = {m: p for m, p in pairs.items() if p is not None and p["dep"] is not None}
if shown:
    fig, axes = plt.subplots(len(shown), 3, figsize=(9, 3 * len(shown)), squeeze=False)
    for r, (m, p) in enumerate(shown.items()):
        for c, row in enumerate(p["dep"].head(3).itertuples()):
            ax = axes[r, c]  # coloured by the factor the pair is most linked to (pair_codes: R² row sums)
            ax.scatter(p["enc"].mu[:, row.a], p["enc"].mu[:, row.b], c=p["enc"].factors[:, row.factor], s=3,
                       cmap="viridis", alpha=0.6)
            ax.set_xlabel(f"z{row.a}")
            ax.set_ylabel(f"z{row.b}")
            ax.set_title(f"{LABELS[m]}: corr {row.corr:.2f}, kNN MI {row.knn_mi:.2f}\ncolour: {row.factor_name}",
                         fontsize=8)
else:  # a profile without these runs still glues the key the prose references
    fig, ax = plt.subplots(figsize=(4, 1))
    ax.text(0.5, 0.5, "no DIP-VAE-I / RTC-VAE run with two active latents", ha="center", va="center")
    ax.axis("off")
glue_figure("fig-comparison-pairs", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-pairs
# :name: fig-comparison-pairs
#
# The three most dependent latent pairs (largest kNN mutual information among the active latents, µ of
# dSprites images) of the first DIP-VAE-I run (top) and the first RTC-VAE run (bottom), coloured by the factor
# the pair is most linked to.
# ```
#
# {glue:text}`pairs-dip_vae_i-text` {glue:text}`pairs-rtc_vae-text`
#
# **Positive control.** "Uncorrelated but not factorised" can only be tested on latents that are uncorrelated: per
# learned DIP-VAE run, the largest |corr| between active latents of what it decorrelates (µ for DIP-VAE-I, z for
# DIP-VAE-II) must be at most {glue:text}`t-dip_corr`. Until it is, the claim reads "untestable at this budget"
# whatever its pairs show; where it holds, a pair's dependence counts only beyond its Gaussian MI, −½ log(1 − ρ²)
# (what its correlation alone explains). Here: {glue:text}`dip-control-text`.

# %%
control = dip_control(full, thresholds)
shown_control = control.drop(columns=["row"]).round({"max_abs_corr": 3})
display(Markdown(markdown_table(shown_control)))

# %% tags=["hide-cell"]
glue_values({"dip-control-text": dip_control_text(control, thresholds)})

# %% [markdown]
# - *DIP-VAEs reach a low Gaussian TC* (DIP-VAE-I on TC_mean, DIP-VAE-II on TC_sample, each as a same-seed ratio
#   to FactorVAE's below {glue:text}`t-much_lower`): {glue:text}`claim-dip_gaussian-verdict`.
#   {glue:text}`claim-dip_gaussian-evidence`
# - *…yet their latents are not factorised* (the top pair's MI above its permutation null and above its Gaussian MI
#   exceeds {glue:text}`t-independent_mi` nats; only where the control holds): {glue:text}`claim-dip_dependent-verdict`.
#   {glue:text}`claim-dip_dependent-evidence` Of the {glue:text}`pairs-tested` DIP-VAE runs tested,
#   {glue:text}`pairs-beat-null` have a top pair that beats its permutation null at
#   {glue:text}`significance-pct:.0f` %.
# - *RTC-VAE's latents are factorised* (the same quantity below {glue:text}`t-independent_mi` nats):
#   {glue:text}`claim-rtc_factorised-verdict`. {glue:text}`claim-rtc_factorised-evidence`
#
# ## Every verdict
#
# Each claim with its quantity, its {glue:text}`level-pct:.0f` % interval (the deciding cell's, with its basis and
# number of seeds), the threshold and the side the claim needs, the regime of the revised runs it counts, the
# verdict from the snapshots at half training ({glue:text}`half-missing` runs had no snapshot there), the verdict,
# the verdict over the active latents, and the verdict on every learned run — the regime gate lifted (intention to
# treat; "same runs" where the gate left no run of the claim out). The gate left runs out of
# {glue:text}`itt-gated` claims and changed {glue:text}`itt-changed` of their verdicts.

# %%
verdicts = verdict_table(claims, CLAIMS)
verdicts["every learned run (ITT)"] = [itt_verdicts[n] for n in claims]
display(Markdown(markdown_table(verdicts)))

# %% [markdown]
# ## Along training
#
# The quantities the claims rest on at every kept step of every learned run, against the images seen: each seed
# thin, the mean over seeds thick, the thresholds dotted. Evaluating the {glue:text}`curve-points` points (each
# encodes its images once) cost {glue:text}`curve-cost-pct:.1f` % of the runs' training time.

# %% tags=["hide-input"]
cells = [("factor_vae", 10.0), ("rtc_vae", 10.0), ("beta_vae", 4.0), ("revised_beta_vae", 4.0),
         ("dip_vae_i", 10.0), ("dip_vae_ii", 10.0)]
panels = [("disparity", "TC_mean − TC_sample (nats)", {"disparity": thresholds.disparity_abs}, False),
          ("tc_mean", "TC_mean (nats)", None, True), ("tc_sample", "TC_sample (nats)", None, True),
          ("lmin_mu", "smallest eigenvalue of Corr(µ)", None, True),
          ("recon", "reconstruction through µ (nats per image)", None, True),
          ("var_sum", "Σ_k E σ_k²", {"band 0.01": 0.01, "band 0.04": 0.04}, True)]
fig, axes = plt.subplots(2, 3, figsize=(13, 7))
for ax, (column, title, lines, log_y) in zip(axes.flat, panels, strict=True):
    curve_panel(ax, table, curves, cells, column, title=title, lines=lines, log_y=log_y)
fig.tight_layout()
glue_figure("fig-comparison-curves", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-curves
# :name: fig-comparison-curves
#
# The primary cells along training, dSprites, learned runs (log axes): the disparity against its threshold,
# TC_mean, TC_sample, the smallest eigenvalue of Corr(µ) (a near-null direction carries the disparity), the
# reconstruction through µ, and the variance term against the η rule's band.
# ```

# %% [markdown]
# ## How training got there
#
# The paper shows only end points. For one run of each model (dSprites where the profile trains the model
# there, else its dataset; seed 0, the strength closest to 10): the per-step loss terms, RTC-VAE's η and its
# variance term Σ_k E[σ_k²] against the band (0.01, 0.04) the η rule aims for, and TC_mean / TC_sample of the
# run's curve (its kept steps, each on the same images).

# %%
# model → the position of its traced run in the table and in results
traced = traced_runs(table)
trace_labels = {m: run_label(results[i]) for m, i in traced.items()}
trace_data = {m: datasets[results[i].row["dataset"]] for m, i in traced.items()}
models = {m: results[i].load_model() for m, i in traced.items()}
logs = {m: results[i].training_log() for m, i in traced.items()}
traces = {m: curves[i] for m, i in traced.items()}  # every kept step, evaluated once
band = variance_band_summary(logs.get("rtc_vae"))

# %% tags=["hide-cell"]
glue_values({"rtc-final-eta": band["final_eta"], "rtc-varsum-final": band["varsum_final"],
             "rtc-band-share": band["band_share"]})

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 2, figsize=(10, 7))
for m, lg in logs.items():
    w = max(1, len(lg) // 50)  # a moving average over ~2 % of the run: per-batch terms are noisy
    axes[0, 0].plot(lg.step, lg.recon.rolling(w).mean(), color=COLORS[m], label=trace_labels[m])
    axes[0, 1].plot(lg.step, lg.kl.rolling(w).mean(), color=COLORS[m], label=trace_labels[m])
    tr = traces[m]
    axes[1, 0].plot(tr.step, tr.tc_mean, "--", color=COLORS[m])
    axes[1, 0].plot(tr.step, tr.tc_sample, "-", color=COLORS[m], label=trace_labels[m])
axes[0, 0].set(title="reconstruction term (nats per image)", xlabel="step", yscale="log")
axes[0, 1].set(title="KL term (nats per image)", xlabel="step")
axes[1, 0].set(title="TC_mean (dashed), TC_sample (solid) of snapshots", xlabel="step", ylabel="nats",
               yscale="symlog")
if "rtc_vae" in logs:
    lg = logs["rtc_vae"]
    ax = axes[1, 1]
    ax.plot(lg.step, lg.var_sum.rolling(max(1, len(lg) // 50)).mean(), color="tab:orange",
            label="Σ_k E[σ_k²] (batch mean)")
    ax.axhspan(*VAR_BAND, color="tab:green", alpha=0.2, label=f"band {VAR_BAND}")
    ax.set(yscale="log", xlabel="step", title=f"{trace_labels['rtc_vae']}: variance term and η")
    ax2 = ax.twinx()
    ax2.plot(lg.step, lg.eta, color="k", lw=1, label="η")
    ax2.set_ylabel("η")
    ax.legend(fontsize=7, loc="upper right")
for ax in axes.flat[:3]:
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
glue_figure("fig-comparison-traces", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-traces
# :name: fig-comparison-traces
#
# Training of one run per model: reconstruction and KL terms (moving averages), TC_mean and TC_sample of the
# weight snapshots, and RTC-VAE's variance term with η.
# ```
#
# Over the second half of its training RTC-VAE's variance term averaged {glue:text}`rtc-varsum-final:.3f`, inside
# the band (0.01, 0.04) on {glue:text}`rtc-band-share:.0f` % of the steps; η ended at
# {glue:text}`rtc-final-eta:.3g`.
#
# Reconstructions (every other column the data, the next its reconstruction from µ, its error in nats above it)
# and, for each traced run, a latent traversal: each row decodes µ of one image with one latent set to values from
# −2 to 2 (prior standard deviations), the other latents fixed; the rows are ordered by each latent's KL to the
# prior (printed on the row), and latents that are switched off (Var µ_k ≤ 0.01) are greyed. The model gallery
# (the last chapter) shows every run this way, with animated traversals.

# %%
traversals = {m: traversal_inputs(models[m], trace_data[m], n=trace_images, seed=seed)
              for m in traced}

# %% tags=["hide-input"]
glue_figure("fig-comparison-recons",
            reconstruction_figure({LABELS[m]: (models[m], trace_data[m]) for m in traced}, 4, seed=seed), tight=False)
for m, t in traversals.items():
    fig = traversal_figure(models[m], t["base_code"], kl=t["kl"], active=t["active"],
                           values=np.linspace(-2, 2, traversal_points), title=f"latent traversal: {trace_labels[m]}")
    display(fig)
    plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-recons
# :name: fig-comparison-recons
#
# Data (odd columns) and reconstructions from µ (even columns, reconstruction error in nats above) by the traced
# run of each model.
# ```
#
# ## Theorem 1 on trained encoders
#
# Theorem 1 bounds TC(z) for z | µ ~ N(µ, diag σ²(µ)) with every σ_k² in [c1, c2], whatever TC(µ) is — the bound
# depends on c1, c2 and D only. For every run we measure [c1, c2] as the 5 % and 95 % quantiles of σ_k²(x) over
# images and active dimensions, and set TC(µ) and TC(z) beside the bound's shape
# (c3/c1)^D·log(c2/c1) + (c3/c1)^(D+2), c3 = max(c2, √D), with the theorem's unknown constant C = 1 (chapter 1).

# %%
theorem = theorem1_table(results, datasets, n=trace_images, seed=seed)
thm = theorem1_summary(theorem)

# %% tags=["hide-cell"]
glue_values({"thm-below": thm["below"], "thm-total": thm["total"], "thm-c1-min": thm["c1_min"],
             "thm-c2-max": thm["c2_max"], "thm-ratio-median": thm["ratio_median"],
             "thm-c2-revised": thm["c2_revised"], "thm-c2-vanilla": thm["c2_vanilla"]})

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6, 4))
for m, g in theorem.groupby("model"):
    ax.scatter(g.c2 / g.c1, g.tc_mean_active, marker="s", color=COLORS.get(m, "grey"), label=f"{LABELS[m]} TC(µ)")
    ax.scatter(g.c2 / g.c1, g.tc_sample_active, marker="o", color=COLORS.get(m, "grey"), facecolors="none",
               label=f"{LABELS[m]} TC(z)")
ax.set(xscale="log", yscale="symlog", xlabel="c2 / c1 (spread of the posterior variances)",
       ylabel="Gaussian TC over active dims (nats)")
ax.legend(fontsize=6, ncol=2)
ax.grid(alpha=0.3)
glue_figure("fig-comparison-theorem1", fig)

# %% [markdown]
# ```{glue:figure} fig-comparison-theorem1
# :name: fig-comparison-theorem1
#
# TC(µ) (squares) and TC(z) (circles) over the active dimensions of every run against the spread c2/c1 of its
# posterior variances.
# ```
#
# TC(z) lies below the bound's shape (C = 1) for {glue:text}`thm-below` of {glue:text}`thm-total` runs — the
# bound grows like (c3/c1)^D and is loose by many orders of magnitude at these noise levels (c1 as small as
# {glue:text}`thm-c1-min:.2g`, c2 up to {glue:text}`thm-c2-max:.2g`, median c2/c1
# {glue:text}`thm-ratio-median:.3g`), so the theorem constrains nothing here; what it explains is the
# mechanism: the revised models shrink the posterior variances (median c2 {glue:text}`thm-c2-revised:.3g`
# against {glue:text}`thm-c2-vanilla:.3g` for the others), and with little noise z is close to µ, so the two TCs
# differ less — not necessarily little: a near-null direction of Corr(µ) keeps a disparity that even small noise
# fills in (next section).
#
# ## Where the residual disparity comes from
#
# Proposition 1 on a sample covariance is TC = −½ Σ_i log λ_i over the eigenvalues of the correlation matrix, so
# a run's disparity splits by eigen-direction (`disparity_spectrum`): a direction where Corr(µ) nearly vanishes
# (two latents that move together) adds −½ log λ nats to TC_mean, and the noise of z fills it in. Per learned run
# at the end of training (`mechanism_table`): the disparity, the smallest eigenvalue of Corr(µ) and the share of
# the disparity that one direction carries, the mean posterior variance, the active latents by Var µ_k > 0.01 and
# by Var µ_k > E σ_k² (signal above noise), and TC_mean over the active latents. Passive latents carry the gap in
# Bonheme & Grzes (2021); the control: FactorVAE's TC_mean over its active latents against RTC-VAE's over all of
# them, same seed — {glue:text}`control-text`

# %%
mech = mechanism_table(full)
control = active_control(mech)

# %% tags=["hide-cell"]
glue_values({"control-text": (f"{control['vanilla_active']:.2f} against {control['revised_all']:.2f} nats "
                              f"(means over {control['n']} same-seed pairs)." if control["n"]
                              else "no same-seed pair of learned runs to compare.")})

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6, 4))
for m, g in mech.groupby("model"):
    ax.scatter(g.lmin_mu, g.disparity, color=COLORS.get(m, "grey"), label=LABELS.get(m, m), s=18)
ax.axhline(thresholds.disparity_abs, color="k", ls=":", lw=1)
ax.set(xscale="log", yscale="symlog", xlabel="smallest eigenvalue of Corr(µ)",
       ylabel="TC_mean − TC_sample (nats)")
ax.legend(fontsize=7)
ax.grid(alpha=0.3)
glue_figure("fig-comparison-mechanism", fig)
display(Markdown(markdown_table(mech.round(4))))

# %% [markdown]
# ```{glue:figure} fig-comparison-mechanism
# :name: fig-comparison-mechanism
#
# Every learned run's disparity against the smallest eigenvalue of its Corr(µ) (the dotted line: the absolute
# threshold of "no disparity").
# ```
#
# ## Every run

# %%
out_csv = results_dir / f"comparison-{profile}.csv"
run_table(table).to_csv(out_csv, index=False)
display(Markdown(markdown_table(shown_run_table(table))))
cost = paper_cost()
counts = verdict_counts(claims)

# %% tags=["hide-cell"]
glue_values({"csv-name": out_csv.name, "chapter-seconds": time.perf_counter() - t_start,
             "paper-gimages": cost["images"] / 1e9,
             "paper-runs": cost["runs"], "paper-cpu_hours": cost["cpu_hours"], "paper-gpu_hours": cost["gpu_hours"],
             "paper-gpu_step_seconds": cost["gpu_step_seconds"], "paper-gpu_eval_seconds": cost["gpu_eval_seconds"],
             "count-confirmed": counts["confirmed"], "count-partly": counts["partly"],
             "count-refuted": counts["refuted"], "count-inconclusive": counts["inconclusive"],
             "count-not-converged": counts["not converged"],
             "count-still-moving": counts["holds, still moving"] + counts["not reproduced, still moving"],
             "images-per-run": int(table["steps"].iloc[0] * table["batch_size"].iloc[0])})

# %% [markdown]
# The same table, with every column of the evaluation, is written to `results/` as
# {glue:text}`csv-name`.
#
# ## Conclusions
#
# Of the chapter's {glue:text}`runs-total` runs, {glue:text}`learned-count` learned and {glue:text}`regime-in` of
# the {glue:text}`regime-total` revised runs stayed in the paper's regime. Verdicts at this profile:
# {glue:text}`count-confirmed` confirmed, {glue:text}`count-refuted` refuted, {glue:text}`count-still-moving` on one
# side but still moving, {glue:text}`count-inconclusive` inconclusive, {glue:text}`count-not-converged` not
# converged — all at {glue:text}`images-per-run` images per run.
#
# - The primary endpoint, RTC-VAE against FactorVAE: disparity ratio {glue:text}`claim-primary_disparity-verdict`;
#   TC_mean ratio {glue:text}`claim-primary_tc_mean-verdict`. In the published long run, at
#   {glue:text}`long-images:,.0f` images per run ({glue:text}`long-arm`): disparity ratio
#   {glue:text}`long-disparity`; TC_mean ratio {glue:text}`long-tc_mean`.
# - The training recipe (published study): the rule's {glue:text}`recipe-adopted`; held against every model,
#   {glue:text}`recipe-checked`.
# - Fig. 3, the disparity: β-VAE {glue:text}`claim-disparity_beta_vae-verdict`; FactorVAE
#   {glue:text}`claim-disparity_factor_vae-verdict`; β-TCVAE {glue:text}`claim-disparity_beta_tcvae-verdict`.
#   Removed by the revised models: revised β-VAE {glue:text}`claim-none_revised_beta_vae-verdict`; RTC-VAE
#   {glue:text}`claim-none_rtc_vae-verdict`.
# - Fig. 4, revised TC_mean much lower and TC_sample comparably low: {glue:text}`claim-revised_lower-verdict`.
# - Fig. 9 (dSprites): RTC-VAE β > 10 reconstructs worse {glue:text}`claim-rtc_recon-verdict`; no strong
#   TC_mean–SAP correlation {glue:text}`claim-tc_sap-verdict` (descriptive over {glue:text}`tc-sap-runs` runs);
#   DIP-VAEs and RTC-VAE with a low TC_mean {glue:text}`claim-low_tc_mean-verdict`.
# - §5.2: DIP-VAE Gaussian TC low {glue:text}`claim-dip_gaussian-verdict`; DIP-VAE latents not factorised
#   {glue:text}`claim-dip_dependent-verdict`; RTC-VAE latents factorised {glue:text}`claim-rtc_factorised-verdict`.
#
# Every verdict above rests on {glue:text}`images-per-run` images per run ({glue:text}`steps` steps at batch
# {glue:text}`batch`): a statement about these runs at that budget; the cells on one seed
# ({glue:text}`one-seed-cells`) are described, never judged.
# The `paper` profile holds the paper's grid for a GPU: {glue:text}`paper-runs` runs, {glue:text}`paper-gimages:.2f`
# billion training images; at the measured CPU rates that is {glue:text}`paper-cpu_hours:.0f` CPU hours, on a GPU
# an estimated {glue:text}`paper-gpu_hours:.0f` GPU hours — an estimate from *assumed* rates
# ({glue:text}`paper-gpu_step_seconds` s per batch-500 step, FactorVAE-family steps counted twice, and
# {glue:text}`paper-gpu_eval_seconds:.0f` s per reference evaluation, mostly CPU-bound gradient boosting), since no
# GPU rate of this model has been measured yet (`scripts/gpu/gpu_check.py` measures one). This chapter ran in
# {glue:text}`chapter-seconds:.0f` s.
