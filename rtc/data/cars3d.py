"""A Cars3D STAND-IN: procedurally generated car-like objects over the original Cars3D pose grid.

This is not Cars3D (Reed et al. 2015; 183 CAD car models). It keeps the original's factor grid —
elevation 4 x azimuth 24 x object 183 = 17,568 RGB images, 64x64 — and replaces the CAD models by
183 parametric "cars" drawn from a seeded generator: a body box, a cabin box, four wheels
(cylinders), and a body colour. Per object (uniform draws unless stated):

- body length L ∈ [3.6, 4.8], width ∈ [1.6, 2.0], height ∈ [0.45, 0.8]
- cabin length ∈ [0.35, 0.6]·L, height ∈ [0.35, 0.65], centre offset ∈ [−0.15, 0.1]·L, width 0.84 x body
- wheel radius ∈ [0.28, 0.42], wheelbase ∈ [0.55, 0.7]·L, wheel width 0.25
- body colour: HSV hue ∈ [0, 1), saturation ∈ [0.35, 0.95] (0.05 — a grey car — with probability 0.2),
  value ∈ [0.45, 0.95]

Poses: elevation ``(10, 20, 30, 40)`` degrees, azimuth ``15·k`` degrees (k = 0..23); the camera looks at
the car from distance 10 (field of view 30°), so all cars are shown at one scale and their sizes
differ. White background, no floor (as in Cars3D); Lambert shading with a light above the camera,
ambient 0.4; 2x2 supersampling on material edges. Materials: body (its colour), cabin (dark glass), wheels (near
black). Grid order (C order, object fastest): (elevation, azimuth, object).
"""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from .base import GroundTruthDataset
from .raycast import camera_basis, hit_box, hit_cylinder, hsv_to_rgb, image_plane, lambert, nearest

__all__ = ["Cars3DStandIn", "CARS3D_FACTOR_NAMES", "CARS3D_FACTOR_SIZES", "car_parameters"]

CARS3D_FACTOR_NAMES = ("elevation", "azimuth", "object")
CARS3D_FACTOR_SIZES = (4, 24, 183)
_ELEVATIONS = np.array([10.0, 20.0, 30.0, 40.0])
_AZIMUTHS = 15.0 * np.arange(24)
_FOV = 30.0
_AMBIENT = 0.4
_GLASS = np.array([0.16, 0.2, 0.26])
_TYRE = np.array([0.07, 0.07, 0.07])
_BACKGROUND = 1.0
_CHUNK = 64          # images ray-cast at once (bounds the temporaries to ~100 MB)


def car_parameters(num_objects: int = 183, seed: int = 0) -> dict[str, np.ndarray]:
    """The stand-in's per-object parameters (arrays of length ``num_objects``), deterministic in ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA53D]))
    u = lambda lo, hi: rng.uniform(lo, hi, num_objects)   # noqa: E731
    L = u(3.6, 4.8)
    p = dict(length=L, width=u(1.6, 2.0), body_h=u(0.45, 0.8), cabin_len=u(0.35, 0.6) * L, cabin_h=u(0.35, 0.65),
             cabin_off=u(-0.15, 0.1) * L, wheel_r=u(0.28, 0.42), wheelbase=u(0.55, 0.7) * L,
             hue=u(0.0, 1.0), sat=np.where(rng.uniform(size=num_objects) < 0.2, 0.05, u(0.35, 0.95)),
             val=u(0.45, 0.95))
    p["colour"] = hsv_to_rgb(p["hue"], p["sat"], p["val"])
    return p


def _trace(params, eye, fwd, right, up, light, img_of, u, v):
    """Colour (R, 3) and material (R,) of rays through image-plane points (u, v) of images ``img_of`` (R,)."""
    d = fwd[img_of] + u[:, None] * right[img_of] + v[:, None] * up[img_of]
    o = eye[img_of]
    g = lambda a: np.asarray(a)[img_of]                                       # noqa: E731  per-ray parameter
    z3 = lambda x, y, z: np.stack([g(x), g(y), g(z)], -1)                     # noqa: E731  (R, 3)
    n = len(eye)
    r, L, W = params["wheel_r"], params["length"], params["width"]
    clear = 0.7 * r
    body_top = clear + params["body_h"]
    hits = [(*hit_box(o, d, z3(-L / 2, clear, -W / 2), z3(L / 2, body_top, W / 2)), 0)]
    cx, cl, cw = params["cabin_off"], params["cabin_len"], 0.42 * W
    hits.append((*hit_box(o, d, z3(cx - cl / 2, body_top - 1e-3, -cw),
                          z3(cx + cl / 2, body_top + params["cabin_h"], cw)), 1))
    for sx in (-0.5, 0.5):
        for sz in (-1.0, 1.0):
            centre = z3(sx * params["wheelbase"], r, sz * (W / 2 - 0.1) + np.zeros(n))
            hits.append((*hit_cylinder(o, d, centre, g(r), np.full(len(o), 0.125), axis=2), 2))
    _, nrm, m = nearest(hits)
    shade = lambert(nrm, light[img_of], _AMBIENT)[..., None]                  # (R, 1)
    rgb = np.where((m == 0)[..., None], shade * params["colour"][img_of], 0.0)
    rgb = rgb + np.where((m == 1)[..., None], shade * _GLASS, 0.0)
    rgb = rgb + np.where((m == 2)[..., None], shade * _TYRE, 0.0)
    rgb = rgb + np.where((m < 0)[..., None], _BACKGROUND, 0.0)
    return rgb, m


def render_cars(params: dict[str, np.ndarray], elevation_deg: np.ndarray, azimuth_deg: np.ndarray,
                size: int = 64) -> np.ndarray:
    """float32 RGB images (n, size, size, 3) in [0, 1]; ``params`` entries are per image (length n).

    Two passes, for speed: (1) one ray per pixel centre, only inside the screen rectangle of the car's
    projected bounding box (~30 % of the pixels; outside it every ray sees the background); (2) pixels on a
    material edge (their material differs from a 4-neighbour's) are re-traced with 2x2 sub-pixel rays and
    averaged (anti-aliasing where it shows, at ~1/3 of the cost of supersampling every pixel).
    """
    n = len(elevation_deg)
    el = np.radians(elevation_deg)
    az = np.radians(azimuth_deg)
    r = params["wheel_r"]
    body_top = 0.7 * r + params["body_h"]
    L, W = params["length"], params["width"]
    top = body_top + params["cabin_h"]
    target = np.stack([np.zeros(n), 0.5 * (body_top + params["cabin_h"]), np.zeros(n)], -1)
    eye = target + 10.0 * np.stack([np.cos(el) * np.cos(az), np.sin(el), np.cos(el) * np.sin(az)], -1)
    fwd, right, up = camera_basis(eye, target)
    light = fwd * -1.0 + np.array([0.0, 0.8, 0.0])                            # above the camera
    light /= np.linalg.norm(light, axis=-1, keepdims=True)
    # screen rectangle of the bounding box (8 corners, all in front of the camera)
    corners = np.stack(np.meshgrid([0, 1], [0, 1], [0, 1], indexing="ij"), -1).reshape(8, 3)
    lo = np.stack([-L / 2, np.zeros(n), -W / 2 - 0.05], -1)                 # wheels stick out 0.025 sideways
    hi = np.stack([L / 2, top, W / 2 + 0.05], -1)
    rel = lo[:, None, :] + corners[None] * (hi - lo)[:, None, :] - eye[:, None, :]       # (n, 8, 3)
    depth = np.einsum("nkc,nc->nk", rel, fwd)
    u = np.einsum("nkc,nc->nk", rel, right) / depth
    v = np.einsum("nkc,nc->nk", rel, up) / depth
    s = image_plane(_FOV, size)
    keep_col = (s[None, :] >= u.min(1)[:, None]) & (s[None, :] <= u.max(1)[:, None])    # (n, size)
    keep_row = (-s[None, :] >= v.min(1)[:, None]) & (-s[None, :] <= v.max(1)[:, None])
    img_of, row_of, col_of = np.nonzero(keep_row[:, :, None] & keep_col[:, None, :])
    args = (params, eye, fwd, right, up, light)
    rgb = np.full((n, size, size, 3), _BACKGROUND)
    mat = np.full((n, size, size), -1, dtype=np.int64)
    rgb[img_of, row_of, col_of], mat[img_of, row_of, col_of] = _trace(*args, img_of, s[col_of], -s[row_of])
    # pass 2: anti-alias material edges
    edge = np.zeros(mat.shape, dtype=bool)
    dv, dh = mat[:, 1:] != mat[:, :-1], mat[:, :, 1:] != mat[:, :, :-1]
    edge[:, 1:] |= dv
    edge[:, :-1] |= dv
    edge[:, :, 1:] |= dh
    edge[:, :, :-1] |= dh
    ei, er, ec = np.nonzero(edge)
    q = (s[1] - s[0]) / 4                                                    # quarter pixel pitch
    acc = np.zeros((len(ei), 3))
    for du, dw in ((-q, -q), (-q, q), (q, -q), (q, q)):
        acc += _trace(*args, ei, s[ec] + du, -s[er] + dw)[0]
    rgb[ei, er, ec] = acc / 4
    return rgb.astype(np.float32)


class Cars3DStandIn(GroundTruthDataset):
    """The Cars3D stand-in (see module docstring); images uint8 (n, 64, 64, 3). ``seed`` draws the 183 cars."""

    name = "cars3d"
    factor_names = CARS3D_FACTOR_NAMES
    factor_sizes = CARS3D_FACTOR_SIZES
    num_channels = 3
    image_size = 64
    render_version = "1"   # bump when the images change (invalidates caches)
    source = "procedural stand-in (not the Cars3D CAD models)"

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.params = car_parameters(CARS3D_FACTOR_SIZES[2], seed)
        # Memo of rendered images (the ray caster runs at ~10^2 images/s, far below training speed, so each
        # image is rendered once per process). np.zeros maps pages lazily: memory grows with use, to 216 MB.
        self._memo = np.zeros((len(self), 64, 64, 3), dtype=np.uint8)
        self._done = np.zeros(len(self), dtype=bool)

    @property
    def factor_values(self) -> tuple[np.ndarray, ...]:
        return (_ELEVATIONS, _AZIMUTHS, np.arange(183.0))

    def _render(self, f: np.ndarray) -> np.ndarray:
        idx = f @ self._strides
        todo = np.unique(idx[~self._done[idx]])
        if len(todo):
            self._memo[todo] = self.render_uncached(self.index_to_factors(todo))
            self._done[todo] = True
        return self._memo[idx]

    def render_uncached(self, f: np.ndarray) -> np.ndarray:
        """Ray-cast images for validated factors (n, 3) without touching the memo (for benchmarks and tests)."""
        out = np.empty((len(f), 64, 64, 3), dtype=np.uint8)
        # a progress bar only for big requests (e.g. a whole grid or 5,000 images for a metric): ~1-2 min
        for s in tqdm(range(0, len(f), _CHUNK), desc="ray-casting cars3d stand-in", unit_scale=_CHUNK,
                      disable=len(f) <= 1024, leave=False):
            g = f[s:s + _CHUNK]
            p = {k: v[g[:, 2]] for k, v in self.params.items()}
            img = render_cars(p, _ELEVATIONS[g[:, 0]], _AZIMUTHS[g[:, 1]])
            out[s:s + _CHUNK] = (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        return out
