"""Modularity and explicitness (Ridgeway & Mozer, 2018), as implemented by the reference library.

**Modularity** from the (L, F) mutual-information matrix m (20-bin histogram MI, nats): for latent j
with θ_j = max_k m_jk,

    δ_j = (Σ_k m_jk² − θ_j²) / (θ_j² (F − 1)),   modularity = mean_j (1 − δ_j),

with 1 − δ_j set to 0 for a latent with θ_j = 0 (it carries nothing; the reference counts it as 0
in the mean). 1 when every latent informs about one factor at most.

**Explicitness**: per factor, a ``LogisticRegression`` on all (standardized) latents predicts v_k;
its one-vs-rest ROC AUC, macro-averaged over the factor's values, on training and test points;
the score is the mean over factors. Standardization uses the training mean and std (a constant
latent keeps std 1 instead of dividing by 0). We binarize labels with the classifier's own class
list (the reference's MultiLabelBinarizer re-fitted on the test labels breaks when a value is
missing from the test set); ``max_iter=1000`` instead of scikit-learn's default 100 (converges).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import label_binarize

from .mutual_info import mutual_info_matrix
from .sampling import MetricInputError, check_pair, split_train_test

__all__ = ["ModularityResult", "modularity", "modularity_from_mi", "explicitness", "explicitness_split",
           "modularity_explicitness"]


@dataclass
class ModularityResult:
    modularity: float
    explicitness_train: float
    explicitness_test: float

    def as_dict(self) -> dict:
        return {"modularity": self.modularity, "explicitness_train": self.explicitness_train,
                "explicitness_test": self.explicitness_test}


def modularity_from_mi(mi) -> float:
    """Modularity of an MI matrix (L, F), F ≥ 2 (module docstring)."""
    m = np.asarray(mi, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 2:
        raise MetricInputError(f"mi must be (L, F) with F ≥ 2, got {m.shape}")
    sq = m ** 2
    mx = sq.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (sq.sum(axis=1) - mx) / (mx * (m.shape[1] - 1))
    score = 1.0 - delta
    score[mx == 0] = 0.0
    return float(score.mean())


def modularity(codes, factors, *, num_bins: int = 20) -> float:
    """Modularity of codes (N, L) against factors (N, F) with the 20-bin histogram MI."""
    c, f = check_pair(codes, factors)
    return modularity_from_mi(mutual_info_matrix(c, f, num_bins=num_bins))


def _auc(clf, x, y) -> float:
    proba = clf.predict_proba(x)
    if len(clf.classes_) == 2:
        return float(roc_auc_score(y == clf.classes_[1], proba[:, 1]))
    yb = label_binarize(y, classes=clf.classes_)
    present = yb.any(axis=0) & ~yb.all(axis=0)  # AUC is undefined for a class absent from (or alone in) y
    return float(roc_auc_score(yb[:, present], proba[:, present], average="macro"))


def explicitness(codes, factors, codes_test, factors_test, *, seed: int = 0) -> tuple[float, float]:
    """(train, test) explicitness: mean over factors of the macro ROC AUC of a logistic regression."""

    c_tr, f_tr = check_pair(codes, factors)
    c_te, f_te = check_pair(codes_test, factors_test, codes_name="codes_test", factors_name="factors_test",
                            require_varying=False)
    mean, std = c_tr.mean(0), c_tr.std(0)
    std[std == 0] = 1.0
    x_tr, x_te = (c_tr - mean) / std, (c_te - mean) / std
    tr, te = [], []
    for k in range(f_tr.shape[1]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = LogisticRegression(max_iter=1000, random_state=seed).fit(x_tr, f_tr[:, k])
        tr.append(_auc(clf, x_tr, f_tr[:, k]))
        te.append(_auc(clf, x_te, f_te[:, k]))
    return float(np.mean(tr)), float(np.mean(te))


def modularity_explicitness(codes, factors, *, codes_test=None, factors_test=None, num_bins: int = 20,
                            seed: int = 0) -> ModularityResult:
    """Modularity and explicitness (train/test) of codes (N, L) against factors (N, F).

    Convention: modularity is computed on **all** of ``codes`` — the same number as
    :func:`modularity` on them (the reference library's training points, when a held-out set is
    given). Only explicitness needs held-out points: ``codes_test``/``factors_test``, or else a
    random third of ``codes`` is split off for it (the classifier trains on the other two thirds).
    """
    mod = modularity(codes, factors, num_bins=num_bins)
    e_tr, e_te = explicitness_split(codes, factors, codes_test=codes_test, factors_test=factors_test, seed=seed)
    return ModularityResult(mod, e_tr, e_te)


def explicitness_split(codes, factors, *, codes_test=None, factors_test=None, seed: int = 0) -> tuple[float, float]:
    """(train, test) :func:`explicitness` on ``codes_test``/``factors_test``, or — when they are not given — on a
    random third of ``codes`` split off as the test set (the classifier trains on the other two thirds)."""
    if codes_test is None or factors_test is None:
        codes, factors, codes_test, factors_test = split_train_test(codes, factors, seed=seed)
    return explicitness(codes, factors, codes_test, factors_test, seed=seed)
