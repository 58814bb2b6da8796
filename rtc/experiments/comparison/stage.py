"""The claim quantities and codes of every run at one point of training: the end, or half training."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from rtc.metrics import sap
from rtc.models import representation_stats

from ..columns import need_columns
from ..selection import END, HALF
from .constants import QUANTITIES, STAGE_COLUMNS

__all__ = ["Stage", "claim_stage"]


@dataclass
class Stage:
    """The claim quantities of every run at one point of training (the end, or the snapshot at half training).

    ``table``: one row per run, index 0 … N−1 = the runs' positions, with model, dataset, strength, seed, learned,
    in_regime and the quantity columns (tc_mean, tc_sample, their ``_active`` forms, disparity, disparity_active,
    recon, sap_r2); ``codes``: run position → :class:`rtc.models.encoding.Encoding` of n images (the same images
    for every run of a dataset: seeded), what a one-seed bootstrap over images and the pair tests resample;
    ``missing``: the positions without data at this point (a run without a snapshot at half training)."""
    table: pd.DataFrame
    codes: dict = field(default_factory=dict)
    missing: frozenset = frozenset()


def _code_row(enc) -> dict:
    """The quantity columns of one encoding: Gaussian TCs (all and active latents), reconstruction, and SAP (R²
    form, :func:`rtc.metrics.sap`) of µ against the factors."""
    st = representation_stats(enc)
    return {"tc_mean": st["tc_mean"], "tc_sample": st["tc_sample"], "tc_mean_active": st["tc_mean_active"],
            "tc_sample_active": st["tc_sample_active"], "disparity": st["tc_mean"] - st["tc_sample"],
            "disparity_active": st["tc_mean_active"] - st["tc_sample_active"], "recon": st["recon"],
            "sap_r2": sap(enc.mu, enc.factors, continuous=True).score}


def claim_stage(table: pd.DataFrame, results, datasets: dict, *, half: bool = False, n: int = 2000,
                seed: int = 0) -> Stage:
    """The :class:`Stage` of the claims at the end of training (``half`` False: ``table`` as evaluated, and the
    codes of every run's final model) or at half training (``half`` True: every run's weight snapshot at step
    ``config.steps // 2`` — the table's quantity columns recomputed from its codes (:data:`QUANTITIES`: Gaussian
    TC by :func:`rtc.models.representation_stats`, SAP by :func:`rtc.metrics.sap`), learned and in_regime kept from
    ``table`` so that the same runs count; a run without that snapshot is NaN and in ``missing``).

    ``table``: with :func:`add_learning`, :func:`add_disparity` and :func:`add_regime` applied, index 0 … N−1;
    ``results``: its RunResults in order; ``datasets``: name → loaded dataset; ``n`` images per run (seeded by
    ``seed``: the same images for every run of a dataset)."""
    need_columns(table, STAGE_COLUMNS + QUANTITIES)
    if not table.index.equals(pd.RangeIndex(len(table))) or len(results) != len(table):
        raise ValueError("claim_stage needs a table indexed 0 … N−1 and its N results in the same order")
    view = HALF if half else END
    codes, rows, missing = {}, [], set()
    for i, res in enumerate(results):
        enc = view.encode(res, datasets[table["dataset"].iloc[i]], n=n, seed=seed)
        if enc is None:
            missing.add(i)
            rows.append({q: math.nan for q in QUANTITIES})
            continue
        codes[i] = enc
        if half:
            rows.append(_code_row(enc))
    if not half:
        return Stage(table, codes)
    return Stage(pd.concat([table[STAGE_COLUMNS].reset_index(drop=True), pd.DataFrame(rows)], axis=1), codes,
                 frozenset(missing))
