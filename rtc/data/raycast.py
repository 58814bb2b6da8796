"""A tiny vectorized ray caster (numpy) for the procedural Shapes3D and Cars3D renderers.

All functions broadcast: ray origins ``o`` and directions ``d`` are (..., 3) arrays (``d`` need not be
unit length; ``t`` is in units of ``|d|``), primitive parameters broadcast against them. Each
intersection returns ``(t, normal)`` with ``t`` (...) the nearest positive hit distance (``inf`` on a
miss) and ``normal`` (..., 3) the outward unit normal at the hit (arbitrary where ``t`` is ``inf``).
World frame: y up.
"""
from __future__ import annotations

import numpy as np

__all__ = ["camera_basis", "image_plane", "camera_rays", "hit_plane", "hit_sphere", "hit_box", "hit_cylinder",
           "hit_capsule", "nearest", "lambert", "hsv_to_rgb"]

_EPS = 1e-4   # minimal hit distance: avoids self-intersection of shadow rays started on a surface


def camera_basis(eye: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit (forward, right, up) vectors, each (..., 3), of a camera at ``eye`` looking at ``target`` (up ≈ +y)."""
    eye = np.asarray(eye, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    fwd = target - eye
    fwd /= np.linalg.norm(fwd, axis=-1, keepdims=True)
    right = np.cross(fwd, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    up = np.cross(right, fwd)
    return fwd, right, up


def image_plane(fov_deg: float, size: int, supersample: int = 1) -> np.ndarray:
    """Image-plane coordinates (size*ss,) of the pixel (sub-)sample centres, left to right / bottom to top."""
    m = size * supersample
    return ((np.arange(m) + 0.5) / m * 2 - 1) * np.tan(np.radians(fov_deg) / 2)


def camera_rays(eye: np.ndarray, target: np.ndarray, fov_deg: float, size: int, supersample: int = 1) -> np.ndarray:
    """Ray directions (..., size*ss, size*ss, 3) of a pinhole camera (image rows top to bottom).

    eye, target: (..., 3) camera positions and look-at points; the camera's up is world +y.
    Ray (row i, col j) = forward + s[j]·right − s[i]·up with s = :func:`image_plane`.
    """
    fwd, right, up = camera_basis(eye, target)
    s = image_plane(fov_deg, size, supersample)
    px = s[None, :, None]                                                 # columns -> right
    py = -s[:, None, None]                                                # rows -> down
    ex = lambda a: a[..., None, None, :]                                  # noqa: E731  (..., 1, 1, 3)
    return ex(fwd) + px * ex(right) + py * ex(up)


def _pos(t: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(t) & (t > _EPS), t, np.inf)


def hit_plane(o, d, point, normal):
    """Plane through ``point`` with (unit) ``normal``; hits from either side, normal returned as given."""
    normal = np.asarray(normal, dtype=np.float64)
    den = np.sum(d * normal, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.sum((np.asarray(point) - o) * normal, axis=-1) / den
    return _pos(t), np.broadcast_to(normal, np.broadcast_shapes(t.shape + (3,), np.shape(normal)))


def hit_sphere(o, d, centre, radius):
    """Sphere; the nearer positive root."""
    oc = o - centre
    a = np.sum(d * d, axis=-1)
    b = np.sum(oc * d, axis=-1)
    c = np.sum(oc * oc, axis=-1) - np.asarray(radius) ** 2
    disc = b * b - a * c
    sq = np.sqrt(np.maximum(disc, 0.0))
    t1, t2 = _pos((-b - sq) / a), _pos((-b + sq) / a)
    t = np.where(disc >= 0, np.minimum(t1, t2), np.inf)
    p = o + np.where(np.isfinite(t), t, 0.0)[..., None] * d
    n = (p - centre) / np.asarray(radius)[..., None]
    return t, n


def hit_box(o, d, lo, hi):
    """Axis-aligned box [lo, hi] (slab method); the normal is the face's axis."""
    shape = np.broadcast_shapes(np.shape(o), np.shape(d), np.shape(lo), np.shape(hi))[:-1]
    t_near = np.full(shape, -np.inf)
    t_far = np.full(shape, np.inf)
    axis = np.zeros(shape, dtype=np.int8)
    sign = np.zeros(shape)
    # Per-axis loop rather than reductions over a trailing axis of length 3 (much slower in numpy).
    for k in range(3):
        dk = d[..., k]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / dk
            ta = (lo[..., k] - o[..., k]) * inv
            tb = (hi[..., k] - o[..., k]) * inv
        lo_t = np.fmin(ta, tb)       # fmin/fmax ignore the NaN of 0·inf (ray parallel to a slab face)
        hi_t = np.fmax(ta, tb)
        better = lo_t > t_near
        t_near = np.where(better, lo_t, t_near)
        axis = np.where(better, k, axis)
        sign = np.where(better, -np.sign(dk), sign)
        t_far = np.fmin(t_far, hi_t)
    hit = (t_near <= t_far) & (t_far > _EPS)
    t = np.where(hit, np.where(t_near > _EPS, t_near, t_far), np.inf)
    n = np.zeros(shape + (3,))
    for k in range(3):
        n[..., k] = np.where(axis == k, sign, 0.0)
    return t, n


def hit_cylinder(o, d, centre, radius, half_height, axis: int = 1):
    """Capped cylinder along coordinate ``axis`` (0 x, 1 y, 2 z) through ``centre``.

    Written per component (no (..., 3) temporaries): it is the hot spot of the Cars3D stand-in.
    """
    b_, c_ = [k for k in range(3) if k != axis]
    ox, oy, oz = o[..., b_] - centre[..., b_], o[..., axis] - centre[..., axis], o[..., c_] - centre[..., c_]
    dx, dy, dz = d[..., b_], d[..., axis], d[..., c_]
    r = np.asarray(radius)
    hh = np.asarray(half_height)
    A = dx * dx + dz * dz
    B = ox * dx + oz * dz
    C = ox * ox + oz * oz - r * r
    disc = B * B - A * C
    sq = np.sqrt(np.maximum(disc, 0.0))
    best = np.full(np.shape(disc), np.inf)
    kind = np.zeros(np.shape(disc), dtype=np.int8)           # 0 side, 1 top cap, 2 bottom cap
    with np.errstate(divide="ignore", invalid="ignore"):
        for root in (-1.0, 1.0):
            t = (-B + root * sq) / A
            ok = (disc >= 0) & (t > _EPS) & (np.abs(oy + t * dy) <= hh) & (t < best)
            best = np.where(ok, t, best)
        for k, sgn in ((1, 1.0), (2, -1.0)):
            t = (sgn * hh - oy) / dy
            qx, qz = ox + t * dx, oz + t * dz
            ok = (t > _EPS) & (qx * qx + qz * qz <= r * r) & (t < best)
            best = np.where(ok, t, best)
            kind = np.where(ok, k, kind)
    tt = np.where(np.isfinite(best), best, 0.0)
    n = np.zeros(best.shape + (3,))
    side = kind == 0
    n[..., b_] = np.where(side, (ox + tt * dx) / r, 0.0)
    n[..., c_] = np.where(side, (oz + tt * dz) / r, 0.0)
    n[..., axis] = np.where(kind == 1, 1.0, np.where(kind == 2, -1.0, 0.0))
    return best, n


def hit_capsule(o, d, centre, radius, half_height):
    """Vertical capsule: a y-cylinder of half height ``half_height`` capped by two spheres of ``radius``."""
    off = np.zeros(3)
    off[1] = 1.0
    hh = np.asarray(half_height)[..., None]
    parts = [hit_cylinder(o, d, centre, radius, half_height, axis=1),
             hit_sphere(o, d, centre + hh * off, radius),
             hit_sphere(o, d, centre - hh * off, radius)]
    # the flat caps of the cylinder lie inside the spheres, so the nearest hit is always correct
    t, n, _ = nearest([(t, n, 0) for t, n in parts])
    return t, n


def nearest(hits):
    """Nearest of several ``(t, normal, material)`` hits: returns (t, normal, material id; -1 = none)."""
    t = np.full(np.shape(hits[0][0]), np.inf)
    n = np.zeros(t.shape + (3,))
    m = np.full(t.shape, -1, dtype=np.int64)
    for tt, nn, mm in hits:
        better = tt < t
        t = np.where(better, tt, t)
        n = np.where(better[..., None], nn, n)
        m = np.where(better, mm, m)
    return t, n, m


def lambert(normal, light_dir, ambient: float):
    """ambient + (1 − ambient)·max(0, n·l), for unit ``light_dir`` pointing towards the light."""
    return ambient + (1 - ambient) * np.clip(np.sum(normal * light_dir, axis=-1), 0.0, None)


def hsv_to_rgb(h, s, v):
    """Vectorized HSV -> RGB, all in [0, 1]; output (..., 3)."""
    h = np.asarray(h, dtype=np.float64) % 1.0
    s = np.asarray(s, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    k = (np.array([5.0, 3.0, 1.0]) + h[..., None] * 6) % 6
    return v[..., None] - v[..., None] * s[..., None] * np.clip(np.minimum(k, 4 - k), 0, 1)
