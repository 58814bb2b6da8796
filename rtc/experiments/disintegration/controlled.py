"""Every metric measured on a controlled code (:mod:`.codes`) beside its closed form, and the look-ups in the
resulting table: the chapter's first section.

``SyntheticDataset`` gives the BetaVAE and FactorVAE scores a dataset over the code's grid; ``evaluate_synthetic``
measures one code, ``controlled_experiment`` the chapter's whole set; ``controlled_value``,
``closed_form_agreement`` and ``reaction_table`` read that table for the prose.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from rtc._validate import check_real
from rtc.experiments.columns import need_columns
from rtc.metrics import beta_vae_score, evaluate, factor_vae_score
from rtc.metrics.evaluate import ARRAY_METRICS

from .codes import SyntheticCode, closed_forms, synthetic_code

__all__ = ["SyntheticDataset", "SYNTHETIC_METRICS", "evaluate_synthetic", "controlled_experiment",
           "controlled_value", "closed_form_agreement", "reaction_table"]


class SyntheticDataset:
    """The dataset interface of the BetaVAE and FactorVAE scores over a :class:`SyntheticCode`'s grid.

    ``observations(factors (n, F), device=None)`` returns the factors themselves (torch float32 (n, F)): the
    "encoder" (:meth:`encode`) looks the clean code up by grid index and adds fresh noise of the code's σ from a
    seeded generator, so each call sees a new noise draw, like a stochastic encoder on new images.
    """

    def __init__(self, code: SyntheticCode, seed: int = 0):
        self.code = code
        self.factor_sizes = tuple(code.factor_sizes)
        self.factor_names = code.factor_names
        self._rng = np.random.default_rng(seed)

    def sample_factors(self, n: int, rng) -> np.ndarray:
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        return np.stack([rng.integers(s, size=n) for s in self.factor_sizes], axis=1).astype(np.int64)

    def observations(self, factors, device=None):
        return torch.as_tensor(np.asarray(factors), dtype=torch.float32)

    def encode(self, obs) -> np.ndarray:
        f = obs.detach().cpu().numpy().round().astype(np.int64) if hasattr(obs, "detach") else np.asarray(obs)
        z = self.code.clean[np.ravel_multi_index(tuple(f.T), self.factor_sizes)]
        return z + self.code.noise * self._rng.standard_normal(z.shape) if self.code.noise > 0 else z



# The array metrics (rtc.metrics.evaluate) measured on a controlled code: all but the code's TC (not a metric
# this study compares) and the SVC SAP (slow, and the closed forms are R²'s).
SYNTHETIC_METRICS = tuple(m for m in ARRAY_METRICS if m not in ("tc", "sap_svc", "explicitness"))


def evaluate_synthetic(code: SyntheticCode, *, scores: bool = True, score_kwargs: dict | None = None,
                       posterior_std: float = 0.1, chen_samples: int = 500, dci_estimator: str = "random_forest",
                       seed: int = 0) -> pd.DataFrame:
    """Every metric of a controlled code, with its closed form; one row per number.

    Array metrics: ``rtc.metrics.evaluate`` on the full grid (SAP R², both MIGs, DCI, modularity, the
    disintegration tables). Chen's MIG needs an encoder variance: q(z|x) = N(code, ``posterior_std``²) for every
    point. With ``scores``, the BetaVAE and FactorVAE scores on :class:`SyntheticDataset` (``score_kwargs``:
    batch_size, num_train, num_eval, and num_variance_estimate for FactorVAE).

    Columns: mode, k, m, noise, alpha, scope ("factor 0": the split / dependent / rotated factor; "model"),
    metric, value, closed_form (NaN where none), exact (closed form exact at σ = 0; False: population value).
    Disintegration rows (scope "factor 0"): ``flag_r2`` / ``flag_nmi`` (1.0 if factor 0 is flagged by
    ``rtc.metrics.disintegration`` with codes, i.e. including its pair-NMI test), ``split_ratio_*``, ``pair_nmi``.
    """
    posterior_std = check_real(posterior_std, "posterior_std", minimum=0.0)
    if posterior_std == 0:
        raise ValueError("posterior_std must be > 0 (Chen's MIG needs an encoder variance)")
    F = len(code.factor_sizes)
    ev = evaluate(code.codes, code.factors, logvar=np.full(code.codes.shape, 2 * math.log(posterior_std)),
                  metrics=list(SYNTHETIC_METRICS), dci_estimator=dci_estimator, chen_samples=chen_samples, seed=seed,
                  factor_names=code.factor_names, progress=False)
    cf = closed_forms(code.mode, k=code.k, m=code.m, num_factors=F, noise=code.noise, alpha=code.alpha)
    base = dict(mode=code.mode, k=code.k, m=code.m, noise=code.noise, alpha=code.alpha)
    rows = []

    def add(scope, metric, value, closed=float("nan"), exact=False):
        rows.append({**base, "scope": scope, "metric": metric, "value": float(value), "closed_form": float(closed),
                     "exact": bool(exact and math.isfinite(closed))})

    t = ev.table
    f0 = code.factor_names[0]
    for metric in ("sap_r2", "mig_ref", "mig_chen"):
        c0, cm = cf.get(metric, (float("nan"), float("nan")))
        ex = cf["exact_sap"] if metric == "sap_r2" else cf["exact_mig"] if metric == "mig_ref" else False
        add("factor 0", metric, t[(t.metric == metric) & (t.factor == f0)].value.iloc[0], c0, ex)
        add("model", metric, ev.value(metric), cm, ex)
    for metric in ("dci_disentanglement", "dci_completeness", "modularity"):
        add("model", metric, ev.value(metric))
    for key in ("r2", "nmi"):
        row = ev.disintegration[key].iloc[0]
        add("factor 0", f"flag_{key}", float(row["disintegrated"]))
        add("factor 0", f"split_ratio_{key}", row["split_ratio"])
        if key == "nmi":
            add("factor 0", "pair_nmi", row["pair_nmi"])
    if scores:
        ds = SyntheticDataset(code, seed=seed)
        kw = dict(score_kwargs or {})
        bkw = {k: v for k, v in kw.items() if k in ("batch_size", "num_train", "num_eval")}
        add("model", "beta_vae_eval", beta_vae_score(ds, ds.encode, seed=seed, **bkw).eval_accuracy)
        add("model", "factor_vae_eval", factor_vae_score(ds, ds.encode, seed=seed, **kw).eval_accuracy)
    return pd.DataFrame(rows)


def controlled_experiment(*, ks=(1, 2, 3, 4), noises=(0.0,), m: int = 4, dependent_m: int = 8,
                          alphas=(0.0, math.pi / 8, math.pi / 4), other_sizes=(5, 4), scores: bool = True,
                          score_kwargs: dict | None = None, chen_samples: int = 500, seed: int = 0,
                          progress: bool = False) -> pd.DataFrame:
    """:func:`evaluate_synthetic` over the split codes (every k × noise), the dependent split (every noise, n =
    ``dependent_m`` values) and the rotation (every α × noise); one tidy table (its columns there)."""
    cases = [("split", dict(k=k, m=m), s) for k in ks for s in noises]
    cases += [("dependent", dict(m=dependent_m), s) for s in noises]
    cases += [("rotation", dict(m=m, alpha=a), s) for a in alphas for s in noises]
    out = []
    for mode, kw, s in tqdm(cases, desc="controlled codes", disable=not progress):
        code = synthetic_code(mode, other_sizes=other_sizes, noise=s, seed=seed, **kw)
        out.append(evaluate_synthetic(code, scores=scores, score_kwargs=score_kwargs, chen_samples=chen_samples,
                                      seed=seed))
    return pd.concat(out, ignore_index=True)


def controlled_value(controlled: pd.DataFrame, mode: str, metric: str, *, scope: str = "factor 0",
                     noise: float = 0.0, **where) -> float:
    """The value of the one row of a :func:`controlled_experiment` table with this ``mode``, ``metric``, ``scope``
    and ``noise``, and the values ``where`` of further columns (e.g. ``k=4``, ``alpha=0.5``; numbers compared with
    ``np.isclose``). ``ValueError`` naming the selection unless exactly one row matches."""
    need_columns(controlled, ["mode", "metric", "scope", "noise", "value", *where])
    c = controlled[(controlled["mode"] == mode) & (controlled.metric == metric) & (controlled.scope == scope)
                   & np.isclose(controlled.noise, noise)]
    for key, v in where.items():
        c = c[np.isclose(c[key], v)]
    if len(c) != 1:
        raise ValueError(f"{len(c)} rows of the controlled table have mode={mode!r}, metric={metric!r}, "
                         f"scope={scope!r}, noise={noise!r}, {where}; expected exactly one")
    return float(c.value.iloc[0])


def closed_form_agreement(controlled: pd.DataFrame) -> dict:
    """How closely a :func:`controlled_experiment` table's values match their closed forms.

    ``count_exact``, ``maxdev_exact``: the rows whose closed form is exact (σ = 0) and the largest
    |value − closed form| among them (round-off when the code is right); ``count_noisy``, ``maxdev_noisy``: the
    rows with σ > 0 and a (population) closed form, and the largest deviation — NaN when there is none (no noise
    level above 0). ``ValueError`` when no row is exact: the table needs noise 0.0."""
    need_columns(controlled, ["exact", "noise", "value", "closed_form"])
    exact = controlled[controlled.exact.astype(bool)]
    if exact.empty:
        raise ValueError("no row of the controlled table has an exact closed form: include noise 0.0")
    noisy = controlled[(controlled.noise > 0) & controlled.closed_form.notna()]
    return {"count_exact": len(exact), "maxdev_exact": float((exact.value - exact.closed_form).abs().max()),
            "count_noisy": len(noisy),
            "maxdev_noisy": float((noisy.value - noisy.closed_form).abs().max()) if len(noisy) else float("nan")}


def reaction_table(controlled: pd.DataFrame, *, noise: float = 0.0) -> pd.DataFrame:
    """Which metric reacts to which manipulation: from a :func:`controlled_experiment` table, each model-level
    metric's value for the identity code (split, k = 1) and its change under the largest split (k = max), the
    dependent split and the largest rotation angle, all at ``noise``. Index: metric; columns identity, split,
    dependent, rotation (the three changes), k_max, alpha_max."""
    need_columns(controlled, ["mode", "k", "noise", "alpha", "scope", "metric", "value"])
    c = controlled[(controlled.scope == "model") & np.isclose(controlled.noise, noise)]
    if c.empty:
        raise ValueError(f"no model-level rows at noise {noise}; noises present: {sorted(controlled.noise.unique())}")
    sp = c[c["mode"] == "split"]
    if not (sp.k == 1).any():
        raise ValueError("reaction_table needs the identity code (mode 'split', k = 1)")
    kmax = int(sp.k.max())
    rot = c[c["mode"] == "rotation"]
    amax = float(rot.alpha.max()) if len(rot) else float("nan")
    pick = {"identity": sp[sp.k == 1], "split": sp[sp.k == kmax], "dependent": c[c["mode"] == "dependent"],
            "rotation": rot[np.isclose(rot.alpha, amax)] if len(rot) else rot}
    cols = {name: df.groupby("metric").value.mean() for name, df in pick.items()}
    out = pd.DataFrame(cols)
    for name in ("split", "dependent", "rotation"):
        out[name] = out[name] - out["identity"]
    return out.assign(k_max=kmax, alpha_max=amax)
