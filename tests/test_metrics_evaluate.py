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
    with pytest.raises(MetricInputError, match=r"\['factors'\] given without codes"):
        evaluate(factors=g, dataset=FactorDataset(), encode_fn=lambda obs: obs, progress=False)
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


def test_modularity_and_explicitness_are_separate_metrics():
    """"modularity" fits no classifier (the lean preset asks for it alone); "explicitness" gives the same numbers
    as modularity_explicitness, with a held-out set and with its own 1/3 split."""
    from rtc.metrics import modularity_explicitness

    rng = np.random.default_rng(3)
    g = np.stack([rng.integers(0, 4, 300), rng.integers(0, 3, 300)], axis=1)
    codes = g + rng.normal(0, 0.3, g.shape)
    alone = evaluate(codes, g, metrics=["modularity"], progress=False)
    assert set(alone.table.metric) == {"modularity"}
    both = evaluate(codes, g, metrics=["modularity", "explicitness"], progress=False)
    ref = modularity_explicitness(codes, g)
    assert both.value("modularity") == alone.value("modularity") == pytest.approx(ref.modularity, abs=1e-12)
    assert (both.value("explicitness_train"), both.value("explicitness_test")) == \
        (ref.explicitness_train, ref.explicitness_test)
    held = evaluate(codes[:200], g[:200], codes_test=codes[200:], factors_test=g[200:], metrics=["explicitness"],
                    progress=False)
    ref = modularity_explicitness(codes[:200], g[:200], codes_test=codes[200:], factors_test=g[200:])
    assert held.value("explicitness_test") == ref.explicitness_test > 0.8
    assert "held-out set given" in held.table.convention.iloc[0]


def test_model_mode_non_finite_encoder_output_names_it():
    ds = FactorDataset((3, 4))

    def encode(obs):
        mu = torch.as_tensor(read_factors(obs, ds.factor_sizes))
        mu[3, 0] = float("nan")
        return mu

    with pytest.raises(MetricInputError, match=r"encode_fn output \(mean\): non-finite value at row 3, column 0"):
        evaluate(dataset=ds, encode_fn=encode, num_points=60, num_test=30, metrics=["tc"], progress=False)


SCORES = dict(batch_size=8, num_train=40, num_eval=20, num_variance_estimate=200)


def test_shared_codes_give_each_metric_on_those_codes_and_encode_only_the_score_batches():
    """Codes given with a dataset: the array metrics score exactly those codes (the same numbers as each metric
    called on them, ideal for codes that are the factors), and encode_fn sees only the FactorVAE score's
    fixed-factor batches — none of the shared points again, nor its global-variance points."""
    from rtc.metrics import dci, factor_vae_score, mig, mig_chen, modularity_explicitness, sap

    ds = FactorDataset((3, 4))
    rng = np.random.default_rng(0)
    f_tr, f_te = ds.sample_factors(600, rng), ds.sample_factors(300, rng)
    c_tr, c_te = f_tr + rng.normal(0, 0.05, f_tr.shape), f_te + rng.normal(0, 0.05, f_te.shape)
    lv = np.full(c_tr.shape, np.log(0.05 ** 2))
    images = []

    def encode(obs):
        images.append(len(obs))
        mu = torch.as_tensor(read_factors(obs, ds.factor_sizes))
        return mu, torch.full_like(mu, np.log(0.05 ** 2))

    kw = dict(metrics=["sap_r2", "sap_svc", "mig", "mig_chen", "dci", "modularity", "explicitness", "factor_vae"],
              dci_estimator="random_forest", chen_samples=200, progress=False)
    e = evaluate(c_tr, f_tr, logvar=lv, codes_test=c_te, factors_test=f_te, dataset=ds, encode_fn=encode,
                 score_kwargs=dict(SCORES, variance_codes=c_tr[:200]), **kw)
    assert sum(images) == (SCORES["num_train"] + SCORES["num_eval"]) * SCORES["batch_size"]
    test = dict(codes_test=c_te, factors_test=f_te)
    assert e.value("sap_r2") == sap(c_tr, f_tr, continuous=True).score > 0.9
    assert e.value("sap_svc") == sap(c_tr, f_tr, **test).score
    assert e.value("mig_ref") == mig(c_tr, f_tr).score > 0.9
    assert e.value("mig_chen") == mig_chen(c_tr, lv, f_tr, num_samples=200).score
    d = dci(c_tr, f_tr, estimator="random_forest", **test)
    assert e.value("dci_disentanglement") == d.disentanglement > 0.9
    assert e.value("dci_informativeness_test") == d.informativeness_test
    assert e.value("explicitness_test") == modularity_explicitness(c_tr, f_tr, **test).explicitness_test
    fv = factor_vae_score(ds, lambda obs: read_factors(obs, ds.factor_sizes), **SCORES, variance_codes=c_tr[:200])
    assert e.value("factor_vae_eval") == fv.eval_accuracy == pytest.approx(1.0)
    conv = e.table.loc[e.table.metric == "factor_vae_eval", "convention"].iloc[0]
    assert "variance_codes=200 shared codes" in conv and "num_variance_estimate" not in conv

    # Without variance_codes the score encodes its own variance points too; the shared codes still are not re-encoded.
    images.clear()
    e2 = evaluate(c_tr, f_tr, dataset=ds, encode_fn=encode, metrics=["sap_r2", "factor_vae"], score_kwargs=SCORES,
                  progress=False)
    assert sum(images) == SCORES["num_variance_estimate"] + (SCORES["num_train"] + SCORES["num_eval"]) * 8
    assert e2.value("sap_r2") == e.value("sap_r2")


def test_model_mode_draw_matches_shared_codes_of_the_same_points():
    """Drawing and encoding inside evaluate() and handing it the same codes give the same array-metric values."""
    ds = FactorDataset((3, 4))

    def encode(obs):
        return torch.as_tensor(read_factors(obs, ds.factor_sizes)) * 2.0 + 1.0

    drawn = evaluate(dataset=ds, encode_fn=encode, num_points=300, num_test=150, metrics=["sap_r2", "mig", "dci"],
                     dci_estimator="random_forest", seed=4, progress=False)
    rng = np.random.default_rng(4)
    f_tr, f_te = ds.sample_factors(300, rng), ds.sample_factors(150, rng)
    shared = evaluate(f_tr * 2.0 + 1.0, f_tr, codes_test=f_te * 2.0 + 1.0, factors_test=f_te, dataset=ds,
                      encode_fn=encode, metrics=["sap_r2", "mig", "dci"], dci_estimator="random_forest", seed=4,
                      progress=False)
    pd_drawn, pd_shared = drawn.table.set_index(["metric", "factor"]), shared.table.set_index(["metric", "factor"])
    np.testing.assert_array_equal(pd_drawn["value"].to_numpy(), pd_shared["value"].to_numpy())


def test_factor_vae_variance_codes_of_another_representation_are_named():
    from rtc.metrics import factor_vae_score

    ds = FactorDataset((3, 4))
    with pytest.raises(MetricInputError, match="2 latents but the global variances are of 3"):
        factor_vae_score(ds, lambda obs: read_factors(obs, ds.factor_sizes), **SCORES,
                         variance_codes=np.random.default_rng(0).standard_normal((50, 3)))
