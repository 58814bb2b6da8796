"""Ground-truth datasets with known factors of variation (dSprites, Shapes3D, a Cars3D stand-in).

``load_dataset(name)`` returns a :class:`~rtc.data.base.GroundTruthDataset`: a procedural renderer by
default (nothing is downloaded), or the real files when ``path`` (or the environment variable
``RTC_DSPRITES`` / ``RTC_SHAPES3D`` / ``RTC_CARS3D``) points at them. ``batches`` yields training
batches. See :mod:`rtc.data.base` for the interface.

Modules: :mod:`~rtc.data.base` (interface, validation, sampling), :mod:`~rtc.data.dsprites`,
:mod:`~rtc.data.shapes3d`, :mod:`~rtc.data.cars3d` (procedural renderers), :mod:`~rtc.data.raycast`
(the vectorized ray caster they share), :mod:`~rtc.data.loaders` (real files), :mod:`~rtc.data.cache`
(HDF5 grid caches), :mod:`~rtc.data.throughput` (render-rate measurements, traversals for galleries).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from rtc._validate import is_integer

from . import loaders
from .base import DatasetFileError, GroundTruthDataset, as_rng
from .cache import cached
from .cars3d import Cars3DStandIn
from .dsprites import DSprites
from .shapes3d import Shapes3D

__all__ = ["load_dataset", "batches", "DATASETS", "GroundTruthDataset", "DatasetFileError"]

DATASETS = ("dsprites", "shapes3d", "cars3d")
_ENV = {"dsprites": "RTC_DSPRITES", "shapes3d": "RTC_SHAPES3D", "cars3d": "RTC_CARS3D"}


def load_dataset(name: str, *, path: str | os.PathLike | None = None, seed: int = 0,
                 cache: bool | str | os.PathLike | None = None, in_memory: bool | None = None) -> GroundTruthDataset:
    """A ground-truth dataset by name.

    Args:
        name: ``"dsprites"``, ``"shapes3d"`` or ``"cars3d"``.
        path: the real file(s) (dSprites ``.npz``, ``3dshapes.h5``, or the Cars3D folder of ``.mat`` files with
            ``list.txt``); if None, the environment variable ``RTC_<NAME>`` is used when set, else the procedural
            renderer. Real files are validated completely before anything is returned.
        seed: seed of the procedural generator (only the Cars3D stand-in's object parameters depend on it;
            the dSprites and Shapes3D renderers are deterministic).
        cache: procedural datasets only. None/False: render lazily per batch and write no files (Shapes3D's
            24 MB ray-cast geometry is kept in the process, and read from the cache folder if an earlier
            ``cache=True`` run left it there). True: render the full grid once into an HDF5 file under
            ``$RTC_CACHE_DIR`` (default ``<repo>/.cache/rtc``) and serve images from it (the geometry is saved
            there too); a path: use that HDF5 file.
        in_memory: real Shapes3D file only. True: read all images into memory (5.9 GB; ~20x faster random
            batches than reading each from the file, see ``bench/bench_data.py``); False: read each batch from
            the file; None: in memory when at most 1 GiB. The dSprites and Cars3D files are always read into
            memory (3.0 GB, 216 MB), so anything but None is an error for them, as for procedural datasets.
    """
    key = str(name).lower()
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    if path is None and os.environ.get(_ENV[key]):
        path = os.environ[_ENV[key]]
    if in_memory is not None and (path is None or key != "shapes3d"):
        raise ValueError(f"in_memory applies to a real Shapes3D file only (the others are always in memory); "
                         f"got in_memory={in_memory!r} for {key} " + ("files" if path is not None else "(procedural)"))
    if path is not None:
        if cache:
            raise ValueError("cache applies to procedural datasets only; real files are read directly")
        if key == "shapes3d":
            return loaders.load_shapes3d_h5(Path(path), in_memory=in_memory)
        return {"dsprites": loaders.load_dsprites_npz, "cars3d": loaders.load_cars3d_mats}[key](Path(path))
    if key == "dsprites":
        ds = DSprites(seed=seed)
    elif key == "shapes3d":
        ds = Shapes3D(seed=seed, save_geometry=bool(cache))
    else:
        ds = Cars3DStandIn(seed=seed)
    if cache:
        ds = cached(ds, None if cache is True else Path(cache))
    return ds


def batches(ds: GroundTruthDataset, batch_size: int, *, seed: int = 0, shuffle: bool = True, device=None,
            steps: int | None = None, start: int = 0) -> Iterator[torch.Tensor]:
    """Training batches: float32 (B, C, 64, 64) in [0, 1] on ``device``.

    shuffle=True: sampling without replacement. The stream is the concatenation of permutations of the whole
    grid, one per epoch, epoch e's drawn by ``np.random.default_rng([seed, e])``; batch k holds the images at
    stream positions k·B … k·B + B − 1 (so a batch may straddle two epochs, and every batch has exactly
    ``batch_size`` images). A batch is a function of (seed, k) only: ``start=k`` begins at batch k exactly as if
    k batches had been drawn, which is how the training loop resumes without replaying the stream.
    shuffle=False: i.i.d. uniform draws over the grid from ``np.random.default_rng(seed)`` (``start`` skips
    that many batches by drawing them).
    steps: number of batches (None = forever).
    """
    batch_size = int(batch_size)
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if steps is not None and int(steps) < 0:
        raise ValueError(f"steps must be >= 0 or None, got {steps}")
    if not is_integer(start) or start < 0:
        raise ValueError(f"start must be an int >= 0, got {start!r}")
    n = len(ds)
    if n < 1:
        raise ValueError("the dataset is empty")
    rng = None if shuffle else as_rng(seed)
    if shuffle and (not is_integer(seed) or seed < 0):
        raise ValueError(f"seed must be an int >= 0 when shuffle=True, got {seed!r}")
    perms: dict[int, np.ndarray] = {}  # the (at most two) epochs the current batch touches

    def perm(epoch: int) -> np.ndarray:
        if epoch not in perms:
            if len(perms) > 1:
                del perms[min(perms)]
            perms[epoch] = np.random.default_rng([int(seed), epoch]).permutation(n)
        return perms[epoch]

    step, k = 0, int(start)
    if rng is not None:
        for _ in range(k):
            rng.integers(0, n, size=batch_size, dtype=np.int64)
    while steps is None or step < steps:
        if shuffle:
            pos = np.arange(k * batch_size, (k + 1) * batch_size, dtype=np.int64)
            epochs, offs = pos // n, pos % n
            idx = np.concatenate([perm(int(e))[offs[epochs == e]] for e in np.unique(epochs)])
        else:
            idx = rng.integers(0, n, size=batch_size, dtype=np.int64)
        yield ds.observations(ds.index_to_factors(idx), device=device)
        step += 1
        k += 1
