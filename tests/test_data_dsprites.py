"""Procedural dSprites: hand-checkable geometry (pixel counts, exact translations and rotations)."""
import numpy as np
import pytest

from rtc.data import load_dataset
from rtc.data.dsprites import DSprites


@pytest.fixture(scope="module")
def ds():
    return DSprites()


def _img(ds, shape, scale, orient, x, y):
    return ds.images(np.array([[shape, scale, orient, x, y]]))[0, :, :, 0]


def test_binary_pixels(ds):
    im = ds.images(ds.sample_factors(500, 0))
    assert set(np.unique(im)) <= {0, 255}


@pytest.mark.parametrize("scale_idx", range(6))
def test_square_pixel_count_is_side_squared(ds, scale_idx):
    # Axis-aligned square of side 20·scale px (scale = 0.5 + 0.1 k -> sides 10..20, all even) centred on a
    # pixel corner covers exactly side² whole pixels: an exact count, no tolerance needed.
    side = round(20 * (0.5 + 0.1 * scale_idx))
    im = _img(ds, 0, scale_idx, 0, 7, 11)
    assert (im > 0).sum() == side * side
    rows, cols = np.nonzero(im)
    assert rows.min() == 16 + 11 - side // 2 and cols.min() == 16 + 7 - side // 2     # placed where specified


def test_areas_of_rotated_square_and_ellipse(ds):
    # Binarising at half coverage changes each pixel the boundary cuts by less than 0.5 px of area. A 45°
    # square of side 20 is cut along 4 edges of 20/√2 ≈ 14 pixel steps, each step cutting ~1 pixel -> at most
    # ~57 cut pixels, error < 28.5 px (measured: 420, as its edges halve many pixels). The ellipse
    # (semi-axes 12, 6; perimeter ≈ 58 px, so < ~60 cut pixels) gets the same 28 px bound.
    sq45 = (_img(ds, 0, 5, 5, 10, 10) > 0).sum()               # orientation 5 = 45°
    assert abs(sq45 - 400) <= 28
    ell = (_img(ds, 1, 5, 0, 10, 10) > 0).sum()                # exact area π·72 ≈ 226.2
    assert abs(ell - np.pi * 72) <= 28


def test_position_is_an_exact_one_pixel_translation(ds):
    f = ds.sample_factors(200, 3)
    f[:, 3] = np.minimum(f[:, 3], 30)
    f[:, 4] = np.minimum(f[:, 4], 30)
    a = ds.images(f)
    gx = f.copy()
    gx[:, 3] += 1
    gy = f.copy()
    gy[:, 4] += 1
    assert np.array_equal(np.roll(a, 1, axis=2), ds.images(gx))     # posX + 1 -> one column right
    assert np.array_equal(np.roll(a, 1, axis=1), ds.images(gy))     # posY + 1 -> one row down


@pytest.mark.parametrize("shape", range(3))
def test_centroid_moves_monotonically_with_position(ds, shape):
    f = np.array([[shape, 3, 7, x, 5] for x in range(32)])
    im = ds.images(f)[..., 0] > 0
    cols = np.arange(64)
    cx = (im.sum(axis=1) * cols).sum(axis=1) / im.sum(axis=(1, 2))
    assert np.allclose(np.diff(cx), 1.0)          # exact 1-px shifts (floating point only in the mean)


@pytest.mark.parametrize("shape", range(3))
def test_orientation_quarter_turn_is_rot90(ds, shape):
    # 10 steps of 2π/40 = 90° counter-clockwise about a pixel corner maps the pixel grid onto itself, so the
    # image equals np.rot90 of the unrotated one about the sprite centre; only sub-sample ties at exactly
    # half coverage may differ (tolerance: 4 pixels).
    x = y = 16                                     # centre (32, 32) = image centre: rot90 of the whole image
    a = _img(ds, shape, 5, 0, x, y)
    b = _img(ds, shape, 5, 10, x, y)
    assert (np.rot90(a) != b).sum() <= 4
    assert (a != b).sum() > 20 or shape == 0       # the square is 90°-symmetric, the others are not


def test_symmetries_of_square_and_ellipse(ds):
    # square: 90° symmetric; ellipse: 180° symmetric; heart: neither (same grid centre as above)
    assert (_img(ds, 0, 4, 3, 16, 16) != _img(ds, 0, 4, 13, 16, 16)).sum() <= 4
    assert (_img(ds, 1, 4, 3, 16, 16) != _img(ds, 1, 4, 23, 16, 16)).sum() <= 4
    assert (_img(ds, 2, 4, 3, 16, 16) != _img(ds, 2, 4, 23, 16, 16)).sum() > 20


def test_every_factor_changes_the_image(ds):
    base = ds.sample_factors(100, 5)
    a = ds.images(base)
    for k, size in enumerate(ds.factor_sizes):
        g = base.copy()
        g[:, k] = (g[:, k] + 1) % size             # one step (orientation: 9°, never a symmetry)
        diff = (ds.images(g) != a).reshape(len(g), -1).any(axis=1)
        assert diff.all(), f"factor {ds.factor_names[k]} left some images unchanged"


def test_deterministic_and_independent_of_batch(ds):
    f = ds.sample_factors(64, 9)
    a = ds.images(f)
    b = load_dataset("dsprites", seed=123).images(f)          # another instance, another seed
    c = np.concatenate([ds.images(f[i:i + 1]) for i in range(0, 64, 7)])
    assert np.array_equal(a, b)
    assert np.array_equal(a[::7], c)


def test_sprites_stay_inside_the_image(ds):
    # extreme positions with the largest sprites: nothing is clipped (every sprite keeps its area)
    for shape in range(3):
        for orient in (0, 5, 17):
            centre = (_img(ds, shape, 5, orient, 16, 16) > 0).sum()
            for x, y in ((0, 0), (31, 31), (0, 31)):
                assert (_img(ds, shape, 5, orient, x, y) > 0).sum() == centre
