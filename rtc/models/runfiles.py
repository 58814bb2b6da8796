"""A run's folder: its cache key (:func:`run_dir_for`, hashing the configuration, the dataset's identity and
:func:`code_version`), its files and their format (:data:`FINAL`, :data:`CHECKPOINT`, :data:`SNAPSHOTS`,
:data:`CONFIG`, :class:`RunState`), atomic writes, the one format-checked reader of a run file
(:func:`read_run_file`), and the run's lock. :mod:`rtc.models.train` writes these files; everything else reads them
through here.
"""
from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import importlib
import inspect
import json
import shutil
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from rtc._io import atomic_write, file_lock, remove_orphans
from rtc._source import files_digest
from rtc._validate import is_integer
from rtc.discriminator import Discriminator

from .config import TrainConfig, default_device
from .networks import VAE

__all__ = ["LOG_KEYS", "CheckpointError", "dataset_identity", "CODE_MODULES", "code_version", "run_dir_for", "FINAL",
           "CHECKPOINT", "SNAPSHOTS", "CONFIG", "snapshot_path", "RunState", "read_run_file", "load_model",
           "TrainResult", "StepNotKept", "read_reached", "weights_at"]

# What every step logs, in this order: the objective's terms (rtc.models.objectives.Objective), the VAE's gradient
# norm, and the discriminator's loss and accuracy.
LOG_KEYS = ("recon", "kl", "mi", "tc", "dwkl", "dip", "var_sum", "eta", "strength", "loss", "grad_norm",
            "disc_loss", "disc_acc")


class CheckpointError(RuntimeError):
    """A run's file could not be written (e.g. a full disk) or read (e.g. truncated); the message says what to do."""


def dataset_identity(ds) -> dict:
    """What distinguishes one dataset from another for the cache (name, grid, channels, source, seed)."""
    return {"name": getattr(ds, "name", type(ds).__name__), "factor_sizes": list(getattr(ds, "factor_sizes", [])),
            "num_channels": int(ds.num_channels), "len": len(ds),
            "source": str(getattr(ds, "source", getattr(ds, "path", None))), "seed": getattr(ds, "seed", None),
            "render_version": getattr(ds, "render_version", None)}


# The modules (a package: all its files) whose code determines a run's result.
CODE_MODULES = ("rtc.models.networks", "rtc.models.objectives", "rtc.models.eta", "rtc.models.train",
                "rtc.models.config", "rtc.models.runfiles",
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

    Comments, docstrings and layout do not count, nor does moving a definition between these files
    (:func:`rtc._source.files_digest`); any change to the code does."""
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
    """``<cache_dir>/<model>-<key>``: the key hashes the (normalised) config but its
    :data:`~rtc.models.config.TRAJECTORY_FIELDS` (where the run stops, which states it keeps: one folder holds the
    whole trajectory), the dataset and :func:`code_version`."""
    blob = json.dumps({"config": config.key_dict(), "data": dataset_identity(ds), "code": code_version(ds)},
                      sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{config.model}-{key}"


# A run's folder holds one trajectory: the furthest step S a call finished at, and the states kept on the way.
FINAL = "final.pt"  # the run at S (weights, discriminator, RunState with the log up to S): steps ≤ S can be read
CHECKPOINT = "checkpoint.pt"  # the Trainer's state and the RunState at the furthest step trained (≥ S), kept after
#                               a call finishes: enough to resume an interrupted call, or extend the run, exactly
SNAPSHOTS = "snapshots"  # the weights kept at config.kept_steps() (snapshot_path), with the training time there
CONFIG = "config.json"  # what the run folder's key hashes (config, dataset identity, code version), for reading


def snapshot_path(run_dir: str | Path, step: int) -> Path:
    """The VAE's weights kept after ``step`` steps: ``<run_dir>/snapshots/step_0000100.pt``."""
    return Path(run_dir) / SNAPSHOTS / f"step_{step:07d}.pt"


@dataclass
class RunState:
    """A run's progress besides its tensors: ``step`` (steps done), ``log`` (:data:`LOG_KEYS` → list of floats, one
    per step done), ``seconds`` (training time over all calls), ``snapshots`` (the steps whose weights were kept,
    ascending; the log and the snapshots up to step N are those of the run trained to N).

    Saved with the :class:`Trainer`'s state in ``checkpoint.pt`` (so that a resumed run continues its log, time and
    snapshot list) and with the final weights in ``final.pt``. ``FORMAT`` numbers the layout of every file a run
    writes (each has ``"format"``; bump it when their fields change): a reader refuses one it does not know
    (:class:`CheckpointError`); a file with none (older code) is format 0: the same fields, less ``final.pt``'s step.
    Format 2: a snapshot holds the training ``seconds`` up to its step, and ``checkpoint.pt`` outlives a finished
    call (the trajectory's end, to extend it)."""
    FORMAT: ClassVar[int] = 2
    step: int = 0
    log: dict = field(default_factory=lambda: {k: [] for k in LOG_KEYS})
    seconds: float = 0.0
    snapshots: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"format": self.FORMAT, **vars(self)}  # the fields (vars: no deep copy of the log, unlike asdict)

    @classmethod
    def from_dict(cls, d: dict) -> RunState:
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls)})


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


def read_run_file(path: Path, remedy: str) -> dict:
    """A run file (torch.load), with an error naming the file, the cause and ``remedy`` when it is unreadable or of
    a format this code does not know (:class:`RunState`; no ``"format"`` is format 0)."""
    try:
        st = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:
        msg = str(e).splitlines()[0] if str(e) else ""
        raise CheckpointError(f"{path} cannot be read ({type(e).__name__}: {msg}); it is truncated or corrupt (a "
                              f"copy that did not finish, a crash of an older version while writing it, or a bad "
                              f"disk). {remedy}") from e
    fmt = st.get("format", 0) if isinstance(st, dict) else None
    if not (is_integer(fmt) and 0 <= fmt <= RunState.FORMAT):
        raise CheckpointError(f"{path} has format {fmt!r}; this code reads run files of format 0 to {RunState.FORMAT} "
                              f"(a newer rtc wrote it, or it is no run file). Use the rtc that wrote it, or: {remedy}")
    return st


def load_model(path, config: TrainConfig, num_channels: int | None = None, device=None) -> VAE:
    """A VAE with the weights stored at ``path`` (a snapshot or ``final.pt``), in eval mode."""
    state = read_run_file(Path(path), "Delete it and train the run again.")
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
        for folder in (run_dir, run_dir / SNAPSHOTS):
            remove_orphans(folder)
        yield


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

    def __post_init__(self):
        self.log = {k: np.asarray(v, dtype=np.float64) for k, v in self.log.items()}

    def load_snapshot(self, step: int, device=None) -> VAE:
        return load_model(snapshot_path(self.run_dir, step), self.config, device=device)


class StepNotKept(ValueError):
    """A run trained past the asked step did not keep its state there: the message lists the steps it kept."""


def _final_step(state: dict) -> int:
    """The step ``final.pt`` holds (format 0 had none: its log's length)."""
    return int(state["step"]) if "step" in state else len(state["log"]["recon"])


def _prefix(config: TrainConfig, run_dir: Path, state: dict, device, where: Path) -> TrainResult:
    """The run at ``config.steps`` < the step of ``state`` (a RunState's fields, read from ``where``): the weights of
    its snapshot there, the log and the snapshot list cut at that step. The discriminator is not kept there: None."""
    n = config.steps
    if n not in state["snapshots"]:
        raise StepNotKept(f"{run_dir} was trained to step {_final_step(state)} and kept its weights at steps "
                          f"{list(state['snapshots'])} ({where.name}), not at step {n}: ask for one of these steps or "
                          f"for more than {_final_step(state)} (which extends it), or add {n} to the profile's "
                          "snapshot_steps and train the run again (retrain=True)")
    snap = read_run_file(snapshot_path(run_dir, n), "Delete the run's folder and train it again.")
    if "seconds" not in snap:
        raise CheckpointError(f"{snapshot_path(run_dir, n)} is of format {snap.get('format', 0)} and has no training "
                              "time; delete the run's folder and train it again")
    with torch.random.fork_rng(devices=[]):  # the throw-away initial weights must not consume the caller's RNG
        model = VAE(snap["num_channels"], config.latent_dim, channels_last=config.channels_last)
    model.load_state_dict(snap["model"])
    log = {k: list(v[:n]) for k, v in state["log"].items()}
    return TrainResult(model.to(device).eval(), log, config, run_dir, n, True, None, seconds=float(snap["seconds"]),
                       snapshots=[s for s in state["snapshots"] if s <= n])


def read_reached(config: TrainConfig, run_dir: Path, device) -> TrainResult | None:
    """The run at ``config.steps`` when a call has finished at that step or later (``final.pt``), else None. At the
    furthest finished step, the weights and discriminator of ``final.pt``; before it, :func:`_prefix` (raises
    :class:`StepNotKept` when no snapshot is there)."""
    if not (run_dir / FINAL).exists():
        return None
    state = read_run_file(run_dir / FINAL, "Delete it (or call train(..., retrain=True)) to train the run again.")
    step = _final_step(state)
    if step < config.steps:
        return None
    if step > config.steps:
        return _prefix(config, run_dir, state, device, run_dir / FINAL)
    with torch.random.fork_rng(devices=[]):  # the throw-away initial weights must not consume the caller's RNG
        model = VAE(state["num_channels"], config.latent_dim, channels_last=config.channels_last)
        disc = Discriminator(config.latent_dim, config.disc_hidden, config.disc_layers) if state["disc"] else None
    model.load_state_dict(state["model"])
    if disc is not None:
        disc.load_state_dict(state["disc"])
        disc = disc.to(device).eval()
    return TrainResult(model.to(device).eval(), state["log"], config, run_dir, config.steps, True, disc,
                       seconds=state["seconds"], snapshots=state["snapshots"])


def weights_at(run_dir: Path, final_state: dict, steps: int) -> Path:
    """The file of the run's weights after ``steps`` steps, given its ``final.pt`` contents: ``final.pt`` itself at
    its step, else the snapshot there (:class:`StepNotKept` when the run kept none or has not reached it)."""
    reached = _final_step(final_state)
    if steps == reached:
        return Path(run_dir) / FINAL
    if steps > reached or steps not in final_state["snapshots"]:
        raise StepNotKept(f"{run_dir} holds steps {list(final_state['snapshots'])} (trained to {reached}); step "
                          f"{steps} is not among them")
    return snapshot_path(run_dir, steps)
