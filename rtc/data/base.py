"""The ground-truth dataset interface shared by training and the metrics.

A ground-truth dataset is a full factorial grid of discrete factors of variation (sizes
``factor_sizes``, C order: the LAST factor varies fastest, as in the original files) and one
image per grid point. Every concrete dataset only has to implement :meth:`_render`
(``(n, F)`` int64 grid indices -> ``(n, 64, 64, C)`` uint8); this class provides validation,
sampling, index <-> factor conversion and torch conversion on any device.

Storage convention: images are uint8 in 0..255 (binary dSprites uses 0 and 255); the float
observations are ``images / 255`` in [0, 1], NCHW, float32.
"""
from __future__ import annotations

import numpy as np
import torch

from rtc._validate import is_integer

__all__ = ["GroundTruthDataset", "DatasetFileError", "as_rng"]


class DatasetFileError(ValueError):
    """A real dataset file that is missing, corrupted, or not in the expected format (message names the file)."""


def as_rng(rng) -> np.random.Generator:
    """``np.random.Generator`` from a Generator (returned as is), an int seed, or None (seed 0, for determinism)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    if is_integer(rng):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator or an int seed, got {type(rng).__name__}")


class GroundTruthDataset:
    """Base class: a factor grid plus a renderer. Subclasses set the class attributes and ``_render``.

    Attributes:
        name: dataset name, e.g. ``"dsprites"``.
        factor_names: one name per factor, in grid order.
        factor_sizes: number of values per factor; ``len(ds) == prod(factor_sizes)``.
        factor_values: per factor, the physical value of each grid index (float64 arrays), for plots/regression.
        num_channels: 1 (binary/grey) or 3 (RGB).
        image_size: 64.
    """

    name: str = "?"
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    num_channels: int = 1
    image_size: int = 64
    source: str = "procedural"   # or the path of the real file(s) it was loaded from

    # ----------------------------------------------------------------- grid bookkeeping
    @property
    def num_factors(self) -> int:
        return len(self.factor_sizes)

    def __len__(self) -> int:
        return int(np.prod(self.factor_sizes, dtype=np.int64))

    @property
    def _strides(self) -> np.ndarray:
        # C order: stride of factor k = prod(sizes[k+1:]).
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)
        return np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int64)

    def check_factors(self, factors, *, argname: str = "factors") -> np.ndarray:
        """``factors`` as an (n, F) int64 array, or ValueError naming what is wrong (shape, dtype, range)."""
        f = np.asarray(factors)
        if f.ndim == 1 and f.shape[0] == self.num_factors:
            raise ValueError(f"{self.name}: {argname} must be 2-D (n, {self.num_factors}); got shape {f.shape} "
                             f"(wrap a single row as factors[None])")
        if f.ndim != 2 or f.shape[1] != self.num_factors:
            raise ValueError(f"{self.name}: {argname} must have shape (n, {self.num_factors}) for factors "
                             f"{self.factor_names}; got shape {f.shape}")
        if f.size and not np.issubdtype(f.dtype, np.integer):
            if np.issubdtype(f.dtype, np.floating) and np.all(np.isfinite(f)) and np.all(f == np.round(f)):
                pass   # integral floats are accepted (e.g. from a float array of indices)
            else:
                raise ValueError(f"{self.name}: {argname} must hold integer grid indices; got dtype {f.dtype}")
        f = f.astype(np.int64, copy=False)
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)
        bad = (f < 0) | (f >= sizes)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(f"{self.name}: {argname}[{row}, {col}] = {f[row, col]} is out of range for factor "
                             f"{self.factor_names[col]!r} (size {sizes[col]})")
        return f

    def index_to_factors(self, idx) -> np.ndarray:
        """Flat grid indices (n,) -> factor indices (n, F) int64 (C order)."""
        i = np.asarray(idx)
        if i.ndim != 1 or (i.size and not np.issubdtype(i.dtype, np.integer)):
            raise ValueError(f"{self.name}: idx must be a 1-D integer array; got shape {i.shape}, dtype {i.dtype}")
        i = i.astype(np.int64, copy=False)
        if i.size and (i.min() < 0 or i.max() >= len(self)):
            raise ValueError(f"{self.name}: idx must lie in [0, {len(self)}); got range [{i.min()}, {i.max()}]")
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)
        return (i[:, None] // self._strides) % sizes

    def factors_to_index(self, factors) -> np.ndarray:
        """Factor indices (n, F) -> flat grid indices (n,) int64 (C order)."""
        return self.check_factors(factors) @ self._strides

    # ----------------------------------------------------------------- sampling
    def sample_factors(self, n: int, rng) -> np.ndarray:
        """(n, F) int64 grid indices, each factor independently uniform over its values (= uniform over the grid)."""
        rng = as_rng(rng)
        n = int(n)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return np.stack([rng.integers(0, s, size=n, dtype=np.int64) for s in self.factor_sizes], axis=1) \
            if n else np.zeros((0, self.num_factors), dtype=np.int64)

    def sample_pairs_sharing_factor(self, n: int, factor: int | str, rng) -> tuple[np.ndarray, np.ndarray]:
        """Two (n, F) factor arrays, uniform except that column ``factor`` is equal in each pair
        (BetaVAE/FactorVAE-style scores)."""
        rng = as_rng(rng)
        k = self.factor_index(factor)
        a = self.sample_factors(n, rng)
        b = self.sample_factors(n, rng)
        b[:, k] = a[:, k]
        return a, b

    def factor_index(self, factor: int | str) -> int:
        """Column of a factor given by name or index."""
        if isinstance(factor, str):
            if factor not in self.factor_names:
                raise ValueError(f"{self.name}: unknown factor {factor!r}; factors are {self.factor_names}")
            return self.factor_names.index(factor)
        k = int(factor)
        if not 0 <= k < self.num_factors:
            raise ValueError(f"{self.name}: factor index {k} out of range [0, {self.num_factors})")
        return k

    # ----------------------------------------------------------------- images
    def _render(self, factors: np.ndarray) -> np.ndarray:   # pragma: no cover - abstract
        raise NotImplementedError

    def images(self, factors) -> np.ndarray:
        """uint8 images (n, 64, 64, C) for validated factor indices (n, F)."""
        f = self.check_factors(factors)
        if len(f) == 0:
            return np.zeros((0, self.image_size, self.image_size, self.num_channels), dtype=np.uint8)
        out = self._render(f)
        assert out.shape == (len(f), self.image_size, self.image_size, self.num_channels) and out.dtype == np.uint8
        return out

    def observations(self, factors, device=None) -> torch.Tensor:
        """float32 (n, C, 64, 64) in [0, 1] (= uint8 / 255, correctly rounded) on ``device`` (default CPU).

        On the CPU the conversion runs in numpy: torch's multi-threaded element-wise ops stall on a busy
        shared machine (measured 60x slower with 2 threads under load). On another device the uint8 images
        travel (4x fewer bytes) and are converted there.
        """
        img = self.images(factors)
        dev = torch.device(device) if device is not None else torch.device("cpu")
        if dev.type == "cpu":
            x = np.ascontiguousarray(img.transpose(0, 3, 1, 2)).astype(np.float32)
            np.divide(x, np.float32(255.0), out=x)
            return torch.from_numpy(x)
        x = torch.from_numpy(img).to(dev, non_blocking=True)
        return x.permute(0, 3, 1, 2).float().div_(255.0).contiguous()

    def sample_observations(self, n: int, rng, device=None) -> tuple[np.ndarray, torch.Tensor]:
        """(factors (n, F) int64, observations float32 (n, C, 64, 64)) for uniformly sampled factors."""
        f = self.sample_factors(n, rng)
        return f, self.observations(f, device=device)

    def __repr__(self) -> str:
        grid = " x ".join(f"{n} {s}" for n, s in zip(self.factor_names, self.factor_sizes, strict=True))
        return (f"<{type(self).__name__} {self.name!r}: {grid} = {len(self):,} images, C={self.num_channels}, "
                f"{self.source}>")
