"""How fast the training step consumes images: the rate the data side has to beat."""
from __future__ import annotations

import statistics
import time

import torch

from .train import TrainConfig, build, vae_step

__all__ = ["training_step_rate"]


def training_step_rate(num_channels: int, batch: int = 64, steps: int = 3, *, device=None) -> float:
    """Median images/s of :func:`rtc.models.train.vae_step` for a β-VAE (β = 1) of the Table 2 model on random
    binary (B, ``num_channels``, 64, 64) images, over ``steps`` timed steps after one untimed warm-up step."""
    tr = build(TrainConfig(model="beta_vae", batch_size=batch), num_channels, device)
    dev = next(tr.model.parameters()).device
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(batch, num_channels, 64, 64, generator=gen) < 0.2).float().to(dev)
    times = []
    for i in range(steps + 1):
        t = time.perf_counter()
        vae_step(tr, x, step=i, dataset_size=batch)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t)
    return batch / statistics.median(times)
