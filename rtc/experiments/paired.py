"""Paired comparisons over a run table: two settings of one factor (fp32 against bf16, vanilla against revised),
each pair of runs sharing its seed — the same initial weights and the same batches — so the seed's own effect
cancels in the difference.

:func:`paired_table` gives, per group (e.g. model) and metric, the mean paired difference ``b − a`` with its
Student-t interval (:func:`rtc.claims.paired_difference`), the seed-to-seed spread of each setting (the sample
standard deviation over seeds) and a verdict of :func:`rtc.claims.equivalence_verdict` with the pooled spread as
the margin: *equivalent* when the whole interval lies within one seed-to-seed standard deviation of 0
(*identical* when every pair agrees exactly).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rtc.claims import equivalence_verdict, paired_difference

__all__ = ["paired_table"]


def paired_table(table: pd.DataFrame, *, factor: str, a, b, metrics, group=("model", "strength", "dataset"),
                 pair_on: str = "seed", level: float = 0.9) -> pd.DataFrame:
    """One row per (group…, metric): ``n`` pairs, ``a_mean``, ``b_mean``, ``diff`` (mean of b − a), ``lo``/``hi``
    (its ``level`` interval), ``a_sd``/``b_sd`` (seed-to-seed standard deviations), ``spread`` (their pooled value,
    the margin), ``diff_over_spread`` and ``verdict`` (equivalent / different / inconclusive, or identical when
    both settings gave the same value in every one of ≥ 2 pairs).

    ``table``: one row per run with the columns ``factor``, ``pair_on``, the ``group`` columns and ``metrics``. A
    run without its partner (same group and seed, other setting) is left out. Raises ``KeyError`` naming a missing
    column and ``ValueError`` when a (group, seed, setting) appears twice.
    """
    group = list(group)
    missing = [c for c in (factor, pair_on, *group, *metrics) if c not in table.columns]
    if missing:
        raise KeyError(f"table lacks the columns {missing}; it has {list(table.columns)}")
    sub = table[table[factor].isin([a, b])]
    dup = sub.duplicated(group + [pair_on, factor])
    if dup.any():
        raise ValueError(f"runs repeated for one (group, {pair_on}, {factor}): "
                         f"{sub[dup][group + [pair_on]].values.tolist()}")
    rows = []
    for key, g in sub.groupby(group, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        wide = g.pivot(index=pair_on, columns=factor, values=list(metrics))
        for m in metrics:
            if (m, a) not in wide.columns or (m, b) not in wide.columns:
                continue
            pair = wide[[(m, a), (m, b)]].dropna()
            va, vb = pair[(m, a)].to_numpy(np.float64), pair[(m, b)].to_numpy(np.float64)
            r = paired_difference(va, vb, level=level)
            sd_a = float(va.std(ddof=1)) if len(va) > 1 else math.nan
            sd_b = float(vb.std(ddof=1)) if len(vb) > 1 else math.nan
            spread = math.sqrt((sd_a ** 2 + sd_b ** 2) / 2)
            rows.append({**dict(zip(group, key, strict=True)), "metric": m, "n": r["n"],
                         "a_mean": float(va.mean()) if len(va) else math.nan,
                         "b_mean": float(vb.mean()) if len(vb) else math.nan, "diff": r["mean"], "lo": r["lo"],
                         "hi": r["hi"], "a_sd": sd_a, "b_sd": sd_b, "spread": spread,
                         "diff_over_spread": abs(r["mean"]) / spread if spread > 0 else math.nan,
                         # the same value in every pair (e.g. every run keeps all 10 latents active): no spread to
                         # compare with, and none needed
                         "verdict": "identical" if len(va) > 1 and np.array_equal(va, vb)
                         else equivalence_verdict(r["lo"], r["hi"], spread)})
    return pd.DataFrame(rows)
