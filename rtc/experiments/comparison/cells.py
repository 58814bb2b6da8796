"""The cells a claim is judged in and how their verdicts combine: the statistics of a run's codes, an interval
over seeds, over same-seed pairs or over the images of one run, the top-pair test, and the
:class:`rtc.claims.Observation` of a claim that holds in every cell."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtc.claims import (
    LEVEL,
    Interval,
    Observation,
    all_cells_verdict,
    bootstrap_interval,
    interval_verdict,
    log_ratio_interval,
    seed_interval,
)
from rtc.gaussian import sample_tc
from rtc.models.encoding import active_latents

from ..dependence import top_pair_test
from .constants import REVISED
from .labels import run_labels
from .stage import Stage

__all__ = ["Cell", "statistic", "stage_codes", "verdict_cell", "single_cell", "ratio_cell", "pair_cell", "combine",
           "pool", "regime_text", "observation", "outside_text", "same_seed_pairs"]


@dataclass
class Cell:
    """One cell a claim is judged in: its label, interval (None: nothing to judge), verdict and evidence."""
    label: str
    interval: Interval | None
    verdict: str
    note: str


def statistic(name: str, active: np.ndarray):
    """The quantity ``name`` of a run's codes as a function of (µ, z, recon) arrays — the library's formulas:
    Gaussian TC (:func:`rtc.gaussian.sample_tc`, Proposition 1), over the latents ``active`` (a fixed (L,) mask)
    for a ``*_active`` name; ``recon`` the mean reconstruction error."""
    base = name.removesuffix("_active")

    def stat(mu, z, recon):
        if name.endswith("_active"):
            mu, z = mu[:, active], z[:, active]
        if base == "recon":
            return float(np.mean(recon))
        if base == "tc_mean":
            return sample_tc(mu)
        if base == "tc_sample":
            return sample_tc(z)
        if base == "disparity":
            return sample_tc(mu) - sample_tc(z)
        raise ValueError(f"no statistic of codes named {name!r}")
    return stat


def stage_codes(stage: Stage, row: int):
    if row not in stage.codes or stage.codes[row] is None:
        raise KeyError(f"no codes of run {row} in this stage: a one-seed cell is judged by a bootstrap over its "
                       "images (claim_stage encodes them)")
    return stage.codes[row]


def verdict_cell(label: str, iv: Interval | None, threshold: float, side: str, note: str) -> Cell:
    return Cell(label, iv, interval_verdict(iv, threshold, side=side), note)


def single_cell(stage: Stage, rows, quantity: str, threshold: float, side: str, label: str, *, repeats: int,
                seed: int) -> Cell:
    """A quantity of one model's cell: its interval over seeds when ≥ 2 runs have it finite, else a bootstrap
    over the images of the one run ("one seed")."""
    v = stage.table.loc[rows, quantity].to_numpy(np.float64)
    ok = [r for r, x in zip(rows, v, strict=True) if math.isfinite(x)]
    if len(ok) >= 2:
        iv = seed_interval(stage.table.loc[ok, quantity])
    elif len(ok) == 1:
        enc = stage_codes(stage, ok[0])
        stat = statistic(quantity, active_latents(enc.mu))
        if not math.isfinite(stat(enc.mu, enc.z, enc.recon)):
            return Cell(label, None, "inconclusive", f"{label}: {quantity} is not finite on its codes")
        iv = bootstrap_interval(stat, enc.mu, enc.z, enc.recon, repeats=repeats, seed=seed)
    else:
        return Cell(label, None, "inconclusive", f"{label}: no finite {quantity}")
    return verdict_cell(label, iv, threshold, side, f"{label}: {iv.text()}")


def ratio_cell(stage: Stage, pairs, quantity: str, threshold: float, side: str, label: str, *, minus: float = 0.0,
               repeats: int, seed: int) -> Cell:
    """b/a − ``minus`` of ``quantity`` over same-seed pairs (a, b) of runs. With ≥ 2 pairs whose values are both
    positive and finite: on the log scale — the geometric mean of the per-seed ratios with the exponentiated
    Student-t interval of their mean log (:func:`rtc.claims.log_ratio_interval`, "paired seeds (log ratio)"; it
    never leaves (0, ∞)), minus ``minus``. Else a bootstrap over the images both runs of the one pair encoded
    (the same images: claim_stage seeds them alike)."""
    t = stage.table
    vals = [(a, b, t.at[b, quantity] / t.at[a, quantity] - minus) for a, b in pairs
            if t.at[a, quantity] != 0 and math.isfinite(t.at[a, quantity]) and math.isfinite(t.at[b, quantity])]
    positive = [(a, b) for a, b, _ in vals if t.at[a, quantity] > 0 and t.at[b, quantity] > 0]
    if len(positive) >= 2:
        r = log_ratio_interval([t.at[b, quantity] for _, b in positive], [t.at[a, quantity] for a, _ in positive])
        iv = dataclasses.replace(r, estimate=r.estimate - minus, lo=r.lo - minus, hi=r.hi - minus)
    elif len(vals) == 1 or (len(pairs) == 1 and not vals):
        a, b = vals[0][:2] if vals else pairs[0]
        ea, eb = stage_codes(stage, a), stage_codes(stage, b)
        sa, sb = statistic(quantity, active_latents(ea.mu)), statistic(quantity, active_latents(eb.mu))

        def stat(mu_a, z_a, rec_a, mu_b, z_b, rec_b):  # NumPy division: a TC of 0 (< 2 active latents) gives inf
            return float(np.float64(sb(mu_b, z_b, rec_b)) / sa(mu_a, z_a, rec_a) - minus)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = stat(ea.mu, ea.z, ea.recon, eb.mu, eb.z, eb.recon)
            if not math.isfinite(est):
                return Cell(label, None, "inconclusive", f"{label}: the ratio of {quantity} is not finite")
            iv = bootstrap_interval(stat, ea.mu, ea.z, ea.recon, eb.mu, eb.z, eb.recon, repeats=repeats, seed=seed)
    else:
        return Cell(label, None, "inconclusive", f"{label}: no pair with a finite ratio of {quantity}")
    return verdict_cell(label, iv, threshold, side, f"{label}: {iv.text()}")


def pair_cell(stage: Stage, rows, threshold: float, side: str, label: str, *, permutations: int, k: int,
              seed: int) -> tuple[Cell, list[dict]]:
    """The top-pair test (:func:`rtc.experiments.dependence.top_pair_test` on µ's active latents) of every run
    of a cell; the cell's quantity is the held-out top pair's kNN MI above its permutation null (nats): over seeds
    when ≥ 2 runs have a pair, else the one run's excess with the permutation null's spread as its interval."""
    tests = []
    for r in rows:
        enc = stage_codes(stage, r)
        act = np.flatnonzero(active_latents(enc.mu))
        tests.append({"row": r, **top_pair_test(enc.mu, latents=act, k=k, permutations=permutations, seed=seed)}
                     if len(act) >= 2 else {"row": r, "excess": math.nan, "pvalue": math.nan})
    ok = [x for x in tests if math.isfinite(x["excess"])]
    hits = sum(x["pvalue"] < 0.05 for x in ok)
    note = f"{label}: {hits} of {len(ok)} runs' top pair beats its permutation null at 5 %"
    if len(ok) < len(tests):
        note += f" ({len(tests) - len(ok)} run(s) with fewer than two active latents)"
    if len(ok) >= 2:
        iv = seed_interval([x["excess"] for x in ok])
    elif len(ok) == 1:
        x = ok[0]
        lo, hi = np.quantile(x["null"], [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        iv = Interval(x["excess"], x["knn_mi"] - hi, x["knn_mi"] - lo, 1, "one seed (permutation null)")
    else:
        return Cell(label, None, "inconclusive", note), tests
    return verdict_cell(label, iv, threshold, side, f"{note}; excess MI {iv.text()}"), tests


def combine(cells: list[Cell], side: str) -> tuple[str, Cell | None]:
    """A claim that holds in every cell: refuted when one cell is, confirmed when all are; the deciding cell is
    the first refuted one, else the weakest confirmed one (its interval closest to the threshold), else the first
    inconclusive one. No cell: inconclusive, None."""
    verdict = all_cells_verdict(c.verdict for c in cells)
    if not cells:
        return verdict, None
    if verdict == "refuted":
        return verdict, next(c for c in cells if c.verdict == "refuted")
    if verdict == "confirmed":
        return verdict, min(cells, key=lambda c: c.interval.lo if side == "above" else -c.interval.hi)
    return verdict, next(c for c in cells if c.verdict != "confirmed")


def pool(table: pd.DataFrame, models, datasets=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(judged, outside): the learned runs of ``models`` (on ``datasets``, None: all) in the paper's regime, and
    the learned runs outside it (revised runs whose variance term left the band)."""
    g = table[table["model"].isin(list(models)) & table["learned"].astype(bool)]
    if datasets is not None:
        g = g[g["dataset"].isin(list(datasets))]
    inside = g["in_regime"].astype(bool)
    return g[inside], g[~inside]


def regime_text(table: pd.DataFrame, models) -> str:
    """"k of n runs in the paper's regime" over the learned revised runs of ``models``; "" without revised models."""
    rev = [m for m in models if m in REVISED]
    if not rev:
        return "no η band (vanilla models)"
    g = table[table["model"].isin(rev) & table["learned"].astype(bool)]
    return f"{int(g['in_regime'].astype(bool).sum())} of {len(g)} runs in the paper's regime"


def observation(claim: str, cells: list[Cell], threshold: float, side: str, *, active: list[Cell] | None = None,
                regime: str, evidence: str, rows, values: dict | None = None) -> Observation:
    """The Observation of a claim that holds in every cell (over all latents), with the same over the active
    latents (``active``, None where the quantity does not depend on them) in ``values``."""
    verdict, deciding = combine(cells, side)
    vals = {"rows": sorted(int(r) for r in rows), "side": side, **(values or {})}
    summary = verdict
    if active is not None:
        v_act, d_act = combine(active, side)
        vals["active_verdict"], vals["active_interval"] = v_act, d_act.interval if d_act is not None else None
        if v_act != verdict:
            summary += f" (over the active latents: {v_act})"
    if not cells:
        summary, evidence = "inconclusive: no learned run in the paper's regime to judge", evidence or "No run."
    cell_text = "; ".join(c.note for c in cells)
    if active is not None and active:
        cell_text += ". Over the active latents: " + "; ".join(c.note for c in active)
    ev = " ".join(s for s in (evidence, cell_text + "." if cell_text else "") if s)
    iv = deciding.interval if deciding is not None else None
    return Observation(claim, verdict, summary, ev, vals, iv, threshold, iv.n if iv is not None else 0, regime)


def outside_text(outside: pd.DataFrame) -> str:
    if outside.empty:
        return ""
    return ("Outside the paper's regime (not counted): " + ", ".join(
        f"{lab} (band share {100 * s:.0f} %)" for lab, s in zip(run_labels(outside), outside["band_share"],
                                                                strict=True)) + ".")


def same_seed_pairs(judged: pd.DataFrame, a: str, b: str, *, strength_a=None, strength_b=None):
    """Same-seed pairs (row of model ``a``, row of model ``b``) per (dataset, strength) cell — at the strengths
    given, else at every strength both have; {(dataset, strength of a, strength of b): [(ra, rb), …]}."""
    out = {}
    for ds, g in judged.groupby("dataset"):
        ga, gb = g[g["model"] == a], g[g["model"] == b]
        strengths = ([(strength_a, strength_b)] if strength_a is not None else
                     [(s, s) for s in sorted(set(ga["strength"]) & set(gb["strength"]))])
        for sa, sb in strengths:
            ia = dict(zip(ga.loc[ga["strength"] == sa, "seed"], ga.index[ga["strength"] == sa], strict=True))
            ib = dict(zip(gb.loc[gb["strength"] == sb, "seed"], gb.index[gb["strength"] == sb], strict=True))
            pairs = [(ia[s], ib[s]) for s in sorted(set(ia) & set(ib))]
            if pairs:
                out[(ds, sa, sb)] = pairs
    return out
