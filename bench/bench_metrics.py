"""Time every metric of rtc.metrics on 10,000 codes × 10 latents × 5 factors (dSprites-sized factors).

Run: ``.venv/bin/python bench/bench_metrics.py [--n 10000] [--chen-samples 2000] [--scores-train 2000]``.

Codes: latents 0–4 are the 5 factors (sizes 3, 6, 40, 32, 32) plus N(0, 0.1²) noise, latents 5–9 pure
N(0, 1) noise, columns shuffled. Timings are wall-clock medians of ``--repeat`` runs in one process,
printed side by side with the ratio to the fastest metric (the machine is shared: read ratios).
BetaVAE/FactorVAE scores go through a synthetic dataset whose 64×64 observations carry the factors
and an encoder that reads them back, so their time is the metric's own plus rendering, not a network.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from rtc.metrics import (
    beta_vae_score,
    dci,
    disintegration,
    factor_vae_score,
    mig,
    mig_chen,
    modularity_explicitness,
    normalized_mi_matrix,
    sap,
    tc_diagnostics,
)

SIZES = (3, 6, 40, 32, 32)


class _GridData:
    """Minimal dataset with the agreed interface; observation pixel (0, 0, k) = factor k / (size − 1)."""
    factor_sizes = SIZES
    factor_names = ("shape", "scale", "orientation", "posX", "posY")

    def sample_factors(self, n, rng):
        return np.stack([rng.integers(s, size=n) for s in SIZES], 1)

    def observations(self, factors, device=None):
        obs = torch.zeros(len(factors), 1, 64, 64)
        obs[:, 0, 0, :len(SIZES)] = torch.as_tensor(factors / (np.array(SIZES) - 1), dtype=torch.float32)
        return obs


def _encoder(perm, rng):
    def fn(obs):
        f = obs[:, 0, 0, :len(SIZES)].double().numpy() * (np.array(SIZES) - 1)
        z = np.concatenate([f + 0.1 * rng.standard_normal(f.shape), rng.standard_normal((len(f), 5))], 1)
        return z[:, perm]
    return fn


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="training points (test set: n/2)")
    ap.add_argument("--chen-samples", type=int, default=2000)
    ap.add_argument("--scores-train", type=int, default=2000, help="BetaVAE/FactorVAE num_train (eval: half)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-gbt", action="store_true", help="skip the slow reference DCI estimator")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    perm = rng.permutation(10)
    ds = _GridData()
    f_tr, f_te = ds.sample_factors(args.n, rng), ds.sample_factors(args.n // 2, rng)
    enc = _encoder(perm, rng)
    c_tr, c_te = enc(ds.observations(f_tr)), enc(ds.observations(f_te))
    logvar = np.full(c_tr.shape, np.log(0.1 ** 2))
    samples = c_tr + 0.1 * rng.standard_normal(c_tr.shape)
    test = dict(codes_test=c_te, factors_test=f_te)
    st = dict(batch_size=64, num_train=args.scores_train, num_eval=args.scores_train // 2)
    jobs = {
        "tc (Gaussian mean+sample, kNN ≤5000 pts)": lambda: tc_diagnostics(c_tr, samples),
        "sap_r2": lambda: sap(c_tr, f_tr, continuous=True),
        "sap_svc (LinearSVC)": lambda: sap(c_tr, f_tr, continuous=False, **test),
        "mig_ref (20 bins)": lambda: mig(c_tr, f_tr),
        f"mig_chen ({args.chen_samples} MC samples)": lambda: mig_chen(c_tr, logvar, f_tr,
                                                                       num_samples=args.chen_samples),
        "dci random_forest": lambda: dci(c_tr, f_tr, estimator="random_forest", **test),
        "modularity + explicitness": lambda: modularity_explicitness(c_tr, f_tr, **test),
        "disintegration (nmi + pairs)": lambda: disintegration(normalized_mi_matrix(c_tr, f_tr), codes=c_tr),
        f"beta_vae ({st['num_train']}/{st['num_eval']} pts × 64)": lambda: beta_vae_score(ds, enc, **st),
        f"factor_vae ({st['num_train']}/{st['num_eval']} pts × 64)": lambda: factor_vae_score(
            ds, enc, num_variance_estimate=args.n, **st),
    }
    if not args.skip_gbt:
        jobs["dci gbt (reference)"] = lambda: dci(c_tr, f_tr, estimator="gbt", **test)
    print(f"{args.n} codes × 10 latents × 5 factors {SIZES}, test {args.n // 2}; torch threads "
          f"{torch.get_num_threads()}")
    times, values = {}, {}
    for name, job in jobs.items():
        ts = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            out = job()
            ts.append(time.perf_counter() - t0)
        times[name] = statistics.median(ts)
        values[name] = out
        print(f"  done {name}: {times[name]:.2f} s", flush=True)
    fastest = min(times.values())
    print(f"\n{'metric':48s} {'seconds':>9s} {'× fastest':>10s}  value")
    for name, t in times.items():
        v = values[name]
        if hasattr(v, "score"):
            val = f"{v.score:.3f}"
        elif hasattr(v, "disentanglement"):
            val = f"D={v.disentanglement:.3f} C={v.completeness:.3f} I={v.informativeness_test:.3f}"
        elif hasattr(v, "eval_accuracy"):
            val = f"eval acc {v.eval_accuracy:.3f}"
        elif hasattr(v, "modularity"):
            val = f"mod={v.modularity:.3f} expl={v.explicitness_test:.3f}"
        elif hasattr(v, "tc_mean"):
            val = f"TC mean {v.tc_mean:.3f} sample {v.tc_sample:.3f} kNN {v.knn_tc_mean}"
        else:
            val = f"mean split ratio {v['split_ratio'].mean():.3f}"
        print(f"{name:48s} {t:9.2f} {t / fastest:10.1f}  {val}")
    if "dci gbt (reference)" in times:
        print(f"\nDCI gbt / random_forest time ratio: {times['dci gbt (reference)'] / times['dci random_forest']:.1f}")


if __name__ == "__main__":
    main()
