"""numpy scalars are accepted wherever a Python number is, and bools are not counts."""
import numpy as np
import pytest
import torch

from rtc._validate import check_int, is_integer, is_real
from rtc.estimators import density_ratio_estimate, figure2_latents, isolated_point_tc, knn_tc, mws, shutdown_latents
from rtc.mixture_tc import BoundedVariance, tc_monte_carlo


def test_validate_helpers():
    for v in (3, np.int64(3), np.int32(3), np.uint8(3)):
        assert is_integer(v) and is_real(v) and check_int(v, "n") == 3 and type(check_int(v, "n")) is int
    for v in (0.5, np.float64(0.5), np.float32(0.5)):
        assert is_real(v) and not is_integer(v)
    for v in (True, np.bool_(True), "3", None, 1j):
        assert not is_integer(v) and not is_real(v)
    with pytest.raises(TypeError, match="strength must be an int, got float64"):
        check_int(np.float64(4.0), "strength")
    with pytest.raises(ValueError, match="n must be ≥ 1, got 0"):
        check_int(np.int64(0), "n", minimum=1)


def test_estimators_and_synthetic_latents_take_numpy_scalars():
    a = figure2_latents(np.int64(3), np.float64(0.5), np.int64(64), sigma=np.float64(0.1),
                        generator=torch.Generator().manual_seed(0))
    b = figure2_latents(3, 0.5, 64, sigma=0.1, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a.z, b.z)
    assert shutdown_latents(np.int64(4), np.int64(10), n_shutdown=np.int64(1)).z.shape == (10, 4)
    assert float(mws(a.z, a.mu, a.logvar, np.int64(1000)).tc) == float(mws(a.z, a.mu, a.logvar, 1000).tc)
    assert isolated_point_tc("mss1", np.int64(64), np.int64(1000), [1.0], [0.1]) == \
        isolated_point_tc("mss1", 64, 1000, [1.0], [0.1])
    x = np.random.default_rng(0).standard_normal((50, 2))
    assert knn_tc(x, k=np.int64(3)) == knn_tc(x, k=3)


def test_monte_carlo_and_density_ratio_take_numpy_scalars():
    v = BoundedVariance(np.float64(0.1), np.float64(0.2))
    r1 = tc_monte_carlo(np.eye(2), v, n_outer=np.int64(40), n_inner=np.int64(16), seed=np.int64(1), chunk=np.int64(20))
    r2 = tc_monte_carlo(np.eye(2), v, n_outer=40, n_inner=16, seed=1, chunk=20)
    assert r1.tc == r2.tc
    z = np.random.default_rng(0).standard_normal((80, 2))
    r = density_ratio_estimate(z, steps=np.int64(2), batch_size=np.int64(16), hidden=np.int64(4), layers=np.int64(2),
                               seed=np.int64(1))
    assert len(r.losses) == 2
