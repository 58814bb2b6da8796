"""Figures of images the run's decoder draws: reconstructions from µ, KL-ordered latent traversals (a PNG mosaic
and an animated GIF) and samples decoded from the prior."""
from __future__ import annotations

import io
import math
from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
import torch

from rtc.models import encode_images
from rtc.models.encoding import traversal_order

__all__ = ["traversal_values", "reconstructions", "reconstruction_figure", "traversal_images", "traversal_figure",
           "traversal_gif", "prior_figure"]


def _np_images(x) -> np.ndarray:
    """(n, C, H, W) tensor/array in [0, 1] → (n, H, W, 3) float array."""
    a = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    a = np.clip(np.moveaxis(a, 1, -1), 0.0, 1.0)
    return np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a


def _decode(model, z) -> np.ndarray:
    dev = next(model.parameters()).device
    with torch.no_grad():
        return _np_images(torch.sigmoid(model.decode(torch.as_tensor(np.asarray(z), dtype=torch.float32).to(dev))))


def reconstructions(model, ds, n: int = 8, *, seed: int = 0):
    """(data (n, H, W, 3), reconstructions from µ (n, H, W, 3), per-image error (n,) Bernoulli nats) of n seeded
    images."""
    x = ds.observations(ds.sample_factors(n, np.random.default_rng(seed)))
    enc = encode_images(model, x, generator=torch.Generator().manual_seed(seed))
    return _np_images(x), _decode(model, enc.mu), enc.recon


def reconstruction_figure(models: Mapping, n: int = 8, *, seed: int = 0, cell: float = 0.8, dpi: int = 72):
    """One row per entry of ``models`` (label → (model, dataset)): n seeded images, each beside its reconstruction
    from µ, with the per-image reconstruction error (nats) above the reconstruction. Returns the Figure."""
    fig, axes = plt.subplots(len(models), 2 * n, figsize=(cell * 2 * n, (cell + 0.2) * len(models)), squeeze=False,
                             dpi=dpi)
    for r, (label, (model, ds)) in enumerate(models.items()):
        x, xr, err = reconstructions(model, ds, n, seed=seed)
        for c in range(n):
            for k, img in enumerate((x[c], xr[c])):
                ax = axes[r, 2 * c + k]
                ax.imshow(img, vmin=0, vmax=1, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(f"{err[c]:.0f}" if k else "data", fontsize=6, pad=2)
        axes[r, 0].set_ylabel(label, rotation=0, labelpad=8, fontsize=7, ha="right")
    fig.tight_layout(pad=0.3, w_pad=0.1, h_pad=0.3)
    return fig


def traversal_values(points: int = 10, limit: float = 2.0) -> np.ndarray:
    """``points`` values from −limit to +limit (prior standard deviations)."""
    return np.linspace(-limit, limit, points)


def traversal_images(model, base_code, values, order) -> np.ndarray:
    """(len(order), len(values), H, W, 3): row j decodes ``base_code`` with latent ``order[j]`` set to each value."""
    z0 = np.asarray(base_code, dtype=np.float32).reshape(-1)
    vals = np.asarray(values, dtype=np.float32).reshape(-1)
    order = [int(d) for d in order]
    grid = np.repeat(z0[None], len(order) * len(vals), axis=0).reshape(len(order), len(vals), -1)
    for r, d in enumerate(order):
        grid[r, :, d] = vals
    imgs = _decode(model, grid.reshape(-1, z0.shape[0]))
    return imgs.reshape(len(order), len(vals), *imgs.shape[1:])


def _grey(img: np.ndarray) -> np.ndarray:
    """An inactive latent's tile: washed out towards light grey."""
    return 0.55 + 0.35 * img.mean(-1, keepdims=True).repeat(3, -1)


def _traversal(model, base_code, kl, active, values):
    """The inputs of both traversal drawings: KL (L,), the active mask (L,), the values (V,), the latents in
    decreasing-KL order and their decoded images (L, V, H, W, 3)."""
    kl = np.asarray(kl, dtype=np.float64)
    active = np.ones(len(kl), bool) if active is None else np.asarray(active, bool)
    vals = traversal_values() if values is None else np.asarray(values, dtype=np.float64)
    order = traversal_order(kl)
    return kl, active, vals, order, traversal_images(model, base_code, vals, order)


def traversal_figure(model, base_code, *, kl, active=None, values=None, title: str | None = None,
                     cell: float = 0.55, dpi: int = 72):
    """Latent traversal: rows are the latents ordered by decreasing KL (``kl`` (L,), printed on each row),
    columns the ``values``; inactive latents (``active`` False) are greyed. Returns the Figure."""
    kl, active, vals, order, imgs = _traversal(model, base_code, kl, active, values)
    L, V, H, W, _ = imgs.shape
    mosaic = np.ones((L * (H + 2), V * (W + 2), 3))
    for r in range(L):
        for c in range(V):
            tile = imgs[r, c] if active[order[r]] else _grey(imgs[r, c])
            mosaic[r * (H + 2) + 1:r * (H + 2) + 1 + H, c * (W + 2) + 1:c * (W + 2) + 1 + W] = tile
    fig, ax = plt.subplots(figsize=(cell * V + 1.6, cell * L + 0.5), dpi=dpi)
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_xticks([(c + 0.5) * (W + 2) for c in range(V)], [f"{v:.1f}" for v in vals], fontsize=6)
    ax.set_yticks([(r + 0.5) * (H + 2) for r in range(L)],
                  [f"z{order[r]}  KL {kl[order[r]]:.2f}" + ("" if active[order[r]] else " (off)") for r in range(L)],
                  fontsize=7)
    for r, t in enumerate(ax.get_yticklabels()):
        if not active[order[r]]:
            t.set_color("0.55")
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_xlabel("value of the traversed latent (prior s.d.)", fontsize=7)
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout(pad=0.3)
    return fig


def traversal_gif(model, base_code, *, kl, active=None, values=None, columns: int = 5, duration_ms: int = 160,
                  title: str | None = None) -> bytes:
    """An animated GIF (bytes) of the traversal: one tile per latent (ordered by decreasing KL, ``columns`` per
    row, its KL above it, inactive latents greyed), one frame per value of ``values`` — every latent's tile moves
    through the values at once, and the animation loops."""
    from PIL import Image, ImageDraw, ImageFont  # lazy: only the GIF needs Pillow

    kl, active, vals, order, imgs = _traversal(model, base_code, kl, active, values)
    L, V, H, W, _ = imgs.shape
    cols = max(1, min(columns, L))
    rows = math.ceil(L / cols)
    label_h, head_h, pad = 12, 14 if title is not None else 12, 2
    width = cols * (W + pad) + pad
    height = head_h + rows * (H + label_h + pad) + pad
    font = ImageFont.load_default()
    frames = []
    for c in range(V):
        canvas = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(canvas)
        draw.text((pad, 1), (f"{title}  " if title else "") + f"value {vals[c]:+.1f}", fill=(0, 0, 0), font=font)
        for r in range(L):
            x0 = pad + (r % cols) * (W + pad)
            y0 = head_h + (r // cols) * (H + label_h + pad)
            on = bool(active[order[r]])
            tile = imgs[r, c] if on else _grey(imgs[r, c])
            canvas.paste(Image.fromarray((tile * 255).round().astype(np.uint8)), (x0, y0 + label_h))
            draw.text((x0 + 1, y0), f"z{order[r]} {kl[order[r]]:.2f}", fill=(0, 0, 0) if on else (150, 150, 150),
                      font=font)
        frames.append(canvas.quantize(colors=96, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=duration_ms, loop=0,
                   optimize=False, disposal=1)
    return buf.getvalue()


def prior_figure(model, *, rows: int = 3, columns: int = 8, seed: int = 0, latent_dim: int | None = None,
                 cell: float = 0.6, dpi: int = 72):
    """Images decoded from z ~ N(0, I) (seeded), a rows × columns grid. Returns the Figure."""
    L = latent_dim or int(model.latent_dim if hasattr(model, "latent_dim") else 10)
    z = np.random.default_rng(seed).standard_normal((rows * columns, L))
    imgs = _decode(model, z)
    H, W = imgs.shape[1:3]
    mosaic = np.ones((rows * (H + 2), columns * (W + 2), 3))
    for i in range(rows * columns):
        r, c = divmod(i, columns)
        mosaic[r * (H + 2) + 1:r * (H + 2) + 1 + H, c * (W + 2) + 1:c * (W + 2) + 1 + W] = imgs[i]
    fig, ax = plt.subplots(figsize=(cell * columns, cell * rows + 0.2), dpi=dpi)
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title("decoded from z ~ N(0, I)", fontsize=7)
    fig.tight_layout(pad=0.2)
    return fig
