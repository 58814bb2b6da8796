"""Grids of runs on Ray: :func:`run_grid`, the profile's grid (:func:`load_grid`, :func:`grid_runs`), the CLI.

A run is :func:`rtc.experiments.run` (train + evaluate, cached). :func:`run_grid` reads the runs
already evaluated from the cache without starting anything, and sends the others to Ray as
tasks: an embedded local Ray by default, or an existing cluster given ``address=`` or
``$RTC_RAY_ADDRESS``. The result is a tidy table, one row per run, in the order of ``runs``.

Ray settings this module always applies (before Ray is imported, in ``os.environ``):

- ``RAY_USAGE_STATS_ENABLED=0`` — Ray would otherwise report usage statistics over the internet;
- for the embedded local instance (and a cluster at a loopback address),
  ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, which makes Ray use
  the loopback address as the node address, so every port it opens listens on 127.0.0.1 only
  (on Linux Ray otherwise binds to the network interface's address, even for a local instance,
  and replaces an explicit ``_node_ip_address="127.0.0.1"`` by that address). The node address
  is checked after start-up; a non-loopback one shuts Ray down with an error. The variable is
  read when Ray is imported: import ``rtc.sweep`` before ``ray``, or set it yourself.
- no dashboard; ``num_cpus`` = the machine's cores; one torch thread per CPU given to a run.

Failures: a run that raises is reported (its settings and the error) and the others go on; at the
end :class:`SweepError` names every failed run (its ``table`` holds the runs that finished). A
worker process that dies (killed, out of memory) is retried by Ray up to ``max_retries`` times; the
retry resumes from the run's last checkpoint, so on CPU it ends bit-identical to an uninterrupted
run. Two tasks on one configuration never corrupt each other: training holds a lock on the run
directory, the evaluation cache a lock on its file (``rtc.experiments.run``).

Profile grids: ``parameters/<profile>/training.yaml`` (schema in :func:`load_grid`) — the one source
of truth for the runs of the training chapters and the CLI::

    python -m rtc.sweep --profile ci [--dry-run] [--address HOST:PORT] [--results-dir DIR]
"""
from __future__ import annotations

import os
import sys

# Before any `import ray` (Ray reads it at import and at init): never send usage statistics.
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import ipaddress  # noqa: E402
import itertools  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from rtc.experiments.run import (EVAL_PRESETS, DatasetSpec, EvalSettings, as_dataset_spec,  # noqa: E402
                                 default_results_dir, eval_path, run, run_settings)

__all__ = ["RunSpec", "SweepError", "GridError", "run_grid", "init_ray", "load_grid", "grid_runs", "dry_run",
           "estimate_seconds", "STEP_SECONDS", "EVAL_SECONDS", "main"]


@dataclass(frozen=True)
class RunSpec:
    """One run of a grid: a ``TrainConfig``, a dataset spec and evaluation settings."""
    config: object
    dataset: DatasetSpec
    evaluation: EvalSettings = EvalSettings()

    def __post_init__(self):
        from rtc.models import TrainConfig
        if not isinstance(self.config, TrainConfig):
            raise TypeError(f"RunSpec.config must be a TrainConfig, got {type(self.config).__name__}")
        object.__setattr__(self, "dataset", as_dataset_spec(self.dataset))
        if not isinstance(self.evaluation, EvalSettings):
            raise TypeError(f"RunSpec.evaluation must be an EvalSettings, got {type(self.evaluation).__name__}")

    @property
    def label(self) -> str:
        c = self.config
        return f"{c.model}(strength={c.strength:g}, seed={c.seed}, steps={c.steps}) on {self.dataset.name}"


class SweepError(RuntimeError):
    """Some runs of a grid failed. ``failures``: list of (RunSpec, error text); ``table``: the runs that finished."""

    def __init__(self, failures: list, table: pd.DataFrame):
        self.failures, self.table = failures, table
        lines = [f"{len(failures)} of {len(table) + len(failures)} runs failed:"]
        lines += [f"  - {spec.label} [{spec.config}]: {err.strip().splitlines()[-1] if err.strip() else err}"
                  for spec, err in failures]
        super().__init__("\n".join(lines))


class GridError(ValueError):
    """A training.yaml that does not fit the grid schema (the message names the file and the key)."""


# ---------------------------------------------------------------------------------------------------------------
# Ray
# ---------------------------------------------------------------------------------------------------------------

def _import_ray(local: bool):
    if local:
        if "ray" in sys.modules:
            from ray._private import ray_constants  # noqa: F401  (only to read the flag Ray froze at import)
            if ray_constants.ENABLE_RAY_CLUSTER:
                raise RuntimeError("ray was imported before rtc.sweep without RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, so "
                                   "a local Ray would listen on the network address; import rtc.sweep first or set "
                                   "that variable to 0 before importing ray")
        else:
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import ray
    return ray


def _is_loopback(address: str) -> bool:
    host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def init_ray(address: str | None = None, *, num_cpus: int | None = None, num_gpus: int | None = None,
             log_to_driver: bool = False) -> bool:
    """Connect to Ray if not connected: the cluster at ``address`` (or ``$RTC_RAY_ADDRESS``), else an embedded
    local instance on 127.0.0.1 with ``num_cpus`` (default: the cores) and no dashboard. Returns True when this
    call started or joined Ray (so the caller should shut it down), False when Ray was already initialised.

    A cluster started with ``ray start`` uses token authentication: set ``RAY_AUTH_MODE=token`` and make the
    token available (``~/.ray/auth_token``, ``RAY_AUTH_TOKEN_PATH`` or ``RAY_AUTH_TOKEN``) before calling.
    """
    address = address or os.environ.get("RTC_RAY_ADDRESS") or None
    # a loopback cluster must keep its address: Ray otherwise swaps 127.0.0.1 for the network interface's address
    ray = _import_ray(local=address is None or _is_loopback(address))
    if ray.is_initialized():
        return False
    if address is not None:
        try:
            ray.init(address=address, log_to_driver=log_to_driver)
        except Exception as e:
            raise RuntimeError(f"could not join the Ray cluster at {address!r}: {e}. If it was started with `ray "
                               "start`, set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN_PATH to its token file") from e
        return True
    ray.init(num_cpus=num_cpus or os.cpu_count(), num_gpus=num_gpus, include_dashboard=False,
             log_to_driver=log_to_driver)
    ip = ray.util.get_node_ip_address()
    if not ipaddress.ip_address(ip).is_loopback:
        ray.shutdown()
        raise RuntimeError(f"the local Ray instance bound to {ip}, not to loopback; refusing to run")
    return True


def _task(spec: RunSpec, results_dir: str, threads: int):
    """What a Ray worker runs: one run, with ``threads`` torch threads; returns (row, status)."""
    import torch
    torch.set_num_threads(max(1, threads))
    r = run(spec.config, spec.dataset, evaluation=spec.evaluation, results_dir=results_dir, progress=False)
    return r.row, r.status


def _cached_row(spec: RunSpec, results_dir: Path, datasets: dict):
    """The cached evaluation's row of ``spec``, or None (reads the cache; trains nothing)."""
    from rtc.experiments.run import _read
    from rtc.models import run_dir_for

    try:
        if spec.dataset not in datasets:
            datasets[spec.dataset] = spec.dataset.load()
        run_dir = run_dir_for(spec.config, datasets[spec.dataset], results_dir / "runs")
        path = eval_path(run_dir, spec.evaluation)
        return _read(path, run_dir, "cached").row if path.exists() else None
    except Exception:  # noqa: BLE001 — not readable here: the run's task reports the error with its settings
        return None


def run_grid(runs, *, address: str | None = None, cpus_per_run: int = 1, gpus_per_run: float = 0,
             results_dir: str | Path | None = None, max_retries: int = 3, progress: bool = True,
             num_cpus: int | None = None, raise_on_failure: bool = True) -> pd.DataFrame:
    """Train and evaluate every run of ``runs`` (RunSpecs) on Ray; one row per run, in order.

    ``address`` / ``$RTC_RAY_ADDRESS``: an existing Ray cluster (else an embedded local one, shut down
    at the end if this call started it). On a cluster ``results_dir`` (or ``$RTC_RESULTS_DIR``) must
    be storage every node sees. ``cpus_per_run`` (also the run's torch threads) and ``gpus_per_run``
    (a fraction shares a GPU: 0.25 puts four runs on one) are Ray resources per task. A dead worker
    is retried ``max_retries`` times (resuming from the checkpoint); an exception is not retried.
    Columns: ``status`` ("cached", "trained", "evaluated"), then :attr:`RunResult.row`. Raises
    :class:`SweepError` at the end naming every failed run (unless ``raise_on_failure=False``,
    which adds rows with status "failed" and an ``error`` column instead).
    """
    from tqdm.auto import tqdm

    runs = list(runs)
    for i, r in enumerate(runs):
        if not isinstance(r, RunSpec):
            raise TypeError(f"runs[{i}] must be a RunSpec, got {type(r).__name__}")
    if not (isinstance(cpus_per_run, int) and cpus_per_run >= 1):
        raise ValueError(f"cpus_per_run must be an integer ≥ 1, got {cpus_per_run!r}")
    if not (isinstance(gpus_per_run, (int, float)) and 0 <= gpus_per_run and math.isfinite(gpus_per_run)):
        raise ValueError(f"gpus_per_run must be a number ≥ 0, got {gpus_per_run!r}")
    if not (isinstance(max_retries, int) and not isinstance(max_retries, bool) and max_retries >= 0):
        raise ValueError(f"max_retries must be an integer ≥ 0, got {max_retries!r}")
    address = address or os.environ.get("RTC_RAY_ADDRESS") or None
    if address is not None and results_dir is None and not os.environ.get("RTC_RESULTS_DIR"):
        raise ValueError("on a Ray cluster the results must be on storage every node sees: pass results_dir= or "
                         "set RTC_RESULTS_DIR")
    results_dir = (Path(results_dir) if results_dir is not None else default_results_dir()).resolve()

    rows: list = [None] * len(runs)
    datasets: dict = {}
    todo = []
    for i, spec in enumerate(runs):
        row = _cached_row(spec, results_dir, datasets)
        if row is not None:
            rows[i] = {"status": "cached", **row}
        else:
            todo.append(i)
    counts = {"done": 0, "cached": len(runs) - len(todo), "running": 0, "queued": 0, "failed": 0}
    failures = []
    bar = tqdm(total=len(runs), initial=counts["cached"], desc="grid", disable=not progress)
    bar.set_postfix(counts, refresh=True)
    started = False
    try:
        if todo:
            started = init_ray(address, num_cpus=num_cpus)
            import ray
            if gpus_per_run > 0 and ray.cluster_resources().get("GPU", 0) == 0:
                raise RuntimeError(f"gpus_per_run={gpus_per_run} but the Ray cluster has no GPU; the tasks would wait "
                                   "forever (use gpus_per_run=0 on a CPU machine)")
            task = ray.remote(_task).options(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=max_retries,
                                             retry_exceptions=False)
            pending = {task.remote(runs[i], str(results_dir), cpus_per_run): i for i in todo}
            res = ray.cluster_resources()
            slots = int(res.get("CPU", 1) // cpus_per_run)
            if gpus_per_run > 0:
                slots = min(slots, int(res.get("GPU", 0) // gpus_per_run))

            def show():  # running = what fits the cluster's slots (an estimate: Ray does not say which task runs)
                counts["running"] = min(len(pending), max(slots, 1))
                counts["queued"] = len(pending) - counts["running"]
                bar.set_postfix(counts, refresh=True)
            show()
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in ready:
                    i = pending.pop(ref)
                    try:
                        row, status = ray.get(ref)
                        rows[i] = {"status": status, **row}
                        counts["cached" if status == "cached" else "done"] += 1
                    except Exception as e:  # the run's exception, or a worker lost more than max_retries times
                        err = getattr(e, "traceback_str", None) or "".join(traceback.format_exception_only(e))
                        failures.append((runs[i], str(err)))
                        rows[i] = {"status": "failed", **run_settings(runs[i].config, runs[i].dataset),
                                   "eval": runs[i].evaluation.name, "error": str(err).strip().splitlines()[-1]}
                        counts["failed"] += 1
                    bar.update(1)
                if ready:
                    show()
    finally:
        bar.close()
        if started:
            import ray
            ray.shutdown()
    table = pd.DataFrame(rows)
    if failures and raise_on_failure:
        raise SweepError(failures, table[table["status"] != "failed"].reset_index(drop=True))
    return table


# ---------------------------------------------------------------------------------------------------------------
# The profile's grid: parameters/<profile>/training.yaml
# ---------------------------------------------------------------------------------------------------------------

_GRID_KEYS = {"name": str, "models": list, "strengths": list, "datasets": list, "seeds": list, "overrides": dict}
_TOP_KEYS = ("description", "defaults", "eval", "grids")
_FROM_GRID = ("model", "strength", "seed")  # TrainConfig fields a grid sets; not allowed in defaults / overrides


def _type_ok(annotation: str, v) -> bool:
    """Does the YAML value ``v`` fit a TrainConfig / EvalSettings field annotated ``annotation`` (a string)?"""
    alts = [a.strip() for a in annotation.split("|")]
    if v is None:
        return "None" in alts
    for a in alts:
        if a == "bool" and isinstance(v, bool):
            return True
        if isinstance(v, bool):
            continue
        if a == "int" and isinstance(v, int):
            return True
        if a == "float" and isinstance(v, (int, float)):
            return True
        if a == "str" and isinstance(v, str):
            return True
        if a.startswith("tuple") and isinstance(v, list):
            n = a.count(",") + 1 if "..." not in a else len(v)
            if "[" not in a:
                return True
            inner = a[a.index("[") + 1:a.rindex("]")].split(",")[0].strip()
            return len(v) == n and all(_type_ok(inner, x) for x in v)
    return False


def _check_fields(values, cls, where: str, exclude=()) -> dict:
    if not isinstance(values, dict):
        raise GridError(f"{where}: expected a mapping, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in exclude}
    out = {}
    for k, v in values.items():
        if k not in fields:
            raise GridError(f"{where}: unknown key {k!r}; allowed: {', '.join(sorted(fields))}")
        if not _type_ok(str(fields[k].type), v):
            raise GridError(f"{where}: {k!r} must be {fields[k].type}, got {type(v).__name__} {v!r}")
        out[k] = tuple(v) if isinstance(v, list) else v
    return out


def validate_grid(doc, source: str = "training.yaml") -> dict:
    """Check a parsed training.yaml against the schema of :func:`load_grid`; return it normalised."""
    from rtc.data import DATASETS
    from rtc.models import MODELS, TrainConfig

    if not isinstance(doc, dict):
        raise GridError(f"{source}: expected a mapping with keys {_TOP_KEYS}, got {type(doc).__name__}")
    for k in doc:
        if k not in _TOP_KEYS:
            raise GridError(f"{source}: unknown top-level key {k!r}; allowed: {', '.join(_TOP_KEYS)}")
    if "grids" not in doc:
        raise GridError(f"{source}: missing 'grids'")
    defaults = _check_fields(doc.get("defaults") or {}, TrainConfig, f"{source}: defaults", exclude=_FROM_GRID)
    ev = dict(doc.get("eval") or {})
    preset = ev.pop("preset", "reference")
    if preset not in EVAL_PRESETS:
        raise GridError(f"{source}: eval.preset must be one of {sorted(EVAL_PRESETS)}, got {preset!r}")
    ev = _check_fields(ev, EvalSettings, f"{source}: eval")
    try:
        settings = EvalSettings.preset(preset, **ev)
    except ValueError as e:
        raise GridError(f"{source}: eval: {e}") from None
    grids = doc["grids"]
    if not isinstance(grids, list) or not grids:
        raise GridError(f"{source}: 'grids' must be a non-empty list of grids")
    names, out_grids = set(), []
    for j, g in enumerate(grids):
        where = f"{source}: grids[{j}]"
        if not isinstance(g, dict):
            raise GridError(f"{where}: expected a mapping, got {type(g).__name__}")
        for k in g:
            if k not in _GRID_KEYS:
                raise GridError(f"{where}: unknown key {k!r}; allowed: {', '.join(_GRID_KEYS)}")
        for k in ("name", "models", "strengths", "datasets", "seeds"):
            if k not in g:
                raise GridError(f"{where}: missing {k!r}")
            if not isinstance(g[k], _GRID_KEYS[k]) or (isinstance(g[k], list) and not g[k]):
                raise GridError(f"{where}: {k!r} must be a non-empty {_GRID_KEYS[k].__name__}, got {g[k]!r}")
        if g["name"] in names:
            raise GridError(f"{where}: duplicate grid name {g['name']!r}")
        names.add(g["name"])
        for k, ok, what in (("models", lambda m: m in MODELS, f"a model of {sorted(MODELS)}"),
                            ("strengths", lambda s: isinstance(s, (int, float)) and not isinstance(s, bool),
                             "a number"),
                            ("datasets", lambda d: d in DATASETS, f"one of {DATASETS}"),
                            ("seeds", lambda s: isinstance(s, int) and not isinstance(s, bool) and s >= 0,
                             "an integer ≥ 0")):
            bad = [x for x in g[k] if not ok(x)]
            if bad:
                raise GridError(f"{where} ({g['name']}): {k} {bad} — each must be {what}")
        overrides = _check_fields(g.get("overrides") or {}, TrainConfig, f"{where} ({g['name']}): overrides",
                                  exclude=_FROM_GRID)
        out_grids.append({**g, "overrides": overrides})
    return {"description": doc.get("description", ""), "defaults": defaults, "eval": settings, "grids": out_grids}


def load_grid(profile: str, *, root: str | Path | None = None) -> dict:
    """Read and validate ``parameters/<profile>/training.yaml``.

    Schema (unknown keys and wrong types are a :class:`GridError` naming the file and the key)::

        description: str                 # optional
        defaults: {TrainConfig field: value}   # shared by every run; not model/strength/seed
        eval: {preset: reference|fast|lean|ci, EvalSettings field: value}
        grids:                           # each: the product models × strengths × datasets × seeds
          - name: str                    # unique; chapters select grids by name
            models: [model, ...]         # rtc.models.MODELS
            strengths: [number, ...]     # β, γ or λ_od (DIP-VAE λ_d follows Table 1 unless overridden)
            datasets: [dsprites|shapes3d|cars3d, ...]
            seeds: [int, ...]
            overrides: {TrainConfig field: value}   # optional, this grid only

    Returns ``{"description", "defaults", "eval" (EvalSettings), "grids" (list of dicts)}``.
    """
    import yaml

    from rtc.params import find_root

    path = find_root(root) / "parameters" / profile / "training.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no grid file {path} for profile {profile!r}")
    return validate_grid(yaml.safe_load(path.read_text()), str(path))


def grid_runs(profile: str | dict, grids=None, *, root: str | Path | None = None) -> list[RunSpec]:
    """The runs of ``profile`` (a name or a :func:`load_grid` dict), restricted to the grids named in ``grids``
    (default: all), in file order, without duplicates (a run in two grids appears once)."""
    from rtc.models import TrainConfig

    g = load_grid(profile, root=root) if isinstance(profile, str) else profile
    known = [x["name"] for x in g["grids"]]
    if grids is not None:
        grids = [grids] if isinstance(grids, str) else list(grids)
        unknown = [n for n in grids if n not in known]
        if unknown:
            raise GridError(f"unknown grids {unknown}; the profile defines {known}")
    out, seen = [], set()
    for grid in g["grids"]:
        if grids is not None and grid["name"] not in grids:
            continue
        for model, strength, dataset, seed in itertools.product(grid["models"], grid["strengths"],
                                                                grid["datasets"], grid["seeds"]):
            cfg = TrainConfig(model=model, strength=float(strength), seed=seed,
                              **{**g["defaults"], **grid["overrides"]})
            spec = RunSpec(cfg, DatasetSpec(dataset), g["eval"])
            if spec not in seen:
                seen.add(spec)
                out.append(spec)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Cost estimate
# ---------------------------------------------------------------------------------------------------------------

# Seconds per image of one training step on this project's reference CPU (2 cores, torch 2.13, Table 2 model,
# channels_last, both cores for one run, quiet machine), measured once: the VAE step ran at ≈ 340 images/s (batch 64
# and 500 alike; ≈ 1.5 s per step at batch 500); a FactorVAE step with the 6 × 1000 discriminator took ≈ 2.1 s at
# batch 500, i.e. ≈ 1.2 ms per image more, of which encoding the second batch is ≈ 0.4 ms (≈ 2,500 images/s) and
# the rest is scaled here by the discriminator's hidden weight count (5 × 1000²). A shared machine can be 3–7×
# slower; a GPU is far faster (bench/gpu_check.py measures it).
STEP_SECONDS = {"vae_per_image": 1 / 340, "encode_per_image": 1 / 2500,
                "disc_per_image_per_weight": (0.6 / 500 - 1 / 2500) / (5 * 1000 * 1000)}
# Evaluation cost per run and preset, seconds on the same CPU: "ci" (≈ 15 s), "lean" (≈ 55 s: the default grid
# on one thread per run) and "fast" (≈ 225 s) measured once
# on a small model (rtc.experiments.run, 2 threads); "reference" is an estimate from bench/bench_metrics.py (DCI
# with gradient boosting ≈ 830 s on 10,000 codes, Chen's MIG ≈ 180 s) plus the scores' encoding.
EVAL_SECONDS = {"ci": 15.0, "lean": 55.0, "fast": 225.0, "reference": 1500.0}


def estimate_seconds(spec: RunSpec) -> float:
    """Estimated seconds (training + evaluation) of one run on the reference 2-core CPU, from :data:`STEP_SECONDS` and
    :data:`EVAL_SECONDS` (a custom preset name is costed as "reference")."""
    c = spec.config
    per_image = STEP_SECONDS["vae_per_image"]
    if c.objective().uses_discriminator:
        weights = c.disc_hidden * c.disc_hidden * max(c.disc_layers - 1, 1)
        per_image += STEP_SECONDS["encode_per_image"] + STEP_SECONDS["disc_per_image_per_weight"] * weights
    return c.steps * c.batch_size * per_image + EVAL_SECONDS.get(spec.evaluation.name, EVAL_SECONDS["reference"])


def dry_run(runs, *, results_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per run: its settings, whether its evaluation is cached, and the estimated CPU seconds."""
    results_dir = (Path(results_dir) if results_dir is not None else default_results_dir()).resolve()
    datasets: dict = {}
    rows = []
    for spec in runs:
        cached = _cached_row(spec, results_dir, datasets) is not None
        rows.append({**run_settings(spec.config, spec.dataset), "eval": spec.evaluation.name, "cached": cached,
                     "est_seconds": 0.0 if cached else estimate_seconds(spec)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtc.sweep", description="Train and evaluate the profile's grid "
                                "(parameters/<profile>/training.yaml) on Ray; results cached under --results-dir.")
    p.add_argument("--profile", default="default", help="parameter profile (ci, default, paper)")
    p.add_argument("--grid", action="append", help="only this grid of the profile (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="list the runs, which are cached, and the estimated cost")
    p.add_argument("--address", default=None, help="join the Ray cluster at HOST:PORT (else $RTC_RAY_ADDRESS, "
                   "else an embedded local Ray on 127.0.0.1)")
    p.add_argument("--results-dir", default=None, help="cache root (default $RTC_RESULTS_DIR or <repo>/results)")
    p.add_argument("--cpus-per-run", type=int, default=1)
    p.add_argument("--gpus-per-run", type=float, default=0.0)
    a = p.parse_args(argv)
    runs = grid_runs(a.profile, a.grid)
    if a.dry_run:
        t = dry_run(runs, results_dir=a.results_dir)
        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(t[["model", "dataset", "strength", "seed", "steps", "batch_size", "eval", "cached", "est_seconds"]]
                  .to_string(index=False))
        todo = t[~t["cached"]]
        print(f"\n{len(t)} runs, {int(t['cached'].sum())} cached, {len(todo)} to compute: estimated "
              f"{todo['est_seconds'].sum() / 3600:.2f} h on the reference 2-core CPU (rtc.sweep.STEP_SECONDS and "
              "EVAL_SECONDS: measured rates, quiet machine)")
        return 0
    t0 = time.perf_counter()
    table = run_grid(runs, address=a.address, results_dir=a.results_dir, cpus_per_run=a.cpus_per_run,
                     gpus_per_run=a.gpus_per_run)
    cols = [c for c in ("status", "model", "dataset", "strength", "seed", "recon", "tc_mean", "tc_sample",
                        "sap_r2", "mig_ref") if c in table]
    with pd.option_context("display.max_rows", None, "display.width", 200):
        print(table[cols].to_string(index=False))
    print(f"\n{len(table)} runs in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
