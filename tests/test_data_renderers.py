"""Procedural Shapes3D and the Cars3D stand-in: each factor does what its name says, nothing else is random."""
import colorsys

import numpy as np
import pytest

from rtc.data.cars3d import Cars3DStandIn, car_parameters
from rtc.data.raycast import hit_box, hit_cylinder, hit_sphere, hsv_to_rgb
from rtc.data.shapes3d import Shapes3D, render_geometry


# ----------------------------------------------------------------------------- ray caster known answers
def test_ray_primitives_known_distances():
    o = np.zeros(3)
    d = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.6, 0.0, 0.8]])
    t, n = hit_sphere(o, d, np.array([0.0, 0.0, 5.0]), np.asarray(1.0))
    assert t[0] == pytest.approx(4.0) and np.isinf(t[1])
    assert np.allclose(n[0], [0, 0, -1])
    t, n = hit_box(o, d, np.array([-1.0, -1.0, 2.0]), np.array([1.0, 1.0, 3.0]))
    assert t[0] == pytest.approx(2.0) and np.isinf(t[1]) and np.allclose(n[0], [0, 0, -1])
    # ray (0.6, 0, 0.8) enters the box through the face x = 1 at t = 1/0.6 (z = 1.33 < 2: misses) -> inf
    assert np.isinf(t[2])
    for axis in range(3):
        t, _ = hit_cylinder(o, d[:1], np.array([0.0, 0.0, 5.0]), np.asarray(1.0), np.asarray(1.0), axis=axis)
        assert t[0] == pytest.approx(4.0)           # side (axis 0, 1) or cap (axis 2): both at z = 4


def test_hsv_to_rgb_matches_colorsys():
    rng = np.random.default_rng(0)
    hsv = rng.uniform(size=(50, 3))
    ours = hsv_to_rgb(hsv[:, 0], hsv[:, 1], hsv[:, 2])
    ref = np.array([colorsys.hsv_to_rgb(*row) for row in hsv])
    assert np.allclose(ours, ref, atol=1e-12)        # both exact formulas; float64 rounding only


# ----------------------------------------------------------------------------- Shapes3D
@pytest.fixture(scope="module")
def s3():
    return Shapes3D()


def test_shapes3d_hue_factors_colour_only_their_material(s3):
    base = np.array([[0, 3, 6, 7, 0, 7]])
    g = render_geometry(7, 0, 7)                                    # (3 materials, 64, 64) weights
    only = [(g[m] > 0) & (g.sum(0) == g[m]) for m in range(3)]     # pixels of one material only
    a = s3.images(base)[0].astype(int)
    for k, m in ((0, 0), (1, 1), (2, 2)):                           # floor hue, wall hue, object hue
        f = base.copy()
        f[0, k] = 1
        diff = (s3.images(f)[0].astype(int) != a).any(-1)
        assert diff[only[m]].mean() > 0.95, "the factor's material must change colour"
        for other in set(range(3)) - {m}:
            assert not diff[only[other]].any(), "other materials must keep their colour"


def test_shapes3d_object_grows_with_scale(s3):
    for shape in range(4):
        cover = [render_geometry(sc, shape, 7)[2].sum() for sc in range(8)]
        assert np.all(np.diff(cover) > 0)
        # the silhouette area grows ~ scale² (perspective distorts a little: 15 % tolerance)
        assert cover[-1] / cover[0] == pytest.approx((1.25 / 0.75) ** 2, rel=0.15)


def test_shapes3d_shapes_differ_and_orientation_turns_the_room(s3):
    obj = [render_geometry(7, s, 7)[2] > 0.5 for s in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert (obj[i] != obj[j]).sum() > 10
    # orientation turns the camera: at 0° only the back wall fills the top row; turning left (negative
    # angles) brings the left side wall into view, turning right the right one, more of it the further.
    def side_wall_columns(o):
        w = render_geometry(7, 2, o)[1][5]                        # wall weights along image row 5
        other = np.abs(w - w[32]) > 0.02                          # shaded unlike the back wall (centre)
        return int(other[:32].sum()), int(other[32:].sum())
    assert side_wall_columns(7) == (0, 0)
    left = [side_wall_columns(o)[0] for o in range(7)]            # -30° ... -4.3°
    right = [side_wall_columns(o)[1] for o in range(8, 15)]       # +4.3° ... +30°
    assert left[0] > 0 and right[-1] > 0
    assert np.all(np.diff(left) <= 0) and np.all(np.diff(right) >= 0)


def test_shapes3d_every_factor_changes_the_image_and_is_deterministic(s3):
    base = s3.sample_factors(40, 2)
    a = s3.images(base)
    for k, size in enumerate(s3.factor_sizes):
        g = base.copy()
        g[:, k] = (g[:, k] + 1) % size
        assert (s3.images(g) != a).reshape(40, -1).any(1).all(), s3.factor_names[k]
    assert np.array_equal(a, Shapes3D(seed=7).images(base))
    assert np.array_equal(a[5:6], s3.images(base[5:6]))


# ----------------------------------------------------------------------------- Cars3D stand-in
@pytest.fixture(scope="module")
def cars():
    return Cars3DStandIn()


def test_cars_parameters_seeded():
    a, b, c = car_parameters(183, 0), car_parameters(183, 0), car_parameters(183, 1)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["length"], c["length"])
    assert np.all((a["length"] >= 3.6) & (a["length"] <= 4.8))


def test_cars_white_background_and_a_car_in_the_middle(cars):
    f = cars.sample_factors(24, 1)
    im = cars.images(f).astype(int)
    corners = im[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert np.all(corners == 255)
    assert np.all((im[:, 24:40, 24:40] < 250).any(-1).mean(axis=(1, 2)) > 0.3)


def test_cars_every_factor_changes_the_image_and_nothing_else_is_random(cars):
    base = cars.sample_factors(16, 4)
    a = cars.render_uncached(base)
    for k, size in enumerate(cars.factor_sizes):
        g = base.copy()
        g[:, k] = (g[:, k] + 1) % size
        assert (cars.images(g) != a).reshape(16, -1).any(1).all(), cars.factor_names[k]
    assert np.array_equal(a, cars.images(base))                      # memo == fresh render
    assert np.array_equal(a[3:4], Cars3DStandIn().render_uncached(base[3:4]))
    assert not np.array_equal(a, Cars3DStandIn(seed=1).render_uncached(base))   # seed draws other cars


def test_cars_half_turn_mirrors_the_silhouette_of_a_symmetric_car(cars):
    # Azimuth 180° views the car from the other side; the stand-in's cars are left-right symmetric (z -> -z),
    # so at the side view (azimuth 90° vs 270°) the silhouette is the mirror image.
    f = np.array([[0, 6, 10], [0, 18, 10]])
    a, b = (cars.render_uncached(f).astype(int) < 250).any(-1)
    assert (a != b[:, ::-1]).sum() <= 0.02 * a.sum()    # 2 %: ±1-pixel rounding at the silhouette's edge


def test_shapes3d_geometry_cache_matches_a_fresh_ray_cast(s3):
    # The geometry bank comes from .cache/rtc when present; a stale file (renderer changed without bumping
    # render_version) would show here. float32 storage of the same float64 computation: exact equality.
    g = s3._geometry()
    for a, b, c in [(0, 0, 0), (7, 3, 14), (3, 1, 6)]:
        assert np.array_equal(g[a, b, c], render_geometry(a, b, c).reshape(3, -1))
