"""Look inside a trained run: reconstructions, KL-ordered latent traversals (PNG and animated GIF), µ and z
histograms against the prior, the metrics' factor × latent matrices, training curves, prior samples and the
run's settings and scores — ``python -m rtc.inspect``.

A run is given by its directory (``results/runs/<model>-<key>``) or resolved through a profile's grid
(``parameters/<profile>/training.yaml``) and the results cache. Nothing is trained and nothing is written to the
results cache: a run that is not cached is an error naming the command that trains it. The metrics' matrices are
read from the run's cached evaluation (``<run dir>/eval/*.json``); without one they are computed here, from the
same functions, on the images encoded for the report (and the report says so).

Library::

    from rtc.inspect import inspect_grid_run, load_run, write_report
    insp = inspect_grid_run("default", model="rtc_vae", strength=10, seed=0, dataset="dsprites")
    write_report(insp, "inspect-out")              # index.html + PNG/GIF files

CLI::

    python -m rtc.inspect --profile default --model rtc_vae --strength 10 --seed 0 --dataset dsprites --out DIR
    python -m rtc.inspect results/runs/rtc_vae-<key> --out DIR [--format png|gif|all] [--images N]

The figure functions (:func:`reconstruction_figure`, :func:`traversal_figure`, :func:`traversal_gif`,
:func:`histogram_figure`, :func:`heatmap_figure`, :func:`curves_figure`, :func:`prior_figure`) return matplotlib
figures or GIF bytes and are what the book's model gallery and the comparison chapter call.

Modules: :mod:`~rtc.inspect.load` (loading a run: :class:`Inspection`, :func:`load_run`, :func:`resolve_run`),
:mod:`~rtc.inspect.images` (decoded images: reconstructions, traversals, prior samples), :mod:`~rtc.inspect.figures`
(histograms, heatmaps, training curves, the gallery's images), :mod:`~rtc.inspect.report` (tables and
:func:`write_report`), :mod:`~rtc.inspect.cli` (:func:`main`).
"""
from .cli import main
from .figures import (
    REVISED_MODELS,
    VAR_BAND,
    curves_figure,
    figure_bytes,
    gallery_images,
    heatmap_figure,
    heatmap_matrices,
    histogram_figure,
    image_facts,
    latent_histograms,
)
from .images import (
    prior_figure,
    reconstruction_figure,
    reconstructions,
    traversal_figure,
    traversal_gif,
    traversal_images,
    traversal_values,
)
from .load import InspectError, Inspection, inspect_grid_run, load_run, resolve_run
from .report import scores_table, settings_table, write_report

__all__ = ["InspectError", "Inspection", "load_run", "resolve_run", "inspect_grid_run", "traversal_values",
           "reconstructions", "reconstruction_figure", "traversal_images", "traversal_figure", "traversal_gif",
           "latent_histograms", "histogram_figure", "heatmap_matrices", "heatmap_figure", "curves_figure",
           "prior_figure", "figure_bytes", "gallery_images", "image_facts", "settings_table", "scores_table",
           "write_report", "REVISED_MODELS", "VAR_BAND", "main"]
