"""Time and peak memory of the minibatch TC estimators against a naive un-chunked reference, side by side.

For B ∈ {500, 2048}, D = 10: forward + backward of MSS1's TC (the training use) computed
  * naive:    the full (B, B, D) tensor log q(z_ik | x_j) materialised, then reduced (as in Chen et al.'s code);
  * library:  rtc.estimators.mss(chunk=None) and mss(chunk=256) (blocks of rows, checkpointed under autograd).
Each configuration runs in a fresh subprocess so peak memory (CPU: growth of the max RSS; GPU:
torch.cuda.max_memory_allocated) is its own. On CPU the subprocesses run with glibc's
MALLOC_MMAP_THRESHOLD_=65536: otherwise glibc raises its mmap threshold after the first large free and
keeps freed blocks in the heap, so the max RSS reports the allocator's cache, not what is alive.
Prints medians over repeats and the ratios to naive.

Then the cost of the estimators' input check (the NaN/±inf scan of z, µ, log σ² that ``check=True``, the
default, does; the training loop passes ``check=False`` on its hot path) against one β-VAE training step
(``rtc.models.throughput.training_step_rate``) at batch 64, D = 10: the requirement is < 2 %.

    .venv/bin/python bench/bench_estimators.py [--device cuda] [--repeats 5] [--check-only]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

D = 10
N = 737_280  # dSprites size, a realistic dataset size


def check_cost(repeats: int, device: str) -> None:
    """Print the finiteness check's time per estimator call and as a fraction of a training step (batch 64)."""
    import torch

    from rtc.estimators import mss
    from rtc.models.throughput import training_step_rate

    b = 64
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(b, D, generator=g).to(device)
    logvar = (-4 + 0.1 * torch.randn(b, D, generator=g)).to(device)
    z = mu + 0.1 * torch.randn(b, D, generator=g).to(device)
    calls = 200

    def per_call(check: bool) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(calls):
                mss(z, mu, logvar, N, check=check)
            if device == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - t0) / calls)
        return statistics.median(times)

    per_call(True)  # warm-up
    on, off = per_call(True), per_call(False)
    step = b / training_step_rate(1, b, max(3, repeats), device=device)
    cost = max(on - off, 0.0)
    print(f"\ninput check (batch {b}, D={D}, {device}): mss with check {on * 1e6:.0f} µs, without {off * 1e6:.0f} µs; "
          f"check {cost * 1e6:.1f} µs = {100 * cost / step:.3f} % of a training step ({step * 1e3:.0f} ms); "
          "requirement < 2 %")


def naive_mss1(z, mu, logvar, n):
    import torch

    from rtc.gaussian import gaussian_log_density_elementwise
    b = z.shape[0]
    lq = gaussian_log_density_elementwise(z[:, None, :], mu[None], logvar=logvar[None])  # (B, B, D) all at once
    m = b - 1
    w = torch.full((b, b), 1.0 / m, dtype=z.dtype, device=z.device)
    idx = torch.arange(b, device=z.device)
    w[idx, idx] = 1.0 / n
    w[idx, (idx + 1) % b] = (n - m) / (n * m)
    lw = w.log()
    log_qz = torch.logsumexp(lq.sum(2) + lw, 1)
    log_qzk = torch.logsumexp(lq + lw[:, :, None], 1)
    return (log_qz - log_qzk.sum(1)).mean()


def one(kind: str, b: int, repeats: int, device: str) -> dict:
    import torch
    torch.set_num_threads(1 if device == "cpu" else torch.get_num_threads())
    from rtc.estimators import mss
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(b, D, generator=g).to(device).requires_grad_(True)
    logvar = (-4 + 0.1 * torch.randn(b, D, generator=g)).to(device).requires_grad_(True)
    z = (mu.detach() + 0.1 * torch.randn(b, D, generator=g).to(device)).requires_grad_(True)

    def run():
        if kind == "naive":
            tc = naive_mss1(z, mu, logvar, N)
        else:
            tc = mss(z, mu, logvar, N, weights="mss1", chunk=None if kind == "full" else int(kind.split("=")[1])).tc
        tc.backward()
        return float(tc.detach())

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    times, value = [], None
    for _ in range(repeats):
        for t in (z, mu, logvar):
            t.grad = None
        t0 = time.perf_counter()
        value = run()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    return {"kind": kind, "B": b, "median_s": statistics.median(times), "peak_MiB": peak / 2 ** 20, "tc": value}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--one", nargs=2, metavar=("KIND", "B"), help=argparse.SUPPRESS)
    ap.add_argument("--check-only", action="store_true", help="only the input-check cost against a training step")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.repeats, args.device)))
        return
    if args.check_only:
        check_cost(args.repeats, args.device)
        return
    kinds = ["naive", "full", "chunk=256", "chunk=64"]
    print(f"MSS1 TC forward+backward, D={D}, N={N}, device={args.device}, median of {args.repeats}")
    print(f"{'B':>5} {'estimator':>10} {'time s':>9} {'peak MiB':>9} {'time/naive':>10} {'mem/naive':>9} {'TC':>9}")
    for b in (500, 2048):
        rows = {}
        for kind in kinds:
            out = subprocess.run([sys.executable, __file__, "--one", kind, str(b), "--repeats", str(args.repeats),
                                  "--device", args.device], capture_output=True, text=True, check=True,
                                 env=dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536"))
            rows[kind] = json.loads(out.stdout.strip().splitlines()[-1])
        ref = rows["naive"]
        for kind in kinds:
            r = rows[kind]
            print(f"{b:>5} {kind:>10} {r['median_s']:>9.3f} {r['peak_MiB']:>9.1f} "
                  f"{r['median_s'] / ref['median_s']:>10.2f} {r['peak_MiB'] / max(ref['peak_MiB'], 1e-9):>9.2f} "
                  f"{r['tc']:>9.4f}")
    check_cost(args.repeats, args.device)


if __name__ == "__main__":
    main()
