"""Encode N images with a trained VAE and summarise the representation.

``encode(model, ds, n=5000)`` draws n factor combinations uniformly (seeded), renders them and
returns µ, σ, one sampled z = µ + σ·ε per image (all (n, D) float64 NumPy arrays), the
factors (n, F) and the per-image reconstruction error (Bernoulli −log p(x | z = µ), nats,
summed over pixels — the decoder is applied to the mean code, as the paper's reconstruction
numbers are), of every image or, with ``reconstruct=m``, of the first m only (decoding costs about what
encoding does: an evaluation that needs codes of more images than it reconstructs skips the rest).

``representation_stats(enc)`` gives what the paper reports and what has to be read beside it,
because a collapsed (near-singular) µ has a large Gaussian TC without any entanglement:

- ``tc_mean`` / ``tc_sample``: Proposition 1 applied to the sample covariance of the µ's /
  z's (``rtc.gaussian.gaussian_tc_from_samples``); ``inf`` when that covariance is singular;
- ``var_mu`` (D,): the variance of each µ_k over the images — a dimension with variance below
  ``active_threshold`` (default 0.01, against the prior's 1) is inactive; a near-singular
  covariance inflates TC_mean without any entanglement, so TC alone is never evidence;
- ``tc_mean_active`` / ``tc_sample_active``: the same restricted to the active dimensions
  (0 when fewer than two are active);
- ``mean_sigma2`` (D,): E_n[σ_k²(n)], and ``var_sum`` = Σ_k of it (RTC-VAE's penalised term);
- ``recon``: the mean reconstruction error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rtc.gaussian import sample_tc

from .objectives import reconstruction

__all__ = ["Encoding", "encode", "encode_images", "representation_stats", "ACTIVE_VAR", "active_latents",
           "latent_variances", "latent_kl", "traversal_order"]


@dataclass
class Encoding:
    """µ, σ, z (n, D) float64; factors (n, F) int64 (or None); recon (m,) float64 nats per image of the first
    m ≤ n images (m = n unless fewer were reconstructed)."""
    mu: np.ndarray
    sigma: np.ndarray
    z: np.ndarray
    factors: np.ndarray | None
    recon: np.ndarray


@torch.no_grad()
def encode_images(model, images: torch.Tensor, *, batch_size: int = 500, generator: torch.Generator | None = None,
                  device=None, reconstruct: int | None = None) -> Encoding:
    """Encode a (n, C, 64, 64) tensor in chunks of ``batch_size``; ε from ``generator`` (CPU); recon of the first
    ``reconstruct`` images (default: all n)."""
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device if device is None else torch.device(device)
    m = images.shape[0] if reconstruct is None else reconstruct
    mus, sds, zs, rec = [], [], [], []
    for i in range(0, images.shape[0], batch_size):
        x = images[i:i + batch_size].to(dev)
        mu, logvar = model.encode(x)
        sd = torch.exp(0.5 * logvar)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(dev)
        mus.append(mu.double().cpu()), sds.append(sd.double().cpu()), zs.append((mu + sd * eps).double().cpu())
        k = min(len(x), m - i)  # images of this chunk to reconstruct
        if k > 0:
            rec.append(reconstruction(model.decode(mu[:k]), x[:k]).double().cpu())
    model.train(was_training)
    cat = lambda xs: torch.cat(xs).numpy() if xs else np.zeros(0)  # noqa: E731
    return Encoding(cat(mus), cat(sds), cat(zs), None, cat(rec))


def encode(model, ds, n: int = 5000, *, seed: int = 0, batch_size: int = 500, device=None,
           reconstruct: int | None = None) -> Encoding:
    """Encode n images of uniformly drawn factors of ``ds`` (the ``rtc.data`` interface); seeded.

    ``reconstruct``: reconstruct only the first ``reconstruct`` images (default: all n). The images, µ, σ and z do
    not depend on it, nor on ``batch_size``."""
    if n < 2:
        raise ValueError(f"need n ≥ 2 images to encode, got {n}")
    m = n if reconstruct is None else reconstruct
    if not 1 <= m <= n:
        raise ValueError(f"reconstruct must lie in [1, n = {n}], got {reconstruct}")
    rng = np.random.default_rng(seed)
    factors = ds.sample_factors(n, rng)
    gen = torch.Generator().manual_seed(seed)
    parts = []
    for i in range(0, n, batch_size):  # render in chunks so n = 5000 never holds more than one chunk twice
        x = ds.observations(factors[i:i + batch_size])
        parts.append(encode_images(model, x, batch_size=batch_size, generator=gen, device=device,
                                   reconstruct=max(0, m - i)))
    enc = Encoding(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("mu", "sigma", "z")),
                   factors=np.asarray(factors), recon=np.concatenate([p.recon for p in parts]))
    return enc


# A latent whose µ varies less than this over the images (against the prior's variance 1) is inactive.
ACTIVE_VAR = 0.01


def latent_variances(mu) -> np.ndarray:
    """(L,) float64: each latent's sample variance of µ over the images (ddof 1); ``mu`` (N, L), N ≥ 2."""
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 2 or mu.shape[0] < 2:
        raise ValueError(f"mu must be (N, L) with N ≥ 2 images, got shape {mu.shape}")
    return mu.var(axis=0, ddof=1)


def active_latents(mu, threshold: float = ACTIVE_VAR) -> np.ndarray:
    """(L,) bool: the latents whose mean varies over the images, Var µ_k > ``threshold`` (:data:`ACTIVE_VAR`;
    :func:`latent_variances`). The one activity rule of the library: every active-latent view uses it."""
    return latent_variances(mu) > threshold


def latent_kl(mu, sigma) -> np.ndarray:
    """(L,): each latent's KL(q(z_k|x) ‖ N(0, 1)), mean over the images (nats): 0.5·(µ² + σ² − 1 − log σ²);
    ``mu``, ``sigma`` (N, L)."""
    mu, sigma = np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64)
    return (0.5 * (mu ** 2 + sigma ** 2 - 1.0 - 2.0 * np.log(sigma))).mean(0)


def traversal_order(kl) -> np.ndarray:
    """Latent indices by decreasing KL (ties by index)."""
    return np.argsort(-np.asarray(kl, dtype=np.float64), kind="stable")


def representation_stats(enc: Encoding, *, active_threshold: float = ACTIVE_VAR) -> dict:
    """TC_mean, TC_sample (all and active dims), per-dimension var(µ) (float64), E[σ²], active count
    (:func:`active_latents`), reconstruction."""
    var_mu = latent_variances(enc.mu)
    active = active_latents(enc.mu, active_threshold)
    mean_s2 = (enc.sigma ** 2).mean(0)
    return {"tc_mean": sample_tc(enc.mu), "tc_sample": sample_tc(enc.z),
            "tc_mean_active": sample_tc(enc.mu[:, active]),
            "tc_sample_active": sample_tc(enc.z[:, active]),
            "var_mu": var_mu, "active_dims": int(active.sum()), "mean_sigma2": mean_s2,
            "var_sum": float(mean_s2.sum()), "recon": float(enc.recon.mean())}
