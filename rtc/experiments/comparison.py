"""The model comparison of the paper's §5.1–5.2 as library calls: learning checks, TC traces, claims with verdicts.

The training chapter trains the profile's grid through :mod:`rtc.sweep` (one row per run, from
:func:`rtc.experiments.run`) and then calls:

- :func:`mean_image_baseline` — the reconstruction error of a model that ignores its input and predicts the mean
  image, and the error's floor (the targets' own Bernoulli entropy: 0 for binary dSprites, > 0 for the
  continuous Shapes3D pixels); :func:`add_learning` marks a run as *learned* when its reconstruction is at
  most ``Thresholds.learned`` (½) of the baseline, both measured above the floor;
- :func:`add_disparity` — TC_mean − TC_sample per run and its class ("disparity", "none", "ambiguous");
- :func:`check_claims` — one :class:`rtc.claims.Observation` per claim of §5.1–5.2 (Fig. 3 left and
  right, Fig. 4, the appendix's Fig. 9, §5.2's DIP-VAE claim, Theorem 1 on trained encoders), each with its
  verdict computed from the table and :class:`Thresholds` fixed before the run;
- :func:`snapshot_trace`, :func:`training_log`, :func:`noise_range` — what training did (TC over training from the
  weight snapshots, per-step terms, RTC-VAE's η);
- :func:`run_table` — the table of every run (also written as CSV by the chapter).

Verdict words: ``confirmed``, ``refuted``, ``partly`` (the claim holds for some of the runs it is about) and
``inconclusive`` (no learned run it is about in this profile, or a test that cannot decide).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtc.claims import Observation, fraction_verdict, spearman_bootstrap

__all__ = ["Thresholds", "PAIRS", "LABELS", "mean_image_baseline", "add_learning", "add_disparity", "check_claims", "noise_range", "snapshot_trace", "training_log",
           "run_table", "TABLE_COLUMNS", "describe_grid", "markdown_table", "paper_cost"]

# vanilla model → its revised form (the paper's "revised β-VAE" and RTC-VAE = revised FactorVAE)
PAIRS = {"beta_vae": "revised_beta_vae", "factor_vae": "rtc_vae"}
LABELS = {"beta_vae": "β-VAE", "revised_beta_vae": "revised β-VAE", "factor_vae": "FactorVAE", "rtc_vae": "RTC-VAE",
          "beta_tcvae": "β-TCVAE", "dip_vae_i": "DIP-VAE-I", "dip_vae_ii": "DIP-VAE-II",
          "revised_factor_vae": "revised FactorVAE"}


@dataclass(frozen=True)
class Thresholds:
    """Every threshold of the verdicts, fixed before the run (the chapter prints them).

    learned: a run learned if (recon − floor) ≤ learned · (baseline − floor) (the mean-image predictor).
    disparity_abs, disparity_rel: a run shows the disparity when TC_mean − TC_sample ≥ disparity_abs nats *and*
        ≥ disparity_rel · TC_mean (TC_sample below half of TC_mean); it shows none when the difference is below
        disparity_abs or below none_rel · TC_mean; otherwise "ambiguous".
    much_lower: the revised model's TC_mean is "much lower" when ≤ much_lower × the vanilla model's (same
        strength, seed means).
    comparable: TC_samples are "comparably low" when the revised one is ≤ comparable × the vanilla one or within
        disparity_abs nats of it.
    recon_worse: a reconstruction error more than (1 + recon_worse) × another is "worse".
    strong_rho: |Spearman ρ| ≥ strong_rho is a strong (monotone) correlation.
    knn_excess: a representation is "not factorised beyond correlation" when its kNN (KSG) TC of µ exceeds its
        Gaussian TC by ≥ knn_excess nats.
    most, few: a claim about several runs is confirmed when it holds for ≥ most of them, refuted for ≤ few.
    """
    learned: float = 0.5
    disparity_abs: float = 0.25
    disparity_rel: float = 0.5
    none_rel: float = 0.25
    much_lower: float = 0.5
    comparable: float = 2.0
    recon_worse: float = 0.05
    strong_rho: float = 0.5
    knn_excess: float = 1.0
    most: float = 0.9
    few: float = 0.1


# ------------------------------------------------------------------------------------------------ learning

def mean_image_baseline(dataset, n: int = 2000, *, seed: int = 0, batch_size: int = 500) -> dict:
    """Reconstruction error (Bernoulli −log p(x), nats per image, summed over pixels) of predicting the mean image.

    ``n`` images of uniformly drawn factors (seeded, as :func:`rtc.models.encode` draws them). Returns
    ``{"baseline": E_x[BCE(x, x̄)], "floor": E_x[Σ_pixels H_b(x)], "n": n}`` where x̄ is the pixel-wise mean of the
    same images and H_b the binary entropy of the target itself — the smallest value a Bernoulli
    reconstruction error can take (0 for binary images). p is clipped to [1e-7, 1 − 1e-7] (a pixel that is 0
    in every image would otherwise give 0·log 0).
    """
    if not (isinstance(n, int) and n >= 2):
        raise ValueError(f"n must be an integer ≥ 2, got {n!r}")
    rng = np.random.default_rng(seed)
    factors = dataset.sample_factors(n, rng)
    parts = [dataset.observations(factors[i:i + batch_size]).double().numpy() for i in range(0, n, batch_size)]
    x = np.concatenate(parts)
    p = np.clip(x.mean(0), 1e-7, 1 - 1e-7)
    bce = -(x * np.log(p) + (1 - x) * np.log1p(-p)).reshape(n, -1).sum(1)
    xc = np.clip(x, 1e-12, 1 - 1e-12)
    ent = -(x * np.log(xc) + (1 - x) * np.log1p(-xc)).reshape(n, -1).sum(1)
    return {"baseline": float(bce.mean()), "floor": float(ent.mean()), "n": n}


def _need(table: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"the run table lacks columns {missing}")


def add_learning(table: pd.DataFrame, baselines: dict, t: Thresholds = Thresholds()) -> pd.DataFrame:
    """Copy of ``table`` with baseline, floor, recon_ratio = (recon − floor)/(baseline − floor) and learned.

    ``baselines``: dataset name → :func:`mean_image_baseline` dict; a dataset without one raises KeyError.
    """
    _need(table, ["dataset", "recon"])
    out = table.copy()
    missing = sorted(set(out["dataset"]) - set(baselines))
    if missing:
        raise KeyError(f"no mean-image baseline for datasets {missing}")
    out["baseline"] = [baselines[d]["baseline"] for d in out["dataset"]]
    out["floor"] = [baselines[d]["floor"] for d in out["dataset"]]
    out["recon_ratio"] = (out["recon"] - out["floor"]) / (out["baseline"] - out["floor"])
    out["learned"] = out["recon_ratio"] <= t.learned
    return out


def _disparity_class(d: float, tc_mean: float, t: Thresholds) -> str:
    if not (math.isfinite(d) and math.isfinite(tc_mean)):
        return "ambiguous"
    if d >= t.disparity_abs and d >= t.disparity_rel * tc_mean:
        return "disparity"
    if d < t.disparity_abs or d < t.none_rel * tc_mean:
        return "none"
    return "ambiguous"


def add_disparity(table: pd.DataFrame, t: Thresholds = Thresholds()) -> pd.DataFrame:
    """Copy of ``table`` with ``disparity`` = TC_mean − TC_sample (nats, Gaussian, all dimensions), the same over
    the active dimensions (``disparity_active``) and ``disparity_class`` (see :class:`Thresholds`)."""
    _need(table, ["tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active"])
    out = table.copy()
    out["disparity"] = out["tc_mean"] - out["tc_sample"]
    out["disparity_active"] = out["tc_mean_active"] - out["tc_sample_active"]
    out["disparity_class"] = [_disparity_class(d, m, t) for d, m in zip(out["disparity"], out["tc_mean"],
                                                                        strict=True)]
    return out


# ------------------------------------------------------------------------------------------------ claims

def _fmt_runs(g: pd.DataFrame, col: str, fmt: str = ".2f") -> str:
    return ", ".join(f"{LABELS.get(m, m)} {s:g} (seed {int(sd)}): {v:{fmt}}"
                     for m, s, sd, v in zip(g["model"], g["strength"], g["seed"], g[col], strict=True))


def _frac_observation(claim: str, holds: pd.Series, evidence: str, t: Thresholds, values: dict,
                      what: str) -> Observation:
    if len(holds) == 0:
        return Observation(claim, "inconclusive", f"inconclusive: no learned {what} in this profile",
                           f"No learned {what} in this profile.", values)
    frac = float(holds.mean())
    verdict = fraction_verdict(frac, most=t.most, few=t.few)
    summary = verdict if verdict in ("confirmed", "refuted") else \
        f"{verdict} ({int(holds.sum())} of {len(holds)} {what})"
    return Observation(claim, verdict, summary, evidence, {**values, "fraction": frac, "runs": len(holds)})


def claim_disparity(table: pd.DataFrame, model: str, t: Thresholds = Thresholds()) -> Observation:
    """Fig. 3 left: TC_mean lies above TC_sample (the disparity) for ``model`` at every strength (learned runs)."""
    g = table[(table["model"] == model) & (table["dataset"] == "dsprites") & table["learned"]]
    holds = g["disparity_class"] == "disparity"
    ev = (f"{LABELS.get(model, model)} on dSprites, TC_mean − TC_sample (nats) per run: "
          f"{_fmt_runs(g, 'disparity')}; over the active dimensions only: {_fmt_runs(g, 'disparity_active')}.")
    return _frac_observation(f"disparity for {model}", holds, ev, t,
                             {"min": float(g["disparity"].min()) if len(g) else float("nan"),
                              "max": float(g["disparity"].max()) if len(g) else float("nan")},
                             f"runs of {LABELS.get(model, model)}")


def claim_no_disparity(table: pd.DataFrame, model: str, t: Thresholds = Thresholds()) -> Observation:
    """Fig. 3 right: the revised ``model`` shows no disparity at any strength (learned runs on dSprites)."""
    g = table[(table["model"] == model) & (table["dataset"] == "dsprites") & table["learned"]]
    holds = g["disparity_class"] == "none"
    ev = f"{LABELS.get(model, model)} on dSprites, TC_mean − TC_sample (nats) per run: {_fmt_runs(g, 'disparity')}."
    return _frac_observation(f"no disparity for {model}", holds, ev, t,
                             {"max_abs": float(g["disparity"].abs().max()) if len(g) else float("nan")},
                             f"runs of {LABELS.get(model, model)}")


def _pair_means(table: pd.DataFrame) -> pd.DataFrame:
    """Seed means per (vanilla, revised, strength) on dSprites, learned runs only; one row per matched strength."""
    g = table[(table["dataset"] == "dsprites") & table["learned"]]
    m = g.groupby(["model", "strength"])[["tc_mean", "tc_sample"]].mean()
    rows = []
    for van, rev in PAIRS.items():
        for s in sorted(set(g.loc[g.model == van, "strength"]) & set(g.loc[g.model == rev, "strength"])):
            a, b = m.loc[(van, s)], m.loc[(rev, s)]
            rows.append(dict(vanilla=van, revised=rev, strength=s, tc_mean_vanilla=a.tc_mean,
                             tc_mean_revised=b.tc_mean, tc_sample_vanilla=a.tc_sample, tc_sample_revised=b.tc_sample))
    return pd.DataFrame(rows, columns=["vanilla", "revised", "strength", "tc_mean_vanilla", "tc_mean_revised",
                                       "tc_sample_vanilla", "tc_sample_revised"])


def claim_revised_lower(table: pd.DataFrame, t: Thresholds = Thresholds()) -> tuple[Observation, Observation]:
    """Fig. 4: (left) the revised models' TC_mean is much lower than the vanilla ones'; (right) their TC_sample is
    comparably low. Matched strengths, seed means, learned runs on dSprites."""
    p = _pair_means(table)
    lower = p["tc_mean_revised"] <= t.much_lower * p["tc_mean_vanilla"]
    comparable = ((p["tc_sample_revised"] <= t.comparable * p["tc_sample_vanilla"])
                  | (p["tc_sample_revised"] - p["tc_sample_vanilla"] <= t.disparity_abs))

    def pairs(a, b):
        return "; ".join(f"{LABELS[r.revised]} vs {LABELS[r.vanilla]} at {r.strength:g}: {getattr(r, a):.2f} vs "
                         f"{getattr(r, b):.2f}" for r in p.itertuples())
    o1 = _frac_observation("revised TC_mean much lower", lower,
                           f"TC_mean (nats, revised vs vanilla): {pairs('tc_mean_revised', 'tc_mean_vanilla')}.",
                           t, {"ratio_max": float((p.tc_mean_revised / p.tc_mean_vanilla).max()) if len(p)
                               else float("nan")}, "matched pairs")
    o2 = _frac_observation("revised TC_sample comparably low", comparable,
                           f"TC_sample (nats, revised vs vanilla): {pairs('tc_sample_revised', 'tc_sample_vanilla')}.",
                           t, {"diff_max": float((p.tc_sample_revised - p.tc_sample_vanilla).max()) if len(p)
                               else float("nan")}, "matched pairs")
    return o1, o2


def claim_rtc_recon(table: pd.DataFrame, t: Thresholds = Thresholds(), *, above: float = 10.0) -> Observation:
    """Fig. 9e (appendix): RTC-VAE with β > ``above`` reconstructs worse than with β ≤ ``above`` (dSprites, seed
    means): every strength above is worse than the best strength at or below by more than ``recon_worse``."""
    g = table[(table["model"] == "rtc_vae") & (table["dataset"] == "dsprites")]
    m = g.groupby("strength")["recon"].mean()
    hi, lo = m[m.index > above], m[m.index <= above]
    claim = f"RTC-VAE with β > {above:g} reconstructs worse"
    if hi.empty or lo.empty:
        return Observation(claim, "inconclusive", f"inconclusive: this profile has no RTC-VAE run with β > {above:g} "
                           f"and one with β ≤ {above:g}", "No pair of strengths to compare.", {})
    best = float(lo.min())
    worse = hi > (1 + t.recon_worse) * best
    ev = ("RTC-VAE reconstruction error (nats per image) by β: "
          + ", ".join(f"{s:g}: {v:.1f}" for s, v in m.items()) + f"; best at β ≤ {above:g}: {best:.1f}.")
    verdict = fraction_verdict(float(worse.mean()), most=t.most, few=t.few)
    return Observation(claim, verdict, verdict, ev, {"best_low": best, "worst_high": float(hi.max())})


def claim_tc_sap(table: pd.DataFrame, t: Thresholds = Thresholds(), *, repeats: int = 2000,
                 seed: int = 0) -> Observation:
    """Fig. 9f / 10f: TC_mean and SAP show no strong correlation (learned runs on dSprites, Spearman ρ with a
    bootstrap interval). Confirmed when |ρ| < strong_rho, refuted when |ρ| ≥ strong_rho and the 90 % interval
    excludes 0, inconclusive otherwise."""
    g = table[(table["dataset"] == "dsprites") & table["learned"] & np.isfinite(table["tc_mean"])]
    claim = "no strong correlation of TC_mean and SAP"
    if len(g) < 3:
        return Observation(claim, "inconclusive", "inconclusive: fewer than 3 learned runs on dSprites",
                           "Too few runs.", {"n": len(g)})
    r = spearman_bootstrap(g["tc_mean"], g["sap_r2"], repeats=repeats, seed=seed, level=0.9)
    ev = (f"Spearman ρ(TC_mean, SAP) over {r['n']} learned dSprites runs = {r['rho']:.2f} "
          f"(90 % bootstrap interval {r['lo']:.2f} to {r['hi']:.2f}).")
    if not math.isfinite(r["rho"]):
        verdict = "inconclusive"
    elif abs(r["rho"]) < t.strong_rho:
        verdict = "confirmed"
    elif r["lo"] > 0 or r["hi"] < 0:
        verdict = "refuted"
    else:
        verdict = "inconclusive"
    return Observation(claim, verdict, verdict, ev, r)


def claim_low_tc_mean(table: pd.DataFrame, t: Thresholds = Thresholds(),
                      models=("dip_vae_i", "dip_vae_ii", "rtc_vae")) -> Observation:
    """Fig. 9d (appendix): DIP-VAE-I/II and RTC-VAE reach a lower TC_mean than FactorVAE, on every dataset that has
    all of them (seed 0 runs at the strengths they share)."""
    claim = "DIP-VAEs and RTC-VAE have a lower TC_mean than FactorVAE"
    rows, ev = [], []
    for ds, g in table[table["learned"]].groupby("dataset"):
        for s, h in g.groupby("strength"):
            h = h.groupby("model")["tc_mean"].mean()
            if "factor_vae" not in h or not all(m in h for m in models):
                continue
            for m in models:
                rows.append(h[m] < h["factor_vae"])
            ev.append(f"{ds}, strength {s:g}: FactorVAE {h['factor_vae']:.2f}, "
                      + ", ".join(f"{LABELS[m]} {h[m]:.2f}" for m in models))
    holds = pd.Series(rows, dtype=bool)
    return _frac_observation(claim, holds, "TC_mean (nats): " + "; ".join(ev) + "." if ev else "", t, {},
                             "model comparisons with FactorVAE on one dataset")


def claim_dip_not_factorised(table: pd.DataFrame, t: Thresholds = Thresholds()) -> tuple[Observation, Observation]:
    """§5.2: (a) DIP-VAE-I/II reach a low Gaussian TC of µ — below RTC-VAE's on the same dataset and strength;
    (b) yet are not factorised: their kNN (KSG) TC of µ exceeds the Gaussian TC by ≥ knn_excess nats, and by more
    than RTC-VAE's does (its latents close to independent)."""
    rows_a, rows_b, ev = [], [], []
    for (ds, s), g in table[table["learned"]].groupby(["dataset", "strength"]):
        h = g.groupby("model")[["tc_mean", "tc_mean_knn"]].mean()
        if "rtc_vae" not in h.index:
            continue
        rtc_excess = h.loc["rtc_vae", "tc_mean_knn"] - h.loc["rtc_vae", "tc_mean"]
        for m in ("dip_vae_i", "dip_vae_ii"):
            if m not in h.index:
                continue
            excess = h.loc[m, "tc_mean_knn"] - h.loc[m, "tc_mean"]
            rows_a.append(h.loc[m, "tc_mean"] < h.loc["rtc_vae", "tc_mean"])
            rows_b.append(excess >= t.knn_excess and excess > rtc_excess)
            ev.append(f"{ds}, strength {s:g}: {LABELS[m]} Gaussian {h.loc[m, 'tc_mean']:.2f} / kNN "
                      f"{h.loc[m, 'tc_mean_knn']:.2f} vs RTC-VAE {h.loc['rtc_vae', 'tc_mean']:.2f} / "
                      f"{h.loc['rtc_vae', 'tc_mean_knn']:.2f}")
    text = "TC of µ (nats), Gaussian / kNN: " + "; ".join(ev) + "." if ev else ""
    what = "DIP-VAE runs beside an RTC-VAE run"
    return (_frac_observation("DIP-VAE Gaussian TC low", pd.Series(rows_a, dtype=bool), text, t, {}, what),
            _frac_observation("DIP-VAE not factorised", pd.Series(rows_b, dtype=bool), text, t, {}, what))


def check_claims(table: pd.DataFrame, t: Thresholds = Thresholds(), *, repeats: int = 2000,
                 seed: int = 0) -> dict[str, Observation]:
    """Every claim of §5.1–5.2 (name → Observation) from a run table with :func:`add_learning` and
    :func:`add_disparity` applied. Unlearned runs never count (a collapsed µ makes TC an artefact)."""
    _need(table, ["model", "dataset", "strength", "seed", "learned", "disparity_class", "tc_mean_knn", "sap_r2"])
    out = {f"disparity_{m}": claim_disparity(table, m, t) for m in ("beta_vae", "factor_vae", "beta_tcvae")}
    out.update({f"none_{m}": claim_no_disparity(table, m, t) for m in ("revised_beta_vae", "rtc_vae")})
    out["revised_tc_mean"], out["revised_tc_sample"] = claim_revised_lower(table, t)
    out["rtc_recon"] = claim_rtc_recon(table, t)
    out["tc_sap"] = claim_tc_sap(table, t, repeats=repeats, seed=seed)
    out["low_tc_mean"] = claim_low_tc_mean(table, t)
    out["dip_gaussian"], out["dip_dependent"] = claim_dip_not_factorised(table, t)
    return out


# ------------------------------------------------------------------------------------------------ trained runs

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


def snapshot_trace(train_result, dataset, *, n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """TC_mean, TC_sample (Gaussian, all and active dimensions), active dimensions, Σ E[σ²] and reconstruction of
    every weight snapshot of a finished run (``rtc.models.train``'s result with ``snapshot_every`` > 0) and of the
    final weights, each on the same ``n`` images (seeded). One row per step."""
    from rtc.models import encode, representation_stats

    # a snapshot at the last step holds the final weights: encode them once
    steps = [k for k in train_result.snapshots if k != train_result.steps_done]
    rows = []
    for step in steps + [train_result.steps_done]:
        model = train_result.model if step == train_result.steps_done else train_result.load_snapshot(step)
        st = representation_stats(encode(model, dataset, n=n, seed=seed))
        rows.append(dict(step=step, tc_mean=st["tc_mean"], tc_sample=st["tc_sample"],
                         tc_mean_active=st["tc_mean_active"], tc_sample_active=st["tc_sample_active"],
                         active_dims=st["active_dims"], var_sum=st["var_sum"], recon=st["recon"]))
    return pd.DataFrame(rows)


def training_log(train_result) -> pd.DataFrame:
    """The per-step log of a run as a table (step, then every logged term that is finite somewhere)."""
    log = {k: np.asarray(v, dtype=np.float64) for k, v in train_result.log.items()}
    df = pd.DataFrame({"step": np.arange(1, train_result.steps_done + 1), **log})
    keep = ["step"] + [k for k in log if np.isfinite(df[k]).any()]
    return df[keep]


TABLE_COLUMNS = ["model", "dataset", "strength", "seed", "steps", "batch_size", "recon", "baseline", "learned", "kl",
                 "tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active", "tc_mean_knn", "tc_mean_dr",
                 "active_dims", "var_sum", "final_eta", "sap_r2", "mig_ref", "mig_chen", "dci_disentanglement",
                 "dci_completeness", "dci_informativeness_test", "factor_vae_eval", "disintegration_r2",
                 "train_seconds", "eval_seconds"]


def run_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table of every run (claim 8 of the chapter): :data:`TABLE_COLUMNS` that the table has, in that order,
    sorted by dataset, model, strength, seed."""
    cols = [c for c in TABLE_COLUMNS if c in table.columns]
    return table[cols].sort_values(["dataset", "model", "strength", "seed"], kind="stable").reset_index(drop=True)


def describe_grid(profile: str, *, reference: str = "paper", root=None) -> str:
    """Markdown: the training grid of ``profile`` (every grid: models × strengths × datasets × seeds) and the
    training settings in which it differs from the ``reference`` profile's (a table), so a reduced grid never
    passes for the paper's."""
    from .grid import grid_runs, load_grid

    g, ref = load_grid(profile, root=root), load_grid(reference, root=root)
    n = len(grid_runs(g))
    lines = [f"**Training grid of the `{profile}` profile: {n} runs**, evaluated with the `{g['eval'].name}` "
             "settings.", "", "| grid | models | strengths | datasets | seeds |", "|---|---|---|---|---|"]
    for x in g["grids"]:
        lines.append(f"| {x['name']} | {', '.join(LABELS.get(m, m) for m in x['models'])} | "
                     f"{', '.join(f'{s:g}' for s in x['strengths'])} | {', '.join(x['datasets'])} | "
                     f"{', '.join(map(str, x['seeds']))} |")
    mine, theirs = g["defaults"], ref["defaults"]
    lines += ["", "Settings of every run: " + ", ".join(f"`{k}` = {v}" for k, v in mine.items()) + "."]
    keys = [k for k in dict.fromkeys([*theirs, *mine]) if mine.get(k) != theirs.get(k)]
    if profile != reference and keys:
        lines += ["", f"Settings that differ from the `{reference}` profile ({len(grid_runs(ref))} runs):", "",
                  f"| setting | {profile} | {reference} |", "|---|---|---|"]
        lines += [f"| `{k}` | {mine.get(k, 'library default')} | {theirs.get(k, 'library default')} |" for k in keys]
        if g["eval"] != ref["eval"]:
            lines.append(f"| evaluation | `{g['eval'].name}` | `{ref['eval'].name}` |")
    return "\n".join(lines)


def markdown_table(df: pd.DataFrame, *, digits: int = 3) -> str:
    """A Markdown table of ``df`` (the book renders Markdown outputs as MyST, so this becomes an HTML table):
    floats with ``digits`` significant digits, booleans as yes/no, NaN as an empty cell."""
    def cell(v):
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, (float, np.floating)):
            return "" if math.isnan(v) else f"{v:.{digits}g}"
        return str(v)
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def paper_cost(profile: str = "paper", *, gpu_step_seconds: float = 0.02, gpu_eval_seconds: float = 600.0,
               root=None) -> dict:
    """Cost of a profile's grid: runs, images seen, CPU hours from the measured CPU rates
    (:func:`rtc.experiments.grid.estimate_seconds`) and GPU hours for an *assumed* seconds per training step and per evaluation
    (no GPU rate has been measured for this model yet; ``bench/gpu_check.py`` measures one). FactorVAE-family
    steps count double on the GPU (a second batch and the discriminator)."""
    from .grid import estimate_seconds, grid_runs

    runs = grid_runs(profile, root=root)
    steps = sum(r.config.steps * (2 if r.config.objective().uses_discriminator else 1) for r in runs)
    return {"runs": len(runs), "images": sum(r.config.steps * r.config.batch_size for r in runs),
            "cpu_hours": sum(estimate_seconds(r) for r in runs) / 3600,
            "gpu_hours": (steps * gpu_step_seconds + len(runs) * gpu_eval_seconds) / 3600,
            "gpu_step_seconds": gpu_step_seconds, "gpu_eval_seconds": gpu_eval_seconds}
