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

import dataclasses
import hashlib
import json
import math
import os
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rtc._io import atomic_write, file_lock, remove_orphans
from rtc._source import files_digest
from rtc._validate import Config, check_int

__all__ = ["EvalSettings", "EVAL_PRESETS", "DatasetSpec", "as_dataset_spec", "RunResult", "run", "load_results",
           "cached_result", "results_table", "NotCached", "CorruptEvaluation", "RUNS", "run_dir", "eval_path",
           "eval_dir", "evaluation_files", "read_evaluation", "default_results_dir", "EVAL_CODE_MODULES",
           "EVAL_FORMAT"]

# <results_dir>/runs/<model>-<key>/: one folder per trained run (rtc.models.train's cache, keyed there)
RUNS = "runs"
# Version of the evaluation file's layout (the JSON's "format"); another number is a file this code cannot read.
EVAL_FORMAT = 1

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
    # comparison table) and no explicitness ("modularity" is the MI-based score alone; explicitness's logistic
    # regressions took 2–4 s a run and no chapter reads them). 25–35 s a run on one CPU thread instead of ≈ 7 min.
    # dr_steps stays 1,000 (a third of the evaluation's CPU time): the estimate has not converged there, and fewer
    # steps move it far outside its seed spread (β = 8, 200 steps, seeds 0–2 of the estimator: 1,000 steps
    # 7.05–8.97 nats, mean 7.87; 300 steps 4.84).
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


def _results_root(results_dir) -> Path:
    return Path(results_dir) if results_dir is not None else default_results_dir()


def run_dir(config, dataset, results_dir: str | Path | None = None) -> Path:
    """The folder of the run ``config`` (a :class:`rtc.models.TrainConfig`) on ``dataset``:
    ``<results_dir>/runs/<model>-<key>`` (:func:`rtc.models.train.run_dir_for`: the key hashes the configuration,
    the dataset's identity and the training code). ``dataset``: a :class:`DatasetSpec`, a name or a mapping
    (loaded here), or a dataset already loaded; ``results_dir``: default :func:`default_results_dir`."""
    from rtc.models.train import run_dir_for

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


class CorruptEvaluation(ValueError):
    """A cached evaluation file that cannot be read; the message names the file and says to delete it."""


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

    def _final(self) -> Path:
        from rtc.models.train import FINAL

        path = Path(self.run_dir) / FINAL
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: the run's weights were removed after it was evaluated; train "
                                    "it again (python -m rtc.sweep --profile <profile>, or rtc.sweep.run_grid)")
        return path

    def _final_state(self) -> dict:
        import torch

        from rtc.models import CheckpointError

        path = self._final()
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:
            raise CheckpointError(f"{path} cannot be read ({type(e).__name__}: {str(e)[:200]}); it is truncated or "
                                  f"corrupt: delete {self.run_dir} and train the run again") from e

    def load_model(self, device=None):
        """The trained VAE (the run's final weights), in eval mode, on ``device`` (default: CUDA if available)."""
        from rtc.models import load_model

        return load_model(self._final(), self.config, device=device)

    def load_snapshot(self, step: int, device=None):
        """The VAE of the weight snapshot taken after ``step`` training steps (one of :attr:`snapshots`), eval mode."""
        from rtc.models import load_model
        from rtc.models.train import snapshot_path

        path = snapshot_path(self.run_dir, step)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: the run {self.run_dir.name} has snapshots at steps "
                                    f"{self.snapshots} (TrainConfig.snapshot_every sets them)")
        return load_model(path, self.config, device=device)

    def training_log(self) -> pd.DataFrame:
        """The per-step log of training as a table of ``config.steps`` rows: ``step`` (1, 2, …: the log row of
        step k is written after k updates), then every logged term (:data:`rtc.models.train.LOG_KEYS`, float64)
        that is finite at some step — a term the model does not have (NaN throughout) is left out."""
        log = {k: np.asarray(v, dtype=np.float64) for k, v in self._final_state()["log"].items()}
        df = pd.DataFrame({"step": np.arange(1, self.config.steps + 1), **log})
        return df[["step"] + [k for k in log if np.isfinite(df[k]).any()]]

    @property
    def snapshots(self) -> list:
        """The steps at which a weight snapshot was saved, ascending (empty without ``snapshot_every``)."""
        return [int(k) for k in self._final_state()["snapshots"]]


def _rtc_root() -> Path:
    return Path(__file__).resolve().parents[1]


def eval_code_version() -> str:
    """sha256 (16 hex) of the evaluation code (:data:`EVAL_CODE_MODULES`; docstrings and comments do not count)."""
    root = _rtc_root()
    files = [f for rel in EVAL_CODE_MODULES
             for f in ((root / rel).rglob("*.py") if (root / rel).is_dir() else [root / rel])]
    return files_digest([f for f in files if f.relative_to(root).as_posix() not in EVAL_CODE_EXCLUDED])[:16]


def eval_dir(run_dir: str | Path) -> Path:
    """The folder of a run's evaluations (JSON files, their matrices, their locks)."""
    return Path(run_dir) / "eval"


def eval_path(run_dir: str | Path, settings: EvalSettings) -> Path:
    """Where the evaluation of the run in ``run_dir`` under ``settings`` is cached: ``eval/<name>-<key>.json`` (its
    matrices in the sibling ``.npz``)."""
    blob = json.dumps({"run": Path(run_dir).name, "settings": settings.to_dict(), "code": eval_code_version()},
                      sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return eval_dir(run_dir) / f"{settings.name}-{key}.json"


def evaluation_files(run_dir: str | Path) -> list[Path]:
    """The run's evaluation files (any settings, any evaluation code), newest first."""
    folder = eval_dir(run_dir)
    return sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []


def _json_scalar(v):
    """json.dumps' fallback: NumPy scalars as the Python number they hold exactly (np.float64 is a float already)."""
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    raise TypeError(f"an evaluation holds a {type(v).__name__} ({v!r:.80}), which has no exact JSON form")


def _table_doc(df: pd.DataFrame, where: str) -> dict:
    """A table as its column dtypes and its records. Only what JSON keeps exactly is accepted: unique string column
    names and the index 0 … n − 1 (which is not stored)."""
    if not df.index.equals(pd.RangeIndex(len(df))):
        raise ValueError(f"evaluation table {where}: its index must be 0 … n − 1 (it is not stored), got {df.index}")
    if not (df.columns.is_unique and all(isinstance(c, str) for c in df.columns)):
        raise ValueError(f"evaluation table {where}: column names must be unique strings, got {list(df.columns)}")
    return {"dtypes": {c: str(t) for c, t in df.dtypes.items()}, "records": df.to_dict("records")}


def _table(doc: dict) -> pd.DataFrame:
    records = doc["records"]
    # column by column with the stored dtype: an object column keeps its None, an int column its ints
    return pd.DataFrame({c: pd.Series([r[c] for r in records], dtype=t) for c, t in doc["dtypes"].items()},
                        index=pd.RangeIndex(len(records)))


def _write_evaluation(path: Path, out: dict) -> None:
    """Write ``out`` (what :func:`_evaluate` returns, its row completed) as ``path`` (JSON) and its ``.npz``."""
    doc = {"format": EVAL_FORMAT, "row": out["row"], "conventions": out["conventions"],
           "factor_names": list(out["factor_names"]), "per_factor": _table_doc(out["per_factor"], "per_factor"),
           "disintegration": {k: _table_doc(v, f"disintegration[{k!r}]") for k, v in out["disintegration"].items()}}
    text = json.dumps(doc, default=_json_scalar, indent=1)  # floats by repr: exact; NaN/inf as NaN/Infinity
    matrices = {k: np.asarray(v) for k, v in out["matrices"].items()}
    bad = [k for k, v in matrices.items() if v.dtype == object]
    if bad:
        raise TypeError(f"evaluation matrices {bad} are not numeric arrays")

    def write_npz(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to the temporary name
            np.savez(f, **matrices)

    atomic_write(path.with_suffix(".npz"), write_npz)
    atomic_write(path, lambda tmp: tmp.write_text(text))  # last: a JSON that exists means a complete entry


def read_evaluation(path: str | Path) -> dict:
    """A cached evaluation (``eval/<name>-<key>.json`` and its ``.npz``): dict with ``row``, ``matrices`` (name →
    array), ``per_factor`` (DataFrame), ``disintegration`` (name → DataFrame), ``factor_names`` (tuple) and
    ``conventions``, exactly as written. Raises :class:`CorruptEvaluation` naming the file when it cannot be read
    (and FileNotFoundError when the JSON does not exist)."""
    path = Path(path)
    npz = path.with_suffix(".npz")
    text = path.read_text()
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("format") != EVAL_FORMAT:
            raise ValueError(f"not an evaluation of format {EVAL_FORMAT}")
        with np.load(npz, allow_pickle=False) as z:
            matrices = {k: z[k] for k in z.files}
        return {"row": dict(doc["row"]), "matrices": matrices, "per_factor": _table(doc["per_factor"]),
                "disintegration": {k: _table(v) for k, v in doc["disintegration"].items()},
                "factor_names": tuple(doc["factor_names"]), "conventions": dict(doc["conventions"])}
    except (ValueError, KeyError, TypeError, AttributeError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise CorruptEvaluation(f"{path} cannot be read ({type(e).__name__}: {str(e)[:200]}): it is truncated, damaged "
                                f"or of another format; delete it and {npz.name} beside it, and the run is evaluated "
                                "again when next asked for") from e


def _result(path: Path, rd: Path, config, spec: DatasetSpec, status: str) -> RunResult:
    d = read_evaluation(path)
    return RunResult(d["row"], d["matrices"], d["per_factor"], d["disintegration"], d["factor_names"], rd, config,
                     spec, status, d["conventions"])


def cached_result(spec, *, results_dir: str | Path | None = None, datasets: dict | None = None) -> RunResult | None:
    """The cached evaluation of ``spec`` (a :class:`rtc.experiments.grid.RunSpec`) as a :class:`RunResult` (status
    "cached"), or None when its run is not trained or not evaluated with its settings under today's code. Reads
    only: never trains, never evaluates. ``datasets``: DatasetSpec → loaded dataset, filled and reused across calls
    (a real dataset file is then read once)."""
    from rtc.models.train import FINAL

    datasets = {} if datasets is None else datasets
    if spec.dataset not in datasets:
        datasets[spec.dataset] = spec.dataset.load()
    rd = run_dir(spec.config, datasets[spec.dataset], results_dir)
    path = eval_path(rd, spec.evaluation)
    if not (path.exists() and (rd / FINAL).exists()):
        return None
    return _result(path, rd, spec.config, spec.dataset, "cached")


def results_table(results: list[RunResult]) -> pd.DataFrame:
    """One row per result, in order: ``status``, then :attr:`RunResult.row`."""
    return pd.DataFrame([{"status": r.status, **r.row} for r in results])


def load_results(runs, *, results_dir: str | Path | None = None) -> tuple[pd.DataFrame, list[RunResult]]:
    """The cached evaluations of ``runs`` (:class:`rtc.experiments.grid.RunSpec` s): ``(table, results)``, one row
    (:func:`results_table`) and one :class:`RunResult` per run, in the order of ``runs``. Reads only — trains and
    evaluates nothing; raises :class:`NotCached` naming every run that is not trained, or not evaluated with its
    settings, under today's code (and the command that makes them)."""
    from rtc.models.train import FINAL

    from .grid import RunSpec

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
    from rtc.models import Encoding, encode, representation_stats
    from rtc.models.objectives import kl_normal

    t0 = time.perf_counter()
    # One seeded pool of images, encoded once and shared: its first num_tc are the TC block's (TC, kNN and
    # discriminator TC, recon — the only images decoded — and KL), its first num_points the metrics' training codes
    # and the next num_test their held-out ones, its first score_variance the FactorVAE score's global variances.
    # Only the FactorVAE / BetaVAE scores' fixed-factor batches are encoded apart.
    n_tc, n_tr, n_te = settings.num_tc, settings.num_points, settings.num_test
    pool = encode(model, ds, n=max(n_tc, n_tr + n_te, settings.score_variance), seed=settings.seed, device=device,
                  reconstruct=n_tc)
    enc = Encoding(pool.mu[:n_tc], pool.sigma[:n_tc], pool.z[:n_tc], pool.factors[:n_tc], pool.recon)
    stats = representation_stats(enc)
    logvar = 2 * np.log(pool.sigma)
    # KL(q(z|x) ‖ N(0, I)) per image, summed over dimensions (the objectives' formula, no constant dropped)
    kl = float(kl_normal(torch.from_numpy(enc.mu), torch.from_numpy(logvar[:n_tc])).sum(1).mean())
    diag = tc_diagnostics(enc.mu, enc.z, knn_k=settings.knn_k, knn_max_points=n_tc, seed=settings.seed)
    dev = next(model.parameters()).device
    dr = density_ratio_estimate(enc.mu, steps=settings.dr_steps, batch_size=settings.dr_batch,
                                hidden=settings.dr_hidden, layers=settings.dr_layers, seed=settings.seed, device=dev)

    def encode_fn(obs):
        return model.encode(obs.to(dev))

    metrics = settings.metrics if settings.metrics is not None else tuple(m for m in ALL_METRICS if m != "tc")
    tr, te = slice(0, n_tr), slice(n_tr, n_tr + n_te)
    ev = evaluate(pool.mu[tr], pool.factors[tr], samples=pool.z[tr], logvar=logvar[tr], codes_test=pool.mu[te],
                  factors_test=pool.factors[te], dataset=ds, encode_fn=encode_fn, metrics=list(metrics),
                  dci_estimator=settings.dci_estimator, chen_samples=settings.chen_samples,
                  score_kwargs={"batch_size": settings.score_batch, "num_train": settings.score_train,
                                "num_eval": settings.score_eval, "num_variance_estimate": settings.score_variance,
                                "variance_codes": pool.mu[:settings.score_variance]},
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
    ``<results_dir>/runs`` (:func:`run_dir`), their evaluations beside them (:func:`eval_path`). Raises what
    training raises (``TrainingDiverged``, ``CheckpointError``) and what the metrics raise, unchanged.
    """
    from rtc.models import TrainConfig
    from rtc.models.train import FINAL, train

    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a rtc.models.TrainConfig, got {type(config).__name__}")
    settings = evaluation if evaluation is not None else EvalSettings()
    if not isinstance(settings, EvalSettings):
        raise TypeError(f"evaluation must be an EvalSettings, got {type(settings).__name__}")
    spec = as_dataset_spec(dataset)
    root = _results_root(results_dir)
    ds = spec.load()
    rd = run_dir(config, ds, root)
    path = eval_path(rd, settings)
    if path.exists():
        return _result(path, rd, config, spec, "cached")
    was_finished = (rd / FINAL).exists()
    tr = train(config, ds, device=device, cache_dir=root / RUNS, progress=progress)
    if not tr.finished:  # train() without a time/step limit always finishes; guard the contract anyway
        raise RuntimeError(f"training of {rd} stopped at step {tr.steps_done} of {config.steps}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_suffix(".lock")):
        remove_orphans(path.parent)  # what evaluators of this run killed mid-write left behind
        if path.exists():  # a concurrent caller evaluated it while we waited
            return _result(path, rd, config, spec, "cached")
        out = _evaluate(tr.model, ds, settings, device, progress)
        log_eta = tr.log.get("eta")
        out["row"] = {"run_key": rd.name, **run_settings(config, spec), "eval": settings.name,
                      "dci_estimator": settings.dci_estimator, "train_seconds": float(tr.seconds),
                      "final_eta": float(log_eta[-1]) if log_eta is not None and len(log_eta) else math.nan,
                      **out["row"]}
        _write_evaluation(path, out)
    return _result(path, rd, config, spec, "evaluated" if was_finished else "trained")
