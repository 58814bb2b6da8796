"""One run = train + evaluate, both cached: :func:`run`; reading the cache without computing anything:
:func:`load_results`. This module owns the results cache's layout.

``run(config, "dsprites", evaluation=EvalSettings.preset("fast"), results_dir=...)``

1. **train** — :func:`rtc.models.train.train` with ``cache_dir = <results_dir>/runs`` (:data:`RUNS`; the run's
   folder is :func:`run_dir`): it loads a finished
   run, resumes one from its last checkpoint, or trains it (concurrent callers of one run are
   serialised by its lock);
2. **evaluate** the trained encoder on one seeded pool of max(``num_tc``, ``num_points`` + ``num_test``,
   ``score_variance``) images, encoded once (:func:`rtc.models.encode`: µ, σ, z) and shared by every estimate:

   - its first ``num_tc`` images (5,000, as in the paper): TC_mean / TC_sample (Proposition 1 on the sample
     covariance; all and active dimensions), active dimensions (Var µ_k > 0.01), E[σ²] per dimension and its sum
     (RTC-VAE's term), the reconstruction error (Bernoulli −log p(x | z = µ), nats per image; only these images
     are decoded) and the KL to the prior (nats per image, summed over dimensions, exact); the kNN (KSG) TC of µ
     and of z (``rtc.metrics.tc_diagnostics``, latents standardised) and the held-out discriminator TC of µ
     (``rtc.estimators.density_ratio_estimate``);
   - every metric of ``rtc.metrics.evaluate`` (SAP, MIG in both conventions, DCI, modularity and
     explicitness, disintegration, BetaVAE and FactorVAE scores) on its first ``num_points`` codes and the
     next ``num_test`` held out, with the R², MI, normalised-MI and DCI-importance matrices; the FactorVAE score's
     global variances come from its first ``score_variance`` codes, and only the BetaVAE / FactorVAE scores'
     fixed-factor batches are encoded apart.

3. **cache** the evaluation beside the run: ``<run dir>/eval/<settings name>-<key>.json`` (:func:`eval_path`)
   where the key hashes the run directory's name (itself a hash of the configuration, the dataset and the
   training code), every field of the :class:`EvalSettings` and the source of the evaluation code
   (:data:`EVAL_CODE_MODULES`: this module, ``rtc.metrics`` but its plotting, the kNN and
   density-ratio estimators, ``rtc.models.encoding``; comments and docstrings do not count). The JSON holds
   ``{"format": 1, "row", "conventions", "factor_names", "per_factor", "disintegration"}`` (each table as its
   column dtypes and its records; floats written by ``repr``, so they read back bit-identical, NaN as ``NaN``)
   and the matrices go to the sibling ``<settings name>-<key>.npz``. Both are written by
   :func:`rtc._io.atomic_write` (unique temporary name, fsync, rename), the ``.npz`` first and the JSON last,
   so a JSON that exists means a complete entry. An exclusive lock on ``<key>.lock`` makes a second
   concurrent caller wait and then read the first one's result instead of evaluating again, and its holder
   removes the temporary files of evaluators that were killed. (Evaluations of older versions, pickled
   ``.pkl`` files, are not read: they are stale, and ``python -m rtc.cache prune`` removes them.)

The result is one tidy row (:attr:`RunResult.row`: the run's settings, then one number per
column) plus the matrices (latents × factors), the per-factor table and the disintegration tables.
A :class:`RunResult` also loads the run's trained VAE, its weight snapshots and its training log from the
run's files, without training.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rtc._io import file_lock, remove_orphans
from rtc.estimators.density_ratio import density_ratio_estimate
from rtc.metrics import ALL_METRICS, evaluate, tc_diagnostics
from rtc.models import TrainConfig
from rtc.models.encoding import Encoding, encode, representation_stats
from rtc.models.objectives import kl_normal
from rtc.models.runfiles import FINAL, load_model, read_run_file, run_dir_for, snapshot_path, weights_at
from rtc.models.train import train
from rtc.paths import find_root

from .curves import CurveSettings, curve_path, curve_point, missing_points, read_curve, write_point
from .specs import DatasetSpec, EvalSettings, RunSpec, as_dataset_spec, run_settings
from .store import eval_path, read_evaluation, write_evaluation

__all__ = ["RunResult", "run", "load_results", "cached_result", "results_table", "NotCached", "RUNS", "run_dir",
           "default_results_dir"]

# <results_dir>/runs/<model>-<key>/: one folder per trained run (rtc.models.train's cache, keyed there)
RUNS = "runs"


def default_results_dir() -> Path:
    """``$RTC_RESULTS_DIR``, else ``<repository root>/results``, else ``./results`` (absolute)."""
    if os.environ.get("RTC_RESULTS_DIR"):
        return Path(os.environ["RTC_RESULTS_DIR"]).expanduser().resolve()
    try:
        return find_root() / "results"
    except FileNotFoundError:
        return Path("results").resolve()


def _results_root(results_dir) -> Path:
    return Path(results_dir) if results_dir is not None else default_results_dir()


def run_dir(config, dataset, results_dir: str | Path | None = None) -> Path:
    """The folder of the run ``config`` (a :class:`rtc.models.TrainConfig`) on ``dataset``:
    ``<results_dir>/runs/<model>-<key>`` (:func:`rtc.models.train.run_dir_for`: the key hashes the configuration,
    the dataset's identity and the training code). ``dataset``: a :class:`DatasetSpec`, a name or a mapping
    (loaded here), or a dataset already loaded; ``results_dir``: default :func:`default_results_dir`."""
    ds = as_dataset_spec(dataset).load() if isinstance(dataset, (DatasetSpec, str, dict)) else dataset
    return run_dir_for(config, ds, _results_root(results_dir) / RUNS)


class NotCached(LookupError):
    """Some runs asked of :func:`load_results` are not in the results cache under today's code. ``missing``: list of
    (RunSpec, why); the message names each run and the command that trains and evaluates it."""

    def __init__(self, missing: list, results_dir: Path):
        self.missing = missing
        lines = [f"{len(missing)} run(s) are not in the results cache {results_dir} under today's code:"]
        lines += [f"  - {spec.label}: {why}" for spec, why in missing]
        lines.append("Train and evaluate them with `python -m rtc.sweep --profile <profile>` (the profile whose "
                     "training.yaml lists them; `make book PROFILE=<profile>` does it too) or "
                     "rtc.sweep.run_grid(runs).")
        super().__init__("\n".join(lines))


@dataclass
class RunResult:
    """One evaluated run.

    ``row``: dict of the run's settings and scalar results (the module docstring lists them);
    ``matrices``: name → array — "r2", "sap_svc", "mi", "nmi", "nmi_chen", "dci_importance" (L, F),
    "var_mu", "mean_sigma2" (L,); ``per_factor``: ``rtc.metrics.evaluate``'s rows that name a factor
    (metric, factor, value, convention); ``disintegration``: "nmi"/"r2" → per-factor table;
    ``run_dir``: the run's folder (:func:`run_dir`); ``config``: its :class:`rtc.models.TrainConfig`;
    ``dataset``: its :class:`DatasetSpec`; ``status``: how this call got it — "cached" (evaluation cache hit),
    "evaluated" (finished run loaded, evaluation computed), "trained" (trained or resumed here, then evaluated).

    :meth:`load_model`, :meth:`load_snapshot`, :meth:`training_log` and :attr:`snapshots` read the run's files;
    none of them trains.
    """
    row: dict
    matrices: dict
    per_factor: pd.DataFrame
    disintegration: dict
    factor_names: tuple
    run_dir: Path
    config: object
    dataset: DatasetSpec
    status: str = "cached"
    conventions: dict = field(default_factory=dict)
    evaluation: EvalSettings | None = None
    _state: dict | None = field(default=None, repr=False, compare=False)  # final.pt, once read

    def _final(self) -> Path:
        path = Path(self.run_dir) / FINAL
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: the run's weights were removed after it was evaluated; train "
                                    "it again (python -m rtc.sweep --profile <profile>, or rtc.sweep.run_grid)")
        return path

    def _final_state(self) -> dict:
        """The run's ``final.pt`` through the one format-checked reader (:func:`rtc.models.read_run_file`), read
        once per result."""
        if self._state is None:
            self._state = read_run_file(self._final(), f"Delete {self.run_dir} and train the run again.")
        return self._state

    def load_model(self, device=None):
        """The trained VAE after ``config.steps`` steps (``final.pt``, or the snapshot there when the run has been
        extended since), in eval mode, on ``device`` (default: CUDA if available)."""
        return load_model(weights_at(self.run_dir, self._final_state(), self.config.steps), self.config,
                          device=device)

    def load_snapshot(self, step: int, device=None):
        """The VAE of the weight snapshot taken after ``step`` training steps (one of :attr:`snapshots`), eval mode."""
        path = snapshot_path(self.run_dir, step)
        if step not in self.snapshots or not path.exists():
            raise FileNotFoundError(f"{path} does not exist: the run {self.run_dir.name} has snapshots at steps "
                                    f"{self.snapshots} up to step {self.config.steps} (TrainConfig.snapshot_steps "
                                    "sets them)")
        return load_model(path, self.config, device=device)

    def training_log(self) -> pd.DataFrame:
        """The per-step log of training as a table of ``config.steps`` rows: ``step`` (1, 2, …: the log row of
        step k is written after k updates), then every logged term (:data:`rtc.models.train.LOG_KEYS`, float64)
        that is finite at some step — a term the model does not have (NaN throughout) is left out. A run extended
        since has a longer log: it is cut at ``config.steps``, the log of the run trained that far."""
        n = self.config.steps
        log = {k: np.asarray(v[:n], dtype=np.float64) for k, v in self._final_state()["log"].items()}
        df = pd.DataFrame({"step": np.arange(1, self.config.steps + 1), **log})
        return df[["step"] + [k for k in log if np.isfinite(df[k]).any()]]

    def curve(self) -> pd.DataFrame:
        """The run along its training: one row per kept step ≤ ``config.steps`` (:attr:`snapshots`) with the claim
        quantities there (:func:`rtc.experiments.curves.curve_point`), from the cache (``run`` computes them)."""
        if self.evaluation is None:
            raise ValueError("this RunResult was built without its evaluation settings: no curve to read")
        return read_curve(self.run_dir, curve_settings(self.evaluation), self.snapshots)

    @property
    def snapshots(self) -> list:
        """The steps ≤ ``config.steps`` at which a weight snapshot was saved, ascending (with ``config.steps``)."""
        return [int(k) for k in self._final_state()["snapshots"] if k <= self.config.steps]


def curve_settings(settings: EvalSettings) -> CurveSettings:
    """How the points of a run's curve are evaluated under ``settings`` (its ``curve_images`` and seed)."""
    return CurveSettings(images=settings.curve_images, seed=settings.seed)


def _kept_steps(rd: Path, steps: int) -> list[int]:
    """The steps ≤ ``steps`` the run in ``rd`` kept (from its ``final.pt``)."""
    state = read_run_file(rd / FINAL, f"Delete {rd} and train the run again.")
    return [int(s) for s in state["snapshots"] if s <= steps]


def _result(path: Path, rd: Path, config, spec: DatasetSpec, status: str, settings: EvalSettings) -> RunResult:
    d = read_evaluation(path)
    return RunResult(d["row"], d["matrices"], d["per_factor"], d["disintegration"], d["factor_names"], rd, config,
                     spec, status, d["conventions"], settings)


def _complete_curve(result: RunResult, ds, settings: EvalSettings, device) -> float:
    """Evaluate and cache the points of ``result``'s curve that are missing; returns the seconds it took."""
    cs = curve_settings(settings)
    todo = missing_points(result.run_dir, cs, result.snapshots)
    if not todo:
        return 0.0
    t0 = time.perf_counter()
    log = result._final_state()["log"]
    for step in todo:
        model = result.load_model(device) if step == result.config.steps else result.load_snapshot(step, device)
        point = curve_point(model, ds, step=step, batch_size=result.config.batch_size, log=log, settings=cs)
        write_point(curve_path(result.run_dir, cs, step), point)
    return time.perf_counter() - t0


def cached_result(spec, *, results_dir: str | Path | None = None, datasets: dict | None = None) -> RunResult | None:
    """The cached evaluation of ``spec`` (a :class:`rtc.experiments.grid.RunSpec`) as a :class:`RunResult` (status
    "cached"), or None when its run is not trained or not evaluated with its settings under today's code. Reads
    only: never trains, never evaluates. ``datasets``: DatasetSpec → loaded dataset, filled and reused across calls
    (a real dataset file is then read once)."""
    datasets = {} if datasets is None else datasets
    if spec.dataset not in datasets:
        datasets[spec.dataset] = spec.dataset.load()
    rd = run_dir(spec.config, datasets[spec.dataset], results_dir)
    path = eval_path(rd, spec.evaluation, spec.config.steps)
    if not (path.exists() and (rd / FINAL).exists()):
        return None
    if missing_points(rd, curve_settings(spec.evaluation), _kept_steps(rd, spec.config.steps)):
        return None
    return _result(path, rd, spec.config, spec.dataset, "cached", spec.evaluation)


def results_table(results: list[RunResult]) -> pd.DataFrame:
    """One row per result, in order: ``status``, then :attr:`RunResult.row`."""
    return pd.DataFrame([{"status": r.status, **r.row} for r in results])


def load_results(runs, *, results_dir: str | Path | None = None) -> tuple[pd.DataFrame, list[RunResult]]:
    """The cached evaluations of ``runs`` (:class:`rtc.experiments.grid.RunSpec` s): ``(table, results)``, one row
    (:func:`results_table`) and one :class:`RunResult` per run, in the order of ``runs``. Reads only — trains and
    evaluates nothing; raises :class:`NotCached` naming every run that is not trained, or not evaluated with its
    settings, under today's code (and the command that makes them)."""
    runs = list(runs)
    for i, r in enumerate(runs):
        if not isinstance(r, RunSpec):
            raise TypeError(f"runs[{i}] must be a RunSpec, got {type(r).__name__}")
    root = _results_root(results_dir)
    datasets: dict = {}
    results, missing = [], []
    for spec in runs:
        r = cached_result(spec, results_dir=root, datasets=datasets)
        if r is not None:
            results.append(r)
            continue
        rd = run_dir(spec.config, datasets[spec.dataset], root)
        missing.append((spec, f"trained ({rd.name}), not evaluated with the {spec.evaluation.name!r} settings under "
                              "today's evaluation code" if (rd / FINAL).exists()
                        else f"not trained under today's training code (no {rd / FINAL})"))
    if missing:
        raise NotCached(missing, root)
    return results_table(results), results


def _tc_block(model, pool, settings: EvalSettings) -> tuple[dict, dict, dict]:
    """The TC block on the pool's first ``num_tc`` images: (row, conventions, representation stats) — Gaussian,
    kNN and discriminator TC, reconstruction, KL, activity and the variance sum."""
    n_tc = settings.num_tc
    enc = Encoding(pool.mu[:n_tc], pool.sigma[:n_tc], pool.z[:n_tc], pool.factors[:n_tc], pool.recon)
    stats = representation_stats(enc)
    logvar = 2 * np.log(pool.sigma[:n_tc])
    # KL(q(z|x) ‖ N(0, I)) per image, summed over dimensions (the objectives' formula, no constant dropped)
    kl = float(kl_normal(torch.from_numpy(enc.mu), torch.from_numpy(logvar)).sum(1).mean())
    diag = tc_diagnostics(enc.mu, enc.z, knn_k=settings.knn_k, knn_max_points=n_tc, seed=settings.seed)
    dr = density_ratio_estimate(enc.mu, steps=settings.dr_steps, batch_size=settings.dr_batch,
                                hidden=settings.dr_hidden, layers=settings.dr_layers, seed=settings.seed,
                                device=next(model.parameters()).device)
    row = {"tc_mean": stats["tc_mean"], "tc_sample": stats["tc_sample"],
           "tc_mean_active": stats["tc_mean_active"], "tc_sample_active": stats["tc_sample_active"],
           "active_dims": stats["active_dims"], "var_sum": stats["var_sum"], "recon": stats["recon"], "kl": kl,
           "tc_mean_knn": diag.knn_tc_mean, "tc_sample_knn": diag.knn_tc_sample,
           "tc_mean_dr": dr.tc_heldout, "tc_mean_dr_train": dr.tc_train}
    conventions = {
        "tc_mean": f"Prop. 1 on the sample covariance of µ of {settings.num_tc} images",
        "tc_sample": f"Prop. 1 on the sample covariance of one z per image, {settings.num_tc} images",
        "active_dims": "Var µ_k > 0.01", "recon": "Bernoulli −log p(x | z = µ), nats per image",
        "kl": "KL(q(z|x) ‖ N(0, I)), nats per image", "var_sum": "Σ_k E[σ_k²]",
        "tc_mean_knn": f"KSG, k = {settings.knn_k}, latents standardised",
        "tc_mean_dr": f"discriminator {settings.dr_layers}×{settings.dr_hidden}, {settings.dr_steps} steps, "
                      "held-out half"}
    return row, conventions, stats


def _metric_block(model, ds, pool, settings: EvalSettings, progress: bool):
    """``rtc.metrics.evaluate`` on the pool: its first ``num_points`` codes to fit, the next ``num_test`` held out,
    its first ``score_variance`` for the FactorVAE score's global variances."""
    dev = next(model.parameters()).device
    n_tr, n_te = settings.num_points, settings.num_test
    logvar = 2 * np.log(pool.sigma[:n_tr])

    def encode_fn(obs):
        return model.encode(obs.to(dev))

    metrics = settings.metrics if settings.metrics is not None else tuple(m for m in ALL_METRICS if m != "tc")
    tr, te = slice(0, n_tr), slice(n_tr, n_tr + n_te)
    return evaluate(pool.mu[tr], pool.factors[tr], samples=pool.z[tr], logvar=logvar, codes_test=pool.mu[te],
                    factors_test=pool.factors[te], dataset=ds, encode_fn=encode_fn, metrics=list(metrics),
                    dci_estimator=settings.dci_estimator, chen_samples=settings.chen_samples,
                    score_kwargs={"batch_size": settings.score_batch, "num_train": settings.score_train,
                                  "num_eval": settings.score_eval, "num_variance_estimate": settings.score_variance,
                                  "variance_codes": pool.mu[:settings.score_variance]},
                    seed=settings.seed, device=dev, progress=progress)


def _evaluate(model, ds, settings: EvalSettings, device, progress: bool) -> dict:
    """One evaluation (the module docstring's step 2): row, matrices, per-factor and disintegration tables."""
    t0 = time.perf_counter()
    # One seeded pool of images, encoded once and shared: its first num_tc are the TC block's (TC, kNN and
    # discriminator TC, recon — the only images decoded — and KL), its first num_points the metrics' training codes
    # and the next num_test their held-out ones, its first score_variance the FactorVAE score's global variances.
    # Only the FactorVAE / BetaVAE scores' fixed-factor batches are encoded apart.
    n = max(settings.num_tc, settings.num_points + settings.num_test, settings.score_variance)
    pool = encode(model, ds, n=n, seed=settings.seed, device=device, reconstruct=settings.num_tc)
    row, conventions, stats = _tc_block(model, pool, settings)
    ev = _metric_block(model, ds, pool, settings, progress)
    model_rows = ev.table[ev.table["factor"].isna()]
    for metric, value, conv in zip(model_rows["metric"], model_rows["value"], model_rows["convention"], strict=True):
        row[metric] = float(value)
        conventions[metric] = conv
    per_factor = ev.table[ev.table["factor"].notna()].reset_index(drop=True)
    matrices = dict(ev.matrices)
    matrices["var_mu"], matrices["mean_sigma2"] = stats["var_mu"], stats["mean_sigma2"]
    row["eval_seconds"] = time.perf_counter() - t0
    return {"row": row, "matrices": matrices, "per_factor": per_factor, "disintegration": dict(ev.disintegration),
            "factor_names": tuple(ev.factor_names), "conventions": conventions}


def run(config, dataset, *, evaluation: EvalSettings | None = None, results_dir: str | Path | None = None,
        device=None, progress: bool = False) -> RunResult:
    """Train (or load / resume) the run ``config`` on ``dataset`` and evaluate it; both cached.

    ``config``: a :class:`rtc.models.TrainConfig`; ``dataset``: a :class:`DatasetSpec` or a dataset
    name; ``evaluation``: :class:`EvalSettings` (default: the reference settings);
    ``results_dir``: the cache root (default :func:`default_results_dir`) — runs go to
    ``<results_dir>/runs`` (:func:`run_dir`), their evaluations beside them (:func:`eval_path`). Raises what
    training raises (``TrainingDiverged``, ``CheckpointError``) and what the metrics raise, unchanged.
    """

    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a rtc.models.TrainConfig, got {type(config).__name__}")
    settings = evaluation if evaluation is not None else EvalSettings()
    if not isinstance(settings, EvalSettings):
        raise TypeError(f"evaluation must be an EvalSettings, got {type(settings).__name__}")
    spec = as_dataset_spec(dataset)
    root = _results_root(results_dir)
    ds = spec.load()
    rd = run_dir(config, ds, root)
    path = eval_path(rd, settings, config.steps)
    if path.exists():
        result = _result(path, rd, config, spec, "cached", settings)
        _complete_curve(result, ds, settings, device)
        return result
    was_finished = (rd / FINAL).exists() and (read_run_file(rd / FINAL, f"Delete {rd} and train the run again.")
                                              .get("step", 0) >= config.steps)
    tr = train(config, ds, device=device, cache_dir=root / RUNS, progress=progress)
    if not tr.finished:  # train() without a time/step limit always finishes; guard the contract anyway
        raise RuntimeError(f"training of {rd} stopped at step {tr.steps_done} of {config.steps}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_suffix(".lock")):
        remove_orphans(path.parent)  # what evaluators of this run killed mid-write left behind
        if path.exists():  # a concurrent caller evaluated it while we waited
            result = _result(path, rd, config, spec, "cached", settings)
            _complete_curve(result, ds, settings, device)
            return result
        out = _evaluate(tr.model, ds, settings, device, progress)
        log_eta = tr.log.get("eta")
        out["row"] = {"run_key": rd.name, **run_settings(config, spec), "eval": settings.name,
                      "dci_estimator": settings.dci_estimator, "train_seconds": float(tr.seconds),
                      "final_eta": float(log_eta[-1]) if log_eta is not None and len(log_eta) else math.nan,
                      **out["row"]}
        write_evaluation(path, out)
    result = _result(path, rd, config, spec, "evaluated" if was_finished else "trained", settings)
    _complete_curve(result, ds, settings, device)
    return result
