"""Look inside a trained run: reconstructions, KL-ordered latent traversals (PNG and animated GIF), µ and z
histograms against the prior, the metrics' factor × latent matrices, training curves, prior samples and the
run's settings and scores — ``python -m rtc.inspect``.

A run is given by its directory (``results/runs/<model>-<key>``) or resolved through a profile's grid
(``parameters/<profile>/training.yaml``) and the results cache. Nothing is trained and nothing is written to the
results cache: a run that is not cached is an error naming the command that trains it. The metrics' matrices are
read from the run's cached evaluation (``<run dir>/eval/*.json``); without one they are computed here, from the
same functions, on the images encoded for the report (and the report says so).

Library::

    from rtc.inspect import inspect_grid_run, load_run, write_report
    insp = inspect_grid_run("default", model="rtc_vae", strength=10, seed=0, dataset="dsprites")
    write_report(insp, "inspect-out")              # index.html + PNG/GIF files

CLI::

    python -m rtc.inspect --profile default --model rtc_vae --strength 10 --seed 0 --dataset dsprites --out DIR
    python -m rtc.inspect results/runs/rtc_vae-<key> --out DIR [--format png|gif|all] [--images N]

The figure functions (:func:`reconstruction_figure`, :func:`traversal_figure`, :func:`traversal_gif`,
:func:`histogram_figure`, :func:`heatmap_figure`, :func:`curves_figure`, :func:`prior_figure`) return matplotlib
figures or GIF bytes and are what the book's model gallery and the comparison chapter call.
"""
from __future__ import annotations

import argparse
import dataclasses
import html
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from rtc.models.encoding import active_latents, latent_kl, latent_variances, traversal_order
from rtc.models.eta import BAND

__all__ = ["InspectError", "Inspection", "load_run", "resolve_run", "inspect_grid_run", "traversal_values", "reconstructions",
           "reconstruction_figure", "traversal_images",
           "traversal_figure", "traversal_gif", "latent_histograms", "histogram_figure", "heatmap_matrices",
           "heatmap_figure", "curves_figure", "prior_figure", "figure_bytes", "gallery_images", "image_facts",
           "settings_table", "scores_table", "write_report", "run_title", "REVISED_MODELS", "main"]

# Models with RTC-VAE's variance penalty η·Σ_k E[σ_k²] and its target band (rtc.models.eta.BAND); a latent is
# inactive when its µ barely varies over the images (rtc.models.encoding.ACTIVE_VAR).
REVISED_MODELS = ("rtc_vae", "revised_factor_vae", "revised_beta_vae")
VAR_BAND = BAND
_SCORE_KEYS = ("tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active", "tc_mean_knn", "tc_sample_knn",
               "tc_mean_dr", "active_dims", "recon", "kl", "var_sum", "sap_r2", "sap_svc", "mig_ref", "mig_chen",
               "dci_disentanglement", "dci_completeness", "dci_informativeness_test", "modularity",
               "factor_vae_eval", "disintegration_nmi", "disintegration_r2", "disintegrated_factors_nmi",
               "disintegrated_factors_r2", "train_seconds", "eval_seconds")


class InspectError(RuntimeError):
    """A run that cannot be inspected; the one-line message names the file and what to do."""


# ---------------------------------------------------------------------------------------------------------------
# Loading a run (read-only)
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Inspection:
    """A finished run loaded for inspection, with ``n`` encoded images.

    ``kl`` (L,): each latent's KL to the prior, mean over the images (nats); ``var_mu`` (L,): Var µ_k (ddof 1);
    ``order``: latents by decreasing KL; ``active``: :func:`rtc.models.encoding.active_latents`.
    ``evaluation``: the cached evaluation (dict with row, matrices, disintegration, factor_names) or one computed here (``eval_source``
    says which). ``key_ok``: the run directory's name is the cache key this checkout computes for its settings
    (False: trained by other code — shown anyway, marked).
    """
    run_dir: Path
    config: object
    dataset: object
    model: object
    log: dict
    seconds: float
    key_ok: bool
    expected_key: str | None
    code_trained: str | None
    code_now: str | None
    encoding: object
    kl: np.ndarray
    var_mu: np.ndarray
    evaluation: dict
    eval_source: str
    seed: int = 0
    profile: str | None = None
    notes: list = field(default_factory=list)

    @property
    def order(self) -> np.ndarray:
        return traversal_order(self.kl)

    @property
    def active(self) -> np.ndarray:
        return active_latents(self.encoding.mu)

    @property
    def n(self) -> int:
        return int(self.encoding.mu.shape[0])


def _one_line(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return f"{type(e).__name__}: {s[0]}" if s else type(e).__name__


def _read_config(run_dir: Path) -> dict:
    from rtc.models.runfiles import CONFIG

    cfg_file = run_dir / CONFIG
    if not run_dir.is_dir():
        raise InspectError(f"{run_dir} is not a directory: pass a run directory (results/runs/<model>-<key>) or "
                           "--profile/--model/--strength/--seed/--dataset")
    if not cfg_file.exists():
        raise InspectError(f"{run_dir} is not a run: it has no config.json (a run directory is "
                           "results/runs/<model>-<key>, written by rtc.models.train)")
    try:
        doc = json.loads(cfg_file.read_text())
        if not isinstance(doc, dict) or "config" not in doc:
            raise ValueError("no 'config' entry")
        return doc
    except (ValueError, OSError) as e:
        raise InspectError(f"{cfg_file} cannot be read ({_one_line(e)}): the run directory is damaged; delete it "
                           "and train the run again") from None


def _train_config(doc: dict, cfg_file: Path):
    from rtc.models import TrainConfig

    known = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = {k: v for k, v in doc["config"].items() if k in known}
    try:
        return TrainConfig(**cfg), sorted(set(doc["config"]) - known)
    except (TypeError, ValueError) as e:
        raise InspectError(f"{cfg_file}: its settings do not fit this checkout's TrainConfig ({_one_line(e)}); the "
                           "run was trained by other code — inspect it from that checkout") from None


def _load_dataset(identity: dict, cfg_file: Path, path=None):
    from rtc.data import load_dataset

    name = identity.get("name")
    source = identity.get("source")
    if path is None and source not in (None, "None", "procedural"):
        path = source
    try:
        return load_dataset(name, path=path, seed=identity.get("seed") or 0)
    except Exception as e:  # noqa: BLE001 — any loader failure is reported in one line
        env = {"dsprites": "RTC_DSPRITES", "shapes3d": "RTC_SHAPES3D", "cars3d": "RTC_CARS3D"}.get(str(name), "")
        raise InspectError(f"{cfg_file}: the run's dataset {name!r} (source {source}) cannot be loaded "
                           f"({_one_line(e)}); point {env or 'the loader'} at the dataset's file or pass "
                           "--dataset-path") from None


def _compute_eval(enc, ds) -> dict:
    """The NMI and R² matrices and their disintegration tables from the metrics' own functions (no cache)."""
    from rtc.metrics.diagnostics import disintegration
    from rtc.metrics.mig import normalized_mi_matrix
    from rtc.metrics.sap import r2_matrix

    names = tuple(ds.factor_names)
    mats = {"nmi": normalized_mi_matrix(enc.mu, enc.factors), "r2": r2_matrix(enc.mu, enc.factors)}
    dis = {k: disintegration(mats[k], codes=enc.mu, factor_names=names) for k in ("nmi", "r2")}
    return {"row": {}, "matrices": mats, "disintegration": dis, "factor_names": names, "conventions": {}}


def load_run(run_dir, *, n: int = 1000, seed: int = 0, evaluation=None, dataset_path=None, device="cpu",
             profile: str | None = None) -> Inspection:
    """Load the finished run in ``run_dir`` (read-only) and encode ``n`` seeded images.

    ``evaluation``: the :class:`rtc.experiments.EvalSettings` whose cached evaluation to read (None: the newest
    evaluation file of the run, if any). Raises :class:`InspectError` (one line naming the file) for a path that
    is not a run, a missing or unreadable ``final.pt``, settings this checkout cannot read, or a dataset that
    cannot be loaded.
    """
    from rtc.experiments.store import eval_path, evaluation_files, read_evaluation
    from rtc.models import CheckpointError, encode, load_model, run_dir_for
    from rtc.models.runfiles import CONFIG, FINAL, code_version

    run_dir = Path(run_dir).expanduser().resolve()
    doc = _read_config(run_dir)
    cfg_file = run_dir / CONFIG
    config, unknown = _train_config(doc, cfg_file)
    final = run_dir / FINAL
    if not final.exists():
        raise InspectError(f"{final} is missing: the run did not finish; finish it (python -m rtc.sweep --profile "
                           "<profile>, or rtc.models.train with the same settings resumes it) and inspect it then")
    ds = _load_dataset(doc.get("data") or {}, cfg_file, dataset_path)
    notes = []
    expected = run_dir_for(config, ds, run_dir.parent).name
    code_now = code_version(ds)
    key_ok = expected == run_dir.name and not unknown
    if not key_ok:
        notes.append(f"cache key mismatch: this checkout would store these settings as {expected}, not "
                     f"{run_dir.name} (trained with code {doc.get('code')}, this checkout's is {code_now}"
                     + (f"; unknown settings {unknown}" if unknown else "") + "): the run was trained by other code")
    try:
        import torch
        state = torch.load(final, map_location="cpu", weights_only=False)
        model = load_model(final, config, num_channels=state.get("num_channels"), device=device)
    except (CheckpointError, Exception) as e:  # noqa: BLE001 — truncated, corrupt or from another network
        other = "" if key_ok else " or was written by other code (see the cache key mismatch)"
        raise InspectError(f"{final} cannot be read ({_one_line(e)[:160]}): it is truncated or corrupt{other}; "
                           f"delete {run_dir} and train the run again (python -m rtc.sweep --profile <profile>)"
                           ) from None
    log = {k: np.asarray(v, dtype=np.float64) for k, v in (state.get("log") or {}).items()}
    enc = encode(model, ds, n=n, seed=seed, device=device)
    ev, source = None, ""
    if evaluation is not None and eval_path(run_dir, evaluation).exists():
        p = eval_path(run_dir, evaluation)
        ev, source = read_evaluation(p), f"cached evaluation {p.relative_to(run_dir)} ({evaluation.name} settings)"
    else:
        for p in evaluation_files(run_dir):
            try:
                ev = read_evaluation(p)
            except Exception:  # noqa: BLE001 — an unreadable evaluation file: try the next one
                continue
            source = (f"cached evaluation {p.relative_to(run_dir)} (not the current evaluation key: other settings "
                      "or older evaluation code)")
            break
    if ev is None or "nmi" not in ev["matrices"] or "r2" not in ev["matrices"]:
        computed = _compute_eval(enc, ds)
        if ev is None:
            ev = computed
            source = f"no cached evaluation: NMI and R² computed here on {n} images (nothing written)"
        else:
            ev["matrices"] = {**computed["matrices"], **ev["matrices"]}
            ev["disintegration"] = {**computed["disintegration"], **ev["disintegration"]}
            source += f"; missing matrices computed here on {n} images"
    return Inspection(run_dir, config, ds, model, log, float(state.get("seconds", 0.0)), key_ok, expected,
                      doc.get("code"), code_now, enc, latent_kl(enc.mu, enc.sigma), latent_variances(enc.mu), ev,
                      source,
                      seed=seed, profile=profile, notes=notes)


def resolve_run(profile: str, *, model: str, strength: float, seed: int, dataset: str, results_dir=None,
                root=None):
    """The run of ``profile``'s grid with these settings: (RunSpec, run directory). Trains nothing; raises
    :class:`InspectError` when the grid has no such run or the run is not in the results cache."""
    from rtc.experiments.results import default_results_dir, run_dir
    from rtc.models.runfiles import FINAL
    from rtc.sweep import grid_runs

    try:
        runs = grid_runs(profile, root=root)
    except (FileNotFoundError, ValueError) as e:
        raise InspectError(f"profile {profile!r}: {_one_line(e)}") from None
    match = [s for s in runs if s.config.model == model and math.isclose(s.config.strength, float(strength))
             and s.config.seed == int(seed) and s.dataset.name == dataset]
    if not match:
        have = sorted({f"{s.config.model} {s.config.strength:g} seed {s.config.seed} {s.dataset.name}" for s in runs})
        raise InspectError(f"parameters/{profile}/training.yaml has no run {model} {float(strength):g} seed {seed} "
                           f"{dataset}; it has: {'; '.join(have)}")
    spec = match[0]
    results_dir = Path(results_dir) if results_dir is not None else default_results_dir()
    try:
        ds = spec.dataset.load()
    except Exception as e:  # noqa: BLE001
        raise InspectError(f"dataset {dataset!r} cannot be loaded ({_one_line(e)}); point RTC_{dataset.upper()} at "
                           "its file or unset it to use the procedural renderer") from None
    rd = run_dir(spec.config, ds, results_dir)
    if not (rd / FINAL).exists():
        raise InspectError(f"{rd / FINAL} does not exist: the run is not in the results cache; train it "
                           f"with `python -m rtc.sweep --profile {profile}` (or `make book PROFILE={profile}`)")
    return spec, rd


def inspect_grid_run(profile: str, *, model: str, strength: float, seed: int, dataset: str, results_dir=None,
                     n: int = 1000, image_seed: int = 0, root=None) -> Inspection:
    """:func:`resolve_run`, then :func:`load_run` with the grid's evaluation settings."""
    spec, run_dir = resolve_run(profile, model=model, strength=strength, seed=seed, dataset=dataset,
                                results_dir=results_dir, root=root)
    return load_run(run_dir, n=n, seed=image_seed, evaluation=spec.evaluation, profile=profile)


# ---------------------------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------------------------

def _np_images(x) -> np.ndarray:
    """(n, C, H, W) tensor/array in [0, 1] → (n, H, W, 3) float array."""
    a = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    a = np.clip(np.moveaxis(a, 1, -1), 0.0, 1.0)
    return np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a


def _decode(model, z) -> np.ndarray:
    import torch

    dev = next(model.parameters()).device
    with torch.no_grad():
        return _np_images(torch.sigmoid(model.decode(torch.as_tensor(np.asarray(z), dtype=torch.float32).to(dev))))


def run_title(config, dataset_name: str) -> str:
    return f"{config.model} {config.strength:g}, seed {config.seed} ({dataset_name})"


def reconstructions(model, ds, n: int = 8, *, seed: int = 0):
    """(data (n, H, W, 3), reconstructions from µ (n, H, W, 3), per-image error (n,) Bernoulli nats) of n seeded
    images."""
    import torch

    from rtc.models import encode_images

    x = ds.observations(ds.sample_factors(n, np.random.default_rng(seed)))
    enc = encode_images(model, x, generator=torch.Generator().manual_seed(seed))
    return _np_images(x), _decode(model, enc.mu), enc.recon


def reconstruction_figure(models: Mapping, n: int = 8, *, seed: int = 0, cell: float = 0.8, dpi: int = 72):
    """One row per entry of ``models`` (label → (model, dataset)): n seeded images, each beside its reconstruction
    from µ, with the per-image reconstruction error (nats) above the reconstruction. Returns the Figure."""
    import matplotlib.pyplot as plt

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


def _base_code(insp: Inspection, image: int) -> np.ndarray:
    return insp.encoding.mu[int(image)]


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
    import matplotlib.pyplot as plt

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
    from PIL import Image, ImageDraw, ImageFont

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
    import matplotlib.pyplot as plt

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
    import matplotlib.pyplot as plt

    from rtc.metrics.plots import heatmap

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
    import matplotlib.pyplot as plt

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


def prior_figure(model, *, rows: int = 3, columns: int = 8, seed: int = 0, latent_dim: int | None = None,
                 cell: float = 0.6, dpi: int = 72):
    """Images decoded from z ~ N(0, I) (seeded), a rows × columns grid. Returns the Figure."""
    import matplotlib.pyplot as plt

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


def settings_table(insp: Inspection):
    """The run's settings, cache key and provenance as a two-column DataFrame (setting, value)."""
    import pandas as pd

    c = insp.config
    rows = [("run", run_title(c, insp.dataset.name)), ("run directory", str(insp.run_dir)),
            ("cache key", insp.run_dir.name + ("" if insp.key_ok else f" (MISMATCH: this checkout: "
                                                                      f"{insp.expected_key})")),
            ("training code version", f"{insp.code_trained} (this checkout: {insp.code_now})"),
            ("dataset", f"{insp.dataset.name}, {len(insp.dataset):,} images ({getattr(insp.dataset, 'source', '')})"),
            ("training time", f"{insp.seconds:.0f} s"), ("evaluation", insp.eval_source),
            ("images encoded here", f"{insp.n} (seed {insp.seed})")]
    rows += [(f.name, repr(getattr(c, f.name))) for f in dataclasses.fields(c)]
    return pd.DataFrame(rows, columns=["setting", "value"])


def scores_table(insp: Inspection):
    """Scores: the cached evaluation's row (TC_mean / TC_sample, SAP, MIG, DCI, …) and, from the images encoded
    here, TC_mean / TC_sample, active latents, reconstruction and KL. A DataFrame (score, value, source)."""
    import pandas as pd

    from rtc.models import representation_stats

    st = representation_stats(insp.encoding)
    here = [("tc_mean", st["tc_mean"]), ("tc_sample", st["tc_sample"]), ("active_dims", st["active_dims"]),
            ("recon", st["recon"]), ("kl", float(insp.kl.sum())), ("var_sum", st["var_sum"])]
    rows = [(k, float(v), f"this report, {insp.n} images") for k, v in here]
    row = insp.evaluation.get("row") or {}
    name = row.get("eval", "")
    rows += [(k, float(row[k]), f"evaluation ({name})") for k in _SCORE_KEYS if k in row]
    return pd.DataFrame(rows, columns=["score", "value", "source"])


def figure_bytes(fig, fmt: str = "png") -> bytes:
    """The figure encoded as ``fmt`` at its own dpi (then closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=fig.dpi)
    plt.close(fig)
    return buf.getvalue()


def gallery_images(insp: Inspection, *, points: int = 10, images: int = 1, recon_images: int = 6) -> dict:
    """What the book's model gallery shows of one run, encoded: name → (MIME type, bytes) — reconstructions,
    ``images`` animated traversals (GIF, ``points`` frames), the heatmaps, the histograms, the training curves and
    prior samples, in that order."""
    title = run_title(insp.config, insp.dataset.name)
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


# ---------------------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------------------

def _save_png(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.savefig(path, format="png", dpi=fig.dpi)
    plt.close(fig)


def write_report(insp: Inspection, out, *, fmt: str = "all", images: int = 3, points: int = 10,
                 progress: bool = True) -> Path:
    """Write the report of ``insp`` into the folder ``out``: PNG files (``fmt`` "png" or "all") and one animated
    traversal GIF per traced image ("gif" or "all"), and ``index.html`` showing them with the settings and scores.
    ``images`` traced images, ``points`` traversal values (= GIF frames). Returns the path of ``index.html``."""
    import matplotlib
    from tqdm.auto import tqdm

    if fmt not in ("png", "gif", "all"):
        raise ValueError(f"fmt must be 'png', 'gif' or 'all', got {fmt!r}")
    if not (isinstance(images, int) and 1 <= images <= insp.n):
        raise ValueError(f"images must be an integer in [1, {insp.n}], got {images!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    title = run_title(insp.config, insp.dataset.name)
    vals = traversal_values(points)
    png, gif = fmt in ("png", "all"), fmt in ("gif", "all")
    tasks = []
    if png:
        tasks += [("reconstructions.png", lambda: reconstruction_figure({title: (insp.model, insp.dataset)}, 8,
                                                                        seed=insp.seed)),
                  ("histograms.png", lambda: histogram_figure(insp.encoding.mu, insp.encoding.z, kl=insp.kl,
                                                              active=insp.active)),
                  ("heatmaps.png", lambda: heatmap_figure(insp.evaluation)),
                  ("curves.png", lambda: curves_figure(insp.log, insp.config.model)),
                  ("prior.png", lambda: prior_figure(insp.model, seed=insp.seed, latent_dim=insp.config.latent_dim))]
    for i in range(images):
        base = _base_code(insp, i)
        if png:
            tasks.append((f"traversal_{i}.png", lambda b=base, i=i: traversal_figure(
                insp.model, b, kl=insp.kl, active=insp.active, values=vals, title=f"{title}: image {i}")))
        if gif:
            tasks.append((f"traversal_{i}.gif", lambda b=base, i=i: traversal_gif(
                insp.model, b, kl=insp.kl, active=insp.active, values=vals, title=f"image {i}")))
    for name, make in tqdm(tasks, desc="report", disable=not progress, unit="file"):
        obj = make()
        if isinstance(obj, bytes):
            (out / name).write_bytes(obj)
        else:
            _save_png(obj, out / name)
    page = out / "index.html"
    page.write_text(_html(insp, [n for n, _ in tasks], images))
    return page


def _html(insp: Inspection, files: Sequence[str], images: int) -> str:
    e = html.escape
    title = run_title(insp.config, insp.dataset.name)
    have = set(files)

    def img(name, alt):
        return f'<img src="{e(name)}" alt="{e(alt)}">' if name in have else ""

    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>"
             "body{font-family:sans-serif;max-width:1200px;margin:1em auto}img{max-width:100%}"
             "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px}"
             ".warn{color:#a00;font-weight:bold}</style></head><body>", f"<h1>{e(title)}</h1>"]
    for note in insp.notes:
        parts.append(f"<p class='warn'>⚠ {e(note)}</p>")
    parts.append(f"<p>Evaluation: {e(insp.eval_source)}.</p>")
    parts += ["<h2>1. Reconstructions from µ</h2><p>Data beside its reconstruction; the number is the image's "
              "reconstruction error (Bernoulli −log p(x | z = µ), nats).</p>", img("reconstructions.png", "recons")]
    parts.append("<h2>2. Latent traversals</h2><p>Latents ordered by their KL to the prior (nats, on each row); "
                 "inactive latents (Var µ ≤ 0.01) greyed. The GIF moves every latent through the values at "
                 "once.</p>")
    for i in range(images):
        parts.append(f"<h3>image {i}</h3>" + img(f"traversal_{i}.gif", f"traversal {i} (animated)")
                     + img(f"traversal_{i}.png", f"traversal {i}"))
    parts += ["<h2>3. Histograms of µ and z</h2>", f"<p>{insp.n} images; prior N(0, 1) dashed.</p>",
              img("histograms.png", "histograms"),
              "<h2>4. Factor × latent matrices</h2><p>Outlined: the two latents whose gap MIG (normalised MI) and "
              "SAP (R²) take; ⚠ a factor flagged as disintegrated.</p>", img("heatmaps.png", "heatmaps"),
              "<h2>5. Training curves</h2>", img("curves.png", "curves"),
              "<h2>Prior samples</h2>", img("prior.png", "prior samples"),
              "<h2>6. Settings and scores</h2>", scores_table(insp).to_html(index=False, float_format="%.4g"),
              settings_table(insp).to_html(index=False), "</body></html>"]
    return "\n".join(p for p in parts if p)


# ---------------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtc.inspect",
                                description="Write a report of one trained run (reconstructions, traversals, "
                                            "histograms, metric matrices, curves, settings); trains nothing.")
    p.add_argument("run_dir", nargs="?", help="a run directory (results/runs/<model>-<key>)")
    p.add_argument("--profile", help="resolve the run through parameters/<profile>/training.yaml")
    p.add_argument("--model")
    p.add_argument("--strength", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dataset", default="dsprites")
    p.add_argument("--results-dir", default=None, help="cache root (default $RTC_RESULTS_DIR or <repo>/results)")
    p.add_argument("--dataset-path", default=None, help="the dataset's real file(s), if the run used them")
    p.add_argument("--out", default="inspect-out", help="output folder (index.html + PNG/GIF)")
    p.add_argument("--format", default="all", choices=("png", "gif", "all"))
    p.add_argument("--images", type=int, default=3, help="traced images (one traversal each)")
    p.add_argument("--points", type=int, default=10, help="traversal values (GIF frames)")
    p.add_argument("-n", type=int, default=1000, help="images encoded for the histograms and the KL order")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    import torch
    torch.set_num_threads(max(1, a.threads))
    try:
        if a.run_dir and a.profile:
            raise InspectError("give a run directory or --profile/--model/--strength, not both")
        if a.run_dir:
            insp = load_run(a.run_dir, n=a.n, dataset_path=a.dataset_path)
        elif a.profile:
            if a.model is None or a.strength is None:
                raise InspectError("--profile needs --model and --strength (and --seed, --dataset)")
            spec, run_dir = resolve_run(a.profile, model=a.model, strength=a.strength, seed=a.seed,
                                        dataset=a.dataset, results_dir=a.results_dir)
            insp = load_run(run_dir, n=a.n, evaluation=spec.evaluation, dataset_path=a.dataset_path,
                            profile=a.profile)
        else:
            raise InspectError("give a run directory or --profile P --model M --strength S [--seed K --dataset D]")
        for note in insp.notes:
            print(f"warning: {note}", file=sys.stderr)
        page = write_report(insp, a.out, fmt=a.format, images=a.images, points=a.points)
    except InspectError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {page} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
