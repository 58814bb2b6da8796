"""One call that scores a representation with every metric and diagnostic: :func:`evaluate`.

Two ways in:

- raw arrays: ``evaluate(codes, factors, samples=..., logvar=...)`` — codes (N, L) are the mean
  representation, ``samples`` (N, L) the sampled one (TC_sample), ``logvar`` (N, L) enables Chen's MIG;
  an optional held-out set (``codes_test``, ``factors_test``) is used by SAP-svc, DCI and explicitness
  (otherwise 1/3 of the points is split off). BetaVAE/FactorVAE scores need a dataset and are skipped.
- a model: ``evaluate(dataset=ds, encode_fn=f)`` with ``f(obs float32 (n, C, 64, 64)) -> mean (n, L)`` or
  ``(mean, logvar)``; ``num_points`` (10,000) training and ``num_test`` (5,000) held-out points are drawn
  uniformly over the factor grid and encoded (reference library sizes; the paper evaluates TC on 5,000);
  samples are z = µ + exp(logvar/2)·ε with a seeded ε. BetaVAE/FactorVAE scores use the means, with
  ``score_kwargs`` (e.g. ``{"num_train": 1000, "num_eval": 500}``) passed to both (``variance_codes`` to the
  FactorVAE score only).
- both: ``evaluate(codes, factors, ..., dataset=ds, encode_fn=f)`` — the array metrics score the codes given
  (encoded once by the caller and shared with its other estimates, as ``rtc.experiments.results`` does) and
  ``dataset`` + ``encode_fn`` serve only the BetaVAE/FactorVAE scores, which encode batches of their own
  (a fixed factor per batch) that no uniform sample can stand in for.

Returns an :class:`Evaluation`: a tidy table (one row per number: metric, factor or None, value,
convention — the convention says which estimator / variant produced it), the matrices (L, F) and
the disintegration tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from . import beta_vae as _beta
from . import factor_vae as _fvae
from .dci import dci
from .diagnostics import disintegration, disintegration_index, tc_diagnostics
from .mig import mig, mig_chen, normalized_mi_matrix
from .modularity import explicitness_split, modularity
from .sampling import MetricInputError, as_codes, as_rng, check_pair
from .sap import r2_matrix, sap

__all__ = ["Evaluation", "evaluate", "ALL_METRICS", "ARRAY_METRICS"]

ARRAY_METRICS = ("tc", "sap_r2", "sap_svc", "mig", "mig_chen", "dci", "modularity", "explicitness", "disintegration")
ALL_METRICS = ARRAY_METRICS + ("beta_vae", "factor_vae")


@dataclass
class Evaluation:
    """``table``: columns metric, factor, value, convention; ``matrices``: name → (L, F) (or (L,)) arrays;
    ``disintegration``: score-matrix name ("nmi", "r2") → per-factor table; ``factor_names``."""
    table: pd.DataFrame
    matrices: dict = field(default_factory=dict)
    disintegration: dict = field(default_factory=dict)
    factor_names: tuple = ()

    def value(self, metric: str) -> float:
        """The model-level value of ``metric`` (a row with factor None); KeyError naming the known metrics."""
        rows = self.table[(self.table["metric"] == metric) & self.table["factor"].isna()]
        if rows.empty:
            raise KeyError(f"no metric {metric!r}; have {sorted(self.table['metric'].unique())}")
        return float(rows["value"].iloc[0])


def _split_encoding(out):
    if isinstance(out, (tuple, list)):
        if len(out) != 2:
            raise MetricInputError("encode_fn must return mean (n, L) or a pair (mean, logvar)")
        return out[0], out[1]
    return out, None


def _to_np(x):
    return None if x is None else (x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x))


def _encode(dataset, encode_fn, factors, batch_size, device):
    """(mean (n, L), logvar (n, L) or None) float64 of the encoded observations; non-finite output raises."""
    means, logvars = [], []
    for s in range(0, len(factors), batch_size):
        with torch.no_grad():
            m, lv = _split_encoding(encode_fn(dataset.observations(factors[s:s + batch_size], device=device)))
        means.append(_to_np(m))
        logvars.append(_to_np(lv))
    mean = as_codes(np.concatenate(means), "encode_fn output (mean)")
    logvar = None if logvars[0] is None else as_codes(np.concatenate(logvars), "encode_fn output (logvar)")
    return mean, logvar


@dataclass
class _Inputs:
    """What every metric of one :func:`evaluate` call reads: the checked codes (N, L), factors (N, F), sampled codes
    and logvar (N, L) or None, the held-out pair or None, factor names (F,), the options, and the outputs being
    filled: ``rows`` (the table's records), ``mats`` and ``dis``."""
    codes: np.ndarray
    factors: np.ndarray
    samples: np.ndarray | None
    logvar: np.ndarray | None
    codes_test: np.ndarray | None
    factors_test: np.ndarray | None
    names: tuple
    dataset: object
    encode_fn: Callable | None
    num_bins: int
    dci_estimator: str
    chen_exclude: tuple
    chen_samples: int
    score_kwargs: dict
    seed: int
    device: object
    rows: list = field(default_factory=list)
    mats: dict = field(default_factory=dict)
    dis: dict = field(default_factory=dict)

    @property
    def test(self) -> dict:
        return dict(codes_test=self.codes_test, factors_test=self.factors_test)

    def add(self, metric, value, convention, factor=None):
        self.rows.append(dict(metric=metric, factor=factor, value=float(value), convention=convention))

    def add_per_factor(self, metric, score, per_factor, convention, factors=None):
        """The model-level ``score``, then one row per factor (``factors``: their indices, default all)."""
        self.add(metric, score, convention)
        for col, k in enumerate(range(len(self.names)) if factors is None else factors):
            self.add(metric, per_factor[col], convention, self.names[k])

    def repr_fn(self, obs):
        return _to_np(_split_encoding(self.encode_fn(obs))[0])


def _tc(x: _Inputs):
    t = tc_diagnostics(x.codes, x.samples, seed=x.seed)
    for k, v in t.as_dict().items():
        x.add(k, v, "Prop. 1 on the sample covariance" if "gaussian" in k else
              ("kNN (rtc.estimators.knn_tc)" if "knn" in k else "std ≥ 0.05"))
    x.mats["mean_variance"] = t.mean_variance


def _sap(name: str):
    def metric(x: _Inputs):
        r = sap(x.codes, x.factors, continuous=(name == "sap_r2"), seed=x.seed, **x.test)
        conv = "R² of one latent (train points)" if name == "sap_r2" else "LinearSVC(C=0.01, balanced) test accuracy"
        x.add_per_factor(name, r.score, r.per_factor, conv)
        x.mats["r2" if name == "sap_r2" else "sap_svc"] = r.matrix
    return metric


def _mig(x: _Inputs):
    r = mig(x.codes, x.factors, num_bins=x.num_bins)
    x.add_per_factor("mig_ref", r.score, r.per_factor,
                     f"reference: means, {x.num_bins}-bin histogram MI, N={len(x.codes)}")
    x.mats["mi"], x.mats["nmi"] = r.mi, r.normalized


def _mig_chen(x: _Inputs):
    r = mig_chen(x.codes, x.logvar, x.factors, exclude=x.chen_exclude, num_samples=x.chen_samples, seed=x.seed,
                 device=x.device)
    conv = (f"Chen et al.: q(z|x) samples, MC entropies over N={len(x.codes)} points, "
            f"excluded {tuple(x.chen_exclude)}")
    x.add_per_factor("mig_chen", r.score, r.per_factor, conv, factors=r.factors)
    full = np.full((x.codes.shape[1], x.factors.shape[1]), np.nan)
    full[:, list(r.factors)] = r.normalized
    x.mats["nmi_chen"] = full


def _dci(x: _Inputs):
    r = dci(x.codes, x.factors, estimator=x.dci_estimator, seed=x.seed, **x.test)
    for k, v in r.as_dict().items():
        x.add(k, v, f"{x.dci_estimator} importances / accuracy")
    x.mats["dci_importance"] = r.importance


def _modularity(x: _Inputs):
    x.add("modularity", modularity(x.codes, x.factors, num_bins=x.num_bins),
          f"{x.num_bins}-bin histogram MI on all N={len(x.codes)} codes (never a split: equals "
          "modularity(codes, factors))")


def _explicitness(x: _Inputs):
    e_tr, e_te = explicitness_split(x.codes, x.factors, seed=x.seed, **x.test)
    split = "held-out set given" if x.codes_test is not None else "1/3 of the codes split off as test"
    x.add("explicitness_train", e_tr, f"LogisticRegression macro ROC AUC; {split}")
    x.add("explicitness_test", e_te, f"LogisticRegression macro ROC AUC; {split}")


def _disintegration(x: _Inputs):
    for key, mat in (("nmi", x.mats.get("nmi")), ("r2", x.mats.get("r2"))):
        if mat is None:
            mat = normalized_mi_matrix(x.codes, x.factors, num_bins=x.num_bins) if key == "nmi" \
                else r2_matrix(x.codes, x.factors)
            x.mats[key] = mat
        table = disintegration(mat, codes=x.codes, factor_names=x.names, num_bins=x.num_bins)
        x.dis[key] = table
        conv = f"{key} matrix: mean over captured factors of s2/s1 × [top two latents dedicated]"
        x.add(f"disintegration_{key}", disintegration_index(table), conv)
        x.add(f"disintegrated_factors_{key}", table["disintegrated"].sum(), "count of flagged factors")


def _beta_vae(x: _Inputs):
    kw = x.score_kwargs
    bkw = {k: v for k, v in kw.items() if k in ("batch_size", "num_train", "num_eval", "encode_batch")}
    r = _beta.beta_vae_score(x.dataset, x.repr_fn, seed=x.seed, device=x.device, **bkw)
    conv = f"LogisticRegression; batch {r.batch_size}, {r.num_train} train / {r.num_eval} eval points"
    for k, v in r.as_dict().items():
        x.add(k, v, conv)


def _factor_vae(x: _Inputs):
    kw = x.score_kwargs
    r = _fvae.factor_vae_score(x.dataset, x.repr_fn, seed=x.seed, device=x.device, **kw)
    shown = {a: b for a, b in kw.items() if a != "variance_codes"}
    if "variance_codes" in kw:  # the codes themselves, not their count, were used
        shown.pop("num_variance_estimate", None)
        shown["variance_codes"] = f"{len(kw['variance_codes'])} shared codes"
    for k, v in r.as_dict().items():
        x.add(k, v, "majority vote; " + ", ".join(f"{a}={b}" for a, b in shown.items()))


# One function per metric name, each adding its rows, matrices and disintegration tables to the _Inputs.
_METRICS = {"tc": _tc, "sap_r2": _sap("sap_r2"), "sap_svc": _sap("sap_svc"), "mig": _mig, "mig_chen": _mig_chen,
            "dci": _dci, "modularity": _modularity, "explicitness": _explicitness, "disintegration": _disintegration,
            "beta_vae": _beta_vae, "factor_vae": _factor_vae}


def _draw_codes(dataset, encode_fn, num_points, num_test, seed, encode_batch, device, given: dict):
    """A model evaluation without codes: ``num_points`` + ``num_test`` factors drawn and encoded (the samples from
    the encoder's logvar): (codes, factors, samples, logvar, codes_test, factors_test)."""
    if [k for k, v in given.items() if v is not None]:
        raise MetricInputError(f"{[k for k, v in given.items() if v is not None]} given without codes: pass codes "
                               "with them, or none of them to have num_points + num_test points drawn and encoded")
    rng = as_rng(seed)
    factors = np.asarray(dataset.sample_factors(num_points, rng), dtype=np.int64)
    factors_test = np.asarray(dataset.sample_factors(num_test, rng), dtype=np.int64)
    codes, logvar = _encode(dataset, encode_fn, factors, encode_batch, device)
    codes_test, _ = _encode(dataset, encode_fn, factors_test, encode_batch, device)
    samples = None if logvar is None else codes + np.exp(0.5 * logvar) * rng.standard_normal(codes.shape)
    return codes, factors, samples, logvar, codes_test, factors_test


def _check_inputs(codes, factors, samples, logvar, codes_test, factors_test, factor_names):
    """The checked (codes, factors) and the factor names; a clear MetricInputError for any mismatch."""
    if codes is None or factors is None:
        raise MetricInputError("evaluate needs codes and factors (or dataset and encode_fn)")
    codes, factors = check_pair(codes, factors)
    F = factors.shape[1]
    names = tuple(factor_names) if factor_names else tuple(f"factor {k}" for k in range(F))
    if len(names) != F:
        raise MetricInputError(f"factor_names has {len(names)} names for {F} factors")
    if (codes_test is None) != (factors_test is None):
        raise MetricInputError("give both codes_test and factors_test, or neither")
    for what, arr in (("samples", samples), ("logvar", logvar)):
        if arr is not None and as_codes(arr, what).shape != codes.shape:
            raise MetricInputError(f"{what} must have the shape of codes {codes.shape}")
    return codes, factors, names


def _metrics_todo(metrics, model_mode: bool, has_logvar: bool) -> list:
    """The metric names to compute: ``metrics`` checked against what the inputs allow, or all that apply."""
    available = set(ARRAY_METRICS) | ({"beta_vae", "factor_vae"} if model_mode else set())
    if not has_logvar:
        available.discard("mig_chen")
    if metrics is None:
        return [m for m in ALL_METRICS if m in available]
    unknown = [m for m in metrics if m not in ALL_METRICS]
    if unknown:
        raise MetricInputError(f"unknown metrics {unknown}; known: {ALL_METRICS}")
    missing = [m for m in metrics if m not in available]
    if missing:
        raise MetricInputError(f"metrics {missing} need " + ("logvar" if missing == ["mig_chen"] else
                               "inputs not given (mig_chen: logvar; beta_vae/factor_vae: dataset + encode_fn)"))
    return list(metrics)


def evaluate(codes=None, factors=None, *, samples=None, logvar=None, codes_test=None, factors_test=None,
             dataset=None, encode_fn: Callable | None = None, num_points: int = 10000, num_test: int = 5000,
             factor_names=None, metrics=None, dci_estimator: str = "gbt", num_bins: int = 20,
             chen_exclude=(), chen_samples: int = 2000, score_kwargs: dict | None = None, seed: int = 0,
             device=None, encode_batch: int = 256, progress: bool = True) -> Evaluation:
    """Evaluate codes or a model with the metrics named in ``metrics`` (default: all that apply).

    Names: "tc", "sap_r2", "sap_svc", "mig" (reference), "mig_chen" (needs logvar), "dci",
    "modularity" (MI-based, no classifier), "explicitness" (a logistic regression per factor; named on its own
    since it is costlier and few callers read it), "disintegration", "beta_vae", "factor_vae" (need a dataset).
    ``chen_samples`` = 2,000 Monte Carlo queries per entropy for Chen's MIG (Chen et al.: 10,000; a
    CPU takes minutes for that), ``dci_estimator`` "gbt" (reference) or "random_forest" (faster).
    """
    if (dataset is None) != (encode_fn is None):
        raise MetricInputError("a model evaluation needs both dataset= and encode_fn=")
    model_mode = dataset is not None
    if model_mode:
        factor_names = factor_names or tuple(getattr(dataset, "factor_names", ()))
    if model_mode and codes is None:
        given = dict(factors=factors, samples=samples, logvar=logvar, codes_test=codes_test, factors_test=factors_test)
        codes, factors, samples, logvar, codes_test, factors_test = _draw_codes(
            dataset, encode_fn, num_points, num_test, seed, encode_batch, device, given)
    codes, factors, names = _check_inputs(codes, factors, samples, logvar, codes_test, factors_test, factor_names)
    todo = _metrics_todo(metrics, model_mode, logvar is not None)
    x = _Inputs(codes, factors, samples, logvar, codes_test, factors_test, names, dataset, encode_fn, num_bins,
                dci_estimator, tuple(chen_exclude), chen_samples, dict(score_kwargs or {}), seed, device)
    for name in tqdm(todo, desc="metrics", disable=not progress):
        _METRICS[name](x)
    return Evaluation(pd.DataFrame(x.rows, columns=["metric", "factor", "value", "convention"]), x.mats, x.dis, names)
