"""Runs per hour of a profile's training grid on this machine, from the runs' own measured times.

    .venv/bin/python bench/bench_grid.py [--profile default] [--workers 2]

Reads the cached evaluations of ``parameters/<profile>/training.yaml`` (train nothing: run
``python -m rtc.sweep --profile <profile>`` or build the book first) and prints, per model, the
training and evaluation seconds each run took on its one worker thread (as Ray ran it), the
grid's runs per hour with ``--workers`` single-thread workers, the wall time of the grid when its
runs are packed longest-first onto the workers, and the ratio to ``rtc.sweep.estimate_seconds``
(the planning estimate from the measured per-image rates). Times are what the runs measured
while they ran: on a shared machine they include its load — compare ratios, not absolutes.
"""
from __future__ import annotations

import argparse
import os

import rtc.sweep as sweep  # first: sets Ray's environment before anything imports ray
from rtc.experiments import default_results_dir


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--profile", default="default")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    a = p.parse_args()
    runs = sweep.grid_runs(a.profile)
    todo = sweep.dry_run(runs, results_dir=default_results_dir())
    if not todo["cached"].all():
        raise SystemExit(f"{int((~todo['cached']).sum())} of {len(runs)} runs of {a.profile!r} are not evaluated yet; "
                         f"run `python -m rtc.sweep --profile {a.profile}` first")
    t, _ = sweep.run_grid(runs, results_dir=default_results_dir(), progress=False)
    t["total"] = t["train_seconds"] + t["eval_seconds"]
    t["estimate"] = [sweep.estimate_seconds(r) for r in runs]
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
    print(f"measured / planning estimate (rtc.sweep.estimate_seconds, 2-thread rates): "
          f"{t.total.sum() / t.estimate.sum():.2f} per run-second")


if __name__ == "__main__":
    main()
