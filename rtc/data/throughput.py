"""Measuring how fast a dataset delivers images (shared by ``bench/bench_data.py`` and the Datasets chapter).

The rate a training step consumes images is :func:`rtc.models.throughput.training_step_rate`.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from .base import GroundTruthDataset

__all__ = ["render_rate", "grid_bytes", "h5_bytes_per_image", "traversal_factors"]


def render_rate(ds: GroundTruthDataset, batch: int, repeats: int = 5, *, seed: int = 0, render=None) -> float:
    """Median images/s of ``render(factors)`` (default ``ds.images``) over ``repeats`` fresh uniform batches.

    The median, because the machine is shared and single runs can be several times slower.
    """
    render = render or ds.images
    rng = np.random.default_rng(seed)
    rates = []
    for _ in range(repeats):
        f = ds.sample_factors(batch, rng)
        t = time.perf_counter()
        render(f)
        rates.append(batch / (time.perf_counter() - t))
    return float(np.median(rates))


def grid_bytes(ds: GroundTruthDataset) -> int:
    """Bytes of the full grid as uint8 images in memory."""
    return len(ds) * ds.image_size ** 2 * ds.num_channels


def h5_bytes_per_image(ds: GroundTruthDataset, n: int = 2000, *, seed: int = 0) -> float:
    """File bytes per image of an HDF5 cache in :func:`rtc.data.cache.write_grid_h5`'s layout (one gzip-1 chunk per
    image), measured on ``n`` uniformly drawn images (sorted by index, like a grid file)."""

    f = ds.sample_factors(n, seed)
    f = f[np.argsort(ds.factors_to_index(f))]
    shape = (n, ds.image_size, ds.image_size, ds.num_channels)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "probe.h5"
        with h5py.File(p, "w") as h:
            h.create_dataset("images", data=ds.images(f), chunks=(1,) + shape[1:], compression="gzip",
                             compression_opts=1)
        return os.path.getsize(p) / n


def traversal_factors(ds: GroundTruthDataset, base, factor: int, steps: int) -> np.ndarray:
    """(steps, F) factor rows equal to ``base`` except ``factor``, which runs evenly over its whole range."""
    base = ds.check_factors(np.asarray(base)[None])[0]
    size = ds.factor_sizes[factor]
    out = np.repeat(base[None], steps, axis=0)
    out[:, factor] = np.rint(np.linspace(0, size - 1, steps)).astype(np.int64)
    return out
