"""A small grid serially in one process (2 torch threads) vs on local Ray (2 workers × 1 thread), one run.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_sweep.py [--runs 4] [--steps 300] [--batch 64]

Both sides train the same grid (β-VAE, different seeds, procedural dSprites, tiny "ci"-sized
evaluation restricted to SAP so that training dominates) into their own fresh results folder;
prints the wall times side by side, Ray's fixed start-up cost (``ray.init`` to first task
result, and ``ray.shutdown``) and the ratio serial / Ray. The machine may be shared: compare the
ratio, not the absolute times, and rerun when the load changes.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

import rtc.sweep as sweep  # sets Ray's environment when it starts Ray (init_ray, run_grid)
from rtc.experiments import DatasetSpec, EvalSettings, run
from rtc.experiments.specs import RunSpec
from rtc.models import TrainConfig


def grid(n: int, steps: int, batch: int) -> list:
    ev = EvalSettings.preset("ci", metrics=("sap_r2",))
    return [RunSpec(TrainConfig(model="beta_vae", strength=4.0, steps=steps, batch_size=batch, seed=s,
                                checkpoint_every=max(1, steps // 4)), DatasetSpec("dsprites"), ev)
            for s in range(n)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=64)
    a = p.parse_args()
    runs = grid(a.runs, a.steps, a.batch)
    print(f"grid: {a.runs} × β-VAE, {a.steps} steps, batch {a.batch}, dSprites; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start")

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        for r in runs:
            run(r.config, r.dataset, evaluation=r.evaluation, results_dir=d)
        serial = time.perf_counter() - t0
    print(f"serial, one process, 2 threads:       {serial:8.1f} s")

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        sweep.init_ray(num_cpus=2)
        import ray
        ray.get(ray.remote(lambda: None).options(num_cpus=1).remote())
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        table, _ = sweep.run_grid(runs, results_dir=d, cpus_per_run=1, progress=False)
        on_ray = time.perf_counter() - t1
        t2 = time.perf_counter()
        ray.shutdown()
        stop = time.perf_counter() - t2
    assert (table["status"] == "trained").all()
    print(f"Ray, 2 workers × 1 thread (grid):     {on_ray:8.1f} s")
    print(f"Ray fixed cost: start {startup:.1f} s (init + first task), shutdown {stop:.1f} s")
    print(f"ratio serial / Ray (grid only):       {serial / on_ray:8.2f}")
    print(f"ratio serial / Ray (with start-up):   {serial / (on_ray + startup + stop):8.2f}")


if __name__ == "__main__":
    main()
