"""Synthetic ground truth for the metrics tests: a dataset whose "observations" are its factors.

``FactorDataset`` follows the agreed dataset interface (factor_sizes, sample_factors, observations, …)
with observations (n, 1, 64, 64) float32 whose pixel (0, 0, k) holds factor k's index / (size − 1)
and all other pixels 0. So ``identity_fn`` below recovers the factors exactly, and codes with a
known relation to the factors give known metric values. Not a test module (no ``test_`` prefix).
"""
from __future__ import annotations

import itertools

import numpy as np
import torch


class FactorDataset:
    def __init__(self, factor_sizes=(3, 4, 5), name="synthetic"):
        self.name = name
        self.factor_sizes = tuple(int(s) for s in factor_sizes)
        self.factor_names = tuple(f"f{k}" for k in range(len(self.factor_sizes)))
        self.num_channels = 1
        self.image_size = 64

    def __len__(self):
        return int(np.prod(self.factor_sizes))

    def sample_factors(self, n, rng):
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        return np.stack([rng.integers(s, size=n) for s in self.factor_sizes], axis=1).astype(np.int64)

    def observations(self, factors, device=None):
        f = np.asarray(factors, dtype=np.float64)
        obs = torch.zeros(len(f), 1, 64, 64)
        obs[:, 0, 0, :f.shape[1]] = torch.as_tensor(f / (np.array(self.factor_sizes) - 1), dtype=torch.float32)
        return obs.to(device) if device is not None else obs

    def images(self, factors):
        return (self.observations(factors).permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)

    def sample_observations(self, n, rng, device=None):
        f = self.sample_factors(n, rng)
        return f, self.observations(f, device)


def read_factors(obs, sizes):
    """Inverse of FactorDataset.observations: factor indices (n, F) as float64."""
    v = obs[:, 0, 0, :len(sizes)].double().numpy()
    return np.round(v * (np.array(sizes) - 1))


def identity_fn(ds, perm=None, scale=None):
    """representation_fn returning the factor indices (optionally permuted / rescaled per latent)."""
    def fn(obs):
        z = read_factors(obs, ds.factor_sizes)
        if perm is not None:
            z = z[:, perm]
        return z if scale is None else z * np.asarray(scale)
    return fn


def constant_fn(num_latents=4):
    return lambda obs: np.ones((obs.shape[0], num_latents))


def noise_fn(num_latents=4, seed=0):
    rng = np.random.default_rng(seed)
    return lambda obs: rng.standard_normal((obs.shape[0], num_latents))


def full_grid(sizes, repeat=1):
    """Every factor combination, each ``repeat`` times: exactly uniform, independent factors (prod(sizes)·repeat, F)."""
    g = np.array(list(itertools.product(*[range(s) for s in sizes])), dtype=np.int64)
    return np.tile(g, (repeat, 1))
