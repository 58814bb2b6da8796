"""Training speed: images/s per objective at batch 64 and 500, achieved GFLOP/s as a ratio to this
machine's fp32 matmul peak (measured in the same run), where a step's time goes (the phases of
``rtc.models.train``'s loop, timed by calling its own ``vae_step`` / ``discriminator_step``), the
cost of the FactorVAE family's pre-step copy, and channels_last against NCHW.

Usage: ``.venv/bin/python bench/bench_train.py [--steps 3] [--batches 64 500] [--threads 2]``;
``--precision-only``: fp32 against bf16 (``TrainConfig.precision``) for 1 and 2 threads at batch 32, 64 and
500, each against the matching (fp32 or bf16) matmul peak measured in the same run, the discriminator's FLOPs
counted for the FactorVAE family (:func:`step_flops`).

FLOPs: the Table 2 model's multiply-accumulates per image are counted from its layers (a conv
costs C_in·k²·C_out·H_out·W_out MACs; a transposed conv the same with its input's H·W);
a training step is taken as 3× the forward (forward + backward w.r.t. activations and
weights), 2 FLOPs per MAC. The discriminator's and estimators' FLOPs are not counted, so
FactorVAE-family ratios understate the arithmetic done. The machine is shared: medians of
``--steps`` timed steps after one warm-up step; quote ratios from one run.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from rtc.data import batches, load_dataset
from rtc.models import VAE, TrainConfig
from rtc.models.runfiles import LOG_KEYS
from rtc.models.train import PreStepCopy, build, discriminator_step, train, vae_step

OBJECTIVES = [("beta_vae", 4.0, None), ("beta_tcvae", 6.0, "mss1"), ("factor_vae", 20.0, None),
              ("dip_vae_ii", 5.0, None), ("rtc_vae", 20.0, None)]


def matmul_peak(n=2048, reps=5, dtype=torch.float32) -> float:
    """GFLOP/s of an n × n matmul in ``dtype`` (bfloat16: oneDNN's AVX-512 BF16 / AMX kernels where the CPU has
    them), the best of ``reps``."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def forward_macs(model: VAE) -> int:
    macs = 0

    def hook(mod, inp, out):
        nonlocal macs
        w = mod.weight
        if isinstance(mod, torch.nn.Conv2d):
            macs += w.shape[1] * w.shape[2] * w.shape[3] * w.shape[0] * out.shape[2] * out.shape[3]
        else:  # ConvTranspose2d weight (C_in, C_out, k, k): every input pixel scatters C_out·k² MACs
            macs += w.shape[0] * w.shape[1] * w.shape[2] * w.shape[3] * inp[0].shape[2] * inp[0].shape[3]

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Conv2d,
                                                                                 torch.nn.ConvTranspose2d))]
    with torch.no_grad():
        model(torch.rand(1, model.num_channels, 64, 64))
    for h in hs:
        h.remove()
    return macs


def phase_profile(ds, model_name, strength, est, batch, steps, channels_last=True) -> dict:
    """Median seconds per phase of one training step, through the training loop's own step functions."""
    cfg = TrainConfig(model=model_name, strength=strength, tc_estimator=est, batch_size=batch,
                      channels_last=channels_last)
    tr = build(cfg, ds.num_channels, "cpu")
    pre = PreStepCopy(tr.model, tr.opt) if tr.disc is not None else None
    stream = batches(ds, batch, seed=0)
    nan = torch.tensor(float("nan"))
    times = {k: [] for k in ("data", "pre_step_copy", "vae_step", "discriminator_step", "log")}
    for step in range(steps + 1):
        t = [time.perf_counter()]
        x, x2 = next(stream), (next(stream) if tr.disc is not None else None)
        t.append(time.perf_counter())
        if pre is not None:
            pre.remember()
        t.append(time.perf_counter())
        out, terms = vae_step(tr, x, step=step, dataset_size=len(ds))
        t.append(time.perf_counter())
        if tr.disc is not None:
            terms.update(discriminator_step(tr, out.z, x2))
        t.append(time.perf_counter())
        torch.stack([terms.get(k, nan).float() for k in LOG_KEYS]).tolist()
        t.append(time.perf_counter())
        if step:  # the first step is warm-up
            for k, a, b in zip(times, t[:-1], t[1:], strict=True):
                times[k].append(b - a)
    return {k: statistics.median(v) for k, v in times.items()}


def disc_macs(latent_dim: int, hidden: int, layers: int) -> int:
    """Multiply-accumulates of one discriminator forward per code: D·h + (layers − 2)·h² + 2h."""
    return latent_dim * hidden + (layers - 2) * hidden * hidden + 2 * hidden


def step_flops(vae_macs: int, enc_macs: int, cfg: TrainConfig) -> float:
    """FLOPs per training image: the VAE's forward + backward (3× forward), and for the FactorVAE family the
    discriminator — once in the VAE step (forward + backward to z, ≈ 2 forwards) and on two code sets in its own
    step (forward + backward, 3 forwards each) — plus the second batch's encoding (one encoder forward)."""
    flops = 2 * 3 * vae_macs
    if cfg.objective().uses_discriminator:
        flops += 2 * (2 + 2 * 3) * disc_macs(cfg.latent_dim, cfg.disc_hidden, cfg.disc_layers) + 2 * enc_macs
    return flops


def precision_table(ds, threads_list, batch_list, steps: int) -> None:
    """images/s, GFLOP/s and the fraction of the matching matmul peak for fp32 and bf16 (vae_step and, for the
    FactorVAE family, discriminator_step: the loop's own step functions), per thread count and batch."""
    from rtc.models.networks import native_bf16

    vae_macs = forward_macs(VAE(1, 10))
    enc_macs = forward_macs_encoder(VAE(1, 10))
    print(f"\n## fp32 against bf16 (native bf16 on this CPU: {native_bf16('cpu')}); median of {steps} steps")
    print("| threads | objective | batch | precision | images/s | GFLOP/s | / matmul peak | bf16 / fp32 |")
    print("|" + "---|" * 8)
    for threads in threads_list:
        torch.set_num_threads(threads)
        peaks = {"fp32": matmul_peak(), "bf16": matmul_peak(dtype=torch.bfloat16)}
        print(f"| {threads} | matmul peak (2048²) | | | | fp32 {peaks['fp32']:.0f}, bf16 {peaks['bf16']:.0f} | | "
              f"{peaks['bf16'] / peaks['fp32']:.2f} |")
        for name, strength, disc in (("beta_vae", 4.0, None), ("rtc_vae", 10.0, (512, 4))):
            for b in batch_list:
                rate = {}
                for prec in ("fp32", "bf16"):
                    kw = dict(disc_hidden=disc[0], disc_layers=disc[1]) if disc else {}
                    cfg = TrainConfig(model=name, strength=strength, batch_size=b, precision=prec, **kw)
                    tr = build(cfg, ds.num_channels, "cpu")
                    stream = batches(ds, b, seed=0)
                    times = []
                    for step in range(steps + 1):
                        x, x2 = next(stream), (next(stream) if tr.disc is not None else None)
                        t = time.perf_counter()
                        out, _ = vae_step(tr, x, step=step, dataset_size=len(ds))
                        if tr.disc is not None:
                            discriminator_step(tr, out.z, x2)
                        if step:
                            times.append(time.perf_counter() - t)
                    sec = statistics.median(times)
                    rate[prec] = b / sec
                    gflops = step_flops(vae_macs, enc_macs, cfg) * b / sec / 1e9
                    print(f"| {threads} | {name} | {b} | {prec} | {b / sec:.0f} | {gflops:.1f} | "
                          f"{gflops / peaks[prec]:.2f} | " + (f"{rate['bf16'] / rate['fp32']:.2f} |" if prec == "bf16"
                                                              else " |"))


def forward_macs_encoder(model: VAE) -> int:
    """The encoder's share of :func:`forward_macs` (for the FactorVAE family's second-batch encoding)."""
    full = forward_macs(model)
    dec = model.decoder
    macs = 0
    h = 1
    for mod in dec.net:
        if isinstance(mod, torch.nn.ConvTranspose2d):
            w = mod.weight
            macs += w.shape[0] * w.shape[1] * w.shape[2] * w.shape[3] * h * h
            h = (h - 1) * mod.stride[0] - 2 * mod.padding[0] + mod.kernel_size[0]
    return full - macs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--batches", type=int, nargs="+", default=[64, 500])
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--precision-only", action="store_true",
                   help="only the fp32-against-bf16 table (threads 1 and 2; batches 32, 64, 500)")
    args = p.parse_args(argv)
    if args.precision_only:
        precision_table(load_dataset("dsprites"), [1, 2], [32, 64, 500], args.steps)
        return
    torch.set_num_threads(args.threads)
    ds = load_dataset("dsprites")

    peak = matmul_peak()
    macs = forward_macs(VAE(1, 10))
    print(f"threads {args.threads}; fp32 matmul peak {peak:.1f} GFLOP/s; model {macs / 1e6:.1f} M MACs/image forward")

    print("\n## Where a step's time goes (median s; batch 64, channels_last)")
    hdr = "| objective | data | pre-step copy | vae_step | discriminator_step | log | vae_step share |"
    print(hdr + "\n|" + "---|" * 7)
    for name, s, est in OBJECTIVES:
        ph = phase_profile(ds, name, s, est, 64, args.steps)
        tot = sum(ph.values())
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in ph.values()) + f" | {ph['vae_step'] / tot:.0%} |")

    print("\n## channels_last vs NCHW (beta_vae, batch 64, vae_step: forward, loss, backward, Adam)")
    res = {}
    for cl in (True, False):
        res[cl] = phase_profile(ds, "beta_vae", 4.0, None, 64, args.steps, channels_last=cl)["vae_step"]
    print(f"channels_last {res[True]:.3f} s, NCHW {res[False]:.3f} s: "
          f"NCHW/channels_last = {res[False] / res[True]:.2f}")

    print("\n## End to end through rtc.models.train (includes data, logging, η, discriminator)")
    print("| objective | batch | s/step | images/s | GFLOP/s (VAE only) | / matmul peak |\n|" + "---|" * 6)
    with tempfile.TemporaryDirectory() as tmp:
        for b in args.batches:
            for name, s, est in OBJECTIVES:
                cfg = TrainConfig(model=name, strength=s, tc_estimator=est, batch_size=b, steps=args.steps + 1,
                                  checkpoint_every=10_000)
                r1 = train(cfg, ds, cache_dir=tmp, progress=False, max_steps=1)  # the first (warm-up) step
                r = train(cfg, ds, cache_dir=tmp, progress=False)  # resumes: the same run's remaining steps
                sec = (r.seconds - r1.seconds) / args.steps
                gflops = 2 * 3 * macs * b / sec / 1e9
                print(f"| {name} | {b} | {sec:.3f} | {b / sec:.0f} | {gflops:.1f} | {gflops / peak:.2f} |")


if __name__ == "__main__":
    main()
