"""The Datasets chapter's figures: factor traversals of a ground-truth dataset and its render rates. Plotting only;
the factors come from :func:`rtc.data.throughput.traversal_factors`, the rates from the chapter's measurements.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from rtc.data.throughput import traversal_factors

__all__ = ["factor_traversal_figure", "rates_figure"]


def factor_traversal_figure(ds, base, steps: int):
    """One row per factor of ``ds`` (the ``rtc.data`` interface): ``steps`` images with that factor swept evenly
    over its range and the others fixed at the grid point ``base`` (F factor indices), each titled with the
    factor's value."""
    if steps < 2:
        raise ValueError(f"steps must be ≥ 2 (a sweep from the first to the last value), got {steps!r}")
    fig, axes = plt.subplots(ds.num_factors, steps, figsize=(1.05 * steps, 1.1 * ds.num_factors + 0.2),
                             squeeze=False)
    gray = ds.num_channels == 1
    for k, name in enumerate(ds.factor_names):
        f = traversal_factors(ds, base, k, steps)
        imgs = ds.images(f)
        for j in range(steps):
            ax = axes[k, j]
            ax.imshow(imgs[j, :, :, 0] if gray else imgs[j], cmap="gray" if gray else None, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            ax.set_title(f"{ds.factor_values[k][f[j, k]]:.3g}", fontsize=7, pad=2)
        axes[k, 0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    fig.tight_layout(pad=0.3)
    return fig


def rates_figure(rates: pd.DataFrame, train: dict):
    """Bars of images/s per (dataset, path) row of ``rates`` (columns dataset, path, images/s; log scale) with the
    training step's images/s for 1 and 3 channels (``train``: channels → images/s) as lines."""
    fig, ax = plt.subplots(figsize=(6.5, 3))
    labels = [f"{d}\n{p}" for d, p in zip(rates["dataset"], rates["path"], strict=True)]
    ax.bar(labels, rates["images/s"], color=[f"C{i}" for i in range(len(rates))])
    ax.axhline(train[1], color="k", ls="--", lw=1, label=f"training step, 1 channel ({train[1]:,.0f}/s)")
    ax.axhline(train[3], color="k", ls=":", lw=1, label=f"training step, 3 channels ({train[3]:,.0f}/s)")
    ax.set_yscale("log")
    ax.set_ylabel("images / s")
    ax.legend(fontsize=8)
    return fig
