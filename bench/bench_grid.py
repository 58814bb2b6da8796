"""Runs per hour of a profile's training grid on this machine, from the runs' own measured times.

    .venv/bin/python bench/bench_grid.py [--profile default] [--workers 2]

Reads the cached evaluations of ``parameters/<profile>/training.yaml`` (train nothing: run
``python -m rtc.sweep --profile <profile>`` or build the book first) and prints, per model, the
training and evaluation seconds each run took on its one worker thread (as Ray ran it), the
grid's runs per hour with ``--workers`` single-thread workers, the wall time of the grid when its
runs are packed longest-first onto the workers, and the ratio to ``rtc.experiments.grid.estimate_seconds``
(the planning estimate from the measured per-image rates). Times are what the runs measured
while they ran: on a shared machine they include its load — compare ratios, not absolutes.

    .venv/bin/python bench/bench_grid.py --precision [--profile default] [--steps 40] [--eval-seconds 30]

trains nothing to the cache: it builds every distinct (model, strength) of the grid with the grid's own
settings twice, at ``precision="fp32"`` and ``"bf16"``, on one thread, and times ``--steps`` training steps of
each through the loop's own ``vae_step`` / ``discriminator_step``, alternating fp32 and bf16 step by step (so a
load on the machine falls on both alike). It prints each model's images/s at both precisions and the grid's
images per core-second — every run's images over its training seconds at the measured rates, and with the
evaluation added (``--eval-seconds``, as measured, or the cost model's) — for fp32 (before) against bf16 (after),
and their ratio.
"""
from __future__ import annotations

import argparse
import os

import rtc.sweep as sweep  # sets Ray's environment when it starts Ray (run_grid)
from rtc.experiments import default_results_dir
from rtc.experiments.grid import EVAL_SECONDS, dry_run, estimate_seconds, grid_runs


def step_rates(config, ds, steps: int) -> dict[str, float]:
    """Median images/s of one training step of ``config`` at fp32 and at bf16, one thread, alternating the two
    precisions step by step after two warm-up steps each (the loop's own step functions; the same batches)."""
    import dataclasses
    import statistics
    import time

    import torch

    from rtc.data import batches
    from rtc.models.train import build, discriminator_step, vae_step

    torch.set_num_threads(1)
    trainers = {p: build(dataclasses.replace(config, precision=p), ds.num_channels, "cpu") for p in ("fp32", "bf16")}
    streams = {p: batches(ds, config.batch_size, seed=config.seed) for p in trainers}
    times = {p: [] for p in trainers}
    for step in range(steps + 2):
        for p, tr in trainers.items():
            x, x2 = next(streams[p]), (next(streams[p]) if tr.disc is not None else None)
            t = time.perf_counter()
            out, _ = vae_step(tr, x, step=step, dataset_size=len(ds))
            if tr.disc is not None:
                discriminator_step(tr, out.z, x2)
            if step >= 2:
                times[p].append(time.perf_counter() - t)
    return {p: config.batch_size / statistics.median(v) for p, v in times.items()}


def precision_ratio(profile: str, steps: int, eval_seconds: float | None = None) -> None:
    """The grid's images per core-second at fp32 (before) and bf16 (after), side by side in this one run;
    ``eval_seconds``: one evaluation's seconds (default: the cost model's, ``rtc.experiments.grid.EVAL_SECONDS``)."""
    from rtc.data import load_dataset
    from rtc.models.networks import native_bf16

    runs = grid_runs(profile)
    datasets = {name: load_dataset(name) for name in sorted({r.dataset.name for r in runs})}  # rendered once each
    groups = {}
    for r in runs:
        groups.setdefault((r.config.model, r.config.strength, r.dataset.name), []).append(r)
    eval_s = eval_seconds if eval_seconds is not None else \
        EVAL_SECONDS.get(runs[0].evaluation.name, EVAL_SECONDS["reference"])
    print(f"profile {profile}: {len(runs)} runs, batch {runs[0].config.batch_size}, one thread; native bf16 on this "
          f"CPU: {native_bf16('cpu')}; median of {steps} steps per precision, fp32 and bf16 alternating")
    print("| model | strength | runs | fp32 images/s | bf16 images/s | bf16 / fp32 |")
    print("|---|---|---|---|---|---|")
    images, secs, evals = 0.0, {"fp32": 0.0, "bf16": 0.0}, 0.0
    for (model, strength, _), rs in groups.items():
        rate = step_rates(rs[0].config, datasets[rs[0].dataset.name], steps)
        print(f"| {model} | {strength:g} | {len(rs)} | {rate['fp32']:.0f} | {rate['bf16']:.0f} | "
              f"{rate['bf16'] / rate['fp32']:.2f} |", flush=True)
        for r in rs:
            n = r.config.steps * r.config.batch_size
            images += n
            for p in secs:
                secs[p] += n / rate[p]
            evals += eval_s
    print(f"\ngrid, training only: fp32 {images / secs['fp32']:.0f}, bf16 {images / secs['bf16']:.0f} images per "
          f"core-second — ratio {secs['fp32'] / secs['bf16']:.2f}")
    print(f"grid with its evaluations ({eval_s:.0f} s a run, unchanged by precision): fp32 "
          f"{images / (secs['fp32'] + evals):.0f}, bf16 {images / (secs['bf16'] + evals):.0f} images per core-second "
          f"— ratio {(secs['fp32'] + evals) / (secs['bf16'] + evals):.2f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--profile", default="default")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.add_argument("--precision", action="store_true", help="fp32 against bf16 for the grid's models, side by side")
    p.add_argument("--steps", type=int, default=40, help="with --precision: timed steps per model and precision")
    p.add_argument("--eval-seconds", type=float, help="with --precision: one evaluation's seconds, as measured "
                   "(default: the cost model's)")
    a = p.parse_args()
    if a.precision:
        precision_ratio(a.profile, a.steps, a.eval_seconds)
        return
    runs = grid_runs(a.profile)
    todo = dry_run(runs, results_dir=default_results_dir())
    if not todo["cached"].all():
        raise SystemExit(f"{int((~todo['cached']).sum())} of {len(runs)} runs of {a.profile!r} are not evaluated yet; "
                         f"run `python -m rtc.sweep --profile {a.profile}` first")
    t, _ = sweep.run_grid(runs, results_dir=default_results_dir(), progress=False)
    t["total"] = t["train_seconds"] + t["eval_seconds"]
    t["estimate"] = [estimate_seconds(r) for r in runs]
    print(f"profile {a.profile}: {len(t)} runs, {int(t['steps'].iloc[0])} steps at batch "
          f"{int(t['batch_size'].iloc[0])}, "
          f"evaluation {t['eval'].iloc[0]!r}")
    print("| model | runs | train s/run | eval s/run | s/step |")
    print("|---|---|---|---|---|")
    for m, g in t.groupby("model", sort=False):
        print(f"| {m} | {len(g)} | {g.train_seconds.mean():.0f} | {g.eval_seconds.mean():.0f} | "
              f"{(g.train_seconds / g.steps).mean():.3f} |")
    loads = [0.0] * a.workers  # longest-first onto the least loaded worker: what Ray's queue does at best
    for s in sorted(t["total"], reverse=True):
        i = loads.index(min(loads))
        loads[i] += s
    wall = max(loads)
    print(f"sum over runs: training {t.train_seconds.sum() / 60:.1f} min, evaluation {t.eval_seconds.sum() / 60:.1f} "
          f"min (one thread each)")
    print(f"{a.workers} single-thread workers: {3600 * len(t) / wall:.1f} runs per hour; the grid's wall time "
          f"≈ {wall / 60:.1f} min")
    print(f"measured / planning estimate (rtc.experiments.grid.estimate_seconds, 2-thread rates): "
          f"{t.total.sum() / t.estimate.sum():.2f} per run-second")


if __name__ == "__main__":
    main()
