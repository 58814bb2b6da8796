"""FactorVAE score (Kim & Mnih, 2018), as implemented by the reference library.

1. Global scale: encode ``num_variance_estimate`` random points (or take ``variance_codes``: codes of uniformly
   drawn points already encoded, e.g. shared with the other metrics); s²_j = Var z_j (ddof 1). Latents with
   s_j < ``prune_threshold`` (0.05) are "collapsed" and ignored; none active → score 0.
2. One vote: draw a factor index k; draw ``batch_size`` combinations sharing one random value of v_k;
   encode; the vote is (k, argmin_j Var_batch(z_j)/s²_j over the active j).
3. Majority-vote classifier: each active latent j predicts the factor k with most votes (k, j) in the
   training votes (ties → smallest k); accuracy = Σ_j votes[class(j), j] / Σ votes, on the training
   votes and on ``num_eval`` fresh ones.

A perfect code gives 1; a code that ignores the factors gives about the share of the most-voted
factor per latent (chance level ≥ 1/F, not 0). Reference defaults: batch_size 64, num_train 10,000,
num_eval 5,000, num_variance_estimate 10,000. (The reference stores votes in a factors × all-latents
array indexed by the position among active latents; we index by active position directly — the
same numbers.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .sampling import MetricInputError, as_codes, as_rng, representations, sample_codes

__all__ = ["FactorVAEResult", "factor_vae_score", "factor_vae_votes", "majority_vote_accuracy"]


@dataclass
class FactorVAEResult:
    train_accuracy: float
    eval_accuracy: float
    num_active_dims: int
    train_votes: np.ndarray  # (F, num_active)

    def as_dict(self) -> dict:
        return {"factor_vae_train": self.train_accuracy, "factor_vae_eval": self.eval_accuracy,
                "factor_vae_active_dims": float(self.num_active_dims)}


def majority_vote_accuracy(train_votes, eval_votes=None) -> float:
    """Accuracy on ``eval_votes`` (default: the training votes) of the per-latent majority class of ``train_votes``.

    Votes are (F, J) counts. class(j) = argmax_k train_votes[k, j]; accuracy =
    Σ_j eval_votes[class(j), j] / Σ eval_votes.
    """
    tv = np.asarray(train_votes)
    ev = tv if eval_votes is None else np.asarray(eval_votes)
    if tv.ndim != 2 or ev.shape != tv.shape:
        raise MetricInputError(f"votes must be (F, J) arrays of one shape, got {tv.shape} and {ev.shape}")
    if ev.sum() == 0:
        raise MetricInputError("no votes to score")
    cls = np.argmax(tv, axis=0)
    return float(ev[cls, np.arange(tv.shape[1])].sum() / ev.sum())


def factor_vae_votes(dataset, representation_fn: Callable, num_points: int, rng, global_var: np.ndarray,
                     active: np.ndarray, *, batch_size: int = 64, encode_batch: int = 1024,
                     device=None) -> np.ndarray:
    """Votes (F, number of active latents) from ``num_points`` fixed-factor batches (module docstring)."""
    if batch_size < 2:
        raise MetricInputError(f"batch_size must be ≥ 2 (a variance per batch), got {batch_size}")
    rng = as_rng(rng)
    F = len(dataset.factor_sizes)
    labels = rng.integers(F, size=num_points)
    f = np.asarray(dataset.sample_factors(num_points * batch_size, rng), dtype=np.int64).reshape(num_points,
                                                                                                   batch_size, F)
    pts = np.arange(num_points)
    f[pts, :, labels] = f[pts, 0, labels][:, None]
    z = representations(dataset, representation_fn, f.reshape(-1, F), batch_size=encode_batch, device=device)
    if z.shape[1] != len(active):
        raise MetricInputError(f"representation_fn gives {z.shape[1]} latents but the global variances are of "
                               f"{len(active)} (variance_codes of another representation?)")
    z = z.reshape(num_points, batch_size, -1)[:, :, active]
    local = z.var(axis=1, ddof=1) / global_var[active][None, :]
    votes = np.zeros((F, int(active.sum())), dtype=np.int64)
    np.add.at(votes, (labels, np.argmin(local, axis=1)), 1)
    return votes


def factor_vae_score(dataset, representation_fn: Callable, *, batch_size: int = 64, num_train: int = 10000,
                     num_eval: int = 5000, num_variance_estimate: int = 10000, prune_threshold: float = 0.05,
                     seed: int = 0, device=None, encode_batch: int = 1024, variance_codes=None) -> FactorVAEResult:
    """FactorVAE score of ``representation_fn`` on ``dataset`` (module docstring: procedure and defaults).

    ``variance_codes`` (n, L): codes of n uniformly drawn points for the global variances, used instead of
    encoding ``num_variance_estimate`` new ones (which is then ignored); the votes then come first from the seed's
    stream, so the score is a different draw of the same estimate."""
    rng = as_rng(seed)
    if variance_codes is None:
        codes, _ = sample_codes(dataset, representation_fn, num_variance_estimate, rng, batch_size=encode_batch,
                                device=device)
    else:
        codes = as_codes(variance_codes, "variance_codes")
    global_var = codes.var(axis=0, ddof=1)
    active = np.sqrt(global_var) >= prune_threshold
    F = len(dataset.factor_sizes)
    if not active.any():
        return FactorVAEResult(0.0, 0.0, 0, np.zeros((F, 0), dtype=np.int64))
    kw = dict(batch_size=batch_size, encode_batch=encode_batch, device=device)
    tv = factor_vae_votes(dataset, representation_fn, num_train, rng, global_var, active, **kw)
    ev = factor_vae_votes(dataset, representation_fn, num_eval, rng, global_var, active, **kw)
    return FactorVAEResult(majority_vote_accuracy(tv), majority_vote_accuracy(tv, ev), int(active.sum()), tv)
