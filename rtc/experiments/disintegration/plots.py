"""The disintegration chapter's figures: plotting only; every number comes from the other modules of
:mod:`rtc.experiments.disintegration`. Each function returns a Matplotlib Figure (the chapter glues and closes it
with ``rtc.report.glue_figure``).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from rtc.metrics.plots import heatmap, latent_traversal, pairplot
from rtc.report import number_text

from .common import CLAIMS

__all__ = ["METRIC_LABELS", "controlled_figure", "score_matrices_figure", "pair_figures", "correlation_figure",
           "deficit_figure", "suppression_figure", "claims_figure"]

# The model-level metrics of the controlled codes, in the order the figure and the reaction table show them.
METRIC_LABELS = {"sap_r2": "SAP (R²)", "mig_ref": "MIG (reference)", "mig_chen": "MIG (Chen et al.)",
                 "dci_disentanglement": "DCI disentanglement", "dci_completeness": "DCI completeness",
                 "modularity": "modularity", "beta_vae_eval": "BetaVAE score", "factor_vae_eval": "FactorVAE score"}


def controlled_figure(controlled: pd.DataFrame, *, ks, noises):
    """Every metric of :data:`METRIC_LABELS` (2 × 4 panels) against k for the split codes of a
    ``controlled_experiment`` table: factor 0's score solid, the model's dotted, one colour per noise σ, the closed
    forms as black crosses."""
    split = controlled[controlled["mode"] == "split"]
    fig, axes = plt.subplots(2, 4, figsize=(13, 6), sharex=True)
    colors = plt.cm.viridis(np.linspace(0, 0.85, len(noises)))
    for ax, (metric, label) in zip(axes.flat, METRIC_LABELS.items(), strict=True):
        for s, col in zip(noises, colors, strict=True):
            for scope, ls in (("factor 0", "-"), ("model", ":")):
                g = split[(split.metric == metric) & (split.scope == scope)
                          & np.isclose(split.noise, s)].sort_values("k")
                if g.empty:
                    continue
                ax.plot(g.k, g.value, ls, marker="o", ms=4, color=col,
                        label=f"σ = {s:g}" + (" (factor 0)" if scope == "factor 0" else " (model)"))
                cf = g[g.closed_form.notna()]
                ax.plot(cf.k, cf.closed_form, "x", color="k", ms=7)
        ax.set_title(label, fontsize=10)
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("k (latents carrying factor 0)")
        ax.set_xticks(list(ks))
    axes[0, 0].legend(fontsize=6)
    return fig


def score_matrices_figure(result):
    """The R² (SAP's scores) and normalised-MI (MIG's) matrices (L, F) of a ``RunResult``'s evaluation side by
    side, each factor's two best latents outlined and its gap (best − second) in the column label."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    for ax, key, title in zip(axes, ("r2", "nmi"), ("R² (SAP)", "normalised MI (MIG)"), strict=True):
        mat = result.matrices[key]
        top = np.sort(mat, axis=0)
        gaps = top[-1] - top[-2]
        heatmap(mat, factor_names=[f"{n}\ngap {g:.2f}" for n, g in zip(result.factor_names, gaps, strict=True)],
                ax=ax, title=title)
    return fig


def pair_figures(model, encoding, split, factor_names, *, steps: int = 8, max_points: int = 2000, seed: int = 0):
    """(walks, pairs) for the top pair of a factor (``split``: a ``clearest_split`` row): decoded walks along each
    of the two latents from the 1st to the 99th percentile of their means, the other latents at their medians;
    and a pairplot of the two latents coloured by the factor. ``encoding``: µ (N, L) and factors (N, F) of
    ``model``."""
    a, b, k = int(split.top_latent), int(split.second_latent), int(split.factor_index)
    mu = encoding.mu
    lo, hi = float(np.quantile(mu[:, [a, b]], 0.01)), float(np.quantile(mu[:, [a, b]], 0.99))
    walks = latent_traversal(lambda z: torch.sigmoid(model.decode(z)), np.median(mu, axis=0), dims=[a, b],
                             values=np.linspace(lo, hi, steps))
    grid = pairplot(mu, encoding.factors, factor=k, latents=[a, b], factor_names=factor_names,
                    max_points=max_points, seed=seed, height=2.4)
    return walks, grid.figure


def correlation_figure(table: pd.DataFrame, corr: pd.DataFrame, xs, ys):
    """Scatter of every run of ``table`` (colour: model), one panel per (x in ``xs``, y in ``ys``), titled with
    Spearman's ρ from ``corr`` (a ``correlation_table`` of those columns)."""
    fig, axes = plt.subplots(len(xs), len(ys), figsize=(13, 3 * len(xs)), squeeze=False)
    model_names = sorted(table.model.unique())
    colour = dict(zip(model_names, plt.cm.tab10(np.arange(len(model_names)) % 10), strict=True))
    for r, x in enumerate(xs):
        for c, y in enumerate(ys):
            ax = axes[r, c]
            for name, g in table.groupby("model"):
                ax.scatter(g[x], g[y], s=22, color=colour[name], label=name)
            rho = corr[(corr.x == x) & (corr.y == y)].iloc[0].rho
            ax.set_title(f"ρ = {number_text(rho)}", fontsize=9)
            ax.set_xlabel(x, fontsize=8)
            ax.set_ylabel(y, fontsize=8)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=6)
    return fig


def deficit_figure(deficits: dict):
    """Per run, one panel per score ("sap", "mig" → a ``deficit_table``): the deficit as a bar, the part lost to
    disintegration in red and the rest in grey."""
    n = len(next(iter(deficits.values())))
    fig, axes = plt.subplots(1, len(deficits), figsize=(13, 0.9 + 0.32 * n), sharey=True, squeeze=False)
    for ax, (key, d) in zip(axes[0], deficits.items(), strict=True):
        y = np.arange(len(d))
        ax.barh(y, d.explained, color="tab:red", label="lost to disintegration (ℓ)")
        ax.barh(y, d.deficit - d.explained, left=d.explained, color="tab:gray", alpha=0.6, label="rest")
        ax.set_yticks(y, d.run, fontsize=7)
        ax.set_xlabel(f"deficit 1 − {key.upper()} (encoded codes)")
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3, axis="x")
    axes[0, -1].legend(fontsize=7, loc="lower right")
    return fig


def suppression_figure(tables: dict):
    """One panel per metric ("sap", "mig" → a ``suppression_table``): the gap of every captured factor, unflagged
    (left) and flagged on the other score's matrix (right), jittered; each factor's two mean gaps — over the runs
    where it is not flagged and those where it is (the suppression claim's unit) — joined by a grey line where it
    has both."""
    fig, axes = plt.subplots(1, len(tables), figsize=(5 * len(tables), 3.6), sharey=True, squeeze=False)
    rng = np.random.default_rng(0)  # jitter only
    for ax, (metric, t) in zip(axes[0], tables.items(), strict=True):
        for x, flag, colour in ((0, False, "tab:gray"), (1, True, "tab:red")):
            g = t[t.flag == flag]
            ax.scatter(x + rng.uniform(-0.12, 0.12, len(g)), g.gap, s=14, color=colour, alpha=0.7)
        for _, r in t.groupby(["dataset", "factor_index"]):
            if r.flag.any() and not r.flag.all():
                ax.plot([0, 1], [r.gap[~r.flag].mean(), r.gap[r.flag].mean()], color="k", alpha=0.3, lw=0.8)
        other = "normalised MI" if metric == "sap" else "R²"
        ax.set_xticks([0, 1], ["not flagged", f"flagged ({other})"])
        ax.set_title(f"{metric.upper()} gap of captured factors", fontsize=10)
        ax.set_xlim(-0.5, 1.5)
        ax.grid(alpha=0.3, axis="y")
    axes[0, 0].set_ylabel("gap s₁ − s₂")
    return fig


def claims_figure(claims: dict, th):
    """One panel per claim (``check_claims``' output; ``th`` the ``rtc.claims.Thresholds`` it used): the estimate
    and its interval, the threshold (dashed; for the band rule both bounds), titled with the verdict. A claim
    without an interval shows its reason."""
    fig, axes = plt.subplots(len(claims), 1, figsize=(8, 1.25 * len(claims) + 0.4), squeeze=False)
    for ax, (name, o) in zip(axes[:, 0], claims.items(), strict=True):
        t = getattr(th, CLAIMS[name][2])
        lines = [-t, t] if CLAIMS[name][3] == "band" else [t]
        for v in lines:
            ax.axvline(v, color="tab:red", ls="--", lw=1)
        if o.interval is not None:
            iv = o.interval
            ax.errorbar([iv.estimate], [0], xerr=[[iv.estimate - iv.lo], [iv.hi - iv.estimate]], fmt="o", color="k",
                        capsize=4)
            span = [iv.lo, iv.hi, *lines]
            pad = 0.1 * (max(span) - min(span)) + 0.05
            ax.set_xlim(min(span) - pad, max(span) + pad)
        else:
            ax.text(0.5, 0.5, "no interval", transform=ax.transAxes, ha="center", va="center", fontsize=8)
        ax.set_yticks([])
        ax.set_title(f"{o.claim}: {o.verdict}", fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    return fig
