"""The mechanism on trained encoders: the most dependent latent pairs of a run, where a run's disparity comes from
(its eigen-directions, passive latents and the noise level: :func:`mechanism_table`), and Theorem 1's noise range
and bound on every run."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rtc.gaussian import sample_tc
from rtc.mixture_tc import theorem1_bound
from rtc.models import encode, representation_stats
from rtc.models.encoding import active_latents, latent_variances

from ..columns import need_columns
from ..curves import correlation_eigenvalues
from ..dependence import pairwise_dependence
from ..selection import find_run
from .constants import PAIRS
from .stage import Stage

__all__ = ["pair_codes", "pair_summary", "pair_sentence", "disparity_spectrum", "noise_range", "theorem1_row",
           "theorem1_table", "theorem1_summary", "SNR_ACTIVE", "mechanism_row", "mechanism_table", "active_control"]

# A latent whose mean varies more over the images than its noise on average (Var µ_k > SNR_ACTIVE · E σ_k²): an
# activity criterion relative to the noise, beside the absolute one (Var µ_k > 0.01, rtc.models.encoding).
SNR_ACTIVE = 1.0


def pair_codes(results, datasets: dict, model: str, dataset: str = "dsprites", *, n: int = 2000, k: int = 3,
               seed: int = 0) -> dict | None:
    """The latent pairs of the first run (in ``results`` order) of ``model`` on ``dataset``; None when there is
    none. ``results``: :class:`rtc.experiments.RunResult` s (``.row``, ``.matrices["r2"]`` (L, F),
    ``.load_model()``); ``datasets``: name → loaded dataset.

    Returns ``{"run": its position, "enc": µ, σ, z of n images (seeded), "active": latents with Var µ_k >
    ACTIVE_VAR, "dep": …}`` where ``dep`` is :func:`rtc.experiments.dependence.pairwise_dependence` over the active
    latents (k neighbours; None with fewer than two active) plus ``factor`` / ``factor_name``: the factor the pair
    is most linked to, argmax over factors of R²[a] + R²[b] (the run's R² matrix, latents × factors)."""
    i = find_run(results, model, dataset)
    if i is None:
        return None
    ds = datasets[dataset]
    enc = encode(results[i].load_model(), ds, n=n, seed=seed)
    active = [int(j) for j in np.flatnonzero(active_latents(enc.mu))]
    dep = None
    if len(active) >= 2:
        r2 = np.asarray(results[i].matrices["r2"], dtype=np.float64)
        if r2.shape[0] != enc.mu.shape[1]:
            raise ValueError(f"the R² matrix of run {i} has {r2.shape[0]} latents, its encoder {enc.mu.shape[1]}")
        dep = pairwise_dependence(enc.mu, latents=active, k=k, seed=seed)
        factor = [int(np.argmax(r2[a] + r2[b])) for a, b in zip(dep["a"], dep["b"], strict=True)]
        dep = dep.assign(factor=factor, factor_name=[ds.factor_names[f] for f in factor])
    return {"run": i, "enc": enc, "active": active, "dep": dep}


def pair_summary(pairs: dict | None) -> dict:
    """The numbers the chapter prints of a :func:`pair_codes` result: ``top_knn`` and ``top_corr`` of the pair with
    the largest kNN mutual information, ``mean_excess`` (mean excess MI over the pairs) and ``max_abs_corr``; all
    NaN without pairs (no such run, or fewer than two active latents)."""
    d = pairs["dep"] if pairs is not None else None
    if d is None:
        return {"top_knn": math.nan, "top_corr": math.nan, "mean_excess": math.nan, "max_abs_corr": math.nan}
    return {"top_knn": float(d["knn_mi"].iloc[0]), "top_corr": float(d["corr"].iloc[0]),
            "mean_excess": float(d["excess_mi"].mean()), "max_abs_corr": float(d["corr"].abs().max())}


def pair_sentence(pairs: dict | None, label: str) -> str:
    """What the chapter says of a :func:`pair_codes` result: the most dependent pair's kNN mutual information and
    correlation, the largest |corr| and the mean excess MI (:func:`pair_summary`, two decimals), or why there is no
    pair — no run of the model, or fewer than two active latents (never a NaN in the prose)."""
    if pairs is None:
        return f"This profile has no {label} run to look at."
    if pairs["dep"] is None:
        return (f"{label}'s run has {len(pairs['active'])} active latent(s) (Var µ_k > 0.01): no pair to look at "
                "(fewer than two active latents).")
    s = pair_summary(pairs)
    return (f"{label}'s most dependent pair has kNN mutual information {s['top_knn']:.2f} nats at a correlation of "
            f"{s['top_corr']:.2f} (largest |corr| over its active pairs {s['max_abs_corr']:.2f}; mean dependence "
            f"beyond correlation per pair {s['mean_excess']:.2f} nats).")


def disparity_spectrum(mu, z) -> dict:
    """Where a run's disparity TC_mean − TC_sample comes from, direction by direction.

    Prop. 1 on a sample covariance is TC = −½ Σ_i log λ_i with λ_i the eigenvalues of the correlation matrix, so
    the disparity is Σ_i −½ log λ_i(Corr µ) − Σ_i −½ log λ_i(Corr z): each near-null direction of Corr(µ)
    (λ ≪ 1, e.g. two latents that move together) adds −½ log λ nats to TC_mean, which the noise of z fills in.
    ``mu``, ``z`` (N, L): the means and one sample per image of the same images. Returns ``eig_mu``, ``eig_z``
    (L,) ascending, ``terms_mu``, ``terms_z`` (L,) = −½ log λ, ``disparity`` (their sums' difference, nats),
    ``smallest`` (the smallest eigenvalue of Corr µ) and ``smallest_share``: the share of the disparity carried
    by that one direction's term minus z's smallest (NaN when the disparity is 0)."""
    mu, z = np.asarray(mu, dtype=np.float64), np.asarray(z, dtype=np.float64)
    if mu.ndim != 2 or mu.shape != z.shape or mu.shape[0] <= mu.shape[1]:
        raise ValueError(f"mu and z must be (N, L) alike with N > L, got {mu.shape} and {z.shape}")
    eig_mu, eig_z = correlation_eigenvalues(mu), correlation_eigenvalues(z)
    terms_mu, terms_z = -0.5 * np.log(eig_mu), -0.5 * np.log(eig_z)
    disparity = float(terms_mu.sum() - terms_z.sum())
    share = (terms_mu[0] - terms_z[0]) / disparity if disparity != 0 else math.nan
    return {"eig_mu": eig_mu, "eig_z": eig_z, "terms_mu": terms_mu, "terms_z": terms_z, "disparity": disparity,
            "smallest": float(eig_mu[0]), "smallest_share": float(share)}


def noise_range(sigma, var_mu, *, active: float = 0.01, quantiles=(0.05, 0.95)) -> dict:
    """Theorem 1's noise range of a trained encoder: [c1, c2] = the ``quantiles`` of σ_k²(x) over images x and
    active dimensions k (Var µ_k > ``active``; all dimensions when none is active) — quantiles rather than
    min/max so that one outlying image does not set the range. ``sigma`` (N, D), ``var_mu`` (D,)."""
    s = np.asarray(sigma, dtype=np.float64)
    v = np.asarray(var_mu, dtype=np.float64)
    if s.ndim != 2 or v.shape != (s.shape[1],):
        raise ValueError(f"sigma must be (N, D) and var_mu (D,), got {s.shape} and {v.shape}")
    act = v > active
    s2 = (s[:, act] if act.any() else s) ** 2
    c1, c2 = np.quantile(s2, quantiles)
    return {"c1": float(c1), "c2": float(c2), "active_dims": int(act.sum())}


def theorem1_row(enc) -> dict:
    """Theorem 1 on one encoding (µ, σ, z (N, D) of :func:`rtc.models.encode`): [c1, c2] (:func:`noise_range`),
    D = the active dimensions (at least 1), TC(µ) and TC(z) over the active dimensions (Gaussian, nats,
    :func:`rtc.models.representation_stats`) and ``bound``, the theorem's right-hand side with C = 1
    (:func:`rtc.mixture_tc.theorem1_bound`)."""
    st = representation_stats(enc)
    nr = noise_range(enc.sigma, st["var_mu"])
    dim = max(nr["active_dims"], 1)
    return dict(c1=nr["c1"], c2=nr["c2"], D=dim, tc_mean_active=st["tc_mean_active"],
                tc_sample_active=st["tc_sample_active"], bound=theorem1_bound(nr["c1"], nr["c2"], dim))


def theorem1_table(results, datasets: dict, *, n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """:func:`theorem1_row` of every run of ``results`` (:class:`rtc.experiments.RunResult` s, encoded with
    ``.load_model()`` on ``n`` images of ``datasets[row["dataset"]]``, seeded), one row per run in that order:
    model, dataset, strength, seed, c1, c2, D, tc_mean_active, tc_sample_active, bound."""
    rows = []
    for res in results:
        row = res.row
        enc = encode(res.load_model(), datasets[row["dataset"]], n=n, seed=seed)
        rows.append(dict(model=row["model"], dataset=row["dataset"], strength=row["strength"], seed=row["seed"],
                         **theorem1_row(enc)))
    return pd.DataFrame(rows)


def theorem1_summary(theorem: pd.DataFrame) -> dict:
    """What the chapter says of a :func:`theorem1_table`: ``below`` (runs with TC(z) ≤ the bound) of ``total``,
    ``c1_min``, ``c2_max``, ``ratio_median`` (median c2/c1), and the median c2 of the revised models
    (``c2_revised``, :data:`PAIRS`' values) and of the others (``c2_vanilla``), NaN where there is none."""
    need_columns(theorem, ["model", "c1", "c2", "tc_sample_active", "bound"])
    rev = theorem["model"].isin(list(PAIRS.values()))
    return {"below": int((theorem["tc_sample_active"] <= theorem["bound"]).sum()), "total": len(theorem),
            "c1_min": float(theorem["c1"].min()), "c2_max": float(theorem["c2"].max()),
            "ratio_median": float(np.median(theorem["c2"] / theorem["c1"])),
            "c2_revised": float(theorem.loc[rev, "c2"].median()) if rev.any() else math.nan,
            "c2_vanilla": float(theorem.loc[~rev, "c2"].median()) if (~rev).any() else math.nan}


def mechanism_row(enc) -> dict:
    """Where one run's disparity comes from (``enc``: µ, σ, z (N, L) of N images): ``disparity`` (TC_mean −
    TC_sample, nats), ``lmin_mu`` (the smallest eigenvalue of Corr µ) and ``smallest_share`` (the share of the
    disparity its one direction carries, :func:`disparity_spectrum`), ``sigma2`` (E σ² averaged over the latents),
    ``active`` (Var µ_k > 0.01) and ``active_snr`` (Var µ_k > :data:`SNR_ACTIVE` · E σ_k²), and TC_mean over the
    active latents (``tc_mean_active``: 0 with fewer than two)."""
    spec = disparity_spectrum(enc.mu, enc.z)
    s2 = (np.asarray(enc.sigma, dtype=np.float64) ** 2).mean(0)
    act = active_latents(enc.mu)
    return dict(disparity=spec["disparity"], lmin_mu=spec["smallest"], smallest_share=spec["smallest_share"],
                sigma2=float(s2.mean()), active=int(act.sum()),
                active_snr=int((latent_variances(enc.mu) > SNR_ACTIVE * s2).sum()),
                tc_mean_active=sample_tc(enc.mu[:, act]) if act.sum() >= 2 else 0.0,
                tc_mean=sample_tc(enc.mu))


def mechanism_table(stage: Stage) -> pd.DataFrame:
    """:func:`mechanism_row` of every learned run of ``stage`` (:func:`claim_stage`: its codes), one row per run in
    table order, with model, dataset, strength and seed."""
    need_columns(stage.table, ["model", "dataset", "strength", "seed", "learned"])
    rows = []
    for i, r in stage.table.iterrows():
        if bool(r["learned"]) and stage.codes.get(i) is not None:
            rows.append(dict(model=r["model"], dataset=r["dataset"], strength=r["strength"], seed=r["seed"],
                             **mechanism_row(stage.codes[i])))
    return pd.DataFrame(rows, columns=["model", "dataset", "strength", "seed", "disparity", "lmin_mu",
                                       "smallest_share", "sigma2", "active", "active_snr", "tc_mean_active",
                                       "tc_mean"])


def active_control(mech: pd.DataFrame, vanilla: str = "factor_vae", revised: str = "rtc_vae") -> dict:
    """Passive latents carry the gap between mean and sampled representations (Bonheme & Grzes, 2021): the vanilla
    model's TC_mean over its active latents against the revised model's over all of them, same seed and strength
    on dSprites (a :func:`mechanism_table`). ``n`` pairs, the mean of each (NaN without pairs)."""
    need_columns(mech, ["model", "dataset", "strength", "seed", "tc_mean_active", "tc_mean"])
    d = mech[mech["dataset"] == "dsprites"]
    a = d[d["model"] == vanilla].set_index(["strength", "seed"])["tc_mean_active"]
    b = d[d["model"] == revised].set_index(["strength", "seed"])["tc_mean"]
    both = a.index.intersection(b.index)
    return {"n": len(both), "vanilla_active": float(a[both].mean()) if len(both) else math.nan,
            "revised_all": float(b[both].mean()) if len(both) else math.nan}
