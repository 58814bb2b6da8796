"""Training loop: deterministic minibatches, per-step logged terms, NaN guard, atomic checkpoints, exact resume, and a
results cache keyed on the configuration, the dataset and the code.

One step ``t`` (= 0, 1, …) of :func:`train`:

1. data — batch ``k`` of the stream :func:`rtc.data.batches` (``k = t``; ``k = 2t`` when a discriminator is trained,
   whose step takes batch ``2t + 1`` — FactorVAE's second batch);
2. :func:`vae_step` — forward at ``config.precision`` (float32, or bf16 autocast with every output, loss term and
   estimate in float32: :mod:`rtc.models.networks`), the objective (:class:`rtc.models.objectives.Objective`) with
   the current η, backward (the discriminator frozen: its optimizer never sees the VAE's gradients), NaN/inf guard
   on the loss and the gradient norm, Adam step (float32 weights and state at either precision);
3. :func:`discriminator_step` (FactorVAE family with the density-ratio TC) — the codes z of batch k, detached,
   against ``permute_dims`` of codes of batch k + 1 encoded without gradient by the just-updated encoder;
   cross-entropy, guard, its own Adam (lr 1e-4, betas (0.5, 0.9) per Kim & Mnih). No autograd graph is reused after
   an optimizer step;
4. log — the step's terms, by name (:data:`LOG_KEYS`; NaN where a model has no such term);
5. η update (RTC-VAE family, :class:`rtc.models.eta.EtaSchedule`, held during the warm-up);
6. snapshot at ``config.kept_steps()`` (``snapshot_steps`` and the last step); checkpoint every ``checkpoint_every``
   steps.

Data: batch k holds the dataset indices at positions k·B … k·B + B − 1 of a stream made of independent permutations
of the whole dataset, one per epoch, each seeded by (seed, epoch): sampling without replacement. A batch is a
function of its position only, so resuming needs no replay of the data iterator.

Randomness: the initial weights come from torch's CPU RNG seeded with ``config.seed`` inside
``torch.random.fork_rng`` (the caller's RNG state is restored afterwards); everything random during training (ε of
the reparameterisation, the discriminator's permutations) comes from the run's own ``torch.Generator`` objects, which
continue that seeded stream (and, for ε on a GPU, the device's stream seeded with ``config.seed``) — the same draws
as a script that calls ``torch.manual_seed(seed)`` once and then uses the global RNG. :func:`train` never changes the
global torch, NumPy or Python RNGs of its caller, and two runs in two threads do not share one. The generators'
states go into every checkpoint, with the optimizers', the η schedule's and the log. On CPU a run stopped and resumed
ends bit-identical to an uninterrupted one (tested). On CUDA, cuDNN kernels are not bit-reproducible; resume is then
exact in state but not in the float bits that follow.

Cache: ``<cache_dir>/<model>-<key>/`` holds one trajectory. The key hashes every field of :class:`TrainConfig` but
where the run stops and what it keeps (``steps``, ``snapshot_steps``, ``checkpoint_every``), normalised (``2`` and
``2.0`` are one run), the dataset's identity and :func:`code_version` (the source of networks, objectives,
estimators, discriminator, η schedule, this loop, the data package and the dataset's class; comments excluded).
``final.pt`` holds the run at the furthest step S a call finished at; a call for N ≤ S only reads (the weights of
``final.pt`` or of the snapshot at N, the log cut at N; a read-only cache works), one for N > S extends the run from
``checkpoint.pt``, which is kept at the trajectory's end: trained to 1,000 steps and then to 2,000, a run is bit for
bit the one trained to 2,000 at once (tested). Files are written atomically and carry a format (:class:`RunState`).

Concurrency: a call that has to train holds an exclusive ``fcntl.flock`` on ``<run dir>/lock`` for the whole call. A
second process (or thread) training the same run waits for it, then reads the run if the first got far enough, or
resumes from its checkpoint; two different runs never wait for each other. A holder that dies (even by SIGKILL)
releases the lock with its process. Reading takes no lock. ``flock`` is POSIX (NFSv4 has working locks).
"""
from __future__ import annotations

import json
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from rtc._validate import is_integer, is_real
from rtc.data import batches
from rtc.discriminator import Discriminator, permute_dims

from .config import TrainConfig, default_device
from .eta import EtaSchedule
from .networks import VAE, VAEOutput, autocast, native_bf16, reparameterize
from .objectives import Objective, discriminator_loss
from .runfiles import (
    CHECKPOINT,
    CONFIG,
    FINAL,
    LOG_KEYS,
    SNAPSHOTS,
    RunState,
    TrainResult,
    _atomic_save,
    _atomic_write,
    _prefix,
    _run_lock,
    code_version,
    dataset_identity,
    read_reached,
    read_run_file,
    run_dir_for,
    snapshot_path,
)

__all__ = ["TrainResult", "TrainingDiverged", "Trainer", "build", "vae_step", "discriminator_step", "PreStepCopy",
           "train"]


class TrainingDiverged(RuntimeError):
    """A loss or gradient became NaN/inf; the message names the step and the last good checkpoint."""


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
        eta = EtaSchedule(obj.base_eta, kl_weight=obj.kl_weight, latent_dim=config.latent_dim,
                          every=config.eta_every, cap=config.eta_cap, start=config.warmup_steps)
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

    Returns the forward pass (its codes feed :func:`discriminator_step`) and the step's terms: the objective's
    (detached scalars, see :class:`~rtc.models.objectives.Objective`) plus ``grad_norm``. Raises
    :class:`TrainingDiverged`, with the parameters and Adam state untouched, when the loss or the gradient norm is
    not finite."""
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
    """One Adam step of FactorVAE's discriminator: class 0 the codes ``z`` (B, D) of the VAE step (detached), class 1
    codes of a second batch ``x2`` encoded (no gradient) and permuted dimension-wise — samples of ∏_k q(z_k).
    Returns ``disc_loss`` and ``disc_acc``. Raises :class:`TrainingDiverged`, with the discriminator and its Adam
    state untouched, when the loss or its gradient norm is not finite."""
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
    (measured ~1 % of a FactorVAE step on CPU at batch 64: ``bench/bench_train.py``)."""

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


def train(config: TrainConfig, dataset, *, cache_dir: str | Path, device=None, progress: bool = True,
          time_limit: float | None = None, max_steps: int | None = None, retrain: bool = False) -> TrainResult:
    """The run ``config`` on ``dataset`` (the ``rtc.data`` interface) after ``config.steps`` steps: read from
    ``<cache_dir>/<model>-<key>`` (:func:`run_dir_for`) when it got that far, else trained, resumed or extended there
    (:class:`StepNotKept` when it went further without keeping that step). ``time_limit`` (seconds) / ``max_steps``
    (steps in this call) stop early at a step boundary with a checkpoint (``finished=False``; calling again resumes).
    ``retrain=True`` overwrites what the cache holds. Concurrent callers of one run are serialised (module
    docstring). Raises :class:`TrainingDiverged` on a non-finite loss or gradient, after saving the state from
    before that step as the checkpoint, and :class:`CheckpointError` when a run file cannot be written or read."""
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

    # A run trained this far is only read: no lock, no write (final.pt appears by an atomic rename), so a read-only
    # cache works.
    if not retrain and (done := read_reached(config, run_dir, device)) is not None:
        return done

    run_dir.mkdir(parents=True, exist_ok=True)
    with _run_lock(run_dir, progress):
        if retrain:
            for f in (run_dir / FINAL, run_dir / CHECKPOINT):
                f.unlink(missing_ok=True)
            shutil.rmtree(run_dir / SNAPSHOTS, ignore_errors=True)
        elif (done := read_reached(config, run_dir, device)) is not None:  # trained so far while we waited
            return done
        _atomic_write(run_dir / CONFIG, lambda tmp: tmp.write_text(json.dumps(
            {"config": config.to_dict(), "data": dataset_identity(dataset), "code": code_version(dataset)},
            indent=1, default=str)))
        tr, state = _restore(config, dataset.num_channels, device, run_dir)
        if state.step > config.steps:  # an extension past this step stopped before finishing: read the way there
            return _prefix(config, run_dir, state.to_dict(), device, run_dir / CHECKPOINT)
        start, seconds_before, t_call = state.step, state.seconds, time.perf_counter()
        stop = config.steps if max_steps is None else min(config.steps, start + max_steps)
        per_step = 2 if tr.disc is not None else 1  # batches per step (the discriminator takes the second)
        stream = batches(dataset, config.batch_size, seed=config.seed, device=device, start=per_step * start)
        pre_step = PreStepCopy(tr.model, tr.opt) if tr.disc is not None else None
        kept = set(config.kept_steps())
        tr.model.train()
        with tqdm(total=config.steps, initial=start, disable=not progress, desc=config.model, leave=False) as bar:
            while state.step < stop and (time_limit is None or time.perf_counter() - t_call <= time_limit):
                row = _step(tr, state, stream, pre_step=pre_step, n_data=n_data, config=config, run_dir=run_dir)
                state.seconds = seconds_before + time.perf_counter() - t_call  # saved by the next checkpoint
                bar.update(1)
                if state.step % 20 == 0:
                    bar.set_postfix({k: f"{row[k]:.3g}" for k in ("recon", "kl", "tc", "eta")}, refresh=False)
                if state.step in kept:
                    _snapshot(tr, state, run_dir)
                if state.step % config.checkpoint_every == 0 and state.step < config.steps:
                    _checkpoint(tr, state, config, run_dir)
        return _finish(tr, state, config, run_dir, start=start)


def _restore(config: TrainConfig, num_channels: int, device, run_dir: Path) -> tuple[Trainer, RunState]:
    """A :class:`Trainer` for ``config`` and a :class:`RunState`: fresh, or as the run's ``checkpoint.pt`` saved
    them — the run then continues where the checkpoint was taken, bit for bit on a CPU."""
    tr = build(config, num_channels, device)
    if not (run_dir / CHECKPOINT).exists():
        return tr, RunState()
    st = read_run_file(run_dir / CHECKPOINT, "Delete it to train this run from its start.")
    tr.load_state_dict(st)
    return tr, RunState.from_dict(st)


def _step(tr: Trainer, state: RunState, stream, *, pre_step, n_data: int, config: TrainConfig, run_dir: Path) -> dict:
    """Training step ``state.step``: the VAE on the next batch of ``stream``, the discriminator (if any) on the one
    after; the step's terms appended to ``state.log`` (one device sync); η updated; ``state.step`` advanced. Returns
    the row (name → float). On a non-finite loss or gradient: puts back the state from before the step (the VAE from
    ``pre_step``, a :class:`PreStepCopy`, as the discriminator steps after it; the generators), saves it as the
    checkpoint, for a look or a resume from there, and raises :class:`TrainingDiverged` naming the step."""
    rng_before = tr.rng_state()
    if pre_step is not None:
        pre_step.remember()
    try:
        out, terms = vae_step(tr, next(stream), step=state.step, dataset_size=n_data)
        if tr.disc is not None:
            terms.update(discriminator_step(tr, out.z, next(stream)))
    except TrainingDiverged as e:
        if pre_step is not None:
            pre_step.restore()
        _checkpoint(tr, state, config, run_dir, rng=rng_before)
        raise TrainingDiverged(
            f"{config.model} diverged at step {state.step} ({e}); the state before this step is saved in "
            f"{run_dir / CHECKPOINT} — lower the learning rate or the regularization strength") from None
    nan = torch.tensor(float("nan"))  # the terms a model does not have
    row = dict(zip(LOG_KEYS, torch.stack([terms.get(k, nan).float().cpu() for k in LOG_KEYS]).tolist(), strict=True))
    for k, v in row.items():
        state.log[k].append(v)
    if tr.eta is not None:  # RTC-VAE's controller sees the posterior-variance term
        tr.eta.update(row["var_sum"], state.step)
    state.step += 1
    return row


def _snapshot(tr: Trainer, state: RunState, run_dir: Path) -> None:
    """Keep the VAE's weights after ``state.step`` steps (:func:`snapshot_path`), for metrics over training, and
    list the step in ``state.snapshots`` (saved by the next checkpoint, so a resumed run lists every snapshot)."""
    path = snapshot_path(run_dir, state.step)
    path.parent.mkdir(exist_ok=True)
    _atomic_save({"format": RunState.FORMAT, "model": tr.model.state_dict(), "num_channels": tr.model.num_channels,
                  "step": state.step, "seconds": state.seconds}, path)
    if state.step not in state.snapshots:  # (a resumed call may keep a step again: the same bits)
        state.snapshots.append(state.step)


def _checkpoint(tr: Trainer, state: RunState, config: TrainConfig, run_dir: Path, rng: dict | None = None) -> None:
    """All a resume needs, as ``checkpoint.pt``: ``state``, the Trainer (``rng``: taken before a failed step),
    config."""
    _atomic_save({**state.to_dict(), **tr.state_dict(rng), "config": config.to_dict()}, run_dir / CHECKPOINT)


def _finish(tr: Trainer, state: RunState, config: TrainConfig, run_dir: Path, *, start: int) -> TrainResult:
    """End a call. A call that reached ``config.steps`` saves the checkpoint there (the trajectory's end, from which
    a longer run extends), then ``final.pt`` (weights, discriminator, state: a kill between the two leaves a
    checkpoint at that step, from which the next call only writes ``final.pt``); its snapshot there was kept by
    the loop. An unfinished call is checkpointed unless the loop just did (at a multiple of ``checkpoint_every``,
    in this call)."""
    finished = state.step >= config.steps
    if finished:
        if state.step not in state.snapshots:  # reached by a checkpoint of a call that kept other steps
            _snapshot(tr, state, run_dir)
        _checkpoint(tr, state, config, run_dir)
        _atomic_save({**state.to_dict(), "model": tr.model.state_dict(), "num_channels": tr.model.num_channels,
                      "config": config.to_dict(), "disc": tr.disc.state_dict() if tr.disc is not None else None},
                     run_dir / FINAL)
    elif state.step % config.checkpoint_every != 0 or state.step == start:
        _checkpoint(tr, state, config, run_dir)
    tr.model.eval()
    return TrainResult(tr.model, state.log, config, run_dir, state.step, finished, tr.disc, state.seconds,
                       state.snapshots)
