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
# # Model gallery: every trained run, looked at
#
# The two training chapters read scores. People who train disentangling VAEs look at their models first:
# reconstructions, latent traversals, which latents are switched off, how each latent's µ and z are distributed
# against the prior, and which factor each latent captures. This chapter shows all of that for every run of the
# profile's training grid (read from the results cache: the runs are those of the comparison chapter, nothing is
# trained here), with the functions of `rtc.inspect` — the same ones `python -m rtc.inspect` writes a report with
# for any single run.

# %% tags=["parameters"]
profile = "default"
seed = 0
threads = 1
encode_n = 1000
traversal_points = 10
traced_images = 1
recon_images = 6

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from rtc.experiments.comparison import describe_grid
from rtc.params import describe_run

display(Markdown(describe_run("gallery", globals())))
display(Markdown(describe_grid(profile)))

# %% tags=["hide-cell"]
import time

import torch
from IPython.display import Image

from rtc.experiments import default_results_dir
from rtc.experiments.comparison import LABELS
from rtc.experiments.grid import grid_runs
from rtc.experiments.selection import find_run
from rtc.inspect import gallery_images, image_facts, load_run
from rtc.models.encoding import ACTIVE_VAR
from rtc.report import run_label
from rtc.sweep import run_grid

torch.set_num_threads(threads)  # the CPU is shared: one thread for the encoding and decoding here
t_start = time.perf_counter()

# %%
results_dir = default_results_dir()
runs = grid_runs(profile)
# cache hits after the comparison chapter
table, results = run_grid(runs, results_dir=results_dir, progress=False)
inspections = [load_run(r.run_dir, n=encode_n, seed=seed, evaluation=s.evaluation,
                        profile=profile)
               for s, r in zip(runs, results, strict=True)]
gallery = [gallery_images(insp, points=traversal_points, images=traced_images,
                          recon_images=recon_images)
           for insp in inspections]

# %% tags=["hide-cell"]
from rtc.report import glue_values

sizes = [sum(len(data) for _, data in g.values()) for g in gallery]
if sum(sizes) > 20e6:  # the page must stay light enough to open: 20 MB of images at most
    raise ValueError(f"the gallery's images weigh {sum(sizes) / 1e6:.1f} MB, over the 20 MB budget: lower "
                     "traversal_points, traced_images or recon_images")
gifs = [len(data) for g in gallery for mime, data in g.values() if mime == "image/gif"]
glue_values({"n-runs": len(runs), "encode-n": encode_n, "points": traversal_points, "active-var": ACTIVE_VAR,
             "gallery-mb": sum(sizes) / 1e6, "run-kb-max": max(sizes) / 1e3,
             "gif-kb-mean": sum(gifs) / len(gifs) / 1e3,
             "mismatched": sum(not insp.key_ok for insp in inspections),
             "computed-evals": sum(insp.eval_source.startswith("no cached") for insp in inspections)})

# %% [markdown]
# ## How to read one run
#
# Each of the {glue:text}`n-runs` runs below has its own section, in the grid's order, with its scores in one line
# and six images:
#
# 1. **reconstructions** — data beside its reconstruction from µ, the reconstruction error (Bernoulli
#    −log p(x | z = µ), nats) above each reconstruction;
# 2. **an animated latent traversal** — one tile per latent, every tile moving through
#    {glue:text}`points` values from −2 to 2 prior standard deviations while the other latents keep the µ of one
#    image; the tiles are ordered by each latent's KL to the prior (nats, printed above the tile), and a latent
#    whose µ barely varies over the images (Var µ_k ≤ {glue:text}`active-var`) is greyed;
# 3. **factor × latent matrices** — the normalised mutual information that MIG reads and the R² that SAP reads;
#    the two largest cells of each factor are outlined (red, then orange), each factor's label names that pair of
#    latents and its gap (MIG and SAP are the mean of those gaps over the factors), and ⚠ marks a factor that the
#    disintegration check flags (its two top latents are comparable, dedicated to it, and independent);
# 4. **histograms** of µ_k (red line) and z_k (blue) over {glue:text}`encode-n` images, the prior N(0, 1) dashed:
#    an active latent of a well-fitted VAE has z close to the prior; a switched-off latent has µ piled at one
#    value and z equal to the prior;
# 5. **training curves** from the run's per-step log — reconstruction, the KL and TC terms, the loss, and for the
#    revised models the variance term Σ_k E[σ_k²] against the band (0.01, 0.04) with η;
# 6. **prior samples** — images decoded from z ~ N(0, I).
#
# The page holds {glue:text}`gallery-mb:.1f` MB of images ({glue:text}`run-kb-max:.0f` kB for the largest
# run; a traversal GIF weighs {glue:text}`gif-kb-mean:.0f` kB on average). {glue:text}`mismatched` runs were
# stored under a cache key this checkout would not compute (they would be marked), and
# {glue:text}`computed-evals` had no cached evaluation (their matrices computed here, on the images above).

# %% tags=["hide-input"]
for spec, res, insp, images in zip(runs, results, inspections, gallery, strict=True):
    row = res.row
    head = f"{LABELS.get(spec.config.model, spec.config.model)} {spec.config.strength:g}, seed {spec.config.seed}, " \
           f"{spec.dataset.name}"
    line = (f"TC_mean {row['tc_mean']:.2f}, TC_sample {row['tc_sample']:.2f} nats; "
            f"SAP {row.get('sap_r2', float('nan')):.2f}, MIG {row.get('mig_ref', float('nan')):.2f}; "
            f"{int(row['active_dims'])} active latents; reconstruction "
            f"{row['recon']:.1f} nats; run `{insp.run_dir.name}`"
            + ("" if insp.key_ok else " — **cache key mismatch: trained by other code**"))
    display(Markdown(f"```{{rubric}} {head}\n```\n\n{line}"))
    for mime, data in images.values():
        display(Image(data=data, format=mime.split("/")[1]))

# %% tags=["hide-cell"]
pick = find_run(runs, "rtc_vae", "dsprites") or 0
facts = image_facts(inspections[pick])
glue_values({"desc-run": run_label(runs[pick]),
             "desc-top-latent": facts["top_latent"], "desc-second-latent": facts["second_latent"],
             "desc-inactive": facts["inactive"], "desc-latents": facts["latents"], "desc-factor": facts["factor"],
             "desc-factor-top": facts["factor_top"], "desc-factor-second": facts["factor_second"],
             "desc-disintegrated": facts["disintegrated"],
             "desc-top-kl": f"{facts['top_kl']:.2f}", "desc-second-kl": f"{facts['second_kl']:.2f}",
             "desc-factor-nmi": f"{facts['factor_nmi']:.2f}", "desc-factor-gap": f"{facts['factor_gap']:.2f}",
             "chapter-seconds": time.perf_counter() - t_start})

# %% [markdown]
# ## Two images, as a reader sees them
#
# Take the section of {glue:text}`desc-run`. Its traversal GIF is a block of {glue:text}`desc-latents` small
# images that keep changing: the first tile, latent {glue:text}`desc-top-latent` (KL {glue:text}`desc-top-kl`
# nats, the largest), moves most as it loops from −2 to 2, then latent {glue:text}`desc-second-latent`
# (KL {glue:text}`desc-second-kl`); {glue:text}`desc-inactive` tiles are washed out in grey — the latents the
# model switched off, which barely change the image. What moves in a tile is what that latent encodes: a sprite
# sliding sideways is a position latent, one that grows a scale latent, one whose outline morphs a shape latent;
# a tile where several things change together is an entangled latent.
#
# Its normalised-MI heatmap has the latents as rows and the factors as columns. The brightest column is
# {glue:text}`desc-factor`: latent {glue:text}`desc-factor-top` holds {glue:text}`desc-factor-nmi` of its entropy
# (red outline) and the next latent, {glue:text}`desc-factor-second` (orange), trails it by
# {glue:text}`desc-factor-gap` — the term that factor contributes to MIG. A column with two similar bright cells
# is a factor split over two latents; the check marks {glue:text}`desc-disintegrated` factors of this run as
# disintegrated. The chapter took {glue:text}`chapter-seconds:.0f` s.
#
# Any run can be looked at the same way outside the book, as a folder of PNG and GIF files with an `index.html`:
# `python -m rtc.inspect --profile default --model rtc_vae --strength 10 --seed 0 --dataset dsprites --out
# inspect-out` (or `python -m rtc.inspect results/runs/<model>-<key> --out DIR`); it trains nothing and writes
# nothing to the results cache.
