"""DCI (rtc.metrics.dci): hand-computed importance arithmetic, identity / noise codes, both estimators."""
import numpy as np
import pytest
from metrics_synthetic import full_grid

from rtc.metrics import MetricInputError, dci, dci_from_importance


def test_identity_and_uniform_importance():
    # 1e-9: the reference adds 1e-11 to every entry before the entropies
    assert dci_from_importance(np.eye(3)) == pytest.approx((1.0, 1.0), abs=1e-9)
    assert dci_from_importance(np.ones((3, 4))) == pytest.approx((0.0, 0.0), abs=1e-9)
    assert dci_from_importance(np.zeros((2, 2))) == pytest.approx((0.0, 0.0), abs=1e-9)  # zeros → ones


def test_hand_case():
    r = np.array([[0.5, 0.5], [0.0, 1.0]])
    # D: row 0 (½, ½) → H₂ = 1 → D₀ = 0; row 1 (0, 1) → D₁ = 1; row weights (1/2, 1/2) → D = 1/2.
    # C: column 0 (1, 0) → C₀ = 1; column 1 (1/3, 2/3) → H₂ = log₂3 − 2/3 → C₁ = 5/3 − log₂3;
    #    column weights (1/4, 3/4) → C = 1/4 + 3/4·(5/3 − log₂3).
    d, c = dci_from_importance(r)
    assert d == pytest.approx(0.5, abs=1e-9)
    assert c == pytest.approx(0.25 + 0.75 * (5 / 3 - np.log2(3)), abs=1e-9)


def test_one_latent_for_all_factors():
    d, c = dci_from_importance(np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert d == pytest.approx(0.0, abs=1e-9) and c == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("estimator", ["random_forest", "gbt"])
def test_identity_codes_score_about_one(estimator):
    f = full_grid((3, 4, 2), repeat=10)  # 240 points
    rng = np.random.default_rng(0)
    codes = np.concatenate([f[:, [2, 0, 1]] + rng.normal(0, 0.05, f.shape), rng.standard_normal((len(f), 1))], 1)
    r = dci(codes, f, estimator=estimator, seed=0)
    assert r.estimator == estimator
    assert r.importance.shape == (4, 3)
    assert r.importance[[1, 2, 0], [0, 1, 2]].min() > 0.8  # each factor found in its (permuted) latent
    assert r.disentanglement > 0.85 and r.completeness > 0.85
    assert r.informativeness_test == pytest.approx(1.0)


def test_noise_codes_score_low():
    rng = np.random.default_rng(0)
    f = rng.integers(3, size=(600, 3))
    r = dci(rng.standard_normal((600, 4)), f, estimator="random_forest")
    # importances spread ~evenly (over-fitting noise): D, C near 0, test accuracy near chance 1/3
    assert r.disentanglement < 0.2 and r.completeness < 0.2
    assert r.informativeness_test < 0.45


def test_bad_estimator_and_shapes():
    f = np.array([[0, 1], [1, 0], [0, 0], [1, 1]] * 3)
    with pytest.raises(MetricInputError, match="estimator must be one of"):
        dci(f * 1.0, f, estimator="lasso")
    with pytest.raises(MetricInputError, match="at least 2 latents"):
        dci(np.ones((12, 1)), f)
