"""Plots of representations: score-matrix heatmaps, pairplots coloured by a factor, latent traversals.

All functions return matplotlib objects and never call ``plt.show()``; the caller glues or saves them.
"""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.patches import Rectangle

from .sampling import MetricInputError, as_codes, as_factors

__all__ = ["heatmap", "pairplot", "latent_traversal"]


def heatmap(matrix, *, factor_names: Sequence[str] | None = None, latent_names: Sequence[str] | None = None,
            ax=None, title: str | None = None, annotate: bool = True, vmin: float = 0.0, vmax: float | None = 1.0,
            cmap: str = "viridis", highlight_top: bool = True):
    """Heatmap of a latent × factor matrix (L, F) (rows latents, columns factors, as the paper's Fig. 8).

    ``highlight_top`` outlines the two largest cells of each column (the pair whose gap SAP/MIG take).
    NaN cells (e.g. a factor excluded from Chen's MIG) are left blank. Returns the Axes.
    """
    import seaborn as sns  # lazy: seaborn is the book extra (rtc[book]); rtc.metrics imports without it

    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise MetricInputError(f"matrix must be (L, F), got shape {m.shape}")
    L, F = m.shape
    xl = list(factor_names) if factor_names is not None else [str(k) for k in range(F)]
    yl = list(latent_names) if latent_names is not None else [f"z{j}" for j in range(L)]
    if len(xl) != F or len(yl) != L:
        raise MetricInputError(f"{len(xl)} factor names / {len(yl)} latent names for a {L}×{F} matrix")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.9 * F, 0.8 + 0.45 * L))
    sns.heatmap(m, ax=ax, annot=annotate, fmt=".2f", vmin=vmin, vmax=vmax, cmap=cmap, xticklabels=xl,
                yticklabels=yl, cbar=True, annot_kws={"fontsize": 7})
    if highlight_top and L >= 2:
        for k in range(F):
            col = np.where(np.isnan(m[:, k]), -np.inf, m[:, k])
            if np.isinf(col).all():
                continue
            for rank, j in enumerate(np.argsort(-col, kind="stable")[:2]):
                ax.add_patch(Rectangle((k, j), 1, 1, fill=False, lw=2 if rank == 0 else 1,
                                       edgecolor="red" if rank == 0 else "orange"))
    ax.set_xlabel("factor")
    ax.set_ylabel("latent")
    if title:
        ax.set_title(title)
    return ax


def pairplot(codes, factors, *, factor: int = 0, latents: Sequence[int] | None = None,
             factor_names: Sequence[str] | None = None, max_points: int = 2000, seed: int = 0,
             height: float = 1.6, palette: str = "viridis"):
    """Seaborn pairplot of the chosen latents of codes (N, L), points coloured by factor ``factor``.

    At most ``max_points`` points (a fixed random subset) are drawn. Returns the ``PairGrid``.
    """
    import seaborn as sns  # lazy: seaborn is the book extra (rtc[book]); rtc.metrics imports without it

    c = as_codes(codes)
    f = as_factors(factors, require_varying=False)
    if c.shape[0] != f.shape[0]:
        raise MetricInputError(f"codes has {c.shape[0]} rows but factors has {f.shape[0]}")
    if not 0 <= factor < f.shape[1]:
        raise MetricInputError(f"factor must be in [0, {f.shape[1]}), got {factor}")
    lat = list(range(c.shape[1])) if latents is None else [int(j) for j in latents]
    if not lat or any(not 0 <= j < c.shape[1] for j in lat):
        raise MetricInputError(f"latents must be indices in [0, {c.shape[1]}), got {latents}")
    fname = factor_names[factor] if factor_names is not None else f"factor {factor}"
    rows = np.random.default_rng(seed).permutation(c.shape[0])[:max_points]
    df = pd.DataFrame(c[np.ix_(rows, lat)], columns=[f"z{j}" for j in lat])
    df[fname] = f[rows, factor]
    return sns.pairplot(df, hue=fname, palette=palette, corner=True, height=height,
                        plot_kws={"s": 6, "linewidth": 0, "alpha": 0.6}, diag_kind="hist",
                        diag_kws={"multiple": "stack", "bins": 30, "element": "step"})


def _as_images(x, n: int) -> np.ndarray:
    a = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    if a.ndim != 4 or a.shape[0] != n:
        raise MetricInputError(f"decode_fn must return images (n, C, H, W) for n={n} codes, got shape {a.shape}")
    a = np.moveaxis(a, 1, -1)
    return np.clip(a[..., 0] if a.shape[-1] == 1 else a, 0.0, 1.0)


def latent_traversal(decode_fn: Callable, base_code, *, dims: Sequence[int] | None = None,
                     values=None, latent_names: Sequence[str] | None = None, cell: float = 0.9):
    """Grid of decoded images: row j varies latent ``dims[j]`` over ``values``, the others fixed at ``base_code``.

    ``decode_fn(codes torch.float32 (n, L)) -> images (n, C, H, W)`` with values in [0, 1] (for a
    Bernoulli decoder pass ``lambda z: torch.sigmoid(model.decode(z))``). ``values`` default to
    linspace(−2, 2, 8) (±2 prior standard deviations). Returns the Figure.
    """

    z0 = np.asarray(base_code, dtype=np.float32).reshape(-1)
    L = z0.shape[0]
    dims = list(range(L)) if dims is None else [int(d) for d in dims]
    if not dims or any(not 0 <= d < L for d in dims):
        raise MetricInputError(f"dims must be indices in [0, {L}), got {dims}")
    vals = np.linspace(-2, 2, 8) if values is None else np.asarray(values, dtype=np.float32).reshape(-1)
    grid = np.repeat(z0[None], len(dims) * len(vals), axis=0).reshape(len(dims), len(vals), L)
    for r, d in enumerate(dims):
        grid[r, :, d] = vals
    with torch.no_grad():
        imgs = _as_images(decode_fn(torch.as_tensor(grid.reshape(-1, L))), grid.shape[0] * grid.shape[1])
    fig, axes = plt.subplots(len(dims), len(vals), figsize=(cell * len(vals), cell * len(dims)), squeeze=False)
    for r, d in enumerate(dims):
        for c in range(len(vals)):
            ax = axes[r, c]
            ax.imshow(imgs[r * len(vals) + c], cmap="gray" if imgs.ndim == 3 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(latent_names[d] if latent_names is not None else f"z{d}", rotation=0, labelpad=14)
            if r == len(dims) - 1:
                ax.set_xlabel(f"{vals[c]:.2g}", fontsize=7)
    fig.tight_layout()
    return fig
