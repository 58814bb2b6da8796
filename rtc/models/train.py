"""Training loop: deterministic minibatches, per-step logged terms, NaN guard, atomic checkpoints,
exact resume and a results cache keyed on the full configuration.

One step (``t`` = 0, 1, …):

1. batch ``k`` of the data stream (``k = t``, or ``k = 2t`` when a discriminator is trained, whose
   step uses batch ``2t + 1`` — FactorVAE's second batch);
2. VAE forward, the objective (:class:`rtc.models.objectives.Objective`) with the current η;
   the discriminator's parameters are frozen for this backward, so its optimizer never sees
   the VAE's gradients; NaN/inf guard on the loss and the gradient norm; Adam step;
3. discriminator step (FactorVAE family with the density-ratio TC): codes z of batch k,
   detached, against ``permute_dims`` of codes of batch k + 1 encoded without gradient (after
   the VAE step), cross-entropy, its own Adam (lr 1e-4, betas (0.5, 0.9) per Kim & Mnih).
   The VAE graph is never reused after an optimizer step, so no in-place-modification error;
4. η update (RTC-VAE family, :class:`rtc.models.eta.EtaSchedule`, held during the warm-up);
5. the step's terms appended to the log (recon, kl, mi, tc, dwkl, dip, var_sum, eta, strength,
   loss, grad_norm, disc_loss, disc_acc; NaN where a model has no such term).

Data: batch k holds the dataset indices at positions k·B … k·B + B − 1 of a stream made of
independent permutations of the whole dataset, one per epoch, each seeded by (seed, epoch)
(sampling without replacement, as ``rtc.data.batches(shuffle=True)``). A batch is a function of
its position only, so resuming needs no replay of the data iterator.

Determinism: everything random comes from torch's global RNG (init, ε, permutations), seeded
by ``config.seed``; its state (and CUDA's, NumPy's and Python's, for completeness) goes into
every checkpoint, with the optimizers', the η schedule's and the log. On CPU a run stopped and
resumed ends bit-identical to an uninterrupted one (tested). On CUDA, cuDNN kernels are not
bit-reproducible; resume is then exact in state but not in the float bits that follow.

Cache: ``<cache_dir>/<model>-<hash>/`` where the hash covers every field of
:class:`TrainConfig` and the dataset's identity. ``final.pt`` there means the run is complete
and :func:`train` only loads it; ``checkpoint.pt`` means it is resumed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .eta import EtaSchedule
from .networks import VAE, reparameterize
from .objectives import Objective, discriminator_loss

__all__ = ["TrainConfig", "TrainResult", "TrainingDiverged", "BatchStream", "train", "run_dir_for",
           "default_device", "LOG_KEYS", "load_model"]

LOG_KEYS = ("recon", "kl", "mi", "tc", "dwkl", "dip", "var_sum", "eta", "strength", "loss", "grad_norm",
            "disc_loss", "disc_acc")


class TrainingDiverged(RuntimeError):
    """A loss or gradient became NaN/inf; the message names the step and the last good checkpoint."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (all of it enters the cache key).

    ``strength`` is β (beta_vae, beta_tcvae, rtc_vae, revised_beta_vae), γ (factor_vae,
    revised_factor_vae) or λ_od (dip_vae_i/ii). Paper: batch 500, Adam lr 1e-3.
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
    seed: int = 0
    disc_lr: float = 1e-4
    disc_betas: tuple[float, float] = (0.5, 0.9)
    disc_hidden: int = 1000
    disc_layers: int = 6
    eta_every: int = 50
    eta_cap: float | None = None
    eta_restore: str = "last"
    channels_last: bool = True
    checkpoint_every: int = 250
    snapshot_every: int = 0  # keep the model's weights every k steps (0: never), for metrics over training

    def __post_init__(self):
        for name in ("latent_dim", "batch_size", "steps", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.snapshot_every < 0 or self.warmup_steps < 0:
            raise ValueError("TrainConfig.snapshot_every and warmup_steps must be ≥ 0")
        if not (self.lr > 0 and self.disc_lr > 0):
            raise ValueError(f"learning rates must be > 0, got lr={self.lr}, disc_lr={self.disc_lr}")
        self.objective()  # validates model / strength / estimator

    def objective(self) -> Objective:
        return Objective(self.model, self.strength, lambda_d=self.lambda_d, tc_estimator=self.tc_estimator,
                         warmup_steps=self.warmup_steps)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def default_device(device=None) -> torch.device:
    """``device`` if given, else CUDA when present, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def dataset_identity(ds) -> dict:
    """What distinguishes one dataset from another for the cache (name, grid, channels, source, seed)."""
    return {"name": getattr(ds, "name", type(ds).__name__), "factor_sizes": list(getattr(ds, "factor_sizes", [])),
            "num_channels": int(ds.num_channels), "len": len(ds),
            "source": str(getattr(ds, "source", getattr(ds, "path", None))), "seed": getattr(ds, "seed", None),
            # a renderer change must not reuse runs trained on the old images
            "render_version": getattr(ds, "render_version", None)}


def _canonical_config(config: TrainConfig) -> dict:
    """The config as a dict with ints in float fields promoted (strength=2 and 2.0 are one run)."""
    out = config.to_dict()
    for f in dataclasses.fields(config):
        v = out[f.name]
        if "float" in str(f.type) and isinstance(v, int) and not isinstance(v, bool):
            out[f.name] = float(v)
    return out


def run_dir_for(config: TrainConfig, ds, cache_dir: str | Path) -> Path:
    blob = json.dumps({"config": _canonical_config(config), "data": dataset_identity(ds)}, sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{config.model}-{key}"


class BatchStream:
    """Minibatch k = dataset indices at stream positions [k·B, (k+1)·B), one seeded permutation per epoch."""

    def __init__(self, ds, batch_size: int, seed: int, device=None):
        self.ds, self.batch_size, self.seed, self.device = ds, batch_size, seed, device
        self.n = len(ds)
        if self.n < 1:
            raise ValueError("dataset is empty")
        self._perms: dict[int, np.ndarray] = {}

    def _perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._perms:
            if len(self._perms) > 2:
                self._perms.pop(min(self._perms))
            self._perms[epoch] = np.random.default_rng([self.seed, epoch]).permutation(self.n)
        return self._perms[epoch]

    def indices(self, k: int) -> np.ndarray:
        pos = np.arange(k * self.batch_size, (k + 1) * self.batch_size, dtype=np.int64)
        epochs, offs = pos // self.n, pos % self.n
        return np.concatenate([self._perm(int(e))[offs[epochs == e]] for e in np.unique(epochs)])

    def batch(self, k: int) -> torch.Tensor:
        """(B, C, 64, 64) float32 images of batch k on the stream's device."""
        return self.ds.observations(self.ds.index_to_factors(self.indices(k)), device=self.device)


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


def _atomic_save(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _build(config: TrainConfig, num_channels: int, device):
    model = VAE(num_channels, config.latent_dim, channels_last=config.channels_last).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.adam_betas)
    obj = config.objective()
    disc = dopt = None
    if obj.uses_discriminator:
        from rtc.discriminator import Discriminator
        disc = Discriminator(config.latent_dim, config.disc_hidden, config.disc_layers).to(device)
        dopt = torch.optim.Adam(disc.parameters(), lr=config.disc_lr, betas=config.disc_betas)
    eta = None
    if obj.uses_eta:
        eta = EtaSchedule(obj.base_eta, every=config.eta_every, cap=config.eta_cap, restore=config.eta_restore,
                          start=config.warmup_steps)
    return model, opt, obj, disc, dopt, eta


def load_model(path, config: TrainConfig, num_channels: int | None = None, device=None) -> VAE:
    """A VAE with the weights stored at ``path`` (a snapshot or ``final.pt``), in eval mode."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    nc = num_channels or state["num_channels"]
    model = VAE(nc, config.latent_dim, channels_last=config.channels_last)
    model.load_state_dict(state["model"])
    return model.to(default_device(device)).eval()


def _rng_state():
    return {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "numpy": np.random.get_state(), "python": random.getstate()}


def _set_rng_state(s):
    torch.set_rng_state(s["torch"])
    if s["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])
    np.random.set_state(s["numpy"])
    random.setstate(s["python"])


def train(config: TrainConfig, dataset, *, device=None, cache_dir: str | Path = "results/runs",
          progress: bool = True, time_limit: float | None = None, max_steps: int | None = None,
          retrain: bool = False) -> TrainResult:
    """Train (or load, or resume) the run ``config`` on ``dataset`` (the ``rtc.data`` interface).

    ``time_limit`` (seconds) / ``max_steps`` (steps in this call) stop early at a step boundary
    with a checkpoint, returning ``finished=False``; calling again resumes. ``retrain=True``
    ignores (and overwrites) what the cache holds. Raises :class:`TrainingDiverged` on a
    non-finite loss or gradient, after saving the state from before that step.
    """
    device = default_device(device)
    run_dir = run_dir_for(config, dataset, cache_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    final, ckpt = run_dir / "final.pt", run_dir / "checkpoint.pt"
    (run_dir / "config.json").write_text(json.dumps(
        {"config": config.to_dict(), "data": dataset_identity(dataset)}, indent=1, default=str))
    if retrain:  # a retrain that stops early must not leave the old final.pt to pass as finished
        final.unlink(missing_ok=True)
    if final.exists() and not retrain:
        state = torch.load(final, map_location="cpu", weights_only=False)
        model = load_model(final, config, device=device)
        disc = None
        if state.get("disc") is not None:
            from rtc.discriminator import Discriminator
            disc = Discriminator(config.latent_dim, config.disc_hidden, config.disc_layers)
            disc.load_state_dict(state["disc"])
            disc = disc.to(device).eval()
        return TrainResult(model, {k: np.asarray(v, dtype=np.float64) for k, v in state["log"].items()}, config,
                           run_dir, config.steps, True, disc, seconds=state.get("seconds", 0.0),
                           snapshots=state.get("snapshots", []))

    torch.manual_seed(config.seed)
    np.random.seed(config.seed % 2**32)
    random.seed(config.seed)
    model, opt, obj, disc, dopt, eta = _build(config, dataset.num_channels, device)
    log = {k: [] for k in LOG_KEYS}
    start, seconds, snapshots = 0, 0.0, []
    if ckpt.exists() and not retrain:
        st = torch.load(ckpt, map_location="cpu", weights_only=False)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        if disc is not None:
            disc.load_state_dict(st["disc"])
            dopt.load_state_dict(st["dopt"])
        if eta is not None:
            eta.load_state_dict(st["eta"])
        log, start, seconds, snapshots = st["log"], st["step"], st["seconds"], st["snapshots"]
        _set_rng_state(st["rng"])

    def save_checkpoint(step, rng=None):
        _atomic_save({"step": step, "model": model.state_dict(), "opt": opt.state_dict(),
                      "disc": disc.state_dict() if disc is not None else None,
                      "dopt": dopt.state_dict() if dopt is not None else None,
                      "eta": eta.state_dict() if eta is not None else None, "log": log,
                      "rng": rng if rng is not None else _rng_state(), "seconds": seconds, "snapshots": snapshots,
                      "config": config.to_dict()}, ckpt)

    stream = BatchStream(dataset, config.batch_size, config.seed, device)
    n_data = len(dataset)
    model.train()
    t0 = t_call = time.perf_counter()
    stop = config.steps if max_steps is None else min(config.steps, start + max_steps)
    bar = tqdm(total=config.steps, initial=start, disable=not progress, desc=config.model, leave=False)
    step = start
    try:
        while step < stop:
            if time_limit is not None and time.perf_counter() - t_call > time_limit:
                break
            rng_before = _rng_state()  # the NaN guard saves the state from *before* this step
            k = 2 * step if disc is not None else step
            x = stream.batch(k)
            out = model(x)
            if disc is not None:
                disc.requires_grad_(False)
            loss, terms = obj(out, x, step=step, eta=eta.eta if eta is not None else 0.0,
                              dataset_size=n_data, discriminator=disc)
            opt.zero_grad(set_to_none=True)
            if torch.isfinite(loss):
                loss.backward()
                gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
            if not torch.isfinite(loss) or not torch.isfinite(gnorm):
                bad = [n for n, v in terms.items() if not torch.isfinite(v) and n in ("recon", "kl", "loss")]
                opt.zero_grad(set_to_none=True)
                save_checkpoint(step, rng=rng_before)
                what = f"non-finite {', '.join(bad) or 'loss'}" if not torch.isfinite(loss) else "non-finite gradient"
                raise TrainingDiverged(
                    f"{config.model} diverged at step {step} ({what}); the state before this step is saved in "
                    f"{ckpt} — lower the learning rate or the regularization strength")
            opt.step()
            d_loss = d_acc = torch.tensor(float("nan"))
            if disc is not None:
                disc.requires_grad_(True)
                from rtc.discriminator import permute_dims
                with torch.no_grad():
                    mu2, lv2 = model.encode(stream.batch(k + 1))
                    z_perm = permute_dims(reparameterize(mu2, lv2))
                d_loss, d_acc = discriminator_loss(disc(out.z.detach()), disc(z_perm))
                if not torch.isfinite(d_loss):  # the VAE already stepped: keep the last periodic checkpoint
                    raise TrainingDiverged(f"{config.model}: the discriminator loss is non-finite at step {step}; "
                                           f"the last good state is the checkpoint in {ckpt}, if any")
                dopt.zero_grad(set_to_none=True)
                d_loss.backward()
                dopt.step()
            row = torch.stack([terms[k_].float().cpu() for k_ in LOG_KEYS[:10]]
                              + [gnorm.detach().float().cpu(), d_loss.detach().float().cpu(),
                                 d_acc.detach().float().cpu()]).tolist()
            for name, v in zip(LOG_KEYS, row):
                log[name].append(v)
            if eta is not None:
                eta.update(row[LOG_KEYS.index("var_sum")], step)
            step += 1
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix(recon=f"{row[0]:.1f}", kl=f"{row[1]:.2f}", tc=f"{row[3]:.2f}",
                                eta=f"{row[7]:.3g}", refresh=False)
            if config.snapshot_every and step % config.snapshot_every == 0:
                (run_dir / "snapshots").mkdir(exist_ok=True)
                _atomic_save({"model": model.state_dict(), "num_channels": dataset.num_channels, "step": step},
                             run_dir / "snapshots" / f"step_{step:07d}.pt")
                snapshots.append(step)
            if step % config.checkpoint_every == 0 and step < config.steps:
                seconds_now = seconds + time.perf_counter() - t0
                seconds, t0 = seconds_now, time.perf_counter()
                save_checkpoint(step)
    finally:
        bar.close()
    seconds += time.perf_counter() - t0
    finished = step >= config.steps
    if finished:
        _atomic_save({"model": model.state_dict(), "num_channels": dataset.num_channels, "log": log,
                      "seconds": seconds, "snapshots": snapshots, "config": config.to_dict(),
                      "disc": disc.state_dict() if disc is not None else None}, final)
        if ckpt.exists():
            ckpt.unlink()
    elif step % config.checkpoint_every != 0 or step == start:
        save_checkpoint(step)
    model.eval()
    return TrainResult(model, {k: np.asarray(v, dtype=np.float64) for k, v in log.items()}, config, run_dir,
                       step, finished, disc, seconds, list(snapshots))
