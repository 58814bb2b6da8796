"""evaluate(): one call over raw codes or a model with its dataset."""
import numpy as np
import pytest
import torch
from metrics_synthetic import FactorDataset, full_grid, read_factors

from rtc.metrics import MetricInputError, evaluate, modularity


def test_raw_identity_codes():
    g = full_grid((4, 5), repeat=30)  # 600 points: plug-in MI bias of the noise latent ≈ 19·4/1200 nats
    rng = np.random.default_rng(0)
    codes = np.concatenate([g + rng.normal(0, 0.02, g.shape), rng.standard_normal((len(g), 1))], 1)
    e = evaluate(codes, g, samples=codes + rng.normal(0, 0.1, codes.shape), dci_estimator="random_forest",
                 factor_names=["a", "b"], progress=False)
    assert set(e.table.columns) == {"metric", "factor", "value", "convention"}
    assert e.value("sap_r2") > 0.95 and e.value("mig_ref") > 0.85 and e.value("dci_disentanglement") > 0.8
    assert e.value("disintegrated_factors_nmi") == 0
    assert e.matrices["r2"].shape == (3, 2) and e.matrices["nmi"].shape == (3, 2)
    assert list(e.disintegration["nmi"]["factor"]) == ["a", "b"]
    assert "tc_sample_gaussian" in set(e.table.metric)
    assert set(e.table[e.table.metric == "sap_r2"].factor.dropna()) == {"a", "b"}
    with pytest.raises(KeyError, match="no metric 'beta_vae_eval'"):
        e.value("beta_vae_eval")


def test_model_mode_with_logvar():
    ds = FactorDataset((3, 4))

    def encode(obs):
        mu = torch.as_tensor(read_factors(obs, ds.factor_sizes))
        return mu, torch.full_like(mu, np.log(0.05 ** 2))

    e = evaluate(dataset=ds, encode_fn=encode, num_points=600, num_test=300, dci_estimator="random_forest",
                 chen_samples=300, score_kwargs=dict(batch_size=8, num_train=100, num_eval=50,
                                                     num_variance_estimate=200), progress=False)
    assert e.factor_names == ("f0", "f1")
    assert e.value("beta_vae_eval") == pytest.approx(1.0) and e.value("factor_vae_eval") == pytest.approx(1.0)
    assert e.value("mig_chen") > 0.8 and e.value("mig_ref") > 0.9
    assert e.value("tc_sample_gaussian") < 0.05


def test_errors_are_clear():
    g = full_grid((3, 3), repeat=3)
    with pytest.raises(MetricInputError, match="unknown metrics"):
        evaluate(g * 1.0, g, metrics=["sap"], progress=False)
    with pytest.raises(MetricInputError, match="need logvar"):
        evaluate(g * 1.0, g, metrics=["mig_chen"], progress=False)
    with pytest.raises(MetricInputError, match="dataset"):
        evaluate(g * 1.0, g, metrics=["beta_vae"], progress=False)
    with pytest.raises(MetricInputError, match="both dataset= and encode_fn="):
        evaluate(dataset=FactorDataset(), progress=False)
    e = evaluate(g * 1.0, g, metrics=["sap_r2", "mig"], progress=False)
    assert set(e.table.metric) == {"sap_r2", "mig_ref"}


def test_modularity_convention_is_all_points_and_named():
    # Regression: without a test set evaluate() computed modularity on a 2/3 split (0.948) while
    # modularity() used all points (0.902). One convention: all of `codes`, named in the output.
    g = full_grid((4, 5), repeat=10)
    rng = np.random.default_rng(3)
    codes = np.concatenate([g + rng.normal(0, 0.6, g.shape), rng.standard_normal((len(g), 1))], 1)
    e = evaluate(codes, g, metrics=["modularity"], progress=False)
    assert e.value("modularity") == pytest.approx(modularity(codes, g), abs=1e-12)
    conv = e.table.loc[e.table.metric == "modularity", "convention"].iloc[0]
    assert f"all N={len(codes)} codes" in conv
    held_out = evaluate(codes, g, codes_test=codes[:50], factors_test=g[:50], metrics=["modularity"], progress=False)
    assert held_out.value("modularity") == pytest.approx(modularity(codes, g), abs=1e-12)


def test_model_mode_non_finite_encoder_output_names_it():
    ds = FactorDataset((3, 4))

    def encode(obs):
        mu = torch.as_tensor(read_factors(obs, ds.factor_sizes))
        mu[3, 0] = float("nan")
        return mu

    with pytest.raises(MetricInputError, match=r"encode_fn output \(mean\): non-finite value at row 3, column 0"):
        evaluate(dataset=ds, encode_fn=encode, num_points=60, num_test=30, metrics=["tc"], progress=False)
