"""Post-hoc density-ratio TC estimate: train a fresh FactorVAE discriminator on codes, report on held-out codes.

TC(z) ≈ E_q(z)[logit₀ − logit₁] (paper eq. 7) with the discriminator of
:mod:`rtc.discriminator` trained to tell codes (class 0) from per-dimension permuted codes
(class 1). Training follows Kim & Mnih (2018): Adam, lr 1e-4, betas (0.5, 0.9), cross-entropy
on a batch of codes and the permutation of a *second*, independent batch. The codes are split
once: the discriminator is trained on ``train_fraction`` of them and the estimate is the mean
logit difference over the rest, so an over-fitted discriminator (the paper's reason not to
compare it numerically) shows up as a gap between ``tc_train`` and ``tc_heldout`` rather than
as a flattering number. For FactorVAE's *training* term use :func:`rtc.discriminator.density_ratio_tc`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from .._validate import check_int
from ..discriminator import Discriminator, density_ratio_tc, permute_dims

__all__ = ["DensityRatioResult", "density_ratio_estimate"]


@dataclass(frozen=True)
class DensityRatioResult:
    """tc_heldout: the estimate (nats) on codes never trained on; tc_train: the same on the training codes;
    losses: discriminator cross-entropy per step (list of float)."""

    tc_heldout: float
    tc_train: float
    losses: list


def density_ratio_estimate(z, *, steps: int = 2000, batch_size: int = 256, train_fraction: float = 0.5,
                           hidden: int = 1000, layers: int = 6, lr: float = 1e-4, betas=(0.5, 0.9),
                           seed: int = 0, device: str | torch.device = "cpu", progress: bool = False
                           ) -> DensityRatioResult:
    """Estimate TC of codes ``z`` (N, D) with a discriminator trained on a random ``train_fraction`` of them.

    Needs at least 2·batch_size training codes (two independent batches per step) and one held-out code.
    """
    z = torch.as_tensor(z)
    if not z.is_floating_point():
        raise TypeError(f"codes must be floating point, got dtype {z.dtype}")
    if z.ndim != 2:
        raise ValueError(f"codes must have shape (N, D), got {tuple(z.shape)}")
    if not torch.isfinite(z).all():
        raise ValueError("codes contain NaN or infinite values")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
    steps, batch_size = check_int(steps, "steps", minimum=1), check_int(batch_size, "batch_size", minimum=2)
    seed = check_int(seed, "seed", minimum=0)
    n, d = z.shape
    n_train = int(round(train_fraction * n))
    if n_train < 2 * batch_size or n - n_train < 1:
        raise ValueError(f"{n} codes with train_fraction {train_fraction} give {n_train} training and "
                         f"{n - n_train} held-out codes; need ≥ 2·batch_size = {2 * batch_size} training codes "
                         "and ≥ 1 held-out")
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=gen)
    z = z.detach().to(device=device, dtype=torch.float32)
    z_train, z_test = z[perm[:n_train].to(device)], z[perm[n_train:].to(device)]
    # The discriminator's initial weights come from the seeded global generator, inside fork_rng so
    # that the caller's global torch random state is left as it was.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        disc = Discriminator(d, hidden=hidden, layers=layers)
    disc = disc.to(device)
    opt = torch.optim.Adam(disc.parameters(), lr=lr, betas=tuple(betas))
    zeros = torch.zeros(batch_size, dtype=torch.long, device=device)
    ones = torch.ones(batch_size, dtype=torch.long, device=device)
    losses = []
    for _ in tqdm(range(steps), disable=not progress, desc="discriminator", leave=False):
        idx = torch.randperm(n_train, generator=gen)[:2 * batch_size].to(device)
        real, other = z_train[idx[:batch_size]], z_train[idx[batch_size:]]
        fake = permute_dims(other, generator=gen)
        loss = 0.5 * (F.cross_entropy(disc(real), zeros) + F.cross_entropy(disc(fake), ones))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        tc_test = float(density_ratio_tc(disc(z_test)))
        tc_train = float(density_ratio_tc(disc(z_train)))
    return DensityRatioResult(tc_test, tc_train, losses)
