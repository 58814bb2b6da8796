"""RTC-VAE's adaptive η: band rule, cadence, cap, coming back after being zeroed, state round-trip."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.models.eta import EtaSchedule


def run(s, terms, start_step=0):
    return [s.update(t, start_step + i) for i, t in enumerate(terms)]


def test_literal_per_step_rule():
    s = EtaSchedule(50, every=1, cap=math.inf, restore="base")
    assert s.eta == 50
    assert run(s, [0.1, 0.1, 0.02, 0.005, 0.02, 0.1]) == pytest.approx(
        [60, 72, 72, 0, 0, 50])  # ×1.2, ×1.2, band: keep, < 0.01: zero, band: stay 0, > 0.04: base


def test_window_uses_mean_and_cadence():
    s = EtaSchedule(10, every=3)
    # window means: (0.1 + 0 + 0)/3 = 0.033 (in band, keep), then 0.05 (> 0.04: ×1.2)
    out = run(s, [0.1, 0.0, 0.0, 0.05, 0.05, 0.05])
    assert out == pytest.approx([10, 10, 10, 10, 10, 12])


def test_cap_default_and_explicit():
    s = EtaSchedule(50, every=1)
    run(s, [1.0] * 100)
    assert s.eta == 1000  # 20 × max(10, β)
    s = EtaSchedule(50, every=1, cap=70)
    run(s, [1.0] * 5)
    assert s.eta == 70


def test_restore_last_vs_base():
    last = EtaSchedule(10, every=1, restore="last")
    run(last, [1, 1, 1, 0.001, 0.02, 1])
    assert last.eta == pytest.approx(10 * 1.2 ** 3)  # back at the value it had when zeroed
    base = EtaSchedule(10, every=1, restore="base")
    run(base, [1, 1, 1, 0.001, 0.02, 1])
    assert base.eta == 10


def test_start_holds_eta_during_warmup():
    s = EtaSchedule(10, every=1, start=5)
    out = run(s, [1.0] * 6)
    assert out == pytest.approx([10] * 5 + [12])


def test_state_round_trip_mid_window():
    a = EtaSchedule(10, every=4)
    run(a, [0.5, 0.5])
    b = EtaSchedule(10, every=4)
    b.load_state_dict(a.state_dict())
    assert run(a, [0.5, 0.5, 0.001], 2) == run(b, [0.5, 0.5, 0.001], 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="every"):
        EtaSchedule(10, every=0)
    with pytest.raises(ValueError, match="restore"):
        EtaSchedule(10, restore="never")
    with pytest.raises(ValueError, match="cap"):
        EtaSchedule(10, cap=5)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=60), st.integers(1, 5))
def test_eta_stays_in_bounds(terms, every):
    s = EtaSchedule(20, every=every)
    for i, t in enumerate(terms):
        eta = s.update(t, i)
        assert eta == 0 or 20 <= eta <= s.cap  # never negative, never above the cap, never below base unless 0
