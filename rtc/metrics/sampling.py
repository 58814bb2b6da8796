"""Inputs of the metrics: validated (codes, factors) arrays, train/test splits, and codes sampled from a dataset.

Shapes used throughout :mod:`rtc.metrics`:

- ``codes``   (N, L) float — one row per observation, one column per latent (mean representations
  unless a function says otherwise);
- ``factors`` (N, F) int64 — ground-truth factor *grid indices* (0 … size−1), as returned by
  ``dataset.sample_factors``. Metrics that need a "value" of a factor (the R² of SAP) use the
  index itself, as the reference library does: every factor in our datasets is an evenly spaced
  grid, so index and value differ by an affine map, which R² ignores.

A dataset is anything with the agreed interface (``factor_sizes``, ``sample_factors(n, rng)``,
``observations(factors, device=None)``); a ``representation_fn`` maps observations
torch.float32 (n, C, 64, 64) → codes (n, L) as a numpy array (a torch tensor is accepted too).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..data.base import as_rng

__all__ = ["MetricInputError", "as_codes", "as_factors", "check_pair", "split_train_test", "as_rng",
           "representations", "sample_codes"]


class MetricInputError(ValueError):
    """Codes, factors or a dataset handed to a metric that it cannot score (names the argument and the fault)."""


def _to_numpy(x, name: str) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor, possibly on a GPU
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise MetricInputError(f"{name}: cannot be read as an array ({exc})") from None


def as_codes(codes, name: str = "codes", *, min_rows: int = 2) -> np.ndarray:
    """``codes`` as float64 (N, L); raises :class:`MetricInputError` unless 2-D, numeric, finite, N ≥ min_rows."""
    a = _to_numpy(codes, name)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise MetricInputError(f"{name}: must be numeric, got dtype {a.dtype}")
    if a.ndim != 2:
        raise MetricInputError(f"{name}: must have shape (N, L), got {a.shape}")
    if a.shape[0] < min_rows or a.shape[1] < 1:
        raise MetricInputError(f"{name}: need at least {min_rows} rows and 1 column, got shape {a.shape}")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise MetricInputError(f"{name}: non-finite value at row {bad[0]}, column {bad[1]}")
    return a


def as_factors(factors, name: str = "factors", *, require_varying: bool = True) -> np.ndarray:
    """``factors`` as int64 (N, F) grid indices ≥ 0.

    Floats are accepted when they are integral (e.g. read back from a CSV). With ``require_varying``
    a factor that takes a single value in the sample is an error: its entropy is 0, so MIG divides
    by 0, LinearSVC/GBT cannot be fitted, and a correlation with it is undefined.
    """
    a = _to_numpy(factors, name)
    if a.ndim != 2:
        raise MetricInputError(f"{name}: must have shape (N, F), got {a.shape}")
    if a.shape[0] < 2 or a.shape[1] < 1:
        raise MetricInputError(f"{name}: need at least 2 rows and 1 column, got shape {a.shape}")
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all() or not np.all(a == np.round(a)):
            raise MetricInputError(f"{name}: must hold integer grid indices; got non-integral floats")
    elif not np.issubdtype(a.dtype, np.integer):
        raise MetricInputError(f"{name}: must hold integer grid indices, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if (a < 0).any():
        raise MetricInputError(f"{name}: grid indices must be ≥ 0, found {a.min()}")
    if require_varying:
        const = [k for k in range(a.shape[1]) if a[0, k] == a[:, k].min() == a[:, k].max()]
        if const:
            raise MetricInputError(f"{name}: factor column(s) {const} take a single value in this sample "
                                   "(zero entropy); drop them or sample more points")
    return a


def check_pair(codes, factors, *, codes_name: str = "codes", factors_name: str = "factors",
               require_varying: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Validate codes (N, L) and factors (N, F) together (same N)."""
    c = as_codes(codes, codes_name)
    f = as_factors(factors, factors_name, require_varying=require_varying)
    if c.shape[0] != f.shape[0]:
        raise MetricInputError(f"{codes_name} has {c.shape[0]} rows but {factors_name} has {f.shape[0]}")
    return c, f


def split_train_test(codes, factors, *, test_fraction: float = 1 / 3, seed: int = 0):
    """Random split of paired arrays into (codes_train, factors_train, codes_test, factors_test).

    Used when a metric that needs held-out points gets one set only. The default fraction 1/3
    reproduces the reference library's 10,000 train : 5,000 test proportion.
    """
    c, f = check_pair(codes, factors, require_varying=False)
    if not 0 < test_fraction < 1:
        raise MetricInputError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    n = c.shape[0]
    n_test = int(round(n * test_fraction))
    if n_test < 1 or n - n_test < 2:
        raise MetricInputError(f"cannot split {n} points with test_fraction={test_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    tr, te = perm[n_test:], perm[:n_test]
    return c[tr], f[tr], c[te], f[te]


def train_test_pair(codes, factors, codes_test=None, factors_test=None, *, seed: int = 0):
    """Validated (codes_train, factors_train, codes_test, factors_test).

    With no held-out set given, :func:`split_train_test` holds out a third of the points; a given
    held-out set must have the same columns as the training set.
    """
    if codes_test is None or factors_test is None:
        c_tr, f_tr, c_te, f_te = split_train_test(codes, factors, seed=seed)
        check_pair(c_tr, f_tr, codes_name="codes (train split)", factors_name="factors (train split)")
        return c_tr, f_tr, c_te, f_te
    c_tr, f_tr = check_pair(codes, factors)
    c_te, f_te = check_pair(codes_test, factors_test, codes_name="codes_test", factors_name="factors_test",
                            require_varying=False)
    if c_te.shape[1] != c_tr.shape[1] or f_te.shape[1] != f_tr.shape[1]:
        raise ValueError("codes_test/factors_test must have the same columns as codes/factors")
    return c_tr, f_tr, c_te, f_te


def representations(dataset, representation_fn: Callable, factors: np.ndarray, *, batch_size: int = 256,
                    device=None) -> np.ndarray:
    """Codes (n, L) float64 of the observations rendered for ``factors`` (n, F), in batches of ``batch_size``.

    Every batch is checked as it is built: a non-finite code (NaN/±inf from a diverged encoder) raises
    :class:`MetricInputError` naming the row and latent, instead of reaching a score that would hide it
    (FactorVAE's pruning of a NaN latent, scikit-learn's own message in the BetaVAE score).
    """
    if batch_size < 1:
        raise MetricInputError(f"batch_size must be ≥ 1, got {batch_size}")
    out = []
    for s in range(0, len(factors), batch_size):
        obs = dataset.observations(factors[s:s + batch_size], device=device)
        with torch.no_grad():  # evaluation only: no autograd graph through the encoder
            r = _to_numpy(representation_fn(obs), "representation_fn output")
        if r.ndim != 2 or r.shape[0] != len(factors[s:s + batch_size]):
            raise MetricInputError(f"representation_fn must return shape (n, L) for n={len(factors[s:s + batch_size])} "
                                   f"observations, got {r.shape}")
        r = r.astype(np.float64)
        if not np.isfinite(r).all():
            i, j = np.argwhere(~np.isfinite(r))[0]
            raise MetricInputError(f"representation_fn output: non-finite value {r[i, j]} at row {s + i}, latent {j} "
                                   "(a diverged encoder?)")
        out.append(r)
    return np.concatenate(out, axis=0)


def sample_codes(dataset, representation_fn: Callable, num_points: int, rng=0, *, batch_size: int = 256,
                 device=None) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``num_points`` uniform factor combinations and encode them: (codes (n, L), factors (n, F)).

    The reference library's ``generate_batch_factor_code`` with its batch loop folded into
    :func:`representations`; the batch size does not change the result.
    """
    if num_points < 1:
        raise MetricInputError(f"num_points must be ≥ 1, got {num_points}")
    rng = as_rng(rng)
    factors = np.asarray(dataset.sample_factors(num_points, rng), dtype=np.int64)
    return representations(dataset, representation_fn, factors, batch_size=batch_size, device=device), factors
