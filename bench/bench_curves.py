"""What a run's curve costs against its training: seconds per training step and seconds per curve point
(``rtc.experiments.curves.curve_point``: encode and reconstruct the curve's images once, then every quantity),
side by side in one process, and the share of training time that evaluating every kept step of a profile's run
adds (the budget: ≤ 5 %).

Usage: ``.venv/bin/python bench/bench_curves.py [--profile default] [--steps 60] [--points 3] [--threads 1]
[--model beta_vae]``. The run is the profile's ``--model`` (FactorVAE: its batch, discriminator and precision;
β-VAE, the cheapest step of the grid, gives the largest share); training is timed over ``--steps`` steps after 5
of warm-up, points over ``--points`` evaluations of one snapshot. The machine is shared: quote the ratio, from one
run.

Measured (2026-12-07, default profile, 1 thread, while a book build ran on both cores): FactorVAE 164 ms per step,
1.51 s per point: 5 points = 3.1 % of training; β-VAE 157 ms, 1.73 s: 3.7 %.
"""
from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

import torch

from rtc.experiments.curves import CurveSettings, curve_point
from rtc.experiments.grid import grid_runs
from rtc.models.train import train


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", default="default")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--points", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--model", default="factor_vae", help="the profile's run of this model (its first seed)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    spec = next(s for s in grid_runs(a.profile) if s.config.model == a.model)
    ds = spec.dataset.load()
    full = spec.config
    with tempfile.TemporaryDirectory() as tmp:
        warm = dataclasses.replace(full, steps=5, snapshot_steps=())
        train(warm, ds, cache_dir=tmp, progress=False)
        t0 = time.perf_counter()
        res = train(dataclasses.replace(warm, steps=5 + a.steps), ds, cache_dir=tmp, progress=False)  # extends
        per_step = (time.perf_counter() - t0) / a.steps
        settings = CurveSettings(images=spec.evaluation.curve_images, seed=spec.evaluation.seed)
        log = {k: list(v) for k, v in res.log.items()}
        t0 = time.perf_counter()
        for _ in range(a.points):
            curve_point(res.model, ds, step=res.steps_done, batch_size=full.batch_size, log=log, settings=settings)
        per_point = (time.perf_counter() - t0) / a.points
    points = len(full.kept_steps())
    share = points * per_point / (full.steps * per_step)
    print(f"{a.profile} {a.model}, batch {full.batch_size}, {a.threads} thread(s): {per_step * 1e3:.1f} ms per "
          f"training step, {per_point:.2f} s per curve point ({settings.images} images)")
    print(f"{points} kept steps of a {full.steps}-step run: {points * per_point:.1f} s of curve for "
          f"{full.steps * per_step:.0f} s of training = {100 * share:.1f} % (budget 5 %)")


if __name__ == "__main__":
    main()
