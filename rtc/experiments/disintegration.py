"""Factor disintegration (one factor carried by several independent latents): controlled codes with closed-form
metric values, and the analyses of trained runs behind the disintegration chapter.

**Controlled codes** (:func:`synthetic_code`). A full factorial grid of factors (every combination exactly once,
so every empirical distribution below is exact, not a sample) and a code (N, L) built from it:

- ``mode="split"``: factor 0 has n = m^k values t = 0 … n − 1, written in base m with k digits
  t = Σ_j d_j·m^(k−j) (j = 1 the coarsest digit: *which* of m sub-ranges; finer digits: the position inside it).
  Latent j − 1 carries digit d_j. With t uniform, the digits are exactly independent and uniform, so the code is
  factorised and still needs k latents for one factor. k = 1 is the identity code. Every other factor (sizes
  ``other_sizes``) is carried by one latent of its own.
- ``mode="dependent"`` (the DIP-VAE pattern): factor 0 has n = m values (m even), u = t/(n − 1) ∈ [0, 1], and two
  latents carry it: u and |u − ½|. By the symmetry of u about ½ they are exactly uncorrelated, yet the second is
  a function of the first.
- ``mode="rotation"`` (entanglement): factor 0 has m values; the latents of factors 0 and 1 are rotated by the
  angle ``alpha``: (cos α·a − sin α·b, sin α·a + cos α·b).

Every latent is standardised over the grid (mean 0, variance 1, ddof 0); then Gaussian noise of standard
deviation ``noise`` (in those units) is added, seeded.

**Binning.** The reference MIG (``rtc.metrics.mig``) and the modularity discretise each latent into 20
equal-width bins. A latent with at most 20 equispaced distinct values loses nothing: consecutive values lie
20/(v − 1) > 1 bin widths apart for v ≤ 20 values, so each value gets a bin of its own and the plug-in MI equals
the MI of the latent itself. Hence every factor size and every latent's value count here is limited to
:data:`MAX_VALUES` = 20 (checked; :func:`synthetic_code` also verifies the bins on the clean code).

**Closed forms** (:func:`closed_forms`; σ = 0 exact on the full grid, up to round-off):

- split, normalised MI: I(d_j; t) = H(d_j) = log m (d_j is a function of t) and H(t) = k·log m, so each digit
  latent scores 1/k and factor 0's MIG is 1 for k = 1 and 0 for k ≥ 2.
- split, R²: Var t = (m^2k − 1)/12, Var(m^(k−j)·d_j) = m^2(k−j)·(m² − 1)/12, and by independence
  Cov(t, d_j) = m^(k−j)·Var d_j, so R²_j = m^2(k−j)·(m² − 1)/(m^2k − 1) (they sum to 1). Factor 0's SAP
  contribution is R²_1 − R²_2 for k ≥ 2 (1 for k = 1).
- dependent: the first latent scores NMI 1 and R² 1; |u − ½| merges the value pairs (t, n − 1 − t), so it has
  n/2 equiprobable values: NMI = log(n/2)/log n, MIG = log 2/log n; it is uncorrelated with t, so SAP = 1.
- rotation: with independent standardised a, b, corr(z_1, a) = cos α and corr(z_2, a) = sin α, so both rotated
  factors get R² (cos²α, sin²α) and the SAP gap |cos 2α|. (No closed form for MIG: the rotated grid is binned.)
- every other factor scores exactly 1 in both (its latent is the identity; any other latent is independent of
  it on the full grid: covariance and plug-in MI exactly 0). A model-level value is the mean over factors.
- with noise σ > 0 the R² of a standardised latent shrinks by 1/(1 + σ²) in the population, so SAP's closed form
  becomes (gap at σ = 0)/(1 + σ²) — a population value, not exact for one noise draw (``exact`` False); the
  binned MI has no closed form (NaN).

**Trained runs.** :func:`pair_gain_table` separates the score lost to disintegration from the rest and flags
each factor on the codes and on a control code (its docstring defines both); :func:`spearman_bootstrap` is a rank
correlation with a seeded bootstrap interval over runs. :func:`encode_runs`, :func:`encode_half` (the snapshots
at half training), :func:`analyse_runs`, :func:`find_run`, :func:`clearest_split`, :func:`deficit_table` and
:func:`run_summary` are the chapter's steps over the trained grid (a list of
``rtc.experiments.results.RunResult``); :func:`number_text` writes a number for the prose ("n/a" when undefined).

**Claims** (:data:`CLAIMS`). Each ``check_*`` turns the analysis into one quantity with a 90 % interval
(``rtc.claims``: Student's t over runs or seeds where there are ≥ 2, else a bootstrap, "one seed") and a verdict
from where the interval lies against a threshold of :class:`rtc.claims.Thresholds` (exists_share, suppression,
dependent_excess, strong_rho; min_score, min_runs, min_cases guard the inputs). :func:`check_claims` checks them
at the end and at half training and combines the two (``rtc.claims.convergence_verdict``);
:func:`verdict_table` is the table the chapter prints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from rtc._validate import is_integer, is_real
from rtc.claims import (
    LEVEL,
    THRESHOLDS,
    Interval,
    Observation,
    Thresholds,
    band_verdict,
    bootstrap_interval,
    convergence_verdict,
    interval_verdict,
    paired_interval,
    share_difference_interval,
    spearman_bootstrap,
)
from rtc.experiments.dependence import pairwise_dependence
from rtc.metrics import (
    beta_vae_score,
    discrete_entropy,
    discrete_mutual_info,
    disintegration,
    evaluate,
    factor_vae_score,
    histogram_discretize,
    normalized_mi_matrix,
    r2_matrix,
)
from rtc.metrics.evaluate import ARRAY_METRICS
from rtc.models.encoding import active_latents

__all__ = ["MAX_VALUES", "MODES", "FACTORISED_MODELS", "DIP_MODELS", "SYNTHETIC_METRICS", "SyntheticCode",
           "SyntheticDataset", "synthetic_code", "split_r2", "closed_forms", "evaluate_synthetic",
           "controlled_experiment", "controlled_value", "closed_form_agreement", "pair_gain_table", "analyse_codes",
           "most_split_factor", "reaction_table", "deficit_summary", "top_pair_dependence", "spearman_bootstrap",
           "correlation_table", "NO_RUN", "number_text", "rho_text", "find_run", "run_label", "encode_runs",
           "encode_half", "analyse_runs", "clearest_split", "split_texts", "pair_text", "deficit_table",
           "deficit_shares", "deficit_share_interval", "tradeoff_dataset", "CLAIMS", "DESCRIPTIVE_RUNS",
           "run_summary", "permutation_pvalue", "suppression_table", "check_exists", "check_suppression",
           "check_distinct", "check_tradeoff", "check_claims", "QUANTITIES", "active_encodings",
           "check_claims_active"]

MAX_VALUES = 20  # the reference MIG's bin count: up to this many equispaced values per latent bin losslessly
MODES = ("split", "dependent", "rotation")
FACTORISED_MODELS = ("factor_vae", "rtc_vae", "beta_tcvae")  # models that penalise the total correlation
DIP_MODELS = ("dip_vae_i", "dip_vae_ii")
_MAX_GRID = 2_000_000


# ---------------------------------------------------------------------------------------------------------------
# Controlled codes
# ---------------------------------------------------------------------------------------------------------------

def _int_arg(name: str, v, lo: int, hi: int | None = None) -> int:
    if not is_integer(v):  # Python or NumPy integers, never bools
        raise ValueError(f"{name} must be an integer, got {v!r}")
    if v < lo or (hi is not None and v > hi):
        raise ValueError(f"{name} must be in [{lo}, {hi if hi is not None else '∞'}), got {v!r}"
                         if hi is None else f"{name} must be in [{lo}, {hi}], got {v!r}")
    return int(v)


def _float_arg(name: str, v, *, nonneg: bool = False) -> float:
    if not is_real(v) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v!r}")
    if nonneg and v < 0:
        raise ValueError(f"{name} must be ≥ 0, got {v!r}")
    return float(v)


@dataclass(frozen=True)
class SyntheticCode:
    """A controlled code on a full factorial grid.

    ``codes`` (N, L) float64 = ``clean`` + noise; ``factors`` (N, F) int64 grid indices, every combination of
    ``factor_sizes`` once (row-major); ``factor_latents``: per factor, the latents built to carry it (the split
    factor 0 has k of them); ``mode``, ``k``, ``m``, ``noise``, ``alpha`` as given to :func:`synthetic_code`.
    """
    codes: np.ndarray
    clean: np.ndarray
    factors: np.ndarray
    factor_sizes: tuple
    factor_latents: tuple
    mode: str
    k: int
    m: int
    noise: float
    alpha: float

    @property
    def factor_names(self) -> tuple:
        return tuple(f"factor {i}" for i in range(len(self.factor_sizes)))


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def synthetic_code(mode: str = "split", *, k: int = 1, m: int = 4, other_sizes=(5, 4), noise: float = 0.0,
                   alpha: float = 0.0, seed: int = 0) -> SyntheticCode:
    """A controlled code (module docstring). ``k`` (split only) ≥ 1 digit latents of ``m`` ∈ [2, 20] values each;
    ``other_sizes``: sizes (each in [2, 20]) of the factors carried by one latent each (rotation needs ≥ 1);
    ``noise`` ≥ 0; ``alpha`` (rotation only) in radians. Raises ``ValueError`` naming a bad argument."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    k = _int_arg("k", k, 1)
    m = _int_arg("m", m, 2, MAX_VALUES)
    noise = _float_arg("noise", noise, nonneg=True)
    alpha = _float_arg("alpha", alpha)
    seed = _int_arg("seed", seed, 0)
    others = tuple(_int_arg(f"other_sizes[{i}]", s, 2, MAX_VALUES) for i, s in enumerate(other_sizes))
    if mode != "split" and k != 1:
        raise ValueError(f"k applies to mode 'split' only; mode {mode!r} needs k=1, got k={k}")
    if mode != "rotation" and alpha != 0:
        raise ValueError(f"alpha applies to mode 'rotation' only, got alpha={alpha} with mode {mode!r}")
    if mode == "dependent" and m % 2:
        raise ValueError(f"mode 'dependent' needs an even m (|u − ½| then merges value pairs), got m={m}")
    if mode == "rotation" and not others:
        raise ValueError("mode 'rotation' needs at least one other factor (other_sizes) to rotate with")
    n0 = m ** k if mode == "split" else m
    sizes = (n0, *others)
    total = math.prod(sizes)
    if total > _MAX_GRID:
        raise ValueError(f"the grid {sizes} has {total} points (> {_MAX_GRID}); lower m, k or other_sizes")
    factors = np.stack(np.unravel_index(np.arange(total), sizes), axis=1).astype(np.int64)
    t = factors[:, 0]
    cols, carry = [], []
    if mode == "split":
        for j in range(1, k + 1):  # digit d_j of t in base m, coarsest first
            cols.append((t // m ** (k - j)) % m)
        carry.append(tuple(range(k)))
    elif mode == "dependent":
        u = t / (n0 - 1)
        cols += [u, np.abs(u - 0.5)]
        carry.append((0, 1))
    else:
        cols.append(t)
        carry.append((0,))
    for i in range(len(others)):
        carry.append((len(cols),))
        cols.append(factors[:, i + 1])
    clean = np.stack([_standardise(np.asarray(c, dtype=np.float64)) for c in cols], axis=1)
    if mode == "rotation":
        a, b = carry[0][0], carry[1][0]
        za, zb = clean[:, a].copy(), clean[:, b].copy()
        clean[:, a] = math.cos(alpha) * za - math.sin(alpha) * zb
        clean[:, b] = math.sin(alpha) * za + math.cos(alpha) * zb
    else:  # the lossless-binning premise of the closed forms (module docstring), checked rather than assumed
        bins = histogram_discretize(clean, MAX_VALUES)
        for j in range(clean.shape[1]):
            if len(np.unique(bins[:, j])) != len(np.unique(np.round(clean[:, j], 12))):
                raise AssertionError(f"latent {j}: its values share a {MAX_VALUES}-bin histogram bin")
    rng = np.random.default_rng(seed)
    codes = clean + noise * rng.standard_normal(clean.shape) if noise > 0 else clean.copy()
    return SyntheticCode(codes, clean, factors, sizes, tuple(carry), mode, k, m, noise, alpha)


def split_r2(m: int, k: int) -> np.ndarray:
    """R² (k,) of digit latent j = 1 … k (coarsest first) with a uniform m^k-valued factor:
    m^2(k−j)·(m² − 1)/(m^2k − 1) (module docstring). Sums to 1."""
    m = _int_arg("m", m, 2)
    k = _int_arg("k", k, 1)
    j = np.arange(1, k + 1)
    return (float(m) ** (2 * (k - j))) * (m * m - 1) / (float(m) ** (2 * k) - 1)


def closed_forms(mode: str, *, k: int = 1, m: int = 4, num_factors: int = 3, noise: float = 0.0,
                 alpha: float = 0.0) -> dict:
    """Closed-form values (module docstring) for a :func:`synthetic_code` with ``num_factors`` factors:
    ``{"sap_r2": (factor 0's gap, model value), "mig_ref": (...), "exact_sap": bool, "exact_mig": bool}``;
    NaN where there is none (MIG with noise, MIG under rotation). ``exact_*``: True when the value is exact on
    the full grid (σ = 0), False when it is the population value (σ > 0)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    k = _int_arg("k", k, 1)
    m = _int_arg("m", m, 2, MAX_VALUES)
    F = _int_arg("num_factors", num_factors, 1 if mode != "rotation" else 2)
    noise = _float_arg("noise", noise, nonneg=True)
    alpha = _float_arg("alpha", alpha)
    shrink = 1.0 / (1.0 + noise ** 2)
    nan = float("nan")
    if mode == "split":
        r2 = split_r2(m, k)
        sap0 = 1.0 if k == 1 else float(r2[0] - r2[1])
        mig0 = 1.0 if k == 1 else 0.0
        sap_model = (sap0 + (F - 1)) / F
        mig_model = (mig0 + (F - 1)) / F
    elif mode == "dependent":
        sap0, mig0 = 1.0, math.log(2) / math.log(m)
        sap_model, mig_model = (sap0 + F - 1) / F, (mig0 + F - 1) / F
    else:
        sap0, mig0 = abs(math.cos(2 * alpha)), nan
        sap_model, mig_model = (2 * sap0 + F - 2) / F, nan
    if noise > 0:  # population shrinkage of every R²; the identity latents' gap shrinks the same way
        sap0, sap_model, mig0, mig_model = sap0 * shrink, sap_model * shrink, nan, nan
    return {"sap_r2": (sap0, sap_model), "mig_ref": (mig0, mig_model), "exact_sap": noise == 0,
            "exact_mig": noise == 0 and mode != "rotation"}


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
        import torch
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
    posterior_std = _float_arg("posterior_std", posterior_std, nonneg=True)
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
    from tqdm.auto import tqdm

    cases = [("split", dict(k=k, m=m), s) for k in ks for s in noises]
    cases += [("dependent", dict(m=dependent_m), s) for s in noises]
    cases += [("rotation", dict(m=m, alpha=a), s) for a in alphas for s in noises]
    out = []
    for mode, kw, s in tqdm(cases, desc="controlled codes", disable=not progress):
        code = synthetic_code(mode, other_sizes=other_sizes, noise=s, seed=seed, **kw)
        out.append(evaluate_synthetic(code, scores=scores, score_kwargs=score_kwargs, chen_samples=chen_samples,
                                      seed=seed))
    return pd.concat(out, ignore_index=True)


# ---------------------------------------------------------------------------------------------------------------
# Trained runs: the score lost to disintegration
# ---------------------------------------------------------------------------------------------------------------

def _joint_r2(x: np.ndarray, y: np.ndarray) -> float:
    """R² of the least-squares regression of y (N,) on the columns of x (N, p) with an intercept."""
    a = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    sst = ((y - y.mean()) ** 2).sum()
    return float(np.clip(1.0 - ((y - a @ coef) ** 2).sum() / sst, 0.0, 1.0)) if sst > 0 else 0.0


def _score_matrix(codes: np.ndarray, factors: np.ndarray, score: str, num_bins: int) -> np.ndarray:
    """R² (``score="r2"``, SAP's scores) or 20-bin normalised MI (``"nmi"``, MIG's), (L, F)."""
    return r2_matrix(codes, factors) if score == "r2" else normalized_mi_matrix(codes, factors, num_bins=num_bins)


def _flags(codes: np.ndarray, factors: np.ndarray, score: str, *, num_bins: int, min_score: float, seed: int):
    """The score matrix (L, F), ``rtc.metrics.disintegration``'s table, the chance level (F,), ``captured`` (F,)
    and ``control`` (F,): the flag of each captured factor on the control code whose second latent is permuted
    (:func:`pair_gain_table` defines them). The first permutation of ``seed`` shuffles the factors (chance), the
    next ones the second latents, factor by factor."""
    mat = _score_matrix(codes, factors, score, num_bins)
    table = disintegration(mat, codes=codes, num_bins=num_bins)
    rng = np.random.default_rng(seed)
    chance = _score_matrix(codes, factors[rng.permutation(len(factors))], score, num_bins).max(axis=0)
    captured = mat.max(axis=0) >= chance + min_score
    control = np.zeros(len(captured), dtype=bool)
    for k in np.flatnonzero(captured):
        b = int(table.second_latent.iloc[k])
        c = codes.copy()
        c[:, b] = c[rng.permutation(len(c)), b]  # b keeps its marginal, loses every tie to the images
        m = mat.copy()
        m[b] = _score_matrix(c[:, [b]], factors, score, num_bins)[0]
        control[k] = bool(disintegration(m, codes=c, num_bins=num_bins).disintegrated.iloc[k])
    return mat, table, chance, captured, control


def pair_gain_table(codes, factors, *, score: str = "r2", factor_names=None, num_bins: int = 20,
                    min_score: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """Per factor: how much of its SAP (``score="r2"``) or MIG (``"nmi"``) deficit the split over its top two
    latents explains, and whether the split is flagged on the codes and on their control.

    With the factor's single-latent scores sorted s1 ≥ s2 ≥ s3 (latents a, b, … as in
    ``rtc.metrics.disintegration``; R² or 20-bin normalised MI) and ``joint`` the score of the pair (a, b)
    together (R² of the linear regression on both; for MI, the plug-in MI of the pair's 20 × 20-bin joint label,
    normalised by H(v)):

    - ``gap`` = s1 − s2 (the factor's SAP/MIG contribution), ``deficit`` = 1 − gap;
    - ``gain`` = joint − s1: what b adds to a. For independent a, b it is s2 (R² of uncorrelated predictors add;
      MI of independent latents that are functions of the factor add), for a redundant copy of a it is 0;
    - ``dedicated``: both a and b score highest for this factor (``rtc.metrics.disintegration``), so b is not
      another factor's latent leaking in (entanglement);
    - ``explained`` = dedicated · clip(2·min(max(gain, 0), s2) − s3, 0, deficit): the gap the factor would gain if
      a and b were merged into one latent, counting only b's *new* information: the merged latent would score
      s1 + gain' (gain' = min(max(gain, 0), s2)) against the next competitor s3 instead of s1 against s2,
      i.e. gap + gain' + s2 − s3, and for a split (gain' = s2) that is gap + 2·s2 − s3. For a clean two-way split
      explained = deficit; for the identity code, a redundant copy or a non-dedicated (entangled) pair it is 0.
      Splits over k ≥ 3 latents are only partly explained by the top pair (explained = 2·s2 − s3).
    - ``unexplained`` = deficit − explained: the rest (entanglement, redundancy, a factor not captured).
    - ``chance``: the best score of any latent against the factors with their rows shuffled (one seeded
      permutation): what s1 reaches with no relation at all. The plug-in MI of 20-bin latents is biased upwards by
      ≈ (20 − 1)(n_v − 1)/(2N) nats (0.5 nats for a 32-valued factor at N = 500), so a raw ``min_score`` would
      count noise as a captured factor; ``captured`` = s1 ≥ chance + ``min_score``.
    - ``split_ratio``, ``pair_nmi``, ``disintegrated``: from ``rtc.metrics.disintegration`` with these codes.
    - ``control``: for a captured factor, ``disintegrated`` on the *control code*: the same codes with the second
      latent b permuted across the images (seeded). b keeps its marginal and a, the other latents and the factor
      are untouched, but b no longer carries anything about any factor, so a split of this factor over (a, b) is
      impossible; the flag can then fire only through the estimator (the plug-in MI bias lifting an unrelated
      latent to s1/2 when s1 is small) or through a third latent that also carries the factor. False for a factor
      that is not captured.

    ``codes`` (N, L ≥ 2), ``factors`` (N, F) grid indices. Returns one row per factor (in factor order,
    ``factor_index`` 0 … F − 1) with the columns above and factor, top_latent, second_latent, s1, s2, s3, joint.
    """
    if score not in ("r2", "nmi"):
        raise ValueError(f"score must be 'r2' or 'nmi', got {score!r}")
    c, f = np.asarray(codes, dtype=np.float64), np.asarray(factors, dtype=np.int64)
    mat, table, chance, captured, control = _flags(c, f, score, num_bins=num_bins, min_score=min_score, seed=seed)
    names = list(factor_names) if factor_names is not None else list(table.factor)
    if len(names) != f.shape[1]:
        raise ValueError(f"factor_names has {len(names)} names for {f.shape[1]} factors")
    bins = histogram_discretize(c, num_bins) if score == "nmi" else None
    rows = []
    for k, row in table.iterrows():
        a, b = int(row.top_latent), int(row.second_latent)
        col = np.sort(mat[:, k])[::-1]
        s1, s2 = float(col[0]), float(col[1])
        s3 = float(col[2]) if len(col) > 2 else 0.0
        if score == "r2":
            joint = _joint_r2(c[:, [a, b]], f[:, k].astype(np.float64))
        else:
            label = (bins[:, a] * num_bins + bins[:, b])[:, None]
            joint = float(discrete_mutual_info(label, f[:, [k]])[0, 0] / discrete_entropy(f[:, [k]])[0])
        gain = joint - s1
        gap = s1 - s2
        deficit = 1.0 - gap
        g = min(max(gain, 0.0), s2)
        explained = float(np.clip(2 * g - s3, 0.0, deficit)) if row.dedicated else 0.0
        rows.append(dict(factor=names[k], factor_index=int(k), top_latent=a, second_latent=b, s1=s1, s2=s2, s3=s3,
                         joint=joint, gain=gain, gap=gap, deficit=deficit, dedicated=bool(row.dedicated),
                         explained=explained, unexplained=deficit - explained, chance=float(chance[k]),
                         captured=bool(captured[k]), split_ratio=float(row.split_ratio),
                         pair_nmi=float(row.pair_nmi), disintegrated=bool(row.disintegrated),
                         control=bool(control[k])))
    return pd.DataFrame(rows)


def analyse_codes(codes, factors, *, factor_names=None, num_bins: int = 20, knn_k: int = 3, max_points: int = 2000,
                  min_score: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """:func:`pair_gain_table` under both scores ("r2" → SAP, "nmi" → MIG) with a ``score`` column, plus the
    dependence of each factor's top pair (:func:`top_pair_dependence`: corr, gaussian_mi, knn_mi, excess_mi).
    ``codes`` (N, L ≥ 2): encoder means of a trained model; ``factors`` (N, F)."""
    out, cache = [], {}
    for score in ("r2", "nmi"):
        t = pair_gain_table(codes, factors, score=score, factor_names=factor_names, num_bins=num_bins,
                            min_score=min_score, seed=seed)
        dep = []
        for a, b in zip(t.top_latent, t.second_latent, strict=True):
            key = (min(a, b), max(a, b))
            if key not in cache:
                cache[key] = top_pair_dependence(codes, a, b, k=knn_k, max_points=max_points, seed=seed)
            dep.append(cache[key])
        out.append(pd.concat([t.assign(score=score), pd.DataFrame(dep)], axis=1))
    return pd.concat(out, ignore_index=True)


def most_split_factor(table: pd.DataFrame) -> int | None:
    """Row of a :func:`pair_gain_table` (one score) whose factor is the clearest split: among captured factors
    (column ``captured``) the largest split ratio s2/s1, preferring flagged, then dedicated pairs; None if no
    factor is captured."""
    _need(table, ["captured", "split_ratio", "dedicated", "disintegrated"], "table")
    cap = table[table.captured.astype(bool)]
    if cap.empty:
        return None
    order = cap.assign(_f=cap.disintegrated.astype(int), _d=cap.dedicated.astype(int)).sort_values(
        ["_f", "_d", "split_ratio"], ascending=False, kind="stable")
    return int(order.index[0])


def reaction_table(controlled: pd.DataFrame, *, noise: float = 0.0) -> pd.DataFrame:
    """Which metric reacts to which manipulation: from a :func:`controlled_experiment` table, each model-level
    metric's value for the identity code (split, k = 1) and its change under the largest split (k = max), the
    dependent split and the largest rotation angle, all at ``noise``. Index: metric; columns identity, split,
    dependent, rotation (the three changes), k_max, alpha_max."""
    _need(controlled, ["mode", "k", "noise", "alpha", "scope", "metric", "value"], "controlled")
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


def deficit_summary(table: pd.DataFrame) -> dict:
    """Model level of a :func:`pair_gain_table`: ``deficit`` (= 1 − SAP or 1 − MIG of those codes), ``explained``
    (mean over factors), ``share`` = Σ explained / Σ deficit (NaN when the deficit is 0)."""
    d, e = float(table["deficit"].mean()), float(table["explained"].mean())
    return {"deficit": d, "explained": e, "share": e / d if d > 1e-12 else float("nan")}


def top_pair_dependence(codes, a: int, b: int, *, k: int = 3, max_points: int = 2000, seed: int = 0) -> dict:
    """corr, gaussian_mi, knn_mi, excess_mi of latents a and b (``rtc.experiments.dependence.pairwise_dependence``);
    all NaN when either latent is constant (no dependence is defined). KSG assumes distinct rows (a row repeated
    more than k times makes a k-th neighbour distance 0, which it rejects; fewer repeats bias it), so repeated
    rows of the pair are kept once: encoding images of uniformly drawn factors repeats images (2,000 draws from
    dSprites' 737,280 combinations give ≈ 2.7 repeated pairs on average), and a collapsed encoder maps many images
    to one mean. A discrete code has few distinct rows and is no input for this (use noisy codes)."""
    c = np.asarray(codes, dtype=np.float64)
    if np.ptp(c[:, a]) == 0 or np.ptp(c[:, b]) == 0:
        return dict(corr=float("nan"), gaussian_mi=float("nan"), knn_mi=float("nan"), excess_mi=float("nan"))
    pair = np.unique(c[:, [a, b]], axis=0)
    row = pairwise_dependence(pair, k=k, max_points=max_points, seed=seed).iloc[0]
    return {key: float(row[key]) for key in ("corr", "gaussian_mi", "knn_mi", "excess_mi")}


# ---------------------------------------------------------------------------------------------------------------
# Rank correlations over runs
# ---------------------------------------------------------------------------------------------------------------

def correlation_table(table: pd.DataFrame, xs, ys, *, repeats: int = 1000, seed: int = 0,
                      level: float = 0.95) -> pd.DataFrame:
    """:func:`spearman_bootstrap` for every (x, y) of column names of ``table``; columns x, y, n, rho, lo, hi,
    pvalue. A missing column is a ``KeyError`` naming it."""
    missing = [c for c in (*xs, *ys) if c not in table.columns]
    if missing:
        raise KeyError(f"table lacks the columns {missing}; it has {list(table.columns)}")
    return pd.DataFrame([dict(x=x, y=y, **spearman_bootstrap(table[x], table[y], repeats=repeats, seed=seed,
                                                             level=level)) for x in xs for y in ys])


# ---------------------------------------------------------------------------------------------------------------
# The chapter's steps: look-ups in the controlled table, the trained grid, numbers for the prose
# ---------------------------------------------------------------------------------------------------------------

NO_RUN = "inconclusive: no such run in this profile"


def number_text(value, spec: str = ".2f") -> str:
    """``value`` written with the format ``spec`` for the prose, or "n/a" when it is undefined (None, NaN, ±inf):
    a model that learned nothing has no captured factor, a profile without noise no noisy value. ``TypeError``
    for anything that is not a real number (a bool included)."""
    if value is None:
        return "n/a"
    if not is_real(value):
        raise TypeError(f"number_text needs a real number or None, got {type(value).__name__} {value!r}")
    return format(float(value), spec) if math.isfinite(value) else "n/a"


def rho_text(r) -> str:
    """A :func:`correlation_table` row (a mapping with rho, lo, hi, n) as "ρ [lo, hi] (n runs)", or
    "n/a (n runs)" when ρ is undefined (fewer than 3 runs, or a constant column)."""
    if not math.isfinite(r["rho"]):
        return f"n/a ({r['n']} runs)"
    return f"{r['rho']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}] ({r['n']} runs)"


def controlled_value(controlled: pd.DataFrame, mode: str, metric: str, *, scope: str = "factor 0",
                     noise: float = 0.0, **where) -> float:
    """The value of the one row of a :func:`controlled_experiment` table with this ``mode``, ``metric``, ``scope``
    and ``noise``, and the values ``where`` of further columns (e.g. ``k=4``, ``alpha=0.5``; numbers compared with
    ``np.isclose``). ``ValueError`` naming the selection unless exactly one row matches."""
    _need(controlled, ["mode", "metric", "scope", "noise", "value", *where], "controlled")
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
    _need(controlled, ["exact", "noise", "value", "closed_form"], "controlled")
    exact = controlled[controlled.exact.astype(bool)]
    if exact.empty:
        raise ValueError("no row of the controlled table has an exact closed form: include noise 0.0")
    noisy = controlled[(controlled.noise > 0) & controlled.closed_form.notna()]
    return {"count_exact": len(exact), "maxdev_exact": float((exact.value - exact.closed_form).abs().max()),
            "count_noisy": len(noisy),
            "maxdev_noisy": float((noisy.value - noisy.closed_form).abs().max()) if len(noisy) else float("nan")}


def find_run(runs, model: str, dataset) -> int | None:
    """Position in ``runs`` (``RunResult`` or ``RunSpec`` objects: anything with ``config.model`` and
    ``dataset.name``) of the *first* run of ``model`` on ``dataset`` — a name, or a sequence of names in order of
    preference (the first dataset with such a run wins): the grid's order decides which run a figure shows (the
    first strength and seed the grid lists). None when the grid has no such run."""
    for name in ([dataset] if isinstance(dataset, str) else list(dataset)):
        for i, r in enumerate(runs):
            if r.config.model == model and r.dataset.name == name:
                return i
    return None


def run_label(run) -> str:
    """"model strength (seed s), dataset" of a ``RunResult`` or ``RunSpec``: one run's name in tables."""
    c = run.config
    return f"{c.model} {c.strength:g} (seed {c.seed}), {run.dataset.name}"


def encode_runs(results, *, n: int, seed: int = 0, device=None) -> list:
    """Encode ``n`` images of uniformly drawn factors (seeded, ``rtc.models.encode``) with each run's trained
    model (``RunResult.load_model``, which never trains) on the run's dataset. One ``Encoding`` per run, in the
    order of ``results``: µ, σ, z (n, L), factors (n, F)."""
    from rtc.models import encode

    return [encode(r.load_model(device=device), r.dataset.load(), n=n, seed=seed) for r in results]


def encode_half(results, *, n: int, seed: int = 0, device=None) -> list:
    """As :func:`encode_runs`, with each run's weight snapshot at half training (step ``config.steps // 2``,
    ``RunResult.load_snapshot``); None for a run that kept no snapshot at that step (``snapshot_every`` does not
    divide it, or is 0). The same ``seed`` draws the same factors as :func:`encode_runs` with the same ``n``."""
    from rtc.models import encode

    out = []
    for r in results:
        step = r.config.steps // 2
        out.append(encode(r.load_snapshot(step, device=device), r.dataset.load(), n=n, seed=seed)
                   if step in r.snapshots else None)
    return out


def active_encodings(encodings) -> list:
    """Each encoding restricted to its active latents (µ, σ, z columns with Var µ_k > ACTIVE_VAR,
    :func:`rtc.models.encoding.active_latents`), for the claims' view over the active latents; None (left out, as by
    :func:`analyse_runs`) for a None encoding or one with fewer than two active latents (no pair to split into)."""

    out = []
    for enc in encodings:
        keep = active_latents(enc.mu) if enc is not None else None
        out.append(None if keep is None or keep.sum() < 2 else
                   replace(enc, mu=enc.mu[:, keep], sigma=enc.sigma[:, keep], z=enc.z[:, keep]))
    return out


def analyse_runs(results, encodings, *, max_points: int = 2000, min_score: float = 0.1,
                 seed: int = 0) -> pd.DataFrame | None:
    """:func:`analyse_codes` of every run's encoder means: ``encodings[i]`` (anything with ``mu`` (N, L) and
    ``factors`` (N, F), e.g. :func:`encode_runs`' output) belongs to ``results[i]``; a None encoding (a run
    without a half-training snapshot, :func:`encode_half`) leaves that run out. One table, a row per (run,
    score, factor), with the run's position ``run``, ``model``, ``dataset``, ``strength``, ``seed`` and
    ``tc_mean`` (Prop. 1 on the covariance of these µ, nats; ``rtc.gaussian.sample_tc``) added; None when every
    encoding is None."""
    from rtc.gaussian import sample_tc

    if len(results) != len(encodings):
        raise ValueError(f"{len(results)} results but {len(encodings)} encodings: one encoding per run")
    if not len(results):
        raise ValueError("analyse_runs needs at least one run")
    tables = []
    for i, (res, enc) in enumerate(zip(results, encodings, strict=True)):
        if enc is None:
            continue
        a = analyse_codes(enc.mu, enc.factors, factor_names=res.factor_names, max_points=max_points,
                          min_score=min_score, seed=seed)
        c = res.config
        tables.append(a.assign(run=i, model=c.model, dataset=res.dataset.name, strength=float(c.strength),
                               seed=c.seed, tc_mean=sample_tc(enc.mu)))
    return pd.concat(tables, ignore_index=True) if tables else None


def clearest_split(factors: pd.DataFrame, run: int, *, fallback: bool = False) -> pd.Series | None:
    """The clearest split factor of run ``run`` in an :func:`analyse_runs` table, by normalised MI
    (:func:`most_split_factor`): that factor's "nmi" row (``factor_index``: its column in the factors,
    0 … F − 1), plus ``gap_r2`` (its gap under R²). None when no factor of the run is captured — unless
    ``fallback``: then the factor with the largest split ratio, to show the mechanics (its ``captured`` is False).
    ``ValueError`` when the table has no row of that run."""
    _need(factors, ["run", "score", "factor", "gap", "split_ratio", "captured", "dedicated", "disintegrated"],
          "factors")
    nmi = factors[(factors.run == run) & (factors.score == "nmi")].reset_index(drop=True)
    r2 = factors[(factors.run == run) & (factors.score == "r2")].reset_index(drop=True)
    if nmi.empty or len(r2) != len(nmi):
        raise ValueError(f"factors has {len(nmi)} 'nmi' and {len(r2)} 'r2' rows of run {run}; expected one per "
                         "factor under each score")
    pick = most_split_factor(nmi)
    if pick is None:
        if not fallback:
            return None
        pick = int(nmi.split_ratio.fillna(-1).idxmax())
    row = nmi.loc[pick].copy()
    row["gap_r2"] = float(r2.loc[pick].gap)
    return row


def split_texts(results, factors: pd.DataFrame, run: int | None) -> dict:
    """The prose's numbers about run ``run`` (a position in ``results``): ``sap`` and ``mig`` (its evaluation's
    SAP and reference MIG), and of its :func:`clearest_split`: ``split-factor``, ``split-pair`` ("z3, z5"),
    ``split-gap-nmi``, ``split-gap-r2``. All "n/a" when ``run`` is None; the split's "n/a (no captured factor)"
    when no factor of the run is captured."""
    keys = ("split-factor", "split-gap-r2", "split-gap-nmi", "split-pair")
    if run is None:
        return dict.fromkeys(("sap", "mig", *keys), "n/a")
    row = results[run].row
    out = {"sap": number_text(row["sap_r2"]), "mig": number_text(row["mig_ref"])}
    split = clearest_split(factors, run)
    if split is None:
        return {**out, **dict.fromkeys(keys, "n/a (no captured factor)")}
    return {**out, "split-factor": str(split.factor), "split-gap-nmi": number_text(split.gap),
            "split-gap-r2": number_text(split.gap_r2),
            "split-pair": f"z{int(split.top_latent)}, z{int(split.second_latent)}"}


def pair_text(factors: pd.DataFrame, run: int | None) -> str:
    """One sentence on the top pair of run ``run``'s :func:`clearest_split` (with ``fallback``): the factor, its
    two latents and their normalised MI, correlation, kNN MI, excess MI over the Gaussian value, pair NMI and the
    flag. :data:`NO_RUN` when ``run`` is None."""
    if run is None:
        return NO_RUN
    row = clearest_split(factors, run, fallback=True)
    note = "" if row.captured else " (no factor is captured: shown for the mechanics)"
    return (f"factor {row.factor}{note}: latents z{int(row.top_latent)} and z{int(row.second_latent)} (normalised MI "
            f"{row.s1:.2f} and {row.s2:.2f}), corr {number_text(row['corr'])}, kNN MI {number_text(row.knn_mi, '.3f')}"
            f" nats, excess MI over the Gaussian value {number_text(row.excess_mi, '.3f')} nats, pair NMI "
            f"{number_text(row.pair_nmi)}; flagged as disintegrated: {'yes' if row.disintegrated else 'no'}")


def deficit_table(factors: pd.DataFrame, results, score: str) -> pd.DataFrame:
    """Per run (in the order of ``results``), :func:`deficit_summary` of its factors under ``score`` ("r2" → SAP,
    "nmi" → MIG) in an :func:`analyse_runs` table: columns run (:func:`run_label`), model, dataset, deficit,
    explained, share (NaN when the run has no deficit)."""
    if score not in ("r2", "nmi"):
        raise ValueError(f"score must be 'r2' or 'nmi', got {score!r}")
    _need(factors, ["run", "score", "deficit", "explained"], "factors")
    rows = []
    for i, res in enumerate(results):
        t = factors[(factors.run == i) & (factors.score == score)]
        if t.empty:
            raise ValueError(f"factors has no {score!r} row of run {i} ({run_label(res)})")
        rows.append(dict(run=run_label(res), model=res.config.model, dataset=res.dataset.name, **deficit_summary(t)))
    return pd.DataFrame(rows)


def deficit_shares(deficits: pd.DataFrame) -> dict:
    """Over the runs of a :func:`deficit_table`: ``share`` = 100 · Σ explained / Σ deficit (percent; NaN when
    the deficits sum to 0), and the run with the largest share: ``max_share`` (percent, NaN when no run has a
    share) and ``max_run`` (its label; the first run when none has a share)."""
    _need(deficits, ["run", "deficit", "explained", "share"], "deficits")
    if deficits.empty:
        raise ValueError("deficit_shares needs at least one run")
    total = float(deficits.deficit.sum())
    best = deficits.loc[deficits.share.fillna(-1).idxmax()]
    return {"share": 100 * float(deficits.explained.sum()) / total if total > 0 else float("nan"),
            "max_share": 100 * float(best.share), "max_run": best.run}


def tradeoff_dataset(table: pd.DataFrame) -> str | None:
    """The dataset with the most factorised runs in a grid's table (TC values of different datasets are not
    comparable, so the trade-off is tested on one); the first listed by ``value_counts`` on a tie; None without a
    factorised run."""
    _need(table, ["model", "dataset"], "table")
    fz = table[table.model.isin(FACTORISED_MODELS)]
    return fz.dataset.value_counts().index[0] if len(fz) else None


# ---------------------------------------------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------------------------------------------

# name → (the claim, the quantity whose 90 % interval judges it, the threshold's field of rtc.claims.Thresholds,
# the side of the threshold the claim is on): the rows of the verdict table, in the chapter's order.
CLAIMS = {
    "exists": ("disintegration exists in trained factorised models",
               "share of the factorised runs with a flagged captured factor, minus that share on their control codes "
               "(each captured factor's second latent permuted); runs paired with their controls",
               "exists_share", "above"),
    "suppression-sap": ("disintegration suppresses SAP",
                        "mean SAP gap (R²) of a run's captured factors not flagged, minus that of the factors flagged "
                        "on the normalised-MI matrix; within runs", "suppression", "above"),
    "suppression-mig": ("disintegration suppresses MIG",
                        "mean MIG gap (normalised MI) of a run's captured factors not flagged, minus that of the "
                        "factors flagged on the R² matrix; within runs", "suppression", "above"),
    "distinct": ("factorised disintegration is distinct from DIP-VAE's dependence",
                 "excess kNN MI over the Gaussian value (nats) of DIP-VAE's dedicated top pairs, minus the factorised "
                 "models'; paired by dataset and seed", "dependent_excess", "above"),
    "tradeoff": ("trade-off: more factorised ↔ more disintegrated",
                 "Spearman ρ(TC_mean, disintegration index) over the factorised runs of one dataset",
                 "strong_rho", "band"),
}
# Where the paper states each claim, and its quantity: the first columns of rtc.claims.verdict_table.
QUANTITIES = {k: ("§5.4" if k.startswith("suppression") else "§5.3", v[1]) for k, v in CLAIMS.items()}
# A rank correlation over fewer runs than this is descriptive (said with its verdict).
DESCRIPTIVE_RUNS = 30
_BINS = 20  # the reference MIG's histogram bins, as everywhere in this module

_FACTOR_COLUMNS = ["run", "model", "dataset", "seed", "score", "factor", "factor_index", "captured", "gap",
                   "disintegrated", "control"]


def _need(df: pd.DataFrame, cols, name: str):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}; it has {list(df.columns)}")


def _none(name: str, why: str, th: Thresholds, seeds: int = 0, values=None) -> Observation:
    """An inconclusive claim without an interval: nothing (or too little) to judge."""
    return Observation(CLAIMS[name][0], "inconclusive", f"inconclusive: {why}", f"No interval: {why}.",
                       {**(values or {}), "side": CLAIMS[name][3]}, threshold=getattr(th, CLAIMS[name][2]),
                       seeds=seeds)


def _judged(name: str, interval: Interval, verdict: str, th: Thresholds, seeds: int, evidence: str,
            values: dict, note: str = "") -> Observation:
    return Observation(CLAIMS[name][0], verdict, verdict + note, f"{interval.text()}; {evidence}",
                       {**values, "estimate": interval.estimate, "lo": interval.lo, "hi": interval.hi,
                        "side": CLAIMS[name][3]},
                       interval=interval, threshold=getattr(th, CLAIMS[name][2]), seeds=seeds)


def _codes_of(codes, run: int):
    """The encoding of run ``run`` for a one-run bootstrap over images; a clear error without it."""
    enc = None if codes is None else codes[run]
    if enc is None:
        raise ValueError(f"one run (run {run}) to judge: its interval is a bootstrap over its images, so pass "
                         "its codes (codes[run], an encoding with mu and factors)")
    return enc


def run_summary(factors: pd.DataFrame) -> pd.DataFrame:
    """One row per run of an :func:`analyse_runs` table: run, model, dataset, strength, seed, tc_mean,
    ``captured`` (how many factors are captured under either score), ``flagged`` / ``control`` (a captured
    factor is flagged on the codes / on its control code, :func:`pair_gain_table`, under either score) and
    ``disintegration_nmi``: the mean over the factors captured under normalised MI of split ratio × dedicated
    (``rtc.metrics.disintegration_index`` with the chance-corrected capture); NaN without such a factor."""
    _need(factors, [*_FACTOR_COLUMNS, "strength", "tc_mean", "split_ratio", "dedicated"], "factors")
    rows = []
    for run, t in factors.groupby("run", sort=True):
        cap = t[t.captured.astype(bool)]
        nmi = cap[cap.score == "nmi"]
        first = t.iloc[0]
        rows.append(dict(run=int(run), model=first.model, dataset=first.dataset, strength=float(first.strength),
                         seed=int(first.seed), tc_mean=float(first.tc_mean), captured=int(cap.factor.nunique()),
                         flagged=bool(cap.disintegrated.astype(bool).any()),
                         control=bool(cap.control.astype(bool).any()),
                         disintegration_nmi=float((nmi.split_ratio * nmi.dedicated.astype(float)).mean())
                         if len(nmi) else float("nan")))
    return pd.DataFrame(rows)


def _exists_statistic(codes, factors, *, min_score: float, seed: int) -> float:
    """1[a captured factor is flagged] − 1[one is flagged on its control code], under either score."""
    c, f = np.asarray(codes, dtype=np.float64), np.asarray(factors, dtype=np.int64)
    flagged = control = False
    for score in ("r2", "nmi"):
        _, table, _, captured, ctl = _flags(c, f, score, num_bins=_BINS, min_score=min_score, seed=seed)
        flagged |= bool((captured & table.disintegrated.to_numpy(dtype=bool)).any())
        control |= bool(ctl.any())
    return float(flagged) - float(control)


def check_exists(factors: pd.DataFrame, codes=None, th: Thresholds = THRESHOLDS, *, repeats: int = 1000,
                 seed: int = 0, level: float = LEVEL) -> Observation:
    """Claim: factor disintegration exists in trained factorised models (FactorVAE, RTC-VAE, β-TCVAE).

    Quantity: over the factorised runs with a captured factor, the share with a flagged captured factor minus the
    share whose control code (:func:`pair_gain_table`'s ``control``: each captured factor's second latent
    permuted, so no split over that pair is possible) has one. Each run is paired with its own control; with ≥ 2
    runs the interval is the exact binomial one of the difference of the two shares
    (:func:`rtc.claims.share_difference_interval`: 0/1 outcomes that all agree must not give a point), with one
    run a bootstrap over its images
    (``codes[run]``: its encoding; the flags recomputed on each resample). Confirmed when the interval lies above
    ``exists_share``. ``factors``: an :func:`analyse_runs` table (run with the ``seed`` the analysis used)."""
    name = "exists"
    runs = run_summary(factors)
    fz = runs[runs.model.isin(FACTORISED_MODELS)]
    if fz.empty:
        return _none(name, "no factorised-model run in this profile", th)
    judged = fz[fz.captured > 0]
    if judged.empty:
        return _none(name, f"no factor of the {len(fz)} factorised runs is captured (best score ≥ chance + "
                           f"{th.min_score})", th, int(fz.seed.nunique()))
    if len(judged) >= 2:
        iv = share_difference_interval(int(judged.flagged.sum()), len(judged), int(judged.control.sum()),
                                       len(judged), level=level, basis="runs against their controls (exact binomial)")
    else:
        enc = _codes_of(codes, int(judged.run.iloc[0]))
        iv = bootstrap_interval(lambda mu, f: _exists_statistic(mu, f, min_score=th.min_score, seed=seed),
                                enc.mu, enc.factors, repeats=repeats, seed=seed, level=level)
    others = runs[~runs.model.isin(FACTORISED_MODELS) & (runs.captured > 0)]
    evidence = (f"{int(judged.flagged.sum())} of {len(judged)} factorised runs with a captured factor have a flagged "
                f"factor, {int(judged.control.sum())} on their control codes"
                + (f"; the other models (descriptive): {int(others.flagged.sum())} of {len(others)} runs, "
                   f"{int(others.control.sum())} on the controls" if len(others) else "")
                + f"; threshold {th.exists_share:g}.")
    return _judged(name, iv, interval_verdict(iv, th.exists_share, side="above"), th, int(judged.seed.nunique()),
                   evidence, {"runs": len(judged), "runs_flagged": int(judged.flagged.sum()),
                              "runs_control": int(judged.control.sum())})


def permutation_pvalue(groups, values, labels, *, repeats: int = 1000, seed: int = 0) -> float:
    """One-sided permutation p-value of T = the mean over groups of (mean ``values`` where not ``labels`` −
    mean where ``labels``), the labels shuffled within each group (each keeps its number of labelled items):
    (1 + #{T* ≥ T}) / (1 + repeats). ``groups``, ``values``, ``labels`` (n,); every group needs both labels."""
    g, v, lab = np.asarray(groups), np.asarray(values, dtype=np.float64), np.asarray(labels, dtype=bool)
    if not (g.shape == v.shape == lab.shape) or g.ndim != 1:
        raise ValueError(f"groups, values and labels must be 1-D of one length, got {g.shape}, {v.shape}, {lab.shape}")
    if not np.isfinite(v).all():
        raise ValueError("values must be finite")
    if not is_integer(repeats) or repeats < 1:
        raise ValueError(f"repeats must be an integer ≥ 1, got {repeats!r}")
    parts = [(v[g == k], lab[g == k]) for k in np.unique(g)]
    bad = [k for k, (_, lk) in zip(np.unique(g), parts, strict=True) if lk.all() or not lk.any()]
    if bad:
        raise ValueError(f"groups {bad} lack one of the two labels: the difference is undefined there")

    def statistic(labs) -> float:
        return float(np.mean([vk[~lk].mean() - vk[lk].mean() for (vk, _), lk in zip(parts, labs, strict=True)]))

    observed = statistic([lk for _, lk in parts])
    rng = np.random.default_rng(seed)
    hits = sum(statistic([rng.permutation(lk) for _, lk in parts]) >= observed - 1e-12 for _ in range(repeats))
    return (1 + hits) / (1 + repeats)


def suppression_table(factors: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The factors the suppression claim compares, for ``metric`` "sap" (gaps of the R² matrix) or "mig"
    (normalised MI): every factor captured under the metric's own score, with its ``gap`` there and ``flag``:
    flagged (captured and disintegrated) on the *other* score's matrix. The flag is taken from the other matrix
    because a flag on the metric's own matrix needs s2 ≥ s1/2, i.e. a gap ≤ s1/2: a test on it could not fail.
    Columns run, seed, factor, factor_index, gap, flag."""
    if metric not in ("sap", "mig"):
        raise ValueError(f"metric must be 'sap' or 'mig', got {metric!r}")
    _need(factors, _FACTOR_COLUMNS, "factors")
    own, other = ("r2", "nmi") if metric == "sap" else ("nmi", "r2")
    keys = ["run", "factor_index"]
    a = factors[factors.score == own][[*keys, "seed", "factor", "captured", "gap"]]
    b = factors[factors.score == other][[*keys, "captured", "disintegrated"]]
    t = a.merge(b, on=keys, suffixes=("", "_other"), validate="one_to_one")
    t = t[t.captured.astype(bool)]
    flag = t.captured_other.astype(bool) & t.disintegrated.astype(bool)
    return t.assign(flag=flag)[["run", "seed", "factor", "factor_index", "gap", "flag"]].reset_index(drop=True)


def check_suppression(factors: pd.DataFrame, metric: str, codes=None, th: Thresholds = THRESHOLDS, *,
                      repeats: int = 1000, seed: int = 0, level: float = LEVEL) -> Observation:
    """Claim: disintegration suppresses SAP (``metric="sap"``) or MIG (``"mig"``).

    Over the runs with both flagged and unflagged captured factors (:func:`suppression_table`: gaps of the
    metric's matrix, flags from the other one), the quantity is each run's mean gap of its unflagged factors minus
    that of its flagged ones. With ≥ 2 such runs the interval is Student's t over the runs; with one, a bootstrap
    over its images (``codes[run]``), the flags fixed and the gaps recomputed. Confirmed when the interval lies
    above ``suppression``; inconclusive with fewer than ``min_cases`` flagged factors. The permutation p-value
    (:func:`permutation_pvalue`, flags shuffled across the factors of each run) is reported with it."""
    name = f"suppression-{metric}"
    t = suppression_table(factors, metric)
    counts = t.groupby("run").flag.agg(["sum", "count"])
    both = counts[(counts["sum"] > 0) & (counts["sum"] < counts["count"])].index
    e = t[t.run.isin(both)]
    flagged = int(e.flag.sum())
    if flagged < th.min_cases:
        return _none(name, f"{flagged} flagged captured factors in runs that also have unflagged ones (need ≥ "
                           f"{th.min_cases})", th, int(e.seed.nunique()), {"flagged": flagged})
    means = e.groupby(["run", "flag"]).gap.mean().unstack()
    if len(both) >= 2:
        iv = replace(paired_interval(means[True], means[False], level=level),
                     basis="runs (unflagged − flagged within each)")
    else:
        run = int(both[0])
        enc, r = _codes_of(codes, run), e[e.run == run]
        own = "r2" if metric == "sap" else "nmi"
        fl, un = r.factor_index[r.flag].to_numpy(), r.factor_index[~r.flag].to_numpy()

        def statistic(mu, f) -> float:
            top = np.sort(_score_matrix(mu, f, own, _BINS), axis=0)
            gap = top[-1] - top[-2]
            return float(gap[un].mean() - gap[fl].mean())

        iv = bootstrap_interval(statistic, enc.mu, enc.factors, repeats=repeats, seed=seed, level=level,
                                basis="one seed (bootstrap over images, flags fixed)")
    p = permutation_pvalue(e.run, e.gap, e.flag, repeats=repeats, seed=seed)
    evidence = (f"{flagged} flagged and {len(e) - flagged} unflagged captured factors in {len(both)} runs, mean gap "
                f"{e.gap[e.flag].mean():.2f} flagged against {e.gap[~e.flag].mean():.2f} unflagged; permutation "
                f"p = {p:.3f} (flags shuffled within runs); threshold {th.suppression:g}.")
    return _judged(name, iv, interval_verdict(iv, th.suppression, side="above"), th, int(e.seed.nunique()),
                   evidence, {"flagged": flagged, "runs": len(both), "p": p})


def _two_group_interval(a, b, *, repeats: int, seed: int, level: float) -> Interval:
    """mean(b) − mean(a) with a percentile bootstrap that resamples each group on its own (seeded)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    boot = [rng.choice(b, len(b)).mean() - rng.choice(a, len(a)).mean() for _ in range(repeats)]
    est = float(b.mean() - a.mean())
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return Interval(est, float(min(lo, est)), float(max(hi, est)), 1, "one seed (bootstrap over pairs)", level)


def check_distinct(factors: pd.DataFrame, th: Thresholds = THRESHOLDS, *, repeats: int = 1000, seed: int = 0,
                   level: float = LEVEL) -> Observation:
    """Claim: the disintegration of factorised models is distinct from DIP-VAE's dependence (the paper's Fig. 7
    against Fig. 6): DIP-VAE's split pairs are dependent beyond their correlation, the factorised models' are not.

    Pairs: the top pairs of captured factors whose two best latents are dedicated to them (normalised MI), with a
    finite excess MI (kNN MI − Gaussian MI, nats). Units: a dataset and seed with pairs of both groups. Quantity:
    the DIP-VAE pairs' mean excess MI minus the factorised models' in each unit; with ≥ 2 units Student's t over
    the paired differences, with one a bootstrap over its pairs (each group resampled; a bootstrap over images
    would re-run the kNN estimator per resample). Confirmed when the interval lies above ``dependent_excess``;
    inconclusive with fewer than ``min_cases`` pairs in a group."""
    name = "distinct"
    _need(factors, [*_FACTOR_COLUMNS, "dedicated", "knn_mi", "excess_mi", "corr"], "factors")
    pairs = factors[factors.captured.astype(bool) & factors.dedicated.astype(bool) & (factors.score == "nmi")
                    & np.isfinite(factors.excess_mi)]
    fz, dip = pairs[pairs.model.isin(FACTORISED_MODELS)], pairs[pairs.model.isin(DIP_MODELS)]
    unit = lambda df: list(zip(df.dataset, df.seed, strict=True))  # noqa: E731  (a dataset and seed)
    units = sorted(set(unit(fz)) & set(unit(dip)))
    inside = lambda df: df[np.array([u in units for u in unit(df)], dtype=bool)]  # noqa: E731
    fz, dip = inside(fz), inside(dip)
    if min(len(fz), len(dip)) < th.min_cases:
        return _none(name, f"{len(fz)} factorised-model and {len(dip)} DIP-VAE dedicated top pairs of captured "
                           f"factors on a shared dataset and seed (need ≥ {th.min_cases} each)", th, len(units))
    if len(units) >= 2:
        mean = lambda df: df.groupby(["dataset", "seed"]).excess_mi.mean().loc[units]  # noqa: E731
        iv = paired_interval(mean(fz), mean(dip), level=level)
    else:
        iv = _two_group_interval(fz.excess_mi, dip.excess_mi, repeats=repeats, seed=seed, level=level)
    v = {"fz_knn": float(fz.knn_mi.mean()), "fz_corr": float(fz["corr"].abs().mean()),
         "dip_knn": float(dip.knn_mi.mean()), "dip_corr": float(dip["corr"].abs().mean()), "fz_pairs": len(fz),
         "dip_pairs": len(dip)}
    evidence = (f"factorised models: {len(fz)} pairs, mean kNN MI {v['fz_knn']:.3f} nats (independent below "
                f"{th.independent_mi:g}), mean |corr| {v['fz_corr']:.2f}; DIP-VAE: {len(dip)} pairs, mean kNN MI "
                f"{v['dip_knn']:.3f} nats, mean |corr| {v['dip_corr']:.2f}; threshold {th.dependent_excess:g} nats.")
    return _judged(name, iv, interval_verdict(iv, th.dependent_excess, side="above"), th, len(units), evidence, v)


def check_tradeoff(factors: pd.DataFrame, th: Thresholds = THRESHOLDS, *, dataset: str | None = None,
                   repeats: int = 1000, seed: int = 0, level: float = LEVEL) -> Observation:
    """Claim: a trade-off — the more factorised a model (lower TC of the means), the more disintegrated (higher
    disintegration index). Spearman ρ over the factorised runs of ``dataset`` (default :func:`tradeoff_dataset`:
    TC values of different datasets are not comparable) of :func:`run_summary`'s tc_mean and disintegration_nmi,
    with its bootstrap interval over runs. The band rule (``rtc.claims.band_verdict`` on (−strong_rho,
    strong_rho)): confirmed when the interval lies wholly below −strong_rho, refuted when it lies inside the band
    (no strong correlation) or wholly above +strong_rho, inconclusive otherwise — an interval that merely excludes
    0 decides nothing. Inconclusive with fewer than ``min_runs`` runs; below :data:`DESCRIPTIVE_RUNS` runs the
    verdict says it is descriptive."""
    name = "tradeoff"
    runs = run_summary(factors)
    fz = runs[runs.model.isin(FACTORISED_MODELS)]
    dataset = dataset if dataset is not None else tradeoff_dataset(fz)
    if dataset is None:
        return _none(name, "no factorised-model run in this profile", th)
    fz = fz[fz.dataset == dataset]
    r = spearman_bootstrap(fz.tc_mean, fz.disintegration_nmi, repeats=repeats, seed=seed, level=level)
    if r["n"] < th.min_runs or not all(math.isfinite(r[k]) for k in ("rho", "lo", "hi")):
        return _none(name, f"{r['n']} factorised runs on {dataset} with a finite TC_mean and disintegration index "
                           f"(need ≥ {th.min_runs} with varying values)", th, int(fz.seed.nunique()), {"n": r["n"]})
    iv = Interval(r["rho"], r["lo"], r["hi"], r["n"], "runs (bootstrap)", level)
    band = band_verdict(iv, -th.strong_rho, th.strong_rho)
    verdict = {"confirmed": "refuted", "inconclusive": "inconclusive"}.get(
        band, "confirmed" if iv.hi <= -th.strong_rho else "refuted")
    note = f" (descriptive: a rank correlation over {r['n']} < {DESCRIPTIVE_RUNS} runs)" if r["n"] < DESCRIPTIVE_RUNS \
        else ""
    evidence = (f"Spearman ρ(TC_mean, disintegration index) over {r['n']} factorised runs on {dataset}; a strong "
                f"correlation is |ρ| ≥ {th.strong_rho:g}.")
    return _judged(name, iv, verdict, th, int(fz.seed.nunique()), evidence, {"n": r["n"]}, note)


def _claims(factors, codes, th: Thresholds, repeats: int, seed: int) -> dict:
    kw = dict(repeats=repeats, seed=seed)
    return {"exists": check_exists(factors, codes, th, **kw),
            "suppression-sap": check_suppression(factors, "sap", codes, th, **kw),
            "suppression-mig": check_suppression(factors, "mig", codes, th, **kw),
            "distinct": check_distinct(factors, th, **kw), "tradeoff": check_tradeoff(factors, th, **kw)}


def check_claims(factors: pd.DataFrame, codes=None, th: Thresholds = THRESHOLDS, *, half: pd.DataFrame | None = None,
                 half_codes=None, repeats: int = 1000, seed: int = 0) -> dict:
    """The chapter's claims (:data:`CLAIMS`, in order) on an :func:`analyse_runs` table ``factors`` (``codes``:
    the runs' encodings, for a one-run bootstrap over images), each checked again on ``half`` — the same analysis
    of the runs' snapshots at half training (``half_codes`` their encodings; None: not computed). The final
    verdict is ``rtc.claims.convergence_verdict`` of the two ("not converged" when confirmed at one and refuted
    at the other); ``Observation.half`` holds the half-training verdict. Returns name → Observation."""
    full = _claims(factors, codes, th, repeats, seed)
    if half is None:
        return {k: replace(o, evidence=o.evidence + " Half training: no run kept a snapshot at half training.")
                for k, o in full.items()}
    halves = _claims(half, half_codes, th, repeats, seed)
    out = {}
    for k, o in full.items():
        h = halves[k]
        verdict = convergence_verdict(o.verdict, h.verdict)
        summary = (o.summary if verdict == o.verdict else
                   f"not converged: {o.verdict} at the end of training, {h.verdict} at half training")
        at_half = h.interval.text() if h.interval is not None else h.summary
        out[k] = replace(o, verdict=verdict, summary=summary, half=h.verdict,
                         evidence=f"{o.evidence} At half training: {at_half} → {h.verdict}.")
    return out


def check_claims_active(results, encodings, half_encodings=None, th: Thresholds = THRESHOLDS, *,
                        factors: pd.DataFrame | None = None, half_factors: pd.DataFrame | None = None,
                        max_points: int = 2000, repeats: int = 1000, seed: int = 0) -> dict:
    """:func:`check_claims` over each run's active latents (:func:`active_encodings` of ``encodings`` and of
    ``half_encodings``, the snapshots at half training, None: not computed), analysed as :func:`analyse_runs`
    does with ``th.min_score``. A latent whose µ barely varies can still score on a scale-free metric (R², MI), so
    this view can differ from the one over all latents. ``factors`` / ``half_factors``: the :func:`analyse_runs`
    tables over all latents, already computed with the same settings — a run whose latents are all active takes
    its rows from there instead of being analysed again. Returns name → Observation, or {} when no run has two
    active latents (nothing to judge; the chapter shows the view over all latents only)."""
    kw = dict(max_points=max_points, min_score=th.min_score, seed=seed)

    def analyse(encs, done):
        act = active_encodings(encs)
        fresh = [a if a is None or done is None or a.mu.shape[1] < e.mu.shape[1] else None
                 for a, e in zip(act, encs, strict=True)]
        reused = [] if done is None else [i for i, (a, f) in enumerate(zip(act, fresh, strict=True))
                                          if a is not None and f is None]
        parts = [analyse_runs(results, fresh, **kw)] if any(f is not None for f in fresh) else []
        parts.append(done[done.run.isin(reused)] if reused else None)
        parts = [p for p in parts if p is not None]
        table = pd.concat(parts).sort_values("run", kind="stable").reset_index(drop=True) if parts else None
        return table, act

    factors, act = analyse(encodings, factors)
    if factors is None:
        return {}
    half = half_codes = None
    if half_encodings is not None:
        half, half_codes = analyse(half_encodings, half_factors)
    return check_claims(factors, act, th, half=half, half_codes=half_codes if half is not None else None,
                        repeats=repeats, seed=seed)


def deficit_share_interval(factors: pd.DataFrame, score: str, *, repeats: int = 1000, seed: int = 0,
                           level: float = LEVEL) -> Interval | None:
    """The interval of :func:`deficit_shares`' ``share`` (percent: 100 · Σ explained / Σ deficit over the runs'
    mean per-factor values under ``score``): a bootstrap over runs with ≥ 2 runs, over the factors of the one run
    otherwise (``n``: the runs resampled, 1 for one run). None when the deficits sum to 0 (no share)."""
    if score not in ("r2", "nmi"):
        raise ValueError(f"score must be 'r2' or 'nmi', got {score!r}")
    _need(factors, ["run", "score", "deficit", "explained"], "factors")
    t = factors[factors.score == score]
    per = t.groupby("run")[["explained", "deficit"]].mean()
    if per.empty:
        raise ValueError(f"factors has no {score!r} row")
    if not per.deficit.sum() > 0:
        return None
    share = lambda e, d: 100 * e.sum() / d.sum() if d.sum() > 0 else float("nan")  # noqa: E731
    if len(per) >= 2:
        return replace(bootstrap_interval(share, per.explained.to_numpy(), per.deficit.to_numpy(), repeats=repeats,
                                          seed=seed, level=level, basis="runs (bootstrap)"), n=len(per))
    return bootstrap_interval(share, t.explained.to_numpy(), t.deficit.to_numpy(), repeats=repeats, seed=seed,
                              level=level, basis="one run (bootstrap over factors)")
