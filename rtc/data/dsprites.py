"""Procedural dSprites: 64x64 binary sprites over the original's factor grid.

Grid (C order, last fastest, as in ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` minus the
constant colour factor): shape 3 {square, ellipse, heart} x scale 6 (0.5 ... 1) x orientation 40
(2πk/40, k = 0..39) x posX 32 x posY 32 = 737,280 images.

Geometry (chosen so that pixel counts can be checked by hand):

- pixel (row i, col j) covers [j, j+1] x [i, i+1]; a pixel is on iff more than half of its 5x5
  sub-pixel samples fall inside the shape (binary, like the original).
- the sprite centre sits on a pixel corner, at (x, y) = (16 + posX, 16 + posY) pixels, so
  positions step by exactly 1 pixel and the centre ranges over [16, 47] (posY grows downwards).
- unit length R = 10 px x scale. Square: half side R (side 20 px at scale 1, axis aligned at
  orientation 0, covering exactly (20·scale)² pixels since all sides are even). Ellipse: semi-axes
  1.2R (horizontal at orientation 0) and 0.6R. Heart: the curve (x²+y²−1)³ = x²y³, scaled to a
  height of ~2.1R and centred on its bounding box. Orientation rotates counter-clockwise.
- every sprite fits a 32x32 window around its centre (largest radius: 14.1 px, the square's
  half-diagonal), so rendering is: draw the 720 (shape, scale, orientation) sprites once into
  32x32 windows (the "bank"), then paste windows at integer offsets — a gather, no per-image maths.

Differences from the original (stated, not hidden): the original orientation grid is
``linspace(0, 2π, 40)`` (first and last value both 0 = 2π); here it is 2πk/40, so all 40 orientations
are distinct; sprite sizes and position range are close to, not identical with, the original's.
"""
from __future__ import annotations

import numpy as np

from .base import GroundTruthDataset

__all__ = ["DSprites", "DSPRITES_FACTOR_NAMES", "DSPRITES_FACTOR_SIZES", "SHAPES", "render_sprite_bank"]

DSPRITES_FACTOR_NAMES = ("shape", "scale", "orientation", "posX", "posY")
DSPRITES_FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")
_WINDOW = 32          # sprite window (px); centre at (16, 16) = a pixel corner
_UNIT = 10.0          # R at scale 1 (px)
_SUB = 5              # sub-pixel samples per axis; odd, so coverage (k/25) never ties with the 0.5 threshold


def _heart_inside(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inside test of the heart curve (x²+y²−1)³ − x²y³ <= 0 (y up), height normalised to ~2.1, bbox-centred."""
    # The raw curve spans x in [-1.139, 1.139], y in [-1, 1.236] (measured numerically); centre its bbox
    # and scale so its height 2.236 becomes 2.1 units (comparable to the square's 2).
    s = 2.236 / 2.1
    x = u * s
    y = v * s + 0.118
    return (x * x + y * y - 1.0) ** 3 - x * x * y ** 3 <= 0.0


def render_sprite_bank() -> np.ndarray:
    """All (shape, scale, orientation) sprites: bool (3, 6, 40, 32, 32); window centre = sprite centre."""
    sub = (np.arange(_WINDOW * _SUB) + 0.5) / _SUB - _WINDOW / 2          # sub-sample centres, px from centre
    x = sub[None, :]
    y = -sub[:, None]                                                       # y up
    scales = np.linspace(0.5, 1.0, 6)
    angles = 2 * np.pi * np.arange(40) / 40
    bank = np.zeros((3, 6, 40, _WINDOW, _WINDOW), dtype=bool)
    for si, sc in enumerate(scales):
        r = _UNIT * sc
        for oi, th in enumerate(angles):
            c, s = np.cos(th), np.sin(th)
            u = (c * x + s * y) / r                                         # rotate by -θ into the shape frame
            v = (-s * x + c * y) / r
            masks = (
                (np.abs(u) <= 1.0) & (np.abs(v) <= 1.0),
                (u / 1.2) ** 2 + (v / 0.6) ** 2 <= 1.0,
                _heart_inside(u, v),
            )
            for hi, m in enumerate(masks):
                cov = m.reshape(_WINDOW, _SUB, _WINDOW, _SUB).mean(axis=(1, 3))
                bank[hi, si, oi] = cov >= 0.5
    return bank


_BANK_CACHE: dict[str, np.ndarray] = {}


class DSprites(GroundTruthDataset):
    """Procedural dSprites (see module docstring); images uint8 {0, 255}, shape (n, 64, 64, 1)."""

    name = "dsprites"
    factor_names = DSPRITES_FACTOR_NAMES
    factor_sizes = DSPRITES_FACTOR_SIZES
    num_channels = 1
    image_size = 64
    render_version = "1"   # bump when the images change (invalidates caches)

    def __init__(self, seed: int = 0):
        # The renderer is deterministic; ``seed`` is accepted for interface uniformity.
        self.seed = seed
        if "bank" not in _BANK_CACHE:
            _BANK_CACHE["bank"] = render_sprite_bank().reshape(-1, _WINDOW, _WINDOW).astype(np.uint8) * 255
        self._bank = _BANK_CACHE["bank"]
        a = np.arange(_WINDOW)
        self._win_offsets = (a[:, None] * 64 + a[None, :]).ravel()          # (1024,) flat offsets in the canvas

    @property
    def factor_values(self) -> tuple[np.ndarray, ...]:
        return (np.array([1.0, 2.0, 3.0]), np.linspace(0.5, 1.0, 6), 2 * np.pi * np.arange(40) / 40,
                np.linspace(0.0, 1.0, 32), np.linspace(0.0, 1.0, 32))

    def _render(self, f: np.ndarray) -> np.ndarray:
        n = len(f)
        sprite = (f[:, 0] * 6 + f[:, 1]) * 40 + f[:, 2]
        top_left = f[:, 4] * 64 + f[:, 3]                                   # window origin = (posY, posX)
        out = np.zeros((n, 64 * 64), dtype=np.uint8)
        np.put_along_axis(out, top_left[:, None] + self._win_offsets[None, :],
                          self._bank[sprite].reshape(n, -1), axis=1)
        return out.reshape(n, 64, 64, 1)
