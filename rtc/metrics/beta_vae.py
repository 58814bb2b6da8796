"""BetaVAE score (Higgins et al., 2017), as implemented by the reference library.

One training point: draw a factor index k uniformly; draw two batches of ``batch_size`` factor
combinations, copy v_k of the first into the second (so each pair shares v_k and nothing else,
except by chance); encode both; the feature is mean_b |z¹_b − z²_b| (L,) and the label is k. A
linear classifier predicts k from the feature; the score is its accuracy on ``num_eval`` fresh
points (training accuracy is reported too). A perfect code makes feature k ≈ 0 → accuracy 1;
a code that ignores the factors leaves only chance, 1/F (not 0).

Reference defaults: batch_size 64, num_train 10,000, num_eval 5,000 — that encodes
2 × 64 × 15,000 = 1.92 M images, so reduced settings are the norm on a CPU (say so).
Classifier: ``LogisticRegression(max_iter=1000, random_state=seed)`` (the reference uses
scikit-learn's default max_iter = 100, which may stop before convergence; ours converges and can
score slightly differently).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression

from .sampling import MetricInputError, as_rng, representations

__all__ = ["BetaVAEResult", "beta_vae_score", "beta_vae_features"]


@dataclass
class BetaVAEResult:
    train_accuracy: float
    eval_accuracy: float
    num_train: int
    num_eval: int
    batch_size: int

    def as_dict(self) -> dict:
        return {"beta_vae_train": self.train_accuracy, "beta_vae_eval": self.eval_accuracy}


def beta_vae_features(dataset, representation_fn: Callable, num_points: int, rng, *, batch_size: int = 64,
                      encode_batch: int = 1024, device=None) -> tuple[np.ndarray, np.ndarray]:
    """(features (num_points, L), labels (num_points,)) of the BetaVAE score (module docstring)."""
    if num_points < 1 or batch_size < 1:
        raise MetricInputError(f"num_points and batch_size must be ≥ 1, got {num_points}, {batch_size}")
    rng = as_rng(rng)
    F = len(dataset.factor_sizes)
    labels = rng.integers(F, size=num_points)
    f1 = np.asarray(dataset.sample_factors(num_points * batch_size, rng), dtype=np.int64)
    f2 = np.asarray(dataset.sample_factors(num_points * batch_size, rng), dtype=np.int64)
    rows = np.arange(num_points * batch_size)
    k = np.repeat(labels, batch_size)
    f2[rows, k] = f1[rows, k]
    z1 = representations(dataset, representation_fn, f1, batch_size=encode_batch, device=device)
    z2 = representations(dataset, representation_fn, f2, batch_size=encode_batch, device=device)
    feats = np.abs(z1 - z2).reshape(num_points, batch_size, -1).mean(1)
    return feats, labels


def beta_vae_score(dataset, representation_fn: Callable, *, batch_size: int = 64, num_train: int = 10000,
                   num_eval: int = 5000, seed: int = 0, device=None, encode_batch: int = 1024) -> BetaVAEResult:
    """BetaVAE score of ``representation_fn`` on ``dataset`` (module docstring: procedure and defaults)."""

    rng = as_rng(seed)
    x_tr, y_tr = beta_vae_features(dataset, representation_fn, num_train, rng, batch_size=batch_size,
                                   encode_batch=encode_batch, device=device)
    x_ev, y_ev = beta_vae_features(dataset, representation_fn, num_eval, rng, batch_size=batch_size,
                                   encode_batch=encode_batch, device=device)
    if len(np.unique(y_tr)) < 2:
        raise MetricInputError(f"num_train={num_train} drew a single factor index; use more training points")
    clf = LogisticRegression(max_iter=1000, random_state=seed).fit(x_tr, y_tr)
    return BetaVAEResult(float(np.mean(clf.predict(x_tr) == y_tr)), float(np.mean(clf.predict(x_ev) == y_ev)),
                         num_train, num_eval, batch_size)
