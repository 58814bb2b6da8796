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
        given = [k for k, v in dict(factors=factors, samples=samples, logvar=logvar, codes_test=codes_test,
                                    factors_test=factors_test).items() if v is not None]
        if given:
            raise MetricInputError(f"{given} given without codes: pass codes with them, or none of them to have "
                                   "num_points + num_test points drawn and encoded")
        rng = as_rng(seed)
        factors = np.asarray(dataset.sample_factors(num_points, rng), dtype=np.int64)
        factors_test = np.asarray(dataset.sample_factors(num_test, rng), dtype=np.int64)
        codes, logvar = _encode(dataset, encode_fn, factors, encode_batch, device)
        codes_test, _ = _encode(dataset, encode_fn, factors_test, encode_batch, device)
        if logvar is not None:
            samples = codes + np.exp(0.5 * logvar) * rng.standard_normal(codes.shape)
    if codes is None or factors is None:
        raise MetricInputError("evaluate needs codes and factors (or dataset and encode_fn)")
    codes, factors = check_pair(codes, factors)
    L, F = codes.shape[1], factors.shape[1]
    names = tuple(factor_names) if factor_names else tuple(f"factor {k}" for k in range(F))
    if len(names) != F:
        raise MetricInputError(f"factor_names has {len(names)} names for {F} factors")
    if (codes_test is None) != (factors_test is None):
        raise MetricInputError("give both codes_test and factors_test, or neither")
    if samples is not None and as_codes(samples, "samples").shape != codes.shape:
        raise MetricInputError(f"samples must have the shape of codes {codes.shape}")
    if logvar is not None and as_codes(logvar, "logvar").shape != codes.shape:
        raise MetricInputError(f"logvar must have the shape of codes {codes.shape}")

    available = set(ARRAY_METRICS) | ({"beta_vae", "factor_vae"} if model_mode else set())
    if logvar is None:
        available.discard("mig_chen")
    if metrics is None:
        todo = [m for m in ALL_METRICS if m in available]
    else:
        unknown = [m for m in metrics if m not in ALL_METRICS]
        if unknown:
            raise MetricInputError(f"unknown metrics {unknown}; known: {ALL_METRICS}")
        missing = [m for m in metrics if m not in available]
        if missing:
            raise MetricInputError(f"metrics {missing} need " + ("logvar" if missing == ["mig_chen"] else
                                   "inputs not given (mig_chen: logvar; beta_vae/factor_vae: dataset + encode_fn)"))
        todo = list(metrics)

    rows, mats, dis = [], {}, {}

    def add(metric, value, convention, factor=None):
        rows.append(dict(metric=metric, factor=factor, value=float(value), convention=convention))

    test = dict(codes_test=codes_test, factors_test=factors_test)
    def repr_fn(obs):
        return _to_np(_split_encoding(encode_fn(obs))[0])
    kw = dict(score_kwargs or {})
    for name in tqdm(todo, desc="metrics", disable=not progress):
        if name == "tc":
            t = tc_diagnostics(codes, samples, seed=seed)
            for k, v in t.as_dict().items():
                add(k, v, "Prop. 1 on the sample covariance" if "gaussian" in k else
                    ("kNN (rtc.estimators.knn_tc)" if "knn" in k else "std ≥ 0.05"))
            mats["mean_variance"] = t.mean_variance
        elif name in ("sap_r2", "sap_svc"):
            r = sap(codes, factors, continuous=(name == "sap_r2"), seed=seed, **test)
            conv = "R² of one latent (train points)" if name == "sap_r2" else \
                "LinearSVC(C=0.01, balanced) test accuracy"
            add(name, r.score, conv)
            for k in range(F):
                add(name, r.per_factor[k], conv, names[k])
            mats["r2" if name == "sap_r2" else "sap_svc"] = r.matrix
        elif name == "mig":
            r = mig(codes, factors, num_bins=num_bins)
            conv = f"reference: means, {num_bins}-bin histogram MI, N={len(codes)}"
            add("mig_ref", r.score, conv)
            for k in range(F):
                add("mig_ref", r.per_factor[k], conv, names[k])
            mats["mi"], mats["nmi"] = r.mi, r.normalized
        elif name == "mig_chen":
            r = mig_chen(codes, logvar, factors, exclude=chen_exclude, num_samples=chen_samples, seed=seed,
                         device=device)
            conv = (f"Chen et al.: q(z|x) samples, MC entropies over N={len(codes)} points, "
                    f"excluded {tuple(chen_exclude)}")
            add("mig_chen", r.score, conv)
            for col, k in enumerate(r.factors):
                add("mig_chen", r.per_factor[col], conv, names[k])
            full = np.full((L, F), np.nan)
            full[:, list(r.factors)] = r.normalized
            mats["nmi_chen"] = full
        elif name == "dci":
            r = dci(codes, factors, estimator=dci_estimator, seed=seed, **test)
            for k, v in r.as_dict().items():
                add(k, v, f"{dci_estimator} importances / accuracy")
            mats["dci_importance"] = r.importance
        elif name == "modularity":
            add("modularity", modularity(codes, factors, num_bins=num_bins),
                f"{num_bins}-bin histogram MI on all N={len(codes)} codes (never a split: equals "
                "modularity(codes, factors))")
        elif name == "explicitness":
            e_tr, e_te = explicitness_split(codes, factors, seed=seed, **test)
            split = "held-out set given" if codes_test is not None else "1/3 of the codes split off as test"
            add("explicitness_train", e_tr, f"LogisticRegression macro ROC AUC; {split}")
            add("explicitness_test", e_te, f"LogisticRegression macro ROC AUC; {split}")
        elif name == "disintegration":
            for key, mat in (("nmi", mats.get("nmi")), ("r2", mats.get("r2"))):
                if mat is None:
                    mat = normalized_mi_matrix(codes, factors, num_bins=num_bins) if key == "nmi" \
                        else r2_matrix(codes, factors)
                    mats[key] = mat
                table = disintegration(mat, codes=codes, factor_names=names, num_bins=num_bins)
                dis[key] = table
                conv = f"{key} matrix: mean over captured factors of s2/s1 × [top two latents dedicated]"
                add(f"disintegration_{key}", disintegration_index(table), conv)
                add(f"disintegrated_factors_{key}", table["disintegrated"].sum(), "count of flagged factors")
        elif name == "beta_vae":
            bkw = {k: v for k, v in kw.items() if k in ("batch_size", "num_train", "num_eval", "encode_batch")}
            r = _beta.beta_vae_score(dataset, repr_fn, seed=seed, device=device, **bkw)
            conv = f"LogisticRegression; batch {r.batch_size}, {r.num_train} train / {r.num_eval} eval points"
            for k, v in r.as_dict().items():
                add(k, v, conv)
        elif name == "factor_vae":
            r = _fvae.factor_vae_score(dataset, repr_fn, seed=seed, device=device, **kw)
            shown = {a: b for a, b in kw.items() if a != "variance_codes"}
            if "variance_codes" in kw:  # the codes themselves, not their count, were used
                shown.pop("num_variance_estimate", None)
                shown["variance_codes"] = f"{len(kw['variance_codes'])} shared codes"
            for k, v in r.as_dict().items():
                add(k, v, "majority vote; " + ", ".join(f"{a}={b}" for a, b in shown.items()))
    return Evaluation(pd.DataFrame(rows, columns=["metric", "factor", "value", "convention"]), mats, dis, names)
