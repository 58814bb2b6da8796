"""What the minibatch estimators converge to when the batch is too sparse for the joint density.

In D dimensions a batch of B codes with posterior std σ ≪ 1 is sparse: for D ≳ 5, no other code
lies within a few σ of z_i in *all* coordinates, so in log q(z_i) ≈ LSE_j (log W_ij + Σ_k L_ijk)
only the self term j = i survives ("isolated points"). Each 1-D marginal, in contrast, is
densely covered (B·σ ≫ 1), so its kernel sum is the marginal density times the row's total
weight. Hence, for row i,

    log q̂(z_i)     ≈ log W_ii + log N(z_i; µ_i, σ_i²)
    log q̂_k(z_ik)  ≈ log Σ_j W_ij + log p_k(z_ik)

and, taking expectations with Gaussian marginals p_k = N(m_k, s_k² + σ_k²) (s_k² = Var µ_k; exact
in the paper's Figure 2 setting), E[log N(z_ik; µ_ik, σ_k²) − log p_k(z_ik)] = ½ log(1 + s_k²/σ_k²):

    TĈ ≈ ½ Σ_k log(1 + s_k²/σ_k²)  +  mean_i [log W_ii − D · log Σ_j W_ij].

The first term does not depend on the dependence between the µ_k at all (so in high D the
estimators cannot see |Σ|), and a shut-down dimension (s_k ≪ σ_k) contributes ≈ 0 to it instead
of ≈ log(1/σ). The second term is the estimator's signature; per row:
MWS (W = 1/(B·N)): (D − 1)·log N − log B; MWS without constants (W = 1): −D·log B;
MSS1: −log N; MSS0: −log B for most rows (the self weight is 1/M in all rows but 0 and 1).
Rows with W_ii = 0 (MSS0's row 1 when N = M) are not isolated-point rows and are left out of the mean.
"""
from __future__ import annotations

import torch

from .minibatch import estimator_log_weights

__all__ = ["isolated_point_tc", "weight_signature"]


def weight_signature(log_w: torch.Tensor, dim: int) -> float:
    """mean_i [log W_ii − D·log Σ_j W_ij] over rows with W_ii > 0; ``log_w`` (B, B)."""
    log_w = torch.as_tensor(log_w, dtype=torch.float64)
    if log_w.ndim != 2 or log_w.shape[0] != log_w.shape[1]:
        raise ValueError(f"log_w must be a square (B, B) matrix, got {tuple(log_w.shape)}")
    diag = torch.diagonal(log_w)
    rows = torch.isfinite(diag)
    if not rows.any():
        raise ValueError("no row of W has a positive self weight")
    per_row = diag - dim * torch.logsumexp(log_w, dim=1)
    return float(per_row[rows].mean())


def isolated_point_tc(estimator: str, batch_size: int, dataset_size: int, var_mu, var_post) -> float:
    """Predicted estimate (nats) of ``estimator`` in the isolated-point regime; see the module docstring.

    var_mu, var_post: (D,) variances of µ_k across the data and of the posterior noise σ_k².
    """
    var_mu = torch.as_tensor(var_mu, dtype=torch.float64).reshape(-1)
    var_post = torch.as_tensor(var_post, dtype=torch.float64).reshape(-1)
    if var_mu.shape != var_post.shape:
        raise ValueError(f"var_mu and var_post must both have shape (D,), got {tuple(var_mu.shape)} "
                         f"and {tuple(var_post.shape)}")
    if (var_mu < 0).any() or (var_post <= 0).any():
        raise ValueError("need var_mu ≥ 0 and var_post > 0")
    d = var_mu.numel()
    log_w = estimator_log_weights(estimator, batch_size, dataset_size)
    spread = 0.5 * float(torch.log1p(var_mu / var_post).sum())
    return spread + weight_signature(log_w, d)
