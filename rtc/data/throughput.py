"""Measuring how fast a dataset delivers images (shared by ``bench/bench_data.py`` and the Datasets chapter)."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from .base import GroundTruthDataset

__all__ = ["training_step_rate", "render_rate", "grid_bytes", "h5_bytes_per_image", "traversal_factors"]


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


def training_step_rate(num_channels: int, batch: int = 64, steps: int = 3, *, device=None) -> float:
    """Median images/s of a β-VAE training step (forward, BCE + KL, backward, Adam) of the Table 2 model
    (``rtc.models.VAE``) on random binary images: the rate the data side has to beat. One untimed warm-up step."""
    import statistics

    import torch

    from rtc.models import VAE

    torch.manual_seed(0)
    model = VAE(num_channels).to(device or "cpu")
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = (torch.rand(batch, num_channels, 64, 64) < 0.2).float().to(device or "cpu")
    times = []
    for i in range(steps + 1):
        t = time.perf_counter()
        out = model(x)
        rec = torch.nn.functional.binary_cross_entropy_with_logits(out.logits, x, reduction="sum") / batch
        kl = 0.5 * (out.mu ** 2 + out.logvar.exp() - 1 - out.logvar).sum(1).mean()
        opt.zero_grad()
        (rec + kl).backward()
        opt.step()
        if device is not None and torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t)
    return batch / statistics.median(times)


def grid_bytes(ds: GroundTruthDataset) -> int:
    """Bytes of the full grid as uint8 images in memory."""
    return len(ds) * ds.image_size ** 2 * ds.num_channels


def h5_bytes_per_image(ds: GroundTruthDataset, n: int = 2000, *, seed: int = 0) -> float:
    """File bytes per image of an HDF5 cache in :func:`rtc.data.cache.write_grid_h5`'s layout (one gzip-1 chunk per
    image), measured on ``n`` uniformly drawn images (sorted by index, like a grid file)."""
    import h5py

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
