"""Sentences for the disintegration chapter's prose: a run's clearest split (:func:`split_texts`) and its top pair
(:func:`pair_text`), with numbers written by :func:`rtc.report.number_text`.
"""
from __future__ import annotations

import pandas as pd

from rtc.report import number_text

from .common import NO_RUN
from .runs import clearest_split

__all__ = ["split_texts", "pair_text"]


def split_texts(results, factors: pd.DataFrame, run: int | None) -> dict:
    """The prose's numbers about run ``run`` (a position in ``results``): ``sap`` and ``mig`` (its evaluation's
    SAP and reference MIG), and of its :func:`clearest_split`: ``split-factor``, ``split-pair`` ("z3, z5"),
    ``split-gap-nmi``, ``split-gap-r2``. All "n/a" when ``run`` is None; the split's "n/a (no captured factor)"
    when no factor of the run is captured."""
    keys = ("split-factor", "split-gap-r2", "split-gap-nmi", "split-pair")
    if run is None:
        return dict.fromkeys(("sap", "mig", *keys), "n/a")
    row = results[run].row
    out = {"sap": number_text(row["sap_r2"]), "mig": number_text(row["mig_ref"])}
    split = clearest_split(factors, run)
    if split is None:
        return {**out, **dict.fromkeys(keys, "n/a (no captured factor)")}
    return {**out, "split-factor": str(split.factor), "split-gap-nmi": number_text(split.gap),
            "split-gap-r2": number_text(split.gap_r2),
            "split-pair": f"z{int(split.top_latent)}, z{int(split.second_latent)}"}


def pair_text(factors: pd.DataFrame, run: int | None) -> str:
    """One sentence on the top pair of run ``run``'s :func:`clearest_split` (with ``fallback``): the factor, its
    two latents and their normalised MI, correlation, kNN MI, excess MI over the Gaussian value, pair NMI and the
    flag. :data:`NO_RUN` when ``run`` is None."""
    if run is None:
        return NO_RUN
    row = clearest_split(factors, run, fallback=True)
    note = "" if row.captured else " (no factor is captured: shown for the mechanics)"
    return (f"factor {row.factor}{note}: latents z{int(row.top_latent)} and z{int(row.second_latent)} (normalised MI "
            f"{row.s1:.2f} and {row.s2:.2f}), corr {number_text(row['corr'])}, kNN MI {number_text(row.knn_mi, '.3f')}"
            f" nats, excess MI over the Gaussian value {number_text(row.excess_mi, '.3f')} nats, pair NMI "
            f"{number_text(row.pair_nmi)}; flagged as disintegrated: {'yes' if row.disintegrated else 'no'}")
