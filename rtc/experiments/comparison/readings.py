"""Fig. 3-right ("the disparity is evidently remedied") read three ways, side by side: the absolute rule the
claim is judged by since it was fixed (the disparity below ``disparity_abs`` nats), the relative rule it replaced
(below ``none_rel`` × TC_mean), and the comparative reading of the paper's words — the revised model's disparity
as a share of its vanilla model's, same seed and strength, on the log scale (≤ ``none_ratio``). The first two rules
were set after results had been seen; all three are shown so that none is chosen by its outcome."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rtc.claims import THRESHOLDS, Thresholds, interval_verdict, log_ratio_interval, seed_interval

from .cells import pool, same_seed_pairs
from .constants import LABELS, PAIRS
from .stage import Stage

__all__ = ["SIDES", "disparity_readings"]


# Where a reading's interval lies against its threshold, at the end of training only: no plateau test here, so these
# are not verdicts (rtc.claims.trajectory_verdict) — the claim's verdict is the chapter's table's.
SIDES = {"confirmed": "below", "refuted": "not below", "inconclusive": "straddles"}


def _row(reading: str, cell: str, values, threshold: float, iv) -> dict:
    if iv is None:
        shown = ", ".join(f"{v:.3g}" for v in values)
        return {"reading": reading, "cell": cell, "value": f"single run: {shown}" if len(values) == 1 else "no run",
                "threshold": f"< {threshold:g}", "interval lies": "single run" if len(values) == 1 else "no run"}
    return {"reading": reading, "cell": cell, "value": iv.text(), "threshold": f"< {threshold:g}",
            "interval lies": SIDES[interval_verdict(iv, threshold, side="below")]}


def disparity_readings(stage: Stage, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """One row per (reading, revised cell) on the learned dSprites runs in the paper's regime (vanilla runs:
    learned): ``reading`` (absolute, relative, ratio to vanilla), ``cell``, ``value`` (the 90 % interval over
    seeds, or the single run's value: a single run is described, never judged), ``threshold`` and where the
    ``interval lies`` against it at the end of training (:data:`SIDES`: "below", "not below", "straddles")."""
    rows = []
    judged, _ = pool(stage.table, list(PAIRS) + list(PAIRS.values()), ["dsprites"])
    for van, rev in PAIRS.items():
        g_rev = judged[judged["model"] == rev]
        for s, g in g_rev.groupby("strength"):
            cell = f"{LABELS[rev]} {s:g}"
            d = g["disparity"].to_numpy(np.float64)
            rel = d / g["tc_mean"].to_numpy(np.float64)
            for reading, vals, th in (("absolute (nats)", d, t.disparity_abs),
                                      ("relative (share of TC_mean)", rel, t.none_rel)):
                vals = vals[np.isfinite(vals)]
                iv = seed_interval(vals) if len(vals) >= 2 else None
                rows.append(_row(reading, cell, vals, th, iv))
        for (_, s, _), pairs in same_seed_pairs(judged, van, rev).items():
            cell = f"{LABELS[rev]} / {LABELS[van]} {s:g}"
            t_ = stage.table
            # a disparity at or below the registry's floor counts as the floor: a revised model whose disparity
            # vanishes (or is negative: sampling noise) has a ratio, not an undefined logarithm
            num = np.maximum([t_.at[b, "disparity"] for _, b in pairs], t.disparity_floor)
            den = np.asarray([t_.at[a, "disparity"] for a, _ in pairs], dtype=np.float64)
            ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
            iv = log_ratio_interval(num[ok], den[ok]) if ok.sum() >= 2 else None
            rows.append(_row("ratio to vanilla (paired, log scale)", cell, num[ok] / den[ok], t.none_ratio, iv))
    return pd.DataFrame(rows, columns=["reading", "cell", "value", "threshold", "interval lies"])
