"""Procedural Shapes3D: a small ray-cast room with one object, over the original's factor grid.

Grid (C order, orientation fastest, as in ``3dshapes.h5``): floor hue 10 x wall hue 10 x object hue 10
x scale 8 x shape 4 {cube, cylinder, sphere, capsule} x orientation 15 = 480,000 RGB images, 64x64.
Factor values as in the original: hues ``linspace(0, 0.9, 10)`` (HSV hue, full saturation and value),
scale ``linspace(0.75, 1.25, 8)``, orientation ``linspace(-30, 30, 15)`` degrees.

Scene (world units, y up): floor y = 0; a back wall z = 4 and side walls x = ±4 (one wall hue); the
object stands on the floor at the origin (cube side 1.0·scale, cylinder radius 0.5·scale and height
1.0·scale, sphere radius 0.5·scale, capsule radius 0.35·scale and total height 1.4·scale). The camera
sits at horizontal distance 4.5, height 1.8, looking at (0, 0.8, 0), field of view 45°; ``orientation`` turns the
camera around the
vertical axis through the object (so floor/wall edges and the cube's faces visibly rotate). One
directional light fixed in the world with ambient 0.35 (Lambert) and a hard shadow of the object.

Rendering is split so that colour costs nothing: geometry depends only on (scale, shape, orientation)
— 480 combinations — and is ray-cast once (2x2 supersampling) into per-pixel weights ``W[m]`` =
coverage x shading for the three materials m = floor, wall, object. An image is then
``Σ_m W[m] · rgb(hue_m)``: a (4096 x 3) by (3 x 3) product per image.
"""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from .base import GroundTruthDataset
from .cache import cached_array
from .raycast import (
    camera_rays,
    hit_box,
    hit_capsule,
    hit_cylinder,
    hit_plane,
    hit_sphere,
    hsv_to_rgb,
    lambert,
    nearest,
)

__all__ = ["Shapes3D", "SHAPES3D_FACTOR_NAMES", "SHAPES3D_FACTOR_SIZES", "SHAPES3D_SHAPES", "render_geometry"]

SHAPES3D_FACTOR_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
SHAPES3D_FACTOR_SIZES = (10, 10, 10, 8, 4, 15)
SHAPES3D_SHAPES = ("cube", "cylinder", "sphere", "capsule")
_HUES = np.linspace(0.0, 0.9, 10)
_SCALES = np.linspace(0.75, 1.25, 8)
_ORIENTATIONS = np.linspace(-30.0, 30.0, 15)
_SS = 2              # supersampling per axis
_LIGHT = np.array([-0.5, 1.0, -0.6]) / np.linalg.norm([-0.5, 1.0, -0.6])
_AMBIENT = 0.35
_ROOM = 4.0
_DIST, _EYE_H, _TARGET_H, _FOV = 4.5, 1.8, 0.8, 45.0


def _object_hit(o, d, shape: int, scale: float):
    s = scale
    if shape == 0:
        return hit_box(o, d, np.array([-0.5 * s, 0.0, -0.5 * s]), np.array([0.5 * s, s, 0.5 * s]))
    if shape == 1:
        return hit_cylinder(o, d, np.array([0.0, 0.5 * s, 0.0]), np.asarray(0.5 * s), np.asarray(0.5 * s), axis=1)
    if shape == 2:
        return hit_sphere(o, d, np.array([0.0, 0.5 * s, 0.0]), np.asarray(0.5 * s))
    r = 0.35 * s
    return hit_capsule(o, d, np.array([0.0, 0.7 * s, 0.0]), np.asarray(r), np.asarray(0.7 * s - r))


def render_geometry(scale_idx: int, shape_idx: int, orient_idx: int, size: int = 64) -> np.ndarray:
    """Material weights (3, size, size) float32 for floor, wall, object (coverage x shading)."""
    th = np.radians(_ORIENTATIONS[orient_idx])
    eye = np.array([_DIST * np.sin(th), _EYE_H, -_DIST * np.cos(th)])
    target = np.array([0.0, _TARGET_H, 0.0])
    d = camera_rays(eye, target, fov_deg=_FOV, size=size, supersample=_SS).reshape(-1, 3)
    o = eye[None, :]
    hits = [(*hit_plane(o, d, np.zeros(3), np.array([0.0, 1.0, 0.0])), 0),
            (*hit_plane(o, d, np.array([0.0, 0.0, _ROOM]), np.array([0.0, 0.0, -1.0])), 1),
            (*hit_plane(o, d, np.array([-_ROOM, 0.0, 0.0]), np.array([1.0, 0.0, 0.0])), 1),
            (*hit_plane(o, d, np.array([_ROOM, 0.0, 0.0]), np.array([-1.0, 0.0, 0.0])), 1),
            (*_object_hit(o, d, shape_idx, _SCALES[scale_idx]), 2)]
    t, n, m = nearest(hits)
    m = np.where(m < 0, 1, m)                                # rays escaping upwards see the wall colour
    t = np.where(np.isfinite(t), t, 0.0)
    shade = lambert(n, _LIGHT, _AMBIENT)
    # hard shadow of the object on the floor and walls
    p = o + t[:, None] * d
    ts, _ = _object_hit(p, np.broadcast_to(_LIGHT, p.shape), shape_idx, _SCALES[scale_idx])
    shade = np.where((m != 2) & np.isfinite(ts), _AMBIENT, shade)
    w = np.zeros((3, d.shape[0]))
    for k in range(3):
        w[k] = np.where(m == k, shade, 0.0)
    w = w.reshape(3, size, _SS, size, _SS).mean(axis=(2, 4))          # box filter = pixel coverage
    return w.astype(np.float32)


_GEOMETRY_CACHE: dict[str, np.ndarray] = {}


class Shapes3D(GroundTruthDataset):
    """Procedural Shapes3D (see module docstring); images uint8 (n, 64, 64, 3)."""

    name = "shapes3d"
    factor_names = SHAPES3D_FACTOR_NAMES
    factor_sizes = SHAPES3D_FACTOR_SIZES
    num_channels = 3
    image_size = 64
    render_version = "1"   # bump when the images change (invalidates caches)

    def __init__(self, seed: int = 0, *, save_geometry: bool = False):
        """``save_geometry``: save the ray-cast geometry (24 MB) to the cache folder for later processes; without
        it nothing is written (a geometry file left there earlier is still read)."""
        self.seed = seed   # the renderer is deterministic
        self.save_geometry = bool(save_geometry)
        self._geom = _GEOMETRY_CACHE.get("geom")
        self._colours = hsv_to_rgb(_HUES, np.ones(10), np.ones(10)).astype(np.float32)    # (10, 3)

    @property
    def factor_values(self) -> tuple[np.ndarray, ...]:
        return (_HUES, _HUES, _HUES, _SCALES, np.arange(4.0), _ORIENTATIONS)

    def _geometry(self) -> np.ndarray:
        """(8, 4, 15, 3, 64*64) material weights; ray-cast on first use (~10 s), kept per process and, with
        ``save_geometry``, in the cache folder."""
        if self._geom is None:
            if "geom" not in _GEOMETRY_CACHE:
                def build():
                    g = np.zeros((8, 4, 15, 3, 64 * 64), dtype=np.float32)
                    for a, b, c in tqdm(list(np.ndindex(8, 4, 15)), desc="shapes3d geometry (once)", leave=False):
                        g[a, b, c] = render_geometry(a, b, c).reshape(3, -1)
                    return g
                # 24 MB, reused across processes: saves the ~10 s ray-cast on every start
                _GEOMETRY_CACHE["geom"] = cached_array(f"shapes3d-geometry-v{self.render_version}.npy", build,
                                                       write=self.save_geometry)
            self._geom = _GEOMETRY_CACHE["geom"]
        return self._geom

    def _render(self, f: np.ndarray) -> np.ndarray:
        g = self._geometry()[f[:, 3], f[:, 4], f[:, 5]]                      # (n, 3 materials, 4096)
        col = self._colours[f[:, :3]]                                         # (n, 3 materials, 3 rgb)
        # batched (4096 x 3) @ (3 x 3) products: numpy's matmul measured 2-4x faster than einsum and than
        # torch.bmm at batch 64 (torch's threads stall on a busy machine), with identical results
        img = np.matmul(g.transpose(0, 2, 1), col)                            # (n, 4096, 3)
        np.clip(img, 0.0, 1.0, out=img)
        img *= 255.0
        img += 0.5                                                            # round to nearest on the cast
        return img.astype(np.uint8).reshape(len(f), 64, 64, 3)
