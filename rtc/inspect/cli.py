"""``python -m rtc.inspect``: write the report of one trained run, given by its directory or resolved through a
profile's grid; trains nothing."""
from __future__ import annotations

import argparse
import sys
import time

import torch

from .load import InspectError, load_run, resolve_run
from .report import write_report

__all__ = ["main"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtc.inspect",
                                description="Write a report of one trained run (reconstructions, traversals, "
                                            "histograms, metric matrices, curves, settings); trains nothing.")
    p.add_argument("run_dir", nargs="?", help="a run directory (results/runs/<model>-<key>)")
    p.add_argument("--profile", help="resolve the run through parameters/<profile>/training.yaml")
    p.add_argument("--model")
    p.add_argument("--strength", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dataset", default="dsprites")
    p.add_argument("--results-dir", default=None, help="cache root (default $RTC_RESULTS_DIR or <repo>/results)")
    p.add_argument("--dataset-path", default=None, help="the dataset's real file(s), if the run used them")
    p.add_argument("--out", default="inspect-out", help="output folder (index.html + PNG/GIF)")
    p.add_argument("--format", default="all", choices=("png", "gif", "all"))
    p.add_argument("--images", type=int, default=3, help="traced images (one traversal each)")
    p.add_argument("--points", type=int, default=10, help="traversal values (GIF frames)")
    p.add_argument("-n", type=int, default=1000, help="images encoded for the histograms and the KL order")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    torch.set_num_threads(max(1, a.threads))
    try:
        if a.run_dir and a.profile:
            raise InspectError("give a run directory or --profile/--model/--strength, not both")
        if a.run_dir:
            insp = load_run(a.run_dir, n=a.n, dataset_path=a.dataset_path)
        elif a.profile:
            if a.model is None or a.strength is None:
                raise InspectError("--profile needs --model and --strength (and --seed, --dataset)")
            spec, run_dir = resolve_run(a.profile, model=a.model, strength=a.strength, seed=a.seed,
                                        dataset=a.dataset, results_dir=a.results_dir)
            insp = load_run(run_dir, n=a.n, evaluation=spec.evaluation, dataset_path=a.dataset_path,
                            profile=a.profile)
        else:
            raise InspectError("give a run directory or --profile P --model M --strength S [--seed K --dataset D]")
        for note in insp.notes:
            print(f"warning: {note}", file=sys.stderr)
        page = write_report(insp, a.out, fmt=a.format, images=a.images, points=a.points)
    except InspectError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {page} in {time.perf_counter() - t0:.1f} s")
    return 0

