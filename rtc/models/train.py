"""Training loop: deterministic minibatches, per-step logged terms, NaN guard, atomic checkpoints,
exact resume, and a results cache keyed on the configuration, the dataset and the code.

One step ``t`` (= 0, 1, …) of :func:`train`:

1. data — batch ``k`` of the stream :func:`rtc.data.batches` (``k = t``; ``k = 2t`` when a
   discriminator is trained, whose step takes batch ``2t + 1`` — FactorVAE's second batch);
2. :func:`vae_step` — forward (the networks at ``config.precision``: float32, or bf16 autocast with every
   output, loss term and estimate in float32 — :mod:`rtc.models.networks`), the objective
   (:class:`rtc.models.objectives.Objective`) with the current η, backward, NaN/inf guard on the loss and
   the gradient norm, Adam step (float32 weights and state at either precision). The
   discriminator's parameters are frozen for this backward, so its optimizer never sees the
   VAE's gradients;
3. :func:`discriminator_step` (FactorVAE family with the density-ratio TC) — the codes z of
   batch k, detached, against ``permute_dims`` of codes of batch k + 1 encoded without gradient
   by the just-updated encoder; cross-entropy, guard, its own Adam (lr 1e-4, betas (0.5, 0.9)
   per Kim & Mnih). No autograd graph is reused after an optimizer step;
4. log — the step's terms, by name (:data:`LOG_KEYS`; NaN where a model has no such term);
5. η update (RTC-VAE family, :class:`rtc.models.eta.EtaSchedule`, held during the warm-up);
6. snapshot / checkpoint every ``snapshot_every`` / ``checkpoint_every`` steps.

Data: batch k holds the dataset indices at positions k·B … k·B + B − 1 of a stream made of
independent permutations of the whole dataset, one per epoch, each seeded by (seed, epoch):
sampling without replacement. A batch is a function of its position only, so resuming needs
no replay of the data iterator.

Randomness: the initial weights come from torch's CPU RNG seeded with ``config.seed`` inside
``torch.random.fork_rng`` (the caller's RNG state is restored afterwards); everything random
during training (ε of the reparameterisation, the discriminator's permutations) comes from the
run's own ``torch.Generator`` objects, which continue that seeded stream (and, for ε on a GPU,
the device's stream seeded with ``config.seed``) — the same draws as a script that calls
``torch.manual_seed(seed)`` once and then uses the global RNG. :func:`train` never changes the
global torch, NumPy or Python RNGs of its caller, and two runs in two threads do not share one.
The generators' states go into every checkpoint, with the optimizers', the η schedule's and the
log. On CPU a run stopped and resumed
ends bit-identical to an uninterrupted one (tested). On CUDA, cuDNN kernels are not
bit-reproducible; resume is then exact in state but not in the float bits that follow.

Cache: ``<cache_dir>/<model>-<key>/`` where the key hashes every field of :class:`TrainConfig`
(normalised: ``strength=2`` and ``2.0``, ``(0, 0.9)`` and ``(0.0, 0.9)`` are one run), the
dataset's identity, and :func:`code_version` — a hash of the source of everything that
determines the result (networks, objectives, estimators, discriminator, η schedule, this loop,
the data package and the dataset's own class), comments and docstrings excluded. ``final.pt``
there means the run is complete: :func:`train` only reads it (so a read-only cache of finished
runs works), and any ``checkpoint.pt`` beside it is stale and removed when the directory is
writable. ``checkpoint.pt`` alone means the run is resumed. Files are written by
:func:`rtc._io.atomic_write` (a unique temporary name, fsync, rename), so a reader never sees half a file,
and the temporary files of writers that were killed are removed when the run's lock is next taken.

Concurrency: a call that has to train holds an exclusive ``fcntl.flock`` on ``<run dir>/lock``
for the whole call. A second process (or thread) training the same run waits for it, then
loads the run if the first finished it, or resumes from the first's checkpoint if it stopped
early (``time_limit``/``max_steps``); two different runs never wait for each other. A holder
that dies (even by SIGKILL) releases the lock with its process, and the next caller resumes from
its last checkpoint. Loading a finished run takes no lock. ``flock`` is POSIX; on a network file system it needs working
locks (NFSv4 has them).
"""
from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import importlib
import inspect
import json
import math
import shutil
import sys
import time
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from rtc._io import LockBusy, atomic_write, file_lock, remove_orphans
from rtc._source import files_digest
from rtc._validate import is_integer, is_real
from rtc.data import batches
from rtc.discriminator import Discriminator, permute_dims

from .eta import EtaSchedule
from .networks import PRECISIONS, VAE, VAEOutput, autocast, native_bf16, reparameterize
from .objectives import (
    MODELS,
    TC_ESTIMATORS,
    Objective,
    ObjectiveError,
    discriminator_loss,
)

__all__ = ["TrainConfig", "TrainResult", "TrainingDiverged", "CheckpointError", "Trainer", "build", "vae_step",
           "discriminator_step", "PreStepCopy", "train", "run_dir_for", "code_version", "default_device", "LOG_KEYS",
           "load_model"]

# A run folder's files: the finished run, the checkpoint to resume from, the weight snapshots' folder, the settings.
FINAL = "final.pt"
CHECKPOINT = "checkpoint.pt"
SNAPSHOTS = "snapshots"
CONFIG = "config.json"

# What every step logs, in this order: the objective's terms (rtc.models.objectives.Objective), the VAE's gradient
# norm, and the discriminator's loss and accuracy.
LOG_KEYS = ("recon", "kl", "mi", "tc", "dwkl", "dip", "var_sum", "eta", "strength", "loss", "grad_norm",
            "disc_loss", "disc_acc")


class TrainingDiverged(RuntimeError):
    """A loss or gradient became NaN/inf; the message names the step and the last good checkpoint."""


class CheckpointError(RuntimeError):
    """A run's file could not be written (e.g. a full disk) or read (e.g. truncated); the message says what to do."""


# ---------------------------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------------------------

def _int(name: str, v, minimum: int) -> int:
    if not is_integer(v):
        raise ValueError(f"TrainConfig.{name} must be an integer, got {v!r}")
    if v < minimum:
        raise ValueError(f"TrainConfig.{name} must be ≥ {minimum}, got {v!r}")
    return int(v)


def _real(name: str, v, *, minimum: float = 0.0, positive: bool = False, allow_inf: bool = False) -> float:
    if not is_real(v) or math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"TrainConfig.{name} must be a {'' if allow_inf else 'finite '}number, got {v!r}")
    if v < minimum or (positive and v <= 0):
        raise ValueError(f"TrainConfig.{name} must be {'>' if positive else '≥'} {minimum:g}, got {v!r}")
    return float(v)


def _betas(name: str, v) -> tuple[float, float]:
    if not (isinstance(v, (tuple, list)) and len(v) == 2 and all(is_real(b) and 0 <= b < 1 for b in v)):
        raise ValueError(f"TrainConfig.{name} must be two numbers in [0, 1) (Adam's β₁, β₂), got {v!r}")
    return (float(v[0]), float(v[1]))


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (all of it enters the cache key).

    ``strength`` is β (beta_vae, beta_tcvae, rtc_vae, revised_beta_vae), γ (factor_vae,
    revised_factor_vae) or λ_od (dip_vae_i/ii). Paper: batch 500, Adam lr 1e-3.

    Every field is checked when the config is built (a ``ValueError`` naming the field) and
    normalised: numbers become Python ``int``/``float`` (numpy scalars are accepted), pairs become
    tuples of floats — so configs that mean the same run compare equal and share a cache key.
    ``eta_cap`` (default 20·base η) may be ``inf`` but not below the base η = max(10, strength).
    """
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
    eta_every: int = 50
    eta_cap: float | None = None
    eta_restore: str = "last"
    channels_last: bool = True
    precision: str = "fp32"  # the networks' arithmetic in training: "fp32" or "bf16" (rtc.models.networks.autocast)
    checkpoint_every: int = 250
    snapshot_every: int = 0  # keep the model's weights every k steps (0: never), for metrics over training

    def __post_init__(self):
        put = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731  (frozen dataclass)
        if not (isinstance(self.model, str) and self.model in MODELS):
            raise ValueError(f"TrainConfig.model: unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        put("strength", _real("strength", self.strength))
        if self.lambda_d is not None:
            put("lambda_d", _real("lambda_d", self.lambda_d))
        if self.tc_estimator is not None and self.tc_estimator not in TC_ESTIMATORS:
            raise ValueError(f"TrainConfig.tc_estimator: unknown tc_estimator {self.tc_estimator!r}; "
                             f"choose one of {', '.join(TC_ESTIMATORS)}")
        # a batch of one has no covariance (DIP), no minibatch TC and nothing to permute (FactorVAE)
        for name, minimum in (("latent_dim", 1), ("batch_size", 2), ("steps", 1), ("warmup_steps", 0),
                              ("seed", 0), ("disc_hidden", 1), ("disc_layers", 2), ("eta_every", 1),
                              ("checkpoint_every", 1), ("snapshot_every", 0)):
            put(name, _int(name, getattr(self, name), minimum))
        if self.seed >= 2 ** 63:
            raise ValueError(f"TrainConfig.seed must be < 2**63, got {self.seed}")
        put("lr", _real("lr", self.lr, positive=True))
        put("disc_lr", _real("disc_lr", self.disc_lr, positive=True))
        put("adam_betas", _betas("adam_betas", self.adam_betas))
        put("disc_betas", _betas("disc_betas", self.disc_betas))
        if self.eta_restore not in ("last", "base"):
            raise ValueError(f"TrainConfig.eta_restore must be 'last' or 'base', got {self.eta_restore!r}")
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
            cap = _real("eta_cap", self.eta_cap, allow_inf=True)
            if cap < obj.base_eta:
                raise ValueError(f"TrainConfig.eta_cap {cap:g} is below the base η = max(10, strength) = "
                                 f"{obj.base_eta:g}")
            put("eta_cap", cap)

    def objective(self) -> Objective:
        return Objective(self.model, self.strength, lambda_d=self.lambda_d, tc_estimator=self.tc_estimator,
                         warmup_steps=self.warmup_steps, warmup_start=self.warmup_start)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def default_device(device=None) -> torch.device:
    """``device`` if given, else CUDA when present, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# ---------------------------------------------------------------------------------------------------------------
# The cache key
# ---------------------------------------------------------------------------------------------------------------

def dataset_identity(ds) -> dict:
    """What distinguishes one dataset from another for the cache (name, grid, channels, source, seed)."""
    return {"name": getattr(ds, "name", type(ds).__name__), "factor_sizes": list(getattr(ds, "factor_sizes", [])),
            "num_channels": int(ds.num_channels), "len": len(ds),
            "source": str(getattr(ds, "source", getattr(ds, "path", None))), "seed": getattr(ds, "seed", None),
            "render_version": getattr(ds, "render_version", None)}


# The modules (a package: all its files) whose code determines a run's result.
CODE_MODULES = ("rtc.models.networks", "rtc.models.objectives", "rtc.models.eta", "rtc.models.train",
                "rtc.discriminator", "rtc.estimators.minibatch", "rtc.gaussian", "rtc._validate", "rtc.data")


def _module_files(name: str) -> list[str]:
    mod = importlib.import_module(name)
    if hasattr(mod, "__path__"):  # a package: every .py file in it
        return sorted(str(p) for d in mod.__path__ for p in Path(d).rglob("*.py"))
    return [mod.__file__]


@cache
def _library_files() -> frozenset[str]:
    return frozenset(f for m in CODE_MODULES for f in _module_files(m))


def code_version(ds=None) -> str:
    """Hash of the code that determines a run: :data:`CODE_MODULES` plus the files defining ``type(ds)`` and its bases.

    Comments, docstrings and layout do not count (see :func:`_code_digest`); any change to the code does.
    """
    files = set(_library_files())
    for cls in type(ds).__mro__ if ds is not None else ():
        try:
            f = inspect.getsourcefile(cls)
        except TypeError:  # built-in classes (object) have no source
            f = None
        if f is not None and f.endswith(".py"):
            files.add(f)
    return files_digest(files)[:16]


def run_dir_for(config: TrainConfig, ds, cache_dir: str | Path) -> Path:
    """``<cache_dir>/<model>-<key>``: the key hashes the (normalised) config, the dataset and :func:`code_version`."""
    blob = json.dumps({"config": config.to_dict(), "data": dataset_identity(ds), "code": code_version(ds)},
                      sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{config.model}-{key}"


# ---------------------------------------------------------------------------------------------------------------
# One run's state, and one step
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Trainer:
    """Everything one run updates: the VAE and its Adam, the objective, the FactorVAE family's discriminator and
    its Adam (else None), RTC-VAE's η schedule (else None), and the run's random generators — ``noise`` for ε
    (on the model's device), ``perm`` for the discriminator's permutations (CPU; the same generator as ``noise``
    on a CPU). Built by :func:`build`."""
    model: VAE
    opt: torch.optim.Optimizer
    objective: Objective
    disc: Discriminator | None
    dopt: torch.optim.Optimizer | None
    eta: EtaSchedule | None
    noise: torch.Generator
    perm: torch.Generator
    precision: str = "fp32"

    def rng_state(self) -> dict:
        return {"noise": self.noise.get_state(), "perm": self.perm.get_state()}  # (one state twice on a CPU)

    def state_dict(self, rng: dict | None = None) -> dict:
        """The state to checkpoint (``rng``: generator states taken earlier, e.g. before a failed step)."""
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict(),
                "disc": self.disc.state_dict() if self.disc is not None else None,
                "dopt": self.dopt.state_dict() if self.dopt is not None else None,
                "eta": self.eta.state_dict() if self.eta is not None else None,
                "rng": rng if rng is not None else self.rng_state()}

    def load_state_dict(self, st: dict) -> None:
        self.model.load_state_dict(st["model"])
        self.opt.load_state_dict(st["opt"])
        if self.disc is not None:
            self.disc.load_state_dict(st["disc"])
            self.dopt.load_state_dict(st["dopt"])
        if self.eta is not None:
            self.eta.load_state_dict(st["eta"])
        self.noise.set_state(st["rng"]["noise"])
        self.perm.set_state(st["rng"]["perm"])


def build(config: TrainConfig, num_channels: int, device=None) -> Trainer:
    """A fresh :class:`Trainer` for ``config``: the initial weights are a function of ``config.seed`` only."""
    device = default_device(device)
    obj = config.objective()
    with torch.random.fork_rng(devices=[]):  # initialise from the seed, then give the caller its RNG state back
        torch.default_generator.manual_seed(config.seed)  # (torch.manual_seed would reseed the caller's CUDA RNG too)
        model = VAE(num_channels, config.latent_dim, channels_last=config.channels_last)
        disc = (Discriminator(config.latent_dim, config.disc_hidden, config.disc_layers)
                if obj.uses_discriminator else None)
        after_init = torch.get_rng_state()
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.adam_betas)
    dopt = None
    if disc is not None:
        disc = disc.to(device)
        dopt = torch.optim.Adam(disc.parameters(), lr=config.disc_lr, betas=config.disc_betas)
    eta = None
    if obj.uses_eta:
        eta = EtaSchedule(obj.base_eta, every=config.eta_every, cap=config.eta_cap, restore=config.eta_restore,
                          start=config.warmup_steps)
    # The training draws continue the seeded stream where the initialisation left it (CPU), and ε on a GPU comes
    # from that device's stream seeded alike: the draws of a run seeded once with torch.manual_seed(seed).
    perm = torch.Generator()
    perm.set_state(after_init)
    noise = perm if device.type == "cpu" else torch.Generator(device=device).manual_seed(config.seed)
    if config.precision == "bf16" and not native_bf16(device):
        warnings.warn(f"precision='bf16' on {device}, which has no native bfloat16: autocast emulates it, much "
                      "slower than fp32 (measured ~20× on a CPU without AVX-512 BF16)", stacklevel=2)
    if disc is not None:
        disc.precision = config.precision
    return Trainer(model, opt, obj, disc, dopt, eta, noise, perm, config.precision)


def vae_step(tr: Trainer, x: torch.Tensor, *, step: int, dataset_size: int) -> tuple[VAEOutput, dict]:
    """One Adam step of the VAE on images ``x`` (B, C, 64, 64) at training step ``step`` (for the warm-up).

    Returns the forward pass (its codes feed :func:`discriminator_step`) and the step's terms: the
    objective's (detached scalars, see :class:`~rtc.models.objectives.Objective`) plus ``grad_norm``.
    Raises :class:`TrainingDiverged`, with the parameters and Adam state untouched, when the loss
    or the gradient norm is not finite.
    """
    # forward: µ, log σ², z = µ + σ·ε (ε from the run's generator), reconstruction logits — the networks at the
    # run's precision, every output (and so the loss, KL, TC and η's input) in float32
    out = tr.model(x, generator=tr.noise, precision=tr.precision)
    # loss, with the discriminator (if any) frozen so that this backward leaves its gradients alone
    if tr.disc is not None:
        tr.disc.requires_grad_(False)
    loss, terms = tr.objective(out, x, step=step, eta=tr.eta.eta if tr.eta is not None else 0.0,
                               dataset_size=dataset_size, discriminator=tr.disc)
    if tr.disc is not None:
        tr.disc.requires_grad_(True)
    if not torch.isfinite(loss):
        bad = [n for n in ("recon", "kl", "loss") if not torch.isfinite(terms[n])]
        raise TrainingDiverged(f"non-finite {', '.join(bad)}")
    # backward, and the gradient norm (no clipping: the norm is logged and guarded)
    tr.opt.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(tr.model.parameters(), float("inf"))
    if not torch.isfinite(grad_norm):
        tr.opt.zero_grad(set_to_none=True)
        raise TrainingDiverged("non-finite gradient")
    # update
    tr.opt.step()
    return out, {**terms, "grad_norm": grad_norm.detach()}


def discriminator_step(tr: Trainer, z: torch.Tensor, x2: torch.Tensor) -> dict:
    """One Adam step of FactorVAE's discriminator: class 0 the codes ``z`` (B, D) of the VAE step (detached),
    class 1 codes of a second batch ``x2`` encoded (no gradient) and permuted dimension-wise — samples of
    ∏_k q(z_k). Returns ``disc_loss`` and ``disc_acc``. Raises :class:`TrainingDiverged`, with the
    discriminator and its Adam state untouched, when the loss or its gradient norm is not finite."""
    # the permuted codes, from the encoder as the VAE step left it
    with torch.no_grad():
        with autocast(x2.device, tr.precision):
            mu2, logvar2 = tr.model.encode(x2)
        z_perm = permute_dims(reparameterize(mu2.float(), logvar2.float(), tr.noise), tr.perm)
    # loss: cross-entropy of q(z) (class 0) against ∏_k q(z_k) (class 1)
    loss, acc = discriminator_loss(tr.disc(z.detach()), tr.disc(z_perm))
    if not torch.isfinite(loss):
        raise TrainingDiverged("non-finite discriminator loss")
    # backward, guard, update
    tr.dopt.zero_grad(set_to_none=True)
    loss.backward()
    if not torch.isfinite(torch.nn.utils.clip_grad_norm_(tr.disc.parameters(), float("inf"))):
        tr.dopt.zero_grad(set_to_none=True)
        raise TrainingDiverged("non-finite discriminator gradient")
    tr.dopt.step()
    return {"disc_loss": loss.detach(), "disc_acc": acc}


class PreStepCopy:
    """A copy of the VAE's parameters and Adam state from before the current step (FactorVAE family only).

    The discriminator steps after the VAE: when it fails, the VAE has already moved, and this copy puts it back so
    that the checkpoint holds the state from before the failed step. Costs a copy of ~1.3 M parameters ×3 per step
    (measured ~1 % of a FactorVAE step on CPU at batch 64: ``bench/bench_train.py``).
    """

    def __init__(self, model: torch.nn.Module, opt: torch.optim.Optimizer):
        self.model, self.opt, self.saved, self.had_state = model, opt, None, False

    def _live(self) -> list[torch.Tensor]:
        params = list(self.model.parameters())
        state = [v for p in params for v in self.opt.state.get(p, {}).values() if torch.is_tensor(v)]
        return [p.detach() for p in params] + state

    def remember(self) -> None:
        live = self._live()
        self.had_state = len(live) > len(list(self.model.parameters()))
        if self.saved is None or len(self.saved) != len(live):
            self.saved = [t.clone() for t in live]
        else:
            for s, t in zip(self.saved, live, strict=True):
                s.copy_(t)

    def restore(self) -> None:
        if not self.had_state:  # the failed step was the optimizer's first: it had no state before
            self.opt.state.clear()
        for t, s in zip(self._live(), self.saved, strict=True):
            t.copy_(s)


# ---------------------------------------------------------------------------------------------------------------
# Files: atomic writes, readable errors
# ---------------------------------------------------------------------------------------------------------------

def _atomic_write(path: Path, write) -> None:
    """:func:`rtc._io.atomic_write` (unique temporary name beside ``path``, fsync, rename; orphans of dead writers
    removed), with a :class:`CheckpointError` that says what to do when the write fails."""
    try:
        atomic_write(path, write)
    except (OSError, RuntimeError) as e:
        cause = ("no space left on device" if isinstance(e, OSError) and e.errno == errno.ENOSPC
                 else f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        try:
            free = f"{shutil.disk_usage(path.parent).free / 2**20:.0f} MiB free there"
        except OSError:
            free = "free space unknown"
        raise CheckpointError(
            f"could not write {path} ({cause}; {free}). Nothing was lost: the previous {path.name}, if any, is "
            f"intact. Free disk space (or make the directory writable) and call train() again — it continues from "
            f"the last checkpoint.") from e


def _atomic_save(obj, path: Path) -> None:
    _atomic_write(path, lambda tmp: torch.save(obj, tmp))


def _load(path: Path, remedy: str) -> dict:
    """torch.load, with an error naming the file, the cause and ``remedy`` when the file is unreadable."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:
        msg = str(e).splitlines()[0] if str(e) else ""
        raise CheckpointError(f"{path} cannot be read ({type(e).__name__}: {msg}); it is truncated or corrupt (a "
                              f"copy that did not finish, a crash of an older version while writing it, or a bad "
                              f"disk). {remedy}") from e


def load_model(path, config: TrainConfig, num_channels: int | None = None, device=None) -> VAE:
    """A VAE with the weights stored at ``path`` (a snapshot or ``final.pt``), in eval mode."""
    state = _load(Path(path), "Delete it and train the run again.")
    with torch.random.fork_rng(devices=[]):  # the throw-away initial weights must not consume the caller's RNG
        model = VAE(num_channels or state["num_channels"], config.latent_dim, channels_last=config.channels_last)
    model.load_state_dict(state["model"])
    return model.to(default_device(device)).eval()


@contextlib.contextmanager
def _run_lock(run_dir: Path, progress: bool):
    """Hold the run's lock (``run_dir/lock``, waiting for another holder), and remove what writers of this run that
    died (SIGKILL, out of memory) left behind: their temporary files in the run folder and its snapshots."""
    def say(holder):
        if progress:
            who = f" (pid {holder})" if holder else ""
            print(f"waiting for another process{who} training {run_dir} …", file=sys.stderr, flush=True)

    with file_lock(run_dir / "lock", on_wait=say):
        for folder in (run_dir, run_dir / "snapshots"):
            remove_orphans(folder)
        yield


def _drop_stale_checkpoint(run_dir: Path) -> None:
    """A ``checkpoint.pt`` beside ``final.pt`` is left by a kill between the two; remove it if we may (no error in a
    read-only cache, and never while another process holds the run's lock — it may be retraining)."""
    ckpt = run_dir / "checkpoint.pt"
    if not ckpt.exists():
        return
    try:
        with file_lock(run_dir / "lock", wait=False):
            if (run_dir / "final.pt").exists():
                ckpt.unlink(missing_ok=True)
    except (OSError, LockBusy):
        pass


# ---------------------------------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class TrainResult:
    """A trained (or partly trained) model and its per-step log (name → float64 array of length steps_done)."""
    model: VAE
    log: dict
    config: TrainConfig
    run_dir: Path
    steps_done: int
    finished: bool
    discriminator: torch.nn.Module | None = None
    seconds: float = 0.0
    snapshots: list = field(default_factory=list)

    def load_snapshot(self, step: int, device=None) -> VAE:
        return load_model(self.run_dir / "snapshots" / f"step_{step:07d}.pt", self.config, device=device)


def _as_arrays(log: dict) -> dict:
    return {k: np.asarray(v, dtype=np.float64) for k, v in log.items()}


def _load_finished(config: TrainConfig, run_dir: Path, device) -> TrainResult:
    final = run_dir / "final.pt"
    state = _load(final, "Delete it (or call train(..., retrain=True)) to train the run again.")
    with torch.random.fork_rng(devices=[]):  # the throw-away initial weights must not consume the caller's RNG
        model = VAE(state["num_channels"], config.latent_dim, channels_last=config.channels_last)
        disc = (Discriminator(config.latent_dim, config.disc_hidden, config.disc_layers)
                if state.get("disc") is not None else None)
    model.load_state_dict(state["model"])
    if disc is not None:
        disc.load_state_dict(state["disc"])
        disc = disc.to(device).eval()
    return TrainResult(model.to(device).eval(), _as_arrays(state["log"]), config, run_dir, config.steps, True, disc,
                       seconds=state.get("seconds", 0.0), snapshots=state.get("snapshots", []))


def train(config: TrainConfig, dataset, *, device=None, cache_dir: str | Path = "results/runs",
          progress: bool = True, time_limit: float | None = None, max_steps: int | None = None,
          retrain: bool = False) -> TrainResult:
    """Train (or load, or resume) the run ``config`` on ``dataset`` (the ``rtc.data`` interface).

    ``time_limit`` (seconds) / ``max_steps`` (steps in this call) stop early at a step boundary
    with a checkpoint, returning ``finished=False``; calling again resumes. ``retrain=True``
    ignores (and overwrites) what the cache holds, even a run finished by a concurrent caller.
    Concurrent callers of one run are serialised (module docstring): the later one waits, then
    loads or resumes. Raises :class:`TrainingDiverged` on a non-finite loss or gradient (of the
    VAE or the discriminator), after saving the state from before that step as the checkpoint,
    and :class:`CheckpointError` when a run file cannot be written or read.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if time_limit is not None and not (is_real(time_limit) and time_limit >= 0):
        raise ValueError(f"time_limit must be a number of seconds ≥ 0 or None, got {time_limit!r}")
    if max_steps is not None and not (is_integer(max_steps) and max_steps >= 0):
        raise ValueError(f"max_steps must be an integer ≥ 0 or None, got {max_steps!r}")
    n_data = len(dataset)
    if config.objective().tc_estimator not in (None, "density_ratio") and n_data < config.batch_size:
        raise ValueError(f"the minibatch TC estimators need a dataset of at least batch_size={config.batch_size} "
                         f"images, got {n_data}")
    device = default_device(device)
    run_dir = run_dir_for(config, dataset, cache_dir)
    final, ckpt = run_dir / "final.pt", run_dir / "checkpoint.pt"

    # A finished run is only read: no lock, no write (final.pt appears by an atomic rename), so a read-only cache works.
    if final.exists() and not retrain:
        _drop_stale_checkpoint(run_dir)
        return _load_finished(config, run_dir, device)

    run_dir.mkdir(parents=True, exist_ok=True)
    with _run_lock(run_dir, progress):
        if retrain:
            final.unlink(missing_ok=True)
            ckpt.unlink(missing_ok=True)
        elif final.exists():  # finished by another process while we waited for the lock
            ckpt.unlink(missing_ok=True)
            return _load_finished(config, run_dir, device)
        _atomic_write(run_dir / "config.json", lambda tmp: tmp.write_text(json.dumps(
            {"config": config.to_dict(), "data": dataset_identity(dataset), "code": code_version(dataset)},
            indent=1, default=str)))
        return _train_locked(config, dataset, device, run_dir, progress, time_limit, max_steps, n_data)


def _train_locked(config, dataset, device, run_dir, progress, time_limit, max_steps, n_data) -> TrainResult:
    final, ckpt = run_dir / "final.pt", run_dir / "checkpoint.pt"
    tr = build(config, dataset.num_channels, device)
    log = {k: [] for k in LOG_KEYS}
    start, seconds, snapshots = 0, 0.0, []
    if ckpt.exists():
        st = _load(ckpt, "Delete it to train this run from its start.")
        tr.load_state_dict(st)
        log, start, seconds, snapshots = st["log"], st["step"], st["seconds"], st["snapshots"]

    def save_checkpoint(step, rng=None):
        _atomic_save({"step": step, **tr.state_dict(rng), "log": log, "seconds": seconds, "snapshots": snapshots,
                      "config": config.to_dict()}, ckpt)

    per_step = 2 if tr.disc is not None else 1  # batches per step
    stream = batches(dataset, config.batch_size, seed=config.seed, device=device, start=per_step * start)
    pre_step = PreStepCopy(tr.model, tr.opt) if tr.disc is not None else None
    nan = torch.tensor(float("nan"))
    tr.model.train()
    t0 = t_call = time.perf_counter()
    stop = config.steps if max_steps is None else min(config.steps, start + max_steps)
    bar = tqdm(total=config.steps, initial=start, disable=not progress, desc=config.model, leave=False)
    step = start
    try:
        while step < stop:
            if time_limit is not None and time.perf_counter() - t_call > time_limit:
                break
            rng_before = tr.rng_state()  # a failed step is saved as the state from *before* it
            if pre_step is not None:
                pre_step.remember()
            try:
                # VAE step on batch k, then the discriminator's on batch k + 1
                out, terms = vae_step(tr, next(stream), step=step, dataset_size=n_data)
                if tr.disc is not None:
                    terms.update(discriminator_step(tr, out.z, next(stream)))
            except TrainingDiverged as e:
                if pre_step is not None:
                    pre_step.restore()
                save_checkpoint(step, rng=rng_before)
                raise TrainingDiverged(
                    f"{config.model} diverged at step {step} ({e}); the state before this step is saved in {ckpt} "
                    f"— lower the learning rate or the regularization strength") from None
            # log: one transfer of all the step's scalars (one device sync)
            values = torch.stack([terms.get(k, nan).float().cpu() for k in LOG_KEYS]).tolist()
            row = dict(zip(LOG_KEYS, values, strict=True))
            for k, v in row.items():
                log[k].append(v)
            # η: RTC-VAE's controller sees the posterior-variance term
            if tr.eta is not None:
                tr.eta.update(row["var_sum"], step)
            step += 1
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix(recon=f"{row['recon']:.1f}", kl=f"{row['kl']:.2f}", tc=f"{row['tc']:.2f}",
                                eta=f"{row['eta']:.3g}", refresh=False)
            # snapshot / checkpoint
            if config.snapshot_every and step % config.snapshot_every == 0:
                (run_dir / "snapshots").mkdir(exist_ok=True)
                _atomic_save({"model": tr.model.state_dict(), "num_channels": dataset.num_channels, "step": step},
                             run_dir / "snapshots" / f"step_{step:07d}.pt")
                snapshots.append(step)
            if step % config.checkpoint_every == 0 and step < config.steps:
                seconds, t0 = seconds + time.perf_counter() - t0, time.perf_counter()
                save_checkpoint(step)
    finally:
        bar.close()
    seconds += time.perf_counter() - t0
    finished = step >= config.steps
    if finished:
        _atomic_save({"model": tr.model.state_dict(), "num_channels": dataset.num_channels, "log": log,
                      "seconds": seconds, "snapshots": snapshots, "config": config.to_dict(),
                      "disc": tr.disc.state_dict() if tr.disc is not None else None}, final)
        ckpt.unlink(missing_ok=True)  # a kill before this line leaves a stale checkpoint: dropped on the next load
    elif step % config.checkpoint_every != 0 or step == start:
        save_checkpoint(step)
    tr.model.eval()
    return TrainResult(tr.model, _as_arrays(log), config, run_dir, step, finished, tr.disc, seconds,
                       list(snapshots))
