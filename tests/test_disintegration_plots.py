"""The disintegration chapter's figures draw what they are given: panels, titles, bars (Agg backend)."""
from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rtc.experiments.disintegration import controlled_experiment, correlation_table  # noqa: E402
from rtc.experiments.disintegration.plots import (  # noqa: E402
    METRIC_LABELS,
    controlled_figure,
    correlation_figure,
    deficit_figure,
    pair_figures,
    score_matrices_figure,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_controlled_figure_has_a_panel_per_metric():
    controlled = controlled_experiment(ks=(1, 2), noises=(0.0,), m=3, dependent_m=4, alphas=(0.0,),
                                       other_sizes=(3,), scores=False, chen_samples=30)
    fig = controlled_figure(controlled, ks=(1, 2), noises=(0.0,))
    assert [ax.get_title() for ax in fig.axes] == list(METRIC_LABELS.values())
    sap = fig.axes[0]
    assert len(sap.lines) == 4  # factor 0 and model, each with its closed-form crosses
    np.testing.assert_allclose(sap.lines[0].get_xdata(), [1, 2])


def test_score_matrices_figure_labels_each_factor_with_its_gap():
    r2 = np.array([[0.9, 0.1], [0.5, 0.0], [0.0, 0.7]])
    result = SimpleNamespace(matrices={"r2": r2, "nmi": r2 / 2}, factor_names=("a", "b"))
    fig = score_matrices_figure(result)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["a\ngap 0.40", "b\ngap 0.60"]


def test_pair_figures_walk_both_latents_and_plot_the_pair():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((200, 3))
    enc = SimpleNamespace(mu=mu, factors=rng.integers(4, size=(200, 2)))
    model = SimpleNamespace(decode=lambda z: z[:, :1, None, None].expand(-1, 1, 4, 4) * torch.ones(1))
    split = pd.Series(dict(top_latent=2, second_latent=0, factor_index=1))
    walks, pairs = pair_figures(model, enc, split, ("f0", "f1"), steps=5, max_points=100)
    assert len(walks.axes) == 2 * 5
    # the pair grid plots the top latent against the second
    assert {ax.get_xlabel() for ax in pairs.axes} >= {"z2", "z0"}
    assert {ax.get_ylabel() for ax in pairs.axes} >= {"z2", "z0"}


def test_correlation_and_deficit_figures():
    table = pd.DataFrame(dict(model=["a", "a", "b", "b"], x=[1.0, 2.0, 3.0, 4.0], y=[2.0, 1.0, 4.0, 3.0],
                              z=[math.nan] * 4))
    corr = correlation_table(table, ["x"], ["y", "z"], repeats=20)
    fig = correlation_figure(table, corr, ["x"], ["y", "z"])
    assert [ax.get_title() for ax in fig.axes] == ["ρ = 0.60", "ρ = n/a"]
    d = pd.DataFrame(dict(run=["r0", "r1"], deficit=[0.5, 0.2], explained=[0.1, 0.0]))
    fig = deficit_figure({"sap": d, "mig": d})
    widths = sorted(round(p.get_width(), 6) for p in fig.axes[0].patches)
    assert widths == [0.0, 0.1, 0.2, 0.4]  # explained bars, then the rest of each deficit
