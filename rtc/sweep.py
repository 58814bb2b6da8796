"""Grids of runs on Ray: :func:`run_grid` and the CLI (the grid itself — :func:`rtc.experiments.grid.load_grid`,
:func:`rtc.experiments.grid.grid_runs`, the cost model — is :mod:`rtc.experiments.grid`; a run's description,
:class:`rtc.experiments.specs.RunSpec`, is :mod:`rtc.experiments.specs`).

A run is :func:`rtc.experiments.run` (train + evaluate, cached). :func:`run_grid` reads the runs
already evaluated from the cache without starting anything (:func:`rtc.experiments.cached_result`), and sends
the others to Ray as tasks, each asking for its run's ``RunSpec.cpus`` and ``RunSpec.gpus``: an embedded local
Ray by default, or an existing cluster given ``address=`` or ``$RTC_RAY_ADDRESS``. The result is what
:func:`rtc.experiments.load_results` returns once the grid is cached — a tidy table, one row per run, and the
runs' :class:`rtc.experiments.RunResult` s, both in the order of ``runs``.

Importing this module changes nothing (no Ray, no environment). Ray settings it always applies when it starts or
joins Ray (:func:`init_ray`, :func:`run_grid`), in ``os.environ`` before Ray is imported or started:

- ``RAY_USAGE_STATS_ENABLED=0`` — Ray would otherwise report usage statistics over the internet;
- for the embedded local instance (and a cluster at a loopback address),
  ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, which makes Ray use
  the loopback address as the node address, so every port it opens listens on 127.0.0.1 only
  (on Linux Ray otherwise binds to the network interface's address, even for a local instance,
  and replaces an explicit ``_node_ip_address="127.0.0.1"`` by that address). The node address
  is checked after start-up; a non-loopback one shuts Ray down with an error. The variable is
  read when Ray is imported: start Ray through :func:`init_ray` / :func:`run_grid` before anything imports
  ``ray``, or set it yourself.
- no dashboard; ``num_cpus`` = the machine's cores; one torch thread per whole CPU given to a run.

Failures: a run that raises is reported (its settings and the error) and the others go on; at the
end :class:`SweepError` names every failed run (its ``table`` and ``results`` hold the runs that finished). A
worker process that dies (killed, out of memory) is retried by Ray up to ``max_retries`` times; the
retry resumes from the run's last checkpoint, so on CPU it ends bit-identical to an uninterrupted
run. Two tasks on one configuration never corrupt each other: training holds a lock on the run
directory, the evaluation cache a lock on its file (:mod:`rtc.experiments.results`).

Profile grids: ``parameters/<profile>/training.yaml`` (schema in :func:`rtc.experiments.grid.load_grid`) — the one
source of truth for the runs of the training chapters and the CLI::

    python -m rtc.sweep --profile ci [--dry-run] [--address HOST:PORT] [--results-dir DIR]
"""
from __future__ import annotations

import argparse
import ipaddress
import math
import os
import sys
import time
import traceback
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from rtc._validate import check_int
from rtc.experiments.grid import dry_run, estimate_seconds, grid_runs
from rtc.experiments.results import RunResult, cached_result, default_results_dir, results_table, run
from rtc.experiments.specs import RunSpec, run_settings
from rtc.progress import report

__all__ = ["SweepError", "run_grid", "init_ray", "main", "GridETA", "PROGRESS_EVERY"]


class SweepError(RuntimeError):
    """Some runs of a grid failed. ``failures``: list of (RunSpec, error text); ``table`` and ``results`` (RunResults,
    in the table's order): the runs that finished."""

    def __init__(self, failures: list, table: pd.DataFrame, results: list):
        self.failures, self.table, self.results = failures, table, results
        lines = [f"{len(failures)} of {len(table) + len(failures)} runs failed:"]
        lines += [f"  - {spec.label} [{spec.config}]: {err.strip().splitlines()[-1] if err.strip() else err}"
                  for spec, err in failures]
        super().__init__("\n".join(lines))


# ---------------------------------------------------------------------------------------------------------------
# Ray
# ---------------------------------------------------------------------------------------------------------------

def _import_ray(local: bool):
    # Before any `import ray` (Ray reads it at import and at init): never send usage statistics.
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if local:
        if "ray" in sys.modules:
            from ray._private import ray_constants  # lazy: an extra; only to read the flag Ray froze at import
            if ray_constants.ENABLE_RAY_CLUSTER:
                raise RuntimeError("ray was imported before rtc.sweep started it, without "
                                   "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, so a local Ray would listen on the network "
                                   "address; start Ray through rtc.sweep (init_ray, run_grid) before importing ray or "
                                   "set that variable to 0 before importing ray")
        else:
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    try:
        import ray  # lazy: an extra (rtc[sweep]), and it reads the variables above when imported
    except ImportError as e:
        raise ImportError("rtc.sweep runs grids on Ray, which is an extra: pip install 'rtc[sweep]' (or "
                          "'.[sweep]' in a checkout; `make install` installs it)") from e
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
    Sets Ray's environment first (the module docstring).

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


def _task(spec: RunSpec, results_dir: str, threads: int) -> RunResult:
    """What a Ray worker runs: one run, with ``threads`` torch threads."""
    torch.set_num_threads(max(1, threads))
    return run(spec.config, spec.dataset, evaluation=spec.evaluation, results_dir=results_dir, progress=False)


# Seconds between two progress lines while no run finishes (rtc.progress: what the book runner prints).
PROGRESS_EVERY = 120.0


class GridETA:
    """The grid's progress line with an ETA from the cost model (:func:`estimate_seconds`), calibrated on this
    machine: once runs have finished, the estimate of what is left is scaled by (wall time so far) / (estimated
    wall time of the finished runs), each estimate divided over the ``slots`` runs that go at once."""

    def __init__(self, slots: int):
        self.t0, self.slots = time.monotonic(), max(int(slots), 1)
        self.done_estimate = 0.0

    def finished(self, estimate: float) -> None:
        self.done_estimate += estimate

    def line(self, total: int, counts: dict, running: list, left_estimates: list) -> str:
        elapsed = time.monotonic() - self.t0
        scale = elapsed / (self.done_estimate / self.slots) if self.done_estimate > 0 else 1.0
        eta = sum(left_estimates) / self.slots * min(max(scale, 0.2), 20.0)
        finished = counts["done"] + counts["cached"] + counts["failed"]
        return (f"grid {finished}/{total} runs ({counts['cached']} cached, {counts['failed']} failed); running: "
                + (", ".join(running) if running else "—") + f"; {elapsed / 60:.1f} min elapsed, ETA ≈ "
                f"{eta / 60:.0f} min" + ("" if self.done_estimate > 0 else " (cost model, not yet calibrated)"))


def _checked_arguments(runs, address, cpus_per_run, gpus_per_run, results_dir, max_retries):
    """run_grid's arguments checked and resolved: ``(runs, address, results_dir, max_retries, need)``, ``need`` the
    Ray resources (cpus, gpus) of each run."""
    runs = list(runs)
    for i, r in enumerate(runs):
        if not isinstance(r, RunSpec):
            raise TypeError(f"runs[{i}] must be a RunSpec, got {type(r).__name__}")
    if cpus_per_run is not None:
        cpus_per_run = check_int(cpus_per_run, "cpus_per_run", minimum=1)
    if gpus_per_run is not None and not (isinstance(gpus_per_run, (int, float)) and 0 <= gpus_per_run
                                         and math.isfinite(gpus_per_run)):
        raise ValueError(f"gpus_per_run must be a number ≥ 0 or None, got {gpus_per_run!r}")
    max_retries = check_int(max_retries, "max_retries", minimum=0)
    address = address or os.environ.get("RTC_RAY_ADDRESS") or None
    if address is not None and results_dir is None and not os.environ.get("RTC_RESULTS_DIR"):
        raise ValueError("on a Ray cluster the results must be on storage every node sees: pass results_dir= or "
                         "set RTC_RESULTS_DIR")
    results_dir = (Path(results_dir) if results_dir is not None else default_results_dir()).resolve()
    # Ray resources of each run: its RunSpec's, unless the caller overrides them for all
    need = [(cpus_per_run if cpus_per_run is not None else spec.cpus,
             gpus_per_run if gpus_per_run is not None else spec.gpus) for spec in runs]
    return runs, address, results_dir, max_retries, need


def _cached(runs: list, results_dir: Path) -> tuple[list, list]:
    """``(results, todo)``: the cached RunResult of each run (None where there is none) and the indices of the
    runs to compute."""
    results: list = [None] * len(runs)
    datasets: dict = {}
    todo = []
    for i, spec in enumerate(runs):
        try:
            results[i] = cached_result(spec, results_dir=results_dir, datasets=datasets)
        except Exception:  # noqa: BLE001 — not readable here: the run's task reports the error with its settings
            results[i] = None
        if results[i] is None:
            todo.append(i)
    return results, todo


def _submit(ray, runs: list, todo: list, need: list, results_dir: Path, max_retries: int) -> tuple[dict, int]:
    """Send the runs ``todo`` to Ray: ``(pending, slots)``, the task of each (ref -> index) and how many runs the
    cluster holds at once. Raises RuntimeError when runs ask for a GPU the cluster lacks."""
    res = ray.cluster_resources()
    want_gpu = [i for i in todo if need[i][1] > 0]
    if want_gpu and res.get("GPU", 0) == 0:
        raise RuntimeError(f"{len(want_gpu)} run(s) ask for a GPU (gpus={need[want_gpu[0]][1]} per run, from "
                           "RunSpec.gpus or gpus_per_run) but the Ray cluster has no GPU; the tasks would wait "
                           "forever (set gpus: 0 in training.yaml, or gpus_per_run=0, on a CPU machine)")
    task = ray.remote(_task)
    pending = {task.options(num_cpus=need[i][0], num_gpus=need[i][1], max_retries=max_retries,
                            retry_exceptions=False).remote(runs[i], str(results_dir), int(need[i][0])): i
               for i in todo}
    cpus, gpus = max(need[i][0] for i in todo), max(need[i][1] for i in todo)
    slots = int(res.get("CPU", 1) // cpus) if cpus > 0 else len(todo)
    if gpus > 0:
        slots = min(slots, int(res.get("GPU", 0) // gpus))
    return pending, slots


class _Grid:
    """run_grid's bookkeeping: each run's result (or its failure row), the counts, the progress bar and lines."""

    def __init__(self, runs: list, results: list, todo: list, progress: bool):
        self.runs, self.results = runs, results
        self.rows: list = [None] * len(runs)
        self.counts = {"done": 0, "cached": len(runs) - len(todo), "running": 0, "queued": 0, "failed": 0}
        self.failures: list = []
        self.bar = tqdm(total=len(runs), initial=self.counts["cached"], desc="grid", disable=not progress)
        self.bar.set_postfix(self.counts, refresh=True)
        self.eta: GridETA | None = None

    def show(self, pending: dict, slots: int) -> None:
        """Progress bar and line; running = what fits the cluster's slots (an estimate: Ray does not say which task
        runs)."""
        runs, counts = self.runs, self.counts
        counts["running"] = min(len(pending), max(slots, 1))
        counts["queued"] = len(pending) - counts["running"]
        self.bar.set_postfix(counts, refresh=True)
        running = [runs[i].label for i in list(pending.values())[:counts["running"]]]
        report(self.eta.line(len(runs), counts, running, [estimate_seconds(runs[i]) for i in pending.values()]))

    def collect(self, ray, ref, i: int) -> None:
        """The result of run ``i``'s task ``ref``, or its failure (the run's exception, or a worker lost more than
        max_retries times)."""
        runs, counts = self.runs, self.counts
        self.eta.finished(estimate_seconds(runs[i]))
        try:
            self.results[i] = ray.get(ref)
            counts["cached" if self.results[i].status == "cached" else "done"] += 1
        except Exception as e:  # the run's exception, or a worker lost more than max_retries times
            err = getattr(e, "traceback_str", None) or "".join(traceback.format_exception_only(e))
            self.failures.append((runs[i], str(err)))
            self.rows[i] = {"status": "failed", **run_settings(runs[i].config, runs[i].dataset),
                            "eval": runs[i].evaluation.name, "error": str(err).strip().splitlines()[-1]}
            counts["failed"] += 1
        self.bar.update(1)

    def wait(self, ray, pending: dict, slots: int) -> None:
        """Collect every task of ``pending`` as it finishes, with a progress line at least every PROGRESS_EVERY s."""
        self.eta = GridETA(slots)
        self.show(pending, slots)
        beat = time.monotonic()
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            if not ready and time.monotonic() - beat > PROGRESS_EVERY:  # a sign of life between completions
                self.show(pending, slots)
                beat = time.monotonic()
            for ref in ready:
                self.collect(ray, ref, pending.pop(ref))
            if ready:
                self.show(pending, slots)
                beat = time.monotonic()

    def outcome(self, raise_on_failure: bool) -> tuple[pd.DataFrame, list[RunResult | None]]:
        """What run_grid returns (or the SweepError it raises)."""
        results, rows, failures = self.results, self.rows, self.failures
        if failures and raise_on_failure:
            done = [r for r in results if r is not None]
            raise SweepError(failures, results_table(done), done)
        if not failures:
            return results_table(results), results
        table = pd.DataFrame([rows[i] if r is None else {"status": r.status, **r.row} for i, r in enumerate(results)])
        return table, results


def run_grid(runs, *, address: str | None = None, cpus_per_run: int | None = None,
             gpus_per_run: float | None = None, results_dir: str | Path | None = None, max_retries: int = 3,
             progress: bool = True, num_cpus: int | None = None,
             raise_on_failure: bool = True) -> tuple[pd.DataFrame, list[RunResult | None]]:
    """Train and evaluate every run of ``runs`` (RunSpecs) on Ray: ``(table, results)``, one row and one
    :class:`rtc.experiments.RunResult` per run, in order — what :func:`rtc.experiments.load_results` returns
    afterwards.

    ``address`` / ``$RTC_RAY_ADDRESS``: an existing Ray cluster (else an embedded local one, shut down
    at the end if this call started it). On a cluster ``results_dir`` (or ``$RTC_RESULTS_DIR``) must
    be storage every node sees. Each run's task asks Ray for ``RunSpec.cpus`` CPUs (whole ones are also its torch
    threads) and ``RunSpec.gpus`` GPUs (a fraction shares a GPU: 0.25 puts four runs on one); ``cpus_per_run`` /
    ``gpus_per_run``, when given, replace those of every run. A dead worker is retried ``max_retries`` times
    (resuming from the checkpoint); an exception is not retried. Columns: ``status`` ("cached", "trained",
    "evaluated"), then :attr:`RunResult.row`. Raises :class:`SweepError` at the end naming every failed run
    (unless ``raise_on_failure=False``, which adds rows with status "failed" and an ``error`` column instead, and
    None in ``results``).
    """
    runs, address, results_dir, max_retries, need = _checked_arguments(runs, address, cpus_per_run, gpus_per_run,
                                                                        results_dir, max_retries)
    results, todo = _cached(runs, results_dir)
    grid = _Grid(runs, results, todo, progress)
    started = False
    try:
        if todo:
            started = init_ray(address, num_cpus=num_cpus)
            ray = sys.modules["ray"]  # init_ray imported it, after setting its environment
            pending, slots = _submit(ray, runs, todo, need, results_dir, max_retries)
            grid.wait(ray, pending, slots)
    finally:
        grid.bar.close()
        if started:
            sys.modules["ray"].shutdown()
    counts = grid.counts
    report(f"grid done: {len(runs)} runs ({counts['done']} computed, {counts['cached']} cached, {counts['failed']} "
           f"failed)")
    return grid.outcome(raise_on_failure)


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
    p.add_argument("--cpus-per-run", type=int, default=None, help="Ray CPUs of every run (default: the profile's, "
                   "RunSpec.cpus)")
    p.add_argument("--gpus-per-run", type=float, default=None, help="Ray GPUs of every run, a fraction shares one "
                   "(default: the profile's, RunSpec.gpus)")
    a = p.parse_args(argv)
    runs = grid_runs(a.profile, a.grid)
    if a.dry_run:
        t = dry_run(runs, results_dir=a.results_dir)
        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(t[["model", "dataset", "strength", "seed", "steps", "batch_size", "eval", "cached", "est_seconds"]]
                  .to_string(index=False))
        todo = t[~t["cached"]]
        print(f"\n{len(t)} runs, {int(t['cached'].sum())} cached, {len(todo)} to compute: estimated "
              f"{todo['est_seconds'].sum() / 3600:.2f} h on the reference 2-core CPU "
              "(rtc.experiments.grid.STEP_SECONDS and EVAL_SECONDS: measured rates, quiet machine)")
        return 0
    t0 = time.perf_counter()
    table, _ = run_grid(runs, address=a.address, results_dir=a.results_dir, cpus_per_run=a.cpus_per_run,
                        gpus_per_run=a.gpus_per_run)
    cols = [c for c in ("status", "model", "dataset", "strength", "seed", "recon", "tc_mean", "tc_sample",
                        "sap_r2", "mig_ref") if c in table]
    with pd.option_context("display.max_rows", None, "display.width", 200):
        print(table[cols].to_string(index=False))
    print(f"\n{len(table)} runs in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
