"""CPU pilot: FactorVAE (γ = 50), RTC-VAE (β = 50) and a β-VAE (β = 4) on dSprites, trained
concurrently for a fixed wall-clock budget each, with TC_mean / TC_sample over training.

Usage (repository root)::

    .venv/bin/python studies/pilot_training.py                  # 10 minutes per model, 3 processes
    .venv/bin/python studies/pilot_training.py --minutes 2 --eval-n 1000   # a quick look
    .venv/bin/python studies/pilot_training.py --summarize-only            # table + figure from saved results

Each model runs in its own single-thread process (on a 2-core CPU, two single-thread processes
beat one two-thread process slightly). Training goes through ``rtc.models.train`` with a
time limit, so the number of steps depends on the machine's load: it is printed. A second call
resumes the runs from their checkpoints for another budget; ``--fresh`` starts over. Every
``--snapshot-every`` steps the weights are kept; afterwards each snapshot encodes ``--eval-n``
images (5000 as in the paper) and reports TC_mean, TC_sample (Prop. 1), the same over active
dimensions only (var µ_k > 0.01), the per-dimension variance of µ, E[σ²] and reconstruction.
Results go to ``results/pilot/`` (gitignored): ``<model>.json``, ``pilot.md``, ``pilot.png``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

MODELS = {"factor_vae": 50.0, "rtc_vae": 50.0, "beta_vae": 4.0}


def worker(args) -> None:
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from rtc._io import atomic_write_text
    from rtc.data import load_dataset
    from rtc.models import TrainConfig, build, encode, representation_stats
    from rtc.models.train import train

    ds = load_dataset("dsprites")
    cfg = TrainConfig(model=args.worker, strength=MODELS[args.worker], batch_size=args.batch, steps=args.steps,
                      lr=args.lr, warmup_steps=args.warmup, 
                      snapshot_steps=tuple(range(args.snapshot_every, args.steps + 1, args.snapshot_every)),
                      eta_every=args.eta_every, checkpoint_every=args.snapshot_every, seed=args.seed)
    out = Path(args.out)
    res = train(cfg, ds, cache_dir=out / "runs", progress=False, time_limit=args.minutes * 60, retrain=args.fresh)
    print(f"{args.worker}: {res.steps_done} steps in {res.seconds:.0f} s "
          f"({res.steps_done / max(res.seconds, 1e-9):.2f} steps/s)", flush=True)
    evals = []
    for step in [0] + res.snapshots:
        cache = out / "evals" / f"{args.worker}-{step}-{args.eval_n}.json"  # a resumed pilot re-encodes nothing
        if cache.exists() and not args.fresh:
            s = json.loads(cache.read_text())
        else:
            if step == 0:  # the initialisation: train() builds it the same way, from the seed alone
                model = build(cfg, ds.num_channels, "cpu").model.eval()
            else:
                model = res.load_snapshot(step)
            st = representation_stats(encode(model, ds, n=args.eval_n, seed=1))
            s = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in st.items()}
            cache.parent.mkdir(exist_ok=True)
            cache.write_text(json.dumps(s))
        win = slice(max(0, step - args.snapshot_every), step)
        log = {k: float(np.nanmean(res.log[k][win])) if step and np.isfinite(res.log[k][win]).any() else None
               for k in ("recon", "kl", "tc", "var_sum", "eta", "disc_acc")}
        evals.append({"step": step, **s, "train": log})
    payload = {"model": args.worker, "strength": MODELS[args.worker], "config": cfg.to_dict(),
               "steps_done": res.steps_done, "seconds": res.seconds, "evals": evals,
               "eta_trace": res.log["eta"].tolist(), "var_sum_trace": res.log["var_sum"].tolist(),
               "recon_trace": res.log["recon"].tolist(), "tc_trace": res.log["tc"].tolist()}
    atomic_write_text(out / f"{args.worker}.json", json.dumps(payload, default=lambda v: None if v != v else v))


def fmt(v, p=2):
    return "—" if v is None else ("∞" if v == float("inf") else f"{v:.{p}f}")


def summarize(out: Path) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    runs = {m: json.loads((out / f"{m}.json").read_text()) for m in MODELS if (out / f"{m}.json").exists()}
    lines = ["| model | step | TC_mean | TC_sample | TC_mean (active) | TC_sample (active) | active dims | "
             "var µ_k (min–max) | E σ² sum | recon | η | D acc |", "|" + "---|" * 12]
    for m, r in runs.items():
        for e in r["evals"]:
            t = e["train"]
            vm = e["var_mu"]
            lines.append(f"| {m} ({r['strength']:g}) | {e['step']} | {fmt(e['tc_mean'])} | {fmt(e['tc_sample'])} | "
                         f"{fmt(e['tc_mean_active'])} | {fmt(e['tc_sample_active'])} | {e['active_dims']} | "
                         f"{min(vm):.1e}–{max(vm):.1e} | {fmt(e['var_sum'], 3)} | {fmt(e['recon'], 1)} | "
                         f"{fmt(t['eta'], 0)} | {fmt(t['disc_acc'])} |")
        lines.append("")
    steps = "; ".join(f"{m}: {r['steps_done']} steps in {r['seconds']:.0f} s" for m, r in runs.items())
    text = f"Steps achieved: {steps}\n\n" + "\n".join(lines)
    (out / "pilot.md").write_text(text)

    fig, ax = plt.subplots(2, 3, figsize=(15, 8))
    for m, r in runs.items():
        ev = r["evals"]
        st = [e["step"] for e in ev]
        clip = lambda v: np.nan if v is None or v == float("inf") else v  # noqa: E731
        line, = ax[0, 0].plot(st, [clip(e["tc_mean"]) for e in ev], "--o", label=f"{m} TC_mean")
        ax[0, 0].plot(st, [clip(e["tc_sample"]) for e in ev], "-o", color=line.get_color(), label=f"{m} TC_sample")
        ax[0, 1].plot(st, [clip(e["tc_mean_active"]) for e in ev], "--o", color=line.get_color(), label=f"{m} mean")
        ax[0, 1].plot(st, [clip(e["tc_sample_active"]) for e in ev], "-o", color=line.get_color(), label=f"{m} sample")
        ax[0, 2].semilogy(st, [e["var_mu"] for e in ev], ".", color=line.get_color())
        ax[1, 0].plot(np.convolve(r["recon_trace"], np.ones(20) / 20, "valid"), color=line.get_color(), label=m)
        ax[1, 1].semilogy(np.maximum(r["var_sum_trace"], 1e-6), color=line.get_color(), label=m)
        if m != "beta_vae":
            ax[1, 2].plot(r["eta_trace"] if m == "rtc_vae" else [], color=line.get_color(), label=m)
    ax[0, 0].set(title="Gaussian TC (Prop. 1), all dims", xlabel="step", ylabel="nats")
    ax[0, 1].set(title="Gaussian TC, active dims only", xlabel="step")
    ax[0, 2].set(title="per-dimension variance of µ", xlabel="step")
    ax[1, 0].set(title="reconstruction (BCE, 20-step mean)", xlabel="step")
    ax[1, 1].axhspan(0.01, 0.04, color="0.9")
    ax[1, 1].set(title="Σ_k E[σ_k²] (band 0.01–0.04 shaded)", xlabel="step")
    ax[1, 2].set(title="η (RTC-VAE, effective)", xlabel="step")
    for a in (ax[0, 0], ax[0, 1], ax[1, 0], ax[1, 1]):
        a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "pilot.png", dpi=90)
    return text


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0, help="training wall-clock budget per model")
    p.add_argument("--steps", type=int, default=100_000, help="step cap (the time budget usually ends first)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=200, help="steps of linear warm-up of β/γ/η")
    p.add_argument("--eta-every", type=int, default=25, help="η update cadence (steps)")
    p.add_argument("--snapshot-every", type=int, default=100)
    p.add_argument("--eval-n", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/pilot")
    p.add_argument("--fresh", action="store_true", help="retrain instead of resuming saved runs")
    p.add_argument("--summarize-only", action="store_true")
    p.add_argument("--worker", choices=list(MODELS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.worker:
        return worker(args)
    if not args.summarize_only:
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        fwd = [a for a in (argv if argv is not None else sys.argv[1:])]
        t0 = time.time()
        procs = {m: subprocess.Popen([sys.executable, __file__, *fwd, "--worker", m], env=env) for m in MODELS}
        codes = {m: pr.wait() for m, pr in procs.items()}
        print(f"workers finished in {time.time() - t0:.0f} s: {codes}")
        if any(codes.values()):
            sys.exit(f"a worker failed: {codes}")
    print(summarize(Path(args.out)))


if __name__ == "__main__":
    main()
