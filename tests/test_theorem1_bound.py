"""rtc.mixture_tc.theorem1_bound: the right-hand side of Theorem 1, known values and its monotonicity."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtc.mixture_tc import ConstantVariance, tc_constant_noise, theorem1_bound


def test_known_values():
    # c1 = c2: the log term vanishes; D = 2, c < √2: c3 = √2, (c3/c)^4 = 4/c^4
    assert theorem1_bound(0.1, 0.1, 2) == pytest.approx(4e4, rel=1e-14)
    # D = 1: c3 = max(1, 1) = 1; (1/0.1)·log 10 + (1/0.1)^3
    assert theorem1_bound(0.1, 1.0, 1) == pytest.approx(10 * math.log(10) + 1000, rel=1e-14)
    # c2 above √D sets c3: D = 1, c1 = 1, c2 = 4 → 4·log 4 + 4^3
    assert theorem1_bound(1.0, 4.0, 1) == pytest.approx(4 * math.log(4) + 64, rel=1e-14)
    # C multiplies both terms
    assert theorem1_bound(0.1, 1.0, 1, constant=2.5) == pytest.approx(2.5 * theorem1_bound(0.1, 1.0, 1))


def test_exact_at_sqrt_dim():
    # c3 = √D enters squared, so no round-off: D = 2, c = 1 gives 2^2 exactly
    assert theorem1_bound(1.0, 1.0, 2) == 4.0


def test_arrays_elementwise():
    c = np.array([1.0, 0.1, 0.01])
    out = theorem1_bound(c, c, 2)
    assert out.shape == (3,)
    np.testing.assert_allclose(out, [theorem1_bound(float(x), float(x), 2) for x in c], rtol=0)


@given(st.floats(1e-3, 10), st.floats(1, 50), st.integers(1, 12))
def test_decreasing_in_c1_increasing_in_c2(c1, spread, dim):
    c2 = c1 * spread
    b = theorem1_bound(c1, c2, dim)
    assert b > 0
    if c1 * 1.1 <= c2:
        assert theorem1_bound(c1 * 1.1, c2, dim) <= b * (1 + 1e-12)
    assert theorem1_bound(c1, c2 * 1.1, dim) >= b * (1 - 1e-12)


def test_does_not_see_the_correlation_of_mu():
    # the bound holds for every Σ; the exact TC(z) under constant noise grows with ρ but stays finite
    tcs = [float(tc_constant_noise(np.array([[1.0, r], [r, 1.0]]), ConstantVariance((0.5, 0.5)).values))
           for r in (0.0, 0.9, 0.9999)]
    assert tcs[0] == pytest.approx(0.0, abs=1e-12) and tcs[0] < tcs[1] < tcs[2] < math.inf


@pytest.mark.parametrize("args, match", [((0.0, 1.0, 2), "c1"), ((-1.0, 1.0, 2), "c1"), ((1.0, 0.5, 2), "c2"),
                                         ((0.1, float("nan"), 2), "c2"), ((0.1, 1.0, 0), "dim"),
                                         ((0.1, 1.0, True), "dim"), ((0.1, 1.0, 2.0), "dim")])
def test_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        theorem1_bound(*args)


def test_rejects_bad_constant():
    with pytest.raises(ValueError, match="constant"):
        theorem1_bound(0.1, 1.0, 2, constant=0.0)
