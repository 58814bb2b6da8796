"""Controlled codes: a factor split over independent latents, made on a full factorial grid so that every metric
has a closed-form value.

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
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rtc._validate import check_real
from rtc.metrics import histogram_discretize

from .common import MAX_GRID, MAX_VALUES, MODES, int_arg

__all__ = ["SyntheticCode", "synthetic_code", "split_r2", "closed_forms"]


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
    k = int_arg("k", k, 1)
    m = int_arg("m", m, 2, MAX_VALUES)
    noise = check_real(noise, "noise", minimum=0.0)
    alpha = check_real(alpha, "alpha")
    seed = int_arg("seed", seed, 0)
    others = tuple(int_arg(f"other_sizes[{i}]", s, 2, MAX_VALUES) for i, s in enumerate(other_sizes))
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
    if total > MAX_GRID:
        raise ValueError(f"the grid {sizes} has {total} points (> {MAX_GRID}); lower m, k or other_sizes")
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
    m = int_arg("m", m, 2)
    k = int_arg("k", k, 1)
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
    k = int_arg("k", k, 1)
    m = int_arg("m", m, 2, MAX_VALUES)
    F = int_arg("num_factors", num_factors, 1 if mode != "rotation" else 2)
    noise = check_real(noise, "noise", minimum=0.0)
    alpha = check_real(alpha, "alpha")
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
