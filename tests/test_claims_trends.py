"""rtc.claims.trends on known answers: the plateau test on synthetic curves, log-ratio intervals, Holm's
correction and the exact sign (McNemar) test."""
import math

import numpy as np
import pytest

from rtc.claims import holm, log_ratio_interval, plateau_test, seed_interval, sign_test

IMAGES = np.array([8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 1_024_000, 2_048_000])


def test_an_exact_log_law_has_its_slope_per_doubling():
    values = np.array([3.0 - 0.5 * np.log2(IMAGES / IMAGES[0]) + s for s in (0.0, 0.3, -0.2)])
    p = plateau_test(IMAGES, values, delta=0.1)
    assert p.word == "moving" and p.seeds == 3 and len(p.images) == 3  # the last third: 3 of 9 snapshots
    assert p.slope.estimate == pytest.approx(-0.5) and p.slope.lo == pytest.approx(-0.5)


def test_a_plateaued_curve_is_a_plateau():
    rng = np.random.default_rng(0)
    flat = 0.9 + 2.0 * np.exp(-IMAGES / 20_000)  # falls, then stays: flat over the last third
    values = flat + 0.001 * rng.standard_normal((5, len(IMAGES)))
    assert plateau_test(IMAGES, values, delta=0.05).word == "plateau"
    # the same curve judged over its first snapshots only is still moving
    assert plateau_test(IMAGES[:4], values[:, :4], delta=0.05, last_share=1.0).word == "moving"


def test_a_noisy_curve_with_few_seeds_is_undecided():
    rng = np.random.default_rng(1)
    values = 1.0 + 0.5 * rng.standard_normal((2, len(IMAGES)))
    assert plateau_test(IMAGES, values, delta=0.05).word == "undecided"


def test_too_few_snapshots_or_seeds_decide_nothing():
    assert plateau_test(IMAGES[:2], np.ones((3, 2)), delta=0.1).word == "too few snapshots"
    one_seed = plateau_test(IMAGES, np.ones((1, len(IMAGES))), delta=0.1)
    assert one_seed.word == "too few snapshots" and one_seed.slope is None
    with_nan = np.ones((2, len(IMAGES)))
    with_nan[1, -1] = np.nan  # a seed not measured at the last snapshot is left out
    assert plateau_test(IMAGES, with_nan, delta=0.1).word == "too few snapshots"


@pytest.mark.parametrize("bad", [dict(images=IMAGES[::-1]), dict(delta=0.0), dict(values=np.ones((2, 3)))])
def test_bad_input_is_a_clear_error(bad):
    kw = dict(images=IMAGES, values=np.ones((2, len(IMAGES))), delta=0.1) | bad
    with pytest.raises(ValueError):
        plateau_test(**kw)


def test_log_ratio_interval_is_the_geometric_mean_and_stays_positive():
    assert log_ratio_interval([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]).estimate == pytest.approx(2.0)
    ratios = np.array([0.1, 10.0, 1.0, 0.5])
    arithmetic = seed_interval(ratios)
    assert arithmetic.lo < 0  # the Student-t interval of the raw ratios leaves (0, ∞)
    iv = log_ratio_interval(ratios, np.ones(4))
    assert iv.lo > 0 and iv.estimate == pytest.approx(math.exp(np.log(ratios).mean()))
    assert iv.n == 4 and log_ratio_interval([1.0, -1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]).n == 3
    with pytest.raises(ValueError):
        log_ratio_interval([1.0], [2.0])


def test_holm_on_a_hand_computed_case():
    adj, reject = holm([0.01, 0.04, 0.03, 0.005], alpha=0.05)
    assert adj == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert reject.tolist() == [True, False, False, True]
    assert holm([0.5])[0].tolist() == [0.5]
    with pytest.raises(ValueError):
        holm([1.5])


def test_sign_test_exact_values():
    assert sign_test(8, 0) == pytest.approx(2 * 0.5 ** 8)
    assert sign_test(0, 8) == sign_test(8, 0)
    assert sign_test(5, 5) == 1.0 and sign_test(0, 0) == 1.0
    assert sign_test(9, 1) == pytest.approx(2 * 11 / 1024)
    with pytest.raises(TypeError):
        sign_test(True, 3)
