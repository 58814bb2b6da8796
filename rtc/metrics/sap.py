"""SAP — Separated Attribute Predictability (Kumar et al., 2018), two variants.

For each latent j and factor k a score S_jk measures how well z_j alone predicts v_k; SAP is the
mean over factors of the gap between the largest and second-largest score in column k:

    SAP = (1/F) Σ_k [ S_(1)k − S_(2)k ].

- ``continuous=True`` (the paper's Figures 7–8): S_jk = R² of the 1-D linear regression of v_k on
  z_j = Cov(z_j, v_k)² / (Var z_j · Var v_k) (sample moments, ddof = 1), on the training points
  only, as in the reference library; a latent with Var z_j ≤ 1e-12 scores 0 (the reference's
  threshold). v_k is the factor's grid index (an affine image of its value, which R² ignores).
- ``continuous=False`` (reference default): S_jk = test accuracy of
  ``LinearSVC(C=0.01, class_weight="balanced")`` fitted on (z_j, v_k) of the training points.
  A one-vs-rest linear classifier on a single feature separates few classes well and many
  poorly, so this variant stays well below 1 even for a perfect code when a factor has many
  values (e.g. 32 positions); compare variants only with each other.

Numbers move with: the variant, the train/test sample sizes (reference 10,000 / 5,000), the
SVC's C and class weights, and the split used when a single set is given
(:func:`rtc.metrics.sampling.split_train_test`, 1/3 held out).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from .sampling import check_pair, train_test_pair

__all__ = ["SAPResult", "sap", "sap_score_matrix", "r2_matrix", "top_two_gap"]


@dataclass
class SAPResult:
    """``score``: SAP; ``per_factor`` (F,): the top-two gaps; ``matrix`` (L, F): the scores S_jk; ``variant``."""
    score: float
    per_factor: np.ndarray
    matrix: np.ndarray
    variant: str

    def as_dict(self) -> dict:
        return {"sap_" + self.variant: self.score}


def top_two_gap(matrix) -> np.ndarray:
    """Per column of an (L, F) score matrix: largest − second largest (0 when L = 1 gives no second: the top value)."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape[0] == 1:
        return m[0].copy()
    s = np.sort(m, axis=0)
    return s[-1] - s[-2]


def r2_matrix(codes, factors) -> np.ndarray:
    """R² (L, F) of each latent with each factor: squared Pearson correlation; 0 for a latent of variance ≤ 1e-12."""
    c, f = check_pair(codes, factors)
    fc = f.astype(np.float64)
    cz = c - c.mean(0)
    cv = fc - fc.mean(0)
    n = c.shape[0]
    var_z = (cz ** 2).sum(0) / (n - 1)
    var_v = (cv ** 2).sum(0) / (n - 1)
    cov = cz.T @ cv / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = cov ** 2 / (var_z[:, None] * var_v[None, :])
    r2[var_z <= 1e-12, :] = 0.0
    # Clip to [0, 1]: Cauchy–Schwarz bounds R² by 1 exactly; round-off can exceed it by 1e-16.
    return np.clip(r2, 0.0, 1.0)


def _svc_matrix(c_tr, f_tr, c_te, f_te) -> np.ndarray:
    L, F = c_tr.shape[1], f_tr.shape[1]
    out = np.zeros((L, F))
    for j in range(L):
        for k in range(F):
            clf = LinearSVC(C=0.01, class_weight="balanced")
            with warnings.catch_warnings():
                # liblinear may stop at max_iter on a 1-D problem; the reference ignores this too.
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(c_tr[:, j:j + 1], f_tr[:, k])
            out[j, k] = np.mean(clf.predict(c_te[:, j:j + 1]) == f_te[:, k])
    return out


def sap_score_matrix(codes, factors, *, continuous: bool = False, codes_test=None, factors_test=None,
                     seed: int = 0) -> np.ndarray:
    """The (L, F) score matrix S of SAP (see module docstring for both variants)."""
    if continuous:
        return r2_matrix(codes, factors)
    c_tr, f_tr, c_te, f_te = train_test_pair(codes, factors, codes_test, factors_test, seed=seed)
    return _svc_matrix(c_tr, f_tr, c_te, f_te)


def sap(codes, factors, *, continuous: bool = False, codes_test=None, factors_test=None, seed: int = 0) -> SAPResult:
    """SAP score of codes (N, L) against factors (N, F); see the module docstring for variants and defaults."""
    m = sap_score_matrix(codes, factors, continuous=continuous, codes_test=codes_test, factors_test=factors_test,
                         seed=seed)
    gaps = top_two_gap(m)
    return SAPResult(float(gaps.mean()), gaps, m, "r2" if continuous else "svc")
