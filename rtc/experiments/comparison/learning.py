"""Did each run learn, does it show the disparity, is it in the paper's regime: columns added to the run table.

:func:`mean_image_baseline` is the reconstruction error of a model that ignores its input and predicts the mean
image, with the error's floor; :func:`add_learning` marks a run as *learned* against it, :func:`add_disparity`
adds TC_mean − TC_sample and its class, :func:`add_regime` the share of training in the paper's variance band;
:func:`learning_summary` is what the chapter says of the learning check.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rtc._validate import check_int
from rtc.claims import THRESHOLDS, Thresholds, binomial_interval
from rtc.models.eta import band_share

from ..columns import need_columns
from ..published import TRAINED_SHARE, trained_recon_at
from .constants import REVISED
from .labels import run_labels

__all__ = ["mean_image_baseline", "add_learning", "trained_reconstruction", "add_disparity", "add_regime",
           "learning_rules", "learning_summary"]


def mean_image_baseline(dataset, n: int = 2000, *, seed: int = 0, batch_size: int = 500) -> dict:
    """Reconstruction error (Bernoulli −log p(x), nats per image, summed over pixels) of predicting the mean image.

    ``n`` images of uniformly drawn factors (seeded, as :func:`rtc.models.encode` draws them). Returns
    ``{"baseline": E_x[BCE(x, x̄)], "floor": E_x[Σ_pixels H_b(x)], "n": n}`` where x̄ is the pixel-wise mean of the
    same images and H_b the binary entropy of the target itself — the smallest value a Bernoulli
    reconstruction error can take (0 for binary images). p is clipped to [1e-7, 1 − 1e-7] (a pixel that is 0
    in every image would otherwise give 0·log 0).
    """
    try:
        n = check_int(n, "n", minimum=2)
    except TypeError as e:
        raise ValueError(str(e)) from None
    rng = np.random.default_rng(seed)
    factors = dataset.sample_factors(n, rng)
    parts = [dataset.observations(factors[i:i + batch_size]).double().numpy() for i in range(0, n, batch_size)]
    x = np.concatenate(parts)
    p = np.clip(x.mean(0), 1e-7, 1 - 1e-7)
    bce = -(x * np.log(p) + (1 - x) * np.log1p(-p)).reshape(n, -1).sum(1)
    xc = np.clip(x, 1e-12, 1 - 1e-12)
    ent = -(x * np.log(xc) + (1 - x) * np.log1p(-xc)).reshape(n, -1).sum(1)
    return {"baseline": float(bce.mean()), "floor": float(ent.mean()), "n": n}


def add_learning(table: pd.DataFrame, baselines: dict, t: Thresholds = THRESHOLDS, *,
                 trained_recon=None) -> pd.DataFrame:
    """Copy of ``table`` with baseline, floor, recon_ratio = (recon − floor)/(baseline − floor) and learned.

    ``recon`` decodes µ (the evaluation's −log p(x | z = µ)). ``trained_recon`` (one value per row, e.g.
    :func:`trained_reconstruction`): the reconstruction the model was trained on, z ~ q(z|x); given, it adds
    ``trained_ratio`` (the same ratio) and a run learned only when both ratios are ≤ ``t.learned``: the final
    weights alone can pass for a run that sat at the mean image (KL ≈ 0) for nearly all of training and left it in
    its last steps — a model a few steps into learning, not a trained one. A NaN there (no log) counts as not
    learned.
    ``baselines``: dataset name → :func:`mean_image_baseline` dict; a dataset without one raises KeyError.
    """
    need_columns(table, ["dataset", "recon"])
    out = table.copy()
    missing = sorted(set(out["dataset"]) - set(baselines))
    if missing:
        raise KeyError(f"no mean-image baseline for datasets {missing}")
    out["baseline"] = [baselines[d]["baseline"] for d in out["dataset"]]
    out["floor"] = [baselines[d]["floor"] for d in out["dataset"]]
    out["recon_ratio"] = (out["recon"] - out["floor"]) / (out["baseline"] - out["floor"])
    out["learned"] = out["recon_ratio"] <= t.learned
    if trained_recon is not None:
        trained = np.asarray(trained_recon, dtype=np.float64)
        if trained.shape != (len(out),):
            raise ValueError(f"trained_recon needs one value per run ({len(out)}), got shape {trained.shape}")
        out["trained_recon"] = trained
        out["trained_ratio"] = (trained - out["floor"]) / (out["baseline"] - out["floor"])
        out["learned"] = out["learned"] & (out["trained_ratio"] <= t.learned)
    return out


def trained_reconstruction(results, *, share: float = TRAINED_SHARE) -> list[float]:
    """Each run's reconstruction as trained: the mean of its training log's ``recon`` (Bernoulli −log p(x | z),
    z ~ q(z|x), nats per image of the training batches) over the last ``share`` of its steps (at least one step;
    :func:`rtc.experiments.published.trained_recon_at` at the run's last step, the one copy of the formula);
    ``results``: :class:`rtc.experiments.RunResult` s. The comparison's ``recon`` decodes µ instead."""
    out = []
    for r in results:
        log = r.training_log()  # config.steps rows: the run as trained that far
        out.append(trained_recon_at(log["recon"], len(log), share) if "recon" in log else math.nan)
    return out


def _disparity_class(d: float, tc_mean: float, t: Thresholds) -> str:
    if not (math.isfinite(d) and math.isfinite(tc_mean)):
        return "ambiguous"
    if d >= t.disparity_abs and d >= t.disparity_rel * tc_mean:
        return "disparity"
    if d < t.disparity_abs or d < t.none_rel * tc_mean:
        return "none"
    return "ambiguous"


def add_disparity(table: pd.DataFrame, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """Copy of ``table`` with ``disparity`` = TC_mean − TC_sample (nats, Gaussian, all dimensions), the same over
    the active dimensions (``disparity_active``) and ``disparity_class`` (see :class:`Thresholds`)."""
    need_columns(table, ["tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active"])
    out = table.copy()
    out["disparity"] = out["tc_mean"] - out["tc_sample"]
    out["disparity_active"] = out["tc_mean_active"] - out["tc_sample_active"]
    out["disparity_class"] = [_disparity_class(d, m, t) for d, m in zip(out["disparity"], out["tc_mean"],
                                                                        strict=True)]
    return out


def add_regime(table: pd.DataFrame, results, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """Copy of ``table`` with ``band_share`` and ``in_regime``: the paper keeps the revised models' variance term
    Σ_k E[σ_k²] inside (0.01, 0.04) (§3); a revised run (:data:`REVISED`) is *in the paper's regime* when the share
    of the second half of its steps with the term inside that band (from ``results[i].training_log()["var_sum"]``)
    is at least ``t.regime_share`` (½). Other models have no
    band: ``band_share`` NaN, ``in_regime`` True. ``results``: the runs' RunResults in the table's row order."""
    need_columns(table, ["model"])
    if len(results) != len(table):
        raise ValueError(f"{len(results)} results for {len(table)} table rows: they must be in the same order")
    share = [band_share(r.training_log()["var_sum"]) if m in REVISED else math.nan
             for m, r in zip(table["model"], results, strict=True)]
    out = table.copy()
    out["band_share"] = share
    out["in_regime"] = [m not in REVISED or s >= t.regime_share for m, s in zip(out["model"], share, strict=True)]
    return out


def learning_rules(table: pd.DataFrame, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """Both learning rules, per model of a table with :func:`add_learning` applied (with ``trained_recon``): the
    rule fixed first (the reconstruction through µ alone within ``t.learned`` of the mean-image baseline) and the
    rule applied since (also the trained reconstruction, z ~ q — added after runs had been seen). Columns: model,
    runs, "not learned (µ only)", "not learned (µ and trained)", "share not learned" (the applied rule's, with its
    exact Clopper–Pearson interval at :data:`rtc.claims.LEVEL`), and the runs the two rules judge differently."""
    need_columns(table, ["model", "recon_ratio", "trained_ratio", "learned"])
    rows = []
    for m, g in table.groupby("model", sort=False):
        by_mu = g["recon_ratio"] <= t.learned
        k, n = int((~g["learned"].astype(bool)).sum()), len(g)
        lo, hi = binomial_interval(k, n)
        differ = [lab for lab, a, b in zip(run_labels(g), by_mu, g["learned"].astype(bool), strict=True) if a != b]
        rows.append({"model": m, "runs": n, "not learned (µ only)": int((~by_mu).sum()),
                     "not learned (µ and trained)": k,
                     "share not learned": f"{k / n:.0%} [{lo:.0%}, {hi:.0%}]",
                     "judged differently": ", ".join(differ) or "none"})
    return pd.DataFrame(rows, columns=["model", "runs", "not learned (µ only)", "not learned (µ and trained)",
                                       "share not learned", "judged differently"])


def learning_summary(table: pd.DataFrame) -> dict:
    """What the chapter says of the learning check of a table with :func:`add_learning` applied: ``count`` of
    learned runs, ``verdict`` ("every run learned", or "<k> run(s) did not learn: " and their
    :func:`run_labels`), ``worst``, the largest recon_ratio, and ``worst_trained``, the largest trained_ratio
    (NaN without that column)."""
    need_columns(table, ["learned", "recon_ratio"])
    bad = [lab for lab, ok in zip(run_labels(table), table["learned"], strict=True) if not ok]
    verdict = f"{len(bad)} run(s) did not learn: " + ", ".join(bad) if bad else "every run learned"
    trained = float(table["trained_ratio"].max()) if "trained_ratio" in table else math.nan
    return {"count": int(table["learned"].sum()), "verdict": verdict, "worst": float(table["recon_ratio"].max()),
            "worst_trained": trained}
