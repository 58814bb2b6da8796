"""The adaptive weight η of RTC-VAE's variance penalty η·Σ_k E_n[σ_k²(n)] (paper section 3).

The paper's rule: start at η = max(10, β); "multiply η by 1.2 if the term is greater than 0.04
and set η to zero if the term is smaller than 0.01", keeping the term in (0.01, 0.04). It does
not say how often, whether there is a ceiling, or how η comes back once zeroed. Applied on
every step it is unstable: the term answers η only after many optimizer steps (Adam moves
log σ² by ~lr per step), so η grows 1.2^steps meanwhile — a CPU pilot (dSprites, batch 64,
β = 50) saw η ≈ 7e4 within ~40 steps, σ² → 0.003 and the spread of µ collapse. Our completion,
all parameters of :class:`EtaSchedule`:

- **cadence** ``every`` (default 50 steps): the term is averaged over a window of ``every``
  steps and the rule is applied once per window to that mean (a per-batch value is noisy);
- **ceiling** ``cap`` (default 20·base): η never exceeds it. The scale that matters: a
  dimension the reconstruction does not use settles where ½(1 − 1/σ²) + η = 0, i.e.
  σ² = 1/(1 + 2η), so D = 10 unused dimensions sit in the band for η ≈ 120–500; 20·max(10, β)
  ≥ 200 reaches that for every β of Table 1;
- **band**: mean > ``high`` → η ← min(cap, 1.2·η); mean < ``low`` → η ← 0; in between η is
  kept;
- **coming back**: when η = 0 and the windowed mean rises above ``high`` again, η is restored
  to the value it had when it was zeroed (``restore="last"``, default) or to the base value
  (``restore="base"``, the plainest reading of the paper's rule, which has to climb 1.2× per
  window again); within the band a zeroed η stays 0.
- **start** (default 0): no update before this step (the trainer passes the end of the
  regularization warm-up, during which the term is large only because training just began).

``every=1, cap=inf, restore="base"`` is the literal per-step rule, kept for comparison.
The state (η, the value to restore, the partial window) is saved with every checkpoint.
"""
from __future__ import annotations

import math

__all__ = ["EtaSchedule", "BAND"]


# The paper's band for the variance term Σ_k E[σ_k²]: η grows above BAND[1] and is zeroed below BAND[0].
BAND = (0.01, 0.04)


class EtaSchedule:
    """Windowed band controller for η. Call :meth:`update` once after every step with Σ_k mean σ_k²."""

    def __init__(self, base: float, *, every: int = 50, factor: float = 1.2, low: float = BAND[0],
                 high: float = BAND[1], cap: float | None = None, restore: str = "last", start: int = 0):
        if not (math.isfinite(base) and base >= 0):
            raise ValueError(f"base η must be finite and ≥ 0, got {base}")
        if every < 1:
            raise ValueError(f"every must be ≥ 1 step, got {every}")
        if not (0 <= low < high):
            raise ValueError(f"need 0 ≤ low < high, got low={low}, high={high}")
        if factor <= 1:
            raise ValueError(f"factor must be > 1, got {factor}")
        if restore not in ("last", "base"):
            raise ValueError(f"restore must be 'last' or 'base', got {restore!r}")
        self.base, self.every, self.factor, self.low, self.high = float(base), int(every), factor, low, high
        self.cap = 20.0 * self.base if cap is None else float(cap)
        if self.cap < self.base:
            raise ValueError(f"cap {self.cap} is below the base η {self.base}")
        self.restore, self.start = restore, int(start)
        self.eta = self.base
        self.restore_value = self.base
        self._sum, self._n = 0.0, 0

    def update(self, term: float, step: int) -> float:
        """Record the term measured at ``step``; at the end of a window apply the rule. Returns η."""
        if step < self.start or self.base == 0:
            return self.eta
        self._sum += float(term)
        self._n += 1
        if self._n < self.every:
            return self.eta
        mean = self._sum / self._n
        self._sum, self._n = 0.0, 0
        if mean > self.high:
            if self.eta == 0:
                self.eta = self.restore_value if self.restore == "last" else self.base
            else:
                self.eta = min(self.cap, self.eta * self.factor)
        elif mean < self.low and self.eta > 0:
            self.restore_value = self.eta
            self.eta = 0.0
        return self.eta

    def state_dict(self) -> dict:
        return {"eta": self.eta, "restore_value": self.restore_value, "sum": self._sum, "n": self._n}

    def load_state_dict(self, state: dict) -> None:
        self.eta, self.restore_value = float(state["eta"]), float(state["restore_value"])
        self._sum, self._n = float(state["sum"]), int(state["n"])

    def __repr__(self):
        return (f"EtaSchedule(base={self.base}, every={self.every}, cap={self.cap}, restore={self.restore!r}, "
                f"start={self.start}, eta={self.eta})")
