"""BetaVAE and FactorVAE scores on a synthetic dataset whose observations are its factors."""
import numpy as np
import pytest
from metrics_synthetic import FactorDataset, constant_fn, identity_fn, noise_fn

from rtc.metrics import MetricInputError, beta_vae_score, factor_vae_score, majority_vote_accuracy
from rtc.metrics.beta_vae import beta_vae_features

DS = FactorDataset((3, 4, 5))
SMALL = dict(batch_size=16, num_train=300, num_eval=150)


def test_beta_vae_features_zero_on_the_fixed_factor():
    x, y = beta_vae_features(DS, identity_fn(DS), 50, 0, batch_size=8)
    assert x.shape == (50, 3)
    assert np.all(x[np.arange(50), y] == 0.0)  # the shared factor's latent never differs within a pair


def test_beta_vae_identity_is_one_and_ignorant_codes_are_chance():
    assert beta_vae_score(DS, identity_fn(DS, perm=[2, 0, 1]), **SMALL).eval_accuracy == pytest.approx(1.0)
    # all features 0 → one class predicted → accuracy = that label's share ≈ 1/3 (±0.04 at 150 points)
    const = beta_vae_score(DS, constant_fn(), **SMALL)
    assert const.eval_accuracy < 0.45
    assert beta_vae_score(DS, noise_fn(), **SMALL).eval_accuracy < 0.5  # chance 1/3 + noise fit


def test_factor_vae_identity_constant_noise():
    kw = dict(SMALL, num_variance_estimate=500)
    r = factor_vae_score(DS, identity_fn(DS, perm=[1, 2, 0], scale=[1.0, 10.0, 0.5]), **kw)
    assert r.eval_accuracy == pytest.approx(1.0) and r.num_active_dims == 3
    c = factor_vae_score(DS, constant_fn(), **kw)
    assert (c.train_accuracy, c.eval_accuracy, c.num_active_dims) == (0.0, 0.0, 0)
    assert factor_vae_score(DS, noise_fn(), **kw).eval_accuracy < 0.55  # majority shares ≈ 1/3 + noise


def test_factor_vae_prunes_collapsed_latents():
    def fn(obs):  # identity plus a latent of std 0.01 < 0.05
        z = identity_fn(DS)(obs)
        return np.concatenate([z, 0.01 * np.random.default_rng(0).standard_normal((len(z), 1))], 1)
    r = factor_vae_score(DS, fn, **SMALL, num_variance_estimate=500)
    assert r.num_active_dims == 3 and r.eval_accuracy == pytest.approx(1.0)


def test_majority_vote_hand_case():
    tv = np.array([[5, 1], [2, 0], [0, 4]])  # latent 0 → factor 0 (5 votes), latent 1 → factor 2 (4)
    assert majority_vote_accuracy(tv) == pytest.approx(9 / 12)
    ev = np.array([[1, 0], [1, 0], [0, 2]])
    assert majority_vote_accuracy(tv, ev) == pytest.approx(3 / 4)
    with pytest.raises(MetricInputError, match="no votes"):
        majority_vote_accuracy(np.zeros((2, 2)))


def test_non_finite_representation_is_one_clear_error():
    # Regression: FactorVAE scored an all-NaN code 0.0 (no latent passed the pruning threshold) and BetaVAE
    # leaked scikit-learn's message. The error is raised where the codes are built, naming row and latent.
    def nan_fn(obs):
        z = identity_fn(DS)(obs)
        z[0, 1] = np.nan
        return z
    for score in (factor_vae_score, beta_vae_score):
        with pytest.raises(MetricInputError, match="representation_fn output: non-finite value nan at row 0, latent 1"):
            score(DS, nan_fn, **SMALL)
