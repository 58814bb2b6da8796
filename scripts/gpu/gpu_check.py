"""One script for a lent GPU machine: CUDA correctness, throughput, and a short paper-scale run.

Usage (on the device machine, from the repository root, after ``make install``)::

    .venv/bin/python scripts/gpu/gpu_check.py --out "$OUT"            # ~5 minutes on an H200
    .venv/bin/python scripts/gpu/gpu_check.py --device cpu --quick     # smoke test of the script itself

Prints one line per check and writes ``gpu_check.json`` to ``--out``:

1. correctness — the same weights and inputs on CPU and on the device (TF32 off): the Table 2
   VAE's forward and input gradient, the minibatch estimators (MWS, MSS0, MSS1) and their
   gradients, the Gaussian TC, the discriminator, and a dataset batch moved to the device;
2. throughput — training images/s per objective at batch 500 (paper setting), with the device's
   measured fp32 matmul peak in the same run and the ratio of the VAE's achieved FLOP/s to it;
3. paper-scale — FactorVAE and RTC-VAE at the paper's batch 500, lr 1e-3, for ``--seconds`` each
   on procedural dSprites, then TC_mean / TC_sample of 5000 encoded images;
4. ray_grid — four short FactorVAE runs through ``rtc.sweep.run_grid`` with ``gpus_per_run=0.25``
   (four runs sharing the GPU on the embedded local Ray); wall time and status of each.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from rtc.data import load_dataset
from rtc.discriminator import Discriminator
from rtc.estimators import mss, mws
from rtc.gaussian import gaussian_tc
from rtc.models import VAE, TrainConfig
from rtc.models.encoding import encode, representation_stats
from rtc.models.train import train

MACS_PER_IMAGE = 23.1e6  # Table 2 model forward, counted in bench/bench_train.py


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def max_rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def correctness(device) -> dict:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    out = {}
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 64, 64, generator=g)
    model = VAE(num_channels=1)
    dev_model = VAE(num_channels=1).to(device)
    dev_model.load_state_dict(model.state_dict())
    xc, xd = x.clone().requires_grad_(True), x.to(device).clone().requires_grad_(True)
    mu_c, lv_c = model.encode(xc)
    mu_d, lv_d = dev_model.encode(xd)
    logits_c, logits_d = model.decode(mu_c), dev_model.decode(mu_d)
    logits_c.sum().backward()
    logits_d.sum().backward()
    out["vae_forward_rel_err"] = max_rel(logits_d, logits_c)
    out["vae_input_grad_rel_err"] = max_rel(xd.grad, xc.grad)
    # float32 convolutions in a different order: agreement to ~1e-5 relative is expected
    z = torch.randn(64, 10, generator=g, dtype=torch.float64)
    mu = torch.randn(64, 10, generator=g, dtype=torch.float64)
    lv = torch.randn(64, 10, generator=g, dtype=torch.float64) * 0.3
    for name, fn in [("mws", lambda *a: mws(*a, 10_000)), ("mss0", lambda *a: mss(*a, 10_000, weights="mss0")),
                     ("mss1", lambda *a: mss(*a, 10_000, weights="mss1"))]:
        zc, zd = z.clone().requires_grad_(True), z.to(device).clone().requires_grad_(True)
        tc_c, tc_d = fn(zc, mu, lv).tc, fn(zd, mu.to(device), lv.to(device)).tc
        tc_c.backward()
        tc_d.backward()
        out[f"{name}_tc_abs_err"] = abs(tc_c.item() - tc_d.item())
        out[f"{name}_grad_rel_err"] = max_rel(zd.grad, zc.grad)
    a = torch.randn(4, 6, 9, generator=g, dtype=torch.float64)
    cov = a @ a.transpose(-1, -2)
    out["gaussian_tc_abs_err"] = float((gaussian_tc(cov.to(device)).cpu() - gaussian_tc(cov)).abs().max())
    disc = Discriminator(10)
    ddisc = Discriminator(10).to(device)
    ddisc.load_state_dict(disc.state_dict())
    zz = torch.randn(32, 10, generator=g)
    out["discriminator_rel_err"] = max_rel(ddisc(zz.to(device)), disc(zz))
    ds = load_dataset("dsprites")
    f = ds.sample_factors(16, 0)
    out["data_on_device_equal"] = bool(torch.equal(ds.observations(f, device=device).cpu(), ds.observations(f)))
    return out


def matmul_peak(device, n=8192, reps=10) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    sync(device)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def throughput(device, batch: int, steps: int) -> dict:
    ds = load_dataset("dsprites")
    res = {"matmul_peak_gflops": matmul_peak(device, n=8192 if device.type == "cuda" else 1024)}
    for model, strength in [("beta_vae", 4.0), ("beta_tcvae", 6.0), ("factor_vae", 20.0), ("dip_vae_ii", 5.0),
                            ("rtc_vae", 20.0)]:
        cfg = TrainConfig(model=model, strength=strength, batch_size=batch, steps=steps + 2, lr=1e-3,
                          tc_estimator="mss1" if model == "beta_tcvae" else None, checkpoint_every=10**6)
        with tempfile.TemporaryDirectory() as tmp:
            train(cfg, ds, device=device, cache_dir=tmp, progress=False, max_steps=2)  # warm-up (cuDNN autotune)
            sync(device)
            t = time.perf_counter()
            r = train(cfg, ds, device=device, cache_dir=tmp, progress=False, max_steps=steps)
            sync(device)
            secs = time.perf_counter() - t
        ips = batch * (r.steps_done - 2) / secs
        gflops = ips * MACS_PER_IMAGE * 2 * 3 / 1e9  # fwd + bwd ≈ 3× forward, 2 FLOPs per MAC
        res[model] = {"images_per_s": ips, "vae_gflops": gflops, "ratio_to_peak": gflops / res["matmul_peak_gflops"]}
    return res


def paper_scale(device, seconds: float, n_encode: int) -> dict:
    ds = load_dataset("dsprites")
    res = {}
    for model in ("factor_vae", "rtc_vae"):
        cfg = TrainConfig(model=model, strength=50.0, batch_size=500, steps=10**6, lr=1e-3, warmup_steps=200,
                          checkpoint_every=10**6)
        with tempfile.TemporaryDirectory() as tmp:
            r = train(cfg, ds, device=device, cache_dir=tmp, progress=False, time_limit=seconds)
        stats = representation_stats(encode(r.model, ds, n=n_encode, device=device))
        res[model] = {"steps": r.steps_done, "seconds": r.seconds,
                      **{k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in stats.items()}}
    return res


def ray_grid(quick: bool) -> dict:
    """Four small runs through rtc.sweep on the embedded local Ray, each asking for a quarter of the GPU
    (``gpus_per_run=0.25``: all four share it at once); the grid's wall time and each run's status."""
    import rtc.sweep as sweep  # sets Ray's environment (usage stats off, loopback) when it starts Ray
    from rtc.experiments import DatasetSpec, EvalSettings
    from rtc.experiments.specs import RunSpec

    ev = EvalSettings.preset("ci", metrics=("sap_r2",))
    runs = [RunSpec(TrainConfig(model="factor_vae", strength=10.0, batch_size=64 if quick else 500,
                                steps=5 if quick else 200, seed=s), DatasetSpec("dsprites"), ev)
            for s in range(4)]
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        table, _ = sweep.run_grid(runs, results_dir=tmp, gpus_per_run=0.25 if torch.cuda.is_available() else 0,
                               progress=False)
        wall = time.perf_counter() - t
    return {"runs": len(runs), "wall_s": wall, "gpus_per_run": 0.25 if torch.cuda.is_available() else 0,
            "status": list(table["status"]), "train_seconds": list(table["train_seconds"])}


def long_study(hours: float) -> dict:
    """The long run's γ = 10 cell at the paper's recipe (parameters/studies/long_gpu.yaml) through rtc.studies:
    budget after budget, as far as ``hours`` allow (a budget is not started after that), published to
    published/long_gpu.csv. Returns what was reached."""
    from rtc.studies import load_study, run_study  # starts Ray through rtc.sweep (loopback, no usage stats)

    study = load_study("long_gpu")
    t = time.perf_counter()
    table = run_study(study, hours=hours, progress=False)
    if table is None:
        return {"wall_s": time.perf_counter() - t, "rows": 0}
    last = table.sort_values("step").groupby(["cell", "seed"]).tail(1)
    return {"wall_s": time.perf_counter() - t, "rows": len(table), "table": str(study.table_path),
            "images_per_run": sorted(set(int(i) for i in last["images_seen"]))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", default="results/gpu_check")
    ap.add_argument("--seconds", type=float, default=90.0, help="paper-scale training time per model")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test of this script")
    ap.add_argument("--long", type=float, default=0.0, metavar="HOURS",
                    help="then the long study's GPU cell for this many hours (0: skip), published")
    args = ap.parse_args()
    device = torch.device(args.device)
    report = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "torch": torch.__version__}
    t = time.perf_counter()
    report["correctness"] = correctness(device)
    print("correctness", json.dumps(report["correctness"]), flush=True)
    report["throughput"] = throughput(device, batch=64 if args.quick else 500, steps=2 if args.quick else 20)
    print("throughput", json.dumps(report["throughput"]), flush=True)
    report["paper_scale"] = paper_scale(device, 5.0 if args.quick else args.seconds, 600 if args.quick else 5000)
    print("paper_scale", json.dumps({m: {k: v for k, v in d.items() if not isinstance(v, list)}
                                     for m, d in report["paper_scale"].items()}), flush=True)
    report["ray_grid"] = ray_grid(args.quick)
    print("ray_grid", json.dumps(report["ray_grid"]), flush=True)
    if args.long > 0:
        report["long"] = long_study(args.long)
        print("long", json.dumps(report["long"]), flush=True)
    report["wall_s"] = time.perf_counter() - t
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1, default=str))
    print(f"wrote {out / 'gpu_check.json'} in {report['wall_s']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
