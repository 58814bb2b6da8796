"""The long run of the primary comparison, read from its published table (``python -m rtc.studies long`` →
``published/long.csv``, one row per run and kept step: :mod:`rtc.experiments.published`).

- :func:`long_runs` — the table with the book's learning rule applied at every kept step
  (:func:`rtc.experiments.comparison.learning.add_learning`), the regime gate (an RTC-VAE run is in the paper's
  regime when its variance term stayed in the η band for ``Thresholds.regime_share`` of the second half of its
  steps so far) and ``arm``, the recipe and strength a run belongs to (e.g. "γ = 10, lr 0.0003, batch 32").
- :func:`primary_by_budget` — the primary endpoint (:func:`rtc.experiments.comparison.claim_primary`: RTC-VAE
  against FactorVAE, paired by seed, the log-ratio of the disparity and of TC_mean against the registry's
  thresholds) at every budget of every arm, each with its plateau test along the runs' curves up to that budget
  (:func:`rtc.experiments.comparison.with_trajectories`): the same functions, the same rules as the chapter's own
  grid, on the published runs.
- :func:`long_panels` — the curves (disparity, TC_mean, TC_sample, λ_min of Corr(µ), reconstruction) against the
  images seen, per model, one thin line per seed and the geometric mean bold, with this build's own runs of the same
  cells beside them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rtc.claims import THRESHOLDS, Thresholds

from ..columns import need_columns
from .claims import claim_primary
from .constants import LABELS
from .learning import add_learning
from .stage import Stage
from .trajectory import with_trajectories

__all__ = ["long_runs", "arm_label", "primary_by_budget", "longest_budget", "long_panels", "LONG_QUANTITIES"]

# The curves the chapter draws: column → (axis label, log axis).
LONG_QUANTITIES = {"disparity": ("TC_mean − TC_sample (nats)", False), "tc_mean": ("TC_mean (nats)", True),
                   "tc_sample": ("TC_sample (nats)", True), "lmin_mu": ("λ_min of Corr(µ)", True),
                   "recon": ("reconstruction (nats per image)", True)}


def arm_label(strength: float, lr: float, batch: int) -> str:
    return f"γ = {strength:g}, lr {lr:g}, batch {int(batch)}"


def long_runs(table: pd.DataFrame, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """Copy of a published long table with ``arm``, ``recon_ratio``, ``trained_ratio``, ``learned`` (at each kept
    step), ``in_regime``, ``disparity_active`` and ``steps`` (= step: each row is the run trained that far)."""
    need_columns(table, ["model", "dataset", "strength", "seed", "lr", "batch_size", "step", "images_seen", "recon",
                         "trained_recon", "baseline", "floor", "tc_mean", "tc_sample", "tc_mean_active",
                         "tc_sample_active", "band_share"])
    base = {d: {"baseline": float(g["baseline"].iloc[0]), "floor": float(g["floor"].iloc[0])}
            for d, g in table.groupby("dataset")}
    out = add_learning(table, base, t, trained_recon=table["trained_recon"].to_numpy())
    out["arm"] = [arm_label(s, lr, b) for s, lr, b in zip(out["strength"], out["lr"], out["batch_size"], strict=True)]
    out["in_regime"] = (out["model"] != "rtc_vae") | (out["band_share"] >= t.regime_share)
    out["disparity_active"] = out["tc_mean_active"] - out["tc_sample_active"]
    out["steps"] = out["step"]
    return out


def _budget(runs: pd.DataFrame, images: int) -> tuple[Stage, pd.DataFrame, dict]:
    """The stage of the runs that reached ``images`` (one row each, there), its table and each run's curve up to
    it (position → frame)."""
    at = runs[runs["images_seen"] == images].reset_index(drop=True)
    key = ["arm", "model", "seed"]
    upto = {k: g.sort_values("images_seen").reset_index(drop=True)
            for k, g in runs[runs["images_seen"] <= images].groupby(key, sort=False)}
    curves = {i: upto[tuple(r[k] for k in key)] for i, r in at.iterrows()}
    return Stage(at), at, curves


def primary_by_budget(runs: pd.DataFrame, budgets, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """One row per arm and budget (images per run, of ``budgets``) that both models reached with at least one
    seed: the pairs, the paired geometric-mean ratio RTC-VAE / FactorVAE of the disparity and of TC_mean with their
    intervals, and each endpoint's verdict with its plateau test (:func:`with_trajectories`) — runs:
    :func:`long_runs`."""
    need_columns(runs, ["arm", "model", "images_seen", "learned", "in_regime"])
    rows = []
    for arm, g in runs.groupby("arm", sort=False):
        for images in budgets:
            stage, at, curves = _budget(g, int(images))
            if set(at["model"]) < {"factor_vae", "rtc_vae"}:
                continue
            obs = {f"primary_{q}": claim_primary(stage, q, t) for q in ("disparity", "tc_mean")}
            with_trajectories(obs, at, curves, t)
            pairs = len(set(at[at["model"] == "factor_vae"]["seed"]) & set(at[at["model"] == "rtc_vae"]["seed"]))
            learned = int(at["learned"].sum())
            rows.append({"arm": arm, "images": int(images), "pairs": pairs, "learned runs": f"{learned}/{len(at)}",
                         **{f"{q} ratio": _ratio_text(obs[f'primary_{q}']) for q in ("disparity", "tc_mean")},
                         **{f"{q} verdict": obs[f"primary_{q}"].verdict for q in ("disparity", "tc_mean")},
                         "plateau": "; ".join(f"{q}: {obs[f'primary_{q}'].plateau}" for q in ("disparity", "tc_mean")),
                         "_obs": obs})
    return pd.DataFrame(rows)


def longest_budget(primary: pd.DataFrame, arm: str | None = None) -> dict:
    """What the chapter says of an arm's longest budget (``primary``: :func:`primary_by_budget`; ``arm``: its
    label, :func:`arm_label` — the build's own recipe —, None: the first arm): ``arm``, ``images``, ``pairs`` and,
    per endpoint q ("disparity", "tc_mean"), ``q`` (the verdict with its budget) and ``q-evidence``; without any
    budget both models reached in that arm, says so."""
    if arm is None and not primary.empty:
        arm = primary["arm"].iloc[0]
    if primary.empty or arm not in set(primary["arm"]):
        none = "no budget that both models reached with a learned pair: no verdict"
        return {"arm": arm or "none", "images": 0, "pairs": 0, "disparity": none, "disparity-evidence": "",
                "tc_mean": none, "tc_mean-evidence": ""}
    row = primary[primary["arm"] == arm].iloc[-1]
    out = {"arm": arm, "images": int(row["images"]), "pairs": int(row["pairs"])}
    for q in ("disparity", "tc_mean"):
        o = row["_obs"][f"primary_{q}"]
        out[q], out[f"{q}-evidence"] = o.summary, o.evidence
    return out


def _ratio_text(o) -> str:
    return o.interval.text() if o.interval is not None else o.summary


def long_panels(axes, runs: pd.DataFrame, arm: str, colors: dict, *, own: dict | None = None) -> None:
    """One panel per :data:`LONG_QUANTITIES` on ``axes`` (a sequence): each run of ``arm`` (runs:
    :func:`long_runs`) a thin line against the images seen, each model's geometric mean over seeds at the images
    every seed reached bold (the disparity: the arithmetic mean; it can be ≤ 0); ``own``: model → list of this
    build's curves (frames with images_seen and the columns) drawn as open markers."""
    g = runs[runs["arm"] == arm]
    for ax, (col, (label, log)) in zip(axes, LONG_QUANTITIES.items(), strict=False):
        for m, gm in g.groupby("model"):
            color = colors.get(m, "grey")
            for _, gs in gm.groupby("seed"):
                gs = gs.sort_values("images_seen")
                ax.plot(gs["images_seen"], gs[col], color=color, lw=0.7, alpha=0.5)
            piv = gm.pivot_table(index="images_seen", columns="seed", values=col).dropna()
            mean = np.exp(np.log(piv.clip(lower=1e-6)).mean(axis=1)) if log else piv.mean(axis=1)
            ax.plot(mean.index, mean.values, color=color, lw=2, label=f"{LABELS.get(m, m)} (published)")
            for k, c in enumerate((own or {}).get(m, [])):
                ax.plot(c["images_seen"], c[col], "o", mfc="none", color=color, ms=4,
                        label=f"{LABELS.get(m, m)} (this build)" if k == 0 else None)
        ax.set_xscale("log")
        ax.minorticks_off()  # a span under a decade would label its minor ticks on top of each other
        if log:
            ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.set_xlabel("images seen")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6)
