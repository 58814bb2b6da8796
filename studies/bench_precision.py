"""fp32 against bf16 training, paired by seed: is bf16 equivalent at the default profile's settings?

    .venv/bin/python studies/bench_precision.py [--seeds 0 1 2] [--models beta_vae:4 factor_vae:10 rtc_vae:10]

Trains (or reads from the results cache) every model × seed twice with the `default` profile's training settings
(parameters/default/training.yaml: batch, steps, warm-up, discriminator, evaluation) — once with
``precision="fp32"`` and once with ``"bf16"`` (the networks under bf16 autocast; loss, KL, TC, η and every
reported number in float32). A pair shares its seed: the same initial weights, the same batches, the same ε.
Prints every run (with the chapters' learning check), how many runs of each model and precision learned, then per
model and metric the mean paired difference bf16 − fp32 with its 90 % Student-t interval against the seed-to-seed
spread (``rtc.experiments.paired.paired_table``: *equivalent* when the whole
interval lies within one pooled seed-to-seed standard deviation of 0), and the training speed-up per model
(a ratio of the runs' own training seconds, each run on one worker thread; on a shared machine compare ratios).
A second paired table keeps only the seeds at which both runs learned: a run that sat at the mean image dominates
the spread of every score, so that table shows the spread among trained models (chosen after the outcome; secondary).
"""
from __future__ import annotations

import argparse

import pandas as pd  # noqa: E402

import rtc.sweep as sweep  # sets Ray's environment when it starts Ray (run_grid)
from rtc.data import load_dataset  # noqa: E402
from rtc.experiments import default_results_dir  # noqa: E402
from rtc.experiments.comparison import add_learning, mean_image_baseline, trained_reconstruction  # noqa: E402
from rtc.experiments.grid import load_grid  # noqa: E402
from rtc.experiments.paired import paired_table  # noqa: E402
from rtc.experiments.specs import RunSpec  # noqa: E402
from rtc.models import TrainConfig  # noqa: E402

METRICS = ("recon", "tc_mean", "tc_sample", "active_dims", "sap_r2", "mig_ref")


def print_paired(pt, title: str) -> None:
    print(f"\n## {title}; 90 % t-interval; margin = pooled seed SD")
    print("| model | metric | pairs | fp32 mean | bf16 mean | diff | 90 % interval | seed SD | diff/SD | verdict |")
    print("|" + "---|" * 10)
    for r in pt.itertuples():
        if r.metric == "images_per_s":
            continue
        print(f"| {r.model} {r.strength:g} | {r.metric} | {r.n} | {r.a_mean:.3f} | {r.b_mean:.3f} | {r.diff:+.3f} | "
              f"[{r.lo:+.3f}, {r.hi:+.3f}] | {r.spread:.3f} | {r.diff_over_spread:.2f} | {r.verdict} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="default", help="whose training settings (defaults and eval) to use")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--models", nargs="+", default=["beta_vae:4", "factor_vae:10", "rtc_vae:10"])
    p.add_argument("--dataset", default="dsprites")
    a = p.parse_args(argv)
    g = load_grid(a.profile)
    runs = []
    for item in a.models:
        model, strength = item.split(":")
        for seed in a.seeds:
            for prec in ("fp32", "bf16"):
                cfg = TrainConfig(model=model, strength=float(strength), seed=seed,
                                  **{**g["defaults"], "precision": prec})
                runs.append(RunSpec(cfg, a.dataset, g["eval"]))
    t, results = sweep.run_grid(runs, results_dir=default_results_dir())
    t["images_per_s"] = t["steps"] * t["batch_size"] / t["train_seconds"]
    # the chapters' learning check (µ-decoded and as-trained reconstruction ≤ half-way from the mean image)
    baselines = {name: mean_image_baseline(load_dataset(name)) for name in sorted(set(t["dataset"]))}
    t = add_learning(t, baselines, trained_recon=trained_reconstruction(results))
    cols = ["model", "strength", "seed", "precision", "train_seconds", "images_per_s", "learned", *METRICS]
    with pd.option_context("display.width", 200, "display.max_rows", None, "display.precision", 3):
        print(t[cols].to_string(index=False))
    print("\n## learned runs (the chapters' learning check), per model and precision")
    for (model, strength), g in t.groupby(["model", "strength"], sort=False):
        print(f"{model} {strength:g}: " + ", ".join(
            f"{p} {int(g[g.precision == p].learned.sum())}/{int((g.precision == p).sum())}" for p in ("fp32", "bf16")))
    pt = paired_table(t, factor="precision", a="fp32", b="bf16", metrics=list(METRICS) + ["images_per_s"])
    print_paired(pt, f"bf16 − fp32, paired by seed ({len(a.seeds)} seeds, every pair)")
    both = t.groupby(["model", "strength", "seed"])["learned"].transform("all")
    print_paired(paired_table(t[both], factor="precision", a="fp32", b="bf16", metrics=list(METRICS)),
                 "bf16 − fp32 over the pairs in which both runs learned (secondary: the spread without failed runs)")
    print("\n## training speed, images/s per worker thread")
    for r in pt[pt.metric == "images_per_s"].itertuples():
        print(f"{r.model} {r.strength:g}: fp32 {r.a_mean:.0f}, bf16 {r.b_mean:.0f} images/s — "
              f"bf16/fp32 = {r.b_mean / r.a_mean:.2f}")
    counts = pt[pt.metric != "images_per_s"].verdict.value_counts().to_dict()
    print(f"\nverdicts over {int((pt.metric != 'images_per_s').sum())} (model, metric) cells: {counts}")


if __name__ == "__main__":
    main()
