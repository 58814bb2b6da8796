"""The comparison chapter's panels that are drawn more than once, and its colours. Plotting only: every number
drawn comes from the run table (:mod:`rtc.experiments.comparison` computes it). Takes matplotlib axes; imports no
plotting library itself.
"""
from __future__ import annotations

import pandas as pd

from .constants import LABELS, MODELS

__all__ = ["COLORS", "tc_panel"]

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
