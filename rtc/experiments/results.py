"""One run = train + evaluate, both cached: :func:`run`.

``run(config, "dsprites", evaluation=EvalSettings.preset("fast"), results_dir=...)``

1. **train** — :func:`rtc.models.train.train` with ``cache_dir = <results_dir>/runs``: it loads a finished
   run, resumes one from its last checkpoint, or trains it (concurrent callers of one run are
   serialised by its lock);
2. **evaluate** the trained encoder:

   - :func:`rtc.models.encode` on ``num_tc`` images (5,000, as in the paper) → µ, σ, z; from them
     TC_mean / TC_sample (Proposition 1 on the sample covariance; all and active dimensions),
     active dimensions (Var µ_k > 0.01), E[σ²] per dimension and its sum (RTC-VAE's term), the
     reconstruction error (Bernoulli −log p(x | z = µ), nats per image) and the KL to the prior
     (nats per image, summed over dimensions, exact);
   - the kNN (KSG) TC of µ and of z (``rtc.metrics.tc_diagnostics``, latents standardised) and
     the held-out discriminator TC of µ (``rtc.estimators.density_ratio_estimate``) on the same
     images;
   - every metric of ``rtc.metrics.evaluate`` (SAP, MIG in both conventions, DCI, modularity and
     explicitness, disintegration, BetaVAE and FactorVAE scores) on ``num_points`` + ``num_test``
     images of its own, with the R², MI, normalised-MI and DCI-importance matrices.

3. **cache** the evaluation beside the run: ``<run dir>/eval/<settings name>-<key>.pkl`` where the
   key hashes the run directory's name (itself a hash of the configuration, the dataset and the
   training code), every field of the :class:`EvalSettings` and the source of the evaluation code
   (:data:`EVAL_CODE_MODULES`: this module, ``rtc.metrics`` but its plotting, the kNN and
   density-ratio estimators, ``rtc.models.encoding``; comments and docstrings do not count). The
   file is written by :func:`rtc._io.atomic_write` (unique temporary name, fsync, rename); an
   exclusive lock on ``<key>.lock`` makes a second concurrent caller wait and then read the first
   one's result instead of evaluating again, and its holder removes the temporary files of
   evaluators that were killed.

The result is one tidy row (:attr:`RunResult.row`: the run's settings, then one number per
column) plus the matrices (latents × factors), the per-factor table and the disintegration tables.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rtc._io import atomic_write, file_lock, remove_orphans
from rtc._source import files_digest
from rtc._validate import Config, check_int

__all__ = ["EvalSettings", "EVAL_PRESETS", "DatasetSpec", "as_dataset_spec", "RunResult", "run", "eval_path",
           "default_results_dir", "EVAL_CODE_MODULES"]

# Source files whose change invalidates a cached evaluation (paths relative to the rtc package).
EVAL_CODE_MODULES = ("experiments/results.py", "metrics", "estimators/knn.py", "estimators/density_ratio.py",
                     "discriminator.py", "models/encoding.py", "gaussian.py")
# Files inside those that draw but compute nothing an evaluation stores.
EVAL_CODE_EXCLUDED = ("metrics/plots.py",)


@dataclass(frozen=True)
class EvalSettings(Config):
    """How a trained encoder is evaluated; every field enters the evaluation's cache key.

    ``name`` labels the settings in the row (column ``eval``): "reference" are the paper's and the
    reference library's sizes (TC on 5,000 images, metrics on 10,000 + 5,000, DCI with gradient
    boosting, the 6 × 1000 discriminator); "fast" keeps the estimators but uses fewer codes and DCI
    with a random forest (CPU); "ci" is tiny and only exercises the code.
    """
    name: str = "reference"
    num_tc: int = 5000               # images for TC_mean/TC_sample, kNN and discriminator TC, recon, KL
    num_points: int = 10000          # rtc.metrics.evaluate: training codes of the metrics
    num_test: int = 5000             # rtc.metrics.evaluate: held-out codes
    dci_estimator: str = "gbt"       # "gbt" (reference) or "random_forest" (fast)
    chen_samples: int = 2000         # Monte Carlo queries per entropy of Chen et al.'s MIG
    score_batch: int = 64            # BetaVAE / FactorVAE score: images per vote / feature
    score_train: int = 10000
    score_eval: int = 5000
    score_variance: int = 10000      # FactorVAE score: images for the global variances
    knn_k: int = 3
    dr_steps: int = 2000             # held-out density-ratio TC of µ: discriminator steps, batch, size
    dr_batch: int = 256
    dr_hidden: int = 1000
    dr_layers: int = 6
    seed: int = 0
    metrics: tuple | None = None     # names for rtc.metrics.evaluate (None: all but its own "tc")

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"EvalSettings.name must be an identifier-like string, got {self.name!r}")
        for f in dataclasses.fields(self):
            if f.type == "int":
                minimum = 0 if f.name == "seed" else 1
                try:
                    object.__setattr__(self, f.name, check_int(getattr(self, f.name), f"EvalSettings.{f.name}",
                                                               minimum=minimum))
                except TypeError as e:  # a settings value of the wrong type is a bad value, like one out of range
                    raise ValueError(str(e)) from None
        if self.dci_estimator not in ("gbt", "random_forest"):
            raise ValueError(f"EvalSettings.dci_estimator must be 'gbt' or 'random_forest', "
                             f"got {self.dci_estimator!r}")
        if round(0.5 * self.num_tc) < 2 * self.dr_batch:  # density_ratio_estimate trains on half the codes
            raise ValueError(f"EvalSettings.num_tc={self.num_tc} is too small for the discriminator TC: its "
                             f"training half needs ≥ 2·dr_batch = {2 * self.dr_batch} codes")
        if self.metrics is not None:
            from rtc.metrics import ALL_METRICS
            object.__setattr__(self, "metrics", tuple(self.metrics))
            bad = [m for m in self.metrics if m not in ALL_METRICS or m == "tc"]
            if bad:
                raise ValueError(f"EvalSettings.metrics: unknown {bad}; choose from "
                                 f"{[m for m in ALL_METRICS if m != 'tc']} (the TC block is always computed)")

    @classmethod
    def preset(cls, name: str, **overrides) -> "EvalSettings":
        """A named preset (:data:`EVAL_PRESETS`) with some fields replaced."""
        if name not in EVAL_PRESETS:
            raise ValueError(f"unknown evaluation preset {name!r}; choose from {sorted(EVAL_PRESETS)}")
        return dataclasses.replace(EVAL_PRESETS[name], **overrides)


EVAL_PRESETS = {
    "reference": EvalSettings(),
    "fast": EvalSettings(name="fast", num_points=4000, num_test=2000, dci_estimator="random_forest",
                         chen_samples=500, score_batch=32, score_train=1000, score_eval=500, score_variance=4000,
                         dr_steps=1000),
    # "lean": the default (CPU) profile's training grid — "fast" with the cheaper discriminator TC (4 × 256, 1,000
    # steps: compare its values only at equal settings) and a smaller FactorVAE score; no BetaVAE score (not in the
    # comparison table). ≈ 1 minute a run on one CPU thread instead of ≈ 7.
    "lean": EvalSettings(name="lean", num_points=4000, num_test=2000, dci_estimator="random_forest",
                         chen_samples=500, score_batch=16, score_train=500, score_eval=250, score_variance=4000,
                         dr_steps=1000, dr_hidden=256, dr_layers=4,
                         metrics=("sap_r2", "sap_svc", "mig", "mig_chen", "dci", "modularity", "disintegration",
                                  "factor_vae")),
    "ci": EvalSettings(name="ci", num_tc=300, num_points=300, num_test=150, dci_estimator="random_forest",
                       chen_samples=50, score_batch=8, score_train=60, score_eval=30, score_variance=200,
                       dr_steps=20, dr_batch=32, dr_hidden=32, dr_layers=2),
}


@dataclass(frozen=True)
class DatasetSpec:
    """What :func:`rtc.data.load_dataset` gets: a name, the procedural seed, optionally real files.

    A spec (not a dataset object) travels to Ray workers; each loads the dataset itself.
    """
    name: str
    seed: int = 0
    path: str | None = None

    def __post_init__(self):
        from rtc.data import DATASETS
        if self.name not in DATASETS:
            raise ValueError(f"unknown dataset {self.name!r}; choose one of {DATASETS}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"DatasetSpec.seed must be an int, got {self.seed!r}")

    def load(self):
        from rtc.data import load_dataset
        return load_dataset(self.name, path=self.path, seed=self.seed)


def as_dataset_spec(dataset) -> DatasetSpec:
    """A :class:`DatasetSpec` from a spec, a name, or a mapping of its fields."""
    if isinstance(dataset, DatasetSpec):
        return dataset
    if isinstance(dataset, str):
        return DatasetSpec(dataset)
    if isinstance(dataset, dict):
        return DatasetSpec(**dataset)
    raise TypeError(f"dataset must be a DatasetSpec, a dataset name or a mapping, got {type(dataset).__name__} "
                    "(a dataset object cannot be sent to Ray workers; pass its name)")


def default_results_dir() -> Path:
    """``$RTC_RESULTS_DIR``, else ``<repository root>/results``, else ``./results`` (absolute)."""
    if os.environ.get("RTC_RESULTS_DIR"):
        return Path(os.environ["RTC_RESULTS_DIR"]).expanduser().resolve()
    try:
        from rtc.params import find_root
        return find_root() / "results"
    except FileNotFoundError:
        return Path("results").resolve()


@dataclass
class RunResult:
    """One evaluated run.

    ``row``: dict of the run's settings and scalar results (the module docstring lists them);
    ``matrices``: name → array — "r2", "sap_svc", "mi", "nmi", "nmi_chen", "dci_importance" (L, F),
    "var_mu", "mean_sigma2" (L,); ``per_factor``: ``rtc.metrics.evaluate``'s rows that name a factor
    (metric, factor, value, convention); ``disintegration``: "nmi"/"r2" → per-factor table;
    ``status``: how this call got it — "cached" (evaluation cache hit), "evaluated" (finished run
    loaded, evaluation computed), "trained" (trained or resumed here, then evaluated).
    """
    row: dict
    matrices: dict
    per_factor: pd.DataFrame
    disintegration: dict
    factor_names: tuple
    run_dir: Path
    status: str = "cached"
    conventions: dict = field(default_factory=dict)


def _rtc_root() -> Path:
    return Path(__file__).resolve().parents[1]


def eval_code_version() -> str:
    """sha256 (16 hex) of the evaluation code (:data:`EVAL_CODE_MODULES`; docstrings and comments do not count)."""
    root = _rtc_root()
    files = [f for rel in EVAL_CODE_MODULES for f in ((root / rel).rglob("*.py") if (root / rel).is_dir() else [root / rel])]
    return files_digest([f for f in files if f.relative_to(root).as_posix() not in EVAL_CODE_EXCLUDED])[:16]


def eval_path(run_dir: str | Path, settings: EvalSettings) -> Path:
    """Where the evaluation of the run in ``run_dir`` under ``settings`` is cached."""
    blob = json.dumps({"run": Path(run_dir).name, "settings": settings.to_dict(), "code": eval_code_version()},
                      sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return Path(run_dir) / "eval" / f"{settings.name}-{key}.pkl"


def _atomic_pickle(obj, path: Path) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)))


def _read(path: Path, run_dir: Path, status: str) -> RunResult:
    with open(path, "rb") as f:
        d = pickle.load(f)
    return RunResult(d["row"], d["matrices"], d["per_factor"], d["disintegration"], tuple(d["factor_names"]),
                     run_dir, status, d.get("conventions", {}))


def run_settings(config, spec: DatasetSpec) -> dict:
    """The identifying columns of a run's row (config fields that distinguish runs of a grid)."""
    return {"model": config.model, "dataset": spec.name, "strength": float(config.strength),
            "lambda_d": float("nan") if config.lambda_d is None else float(config.lambda_d),
            "tc_estimator": config.tc_estimator or "", "seed": int(config.seed), "steps": int(config.steps),
            "batch_size": int(config.batch_size), "latent_dim": int(config.latent_dim), "lr": float(config.lr),
            "warmup_steps": int(config.warmup_steps), "warmup_start": config.warmup_start,
            "disc_hidden": int(config.disc_hidden),
            "disc_layers": int(config.disc_layers), "eta_every": int(config.eta_every), "precision": config.precision}


def _evaluate(model, ds, settings: EvalSettings, device, progress: bool) -> dict:
    import torch

    from rtc.estimators import density_ratio_estimate
    from rtc.metrics import ALL_METRICS, evaluate, tc_diagnostics
    from rtc.models import encode, representation_stats

    t0 = time.perf_counter()
    enc = encode(model, ds, n=settings.num_tc, seed=settings.seed, device=device)
    stats = representation_stats(enc)
    # KL(q(z|x) ‖ N(0, I)) per image, summed over dimensions (the objectives' formula, no constant dropped)
    from rtc.models.objectives import kl_normal
    kl = float(kl_normal(torch.from_numpy(enc.mu), torch.from_numpy(2 * np.log(enc.sigma))).sum(1).mean())
    diag = tc_diagnostics(enc.mu, enc.z, knn_k=settings.knn_k, knn_max_points=settings.num_tc, seed=settings.seed)
    dev = next(model.parameters()).device
    dr = density_ratio_estimate(enc.mu, steps=settings.dr_steps, batch_size=settings.dr_batch,
                                hidden=settings.dr_hidden, layers=settings.dr_layers, seed=settings.seed, device=dev)

    def encode_fn(obs):
        return model.encode(obs.to(dev))

    metrics = settings.metrics if settings.metrics is not None else tuple(m for m in ALL_METRICS if m != "tc")
    ev = evaluate(dataset=ds, encode_fn=encode_fn, num_points=settings.num_points, num_test=settings.num_test,
                  metrics=list(metrics), dci_estimator=settings.dci_estimator, chen_samples=settings.chen_samples,
                  score_kwargs={"batch_size": settings.score_batch, "num_train": settings.score_train,
                                "num_eval": settings.score_eval, "num_variance_estimate": settings.score_variance},
                  seed=settings.seed, device=dev, progress=progress)
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
    ``<results_dir>/runs``, their evaluations beside them. Raises what training raises
    (``TrainingDiverged``, ``CheckpointError``) and what the metrics raise, unchanged.
    """
    from rtc.models import TrainConfig, run_dir_for
    from rtc.models.train import train

    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a rtc.models.TrainConfig, got {type(config).__name__}")
    settings = evaluation if evaluation is not None else EvalSettings()
    if not isinstance(settings, EvalSettings):
        raise TypeError(f"evaluation must be an EvalSettings, got {type(settings).__name__}")
    spec = as_dataset_spec(dataset)
    results_dir = Path(results_dir) if results_dir is not None else default_results_dir()
    cache_dir = results_dir / "runs"
    ds = spec.load()
    run_dir = run_dir_for(config, ds, cache_dir)
    path = eval_path(run_dir, settings)
    if path.exists():
        return _read(path, run_dir, "cached")
    was_finished = (run_dir / "final.pt").exists()
    tr = train(config, ds, device=device, cache_dir=cache_dir, progress=progress)
    if not tr.finished:  # train() without a time/step limit always finishes; guard the contract anyway
        raise RuntimeError(f"training of {run_dir} stopped at step {tr.steps_done} of {config.steps}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_suffix(".lock")):
        remove_orphans(path.parent)  # what evaluators of this run killed mid-write left behind
        if path.exists():  # a concurrent caller evaluated it while we waited
            return _read(path, run_dir, "cached")
        out = _evaluate(tr.model, ds, settings, device, progress)
        log_eta = tr.log.get("eta")
        out["row"] = {"run_key": run_dir.name, **run_settings(config, spec), "eval": settings.name,
                      "dci_estimator": settings.dci_estimator, "train_seconds": float(tr.seconds),
                      "final_eta": float(log_eta[-1]) if log_eta is not None and len(log_eta) else math.nan,
                      **out["row"]}
        _atomic_pickle(out, path)
    return _read(path, run_dir, "evaluated" if was_finished else "trained")
