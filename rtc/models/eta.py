"""The adaptive weight η of RTC-VAE's variance penalty η·Σ_k E_n[σ_k²(n)] (paper section 3).

The paper's rule: start at η = max(10, β), "bound η from below" there (section 5), and keep the term in
BAND = (0.01, 0.04) by "multiplying η with 1.2 if this term is greater than 0.04 and set η to zero if the term is
smaller than 0.01" (section 3). :class:`EtaSchedule` applies exactly that, and fixes what the paper leaves open:

- **cadence**: the rule is checked every ``every`` steps on the mean of the term over those steps; the default
  ``EVERY = 1`` checks every step on the step's value (``TrainConfig.eta_every``, 1 … 10);
- **coming back**: a zeroed η stays 0 while the term is in the band, and returns to its lower bound ``base`` =
  max(10, β) — not to its last value — when the term rises above 0.04 again;
- **cap**: η ≤ CAP_FACTOR · :func:`band_eta` (κ, D), never below ``base``. A dimension the reconstruction does not
  use settles where κ·½(1 − 1/σ²) + η = 0 (κ: the model's KL weight, β for the revised β-VAE, 1 for RTC-VAE), i.e.
  σ² = κ / (κ + 2η); D = 10 of them sit at the band's top 0.04 at η = band_eta = κ·(D/0.04 − 1)/2 = 124.5·κ and at
  its bottom at 499.5·κ. CAP_FACTOR = 4 leaves room for a term that the used dimensions or the TC term hold up: the
  pilot's largest η was 2.3·band_eta (revised β-VAE β = 4), no run reached the cap. The cap bounds the overshoot of
  a per-step rule (η grows 1.2× per step while the term answers only after Adam has moved log σ², ~lr per step);
- **start**: no check before the end of the warm-up (the trainer passes ``warmup_steps``).

Why k = 1 — ``studies/pilot_eta.py`` (dSprites, batch 32, lr 1e-3, 300 warm-up steps from an autoencoder, 700 steps,
second half = steps 350–699; first step in the band / share of the second half in it / times η was zeroed):

===================  ===============  ===============  ==================================
run                  k = 1            k = 10           old (50-step mean, cap 20·base)
===================  ===============  ===============  ==================================
RTC-VAE γ = 10       315 / 0.84 / 4   378 / 0.79 / 0   456 / 0.05 / 0
revised β-VAE β = 4  322 / 0.85 / 2   503 / 0.44 / 0   never / 0.00 / 0 (capped at 200)
revised β-VAE β = 10 327 / 1.00 / 0   552 / 0.38 / 0   —
===================  ===============  ===============  ==================================

Per-step checks reach the band 15–27 steps after the warm-up and hold it for 84–100 % of the second half; checks
every 10 steps need 78–252 steps to climb from base (1.2 per check: from 10 to ~500 takes 21 checks) and held it
for 38–79 %. The cost of k = 1 is an overshoot — RTC-VAE's η peaked at 320 before settling at 89, and a noisy
batch below 0.01 zeroes η (4 and 2 times in 400 steps), after which it climbs again from base — small next to
the 10-step lag; the reconstructions at the end agree within 1.5 nats (112–117). The old rule never reached the
band for the revised β-VAE (its cap 200 < 498 = band_eta(4, 10)).

The state (η and the partial window) is saved with every checkpoint. :func:`band_share` is the share of a run's
second-half steps inside the band, from the per-step log of the term (``var_sum``), which the claims about the
revised models use to tell runs in the paper's regime from those outside it.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["EtaSchedule", "BAND", "FACTOR", "EVERY", "CAP_FACTOR", "band_eta", "band_share"]


# The paper's band for the variance term Σ_k E[σ_k²]: η grows above BAND[1] and is zeroed below BAND[0].
BAND = (0.01, 0.04)
FACTOR = 1.2  # the paper's growth factor per check above the band
EVERY = 1  # steps between two checks (module docstring: the pilot)
CAP_FACTOR = 4.0  # the cap in units of band_eta (module docstring)


def band_eta(kl_weight: float, latent_dim: int) -> float:
    """η at which ``latent_dim`` dimensions the reconstruction does not use sum to the band's top BAND[1].

    Such a dimension's σ² minimises κ·½(σ² − log σ² − 1) + η·σ² (κ = the KL weight), so σ² = κ / (κ + 2η) and
    D of them sum to BAND[1] at η = κ·(D / BAND[1] − 1) / 2 (D = 10: 124.5·κ)."""
    return kl_weight * (latent_dim / BAND[1] - 1) / 2


class EtaSchedule:
    """The paper's band rule for η, checked every ``every`` steps. Call :meth:`update` after every step with the
    step's Σ_k mean_n σ_k² (nats-free: a sum of variances of the unit-prior latents).

    ``base``: η at the start and the lower bound η comes back to, max(10, β) (paper section 5).
    ``kl_weight``, ``latent_dim``: the model's KL weight κ and D, for the default cap ``CAP_FACTOR·band_eta(κ, D)``
    (never below ``base``); ``cap`` overrides it (``inf``: no cap). ``start``: no check before this step (the
    trainer passes the end of the warm-up)."""

    def __init__(self, base: float, *, kl_weight: float, latent_dim: int, every: int = EVERY,
                 cap: float | None = None, start: int = 0):
        if not (math.isfinite(base) and base > 0):
            raise ValueError(f"base η must be finite and > 0, got {base}")
        if not (math.isfinite(kl_weight) and kl_weight > 0):
            raise ValueError(f"kl_weight must be finite and > 0, got {kl_weight}")
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be ≥ 1, got {latent_dim}")
        if every < 1:
            raise ValueError(f"every must be ≥ 1 step, got {every}")
        self.base, self.every, self.start = float(base), int(every), int(start)
        self.cap = max(self.base, CAP_FACTOR * band_eta(kl_weight, latent_dim)) if cap is None else float(cap)
        if not self.cap >= self.base:  # (also rejects a NaN cap)
            raise ValueError(f"cap {self.cap} is below the base η {self.base}")
        self.eta = self.base
        self._sum, self._n = 0.0, 0

    def update(self, term: float, step: int) -> float:
        """Record the term measured at ``step``; every ``every`` recorded steps apply the rule to their mean:
        above BAND[1] η ← min(cap, FACTOR·η), or η ← base when it was 0; below BAND[0] η ← 0; in the band η is
        kept (a zeroed η stays 0). Returns η."""
        if step < self.start:
            return self.eta
        self._sum += float(term)
        self._n += 1
        if self._n < self.every:
            return self.eta
        mean = self._sum / self._n
        self._sum, self._n = 0.0, 0
        if mean > BAND[1]:
            self.eta = self.base if self.eta == 0 else min(self.cap, FACTOR * self.eta)
        elif mean < BAND[0]:
            self.eta = 0.0
        return self.eta

    def state_dict(self) -> dict:
        return {"eta": self.eta, "sum": self._sum, "n": self._n}

    def load_state_dict(self, state: dict) -> None:
        self.eta, self._sum, self._n = float(state["eta"]), float(state["sum"]), int(state["n"])

    def __repr__(self):
        return f"EtaSchedule(base={self.base}, every={self.every}, cap={self.cap}, start={self.start}, eta={self.eta})"


def band_share(var_sum, band: tuple[float, float] = BAND) -> float:
    """Share in [0, 1] of the second half of a run's steps whose variance term lies strictly inside ``band``.

    ``var_sum``: the per-step log of Σ_k mean_n σ_k² (T,), T ≥ 2; the second half is steps T // 2 … T − 1.
    A NaN (or a non-1-D or too short input) is a ``ValueError``: a run without the term has no share."""
    v = np.asarray(var_sum, dtype=float)
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"var_sum must be a 1-D sequence of ≥ 2 steps, got shape {v.shape}")
    if np.isnan(v).any():
        raise ValueError(f"var_sum holds NaN at step {int(np.flatnonzero(np.isnan(v))[0])}")
    tail = v[v.size // 2:]
    return float(np.mean((tail > band[0]) & (tail < band[1])))
