"""The report of one run: its settings and scores as tables (:func:`settings_table`, :func:`scores_table`) and
:func:`write_report` — the figures as PNG / GIF files and an ``index.html`` showing them."""
from __future__ import annotations

import dataclasses
import html
from pathlib import Path
from typing import Sequence

import matplotlib
import pandas as pd
from tqdm.auto import tqdm

from rtc._validate import check_int
from rtc.models import representation_stats
from rtc.report import run_label

from .figures import curves_figure, figure_bytes, heatmap_figure, histogram_figure
from .images import prior_figure, reconstruction_figure, traversal_figure, traversal_gif, traversal_values
from .load import Inspection, _base_code

__all__ = ["settings_table", "scores_table", "write_report"]

_SCORE_KEYS = ("tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active", "tc_mean_knn", "tc_sample_knn",
               "tc_mean_dr", "active_dims", "recon", "kl", "var_sum", "sap_r2", "sap_svc", "mig_ref", "mig_chen",
               "dci_disentanglement", "dci_completeness", "dci_informativeness_test", "modularity",
               "factor_vae_eval", "disintegration_nmi", "disintegration_r2", "disintegrated_factors_nmi",
               "disintegrated_factors_r2", "train_seconds", "eval_seconds")


def settings_table(insp: Inspection):
    """The run's settings, cache key and provenance as a two-column DataFrame (setting, value)."""
    c = insp.config
    rows = [("run", run_label(insp)), ("run directory", str(insp.run_dir)),
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
    st = representation_stats(insp.encoding)
    here = [("tc_mean", st["tc_mean"]), ("tc_sample", st["tc_sample"]), ("active_dims", st["active_dims"]),
            ("recon", st["recon"]), ("kl", float(insp.kl.sum())), ("var_sum", st["var_sum"])]
    rows = [(k, float(v), f"this report, {insp.n} images") for k, v in here]
    row = insp.evaluation.get("row") or {}
    name = row.get("eval", "")
    rows += [(k, float(row[k]), f"evaluation ({name})") for k in _SCORE_KEYS if k in row]
    return pd.DataFrame(rows, columns=["score", "value", "source"])


def write_report(insp: Inspection, out, *, fmt: str = "all", images: int = 3, points: int = 10,
                 progress: bool = True) -> Path:
    """Write the report of ``insp`` into the folder ``out``: PNG files (``fmt`` "png" or "all") and one animated
    traversal GIF per traced image ("gif" or "all"), and ``index.html`` showing them with the settings and scores.
    ``images`` traced images, ``points`` traversal values (= GIF frames). Returns the path of ``index.html``."""
    if fmt not in ("png", "gif", "all"):
        raise ValueError(f"fmt must be 'png', 'gif' or 'all', got {fmt!r}")
    images = check_int(images, "images", minimum=1)
    if images > insp.n:
        raise ValueError(f"images must be an integer in [1, {insp.n}], got {images!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    title = run_label(insp)
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
        (out / name).write_bytes(obj if isinstance(obj, bytes) else figure_bytes(obj))
    page = out / "index.html"
    page.write_text(_html(insp, [n for n, _ in tasks], images))
    return page


def _html(insp: Inspection, files: Sequence[str], images: int) -> str:
    e = html.escape
    title = run_label(insp)
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

