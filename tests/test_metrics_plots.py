"""Plots (rtc.metrics.plots): they draw what they are given and reject bad shapes."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rtc.metrics import MetricInputError  # noqa: E402
from rtc.metrics.plots import heatmap, latent_traversal, pairplot  # noqa: E402


def test_heatmap_outlines_top_two_per_column():
    m = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, np.nan]])
    ax = heatmap(m, factor_names=["a", "b"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert len(ax.patches) == 4  # 2 outlined cells × 2 factors
    plt.close("all")
    with pytest.raises(MetricInputError, match="factor names"):
        heatmap(m, factor_names=["a"])


def test_pairplot_and_traversal():
    rng = np.random.default_rng(0)
    g = pairplot(rng.standard_normal((300, 3)), rng.integers(3, size=(300, 2)), factor=1, latents=[0, 2],
                 factor_names=["x", "y"], max_points=100)
    assert g.axes.shape == (2, 2)
    with pytest.raises(MetricInputError, match="latents must be indices"):
        pairplot(rng.standard_normal((30, 3)), rng.integers(3, size=(30, 1)), latents=[5])

    def decode(z):  # image brightness = sigmoid of the first latent
        return torch.sigmoid(z[:, :1, None, None]).expand(-1, 1, 8, 8)
    fig = latent_traversal(decode, np.zeros(3), dims=[0, 2], values=[-1, 0, 1])
    assert len(fig.axes) == 6
    assert fig.axes[0].images[0].get_array()[0, 0] == pytest.approx(1 / (1 + np.e))  # z0 = −1
    with pytest.raises(MetricInputError, match="decode_fn must return images"):
        latent_traversal(lambda z: z, np.zeros(2))
    plt.close("all")
