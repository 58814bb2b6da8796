"""What a run's code says about each factor, at any kept step: held-out accuracy of a classifier per factor.

The learning check (:func:`rtc.experiments.comparison.learning.add_learning`) asks only whether a model left the
mean image; a model can pass it and still draw every shape as the same blob (the gallery's FactorVAE at 48,000
images). :func:`factor_accuracy` asks whether the code *separates* each factor's values: one random forest per
factor (the classifier of DCI's informativeness, :func:`rtc.metrics.dci.importance_matrix`, "random_forest") fit
on µ of ``train`` images and scored on ``test`` others. On dSprites the shape accuracy is the check the recipe
study uses: chance is 1/3 (three shapes, drawn uniformly), a code that separates them reaches 1.

:func:`cached_factor_accuracy` evaluates it for the weights a run kept after ``step`` steps, once: the result is
written atomically beside the run's evaluations (``eval/probe-<step>-<key>.json``, the key hashing the run, the
step, the settings and this module's code with the classifier's).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rtc._io import atomic_write_text
from rtc._source import files_digest
from rtc._validate import Config, check_int
from rtc.metrics.dci import importance_matrix
from rtc.models.encoding import encode

from .store import eval_dir

__all__ = ["ProbeSettings", "factor_accuracy", "probe_path", "cached_factor_accuracy", "CorruptProbe"]

PROBE_FORMAT = 1


@dataclass(frozen=True)
class ProbeSettings(Config):
    """``train`` + ``test`` seeded images (``seed``) per probe; the forest is :func:`rtc.metrics.dci`'s."""
    train: int = 2000
    test: int = 1000
    seed: int = 0

    def __post_init__(self):
        for name, minimum in (("train", 10), ("test", 10), ("seed", 0)):
            try:
                object.__setattr__(self, name, check_int(getattr(self, name), f"ProbeSettings.{name}",
                                                         minimum=minimum))
            except TypeError as e:
                raise ValueError(str(e)) from None


class CorruptProbe(ValueError):
    """A cached probe that cannot be read; the message names the file and says to delete it."""


def factor_accuracy(mu, factors, *, train: int, seed: int = 0) -> np.ndarray:
    """Held-out accuracy per factor of a random forest predicting the factor's value from the code.

    ``mu`` (N, L) codes, ``factors`` (N, F) integer factor values; the first ``train`` rows fit, the rest score.
    Returns (F,) accuracies in [0, 1]. A constant code gives the majority share of each factor (chance)."""
    mu, factors = np.asarray(mu, dtype=np.float64), np.asarray(factors)
    if mu.ndim != 2 or factors.ndim != 2 or len(mu) != len(factors):
        raise ValueError(f"mu (N, L) and factors (N, F) must have one row per image, got {mu.shape} and "
                         f"{factors.shape}")
    if not 1 <= train < len(mu):
        raise ValueError(f"train must leave test rows: 1 ≤ train < N = {len(mu)}, got {train}")
    if not np.isfinite(mu).all():
        raise ValueError("mu holds NaN or inf: the encoder's output is not a code to probe")
    _, _, acc = importance_matrix(mu[:train], factors[:train], mu[train:], factors[train:],
                                       estimator="random_forest", seed=seed)
    return acc


def _code() -> str:
    return files_digest([__file__, importance_matrix.__code__.co_filename])[:16]


def probe_path(run_dir: str | Path, settings: ProbeSettings, step: int) -> Path:
    """``<run dir>/eval/probe-<step>-<key>.json``; the key hashes the run, the step, the settings and the code."""
    blob = json.dumps({"run": Path(run_dir).name, "step": int(step), "settings": settings.to_dict(),
                       "code": _code()}, sort_keys=True)
    return eval_dir(run_dir) / f"probe-{int(step)}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}.json"


def cached_factor_accuracy(result, step: int, dataset, settings: ProbeSettings | None = None) -> dict:
    """``{factor name: held-out accuracy}`` of the weights ``result`` (a :class:`rtc.experiments.RunResult`) kept
    after ``step`` steps, on ``dataset`` (the run's, loaded); computed once and cached (module docstring)."""
    settings = settings or ProbeSettings()
    path = probe_path(result.run_dir, settings, step)
    if path.exists():
        try:
            doc = json.loads(path.read_text())
            if doc.get("format") != PROBE_FORMAT:
                raise ValueError(f"format {doc.get('format')!r}, expected {PROBE_FORMAT}")
            return {str(k): float(v) for k, v in doc["accuracy"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise CorruptProbe(f"{path} cannot be read ({type(e).__name__}: {str(e)[:200]}): delete it, and the "
                               "probe is computed again when next asked for") from e
    model = result.load_model() if step == result.config.steps else result.load_snapshot(step)
    enc = encode(model, dataset, n=settings.train + settings.test, seed=settings.seed,
                 device=next(model.parameters()).device, reconstruct=1)
    acc = factor_accuracy(enc.mu, enc.factors, train=settings.train, seed=settings.seed)
    out = {str(name): float(a) for name, a in zip(dataset.factor_names, acc, strict=True)}
    atomic_write_text(path, json.dumps({"format": PROBE_FORMAT, "step": int(step), "accuracy": out}, indent=1))
    return out
