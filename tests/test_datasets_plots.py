"""The Datasets chapter's figures (rtc.experiments.dataset_plots) on a small stand-in dataset (Agg backend)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rtc.experiments.dataset_plots import factor_traversal_figure, rates_figure  # noqa: E402


class TinyDataset:
    """Two factors (3 and 5 values); the image of factors (i, j) is constant at 10·i + j."""
    factor_names = ("row", "col")
    factor_sizes = (3, 5)
    factor_values = (np.array([0.0, 0.5, 1.0]), np.arange(5.0) * 10)
    num_factors, num_channels = 2, 1

    def check_factors(self, f):
        return np.asarray(f, dtype=np.int64)

    def images(self, f):
        return np.broadcast_to((10 * f[:, 0] + f[:, 1])[:, None, None, None], (len(f), 4, 4, 1)).astype(np.uint8)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_traversal_figure_sweeps_each_factor_from_the_base():
    fig = factor_traversal_figure(TinyDataset(), [1, 2], 3)
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title() for ax in axes[0]] == ["0", "0.5", "1"]   # row swept, col fixed at 2
    assert [ax.get_title() for ax in axes[1]] == ["0", "20", "40"]   # col swept over 0, 2, 4
    assert [int(ax.images[0].get_array()[0, 0]) for ax in axes[1]] == [10, 12, 14]
    with pytest.raises(ValueError, match="steps"):
        factor_traversal_figure(TinyDataset(), [1, 2], 1)


def test_rates_figure_bars_and_training_lines():
    rates = pd.DataFrame(dict(dataset=["a", "b"], path=["renderer", "memoised"], **{"images/s": [100.0, 1e4]}))
    fig = rates_figure(rates, {1: 50.0, 3: 20.0})
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [100.0, 1e4]
    assert [line.get_ydata()[0] for line in ax.lines] == [50.0, 20.0]
