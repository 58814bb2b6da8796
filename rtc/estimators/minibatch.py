"""Minibatch estimators of total correlation (Chen et al. 2018): MWS and MSS, with the paper's MSS0/MSS1.

Setting: a minibatch of B codes z_i ~ q(z | x_i) from a dataset of N points, each posterior a
diagonal Gaussian N(µ_i, diag exp(logvar_i)). All estimators start from the B×B×D tensor

    L[i, j, k] = log q(z_ik | x_j) = −½ ((z_ik − µ_jk)² e^{−logvar_jk} + logvar_jk + log 2π)

and a B×B weight matrix W (W_ij = weight of x_j when estimating q(z_i)):

    log q(z_i)   ≈ LSE_j (log W_ij + Σ_k L[i, j, k])            → ``log_qz``      (B,)
    log q(z_ik)  ≈ LSE_j (log W_ij + L[i, j, k])                 → ``log_qzk``     (B, D)
    TC           ≈ mean_i (log q(z_i) − Σ_k log q(z_ik))         → ``tc``          scalar

* **MWS** (minibatch weighted sampling, paper eq. 8): W_ij = 1/(B·N) for all i, j. Chen et al.'s
  code keeps the constant −log(B·N) (``constants=True``); disentanglement_lib drops it
  (``constants=False``), which shifts the TC by exactly −(D − 1)·log(B·N) and can make it negative.
* **MSS** (minibatch stratified sampling, paper eqs. 9–11) with M = B − 1 and
  sw = (N − M)/(N·M): **MSS1** (the paper's fix) puts 1/N on W_ii, sw on W_i,(i+1) mod B and 1/M
  elsewhere, so every row sums to 1. **MSS0** is Chen et al.'s code reproduced bug for bug:
  ``W.view(-1)[::M+1] = 1/N`` and ``W.view(-1)[1::M+1] = sw`` — with a stride of M + 1 = B these
  write columns 0 and 1 of every row, not the diagonal — then ``W[M−1, 0] = sw``.

Everything is differentiable in (z, µ, logvar). Memory: the full L tensor is B²·D numbers
(B = 2048, D = 10: 160 MiB in float32, and as much again for autograd). Passing ``chunk`` makes
the estimators reduce L over blocks of ``chunk`` rows i at a time, so only chunk·B·D numbers are
alive; under autograd each block is recomputed in the backward pass (activation
checkpointing) instead of being stored.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch.utils.checkpoint import checkpoint

from .._validate import check_int, is_integer
from ..gaussian import gaussian_log_density_elementwise

__all__ = ["TCEstimate", "log_qz_given_x", "mss_log_weights", "estimator_log_weights", "minibatch_tc", "mws",
           "mss", "estimate_all", "MWS_VARIANTS", "MSS_VARIANTS", "ESTIMATORS"]

MSS_VARIANTS = ("mss0", "mss1")
MWS_VARIANTS = {"mws": True, "mws_noconst": False}  # name → constants flag
ESTIMATORS = ("mws", "mws_noconst", "mss0", "mss1")


class TCEstimate(NamedTuple):
    """Result of a minibatch TC estimator; all tensors are differentiable.

    log_qz: (B,) estimate of log q(z_i).
    log_qzk: (B, D) estimate of log q_k(z_ik), needed for the dimension-wise KL.
    log_prod_qzk: (B,) = log_qzk.sum(1).
    tc: scalar, mean over the batch of log_qz − log_prod_qzk (nats).
    """

    log_qz: torch.Tensor
    log_qzk: torch.Tensor
    log_prod_qzk: torch.Tensor
    tc: torch.Tensor


def _check_batch(z, mu, logvar, dataset_size=None, *, finite: bool = True) -> None:
    """Shapes, dtypes, devices and N ≥ B always; with ``finite``, that z, mu and logvar hold no NaN/±inf.

    The finiteness check (one reduction per tensor and a host sync) is what ``check=False`` skips: the
    training loop's own guard already catches a non-finite loss (bench/bench_estimators.py measures the
    check against a training step).
    """
    for name, t in (("z", z), ("mu", mu), ("logvar", logvar)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
        if t.ndim != 2:
            raise ValueError(f"{name} must have shape (B, D), got {tuple(t.shape)}")
    if not (z.shape == mu.shape == logvar.shape):
        raise ValueError(f"z, mu and logvar must have the same shape (B, D); got z {tuple(z.shape)}, "
                         f"mu {tuple(mu.shape)}, logvar {tuple(logvar.shape)}")
    if not (z.dtype == mu.dtype == logvar.dtype):
        raise TypeError(f"z, mu and logvar must share a dtype; got {z.dtype}, {mu.dtype}, {logvar.dtype}")
    if not (z.device == mu.device == logvar.device):
        raise ValueError(f"z, mu and logvar must be on one device; got {z.device}, {mu.device}, {logvar.device}")
    b, d = z.shape
    if b < 2 or d < 1:
        raise ValueError(f"need a batch of B ≥ 2 codes with D ≥ 1 dimensions, got shape {(b, d)}")
    if finite:
        for name, t in (("z", z), ("mu", mu), ("logvar", logvar)):
            if not bool(torch.isfinite(t).all()):
                i, k = torch.nonzero(~torch.isfinite(t))[0].tolist()
                raise ValueError(f"{name} has a non-finite value {float(t[i, k])} at row {i}, column {k} "
                                 "(a log-variance of −inf is a zero variance, which has no density)")
    if dataset_size is not None:
        if not is_integer(dataset_size):
            raise TypeError(f"dataset_size must be an int, got {type(dataset_size).__name__}")
        if dataset_size < b:
            raise ValueError(f"dataset_size N={dataset_size} is smaller than the batch size B={b}: "
                             "a minibatch is drawn from the dataset, so N ≥ B")


def _log_density_block(z_rows: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """(c, D) codes against (B, D) posteriors → (c, B, D) log N(z_ik; µ_jk, e^{logvar_jk})."""
    return gaussian_log_density_elementwise(z_rows.unsqueeze(1), mu.unsqueeze(0), logvar=logvar.unsqueeze(0))


def _check_chunk(chunk, b: int) -> int:
    if chunk is None:
        return b
    if not is_integer(chunk) or chunk < 1:
        raise ValueError(f"chunk must be a positive int or None, got {chunk!r}")
    return min(int(chunk), b)


def log_qz_given_x(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, chunk: int | None = None, *,
                   check: bool = True) -> torch.Tensor:
    """The (B, B, D) tensor L[i, j, k] = log q(z_ik | x_j) for diagonal Gaussian posteriors.

    ``chunk`` computes it in blocks of rows (bounding the temporaries to chunk·B·D); the result
    itself is always B²·D numbers — use :func:`minibatch_tc` with ``chunk`` to avoid holding it.
    ``check=False`` skips the finiteness check of z, mu, logvar (ValueError naming the argument
    otherwise) — for a hot loop that guards its loss itself.
    """
    _check_batch(z, mu, logvar, finite=check)
    c = _check_chunk(chunk, z.shape[0])
    if c >= z.shape[0]:
        return _log_density_block(z, mu, logvar)
    return torch.cat([_log_density_block(z[s:s + c], mu, logvar) for s in range(0, z.shape[0], c)], dim=0)


def mss_log_weights(batch_size: int, dataset_size: int, variant: str = "mss1", *, dtype=torch.float32,
                    device=None) -> torch.Tensor:
    """log W (B, B) of minibatch stratified sampling; ``variant`` "mss1" (paper's fix) or "mss0" (Chen's code).

    M = B − 1, sw = (N − M)/(N·M). MSS1: W_ii = 1/N, W_i,(i+1) mod B = sw, else 1/M (rows sum to
    1). MSS0 copies the reference code line by line (see the module docstring). When N = M,
    sw = 0 and log W has −inf entries, which logsumexp handles (those terms contribute nothing).
    """
    if variant not in MSS_VARIANTS:
        raise ValueError(f"variant must be one of {MSS_VARIANTS}, got {variant!r}")
    batch_size = check_int(batch_size, "batch_size")
    dataset_size = check_int(dataset_size, "dataset_size")
    if batch_size < 2:
        raise ValueError(f"MSS needs batch_size ≥ 2 (M = B − 1 ≥ 1), got {batch_size}")
    if dataset_size < batch_size:
        raise ValueError(f"dataset_size N={dataset_size} is smaller than the batch size B={batch_size}")
    n, m = dataset_size, batch_size - 1
    sw = (n - m) / (n * m)
    # Built in float64 so that 1/N for N ~ 1e6 keeps its digits, then cast.
    w = torch.full((batch_size, batch_size), 1.0 / m, dtype=torch.float64)
    if variant == "mss0":
        w.view(-1)[::m + 1] = 1.0 / n      # stride B: column 0 of every row (bug kept on purpose)
        w.view(-1)[1::m + 1] = sw          # column 1 of every row
        w[m - 1, 0] = sw
    else:
        idx = torch.arange(batch_size)
        w[idx, idx] = 1.0 / n
        w[idx, (idx + 1) % batch_size] = sw
    return w.log().to(dtype=dtype, device=device)


def estimator_log_weights(name: str, batch_size: int, dataset_size: int, *, dtype=torch.float64,
                          device=None) -> torch.Tensor:
    """The (B, B) log weight matrix of estimator ``name`` in :data:`ESTIMATORS`.

    mws: −log(B·N) everywhere; mws_noconst: 0 everywhere; mss0/mss1: :func:`mss_log_weights`.
    """
    if name in MSS_VARIANTS:
        return mss_log_weights(batch_size, dataset_size, name, dtype=dtype, device=device)
    if name not in MWS_VARIANTS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {name!r}")
    batch_size = check_int(batch_size, "batch_size")
    dataset_size = check_int(dataset_size, "dataset_size")
    if batch_size < 2 or dataset_size < batch_size:
        raise ValueError(f"need 2 ≤ batch_size ≤ dataset_size, got B={batch_size}, N={dataset_size}")
    value = -math.log(batch_size * dataset_size) if MWS_VARIANTS[name] else 0.0
    return torch.full((batch_size, batch_size), value, dtype=dtype, device=device)


def _reduce_block(z_rows, mu, logvar, log_w_rows):
    """Rows of the estimators: (c, D) codes → log_qz (c,), log_qzk (c, D). log_w_rows: (c, B) or 0-dim."""
    lq = _log_density_block(z_rows, mu, logvar)  # (c, B, D)
    if log_w_rows.ndim == 0:
        log_qz = torch.logsumexp(lq.sum(2), dim=1) + log_w_rows
        log_qzk = torch.logsumexp(lq, dim=1) + log_w_rows
    else:
        log_qz = torch.logsumexp(lq.sum(2) + log_w_rows, dim=1)
        log_qzk = torch.logsumexp(lq + log_w_rows.unsqueeze(2), dim=1)
    return log_qz, log_qzk


def minibatch_tc(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, log_w: torch.Tensor | float,
                 *, chunk: int | None = None, check: bool = True) -> TCEstimate:
    """Generic weighted minibatch estimator: ``log_w`` a (B, B) log weight matrix or one scalar log weight.

    ``chunk``: rows per block (memory ∝ chunk·B·D); under autograd each block is checkpointed.
    ``check`` (default True): raise ValueError naming the argument when z, mu or logvar holds NaN
    or ±inf, or log_w holds NaN or +inf (−inf is a zero weight); ``check=False`` skips these
    scans (shapes are always checked) for a training loop that guards its loss itself.
    """
    _check_batch(z, mu, logvar, finite=check)
    b = z.shape[0]
    c = _check_chunk(chunk, b)
    log_w = torch.as_tensor(log_w, dtype=z.dtype, device=z.device)
    if log_w.ndim not in (0, 2) or (log_w.ndim == 2 and tuple(log_w.shape) != (b, b)):
        raise ValueError(f"log_w must be a scalar or shape ({b}, {b}), got {tuple(log_w.shape)}")
    if check and bool((torch.isnan(log_w) | (log_w == math.inf)).any()):
        raise ValueError("log_w holds NaN or +inf (a log weight must be finite, or −inf for a zero weight)")
    if c >= b:
        log_qz, log_qzk = _reduce_block(z, mu, logvar, log_w)
    else:
        grad = torch.is_grad_enabled() and any(t.requires_grad for t in (z, mu, logvar))
        parts = []
        for s in range(0, b, c):
            w_rows = log_w if log_w.ndim == 0 else log_w[s:s + c]
            if grad:
                parts.append(checkpoint(_reduce_block, z[s:s + c], mu, logvar, w_rows, use_reentrant=False))
            else:
                parts.append(_reduce_block(z[s:s + c], mu, logvar, w_rows))
        log_qz = torch.cat([p[0] for p in parts])
        log_qzk = torch.cat([p[1] for p in parts])
    log_prod = log_qzk.sum(1)
    return TCEstimate(log_qz, log_qzk, log_prod, (log_qz - log_prod).mean())


def mws(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int, *, constants: bool = True,
        chunk: int | None = None, check: bool = True) -> TCEstimate:
    """Minibatch weighted sampling (paper eq. 8). Shapes: z, mu, logvar (B, D).

    ``constants=True`` (Chen et al.'s code, the paper's eq. 8) includes −log(B·N) in every
    log-density; ``constants=False`` (disentanglement_lib) drops it, so its ``tc`` is lower by
    exactly (D − 1)·log(B·N) and its ``log_qz``/``log_qzk`` are not normalised densities.
    ``dataset_size``: a Python or numpy integer. ``check``: see :func:`minibatch_tc`.
    """
    _check_batch(z, mu, logvar, dataset_size, finite=check)
    shift = -math.log(z.shape[0] * int(dataset_size)) if constants else 0.0
    return minibatch_tc(z, mu, logvar, shift, chunk=chunk, check=False)


def mss(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int, *, weights: str = "mss1",
        chunk: int | None = None, check: bool = True) -> TCEstimate:
    """Minibatch stratified sampling (paper eqs. 9–11) with ``weights`` "mss1" (fix) or "mss0" (reference code).

    Shapes: z, mu, logvar (B, D); requires dataset_size N ≥ B (a Python or numpy integer).
    ``check``: see :func:`minibatch_tc`.
    """
    _check_batch(z, mu, logvar, dataset_size, finite=check)
    log_w = mss_log_weights(z.shape[0], int(dataset_size), weights, dtype=z.dtype, device=z.device)
    return minibatch_tc(z, mu, logvar, log_w, chunk=chunk, check=False)


def estimate_all(sample, dataset_size: int, *, chunk: int | None = None) -> dict:
    """TC of one batch by every minibatch estimator, without gradients: {name in ESTIMATORS: float (nats)}.

    ``sample``: anything with (B, D) tensor attributes ``z``, ``mu``, ``logvar`` (e.g. a
    :class:`rtc.estimators.synthetic.LatentSample`).
    """
    with torch.no_grad():
        out = {name: float(mws(sample.z, sample.mu, sample.logvar, dataset_size, constants=c, chunk=chunk).tc)
               for name, c in MWS_VARIANTS.items()}
        for v in MSS_VARIANTS:
            out[v] = float(mss(sample.z, sample.mu, sample.logvar, dataset_size, weights=v, chunk=chunk).tc)
    return out
