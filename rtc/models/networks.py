"""The paper's Table 2 encoder and decoder (after Locatello et al. 2019), for 64×64 images.

Encoder, input (B, nc, 64, 64) → (µ, log σ²), each (B, D):

    4×4 conv 32, stride 2, pad 1, ReLU      → (B, 32, 32, 32)
    4×4 conv 64, stride 2, pad 1, ReLU      → (B, 64, 16, 16)
    4×4 conv 64, stride 2, pad 1, ReLU      → (B, 64,  8,  8)
    4×4 conv 64, stride 2, pad 1, ReLU      → (B, 64,  4,  4)
    4×4 conv 512, stride 1 (valid), ReLU    → (B, 512, 1, 1)
    1×1 conv 2·D                            → (B, 2D, 1, 1) = [µ, log σ²]

Table 2 prints "1×1 conv, 10": the last layer emits the Gaussian's mean and log-variance, so
it has 2·D channels (as in disentanglement_lib, the reference implementation the table follows).

Decoder, input z (B, D) → Bernoulli logits (B, nc, 64, 64):

    1×1 convT 512, ReLU                     → (B, 512, 1, 1)
    4×4 convT 64, stride 1, ReLU            → (B, 64, 4, 4)
    4×4 convT 64, stride 2, pad 1, ReLU     → (B, 64, 8, 8)
    4×4 convT 32, stride 2, pad 1, ReLU     → (B, 32, 16, 16)
    4×4 convT 32, stride 2, pad 1, ReLU     → (B, 32, 32, 32)
    4×4 convT nc, stride 2, pad 1           → (B, nc, 64, 64) logits

Table 2 writes "ReLU" after the last layer too; we drop it, because the output is the logit
of a Bernoulli likelihood (a ReLU would forbid probabilities below ½).

``channels_last`` (default True): the weights and activations use the NHWC memory layout,
measured 30–50 % faster than NCHW for this model on a 2-core x86 CPU with torch 2.13
(``bench/bench_train.py`` prints the ratio on yours). It
changes only memory layout; values agree with NCHW to float32 round-off.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["Encoder", "Decoder", "VAE", "VAEOutput", "reparameterize", "PRECISIONS", "autocast", "native_bf16"]

# Arithmetic of the networks' convolutions and matmuls during training: "fp32", or "bf16" (autocast: bfloat16
# operands, float32 accumulation, float32 master weights and Adam state). Everything else stays float32: the
# posterior's µ and log σ² are cast back to float32 before z is drawn (so ε is the same draw at either
# precision), the reconstruction logits before the likelihood, a discriminator's logits before its loss.
PRECISIONS = ("fp32", "bf16")


def autocast(device, precision: str):
    """The context the networks run in: bf16 autocast on ``device`` when ``precision == "bf16"``, else a no-op."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16, enabled=precision == "bf16")


def native_bf16(device="cpu") -> bool:
    """Does ``device`` compute bfloat16 natively? CUDA: ``torch.cuda.is_bf16_supported()``; CPU: the AVX-512 BF16
    or AMX-BF16 instructions (without them CPU autocast emulates bf16, measured ~20× slower than fp32 here)."""
    device = torch.device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags

IMAGE_SIZE = 64


class Encoder(nn.Module):
    """Table 2 encoder: (B, nc, 64, 64) images in [0, 1] → (µ (B, D), log σ² (B, D))."""

    def __init__(self, num_channels: int = 1, latent_dim: int = 10):
        super().__init__()
        if num_channels < 1 or latent_dim < 1:
            raise ValueError(f"need num_channels ≥ 1 and latent_dim ≥ 1, got {num_channels}, {latent_dim}")
        self.num_channels, self.latent_dim = num_channels, latent_dim
        self.net = nn.Sequential(
            nn.Conv2d(num_channels, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 64, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 64, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 512, 4, 1, 0), nn.ReLU(),
            nn.Conv2d(512, 2 * latent_dim, 1),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim != 4 or x.shape[1:] != (self.num_channels, IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"encoder expects images (B, {self.num_channels}, 64, 64), got {tuple(x.shape)}")
        h = self.net(x).flatten(1)  # (B, 2D)
        return h[:, : self.latent_dim], h[:, self.latent_dim:]


class Decoder(nn.Module):
    """Table 2 decoder: z (B, D) → Bernoulli logits (B, nc, 64, 64)."""

    def __init__(self, num_channels: int = 1, latent_dim: int = 10):
        super().__init__()
        self.num_channels, self.latent_dim = num_channels, latent_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 512, 1), nn.ReLU(),
            nn.ConvTranspose2d(512, 64, 4, 1, 0), nn.ReLU(),
            nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, num_channels, 4, 2, 1),
        )
        self.channels_last = False

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"decoder expects codes (B, {self.latent_dim}), got {tuple(z.shape)}")
        h = z[:, :, None, None]
        if self.channels_last:
            h = h.contiguous(memory_format=torch.channels_last)
        return self.net(h)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = µ + σ ε, ε ~ N(0, I) (from ``generator`` or torch's global RNG); shapes (B, D)."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


@dataclass
class VAEOutput:
    """One forward pass: µ, log σ², z (B, D) and reconstruction logits (B, nc, 64, 64)."""
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor
    logits: torch.Tensor


class VAE(nn.Module):
    """Encoder + decoder with a diagonal-Gaussian posterior and Bernoulli likelihood.

    ``forward(x)`` returns a :class:`VAEOutput`; ``encode(x)`` only (µ, log σ²).
    """

    def __init__(self, num_channels: int = 1, latent_dim: int = 10, *, channels_last: bool = True):
        super().__init__()
        self.encoder = Encoder(num_channels, latent_dim)
        self.decoder = Decoder(num_channels, latent_dim)
        self.num_channels, self.latent_dim = num_channels, latent_dim
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)
            self.decoder.channels_last = True

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(self._prepare(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, precision: str = "fp32") -> VAEOutput:
        """µ, log σ², z and logits of images ``x``; ``precision`` the networks' arithmetic (:data:`PRECISIONS`).
        The outputs are float32 either way, and z = µ + σ·ε is formed in float32."""
        with autocast(x.device, precision):
            mu, logvar = self.encode(x)
        mu, logvar = mu.float(), logvar.float()
        z = reparameterize(mu, logvar, generator)
        with autocast(x.device, precision):
            logits = self.decode(z)
        return VAEOutput(mu, logvar, z, logits.float())
