"""RTC-VAE's adaptive η: the paper's band rule, cadence, the cap from the KL weight, coming back to the lower bound
after being zeroed, state round-trip, and the band share of a run."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from rtc.models.config import TrainConfig
from rtc.models.eta import BAND, CAP_FACTOR, EVERY, EtaSchedule, band_eta, band_share
from rtc.models.train import build


def sched(base=10.0, *, kl_weight=1.0, latent_dim=10, **kw):
    return EtaSchedule(base, kl_weight=kl_weight, latent_dim=latent_dim, **kw)


def run(s, terms, start_step=0):
    return [s.update(t, start_step + i) for i, t in enumerate(terms)]


def test_per_step_rule_known_answer():
    s = sched(50, every=1, cap=math.inf)
    assert s.eta == 50
    assert run(s, [0.1, 0.1, 0.02, 0.005, 0.02, 0.1, 0.1]) == pytest.approx(
        [60, 72, 72, 0, 0, 50, 60])  # ×1.2, ×1.2, band: keep, < 0.01: zero, band: stay 0, > 0.04: base, ×1.2


def test_zeroed_eta_comes_back_to_its_lower_bound_not_its_last_value():
    # the paper bounds η from below by max(10, β); the old schedule restored the last value (10·1.2³ = 17.28)
    s = sched(10, every=1)
    assert run(s, [1, 1, 1, 0.001, 0.02, 1]) == pytest.approx([12, 14.4, 17.28, 0, 0, 10])


def test_checks_happen_every_k_steps_after_the_start_on_the_window_mean():
    s = sched(10, every=4, start=2, cap=math.inf)
    out = run(s, [1.0] * 14)
    changed = [i for i in range(1, 14) if out[i] != out[i - 1]]
    assert changed == [5, 9, 13]  # the 4th, 8th and 12th step from the start (steps 2, 3, … recorded)
    s = sched(10, every=3)
    # window means: (0.1 + 0 + 0)/3 = 0.033 (in the band: keep), then 0.05 (> 0.04: ×1.2), then 0.003 (zero)
    assert run(s, [0.1, 0.0, 0.0, 0.05, 0.05, 0.05, 0.003, 0.003, 0.003]) == pytest.approx(
        [10, 10, 10, 10, 10, 12, 12, 12, 0])


def test_band_eta_puts_unused_dimensions_at_the_top_of_the_band():
    assert band_eta(1.0, 10) == pytest.approx(124.5)
    assert band_eta(4.0, 10) == pytest.approx(498.0)
    for kl_weight in (1.0, 4.0, 10.0):  # σ² minimising κ·KL(N(0, σ²) ‖ N(0, 1)) + η·σ², found numerically
        eta = band_eta(kl_weight, 10)
        res = minimize_scalar(lambda lv, k=kl_weight, e=eta: k * 0.5 * (np.exp(lv) - lv - 1) + e * np.exp(lv),
                              bounds=(-15, 5), method="bounded", options={"xatol": 1e-10})
        assert 10 * np.exp(res.x) == pytest.approx(BAND[1], rel=1e-6)


def test_cap_is_derived_from_the_kl_weight():
    assert sched(10, kl_weight=1.0).cap == pytest.approx(CAP_FACTOR * 124.5)
    assert sched(10, kl_weight=4.0).cap == pytest.approx(CAP_FACTOR * 498)
    assert sched(50, kl_weight=0.01).cap == 50  # never below the base
    assert sched(10, cap=70.0).cap == 70
    s = sched(10, kl_weight=4.0, every=1)
    run(s, [1.0] * 200)
    assert s.eta == pytest.approx(CAP_FACTOR * 498)


@pytest.mark.parametrize("model,strength,kl_weight", [
    ("revised_beta_vae", 4.0, 4.0), ("revised_beta_vae", 10.0, 10.0), ("rtc_vae", 10.0, 1.0),
    ("revised_factor_vae", 20.0, 1.0)])
def test_trainer_builds_the_schedule_from_the_model(model, strength, kl_weight):
    cfg = TrainConfig(model=model, strength=strength, latent_dim=10, warmup_steps=7, disc_hidden=8, disc_layers=2)
    eta = build(cfg, 1, "cpu").eta
    assert cfg.eta_every == EVERY <= 10 and eta.every == EVERY and eta.start == 7 and eta.base == max(10, strength)
    assert eta.cap == pytest.approx(max(eta.base, CAP_FACTOR * band_eta(kl_weight, 10)))
    assert eta.cap > band_eta(kl_weight, 10)  # the cap never stops an unused-dimension model short of the band
    assert build(TrainConfig(model=model, strength=strength, eta_cap=math.inf, disc_hidden=8, disc_layers=2),
                 1, "cpu").eta.cap == math.inf


def test_trainconfig_eta_fields():
    with pytest.raises(ValueError, match="TrainConfig.eta_every"):
        TrainConfig(model="rtc_vae", eta_every=11)
    with pytest.raises(ValueError, match="TrainConfig.eta_every"):
        TrainConfig(model="rtc_vae", eta_every=0)
    with pytest.raises(TypeError):
        TrainConfig(model="rtc_vae", eta_restore="last")  # the option is gone: η always comes back to its base


def test_start_holds_eta_during_warmup():
    s = sched(10, every=1, start=5)
    assert run(s, [1.0] * 6) == pytest.approx([10] * 5 + [12])


def test_state_round_trip_mid_window():
    a = sched(10, every=4)
    run(a, [0.5, 0.5])
    b = sched(10, every=4)
    b.load_state_dict(a.state_dict())
    assert run(a, [0.5, 0.5, 0.001, 0.001, 0.001, 0.001, 1, 1], 2) == run(b, [0.5, 0.5, 0.001, 0.001, 0.001, 0.001,
                                                                           1, 1], 2)
    assert a.eta == 0


@pytest.mark.parametrize("kw,match", [
    (dict(every=0), "every"), (dict(cap=5.0), "cap"), (dict(cap=math.nan), "cap"), (dict(kl_weight=0.0), "kl_weight"),
    (dict(latent_dim=0), "latent_dim")])
def test_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        sched(10, **kw)
    with pytest.raises(ValueError, match="base"):
        sched(0.0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=60), st.integers(1, 5))
def test_eta_stays_in_bounds(terms, every):
    s = sched(20, every=every)
    for i, t in enumerate(terms):
        eta = s.update(t, i)
        assert eta == 0 or 20 <= eta <= s.cap  # never negative, never above the cap, never below base unless 0


def test_band_share_known_answers():
    # second half [0.02, 0.05, 0.03, 0.01]: 0.02 and 0.03 inside, 0.05 above, 0.01 on the edge (not strictly inside)
    assert band_share([1, 1, 1, 1, 0.02, 0.05, 0.03, 0.01]) == 0.5
    assert band_share(np.array([0.02, 0.02, 0.02, 0.02, 1.0])) == pytest.approx(2 / 3)  # odd T: steps 2, 3, 4
    assert band_share([0.5, 0.5, 0.5, 0.5], band=(0.1, 1.0)) == 1.0
    assert band_share([0.02, 0.02, 0.5, 0.5]) == 0.0


@pytest.mark.parametrize("bad", [[0.02, float("nan"), 0.02], [0.02], [], [[0.02, 0.02]]])
def test_band_share_rejects_nan_and_bad_shapes(bad):
    with pytest.raises(ValueError, match="var_sum"):
        band_share(bad)
