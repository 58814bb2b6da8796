"""What training did, for one run per model: which run is traced, RTC-VAE's η rule in its training log, and what a
latent traversal of its final model needs (its TC along training is its curve: :mod:`rtc.experiments.curves`)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rtc.models import encode
from rtc.models.encoding import active_latents, latent_kl
from rtc.models.eta import BAND, band_share

from ..columns import need_columns
from .constants import MODELS

__all__ = ["traced_runs", "variance_band_summary", "traversal_inputs"]


def traced_runs(table: pd.DataFrame, models=MODELS, *, strength: float = 10.0) -> dict[str, int]:
    """The run traced through training for each of ``models`` that the table has: model → row position (the
    position of its :class:`rtc.experiments.RunResult` in ``run_grid``'s list, which follows the table).

    Per model: the runs with the seed of the table's first run, on dSprites if the model has such runs there,
    else on the first dataset (alphabetical) where it has; among them the strength closest to ``strength`` on a
    log scale (the first in table order on a tie). Models without such a run are left out; the result follows
    the order of ``models``."""
    need_columns(table, ["model", "dataset", "seed", "strength"])
    if table.empty:
        raise ValueError("the run table is empty: no run to trace")
    model, dataset = table["model"].to_numpy(), table["dataset"].to_numpy()
    seed, strengths = table["seed"].to_numpy(), table["strength"].to_numpy(np.float64)
    out = {}
    for m in models:
        for ds in ["dsprites"] + sorted(set(dataset)):
            cand = np.flatnonzero((model == m) & (dataset == ds) & (seed == seed[0]))
            if len(cand):
                out[m] = int(cand[np.argmin(np.abs(np.log(strengths[cand] / strength)))])
                break
    return out


def variance_band_summary(log: pd.DataFrame | None, band=None) -> dict:
    """RTC-VAE's η rule in a per-step training log (columns ``eta``, ``var_sum``): ``final_eta`` (η at the last
    step), ``varsum_final`` (the mean of Σ_k E[σ_k²] over the second half of the steps) and ``band_share``
    (the percentage, 0–100, of those steps with the term strictly inside ``band``, default the η rule's
    :data:`rtc.models.eta.BAND`). ``log`` None (the profile traced no such run) gives NaN for all three."""
    if log is None:
        return {"final_eta": math.nan, "varsum_final": math.nan, "band_share": math.nan}
    need_columns(log, ["eta", "var_sum"])
    if log.empty:
        raise ValueError("the training log is empty")
    tail = log["var_sum"].iloc[len(log) // 2:]
    return {"final_eta": float(log["eta"].iloc[-1]), "varsum_final": float(tail.mean()),
            "band_share": 100 * band_share(log["var_sum"], BAND if band is None else band)}


def traversal_inputs(model, dataset, *, n: int = 1000, seed: int = 0) -> dict:
    """What a latent traversal of ``model`` needs, from µ, σ of ``n`` images of ``dataset`` (seeded): ``base_code``
    (L,) the µ of the first image, ``kl`` (L,) each latent's KL to the prior (nats,
    :func:`rtc.models.encoding.latent_kl`)
    and ``active`` (L,) bool, Var µ_k > :data:`rtc.models.encoding.ACTIVE_VAR`."""
    enc = encode(model, dataset, n=n, seed=seed)
    return {"base_code": enc.mu[0], "kl": latent_kl(enc.mu, enc.sigma), "active": active_latents(enc.mu)}
