"""A tiny stand-in dataset and small training configs shared by the training tests."""
import numpy as np
import torch

from rtc.models.config import TrainConfig


class ToySquares:
    """Stand-in for the rtc.data interface: an 8×8 grid of positions of a 16-pixel white square."""
    name = "toy_squares"
    factor_names = ("x", "y")
    factor_sizes = (8, 8)
    num_channels = 1
    image_size = 64
    source = "procedural"

    def __init__(self, fail_at_call=None, nan_at_call=None):
        self.calls = 0
        self.fail_at_call, self.nan_at_call = fail_at_call, nan_at_call

    def __len__(self):
        return 64

    def index_to_factors(self, idx):
        idx = np.asarray(idx)
        return np.stack([idx // 8, idx % 8], 1)

    def sample_factors(self, n, rng):
        return np.random.default_rng(rng).integers(0, 8, size=(n, 2))

    def observations(self, factors, device=None):
        self.calls += 1
        if self.fail_at_call is not None and self.calls == self.fail_at_call:
            raise KeyboardInterrupt("simulated kill")
        f = np.asarray(factors)
        x = torch.zeros(len(f), 1, 64, 64)
        for i, (a, b) in enumerate(f):
            x[i, 0, 6 * a:6 * a + 16, 6 * b:6 * b + 16] = 1.0
        if self.nan_at_call is not None and self.calls == self.nan_at_call:
            x[0, 0, 0, 0] = float("nan")
        return x.to(device or "cpu")


def small(model="beta_vae", **kw):
    base = dict(model=model, latent_dim=4, batch_size=8, steps=12, checkpoint_every=4, lr=1e-3,
                disc_hidden=32, disc_layers=3, eta_every=2)
    base.update(kw)
    return TrainConfig(**base)


def params_equal(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
