"""Data side vs training side: images/s each dataset delivers against the images/s a training step consumes,
measured side by side in one run, plus full-grid render times, memory and HDF5 cache sizes.

Usage: ``.venv/bin/python bench/bench_data.py [--batch 64] [--repeats 5] [--full-grid dsprites shapes3d]``

- training: a β-VAE step (forward, BCE + KL, backward, Adam) of the Table 2 model (``rtc.models.VAE``,
  channels_last) at the same batch size and channels as the dataset.
- renderers: ``ds.images`` on fresh uniform batches (median of ``--repeats``); Cars3D both raw (its ray
  caster, ``render_uncached``) and memoised (each image rendered once per process; the steady state), and
  ``batches()`` (images + float conversion) for each.
- full grid: rendered completely (``--full-grid`` names) or estimated from the measured rate (others); the
  estimate is marked "est.". Cache size: bytes per image of a gzip-1 HDF5 grid file measured on 2,000 images,
  times the grid size (Cars3D: the real cache file if ``.cache/rtc`` holds it).
- Shapes3D from a ``3dshapes.h5``-format file (a reduced 12,000-image grid written to a temporary folder,
  stored like the real file: one contiguous uint8 dataset): random batches read per batch from the file
  (``load_dataset(..., in_memory=False)``) against the same file loaded with ``in_memory=True``, beside a
  training step's rate on this CPU and the rate a GPU step of ``--gpu-step-ms`` (an assumed value; pass a
  measured one) would need. The fresh file sits in the page cache, so the file rate is an upper bound for a
  cold 5.9 GB file.
The machine is shared (2 cores, other jobs): all numbers are medians, and the ratios are what to quote.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch

from rtc.data import batches, load_dataset
from rtc.data.cache import default_cache_path
from rtc.data.loaders import load_shapes3d_h5
from rtc.data.throughput import grid_bytes, h5_bytes_per_image, render_rate
from rtc.models.throughput import training_step_rate


def batches_rate(ds, batch: int, steps: int) -> float:
    it = batches(ds, batch, seed=0, steps=steps + 1)
    next(it)
    t = time.perf_counter()
    for _ in it:
        pass
    return batch * steps / (time.perf_counter() - t)


def shapes3d_file_rates(batch: int, repeats: int) -> dict:
    """images/s of random batches from a 3dshapes.h5-format file read per batch vs held in memory."""
    sizes = (10, 10, 10, 2, 2, 3)                                   # 12,000 images, 147 MB
    n = int(np.prod(sizes))
    grid = np.stack(np.unravel_index(np.arange(n), sizes), 1)
    labels = np.stack([np.linspace(0.0, 1.0, s)[grid[:, k]] for k, s in enumerate(sizes)], 1)
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "3dshapes.h5"
        with h5py.File(path, "w") as h:
            h.create_dataset("labels", data=labels)
            img = h.create_dataset("images", shape=(n, 64, 64, 3), dtype=np.uint8)   # contiguous, as the real file
            rng = np.random.default_rng(0)
            for s in range(0, n, 2000):
                img[s:s + 2000] = rng.integers(0, 256, size=(min(2000, n - s), 64, 64, 3), dtype=np.uint8)
        for in_memory in (False, True):
            ds = load_shapes3d_h5(path, factor_sizes=sizes, in_memory=in_memory)
            rates["in memory" if in_memory else "from file"] = render_rate(ds, batch, repeats)
            if ds._h5file is not None:
                ds._h5file.close()
    return rates


def dataset_rates(name: str, B: int, train: dict, args) -> tuple:
    """Print the render rates of one dataset against training; return its row of the summary table."""
    t0 = time.perf_counter()
    ds = load_dataset(name)
    ds.images(ds.sample_factors(1, 0))                           # build banks / geometry (cached on disk)
    setup = time.perf_counter() - t0
    tr = train[ds.num_channels]
    rows = []
    if name == "cars3d":
        raw = render_rate(ds, B, args.repeats, render=ds.render_uncached)
        rows.append(("ray caster (raw)", raw))
        f = ds.sample_factors(B, 0)
        ds.images(f)
        t = time.perf_counter()
        for _ in range(args.repeats):
            ds.images(f)
        rows.append(("memoised (steady)", B * args.repeats / (time.perf_counter() - t)))
        grid_rate = raw
    else:
        grid_rate = render_rate(ds, B, args.repeats)
        rows.append(("ds.images", grid_rate))
        rows.append(("ds.images batch 4096", render_rate(ds, 4096, max(2, args.repeats // 2))))
        rows.append(("batches()", batches_rate(ds, B, max(10, 4 * args.repeats))))
    for label, r in rows:
        print(f"{name:10s} {label:22s} {r:10.0f} {r / tr:10.1f}")
    # full grid
    if name in args.full_grid:
        t = time.perf_counter()
        for s in range(0, len(ds), 8192):
            ds.images(ds.index_to_factors(np.arange(s, min(s + 8192, len(ds)))))
        full, how = time.perf_counter() - t, "measured"
    else:
        full, how = len(ds) / render_rate(ds, 512, 2, render=getattr(ds, "render_uncached", ds.images)), "est."
    cache_file = default_cache_path(ds)
    if name == "cars3d" and cache_file.exists():
        h5 = cache_file.stat().st_size
        h5_how = "file"
    else:
        h5 = h5_bytes_per_image(ds, 2000) * len(ds)
        h5_how = "est."
    return name, len(ds), setup, full, how, grid_bytes(ds), h5, h5_how


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--train-steps", type=int, default=5)
    ap.add_argument("--full-grid", nargs="*", default=["dsprites"], help="datasets whose full grid is rendered")
    ap.add_argument("--gpu-step-ms", type=float, default=5.0,
                    help="time of one GPU training step at --batch (assumed; pass a measured one)")
    args = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    B = args.batch
    print(f"torch threads {torch.get_num_threads()}, batch {B}")
    train = {c: training_step_rate(c, B, args.train_steps) for c in (1, 3)}
    for c, r in train.items():
        print(f"training step (beta-VAE, Table 2 model, nc={c}): {r:8.0f} images/s")
    gpu_need = B / (args.gpu_step_ms / 1000)
    print(f"a GPU step of {args.gpu_step_ms:g} ms at batch {B} needs       {gpu_need:8.0f} images/s")
    for label, r in shapes3d_file_rates(B, max(10, 4 * args.repeats)).items():
        print(f"Shapes3D h5 file, {label:9s} (load_dataset in_memory={label == 'in memory'}): {r:8.0f} images/s "
              f"= {r / train[3]:6.1f}x CPU training, {r / gpu_need:6.2f}x GPU need")
    print()
    header = f"{'dataset':10s} {'path':22s} {'images/s':>10s} {'x training':>10s}"
    print(header)
    print("-" * len(header))
    summary = []
    for name in ("dsprites", "shapes3d", "cars3d"):
        summary.append(dataset_rates(name, B, train, args))
    print()
    print(f"{'dataset':10s} {'images':>8s} {'setup s':>8s} {'full grid s':>14s} {'uint8 grid':>11s} "
          f"{'HDF5 cache':>14s}")
    for name, n, setup, full, how, mem, h5, h5_how in summary:
        print(f"{name:10s} {n:8d} {setup:8.1f} {full:8.0f} {how:>5s} {mem / 2**20:8.0f} MiB "
              f"{h5 / 2**20:7.0f} MiB {h5_how}")
    print("\nsetup = first call in a fresh process (sprite bank; Shapes3D geometry from .cache/rtc if present).")


if __name__ == "__main__":
    main()
