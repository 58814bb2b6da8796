"""The model comparison of the paper's §5.1–5.2 as library calls: learning checks, TC traces, claims with verdicts.

The comparison chapter trains the profile's grid through :func:`rtc.sweep.run_grid` (a table, one row per run,
and the runs' :class:`rtc.experiments.RunResult` s in the same order) and then calls:

- :func:`mean_image_baseline` — the reconstruction error of a model that ignores its input and predicts the mean
  image, and the error's floor (the targets' own Bernoulli entropy: 0 for binary dSprites, > 0 for the
  continuous Shapes3D pixels); :func:`add_learning` marks a run as *learned* when its reconstruction — through µ,
  and as trained (:func:`trained_reconstruction`, z ~ q(z|x)) — is at most ``Thresholds.learned`` (½) of the
  baseline, both measured above the floor; :func:`learning_summary`;
- :func:`add_disparity` — TC_mean − TC_sample per run (all and active latents) and its class ("disparity",
  "none", "ambiguous"), a description of each run;
- :func:`add_regime` — per revised run the share of the second half of training with its variance term inside the
  paper's band (0.01, 0.04), and whether it is in the paper's regime;
- :func:`claim_stage` — the claim quantities and codes of every run at the end of training or at half training
  (the weight snapshot at steps/2);
- :func:`check_claims` — one :class:`rtc.claims.Observation` per claim of §5.1–5.2 (:data:`CLAIMS`: Figs 3, 4, 9a,
  9b, 9d and §5.2's DIP-VAE and RTC-VAE claims), each a quantity with a 90 % interval — over seeds, paired by seed,
  or over the images of a one-seed run — judged against a threshold of :class:`rtc.claims.Thresholds`, at the end
  and at half training; :func:`rtc.claims.verdict_table` sets them side by side;
- :func:`traced_runs`, :func:`snapshot_trace`, :func:`variance_band_summary`, :func:`traversal_inputs` — what
  training did (TC over training from the weight snapshots, RTC-VAE's η and variance term) for one run per model;
- :func:`pair_codes`, :func:`pair_summary` — the most dependent latent pairs of a run;
- :func:`theorem1_table`, :func:`theorem1_summary` — Theorem 1's noise range and bound on every trained encoder;
- :func:`run_labels`, :func:`run_label`, :func:`run_table`, :func:`shown_run_table`, :func:`tc_mean_side_by_side`
  — labels and tables (the run table is also written as CSV by the chapter).

Verdict words: ``confirmed`` / ``refuted`` (the whole interval on the claim's side of its threshold / on the other
side), ``inconclusive`` (the interval straddles it, or no learned run in the paper's regime to judge) and ``not
converged`` (confirmed at the end of training and refuted at half training, or the reverse).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rtc.claims import (
    LEVEL,
    THRESHOLDS,
    Interval,
    Observation,
    Thresholds,
    band_verdict,
    bootstrap_interval,
    convergence_verdict,
    interval_verdict,
    seed_interval,
    spearman_bootstrap,
)
from rtc.models.encoding import active_latents, latent_kl

__all__ = ["PAIRS", "REVISED", "LABELS", "MODELS", "SIDE_MODELS", "CLAIMS", "QUANTITIES", "STAGE_COLUMNS", "Stage",
           "mean_image_baseline", "add_learning", "trained_reconstruction", "add_disparity", "add_regime",
           "claim_stage", "tc_estimator_text",
           "seed_cells", "one_seed_text", "claim_disparity", "claim_revised_lower", "claim_rtc_recon", "claim_tc_sap",
           "claim_lower_than_factor_vae", "claim_pairwise", "learning_summary", "check_claims",
           "run_labels", "run_label", "traced_runs", "snapshot_trace",
           "variance_band_summary", "traversal_inputs", "pair_codes", "pair_summary", "noise_range", "theorem1_row",
           "theorem1_table", "theorem1_summary", "run_table", "shown_run_table", "tc_mean_side_by_side",
           "TABLE_COLUMNS", "describe_grid", "paper_cost"]

# vanilla model → its revised form (the paper's "revised β-VAE" and RTC-VAE = revised FactorVAE)
PAIRS = {"beta_vae": "revised_beta_vae", "factor_vae": "rtc_vae"}
# the models whose variance term the η rule keeps in the paper's band (their claims count only runs in that regime)
REVISED = ("revised_beta_vae", "rtc_vae", "revised_factor_vae")
LABELS = {"beta_vae": "β-VAE", "revised_beta_vae": "revised β-VAE", "factor_vae": "FactorVAE", "rtc_vae": "RTC-VAE",
          "beta_tcvae": "β-TCVAE", "dip_vae_i": "DIP-VAE-I", "dip_vae_ii": "DIP-VAE-II",
          "revised_factor_vae": "revised FactorVAE"}
# the comparison's models in the order its figures list them (and the models traced through training)
MODELS = ("beta_vae", "revised_beta_vae", "factor_vae", "rtc_vae", "beta_tcvae", "dip_vae_i", "dip_vae_ii")
# the models whose TC_mean the appendix's Fig. 9d sets side by side
SIDE_MODELS = ("factor_vae", "dip_vae_i", "dip_vae_ii", "rtc_vae")


# ------------------------------------------------------------------------------------------------ learning

def mean_image_baseline(dataset, n: int = 2000, *, seed: int = 0, batch_size: int = 500) -> dict:
    """Reconstruction error (Bernoulli −log p(x), nats per image, summed over pixels) of predicting the mean image.

    ``n`` images of uniformly drawn factors (seeded, as :func:`rtc.models.encode` draws them). Returns
    ``{"baseline": E_x[BCE(x, x̄)], "floor": E_x[Σ_pixels H_b(x)], "n": n}`` where x̄ is the pixel-wise mean of the
    same images and H_b the binary entropy of the target itself — the smallest value a Bernoulli
    reconstruction error can take (0 for binary images). p is clipped to [1e-7, 1 − 1e-7] (a pixel that is 0
    in every image would otherwise give 0·log 0).
    """
    if not (isinstance(n, int) and n >= 2):
        raise ValueError(f"n must be an integer ≥ 2, got {n!r}")
    rng = np.random.default_rng(seed)
    factors = dataset.sample_factors(n, rng)
    parts = [dataset.observations(factors[i:i + batch_size]).double().numpy() for i in range(0, n, batch_size)]
    x = np.concatenate(parts)
    p = np.clip(x.mean(0), 1e-7, 1 - 1e-7)
    bce = -(x * np.log(p) + (1 - x) * np.log1p(-p)).reshape(n, -1).sum(1)
    xc = np.clip(x, 1e-12, 1 - 1e-12)
    ent = -(x * np.log(xc) + (1 - x) * np.log1p(-xc)).reshape(n, -1).sum(1)
    return {"baseline": float(bce.mean()), "floor": float(ent.mean()), "n": n}


def _need(table: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"the run table lacks columns {missing}")


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
    _need(table, ["dataset", "recon"])
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


def trained_reconstruction(results, *, share: float = 0.1) -> list[float]:
    """Each run's reconstruction as trained: the mean of its training log's ``recon`` (Bernoulli −log p(x | z),
    z ~ q(z|x), nats per image of the training batches) over the last ``share`` of its steps (at least one step);
    ``results``: :class:`rtc.experiments.RunResult` s. The comparison's ``recon`` decodes µ instead."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    out = []
    for r in results:
        log = r.training_log()
        last = log.tail(max(1, int(round(share * len(log)))))
        out.append(float(last["recon"].mean()) if "recon" in last else math.nan)
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
    _need(table, ["tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active"])
    out = table.copy()
    out["disparity"] = out["tc_mean"] - out["tc_sample"]
    out["disparity_active"] = out["tc_mean_active"] - out["tc_sample_active"]
    out["disparity_class"] = [_disparity_class(d, m, t) for d, m in zip(out["disparity"], out["tc_mean"],
                                                                        strict=True)]
    return out


# ------------------------------------------------------------------------------------------------ regime and stages

def add_regime(table: pd.DataFrame, results, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """Copy of ``table`` with ``band_share`` and ``in_regime``: the paper keeps the revised models' variance term
    Σ_k E[σ_k²] inside (0.01, 0.04) (§3); a revised run (:data:`REVISED`) is *in the paper's regime* when the share
    of the second half of its steps with the term inside that band (from ``results[i].training_log()["var_sum"]``)
    is at least ``t.regime_share`` (½). Other models have no
    band: ``band_share`` NaN, ``in_regime`` True. ``results``: the runs' RunResults in the table's row order."""
    _need(table, ["model"])
    if len(results) != len(table):
        raise ValueError(f"{len(results)} results for {len(table)} table rows: they must be in the same order")
    from rtc.models.eta import band_share

    share = [band_share(r.training_log()["var_sum"]) if m in REVISED else math.nan
             for m, r in zip(table["model"], results, strict=True)]
    out = table.copy()
    out["band_share"] = share
    out["in_regime"] = [m not in REVISED or s >= t.regime_share for m, s in zip(out["model"], share, strict=True)]
    return out


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


STAGE_COLUMNS = ["model", "dataset", "strength", "seed", "learned", "in_regime", "band_share"]
QUANTITIES = ["tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active", "disparity", "disparity_active",
              "recon", "sap_r2"]


def _code_row(enc) -> dict:
    """The quantity columns of one encoding: Gaussian TCs (all and active latents), reconstruction, and SAP (R²
    form, :func:`rtc.metrics.sap`) of µ against the factors."""
    from rtc.metrics import sap
    from rtc.models import representation_stats

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
    from rtc.models import encode

    _need(table, STAGE_COLUMNS + QUANTITIES)
    if not table.index.equals(pd.RangeIndex(len(table))) or len(results) != len(table):
        raise ValueError("claim_stage needs a table indexed 0 … N−1 and its N results in the same order")
    codes, rows, missing = {}, [], set()
    for i, res in enumerate(results):
        ds = datasets[table["dataset"].iloc[i]]
        if not half:
            codes[i] = encode(res.load_model(), ds, n=n, seed=seed)
            continue
        step = res.config.steps // 2
        if step not in res.snapshots:
            missing.add(i)
            rows.append({q: math.nan for q in QUANTITIES})
            continue
        codes[i] = encode(res.load_snapshot(step), ds, n=n, seed=seed)
        rows.append(_code_row(codes[i]))
    if not half:
        return Stage(table, codes)
    return Stage(pd.concat([table[STAGE_COLUMNS].reset_index(drop=True), pd.DataFrame(rows)], axis=1), codes,
                 frozenset(missing))


def tc_estimator_text(results, model: str = "beta_tcvae") -> str:
    """Which TC estimator trained the first run of ``model`` in ``results`` and at which batch size, e.g. "MSS1
    at batch 32" (the estimator of its ``TrainConfig``, the objective's default where unset); "not trained in this
    profile" without such a run."""
    for r in results:
        if r.config.model == model:
            return f"{str(r.config.objective().tc_estimator).upper()} at batch {r.config.batch_size}"
    return "not trained in this profile"


def seed_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The grid's cells (model, dataset, strength) with their number of seeds, sorted by dataset, model and
    strength: a cell with one seed is judged by a bootstrap over images and describes that run only."""
    _need(table, ["model", "dataset", "strength", "seed"])
    g = table.groupby(["dataset", "model", "strength"])["seed"].nunique().rename("seeds").reset_index()
    return g[["model", "dataset", "strength", "seeds"]]


def one_seed_text(table: pd.DataFrame) -> str:
    """The one-seed cells of a run table as text, e.g. "β-TCVAE 10, RTC-VAE 20" ("none" when every cell has
    seeds to compare)."""
    c = seed_cells(table)
    c = c[c["seeds"] == 1]
    return ", ".join(f"{LABELS.get(m, m)} {s:g}" + ("" if d == "dsprites" else f" ({d})")
                     for m, d, s in zip(c["model"], c["dataset"], c["strength"], strict=True)) or "none"


# ------------------------------------------------------------------------------------------------ claims

@dataclass
class _Cell:
    """One cell a claim is judged in: its label, interval (None: nothing to judge), verdict and evidence."""
    label: str
    interval: Interval | None
    verdict: str
    note: str


def _statistic(name: str, active: np.ndarray):
    """The quantity ``name`` of a run's codes as a function of (µ, z, recon) arrays — the library's formulas:
    Gaussian TC (:func:`rtc.gaussian.sample_tc`, Proposition 1), over the latents ``active`` (a fixed (L,) mask)
    for a ``*_active`` name; ``recon`` the mean reconstruction error."""
    from rtc.gaussian import sample_tc

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


def _active(enc) -> np.ndarray:
    """The active latents of an encoding (:func:`rtc.models.encoding.active_latents` of its µ)."""

    return active_latents(enc.mu)


def _codes(stage: Stage, row: int):
    if row not in stage.codes or stage.codes[row] is None:
        raise KeyError(f"no codes of run {row} in this stage: a one-seed cell is judged by a bootstrap over its "
                       "images (claim_stage encodes them)")
    return stage.codes[row]


def _verdict_cell(label: str, iv: Interval | None, threshold: float, side: str, note: str) -> _Cell:
    return _Cell(label, iv, interval_verdict(iv, threshold, side=side), note)


def _single_cell(stage: Stage, rows, quantity: str, threshold: float, side: str, label: str, *, repeats: int,
                 seed: int) -> _Cell:
    """A quantity of one model's cell: its interval over seeds when ≥ 2 runs have it finite, else a bootstrap
    over the images of the one run ("one seed")."""
    v = stage.table.loc[rows, quantity].to_numpy(np.float64)
    ok = [r for r, x in zip(rows, v, strict=True) if math.isfinite(x)]
    if len(ok) >= 2:
        iv = seed_interval(stage.table.loc[ok, quantity])
    elif len(ok) == 1:
        enc = _codes(stage, ok[0])
        stat = _statistic(quantity, _active(enc))
        if not math.isfinite(stat(enc.mu, enc.z, enc.recon)):
            return _Cell(label, None, "inconclusive", f"{label}: {quantity} is not finite on its codes")
        iv = bootstrap_interval(stat, enc.mu, enc.z, enc.recon, repeats=repeats, seed=seed)
    else:
        return _Cell(label, None, "inconclusive", f"{label}: no finite {quantity}")
    return _verdict_cell(label, iv, threshold, side, f"{label}: {iv.text()}")


def _ratio_cell(stage: Stage, pairs, quantity: str, threshold: float, side: str, label: str, *, minus: float = 0.0,
                repeats: int, seed: int) -> _Cell:
    """b/a − ``minus`` of ``quantity`` over same-seed pairs (a, b) of runs: the mean of the per-seed values with
    its interval ("paired seeds") when ≥ 2 pairs have it finite, else a bootstrap over the images both runs of the
    one pair encoded (the same images: claim_stage seeds them alike)."""
    t = stage.table
    vals = [(a, b, t.at[b, quantity] / t.at[a, quantity] - minus) for a, b in pairs
            if t.at[a, quantity] != 0 and math.isfinite(t.at[a, quantity]) and math.isfinite(t.at[b, quantity])]
    if len(vals) >= 2:
        iv = dataclasses.replace(seed_interval([v for *_, v in vals]), basis="paired seeds")
    elif len(vals) == 1 or (len(pairs) == 1 and not vals):
        a, b = vals[0][:2] if vals else pairs[0]
        ea, eb = _codes(stage, a), _codes(stage, b)
        sa, sb = _statistic(quantity, _active(ea)), _statistic(quantity, _active(eb))

        def stat(mu_a, z_a, rec_a, mu_b, z_b, rec_b):  # NumPy division: a TC of 0 (< 2 active latents) gives inf
            return float(np.float64(sb(mu_b, z_b, rec_b)) / sa(mu_a, z_a, rec_a) - minus)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = stat(ea.mu, ea.z, ea.recon, eb.mu, eb.z, eb.recon)
            if not math.isfinite(est):
                return _Cell(label, None, "inconclusive", f"{label}: the ratio of {quantity} is not finite")
            iv = bootstrap_interval(stat, ea.mu, ea.z, ea.recon, eb.mu, eb.z, eb.recon, repeats=repeats, seed=seed)
    else:
        return _Cell(label, None, "inconclusive", f"{label}: no pair with a finite ratio of {quantity}")
    return _verdict_cell(label, iv, threshold, side, f"{label}: {iv.text()}")


def _combine(cells: list[_Cell], side: str) -> tuple[str, _Cell | None]:
    """A claim that holds in every cell: refuted when one cell is, confirmed when all are; the deciding cell is
    the first refuted one, else the weakest confirmed one (its interval closest to the threshold), else the first
    inconclusive one. No cell: inconclusive, None."""
    if not cells:
        return "inconclusive", None
    refuted = [c for c in cells if c.verdict == "refuted"]
    if refuted:
        return "refuted", refuted[0]
    if all(c.verdict == "confirmed" for c in cells):
        weakest = min(cells, key=lambda c: c.interval.lo if side == "above" else -c.interval.hi)
        return "confirmed", weakest
    return "inconclusive", next(c for c in cells if c.verdict != "confirmed")


def _runs_text(table: pd.DataFrame, rows) -> str:
    return ", ".join(lab for lab in run_labels(table.loc[list(rows)])) or "none"


def _pool(table: pd.DataFrame, models, datasets=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(judged, outside): the learned runs of ``models`` (on ``datasets``, None: all) in the paper's regime, and
    the learned runs outside it (revised runs whose variance term left the band)."""
    g = table[table["model"].isin(list(models)) & table["learned"].astype(bool)]
    if datasets is not None:
        g = g[g["dataset"].isin(list(datasets))]
    inside = g["in_regime"].astype(bool)
    return g[inside], g[~inside]


def _regime(table: pd.DataFrame, models) -> str:
    """"k of n runs in the paper's regime" over the learned revised runs of ``models``; "" without revised models."""
    rev = [m for m in models if m in REVISED]
    if not rev:
        return "no η band (vanilla models)"
    g = table[table["model"].isin(rev) & table["learned"].astype(bool)]
    return f"{int(g['in_regime'].astype(bool).sum())} of {len(g)} runs in the paper's regime"


def _observation(claim: str, cells: list[_Cell], threshold: float, side: str, *, active: list[_Cell] | None = None,
                 regime: str, evidence: str, rows, values: dict | None = None) -> Observation:
    """The Observation of a claim that holds in every cell (over all latents), with the same over the active
    latents (``active``, None where the quantity does not depend on them) in ``values``."""
    verdict, deciding = _combine(cells, side)
    vals = {"rows": sorted(int(r) for r in rows), "side": side, **(values or {})}
    summary = verdict
    if active is not None:
        v_act, d_act = _combine(active, side)
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


def _outside_text(outside: pd.DataFrame) -> str:
    if outside.empty:
        return ""
    return ("Outside the paper's regime (not counted): " + ", ".join(
        f"{lab} (band share {100 * s:.0f} %)" for lab, s in zip(run_labels(outside), outside["band_share"],
                                                                 strict=True)) + ".")


def claim_disparity(stage: Stage, model: str, t: Thresholds = THRESHOLDS, *, none: bool = False,
                    repeats: int = 1000, seed: int = 0) -> Observation:
    """Fig. 3: ``model`` shows the disparity TC_mean − TC_sample ≥ ``t.disparity_abs`` nats at every strength
    (``none`` False, left panel), or shows none — below it — at every strength (``none`` True, right panel: the
    revised models). Learned dSprites runs in the paper's regime; per strength an interval over seeds or, for one
    seed, over images; over all latents and over the active ones."""
    side = "below" if none else "above"
    judged, outside = _pool(stage.table, [model], ["dsprites"])
    cells, active = [], []
    for s, g in judged.groupby("strength"):
        lab = f"{LABELS.get(model, model)} {s:g}"
        cells.append(_single_cell(stage, list(g.index), "disparity", t.disparity_abs, side, lab, repeats=repeats,
                                  seed=seed))
        active.append(_single_cell(stage, list(g.index), "disparity_active", t.disparity_abs, side, lab,
                                   repeats=repeats, seed=seed))
    claim = f"{'no ' if none else ''}disparity for {model}"
    return _observation(claim, cells, t.disparity_abs, side, active=active, regime=_regime(stage.table, [model]),
                        evidence=_outside_text(outside), rows=judged.index)


def _same_seed_pairs(judged: pd.DataFrame, a: str, b: str, *, strength_a=None, strength_b=None):
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


def claim_revised_lower(stage: Stage, t: Thresholds = THRESHOLDS, *, repeats: int = 1000,
                        seed: int = 0) -> Observation:
    """Fig. 4, one claim in two parts: the revised model's TC_mean is much lower than its vanilla model's —
    TC_mean(revised) / TC_mean(vanilla) of same-seed pairs at the same strength below ``t.much_lower`` in every
    (pair, strength) cell (learned dSprites runs, revised runs in the paper's regime) — and, its second part
    (reported, not a verdict of its own: with σ → 0, TC_sample ≈ TC_mean, so it fails whenever the first does),
    their TC_sample is comparably low: TC_sample(revised) / TC_sample(vanilla) below ``t.comparable``."""
    models = list(PAIRS) + list(PAIRS.values())
    judged, outside = _pool(stage.table, models, ["dsprites"])
    cells, active, second = [], [], []
    kw = dict(repeats=repeats, seed=seed)
    for van, rev in PAIRS.items():
        for (_, s, _), pairs in _same_seed_pairs(judged, van, rev).items():
            lab = f"{LABELS[rev]} / {LABELS[van]} at {s:g}"
            cells.append(_ratio_cell(stage, pairs, "tc_mean", t.much_lower, "below", lab, **kw))
            active.append(_ratio_cell(stage, pairs, "tc_mean_active", t.much_lower, "below", lab, **kw))
            second.append(_ratio_cell(stage, pairs, "tc_sample", t.comparable, "below", lab, **kw))
    s_verdict, s_cell = _combine(second, "below")
    part2 = ("Second part, TC_sample(revised) / TC_sample(vanilla) below " f"{t.comparable:g}: {s_verdict}"
             + (f" ({'; '.join(c.note for c in second)})" if second else "") + ".")
    return _observation("revised TC_mean much lower, TC_sample comparably low", cells, t.much_lower, "below",
                        active=active, regime=_regime(stage.table, models),
                        evidence=" ".join(s for s in (part2, _outside_text(outside)) if s), rows=judged.index,
                        values={"second_verdict": s_verdict,
                                "second_interval": s_cell.interval if s_cell is not None else None})


def claim_rtc_recon(stage: Stage, t: Thresholds = THRESHOLDS, *, at: float = 10.0, repeats: int = 1000,
                    seed: int = 0) -> Observation:
    """Fig. 9a: "for RTC-VAE, β > 10 can affect the quality of reconstruction" — for every strength β > ``at``,
    recon(β) / recon(``at``) − 1 of same-seed RTC-VAE runs on dSprites exceeds ``t.recon_worse`` (learned runs in
    the paper's regime; paired over seeds, or over the images of the one seed pair)."""
    judged, outside = _pool(stage.table, ["rtc_vae"], ["dsprites"])
    cells = []
    for s in sorted(x for x in set(judged["strength"]) if x > at):
        for (_, _, _), pairs in _same_seed_pairs(judged, "rtc_vae", "rtc_vae", strength_a=at, strength_b=s).items():
            cells.append(_ratio_cell(stage, pairs, "recon", t.recon_worse, "above", f"RTC-VAE {s:g} / {at:g}",
                                     minus=1.0, repeats=repeats, seed=seed))
    return _observation(f"RTC-VAE with β > {at:g} reconstructs worse", cells, t.recon_worse, "above",
                        regime=_regime(stage.table, ["rtc_vae"]), evidence=_outside_text(outside),
                        rows=judged.index)


def claim_tc_sap(stage: Stage, t: Thresholds = THRESHOLDS, *, repeats: int = 1000, seed: int = 0) -> Observation:
    """Fig. 9b: TC_mean and SAP show no strong correlation: the Spearman ρ over the learned dSprites runs (revised
    runs in the paper's regime) with its bootstrap interval over runs (:func:`rtc.claims.spearman_bootstrap` at
    :data:`rtc.claims.LEVEL`), judged by :func:`rtc.claims.band_verdict` in (−strong_rho, strong_rho): confirmed
    inside, refuted wholly beyond ±strong_rho, inconclusive otherwise or over fewer than ``t.min_runs`` runs."""
    judged, outside = _pool(stage.table, stage.table["model"].unique(), ["dsprites"])
    g = judged[np.isfinite(judged["tc_mean"]) & np.isfinite(judged["sap_r2"])]
    r = spearman_bootstrap(g["tc_mean"], g["sap_r2"], repeats=repeats, seed=seed, level=LEVEL)
    iv = (Interval(r["rho"], r["lo"], r["hi"], r["n"], "runs (bootstrap)")
          if r["n"] >= t.min_runs and math.isfinite(r["rho"]) else None)
    verdict = band_verdict(iv, -t.strong_rho, t.strong_rho)
    ev = (f"Spearman ρ(TC_mean, SAP) over {r['n']} learned dSprites runs: "
          + (iv.text() if iv is not None else f"not judged (fewer than {t.min_runs} runs or a constant column)")
          + ". " + _outside_text(outside))
    summary = verdict if iv is not None else f"inconclusive: {r['n']} runs (fewer than {t.min_runs})"
    return Observation("no strong correlation of TC_mean and SAP", verdict, summary, ev.strip(),
                       {"rows": sorted(int(i) for i in g.index), "side": "inside", "n": r["n"]}, iv, t.strong_rho,
                       r["n"], _regime(stage.table, REVISED))


def claim_lower_than_factor_vae(stage: Stage, models: dict, t: Thresholds = THRESHOLDS, *, claim: str,
                                datasets=("dsprites",), repeats: int = 1000, seed: int = 0) -> Observation:
    """Each model of ``models`` (model → the quantity it is judged on, "tc_mean" or "tc_sample") has that Gaussian
    TC much lower than FactorVAE's: quantity(model) / quantity(FactorVAE) of same-seed runs at the same strength
    below ``t.much_lower`` in every (model, dataset, strength) cell — Fig. 9d (TC_mean of DIP-VAE-I/II and RTC-VAE
    on dSprites) and §5.2 (DIP-VAE-I on TC_mean, DIP-VAE-II on TC_sample: what each objective penalises).
    Learned runs, revised ones in the paper's regime; over all latents and over the active ones."""
    judged, outside = _pool(stage.table, ["factor_vae", *models], datasets)
    cells, active = [], []
    for m, q in models.items():
        for (ds, s, _), pairs in _same_seed_pairs(judged, "factor_vae", m).items():
            lab = f"{LABELS[m]} / FactorVAE {q} at {s:g}" + ("" if ds == "dsprites" else f" ({ds})")
            cells.append(_ratio_cell(stage, pairs, q, t.much_lower, "below", lab, repeats=repeats, seed=seed))
            active.append(_ratio_cell(stage, pairs, f"{q}_active", t.much_lower, "below", lab, repeats=repeats,
                                      seed=seed))
    return _observation(claim, cells, t.much_lower, "below", active=active,
                        regime=_regime(stage.table, list(models)), evidence=_outside_text(outside),
                        rows=judged.index)


def _pair_cell(stage: Stage, rows, threshold: float, side: str, label: str, *, permutations: int, k: int,
               seed: int) -> tuple[_Cell, list[dict]]:
    """The top-pair test (:func:`rtc.experiments.dependence.top_pair_test` on µ's active latents) of every run
    of a cell; the cell's quantity is the held-out top pair's kNN MI above its permutation null (nats): over seeds
    when ≥ 2 runs have a pair, else the one run's excess with the permutation null's spread as its interval."""
    from .dependence import top_pair_test

    tests = []
    for r in rows:
        enc = _codes(stage, r)
        act = np.flatnonzero(_active(enc))
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
        return _Cell(label, None, "inconclusive", note), tests
    return _verdict_cell(label, iv, threshold, side, f"{note}; excess MI {iv.text()}"), tests


def claim_pairwise(stage: Stage, models, t: Thresholds = THRESHOLDS, *, factorised: bool, claim: str,
                   permutations: int = 200, k: int = 3, seed: int = 0) -> Observation:
    """§5.2, judged pairwise as the paper argues it (Figs 5c–d, 6, 14, 15): per run, the most dependent pair of
    active latents of µ — chosen on one half of the images, its kNN mutual information measured on the other half
    against a permutation null (:func:`rtc.experiments.dependence.top_pair_test`) — and the claim's quantity its
    excess over the null's mean (nats). ``factorised`` False ("not factorised", DIP-VAEs): the excess lies above
    ``t.independent_mi`` in every (model, dataset, strength) cell; True ("factorised", RTC-VAE): below it. Learned
    runs, revised ones in the paper's regime. The 10-D kNN TC of µ (tc_mean_knn) stays descriptive."""
    side = "below" if factorised else "above"
    judged, outside = _pool(stage.table, models)
    cells, per_run = [], []
    for (m, ds, s), g in judged.groupby(["model", "dataset", "strength"]):
        lab = f"{LABELS.get(m, m)} {s:g}" + ("" if ds == "dsprites" else f" ({ds})")
        cell, tests = _pair_cell(stage, list(g.index), t.independent_mi, side, lab, permutations=permutations, k=k,
                                 seed=seed)
        cells.append(cell)
        per_run += tests
    shares = [x["pvalue"] < 0.05 for x in per_run if math.isfinite(x.get("pvalue", math.nan))]
    return _observation(claim, cells, t.independent_mi, side, regime=_regime(stage.table, models),
                        evidence=_outside_text(outside), rows=judged.index,
                        values={"beats_null": int(sum(shares)), "tested": len(shares)})


# the claims of §5.1–5.2: name → (the paper's figure, the quantity judged)
CLAIMS = {
    "disparity_beta_vae": ("Fig. 3 left", "TC_mean − TC_sample (nats), β-VAE, every strength"),
    "disparity_factor_vae": ("Fig. 3 left", "TC_mean − TC_sample (nats), FactorVAE, every strength"),
    "disparity_beta_tcvae": ("§5 (β-TCVAE as FactorVAE)", "TC_mean − TC_sample (nats), β-TCVAE"),
    "none_revised_beta_vae": ("Fig. 3 right", "TC_mean − TC_sample (nats), revised β-VAE, every strength"),
    "none_rtc_vae": ("Fig. 3 right", "TC_mean − TC_sample (nats), RTC-VAE, every strength"),
    "revised_lower": ("Fig. 4", "TC_mean(revised) / TC_mean(vanilla), same seed and strength"),
    "rtc_recon": ("Fig. 9a", "recon(RTC-VAE β > 10) / recon(β = 10) − 1, same seed"),
    "tc_sap": ("Fig. 9b", "Spearman ρ(TC_mean, SAP) over runs"),
    "low_tc_mean": ("Fig. 9d", "TC_mean(model) / TC_mean(FactorVAE), DIP-VAE-I/II and RTC-VAE, same seed"),
    "dip_gaussian": ("§5.2", "DIP-VAE-I TC_mean, DIP-VAE-II TC_sample / FactorVAE's, same seed"),
    "dip_dependent": ("§5.2, Figs 5c, 6, 14", "top pair's held-out kNN MI above its permutation null (nats)"),
    "rtc_factorised": ("§5.2, Figs 5d, 15", "top pair's held-out kNN MI above its permutation null (nats)"),
}


def _claims_at(stage: Stage, t: Thresholds, kw: dict, pair_kw: dict) -> dict:
    """Every claim on one stage (the callables, by name, so that the half stage can run only those it has)."""
    return {
        **{f"disparity_{m}": (lambda s, m=m: claim_disparity(s, m, t, **kw))
           for m in ("beta_vae", "factor_vae", "beta_tcvae")},
        **{f"none_{m}": (lambda s, m=m: claim_disparity(s, m, t, none=True, **kw))
           for m in ("revised_beta_vae", "rtc_vae")},
        "revised_lower": lambda s: claim_revised_lower(s, t, **kw),
        "rtc_recon": lambda s: claim_rtc_recon(s, t, **kw),
        "tc_sap": lambda s: claim_tc_sap(s, t, **kw),
        "low_tc_mean": lambda s: claim_lower_than_factor_vae(
            s, {"dip_vae_i": "tc_mean", "dip_vae_ii": "tc_mean", "rtc_vae": "tc_mean"}, t,
            claim="DIP-VAEs and RTC-VAE have a much lower TC_mean than FactorVAE", **kw),
        "dip_gaussian": lambda s: claim_lower_than_factor_vae(
            s, {"dip_vae_i": "tc_mean", "dip_vae_ii": "tc_sample"}, t, datasets=None,
            claim="DIP-VAEs reach a low Gaussian TC on what they penalise", **kw),
        "dip_dependent": lambda s: claim_pairwise(s, ["dip_vae_i", "dip_vae_ii"], t, factorised=False,
                                                  claim="DIP-VAE latents not factorised", **pair_kw),
        "rtc_factorised": lambda s: claim_pairwise(s, ["rtc_vae"], t, factorised=True,
                                                   claim="RTC-VAE latents factorised", **pair_kw),
    }


def check_claims(full: Stage, half: Stage | None = None, t: Thresholds = THRESHOLDS, *, repeats: int = 1000,
                 seed: int = 0, permutations: int = 200, k: int = 3) -> dict[str, Observation]:
    """Every claim of §5.1–5.2 (name → Observation, the names of :data:`CLAIMS`), each judged by
    :func:`rtc.claims.interval_verdict` (or :func:`rtc.claims.band_verdict`) on a 90 % interval — over seeds where
    a cell has ≥ 2, paired by seed where two models are compared, else over the images of the one run — against a
    threshold of ``t``. Unlearned runs never count; revised runs outside the paper's regime are listed, not counted.

    ``half`` (:func:`claim_stage` at half training): every claim is judged there too, and its verdict is
    :func:`rtc.claims.convergence_verdict` (full, half) — "not converged" when one is confirmed and the other
    refuted; ``Observation.half`` is None where ``half`` is None or lacks a run the claim uses.
    ``repeats``: bootstrap resamples; ``permutations``, ``k``: the pair tests' permutations and kNN neighbours."""
    _need(full.table, STAGE_COLUMNS + QUANTITIES)
    kw, pair_kw = dict(repeats=repeats, seed=seed), dict(permutations=permutations, k=k, seed=seed)
    out = {}
    for name, judge in _claims_at(full, t, kw, pair_kw).items():
        o = judge(full)
        if half is not None and not set(o.values["rows"]) & set(half.missing):
            h = judge(half)
            o.half, o.values["half_interval"] = h.verdict, h.interval
            o.verdict = convergence_verdict(o.verdict, h.verdict)
            if o.verdict == "not converged":
                o.summary = f"not converged ({o.summary} at the end of training, {h.verdict} at half training)"
        out[name] = o
    return out


# ------------------------------------------------------------------------------------------------ run labels

def run_labels(table: pd.DataFrame) -> list[str]:
    """One label per row of a run table, in its order: the model's label (:data:`LABELS`) and strength, then
    `` s<seed>`` for a seed other than 0 and `` (<dataset>)`` for a dataset other than dSprites — e.g.
    "β-VAE 4", "RTC-VAE 10 s1 (shapes3d)"."""
    _need(table, ["model", "strength", "seed", "dataset"])
    return [f"{LABELS.get(m, m)} {s:g}" + (f" s{sd}" if sd else "") + ("" if d == "dsprites" else f" ({d})")
            for m, s, sd, d in zip(table["model"], table["strength"], table["seed"], table["dataset"], strict=True)]


def run_label(result) -> str:
    """The label of one run (a :class:`rtc.experiments.RunResult`, read from its ``row``): model label, strength
    and dataset, e.g. "RTC-VAE 10 (dsprites)"."""
    row = result.row
    return f"{LABELS.get(row['model'], row['model'])} {row['strength']:g} ({row['dataset']})"


def learning_summary(table: pd.DataFrame) -> dict:
    """What the chapter says of the learning check of a table with :func:`add_learning` applied: ``count`` of
    learned runs, ``verdict`` ("every run learned", or "<k> run(s) did not learn: " and their
    :func:`run_labels`), ``worst``, the largest recon_ratio, and ``worst_trained``, the largest trained_ratio
    (NaN without that column)."""
    _need(table, ["learned", "recon_ratio"])
    bad = [lab for lab, ok in zip(run_labels(table), table["learned"], strict=True) if not ok]
    verdict = f"{len(bad)} run(s) did not learn: " + ", ".join(bad) if bad else "every run learned"
    trained = float(table["trained_ratio"].max()) if "trained_ratio" in table else math.nan
    return {"count": int(table["learned"].sum()), "verdict": verdict, "worst": float(table["recon_ratio"].max()),
            "worst_trained": trained}


# ------------------------------------------------------------------------------------------------ trained runs

def traced_runs(table: pd.DataFrame, models=MODELS, *, strength: float = 10.0) -> dict[str, int]:
    """The run traced through training for each of ``models`` that the table has: model → row position (the
    position of its :class:`rtc.experiments.RunResult` in ``run_grid``'s list, which follows the table).

    Per model: the runs with the seed of the table's first run, on dSprites if the model has such runs there,
    else on the first dataset (alphabetical) where it has; among them the strength closest to ``strength`` on a
    log scale (the first in table order on a tie). Models without such a run are left out; the result follows
    the order of ``models``."""
    _need(table, ["model", "dataset", "seed", "strength"])
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


def snapshot_trace(result, dataset, *, n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """TC_mean, TC_sample (Gaussian, all and active dimensions), active dimensions, Σ E[σ²] and reconstruction of
    every weight snapshot of a finished run and of its final weights, each on the same ``n`` images of
    ``dataset`` (seeded). One row per step, in the order of ``result.snapshots`` then the last step.

    ``result``: a :class:`rtc.experiments.RunResult` (``.config.steps``, ``.snapshots``, ``.load_snapshot(step)``,
    ``.load_model()``) — nothing is trained."""
    from rtc.models import encode, representation_stats

    final = result.config.steps
    # a snapshot at the last step holds the final weights: encode them once
    steps = [k for k in result.snapshots if k != final]
    rows = []
    for step in steps + [final]:
        model = result.load_model() if step == final else result.load_snapshot(step)
        st = representation_stats(encode(model, dataset, n=n, seed=seed))
        rows.append(dict(step=step, tc_mean=st["tc_mean"], tc_sample=st["tc_sample"],
                         tc_mean_active=st["tc_mean_active"], tc_sample_active=st["tc_sample_active"],
                         active_dims=st["active_dims"], var_sum=st["var_sum"], recon=st["recon"]))
    return pd.DataFrame(rows)


def variance_band_summary(log: pd.DataFrame | None, band=None) -> dict:
    """RTC-VAE's η rule in a per-step training log (columns ``eta``, ``var_sum``): ``final_eta`` (η at the last
    step), ``varsum_final`` (the mean of Σ_k E[σ_k²] over the second half of the steps) and ``band_share``
    (the percentage, 0–100, of those steps with the term strictly inside ``band``, default the η rule's
    :data:`rtc.models.eta.BAND`). ``log`` None (the profile traced no such run) gives NaN for all three."""
    from rtc.models.eta import BAND, band_share

    if log is None:
        return {"final_eta": math.nan, "varsum_final": math.nan, "band_share": math.nan}
    _need(log, ["eta", "var_sum"])
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
    from rtc.models import encode

    enc = encode(model, dataset, n=n, seed=seed)
    return {"base_code": enc.mu[0], "kl": latent_kl(enc.mu, enc.sigma), "active": active_latents(enc.mu)}


# ------------------------------------------------------------------------------------------------ pair dependence

def pair_codes(results, datasets: dict, model: str, dataset: str = "dsprites", *, n: int = 2000, k: int = 3,
               seed: int = 0) -> dict | None:
    """The latent pairs of the first run (in ``results`` order) of ``model`` on ``dataset``; None when there is
    none. ``results``: :class:`rtc.experiments.RunResult` s (``.row``, ``.matrices["r2"]`` (L, F),
    ``.load_model()``); ``datasets``: name → loaded dataset.

    Returns ``{"run": its position, "enc": µ, σ, z of n images (seeded), "active": latents with Var µ_k >
    ACTIVE_VAR, "dep": …}`` where ``dep`` is :func:`rtc.experiments.dependence.pairwise_dependence` over the active
    latents (k neighbours; None with fewer than two active) plus ``factor`` / ``factor_name``: the factor the pair
    is most linked to, argmax over factors of R²[a] + R²[b] (the run's R² matrix, latents × factors)."""
    from rtc.models import encode

    from .dependence import pairwise_dependence

    hits = [i for i, r in enumerate(results) if r.row["model"] == model and r.row["dataset"] == dataset]
    if not hits:
        return None
    i = hits[0]
    ds = datasets[dataset]
    enc = encode(results[i].load_model(), ds, n=n, seed=seed)
    active = [int(j) for j in np.flatnonzero(active_latents(enc.mu))]
    dep = None
    if len(active) >= 2:
        r2 = np.asarray(results[i].matrices["r2"], dtype=np.float64)
        if r2.shape[0] != enc.mu.shape[1]:
            raise ValueError(f"the R² matrix of run {i} has {r2.shape[0]} latents, its encoder {enc.mu.shape[1]}")
        dep = pairwise_dependence(enc.mu, latents=active, k=k, seed=seed)
        factor = [int(np.argmax(r2[a] + r2[b])) for a, b in zip(dep["a"], dep["b"], strict=True)]
        dep = dep.assign(factor=factor, factor_name=[ds.factor_names[f] for f in factor])
    return {"run": i, "enc": enc, "active": active, "dep": dep}


def pair_summary(pairs: dict | None) -> dict:
    """The numbers the chapter prints of a :func:`pair_codes` result: ``top_knn`` and ``top_corr`` of the pair with
    the largest kNN mutual information, ``mean_excess`` (mean excess MI over the pairs) and ``max_abs_corr``; all
    NaN without pairs (no such run, or fewer than two active latents)."""
    d = pairs["dep"] if pairs is not None else None
    if d is None:
        return {"top_knn": math.nan, "top_corr": math.nan, "mean_excess": math.nan, "max_abs_corr": math.nan}
    return {"top_knn": float(d["knn_mi"].iloc[0]), "top_corr": float(d["corr"].iloc[0]),
            "mean_excess": float(d["excess_mi"].mean()), "max_abs_corr": float(d["corr"].abs().max())}


# ------------------------------------------------------------------------------------------------ Theorem 1

def noise_range(sigma, var_mu, *, active: float = 0.01, quantiles=(0.05, 0.95)) -> dict:
    """Theorem 1's noise range of a trained encoder: [c1, c2] = the ``quantiles`` of σ_k²(x) over images x and
    active dimensions k (Var µ_k > ``active``; all dimensions when none is active) — quantiles rather than
    min/max so that one outlying image does not set the range. ``sigma`` (N, D), ``var_mu`` (D,)."""
    s = np.asarray(sigma, dtype=np.float64)
    v = np.asarray(var_mu, dtype=np.float64)
    if s.ndim != 2 or v.shape != (s.shape[1],):
        raise ValueError(f"sigma must be (N, D) and var_mu (D,), got {s.shape} and {v.shape}")
    act = v > active
    s2 = (s[:, act] if act.any() else s) ** 2
    c1, c2 = np.quantile(s2, quantiles)
    return {"c1": float(c1), "c2": float(c2), "active_dims": int(act.sum())}


def theorem1_row(enc) -> dict:
    """Theorem 1 on one encoding (µ, σ, z (N, D) of :func:`rtc.models.encode`): [c1, c2] (:func:`noise_range`),
    D = the active dimensions (at least 1), TC(µ) and TC(z) over the active dimensions (Gaussian, nats,
    :func:`rtc.models.representation_stats`) and ``bound``, the theorem's right-hand side with C = 1
    (:func:`rtc.mixture_tc.theorem1_bound`)."""
    from rtc.mixture_tc import theorem1_bound
    from rtc.models import representation_stats

    st = representation_stats(enc)
    nr = noise_range(enc.sigma, st["var_mu"])
    dim = max(nr["active_dims"], 1)
    return dict(c1=nr["c1"], c2=nr["c2"], D=dim, tc_mean_active=st["tc_mean_active"],
                tc_sample_active=st["tc_sample_active"], bound=theorem1_bound(nr["c1"], nr["c2"], dim))


def theorem1_table(results, datasets: dict, *, n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """:func:`theorem1_row` of every run of ``results`` (:class:`rtc.experiments.RunResult` s, encoded with
    ``.load_model()`` on ``n`` images of ``datasets[row["dataset"]]``, seeded), one row per run in that order:
    model, dataset, strength, seed, c1, c2, D, tc_mean_active, tc_sample_active, bound."""
    from rtc.models import encode

    rows = []
    for res in results:
        row = res.row
        enc = encode(res.load_model(), datasets[row["dataset"]], n=n, seed=seed)
        rows.append(dict(model=row["model"], dataset=row["dataset"], strength=row["strength"], seed=row["seed"],
                         **theorem1_row(enc)))
    return pd.DataFrame(rows)


def theorem1_summary(theorem: pd.DataFrame) -> dict:
    """What the chapter says of a :func:`theorem1_table`: ``below`` (runs with TC(z) ≤ the bound) of ``total``,
    ``c1_min``, ``c2_max``, ``ratio_median`` (median c2/c1), and the median c2 of the revised models
    (``c2_revised``, :data:`PAIRS`' values) and of the others (``c2_vanilla``), NaN where there is none."""
    _need(theorem, ["model", "c1", "c2", "tc_sample_active", "bound"])
    rev = theorem["model"].isin(list(PAIRS.values()))
    return {"below": int((theorem["tc_sample_active"] <= theorem["bound"]).sum()), "total": len(theorem),
            "c1_min": float(theorem["c1"].min()), "c2_max": float(theorem["c2"].max()),
            "ratio_median": float(np.median(theorem["c2"] / theorem["c1"])),
            "c2_revised": float(theorem.loc[rev, "c2"].median()) if rev.any() else math.nan,
            "c2_vanilla": float(theorem.loc[~rev, "c2"].median()) if (~rev).any() else math.nan}


# ------------------------------------------------------------------------------------------------ tables

TABLE_COLUMNS = ["model", "dataset", "strength", "seed", "steps", "batch_size", "recon", "trained_recon", "baseline",
                 "learned", "kl", "tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active", "tc_mean_knn",
                 "tc_mean_dr", "active_dims", "var_sum", "final_eta", "sap_r2", "mig_ref", "mig_chen",
                 "dci_disentanglement", "dci_completeness", "dci_informativeness_test", "factor_vae_eval",
                 "disintegration_r2", "train_seconds", "eval_seconds"]


def run_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table of every run (claim 8 of the chapter): :data:`TABLE_COLUMNS` that the table has, in that order,
    sorted by dataset, model, strength, seed."""
    cols = [c for c in TABLE_COLUMNS if c in table.columns]
    return table[cols].sort_values(["dataset", "model", "strength", "seed"], kind="stable").reset_index(drop=True)


def shown_run_table(table: pd.DataFrame) -> pd.DataFrame:
    """The run table as the chapter shows it: :func:`run_table` with the model's label (:data:`LABELS`) first as
    "model name", without the model's code name, the batch size and the timings (the CSV keeps them)."""
    show = run_table(table)
    show.insert(0, "model name", [LABELS.get(m, m) for m in show["model"]])
    return show.drop(columns=["model", "batch_size", "train_seconds", "eval_seconds"])


def tc_mean_side_by_side(table: pd.DataFrame, models=SIDE_MODELS) -> pd.DataFrame:
    """Mean TC_mean (nats, over strengths and seeds, every run) of each of ``models`` per dataset: one row per
    dataset (alphabetical) on which more than one of them was trained, one column per model in ``models`` order,
    NaN where a model was not trained on the dataset (the appendix's Fig. 9d)."""
    _need(table, ["model", "dataset", "tc_mean"])
    sub = table[table["model"].isin(models)]
    keep = [d for d in sorted(set(sub["dataset"])) if sub.loc[sub["dataset"] == d, "model"].nunique() > 1]
    means = sub.groupby(["dataset", "model"])["tc_mean"].mean().unstack("model")
    return means.reindex(index=pd.Index(keep, name="dataset"), columns=list(models))


def describe_grid(profile: str, *, reference: str = "paper", root=None) -> str:
    """Markdown: the training grid of ``profile`` (every grid: models × strengths × datasets × seeds) and the
    training settings in which it differs from the ``reference`` profile's (a table), so a reduced grid never
    passes for the paper's."""
    from .grid import grid_runs, load_grid

    g, ref = load_grid(profile, root=root), load_grid(reference, root=root)
    n = len(grid_runs(g))
    lines = [f"**Training grid of the `{profile}` profile: {n} runs**, evaluated with the `{g['eval'].name}` "
             "settings.", "", "| grid | models | strengths | datasets | seeds |", "|---|---|---|---|---|"]
    for x in g["grids"]:
        lines.append(f"| {x['name']} | {', '.join(LABELS.get(m, m) for m in x['models'])} | "
                     f"{', '.join(f'{s:g}' for s in x['strengths'])} | {', '.join(x['datasets'])} | "
                     f"{', '.join(map(str, x['seeds']))} |")
    mine, theirs = g["defaults"], ref["defaults"]
    lines += ["", "Settings of every run: " + ", ".join(f"`{k}` = {v}" for k, v in mine.items()) + "."]
    keys = [k for k in dict.fromkeys([*theirs, *mine]) if mine.get(k) != theirs.get(k)]
    if profile != reference and keys:
        lines += ["", f"Settings that differ from the `{reference}` profile ({len(grid_runs(ref))} runs):", "",
                  f"| setting | {profile} | {reference} |", "|---|---|---|"]
        lines += [f"| `{k}` | {mine.get(k, 'library default')} | {theirs.get(k, 'library default')} |" for k in keys]
        if g["eval"] != ref["eval"]:
            lines.append(f"| evaluation | `{g['eval'].name}` | `{ref['eval'].name}` |")
    return "\n".join(lines)


def paper_cost(profile: str = "paper", *, gpu_step_seconds: float = 0.02, gpu_eval_seconds: float = 600.0,
               root=None) -> dict:
    """Cost of a profile's grid: runs, images seen, CPU hours from the measured CPU rates
    (:func:`rtc.experiments.grid.estimate_seconds`) and GPU hours for an *assumed* seconds per training step and
    per evaluation (no GPU rate has been measured for this model yet; ``bench/gpu_check.py`` measures one).
    FactorVAE-family steps count double on the GPU (a second batch and the discriminator)."""
    from .grid import estimate_seconds, grid_runs

    runs = grid_runs(profile, root=root)
    steps = sum(r.config.steps * (2 if r.config.objective().uses_discriminator else 1) for r in runs)
    return {"runs": len(runs), "images": sum(r.config.steps * r.config.batch_size for r in runs),
            "cpu_hours": sum(estimate_seconds(r) for r in runs) / 3600,
            "gpu_hours": (steps * gpu_step_seconds + len(runs) * gpu_eval_seconds) / 3600,
            "gpu_step_seconds": gpu_step_seconds, "gpu_eval_seconds": gpu_eval_seconds}
