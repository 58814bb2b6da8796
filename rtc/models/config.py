"""What determines a training run: :class:`TrainConfig` (every field checked and normalised when built; all of it
but :data:`TRAJECTORY_FIELDS` in the run's cache key), and :func:`default_device`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rtc._validate import Config, check_int, check_real, is_real

from .eta import EVERY as ETA_EVERY
from .networks import PRECISIONS
from .objectives import MODELS, TC_ESTIMATORS, Objective, ObjectiveError

__all__ = ["TrainConfig", "TRAJECTORY_FIELDS", "default_device"]

# The fields that say only where a run stops, which of its states are kept, and how often it is checkpointed: a run
# is one trajectory whatever they are (its first N steps do not depend on them), so they are left out of its cache
# key, and a run asked for more steps extends the cached one (rtc.models.train).
TRAJECTORY_FIELDS = ("steps", "snapshot_steps", "checkpoint_every")


def _betas(name: str, v) -> tuple[float, float]:
    if not (isinstance(v, (tuple, list)) and len(v) == 2 and all(is_real(b) and 0 <= b < 1 for b in v)):
        raise ValueError(f"TrainConfig.{name} must be two numbers in [0, 1) (Adam's β₁, β₂), got {v!r}")
    return (float(v[0]), float(v[1]))


def _snapshot_steps(v) -> tuple[int, ...]:
    if not isinstance(v, (tuple, list)):
        raise ValueError(f"TrainConfig.snapshot_steps must be a list of steps, got {v!r}")
    try:
        steps = tuple(check_int(s, "TrainConfig.snapshot_steps", minimum=1) for s in v)
    except TypeError as e:
        raise ValueError(str(e)) from None
    if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
        raise ValueError(f"TrainConfig.snapshot_steps must be increasing, got {list(steps)}")
    return steps


@dataclass(frozen=True)
class TrainConfig(Config):
    """Everything that determines a training run (all of it but :data:`TRAJECTORY_FIELDS` enters the cache key:
    ``steps`` says where to stop along the run's trajectory, ``snapshot_steps`` which of its states to keep).

    ``strength`` is β (beta_vae, beta_tcvae, rtc_vae, revised_beta_vae), γ (factor_vae, revised_factor_vae) or λ_od
    (dip_vae_i/ii). Paper: batch 500, Adam lr 1e-3.

    Every field is checked when built (a ``ValueError`` naming ``TrainConfig.<field>``; ``from_mapping`` names the
    file too) and normalised: numbers become Python ``int``/``float`` (numpy scalars are accepted), pairs tuples of
    floats — so configs that mean the same run compare equal and share a cache key. ``eta_every``: steps between
    two checks of RTC-VAE's η rule, 1 … 10 (:mod:`rtc.models.eta`). ``eta_cap`` (None: the cap derived from the
    model's KL weight, :class:`~rtc.models.eta.EtaSchedule`) may be ``inf`` but not below the base η = max(10,
    strength)."""
    model: str = "beta_vae"
    strength: float = 1.0
    lambda_d: float | None = None
    tc_estimator: str | None = None
    latent_dim: int = 10
    batch_size: int = 64
    steps: int = 1000
    lr: float = 1e-3
    adam_betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 0
    warmup_start: str = "vae"  # "vae" or "autoencoder" (KL annealing): rtc.models.objectives
    seed: int = 0
    disc_lr: float = 1e-4
    disc_betas: tuple[float, float] = (0.5, 0.9)
    disc_hidden: int = 1000
    disc_layers: int = 6
    eta_every: int = ETA_EVERY
    eta_cap: float | None = None
    channels_last: bool = True
    precision: str = "fp32"  # the networks' arithmetic in training: "fp32" or "bf16" (rtc.models.networks.autocast)
    checkpoint_every: int = 250
    # the steps after which the model's weights are kept (besides ``steps`` itself, always kept): the points of the
    # run's trajectory that can be read back or evaluated later; increasing, each ≥ 1
    snapshot_steps: tuple[int, ...] = ()

    def __post_init__(self):
        put = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731  (frozen dataclass)
        if not (isinstance(self.model, str) and self.model in MODELS):
            raise ValueError(f"TrainConfig.model: unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        put("strength", check_real(self.strength, "TrainConfig.strength", minimum=0))
        if self.lambda_d is not None:
            put("lambda_d", check_real(self.lambda_d, "TrainConfig.lambda_d", minimum=0))
        if self.tc_estimator is not None and self.tc_estimator not in TC_ESTIMATORS:
            raise ValueError(f"TrainConfig.tc_estimator: unknown tc_estimator {self.tc_estimator!r}; "
                             f"choose one of {', '.join(TC_ESTIMATORS)}")
        # a batch of one has no covariance (DIP), no minibatch TC and nothing to permute (FactorVAE)
        for name, minimum in (("latent_dim", 1), ("batch_size", 2), ("steps", 1), ("warmup_steps", 0),
                              ("seed", 0), ("disc_hidden", 1), ("disc_layers", 2), ("eta_every", 1),
                              ("checkpoint_every", 1)):
            try:
                put(name, check_int(getattr(self, name), f"TrainConfig.{name}", minimum=minimum))
            except TypeError as e:  # a count given as 2.5 or "8" is a bad value like any other: one error type
                raise ValueError(str(e)) from None
        put("snapshot_steps", _snapshot_steps(self.snapshot_steps))
        if self.seed >= 2 ** 63:
            raise ValueError(f"TrainConfig.seed must be < 2**63, got {self.seed}")
        put("lr", check_real(self.lr, "TrainConfig.lr", positive=True))
        put("disc_lr", check_real(self.disc_lr, "TrainConfig.disc_lr", positive=True))
        put("adam_betas", _betas("adam_betas", self.adam_betas))
        put("disc_betas", _betas("disc_betas", self.disc_betas))
        if self.eta_every > 10:  # the paper's rule reacts within a few steps; a long window lags it (rtc.models.eta)
            raise ValueError(f"TrainConfig.eta_every must be ≤ 10 steps, got {self.eta_every}")
        if not isinstance(self.channels_last, (bool, np.bool_)):
            raise ValueError(f"TrainConfig.channels_last must be True or False, got {self.channels_last!r}")
        put("channels_last", bool(self.channels_last))
        if self.precision not in PRECISIONS:
            raise ValueError(f"TrainConfig.precision must be one of {PRECISIONS}, got {self.precision!r}")
        try:
            obj = self.objective()  # the model's own constraints: lambda_d / tc_estimator applicability
        except ObjectiveError as e:
            raise ValueError(f"TrainConfig: {e}") from None
        if self.eta_cap is not None:
            cap = check_real(self.eta_cap, "TrainConfig.eta_cap", minimum=0, allow_inf=True)
            if cap < obj.base_eta:
                raise ValueError(f"TrainConfig.eta_cap {cap:g} is below the base η = max(10, strength) = "
                                 f"{obj.base_eta:g}")
            put("eta_cap", cap)

    def key_dict(self) -> dict:
        """The fields that identify the run's trajectory (all but :data:`TRAJECTORY_FIELDS`), for its cache key."""
        return {k: v for k, v in self.to_dict().items() if k not in TRAJECTORY_FIELDS}

    def kept_steps(self) -> tuple[int, ...]:
        """The steps ≤ ``steps`` whose weights this run keeps: ``snapshot_steps`` up to ``steps``, and ``steps``."""
        return tuple(sorted({s for s in self.snapshot_steps if s <= self.steps} | {self.steps}))

    def objective(self) -> Objective:
        return Objective(self.model, self.strength, lambda_d=self.lambda_d, tc_estimator=self.tc_estimator,
                         warmup_steps=self.warmup_steps, warmup_start=self.warmup_start)


def default_device(device=None) -> torch.device:
    """``device`` if given, else CUDA when present, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
