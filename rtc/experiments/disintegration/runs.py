"""The chapter's steps over the trained grid (a list of ``rtc.experiments.results.RunResult``): find a run,
encode every run (:func:`encode_runs`, and :func:`encode_half` at half training), analyse the encoder means
(:func:`analyse_runs`), pick a run's clearest split (:func:`clearest_split`) and sum the deficits per run
(:func:`deficit_table`, :func:`deficit_shares`).
"""
from __future__ import annotations

import pandas as pd

from rtc.claims import THRESHOLDS, Thresholds
from rtc.experiments.columns import need_columns
from rtc.experiments.dependence import DIP_PENALISED, dip_control_row, dip_failures
from rtc.experiments.selection import END, HALF, active_view
from rtc.gaussian import sample_tc
from rtc.report import run_label

from .common import FACTORISED_MODELS
from .trained import analyse_codes, deficit_summary, most_split_factor

__all__ = ["encode_runs", "encode_half", "active_encodings", "analyse_runs",
           "clearest_split", "deficit_table", "deficit_shares", "tradeoff_dataset", "dip_control_runs"]


def encode_runs(results, *, n: int, seed: int = 0, device=None) -> list:
    """Encode ``n`` images of uniformly drawn factors (seeded, ``rtc.models.encode``) with each run's trained
    model (``RunResult.load_model``, which never trains) on the run's dataset (:data:`rtc.experiments.selection.END`).
    One ``Encoding`` per run, in the order of ``results``: µ, σ, z (n, L), factors (n, F)."""
    return END.encode_all(results, n=n, seed=seed, device=device)


def encode_half(results, *, n: int, seed: int = 0, device=None) -> list:
    """As :func:`encode_runs`, with each run's weight snapshot at half training (step ``config.steps // 2``,
    :data:`rtc.experiments.selection.HALF`); None for a run that kept no snapshot at that step. The same ``seed``
    draws the same factors as :func:`encode_runs` with the same ``n``."""
    return HALF.encode_all(results, n=n, seed=seed, device=device)


def active_encodings(encodings) -> list:
    """Each encoding restricted to its active latents (:func:`rtc.experiments.selection.active_view`), for the
    claims' view over the active latents; None (left out, as by :func:`analyse_runs`) for a None encoding or one
    with fewer than two active latents (no pair to split into)."""
    return [active_view(enc) for enc in encodings]


def analyse_runs(results, encodings, *, max_points: int = 2000, min_score: float = THRESHOLDS.min_score,
                 seed: int = 0) -> pd.DataFrame | None:
    """:func:`analyse_codes` of every run's encoder means: ``encodings[i]`` (anything with ``mu`` (N, L) and
    ``factors`` (N, F), e.g. :func:`encode_runs`' output) belongs to ``results[i]``; a None encoding (a run
    without a half-training snapshot, :func:`encode_half`) leaves that run out. One table, a row per (run,
    score, factor), with the run's position ``run``, ``model``, ``dataset``, ``strength``, ``seed`` and
    ``tc_mean`` (Prop. 1 on the covariance of these µ, nats; ``rtc.gaussian.sample_tc``) added; None when every
    encoding is None."""
    if len(results) != len(encodings):
        raise ValueError(f"{len(results)} results but {len(encodings)} encodings: one encoding per run")
    if not len(results):
        raise ValueError("analyse_runs needs at least one run")
    tables = []
    for i, (res, enc) in enumerate(zip(results, encodings, strict=True)):
        if enc is None:
            continue
        a = analyse_codes(enc.mu, enc.factors, factor_names=res.factor_names, max_points=max_points,
                          min_score=min_score, seed=seed)
        c = res.config
        tables.append(a.assign(run=i, model=c.model, dataset=res.dataset.name, strength=float(c.strength),
                               seed=c.seed, tc_mean=sample_tc(enc.mu)))
    return pd.concat(tables, ignore_index=True) if tables else None


def clearest_split(factors: pd.DataFrame, run: int, *, fallback: bool = False) -> pd.Series | None:
    """The clearest split factor of run ``run`` in an :func:`analyse_runs` table, by normalised MI
    (:func:`most_split_factor`): that factor's "nmi" row (``factor_index``: its column in the factors,
    0 … F − 1), plus ``gap_r2`` (its gap under R²). None when no factor of the run is captured — unless
    ``fallback``: then the factor with the largest split ratio, to show the mechanics (its ``captured`` is False).
    ``ValueError`` when the table has no row of that run."""
    need_columns(factors, ["run", "score", "factor", "gap", "split_ratio", "captured", "dedicated", "disintegrated"])
    nmi = factors[(factors.run == run) & (factors.score == "nmi")].reset_index(drop=True)
    r2 = factors[(factors.run == run) & (factors.score == "r2")].reset_index(drop=True)
    if nmi.empty or len(r2) != len(nmi):
        raise ValueError(f"factors has {len(nmi)} 'nmi' and {len(r2)} 'r2' rows of run {run}; expected one per "
                         "factor under each score")
    pick = most_split_factor(nmi)
    if pick is None:
        if not fallback:
            return None
        pick = int(nmi.split_ratio.fillna(-1).idxmax())
    row = nmi.loc[pick].copy()
    row["gap_r2"] = float(r2.loc[pick].gap)
    return row


def deficit_table(factors: pd.DataFrame, results, score: str) -> pd.DataFrame:
    """Per run (in the order of ``results``), :func:`deficit_summary` of its factors under ``score`` ("r2" → SAP,
    "nmi" → MIG) in an :func:`analyse_runs` table: columns run (:func:`run_label`), model, dataset, deficit,
    explained, share (NaN when the run has no deficit)."""
    if score not in ("r2", "nmi"):
        raise ValueError(f"score must be 'r2' or 'nmi', got {score!r}")
    need_columns(factors, ["run", "score", "deficit", "explained"])
    rows = []
    for i, res in enumerate(results):
        t = factors[(factors.run == i) & (factors.score == score)]
        if t.empty:
            raise ValueError(f"factors has no {score!r} row of run {i} ({run_label(res)})")
        rows.append(dict(run=run_label(res), model=res.config.model, dataset=res.dataset.name, **deficit_summary(t)))
    return pd.DataFrame(rows)


def deficit_shares(deficits: pd.DataFrame) -> dict:
    """Over the runs of a :func:`deficit_table`: ``share`` = 100 · Σ explained / Σ deficit (percent; NaN when
    the deficits sum to 0), and the run with the largest share: ``max_share`` (percent, NaN when no run has a
    share) and ``max_run`` (its label; the first run when none has a share)."""
    need_columns(deficits, ["run", "deficit", "explained", "share"])
    if deficits.empty:
        raise ValueError("deficit_shares needs at least one run")
    total = float(deficits.deficit.sum())
    best = deficits.loc[deficits.share.fillna(-1).idxmax()]
    return {"share": 100 * float(deficits.explained.sum()) / total if total > 0 else float("nan"),
            "max_share": 100 * float(best.share), "max_run": best.run}


def tradeoff_dataset(table: pd.DataFrame) -> str | None:
    """The dataset with the most factorised runs in a grid's table (TC values of different datasets are not
    comparable, so the trade-off is tested on one); the first listed by ``value_counts`` on a tie; None without a
    factorised run."""
    need_columns(table, ["model", "dataset"])
    fz = table[table.model.isin(FACTORISED_MODELS)]
    return fz.dataset.value_counts().index[0] if len(fz) else None


def dip_control_runs(results, encodings, learned=None, th: Thresholds = THRESHOLDS) -> tuple[pd.DataFrame, str]:
    """The DIP positive control on the chapter's runs: per learned DIP-VAE run (``learned``: run positions, None:
    all) :func:`rtc.experiments.dependence.dip_control_row` — the largest |corr| between the active latents of
    what it decorrelates (µ for DIP-VAE-I, z for DIP-VAE-II) against ``th.dip_corr``. Returns (the table: run,
    code, active, max_abs_corr, holds; why the control fails, "" where it holds in every run and there is one)."""
    keep = None if learned is None else set(learned)
    rows = [{"run": run_label(r), **dip_control_row(r.config.model, enc, th.dip_corr)}
            for i, (r, enc) in enumerate(zip(results, encodings, strict=True))
            if r.config.model in DIP_PENALISED and enc is not None and (keep is None or i in keep)]
    table = pd.DataFrame(rows, columns=["run", "code", "active", "max_abs_corr", "holds"])
    if table.empty:
        return table, "no learned DIP-VAE run to control"
    failures = dip_failures(table)
    return table, (f"the DIP positive control fails: max |corr| > {th.dip_corr:g} in {failures}" if failures else "")
