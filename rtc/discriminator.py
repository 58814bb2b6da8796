"""The FactorVAE discriminator and the density-ratio trick for total correlation.

Kim & Mnih (2018), used by the paper for FactorVAE and RTC-VAE: an MLP with 6 linear layers
of 1000 units and LeakyReLU(0.2), and 2 output logits (class 0 = "drawn from q(z)", class 1 =
"drawn from ∏_k q(z_k)", the latter made by permuting each latent dimension independently
across the batch). With D(z) = softmax(logits)_0,

    TC(z) ≈ E_q(z)[log D(z) − log(1 − D(z))] = E_q(z)[logit₀ − logit₁]      (paper eq. 7)

because log softmax₀ − log softmax₁ = logit₀ − logit₁ (the log-partition cancels).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["Discriminator", "permute_dims", "density_ratio_tc"]


class Discriminator(nn.Module):
    """MLP ``latent_dim → hidden ×(layers−1) → 2`` with LeakyReLU(0.2); input (B, D), output logits (B, 2).

    ``layers`` counts the linear layers (paper/FactorVAE: 6 layers of 1000 units, 5 hidden activations).
    """

    def __init__(self, latent_dim: int, hidden: int = 1000, layers: int = 6):
        super().__init__()
        if latent_dim < 1 or hidden < 1 or layers < 2:
            raise ValueError("need latent_dim ≥ 1, hidden ≥ 1 and layers ≥ 2")
        mods: list[nn.Module] = []
        width = latent_dim
        for _ in range(layers - 1):
            mods += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        mods.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*mods)
        self.latent_dim = latent_dim
        # "bf16": the layers run under bf16 autocast (set by rtc.models.train for a bf16 run; not saved with the
        # weights, so a loaded discriminator computes in float32)
        self.precision = "fp32"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected codes of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        if self.precision == "fp32":
            return self.net(z)
        # bf16 autocast for the matmuls; the logits (and so every loss and TC estimate) in float32
        with torch.autocast(device_type=z.device.type, dtype=torch.bfloat16):
            return self.net(z).float()


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Independently permute each column of ``z`` (B, D) across the batch: samples of ∏_k q(z_k).

    Returns a new tensor (never writes into ``z``, so autograd graphs through ``z`` stay valid —
    the in-place variant in some FactorVAE code breaks on current PyTorch).
    """
    if z.ndim != 2:
        raise ValueError(f"expected (B, D) codes, got {tuple(z.shape)}")
    b, d = z.shape
    idx = torch.stack([torch.randperm(b, generator=generator, device="cpu") for _ in range(d)], dim=1).to(z.device)
    return torch.gather(z, 0, idx)


def density_ratio_tc(logits: torch.Tensor) -> torch.Tensor:
    """TC estimate E[logit₀ − logit₁] from discriminator logits (B, 2) evaluated on q(z) samples; scalar."""
    if logits.ndim != 2 or logits.shape[1] != 2:
        raise ValueError(f"expected logits of shape (B, 2), got {tuple(logits.shape)}")
    return (logits[:, 0] - logits[:, 1]).mean()
