"""The cells a claim is judged in and how their verdicts combine: an interval over seeds or over same-seed pairs
(log-ratios), the top-pair test, a single run (described, never judged), Holm's correction within a claim, and the
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
    holm,
    interval_verdict,
    log_ratio_interval,
    refute_pvalue,
    seed_interval,
)
from rtc.models.encoding import active_latents

from ..dependence import top_pair_test
from .constants import REVISED
from .labels import run_labels
from .stage import Stage

__all__ = ["Cell", "stage_codes", "verdict_cell", "single_run_cell", "gated_text", "single_cell",
           "ratio_cell", "pair_cell", "combine", "pool", "regime_text", "observation", "outside_text",
           "same_seed_pairs", "itt_stage"]


@dataclass
class Cell:
    """One cell a claim is judged in: its label, interval (None: nothing to judge, or a single run), verdict and
    evidence; ``p_refute`` the one-sided p-value against the claim's side (small: the quantity lies on the other
    side of the threshold; NaN where the cell is not judged), which Holm's correction within the claim uses
    (:func:`combine`); ``single`` True for a cell with one run: described, never judged, not counted."""
    label: str
    interval: Interval | None
    verdict: str
    note: str
    p_refute: float = math.nan
    single: bool = False


def stage_codes(stage: Stage, row: int):
    if row not in stage.codes or stage.codes[row] is None:
        raise KeyError(f"no codes of run {row} in this stage: the pair tests read every run's codes (claim_stage "
                       "encodes them)")
    return stage.codes[row]


def verdict_cell(label: str, values, threshold: float, side: str) -> Cell:
    """A cell judged over ≥ 2 seeds: ``values`` the per-seed quantity, its Student-t interval
    (:func:`rtc.claims.seed_interval`), the verdict of that interval against ``threshold`` and the one-sided
    p-value against the claim's side (:func:`rtc.claims.refute_pvalue`) that Holm's correction uses."""
    iv = seed_interval(values)
    return Cell(label, iv, interval_verdict(iv, threshold, side=side), f"{label}: {iv.text()}",
                refute_pvalue(values, threshold, side))


def single_run_cell(label: str, value: float, what: str, gated: str = "") -> Cell:
    """A cell with one run: its value described, never judged (one run says nothing of the seed-to-seed spread
    the claim is about) and not counted; ``gated``: why the cell has one run where the grid had more."""
    return Cell(label, None, "inconclusive", f"{label}: single run, {what} {value:.3g} (described, not judged"
                + (f"; {gated}" if gated else "") + ")", single=True)


def gated_text(stage: Stage, rows_kept, model: str, dataset: str, strength: float) -> str:
    """"gated down to k run(s) of n: <label> not learned, <label> outside the regime" where the learning check
    or the regime gate left fewer runs of (model, dataset, strength) than the stage has; "" where none was left
    out. ``rows_kept``: the cell's runs that count."""
    t = stage.table
    g = t[(t["model"] == model) & (t["dataset"] == dataset) & (t["strength"] == strength)]
    dropped = g.drop(index=[r for r in rows_kept if r in g.index])
    if dropped.empty:
        return ""
    why = [f"{lab} {'not learned' if not bool(ok) else 'outside the regime'}"
           for lab, ok in zip(run_labels(dropped), dropped["learned"], strict=True)]
    return f"gated down to {len(g) - len(dropped)} run(s) of {len(g)}: " + ", ".join(why)


def single_cell(stage: Stage, rows, quantity: str, threshold: float, side: str, label: str) -> Cell:
    """A quantity of one model's cell: its interval over seeds when ≥ 2 runs have it finite; one run is
    described (:func:`single_run_cell`)."""
    v = stage.table.loc[rows, quantity].to_numpy(np.float64)
    ok = [r for r, x in zip(rows, v, strict=True) if math.isfinite(x)]
    if len(ok) >= 2:
        return verdict_cell(label, stage.table.loc[ok, quantity], threshold, side)
    if len(ok) == 1:
        r = stage.table.loc[ok[0]]
        return single_run_cell(label, float(r[quantity]), quantity,
                               gated_text(stage, ok, r["model"], r["dataset"], r["strength"]))
    return Cell(label, None, "inconclusive", f"{label}: no finite {quantity}")


def ratio_cell(stage: Stage, pairs, quantity: str, threshold: float, side: str, label: str, *,
               minus: float = 0.0, floor: float = 0.0) -> Cell:
    """b/a − ``minus`` of ``quantity`` over same-seed pairs (a, b) of runs, on the log scale: the geometric mean of
    the per-seed ratios with the exponentiated Student-t interval of their mean log ("paired seeds (log ratio)"; it
    never leaves (0, ∞)), minus ``minus``; ≥ 2 pairs whose values are positive and finite. ``floor``: a numerator
    at or below it counts as ``floor`` (a disparity that vanished has a ratio, not an undefined log). One pair is
    described (:func:`single_run_cell`)."""
    t = stage.table
    num = {b: max(float(t.at[b, quantity]), floor) for _, b in pairs}
    ok = [(a, b) for a, b in pairs if math.isfinite(t.at[a, quantity]) and math.isfinite(num[b])
          and t.at[a, quantity] > 0 and num[b] > 0]
    if len(ok) >= 2:
        b_, a_ = np.array([num[b] for _, b in ok]), np.array([t.at[a, quantity] for a, _ in ok], dtype=np.float64)
        r = log_ratio_interval(b_, a_)
        iv = dataclasses.replace(r, estimate=r.estimate - minus, lo=r.lo - minus, hi=r.hi - minus)
        # the p-value on the scale the interval was made on: the log-ratios against log(threshold + minus)
        p = refute_pvalue(np.log(b_ / a_), math.log(threshold + minus), side)
        return Cell(label, iv, interval_verdict(iv, threshold, side=side), f"{label}: {iv.text()}", p)
    if len(ok) == 1:
        a, b = ok[0]
        return single_run_cell(label, num[b] / t.at[a, quantity] - minus, f"ratio of {quantity}")
    return Cell(label, None, "inconclusive", f"{label}: no pair with a positive, finite ratio of {quantity}")


def pair_cell(stage: Stage, rows, threshold: float, side: str, label: str, *, permutations: int, k: int,
              seed: int, alpha: float, beyond_gaussian: bool = False) -> tuple[Cell, list[dict]]:
    """The top-pair test (:func:`rtc.experiments.dependence.top_pair_test` on µ's active latents) of every run
    of a cell; the cell's quantity is the held-out top pair's kNN MI above its permutation null (nats) — and, with
    ``beyond_gaussian``, also above the Gaussian MI of its correlation, −½ log(1 − ρ²): the dependence that
    correlation does not explain — over seeds when ≥ 2 runs have a pair; one run is described. ``alpha``: the
    level at which a run's top pair "beats its null" in the note."""
    tests = []
    for r in rows:
        enc = stage_codes(stage, r)
        act = np.flatnonzero(active_latents(enc.mu))
        x = ({"row": r, **top_pair_test(enc.mu, latents=act, k=k, permutations=permutations, seed=seed)}
             if len(act) >= 2 else {"row": r, "excess": math.nan, "pvalue": math.nan, "corr": math.nan})
        x["gaussian_mi"] = -0.5 * math.log1p(-min(x["corr"] ** 2, 1 - 1e-12)) if math.isfinite(x["corr"]) \
            else math.nan
        x["quantity"] = x["excess"] - (x["gaussian_mi"] if beyond_gaussian else 0.0)
        tests.append(x)
    ok = [x for x in tests if math.isfinite(x["quantity"])]
    hits = sum(x["pvalue"] < alpha for x in ok)
    what = "excess MI beyond null and Gaussian" if beyond_gaussian else "excess MI"
    note = f"{label}: {hits} of {len(ok)} runs' top pair beats its permutation null at {100 * alpha:g} %"
    if len(ok) < len(tests):
        note += f" ({len(tests) - len(ok)} run(s) with fewer than two active latents)"
    if len(ok) >= 2:
        cell = verdict_cell(label, [x["quantity"] for x in ok], threshold, side)
        cell.note = f"{note}; {what} {cell.interval.text()}"
        if beyond_gaussian:  # the reading this replaced: the excess over the null alone (it counts correlation)
            old = seed_interval([x["excess"] for x in ok])
            cell.note += (f"; over the null alone (the rule before): {old.text()} → "
                          f"{interval_verdict(old, threshold, side=side)}")
        return cell, tests
    if len(ok) == 1:
        cell = single_run_cell(label, ok[0]["quantity"], what)
        cell.note += "; " + note.removeprefix(f"{label}: ")
        return cell, tests
    return Cell(label, None, "inconclusive", note), tests


def combine(cells: list[Cell], side: str, *, alpha: float = 1 - (1 + LEVEL) / 2) -> tuple[str, Cell | None]:
    """A claim that holds in every cell. Single-run cells are described, not counted. Over the judged cells:
    confirmed when every one is (each interval on the claim's side — an intersection–union test needs no
    correction); refuted when a cell's refutation survives Holm's correction over the judged cells at ``alpha``
    (:func:`rtc.claims.holm` of their :attr:`Cell.p_refute`); inconclusive otherwise, and without a judged cell.
    The deciding cell is the first refuted one, else the weakest confirmed one (its interval closest to the
    threshold), else the first undecided one, else the first single run."""
    if not cells:
        return "inconclusive", None
    judged = [c for c in cells if not c.single and c.interval is not None]
    if not judged:
        return "inconclusive", next((c for c in cells if c.single), cells[0])
    _, rejected = holm([c.p_refute for c in judged], alpha=alpha)
    refuted = [c for c, r in zip(judged, rejected, strict=True) if r and c.verdict == "refuted"]
    for c in judged:  # a refutation Holm does not keep leaves the cell undecided, said in its note
        if c.verdict == "refuted" and c not in refuted:
            c.verdict, c.note = "inconclusive", c.note + " (refuted alone, not after Holm's correction)"
    if refuted:
        return "refuted", refuted[0]
    if all(c.verdict == "confirmed" for c in judged):
        return "confirmed", min(judged, key=lambda c: c.interval.lo if side == "above" else -c.interval.hi)
    return "inconclusive", next(c for c in judged if c.verdict != "confirmed")


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
                regime: str, evidence: str, rows, outside: pd.DataFrame | None = None,
                values: dict | None = None) -> Observation:
    """The Observation of a claim that holds in every cell (over all latents), with the same over the active
    latents (``active``, None where the quantity does not depend on them) in ``values``; ``outside``: the learned
    runs the regime gate left out (:func:`pool`), their positions in ``values["outside"]``."""
    verdict, deciding = combine(cells, side)
    vals = {"rows": sorted(int(r) for r in rows), "side": side,
            "outside": [] if outside is None else sorted(int(r) for r in outside.index), **(values or {})}
    summary = verdict
    if active is not None:
        v_act, d_act = combine(active, side)
        vals["active_verdict"], vals["active_interval"] = v_act, d_act.interval if d_act is not None else None
        if v_act != verdict:
            summary += f" (over the active latents: {v_act})"
    singles = sum(c.single for c in cells)
    if not cells:
        summary, evidence = "inconclusive: no learned run in the paper's regime to judge", evidence or "No run."
    elif singles == len(cells):
        summary = "inconclusive: single runs only (described, not judged)"
    elif singles:
        summary += f" ({singles} single-run cell(s) described, not counted)"
    cell_text = "; ".join(c.note for c in cells)
    if active is not None and active:
        cell_text += ". Over the active latents: " + "; ".join(c.note for c in active)
    ev = " ".join(s for s in (evidence, cell_text + "." if cell_text else "") if s)
    iv = deciding.interval if deciding is not None else None
    return Observation(claim, verdict, summary, ev, vals, iv, threshold, iv.n if iv is not None else 0, regime)


def outside_text(outside: pd.DataFrame, quantity: str | None = None) -> str:
    """The learned runs a claim leaves out as outside the paper's regime, each named with its band share and, given
    ``quantity`` (a column of ``outside``), its value: what the intention-to-treat view (:func:`itt_stage`) adds."""
    if outside.empty:
        return ""
    values = outside[quantity] if quantity is not None else [None] * len(outside)
    return ("Outside the paper's regime (not counted; counted in the intention-to-treat view): " + ", ".join(
        f"{lab} (band share {100 * s:.0f} %" + (f", {quantity} {v:.3g})" if v is not None else ")")
        for lab, s, v in zip(run_labels(outside), outside["band_share"], values, strict=True)) + ".")


def itt_stage(stage: Stage) -> Stage:
    """``stage`` with every learned run counted (intention to treat): the regime gate on the revised models'
    variance term (set after runs were seen) lifted, ``in_regime`` True for every run."""
    table = stage.table.copy()
    table["in_regime"] = True
    return dataclasses.replace(stage, table=table)


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
