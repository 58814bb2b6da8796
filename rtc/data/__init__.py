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

from .base import DatasetFileError, GroundTruthDataset, as_rng

__all__ = ["load_dataset", "batches", "DATASETS", "GroundTruthDataset", "DatasetFileError"]

DATASETS = ("dsprites", "shapes3d", "cars3d")
_ENV = {"dsprites": "RTC_DSPRITES", "shapes3d": "RTC_SHAPES3D", "cars3d": "RTC_CARS3D"}


def load_dataset(name: str, *, path: str | os.PathLike | None = None, seed: int = 0,
                 cache: bool | str | os.PathLike | None = None) -> GroundTruthDataset:
    """A ground-truth dataset by name.

    Args:
        name: ``"dsprites"``, ``"shapes3d"`` or ``"cars3d"``.
        path: the real file(s) (dSprites ``.npz``, ``3dshapes.h5``, or the Cars3D folder of ``.mat`` files with
            ``list.txt``); if None, the environment variable ``RTC_<NAME>`` is used when set, else the procedural
            renderer. Real files are validated completely before anything is returned.
        seed: seed of the procedural generator (only the Cars3D stand-in's object parameters depend on it;
            the dSprites and Shapes3D renderers are deterministic).
        cache: procedural datasets only. None/False: render lazily per batch (in memory, no files).
            True: render the full grid once into an HDF5 file under ``$RTC_CACHE_DIR`` (default
            ``<repo>/.cache/rtc``) and serve images from it; a path: use that HDF5 file.
    """
    key = str(name).lower()
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    if path is None and os.environ.get(_ENV[key]):
        path = os.environ[_ENV[key]]
    if path is not None:
        if cache:
            raise ValueError("cache applies to procedural datasets only; real files are read directly")
        from . import loaders
        return {"dsprites": loaders.load_dsprites_npz, "shapes3d": loaders.load_shapes3d_h5,
                "cars3d": loaders.load_cars3d_mats}[key](Path(path))
    if key == "dsprites":
        from .dsprites import DSprites
        ds = DSprites(seed=seed)
    elif key == "shapes3d":
        from .shapes3d import Shapes3D
        ds = Shapes3D(seed=seed)
    else:
        from .cars3d import Cars3DStandIn
        ds = Cars3DStandIn(seed=seed)
    if cache:
        from .cache import cached
        ds = cached(ds, None if cache is True else Path(cache))
    return ds


def batches(ds: GroundTruthDataset, batch_size: int, *, seed: int = 0, shuffle: bool = True, device=None,
            steps: int | None = None) -> Iterator[torch.Tensor]:
    """Training batches: float32 (B, C, 64, 64) in [0, 1] on ``device``.

    shuffle=True: a fresh permutation of the whole grid per epoch, consumed in order (sampling without
    replacement); the last partial batch of an epoch is topped up from the next epoch's permutation, so every
    batch has exactly ``batch_size`` images. shuffle=False: i.i.d. uniform draws over the grid.
    steps: number of batches (None = forever).
    """
    batch_size = int(batch_size)
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if steps is not None and int(steps) < 0:
        raise ValueError(f"steps must be >= 0 or None, got {steps}")
    rng = as_rng(seed)
    n = len(ds)
    perm = np.zeros(0, dtype=np.int64)
    pos = 0
    step = 0
    while steps is None or step < steps:
        if shuffle:
            idx = []
            need = batch_size
            while need:
                if pos == len(perm):
                    perm, pos = rng.permutation(n).astype(np.int64), 0
                take = min(need, len(perm) - pos)
                idx.append(perm[pos:pos + take])
                pos += take
                need -= take
            idx = np.concatenate(idx)
        else:
            idx = rng.integers(0, n, size=batch_size, dtype=np.int64)
        yield ds.observations(ds.index_to_factors(idx), device=device)
        step += 1
