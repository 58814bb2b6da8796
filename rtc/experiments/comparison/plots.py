"""The comparison chapter's panels that are drawn more than once, and its colours. Plotting only: every number
drawn comes from the run table (:mod:`rtc.experiments.comparison` computes it). Takes matplotlib axes; imports no
plotting library itself.
"""
from __future__ import annotations

import pandas as pd

from .constants import LABELS, MODELS

__all__ = ["COLORS", "tc_panel", "curve_panel"]

# one colour per model of the comparison (a model outside it is drawn grey)
COLORS = dict(zip(MODELS, ("tab:blue", "tab:cyan", "tab:red", "tab:orange", "tab:purple", "tab:green", "tab:olive"),
                  strict=True))


def tc_panel(ax, table: pd.DataFrame, models, title: str, *, dataset: str = "dsprites") -> None:
    """The paper's Fig. 3 panel on ``ax``: for each of ``models`` trained on ``dataset``, TC_sample (solid) and
    TC_mean (dashed) of the seed means against the strength, every seed as a faint marker, runs that did not
    learn circled (the table needs ``learned``: :func:`rtc.experiments.comparison.add_learning`)."""
    for m in models:
        g = table[(table["model"] == m) & (table["dataset"] == dataset)]
        if g.empty:
            continue
        color = COLORS.get(m, "grey")
        mean = g.groupby("strength")[["tc_mean", "tc_sample"]].mean()
        ax.plot(mean.index, mean["tc_sample"], "-o", color=color, label=f"{LABELS.get(m, m)} TC_sample", ms=4)
        ax.plot(mean.index, mean["tc_mean"], "--s", color=color, label=f"{LABELS.get(m, m)} TC_mean", ms=4)
        ax.scatter(g["strength"], g["tc_sample"], color=color, s=10, alpha=0.5)
        ax.scatter(g["strength"], g["tc_mean"], color=color, s=10, alpha=0.5, marker="s")
        bad = g[~g["learned"]]
        ax.scatter(bad["strength"], bad["tc_mean"], facecolors="none", edgecolors="k", s=60, label=None)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_xlabel("regularisation strength")
    ax.set_ylabel("Gaussian TC (nats)")
    ax.set_title(title)
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)


def curve_panel(ax, table: pd.DataFrame, curves: dict, cells, column: str, *, title: str, dataset: str = "dsprites",
                lines: dict | None = None, log_y: bool = False) -> None:
    """One claim quantity against the images seen (log axis) on ``ax``: for each cell (model, strength) of
    ``cells`` — its runs on ``dataset``, learned ones only when the table has ``learned`` — every seed's curve thin
    and the mean over seeds thick. ``curves``: table position → the run's curve (:meth:`RunResult.curve`);
    ``lines``: label → value, drawn as horizontal reference lines (the thresholds)."""
    for m, strength in cells:
        g = table[(table["model"] == m) & (table["dataset"] == dataset) & (table["strength"] == strength)]
        if "learned" in g:
            g = g[g["learned"].astype(bool)]
        frames = [curves[i] for i in g.index if i in curves]
        if not frames:
            continue
        color = COLORS.get(m, "grey")
        for f in frames:
            ax.plot(f["images_seen"], f[column], color=color, lw=0.8, alpha=0.45)
        mean = pd.concat(frames).groupby("images_seen")[column].mean()
        ax.plot(mean.index, mean.to_numpy(), color=color, lw=2.4,
                label=f"{LABELS.get(m, m)} {strength:g} (n = {len(frames)})")
    for label, value in (lines or {}).items():
        ax.axhline(value, color="k", ls=":", lw=1)
        ax.annotate(label, (1, value), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=7)
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set(title=title, xlabel="images seen")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
