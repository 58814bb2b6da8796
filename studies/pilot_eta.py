"""CPU pilot of RTC-VAE's η schedule (:mod:`rtc.models.eta`): how fast and how steadily each rule holds the variance
term Σ_k E[σ_k²] in the paper's band (0.01, 0.04).

Usage (repository root, one thread: 4,100 steps, ≈ 9 minutes of one core at 0.13 s a step)::

    PYTHONPATH=. .venv/bin/python studies/pilot_eta.py                 # the table in rtc/models/eta.py
    PYTHONPATH=. .venv/bin/python studies/pilot_eta.py --steps 500     # a quicker look

dSprites, batch 32, the default profile's settings (lr 1e-3, warm-up of 300 steps from an autoencoder start, a 4 × 512
discriminator), seed 0. The schedule holds η during the warm-up, so the first 300 steps of a model are the same for
every rule: they are trained once and each rule continues from a copy (weights, both Adams, the random generators, the
data stream's position). Rules: the paper's, checked every k = 1 or 10 steps on the mean of the term over the last k
steps (cap: the default of :class:`~rtc.models.eta.EtaSchedule`), and the project's old rule for contrast (a 50-step
window, cap 20·max(10, β), a zeroed η restored to its last value). Per run: the first step inside the band, the share
of the second half of the steps inside it (:func:`~rtc.models.eta.band_share`), the number of times η was zeroed,
η at the end and its maximum, and the reconstruction (nats per image, mean over the last 50 steps).
"""
from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch

from rtc.data import batches, load_dataset
from rtc.models.eta import BAND, band_share
from rtc.models.train import TrainConfig, build, discriminator_step, vae_step

RUNS = (("rtc_vae", 10.0, ("k=1", "k=10", "old")), ("revised_beta_vae", 4.0, ("k=1", "k=10", "old")),
        ("revised_beta_vae", 10.0, ("k=1", "k=10")))
WARMUP = 300


class OldRule:
    """The rule this project used before: the term's mean over 50 steps, cap 20·base, a zeroed η restored to its
    last value (kept here only for the contrast)."""

    def __init__(self, base: float, start: int):
        self.base, self.start, self.cap = base, start, 20 * base
        self.eta, self.last, self.sum, self.n = base, base, 0.0, 0

    def update(self, term: float, step: int) -> float:
        if step < self.start:
            return self.eta
        self.sum, self.n = self.sum + term, self.n + 1
        if self.n == 50:
            mean, self.sum, self.n = self.sum / 50, 0.0, 0
            if mean > BAND[1]:
                self.eta = self.last if self.eta == 0 else min(self.cap, 1.2 * self.eta)
            elif mean < BAND[0] and self.eta > 0:
                self.last, self.eta = self.eta, 0.0
        return self.eta


def steps(tr, ds, cfg, first: int, last: int, log: dict) -> None:
    """Train steps first … last − 1 as rtc.models.train.train does, appending var_sum, eta, recon to ``log``."""
    per_step = 2 if tr.disc is not None else 1
    stream = batches(ds, cfg.batch_size, seed=cfg.seed, start=per_step * first)
    for t in range(first, last):
        out, terms = vae_step(tr, next(stream), step=t, dataset_size=len(ds))
        if tr.disc is not None:
            discriminator_step(tr, out.z, next(stream))
        for k in ("var_sum", "eta", "recon"):
            log[k].append(float(terms[k]))
        tr.eta.update(log["var_sum"][-1], t)


def config(model: str, strength: float, total: int, every: int) -> TrainConfig:
    return TrainConfig(model=model, strength=strength, batch_size=32, steps=total, lr=1e-3, warmup_steps=WARMUP,
                       warmup_start="autoencoder", disc_hidden=512, disc_layers=4, eta_every=every, seed=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=700, help="steps per run, the 300 warm-up steps included")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = load_dataset("dsprites")
    rows, t0 = [], time.perf_counter()
    for model, strength, rules in RUNS:
        cfg = config(model, strength, args.steps, 1)
        tr = build(cfg, ds.num_channels, "cpu")
        warm = {"var_sum": [], "eta": [], "recon": []}
        steps(tr, ds, cfg, 0, WARMUP, warm)
        state = tr.state_dict()
        for rule in rules:
            every = 10 if rule == "k=10" else 1
            cfg_r = config(model, strength, args.steps, every)
            tr_r = build(cfg_r, ds.num_channels, "cpu")
            tr_r.load_state_dict({**copy.deepcopy(state), "eta": tr_r.eta.state_dict()})  # the warm-up's state, fresh η
            if rule == "old":
                tr_r.eta = OldRule(tr_r.eta.base, WARMUP)
            log = {k: list(v) for k, v in warm.items()}
            steps(tr_r, ds, cfg_r, WARMUP, args.steps, log)
            v, eta = np.array(log["var_sum"]), np.array(log["eta"])
            inside = np.flatnonzero((v > BAND[0]) & (v < BAND[1]) & (np.arange(v.size) >= WARMUP))
            zeroed = int(np.sum((eta[1:] == 0) & (eta[:-1] > 0)))
            rows.append((f"{model} {strength:g}", rule, int(inside[0]) if inside.size else None, band_share(v), zeroed,
                         eta[-1], eta.max(), getattr(tr_r.eta, "cap", None), float(np.mean(log["recon"][-50:])),
                         float(np.mean(v[-50:]))))
            print(f"  ({time.perf_counter() - t0:.0f} s) {row(rows[-1])}", flush=True)
    print(f"\n{args.steps} steps per run (warm-up {WARMUP}); band {BAND}; second half = steps {args.steps // 2}–"
          f"{args.steps - 1}\n")
    print("| model | rule | first step in band | 2nd-half share in band | times zeroed | final η | max η | cap | "
          "recon (last 50) | var_sum (last 50) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(row(r))


def row(r: tuple) -> str:
    cap = "—" if r[7] is None else f"{r[7]:.4g}"
    return (f"| {r[0]} | {r[1]} | {'—' if r[2] is None else r[2]} | {r[3]:.2f} | {r[4]} | {r[5]:.4g} | {r[6]:.4g} | "
            f"{cap} | {r[8]:.1f} | {r[9]:.4f} |")


if __name__ == "__main__":
    main()
