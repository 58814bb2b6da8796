"""Caching of rendered datasets: full grids in HDF5 files, small derived arrays in ``.npy`` files.

Files live under :func:`cache_dir` — ``$RTC_CACHE_DIR`` if set, else ``<repo>/.cache/rtc`` (gitignored), or
``~/.cache/rtc`` when the package is not run from a checkout. Every write goes through
:func:`rtc._io.atomic_write` (a unique temporary file renamed into place only when complete), so an
interrupted render never leaves a half-written cache behind, and the next write of the same file
removes the temporary file of a render that was killed; a cache file records the dataset name, factor sizes and the
renderer version, and one that does not match is rebuilt, never silently used.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
from tqdm.auto import tqdm

from .._io import atomic_write
from .base import DatasetFileError, GroundTruthDataset

__all__ = ["cache_dir", "cached_array", "cached", "CachedDataset", "write_grid_h5"]

# Datasets whose uncompressed grid is at most this large are read into memory when opened from a cache
# file (Cars3D: 216 MB); larger ones (dSprites 3.0 GB, Shapes3D 5.9 GB) are read per batch from the file.
IN_MEMORY_BYTES = 1 << 30


def cache_dir(*, create: bool = True) -> Path:
    """The cache folder (created on demand unless ``create=False``)."""
    env = os.environ.get("RTC_CACHE_DIR")
    if env:
        d = Path(env)
    else:
        root = Path(__file__).resolve().parents[2]
        d = root / ".cache" / "rtc" if (root / "pyproject.toml").exists() else Path.home() / ".cache" / "rtc"
    if create:
        d.mkdir(parents=True, exist_ok=True)
    return d


def cached_array(filename: str, build: Callable[[], np.ndarray], *, write: bool = True) -> np.ndarray:
    """``np.load`` of ``cache_dir()/filename`` if present and readable, else ``build()``, saved atomically when
    ``write`` (with ``write=False`` nothing is written, not even the folder)."""
    path = cache_dir(create=write) / filename
    if path.exists():
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            pass   # unreadable (e.g. from a crashed older version without atomic writes): rebuild below
    arr = build()
    if not write:
        return arr
    def save(tmp: Path) -> None:
        with open(tmp, "wb") as fh:  # a file object: np.save would append ".npy" to a temporary file's name
            np.save(fh, arr, allow_pickle=False)

    atomic_write(path, save)
    return arr


def _fingerprint(ds: GroundTruthDataset) -> dict:
    return {"name": ds.name, "factor_sizes": np.asarray(ds.factor_sizes, dtype=np.int64),
            "render_version": str(getattr(ds, "render_version", "0")), "seed": int(getattr(ds, "seed", 0))}


def default_cache_path(ds: GroundTruthDataset) -> Path:
    fp = _fingerprint(ds)
    return cache_dir() / f"{fp['name']}-v{fp['render_version']}-seed{fp['seed']}.h5"


def write_grid_h5(ds: GroundTruthDataset, path: Path, *, chunk: int = 4096, progress: bool = True) -> Path:
    """Render every image of ``ds`` in grid order into HDF5 ``path`` (dataset ``images`` uint8 (N, 64, 64, C),
    one gzip-compressed chunk per image so random reads decompress one image), atomically
    (:func:`rtc._io.atomic_write`: a killed render leaves a temporary file that the next render removes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(ds)
    shape = (n, ds.image_size, ds.image_size, ds.num_channels)

    def render(tmp: Path) -> None:
        with h5py.File(tmp, "w") as h:
            dset = h.create_dataset("images", shape=shape, dtype=np.uint8, chunks=(1,) + shape[1:],
                                    compression="gzip", compression_opts=1, shuffle=False)
            for k, v in _fingerprint(ds).items():
                h.attrs[k] = v
            with tqdm(total=n, desc=f"rendering {ds.name} grid", unit="img", disable=not progress) as bar:
                for s in range(0, n, chunk):
                    idx = np.arange(s, min(s + chunk, n))
                    dset[s:s + len(idx)] = ds.images(ds.index_to_factors(idx))
                    bar.update(len(idx))
            h.attrs["complete"] = True

    return atomic_write(path, render)


class CachedDataset(GroundTruthDataset):
    """A dataset served from an HDF5 grid file written by :func:`write_grid_h5` (same factors as ``base``)."""

    def __init__(self, base: GroundTruthDataset, path: Path):
        self.base = base
        self.name = base.name
        self.factor_names = base.factor_names
        self.factor_sizes = base.factor_sizes
        self.num_channels = base.num_channels
        self.image_size = base.image_size
        self.seed = getattr(base, "seed", 0)
        self.path = Path(path)
        self.source = f"{getattr(base, 'source', 'procedural')}, cached in {self.path}"
        self._file = h5py.File(self.path, "r")
        self._dset = self._file["images"]
        nbytes = len(self) * self.image_size ** 2 * self.num_channels
        self._memory = self._dset[...] if nbytes <= IN_MEMORY_BYTES else None

    @property
    def factor_values(self):
        return self.base.factor_values

    def _render(self, f: np.ndarray) -> np.ndarray:
        idx = f @ self._strides
        if self._memory is not None:
            return self._memory[idx]
        uniq, inverse = np.unique(idx, return_inverse=True)     # h5py needs increasing indices
        return self._dset[uniq][inverse]

    def close(self) -> None:
        self._file.close()


def _valid_cache(ds: GroundTruthDataset, path: Path) -> str | None:
    """None if ``path`` is a complete cache of ``ds``, else the reason it is not."""
    try:
        with h5py.File(path, "r") as h:
            if not h.attrs.get("complete", False):
                return "incomplete"
            for k, v in _fingerprint(ds).items():
                if not np.array_equal(np.asarray(h.attrs.get(k)), np.asarray(v)):
                    return f"{k} is {h.attrs.get(k)!r}, expected {v!r}"
            want = (len(ds), ds.image_size, ds.image_size, ds.num_channels)
            if "images" not in h or h["images"].shape != want or h["images"].dtype != np.uint8:
                return f"images dataset missing or not uint8 {want}"
    except OSError as exc:
        return f"unreadable ({exc})"
    return None


def cached(ds: GroundTruthDataset, path: Path | None = None, *, progress: bool = True) -> CachedDataset:
    """``ds`` served from an HDF5 cache at ``path`` (default under :func:`cache_dir`), rendering it first if needed.

    A file at the default location that does not match ``ds`` (other renderer version, seed, sizes) or is
    incomplete is re-rendered; an explicit ``path`` that exists but does not match is an error (it may be
    someone's data), naming the file and the mismatch.
    """
    explicit = path is not None
    path = Path(path) if explicit else default_cache_path(ds)
    if path.exists():
        why = _valid_cache(ds, path)
        if why is None:
            return CachedDataset(ds, path)
        if explicit:
            raise DatasetFileError(f"{path}: not a cache of {ds.name} as rendered now: {why}; "
                                   "delete it or pass another path")
    write_grid_h5(ds, path, progress=progress)
    return CachedDataset(ds, path)
