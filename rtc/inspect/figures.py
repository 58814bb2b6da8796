"""Figures of what the run's encoder gives and how it trained: per-latent histograms of µ and z against the prior,
the metrics' factor × latent matrices, the training curves; and what the book's model gallery shows of a run
(:func:`gallery_images`, :func:`image_facts`)."""
from __future__ import annotations

import io
import math
from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np

from rtc.metrics.plots import heatmap
from rtc.models.encoding import traversal_order
from rtc.models.eta import BAND
from rtc.models.objectives import REVISED_MODELS
from rtc.report import run_label

from .images import prior_figure, reconstruction_figure, traversal_gif, traversal_values
from .load import Inspection, _base_code

__all__ = ["REVISED_MODELS", "VAR_BAND", "latent_histograms", "histogram_figure", "heatmap_matrices",
           "heatmap_figure", "curves_figure", "figure_bytes", "gallery_images", "image_facts"]

# The target band of RTC-VAE's variance penalty η·Σ_k E[σ_k²] (rtc.models.eta.BAND).
VAR_BAND = BAND


def latent_histograms(mu, z, *, bins: int = 40, limit: float = 4.0) -> dict:
    """Per-latent histograms of µ and of z over the N images: ``edges`` (L, bins + 1) — from min(−limit, data) to
    max(limit, data), so every value is counted —, ``mu`` and ``z`` counts (L, bins), each row summing to N."""
    mu, z = np.asarray(mu, dtype=np.float64), np.asarray(z, dtype=np.float64)
    L = mu.shape[1]
    edges = np.empty((L, bins + 1))
    cm, cz = np.empty((L, bins), np.int64), np.empty((L, bins), np.int64)
    for k in range(L):
        lo = min(-limit, mu[:, k].min(), z[:, k].min())
        hi = max(limit, mu[:, k].max(), z[:, k].max())
        edges[k] = np.linspace(lo, hi, bins + 1)
        cm[k] = np.histogram(mu[:, k], edges[k])[0]
        cz[k] = np.histogram(z[:, k], edges[k])[0]
    return {"edges": edges, "mu": cm, "z": cz}


def histogram_figure(mu, z, *, kl, active=None, bins: int = 40, columns: int = 5, dpi: int = 72):
    """Histograms (densities) of µ_k and z_k over the images for every latent, ordered by decreasing KL, with the
    prior N(0, 1) overlaid. Returns the Figure."""
    h = latent_histograms(mu, z, bins=bins)
    kl = np.asarray(kl, dtype=np.float64)
    active = np.ones(len(kl), bool) if active is None else np.asarray(active, bool)
    order = traversal_order(kl)
    L = len(order)
    cols = min(columns, L)
    rows = math.ceil(L / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols, 1.45 * rows), squeeze=False, dpi=dpi)
    n = h["mu"].sum(1)[0]
    for j, k in enumerate(order):
        ax = axes.flat[j]
        e = h["edges"][k]
        w = np.diff(e)
        # µ of a switched-off latent piles into one bin: clip the density axis at 3× the prior's peak
        ax.stairs(h["z"][k] / (n * w), e, fill=True, color="tab:blue", alpha=0.35, label="z")
        ax.stairs(h["mu"][k] / (n * w), e, color="tab:red", lw=1.2, label="µ")
        xs = np.linspace(e[0], e[-1], 200)
        ax.plot(xs, np.exp(-xs ** 2 / 2) / math.sqrt(2 * math.pi), "k--", lw=0.8, label="N(0, 1)")
        ax.set_ylim(0, 1.25)
        ax.set_title(f"z{k}  KL {kl[k]:.2f}" + ("" if active[k] else " (off)"), fontsize=7,
                     color="black" if active[k] else "0.55")
        ax.tick_params(labelsize=6)
        ax.set_yticks([])
    for ax in list(axes.flat)[L:]:
        ax.set_axis_off()
    axes.flat[0].legend(fontsize=5, loc="upper left", frameon=False)
    fig.tight_layout(pad=0.3)
    return fig


def heatmap_matrices(evaluation: dict) -> dict:
    """The two matrices the metrics read (latents × factors): ``nmi`` (MIG) and ``r2`` (SAP), as evaluated."""
    return {"nmi": np.asarray(evaluation["matrices"]["nmi"]), "r2": np.asarray(evaluation["matrices"]["r2"])}


def heatmap_figure(evaluation: dict, *, dpi: int = 72):
    """Factor × latent heatmaps of the normalised MI (MIG's matrix) and R² (SAP's), the two largest cells of each
    factor outlined (the pair whose gap MIG / SAP take); each factor's label names that pair and the gap, and a
    ⚠ marks a factor the disintegration check flags. Returns the Figure."""
    mats = heatmap_matrices(evaluation)
    names = list(evaluation.get("factor_names") or [f"factor {k}" for k in range(mats["nmi"].shape[1])])
    L, F = mats["nmi"].shape
    fig, axes = plt.subplots(1, 2, figsize=(2.0 + 2 * (1.1 * F + 1.2), 1.2 + 0.32 * L), dpi=dpi)
    for ax, (key, metric) in zip(axes, (("nmi", "MIG"), ("r2", "SAP")), strict=True):
        m = mats[key]
        dis = evaluation.get("disintegration", {}).get(key)
        labels = []
        for k, name in enumerate(names):
            col = np.where(np.isnan(m[:, k]), -np.inf, m[:, k])
            a, b = np.argsort(-col, kind="stable")[:2]
            flag = dis is not None and bool(dis["disintegrated"].iloc[k])
            labels.append(f"{'⚠ ' if flag else ''}{name}\nz{a}−z{b}: {m[a, k] - m[b, k]:.2f}")
        heatmap(m, factor_names=labels, ax=ax, vmax=1.0)
        ax.tick_params(axis="x", labelsize=7, rotation=0)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_xlabel("factor (top two latents: the gap)", fontsize=7)
        n_flag = int(dis["disintegrated"].sum()) if dis is not None else 0
        ax.set_title(f"{'normalised MI' if key == 'nmi' else 'R²'} ({metric} = mean gap)"
                     + (f"; ⚠ {n_flag} disintegrated" if n_flag else ""), fontsize=8)
    fig.tight_layout(pad=0.4)
    return fig


def curves_figure(log: Mapping, model_name: str, *, dpi: int = 72):
    """Training curves from the run's per-step log: reconstruction; KL and the TC terms (TC, MI, DWKL where the
    model logs them); the loss; for the revised models Σ_k E[σ_k²] against the band (0.01, 0.04) with η.
    Returns the Figure."""
    lg = {k: np.asarray(v, dtype=np.float64) for k, v in log.items()}
    steps = np.arange(1, len(lg.get("recon", [])) + 1)

    def smooth(v):
        w = max(1, len(v) // 50)
        return np.convolve(v, np.ones(w) / w, mode="valid"), steps[w - 1:]

    revised = model_name in REVISED_MODELS
    fig, axes = plt.subplots(1, 4 if revised else 3, figsize=(11 if revised else 8.5, 2.3), dpi=dpi)
    panels = [("reconstruction (nats)", ["recon"]), ("KL and TC terms (nats)", ["kl", "tc", "mi", "dwkl"]),
              ("loss", ["loss"])]
    for ax, (title, keys) in zip(axes, panels, strict=False):
        for key in keys:
            v = lg.get(key)
            if v is None or not len(v) or not np.isfinite(v).any():
                continue
            y, x = smooth(np.nan_to_num(v, nan=np.nan))
            ax.plot(x, y, lw=1, label=key)
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("step", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
        if len(keys) > 1:
            ax.legend(fontsize=6, frameon=False)
    if revised and "var_sum" in lg and len(lg["var_sum"]):
        ax = axes[3]
        y, x = smooth(lg["var_sum"])
        ax.plot(x, y, color="tab:orange", lw=1, label="Σ E[σ²]")
        ax.axhspan(*VAR_BAND, color="tab:green", alpha=0.2, label=f"band {VAR_BAND}")
        ax.set_yscale("log")
        ax.set_title("variance term and η", fontsize=8)
        ax.set_xlabel("step", fontsize=7)
        ax.tick_params(labelsize=6)
        ax2 = ax.twinx()
        ax2.plot(steps, lg.get("eta", np.full(len(steps), np.nan)), color="k", lw=0.8, label="η")
        ax2.tick_params(labelsize=6)
        ax.legend(fontsize=6, frameon=False, loc="upper right")
    fig.tight_layout(pad=0.4)
    return fig


def figure_bytes(fig, fmt: str = "png") -> bytes:
    """The figure encoded as ``fmt`` at its own dpi (then closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=fig.dpi)
    plt.close(fig)
    return buf.getvalue()


def gallery_images(insp: Inspection, *, points: int = 10, images: int = 1, recon_images: int = 6) -> dict:
    """What the book's model gallery shows of one run, encoded: name → (MIME type, bytes) — reconstructions,
    ``images`` animated traversals (GIF, ``points`` frames), the heatmaps, the histograms, the training curves and
    prior samples, in that order."""
    title = run_label(insp)
    vals = traversal_values(points)
    out = {"reconstructions": ("image/png", figure_bytes(reconstruction_figure(
        {"": (insp.model, insp.dataset)}, recon_images, seed=insp.seed)))}
    for i in range(images):
        out[f"traversal_{i}"] = ("image/gif", traversal_gif(insp.model, _base_code(insp, i), kl=insp.kl,
                                                            active=insp.active, values=vals, title=title))
    out["heatmaps"] = ("image/png", figure_bytes(heatmap_figure(insp.evaluation)))
    out["histograms"] = ("image/png", figure_bytes(histogram_figure(insp.encoding.mu, insp.encoding.z, kl=insp.kl,
                                                                    active=insp.active)))
    out["curves"] = ("image/png", figure_bytes(curves_figure(insp.log, insp.config.model)))
    out["prior"] = ("image/png", figure_bytes(prior_figure(insp.model, rows=2, seed=insp.seed,
                                                           latent_dim=insp.config.latent_dim)))
    return out


def image_facts(insp: Inspection) -> dict:
    """What a reader sees in a run's traversal and heatmaps, as numbers: the top latent of the traversal and its
    KL, how many latents are greyed, and the factor best captured in the normalised-MI heatmap with its top two
    latents and their gap (the MIG term), plus how many factors are flagged as disintegrated."""
    order = insp.order
    m = heatmap_matrices(insp.evaluation)["nmi"]
    names = list(insp.evaluation.get("factor_names") or range(m.shape[1]))
    best = int(np.nanargmax(np.nanmax(m, axis=0)))
    a, b = np.argsort(-np.where(np.isnan(m[:, best]), -np.inf, m[:, best]), kind="stable")[:2]
    dis = insp.evaluation.get("disintegration", {}).get("nmi")
    return {"top_latent": int(order[0]), "top_kl": float(insp.kl[order[0]]),
            "second_latent": int(order[1]) if len(order) > 1 else -1,
            "second_kl": float(insp.kl[order[1]]) if len(order) > 1 else float("nan"),
            "inactive": int((~insp.active).sum()), "latents": int(len(order)),
            "factor": str(names[best]), "factor_top": int(a), "factor_second": int(b),
            "factor_nmi": float(m[a, best]), "factor_gap": float(m[a, best] - m[b, best]),
            "disintegrated": int(dis["disintegrated"].sum()) if dis is not None else 0}

