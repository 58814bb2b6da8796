"""What judging the claims on 5,000 images per run (the paper's number, §5) costs against 2,000: the comparison's
claim stage (`claim_stage`: encode, the Gaussian TCs and SAP of every run, at the end and at half training) and
the disintegration chapter's analysis of the codes (`encode_runs` + `analyse_runs`), side by side in one process on
the same cached runs.

    RTC_RESULTS_DIR=/path/to/results PYTHONPATH=. .venv/bin/python bench/bench_claim_images.py [--runs 4]

The runs are the ``--profile``'s (default: default) first ``--runs`` (they must be in the results cache: nothing is
trained). One thread; the machine may be shared, so read the ratio, not the seconds.
"""
from __future__ import annotations

import argparse
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--profile", default="default", help="the profile whose grid's first runs are timed")
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000])
    args = ap.parse_args()
    torch.set_num_threads(1)
    from rtc.data import load_dataset
    from rtc.experiments import default_results_dir
    from rtc.experiments.comparison import add_disparity, add_regime, claim_stage
    from rtc.experiments.disintegration import analyse_runs, encode_runs
    from rtc.experiments.grid import grid_runs
    from rtc.experiments.results import load_results

    specs = grid_runs(args.profile)[: args.runs]
    table, results = load_results(specs, results_dir=default_results_dir())
    table = add_regime(add_disparity(table.assign(learned=True)), results).reset_index(drop=True)
    datasets = {n: load_dataset(n) for n in set(table["dataset"])}
    rows = {}
    for n in args.sizes:
        t0 = time.perf_counter()
        claim_stage(table, results, datasets, n=n)
        claim_stage(table, results, datasets, half=True, n=n)
        t1 = time.perf_counter()
        analyse_runs(results, encode_runs(results, n=n), max_points=2000)
        t2 = time.perf_counter()
        rows[n] = (t1 - t0, t2 - t1)
        print(f"n = {n:>5}: claim stages {t1 - t0:6.1f} s, disintegration analysis {t2 - t1:6.1f} s "
              f"({args.runs} runs)")
    base = args.sizes[0]
    for n in args.sizes[1:]:
        print(f"ratio {n}/{base}: claim stages {rows[n][0] / rows[base][0]:.2f}×, disintegration "
              f"{rows[n][1] / rows[base][1]:.2f}×; per run +{(rows[n][0] - rows[base][0]) / args.runs:.1f} s and "
              f"+{(rows[n][1] - rows[base][1]) / args.runs:.1f} s")


if __name__ == "__main__":
    main()
