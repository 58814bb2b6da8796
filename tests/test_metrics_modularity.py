"""Modularity and explicitness (rtc.metrics.modularity)."""
import numpy as np
import pytest
from metrics_synthetic import full_grid

from rtc.metrics import MetricInputError, modularity, modularity_explicitness, modularity_from_mi


def test_modularity_hand_cases():
    assert modularity_from_mi(np.eye(3)) == pytest.approx(1.0)
    assert modularity_from_mi(np.array([[1.0, 1.0]])) == pytest.approx(0.0)     # δ = (2 − 1)/(1·1)
    assert modularity_from_mi(np.array([[1.0, 0.5]])) == pytest.approx(0.75)    # δ = (1.25 − 1)/1
    assert modularity_from_mi(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])) == pytest.approx(0.5)  # dead latent → 0
    # F = 3: δ = (1 + 0.25 + 0.25 − 1) / (1 · 2) = 0.25
    assert modularity_from_mi(np.array([[1.0, 0.5, 0.5]])) == pytest.approx(0.75)
    with pytest.raises(MetricInputError, match="F ≥ 2"):
        modularity_from_mi(np.ones((3, 1)))


def test_identity_modularity_and_explicitness():
    f = full_grid((4, 5), repeat=3)
    assert modularity(f.astype(float), f) == pytest.approx(1.0, abs=1e-12)  # exact zeros off the diagonal
    rng = np.random.default_rng(0)
    r = modularity_explicitness(f + rng.normal(0, 0.05, f.shape), f)
    assert r.explicitness_test > 0.95


def test_noise_explicitness_is_chance():
    rng = np.random.default_rng(0)
    f = rng.integers(3, size=(900, 2))
    r = modularity_explicitness(rng.standard_normal((900, 3)), f)
    assert abs(r.explicitness_test - 0.5) < 0.08  # AUC of an uninformative score ≈ 0.5 ± ~0.03
