"""Two ways to get more images per core out of a CPU grid, each against the plain step, side by side in one run:

1. ``torch.compile`` (inductor, CPU) of the Table 2 encoder and decoder inside the training loop's own
   ``vae_step`` (β-VAE, β = 4, fp32, batch 32, one thread): eager against compiled, and the compile time.
2. K runs of one grid as one batched computation — ``torch.func.stack_module_state`` + ``vmap`` over the K
   models' weights (convolutions become grouped convolutions), one Adam over the stacked weights (Adam is
   elementwise, so this is K independent Adams) — against the same step of one model, K = 2 and 4, one thread.
   Ratio = K · (one model's step) / (the K-model step): images per core-second of the batched form over K single
   single-thread processes. The batched step is checked first: its gradients equal those of each model alone.

Usage: ``.venv/bin/python bench/bench_batched.py [--steps 10] [--batch 32] [--skip-compile]``. The machine is
shared: medians of ``--steps`` timed steps after warm-up; quote ratios from one run. Adopt a lever only where its
ratio is ≥ 1.3 (issue 19).
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from rtc.data import batches, load_dataset
from rtc.models import VAE, TrainConfig
from rtc.models.train import build, vae_step

BETA = 4.0


def median_step(step, steps: int, warmup: int = 2) -> float:
    """Median seconds of ``step()`` over ``steps`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def compile_table(ds, batch: int, steps: int) -> None:
    stream = batches(ds, batch, seed=0)
    cfg = TrainConfig(model="beta_vae", strength=BETA, batch_size=batch)
    res = {}
    for mode in ("eager", "compiled"):
        tr = build(cfg, ds.num_channels, "cpu")
        t0 = time.perf_counter()
        if mode == "compiled":
            tr.model.encoder = torch.compile(tr.model.encoder)
            tr.model.decoder = torch.compile(tr.model.decoder)
            vae_step(tr, next(stream), step=1000, dataset_size=len(ds))  # compiles (forward and backward)
        first = time.perf_counter() - t0
        res[mode] = median_step(lambda tr=tr: vae_step(tr, next(stream), step=1000, dataset_size=len(ds)), steps)
        print(f"| {mode} | {res[mode] * 1e3:.1f} | {batch / res[mode]:.0f} | "
              + (f"{first:.1f} | {res['eager'] / res[mode]:.2f} |" if mode == "compiled" else " | |"))


def _loss(model: VAE, params: dict, buffers: dict, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """β-VAE's loss of one model (its ``params``) on images ``x`` (B, C, 64, 64) with noise ``eps`` (B, D): the
    Bernoulli reconstruction (nats per image) + β · KL(q(z|x) ‖ N(0, I)), means over the batch."""
    state = {**params, **buffers}
    h = functional_call(model.encoder.net, {k[len("encoder.net."):]: v for k, v in state.items()
                                            if k.startswith("encoder.net.")}, (x,)).flatten(1)
    d = model.latent_dim
    mu, logvar = h[:, :d], h[:, d:]
    z = mu + torch.exp(0.5 * logvar) * eps
    logits = functional_call(model.decoder.net, {k[len("decoder.net."):]: v for k, v in state.items()
                                                 if k.startswith("decoder.net.")}, (z[:, :, None, None],))
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum() / x.shape[0]
    return recon + BETA * kl


def batched_row(ds, batch: int, steps: int, k: int) -> None:
    """One row of the batched table: K models, their batched step against one model's step."""
    torch.manual_seed(0)
    d = 10
    models = [VAE(ds.num_channels, d, channels_last=False) for _ in range(k)]
    base = copy.deepcopy(models[0]).to("meta")
    params, buffers = stack_module_state(models)
    opt = torch.optim.Adam(list(params.values()), lr=1e-3)
    streams = [batches(ds, batch, seed=s) for s in range(k)]
    gen = torch.Generator().manual_seed(0)

    def batched_loss(p, b, x, eps, base=base):
        return vmap(lambda p, b, x, e: _loss(base, p, b, x, e))(p, b, x, eps).sum()

    # correctness: the batched gradients are each model's own
    xs = torch.stack([next(s) for s in streams])
    eps = torch.randn(k, batch, d, generator=gen)
    grads = torch.autograd.grad(batched_loss(params, buffers, xs, eps), list(params.values()))
    worst = 0.0
    for i, m in enumerate(models):
        own = torch.autograd.grad(_loss(m, dict(m.named_parameters()), dict(m.named_buffers()), xs[i], eps[i]),
                                  list(m.parameters()))
        for g, o in zip(grads, own, strict=True):
            worst = max(worst, float((g[i] - o).abs().max() / o.abs().max().clamp_min(1e-12)))

    def step_batched():
        x = torch.stack([next(s) for s in streams])
        e = torch.randn(k, batch, d, generator=gen)
        opt.zero_grad(set_to_none=True)
        batched_loss(params, buffers, x, e).backward()
        opt.step()

    one = models[0]
    one_opt = torch.optim.Adam(one.parameters(), lr=1e-3)
    one_params, one_buffers = dict(one.named_parameters()), dict(one.named_buffers())

    def step_one():
        x = next(streams[0])
        e = torch.randn(batch, d, generator=gen)
        one_opt.zero_grad(set_to_none=True)
        _loss(one, one_params, one_buffers, x, e).backward()
        one_opt.step()

    t_one = median_step(step_one, steps)
    t_k = median_step(step_batched, steps)
    print(f"| {k} | {t_one * 1e3:.1f} | {t_k * 1e3:.1f} | {k * batch / t_k:.0f} | {batch / t_one:.0f} | "
          f"{k * t_one / t_k:.2f} | {worst:.1e} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--ks", type=int, nargs="+", default=[2, 4])
    p.add_argument("--skip-compile", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    ds = load_dataset("dsprites")
    print(f"one thread, batch {args.batch}, β-VAE (β = {BETA:g}), fp32; medians of {args.steps} steps")
    if not args.skip_compile:
        print("\n## torch.compile (inductor) of the encoder and decoder, through rtc.models.train.vae_step")
        print("| mode | ms/step | images/s | compile + first step (s) | eager / compiled |\n|" + "---|" * 5)
        compile_table(ds, args.batch, args.steps)
    print("\n## K runs as one vmap-batched step against one run's step (the same loss, one thread)")
    print("| K | one run (ms) | K runs batched (ms) | images/s batched | images/s one | ratio K·one/batched "
          "| max rel. gradient error |\n|" + "---|" * 7)
    for k in args.ks:
        batched_row(ds, args.batch, args.steps, k)


if __name__ == "__main__":
    main()
