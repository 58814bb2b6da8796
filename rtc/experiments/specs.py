"""What a run is, declared once: :class:`RunSpec` (a training configuration, a :class:`DatasetSpec`, the
:class:`EvalSettings` and the Ray resources of its task), with the evaluation presets (:data:`EVAL_PRESETS`) and a
run's identifying columns (:func:`run_settings`).

Both the grid (``rtc.experiments.grid``: which runs a profile has) and the results (``rtc.experiments.results``:
one run trained, evaluated and cached) import these declarations; neither imports the other for them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rtc._validate import Config, check_int, check_real, is_integer
from rtc.data import DATASETS, load_dataset
from rtc.metrics import ALL_METRICS
from rtc.models import TrainConfig

__all__ = ["EvalSettings", "EVAL_PRESETS", "DatasetSpec", "as_dataset_spec", "RunSpec", "check_resources",
           "run_settings"]


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
    curve_images: int = 1000         # images per point of a run's curve (rtc.experiments.curves), every kept step

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
    "ci": EvalSettings(name="ci", curve_images=100, num_tc=300, num_points=300, num_test=150,
                       dci_estimator="random_forest", chen_samples=50, score_batch=8, score_train=60, score_eval=30,
                       score_variance=200, dr_steps=20, dr_batch=32, dr_hidden=32, dr_layers=2),
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
        if self.name not in DATASETS:
            raise ValueError(f"unknown dataset {self.name!r}; choose one of {DATASETS}")
        if not is_integer(self.seed):
            raise ValueError(f"DatasetSpec.seed must be an int, got {self.seed!r}")

    def load(self):
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


def check_resources(cpus, gpus, names: tuple[str, str]) -> tuple[float, float]:
    """(cpus, gpus) as floats: Ray's resources of one run, named ``names`` in errors. cpus > 0; gpus ≥ 0, and a
    whole number above 1 (Ray shares a GPU between runs only in fractions of one)."""
    cpus = check_real(cpus, names[0], positive=True)
    gpus = check_real(gpus, names[1], minimum=0)
    if gpus > 1 and not gpus.is_integer():
        raise ValueError(f"{names[1]} above 1 must be a whole number of GPUs, got {gpus!r}")
    return cpus, gpus


@dataclass(frozen=True)
class RunSpec:
    """One run of a grid: a ``TrainConfig``, a dataset spec, evaluation settings and the Ray resources of its task
    (``cpus`` > 0, ``gpus`` ≥ 0; a fraction of a GPU shares one GPU between runs)."""
    config: object
    dataset: DatasetSpec
    evaluation: EvalSettings = EvalSettings()
    cpus: float = 1.0
    gpus: float = 0.0

    def __post_init__(self):
        if not isinstance(self.config, TrainConfig):
            raise TypeError(f"RunSpec.config must be a TrainConfig, got {type(self.config).__name__}")
        object.__setattr__(self, "dataset", as_dataset_spec(self.dataset))
        if not isinstance(self.evaluation, EvalSettings):
            raise TypeError(f"RunSpec.evaluation must be an EvalSettings, got {type(self.evaluation).__name__}")
        cpus, gpus = check_resources(self.cpus, self.gpus, ("RunSpec.cpus", "RunSpec.gpus"))
        object.__setattr__(self, "cpus", cpus)
        object.__setattr__(self, "gpus", gpus)

    @property
    def label(self) -> str:
        c = self.config
        return f"{c.model}(strength={c.strength:g}, seed={c.seed}, steps={c.steps}) on {self.dataset.name}"


def run_settings(config, spec: DatasetSpec) -> dict:
    """The identifying columns of a run's row (config fields that distinguish runs of a grid)."""
    return {"model": config.model, "dataset": spec.name, "strength": float(config.strength),
            "lambda_d": float("nan") if config.lambda_d is None else float(config.lambda_d),
            "tc_estimator": config.tc_estimator or "", "seed": int(config.seed), "steps": int(config.steps),
            "batch_size": int(config.batch_size), "latent_dim": int(config.latent_dim), "lr": float(config.lr),
            "warmup_steps": int(config.warmup_steps), "warmup_start": config.warmup_start,
            "disc_hidden": int(config.disc_hidden),
            "disc_layers": int(config.disc_layers), "eta_every": int(config.eta_every), "precision": config.precision}
