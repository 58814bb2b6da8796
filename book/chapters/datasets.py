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
# # Datasets: ground-truth factors, rendered offline
#
# Disentanglement metrics need datasets whose factors of variation are known, and they need more than a
# list of images: they ask for *the observation of given factor values* (e.g. pairs of images sharing one
# factor). The paper evaluates on dSprites, Shapes3D and Cars3D {cite:p}`locatello2019challenging`.
# Nothing can be downloaded on the machines this book is built on, so `rtc.data` renders each dataset
# itself — over the original's exact factor grid — and loads the original files when a user points at
# them (`load_dataset(name, path=...)` or the variables `RTC_DSPRITES`, `RTC_SHAPES3D`, `RTC_CARS3D`).
#
# - **dSprites**: 64×64 binary sprites — shape {square, ellipse, heart} × scale (6) × orientation (40) ×
#   posX (32) × posY (32).
# - **Shapes3D**: a small vectorised ray-caster — floor, walls and one object (cube, cylinder, sphere,
#   capsule) with Lambert shading and a hard shadow; floor, wall and object hue (10 each) × scale (8) ×
#   shape (4) × orientation (15).
# - **A Cars3D stand-in**, *not* Cars3D: the original's pose grid (elevation 4 × azimuth 24) over 183
#   procedurally generated car-like objects (body, cabin, wheels, colour). Results on it say nothing about
#   the CAD cars of the original; they test the same structure (two pose factors, one identity factor).
#
# This chapter shows, for each dataset, a traversal of every factor (one row per factor, all other factors
# held fixed), then measures how fast the renderers deliver images against how fast a training step
# consumes them.

# %% tags=["parameters"]
profile = "default"
seed = 0
traversal_steps = 10
rate_batch = 256
rate_batch_cars3d = 32
rate_repeats = 5
train_batch = 64
train_steps = 3
cache_probe_images = 1000
cache_probe_images_cars3d = 64

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from rtc.params import describe_run

display(Markdown(describe_run("datasets", globals())))

# %% tags=["hide-cell"]
import pandas as pd

from rtc.data import DATASETS, load_dataset
from rtc.data.throughput import grid_bytes, h5_bytes_per_image, render_rate
from rtc.experiments.dataset_plots import factor_traversal_figure, rates_figure
from rtc.models.throughput import training_step_rate
from rtc.report import glue_figure, glue_values

# %%
datasets = {name: load_dataset(name, seed=seed) for name in DATASETS}

# %% [markdown]
# ## The factor grids
#
# Every dataset is a full factorial grid in C order (the last factor varies fastest, as in the original
# files), so a grid index and a row of factor indices convert into each other exactly.

# %%
rows = []
for name, ds in datasets.items():
    factors = " × ".join(f"{n} {s}"
                         for n, s in zip(ds.factor_names, ds.factor_sizes, strict=True))
    rows.append({"dataset": name, "factors": factors, "images": f"{len(ds):,}",
                 "channels": ds.num_channels, "source": ds.source})
display(pd.DataFrame(rows).set_index("dataset"))

# %% [markdown]
# ## Traversals
#
# `rtc.experiments.dataset_plots.factor_traversal_figure` sweeps each factor over its range (`traversal_steps` images,
# `rtc.data.throughput.traversal_factors`) with the other factors fixed at a grid point.

# %% tags=["hide-input"]
# The grid point each traversal starts from: chosen (not drawn) so that every sweep is legible — distinct
# floor, wall and object hues in Shapes3D, an oblique view of the car.
bases = {"dsprites": [2, 3, 5, 16, 16], "shapes3d": [0, 4, 7, 4, 3, 7], "cars3d": [1, 3, 10]}
# each figure keeps its own tight layout (a small pad between the images)
glue_figure("fig-datasets-dsprites",
            factor_traversal_figure(datasets["dsprites"], bases["dsprites"], traversal_steps), tight=False)
glue_figure("fig-datasets-shapes3d",
            factor_traversal_figure(datasets["shapes3d"], bases["shapes3d"], traversal_steps), tight=False)
glue_figure("fig-datasets-cars3d",
            factor_traversal_figure(datasets["cars3d"], bases["cars3d"], traversal_steps), tight=False)

# %% [markdown]
# ### dSprites
#
# ```{glue:figure} fig-datasets-dsprites
# :name: fig-datasets-dsprites
#
# Procedural dSprites: each row sweeps one factor over its whole range (titles: the factor's value;
# shape codes 1 square, 2 ellipse, 3 heart; orientation in radians) with the other factors fixed at a
# fixed grid point (a heart at scale 0.8). Sprites are binary; positions step by exactly one pixel; the square is
# 90°- and the ellipse 180°-symmetric, so their orientation factor repeats itself, as in the original.
# ```
#
# ### Shapes3D
#
# ```{glue:figure} fig-datasets-shapes3d
# :name: fig-datasets-shapes3d
#
# Procedural Shapes3D: floor, wall and object hue, object scale, shape (0 cube, 1 cylinder, 2 sphere,
# 3 capsule) and orientation (degrees; the camera turns around the object, bringing a side wall into view).
# ```
#
# ### Cars3D stand-in
#
# ```{glue:figure} fig-datasets-cars3d
# :name: fig-datasets-cars3d
#
# The Cars3D stand-in: elevation (degrees), azimuth (degrees) and object (one of 183 generated cars, each
# with its own proportions and colour). Not the Cars3D CAD models.
# ```

# %% [markdown]
# ## Is the data side fast enough?
#
# Below, each renderer's images/s on fresh uniformly drawn batches of `rate_batch` (`rate_batch_cars3d` for
# the Cars3D stand-in's slow ray caster; median of `rate_repeats`) is set against a β-VAE training step of the
# Table 2 model at batch `train_batch`, both measured in this run on the same machine (shared with other jobs,
# so ratios, not absolute numbers, are what to read). The Cars3D stand-in memoises every image it has rendered
# ({glue:text}`cars3d-grid-mib:,.0f` MiB for the whole grid), and `load_dataset("cars3d", cache=True)` renders
# the grid once into an HDF5 file; the raw and memoised rates are both measured.

# %%
# images/s, by channel count
train = {c: training_step_rate(c, train_batch, train_steps) for c in (1, 3)}
rates = []
for name, ds in datasets.items():
    if name == "cars3d":
        rates.append((name, "ray caster",
                      render_rate(ds, rate_batch_cars3d, rate_repeats, seed=seed,
                                  render=ds.render_uncached)))
        # the memo's steady state: a first pass renders (and memoises) the seeded
        # batches, the second, on the same batches, only reads the memo
        render_rate(ds, rate_batch_cars3d, rate_repeats, seed=seed)
        rates.append((name, "memoised",
                      render_rate(ds, rate_batch_cars3d, rate_repeats, seed=seed)))
    else:
        rates.append((name, "renderer",
                      render_rate(ds, rate_batch, rate_repeats, seed=seed)))
table = pd.DataFrame(rates, columns=["dataset", "path", "images/s"])
table["training images/s"] = [train[datasets[n].num_channels] for n in table["dataset"]]
table["ratio"] = table["images/s"] / table["training images/s"]

# %% tags=["hide-cell"]
ratio = dict(zip(zip(table["dataset"], table["path"], strict=True), table["ratio"], strict=True))
glue_values({"ratio-dsprites": ratio[("dsprites", "renderer")], "ratio-shapes3d": ratio[("shapes3d", "renderer")],
             "ratio-cars-raw": ratio[("cars3d", "ray caster")], "ratio-cars-memo": ratio[("cars3d", "memoised")],
             "train-rate-1": train[1], "train-rate-3": train[3]})

# %% tags=["hide-input"]
display(table.style.format({"images/s": "{:,.0f}", "training images/s": "{:,.0f}", "ratio": "{:,.1f}"}))
glue_figure("fig-datasets-rates", rates_figure(table, train))

# %% [markdown]
# ```{glue:figure} fig-datasets-rates
# :name: fig-datasets-rates
#
# Images per second delivered by each renderer (bars, log scale) against the images per second a β-VAE
# training step of the Table 2 model consumes (lines), measured in the same run.
# ```
#
# A training step consumed {glue:text}`train-rate-1:,.0f` images per second with one channel and
# {glue:text}`train-rate-3:,.0f` with three.
# In this run the dSprites renderer delivered {glue:text}`ratio-dsprites:,.0f` times and the Shapes3D
# renderer {glue:text}`ratio-shapes3d:,.1f` times as many images per second as training consumes: dSprites
# pastes pre-drawn sprites at integer offsets (a gather), and Shapes3D ray-casts its 480 geometries
# (scale × shape × orientation) once and only colours them per image. The Cars3D stand-in's ray caster
# reached {glue:text}`ratio-cars-raw:.2f` times the training rate, so every image it renders is memoised
# ({glue:text}`ratio-cars-memo:,.0f` times the training rate once rendered), and `cache=True` renders its grid once
# into an HDF5 file.

# %% [markdown]
# ## Memory and cache size
#
# The full grids as uint8 arrays, and the size of an HDF5 grid cache (one gzip-compressed chunk per image,
# the layout `cache=True` writes), estimated from `cache_probe_images` images (`cache_probe_images_cars3d` for the
# Cars3D stand-in, whose ray caster is ~10³ times slower than the other renderers).

# %%
sizes = []
for name, ds in datasets.items():
    probe = cache_probe_images_cars3d if name == "cars3d" else cache_probe_images
    per = h5_bytes_per_image(ds, probe, seed=seed)
    sizes.append({"dataset": name, "images": len(ds),
                  "uint8 grid (MiB)": grid_bytes(ds) / 2**20,
                  "HDF5 cache (MiB, est.)": per * len(ds) / 2**20,
                  "probe images": probe})
display(pd.DataFrame(sizes).set_index("dataset").style.format("{:,.0f}"))

# %% tags=["hide-cell"]
glue_values({"cars3d-grid-mib": grid_bytes(datasets["cars3d"]) / 2**20})
