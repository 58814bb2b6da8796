"""rtc.experiments.results (run): train + evaluate, the evaluation cache (hit, miss, key, concurrency), settings
validation."""
import dataclasses
import math
import threading

import numpy as np
import pytest

from rtc.experiments import EVAL_PRESETS, RUNS, DatasetSpec, EvalSettings, as_dataset_spec, eval_path, run
from rtc.models import Encoding, TrainConfig, encode, representation_stats, run_dir_for
from rtc.models.runfiles import FINAL

# Tiny everything: a few steps of the Table 2 model at batch 8, the ci evaluation with two cheap metrics.
CFG = TrainConfig(model="beta_vae", strength=4.0, steps=4, batch_size=8, checkpoint_every=2)
EVAL = EvalSettings.preset("ci", metrics=("sap_r2", "mig"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One run trained and evaluated once for the module: (results_dir, RunResult)."""
    import torch
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("results")
    r = run(CFG, "dsprites", evaluation=EVAL, results_dir=root)
    torch.set_num_threads(n)
    return root, r


def test_first_call_trains_and_row_is_tidy(trained):
    root, r = trained
    assert r.status == "trained"
    row = r.row
    for key in ("run_key", "model", "dataset", "strength", "seed", "steps", "eval", "dci_estimator", "tc_mean",
                "tc_sample", "tc_mean_knn", "tc_sample_knn", "tc_mean_dr", "active_dims", "recon", "kl", "var_sum",
                "sap_r2", "mig_ref"):
        assert key in row, key
    assert row["eval"] == "ci" and row["dci_estimator"] == "random_forest" and row["model"] == "beta_vae"
    assert all(np.isscalar(v) for v in row.values())  # one number (or label) per column
    L, F = CFG.latent_dim, 5
    assert r.matrices["r2"].shape == (L, F) and r.matrices["nmi"].shape == (L, F)
    assert r.matrices["var_mu"].shape == (L,)
    assert set(r.per_factor["factor"]) == set(r.factor_names)
    assert r.run_dir.parent == root / RUNS and (r.run_dir / FINAL).exists()
    assert r.config == CFG and r.dataset == DatasetSpec("dsprites")


def _pool(settings):
    """Images of an evaluation's shared pool (rtc.experiments.results._evaluate)."""
    return max(settings.num_tc, settings.num_points + settings.num_test, settings.score_variance)


def test_row_matches_the_library_on_the_same_images(trained):
    """Known answer: TC_mean / TC_sample / recon / KL are those of the first num_tc images of rtc.models.encode's
    seeded pool."""
    root, r = trained
    ds = DatasetSpec("dsprites").load()
    model = r.load_model()
    pool = encode(model, ds, n=_pool(EVAL), seed=EVAL.seed)
    n = EVAL.num_tc
    assert n < _pool(EVAL)  # the pool is larger: the TC block is its head
    enc = Encoding(pool.mu[:n], pool.sigma[:n], pool.z[:n], pool.factors[:n], pool.recon[:n])
    s = representation_stats(enc)
    assert r.row["tc_mean"] == pytest.approx(s["tc_mean"], rel=1e-9)
    assert r.row["tc_sample"] == pytest.approx(s["tc_sample"], rel=1e-9)
    assert r.row["recon"] == pytest.approx(s["recon"], rel=1e-9)
    kl = 0.5 * (enc.mu ** 2 + enc.sigma ** 2 - 1 - 2 * np.log(enc.sigma)).sum(1).mean()
    assert r.row["kl"] == pytest.approx(kl, rel=1e-9)


def test_reconstruct_only_the_first_images():
    """encode(reconstruct=m): the same images, µ, σ, z; recon of the first m only, equal to the full one's."""
    from rtc.models.train import build
    ds = DatasetSpec("dsprites").load()
    model = build(CFG, num_channels=1).model
    full = encode(model, ds, n=40, seed=2, batch_size=16)
    part = encode(model, ds, n=40, seed=2, batch_size=16, reconstruct=21)  # ends inside the second chunk
    for f in ("mu", "sigma", "z", "factors"):
        np.testing.assert_array_equal(getattr(part, f), getattr(full, f))
    assert part.recon.shape == (21,)
    np.testing.assert_allclose(part.recon, full.recon[:21], rtol=1e-6)
    with pytest.raises(ValueError, match="reconstruct"):
        encode(model, ds, n=40, reconstruct=0)


def test_evaluation_encodes_its_pool_once_and_the_score_batches(one_thread):
    """Images through the encoder in one evaluation: the shared pool once, plus the FactorVAE score's fixed-factor
    batches (the old evaluation encoded the TC images, the metrics' points and the score's variance points apart);
    the decoder sees only the num_tc TC images."""
    from rtc.experiments.results import _evaluate
    from rtc.models.train import build
    ds = DatasetSpec("dsprites").load()
    model = build(CFG, num_channels=1).model
    seen = {"encode": 0, "decode": 0}
    encode_, decode_ = model.encode, model.decode

    def encode_counted(x):  # µ scaled up: a fresh encoder's latents would all be pruned, and the score not vote
        seen["encode"] += len(x)
        mu, logvar = encode_(x)
        return 1e3 * mu, logvar

    def decode_counted(z):
        seen["decode"] += len(z)
        return decode_(z)

    model.encode, model.decode = encode_counted, decode_counted
    settings = EvalSettings.preset("ci", metrics=("sap_r2", "mig", "factor_vae"))
    out = _evaluate(model, ds, settings, None, False)
    assert seen["encode"] == _pool(settings) + (settings.score_train + settings.score_eval) * settings.score_batch
    assert seen["decode"] == settings.num_tc
    assert out["row"]["factor_vae_active_dims"] > 0 and np.isfinite(out["row"]["tc_mean_dr"])


def test_second_call_is_a_cache_hit(trained):
    root, r = trained
    again = run(CFG, "dsprites", evaluation=EVAL, results_dir=root)
    assert again.status == "cached"
    assert again.row.keys() == r.row.keys()
    for k, v in r.row.items():  # NaN-aware equality (lambda_d is NaN for a β-VAE)
        assert again.row[k] == v or (isinstance(v, float) and math.isnan(v) and math.isnan(again.row[k])), k
    np.testing.assert_array_equal(again.matrices["r2"], r.matrices["r2"])


def test_new_settings_miss_then_evaluate_without_training(trained):
    root, r = trained
    other = dataclasses.replace(EVAL, seed=1)
    assert not eval_path(r.run_dir, other, CFG.steps).exists()
    res = run(CFG, "dsprites", evaluation=other, results_dir=root)
    assert res.status == "evaluated"  # the run was finished: loaded, not retrained
    assert eval_path(r.run_dir, other, CFG.steps).exists() and eval_path(r.run_dir, EVAL, CFG.steps).exists()


def test_eval_key_depends_on_run_and_every_setting(tmp_path):
    a, b = tmp_path / "beta_vae-0000", tmp_path / "beta_vae-0001"
    p = eval_path(a, EVAL, 4)
    assert p == eval_path(a, EvalSettings.preset("ci", metrics=("sap_r2", "mig")), 4)  # deterministic
    assert p.parent == a / "eval" and p.name.startswith("ci-") and p.suffix == ".json"
    assert eval_path(b, EVAL, 4) != p
    for f in dataclasses.fields(EvalSettings):
        if f.name in ("name", "metrics", "dci_estimator"):
            continue
        changed = dataclasses.replace(EVAL, **{f.name: getattr(EVAL, f.name) + 1})
        assert eval_path(a, changed, 4) != p, f.name
    assert eval_path(a, dataclasses.replace(EVAL, dci_estimator="gbt"), 4) != p
    assert eval_path(a, dataclasses.replace(EVAL, metrics=("sap_r2",)), 4) != p
    assert eval_path(a, EVAL, 8) != p and eval_path(a, EVAL, 8).name.startswith("ci-8-")  # a point further on


def test_two_concurrent_callers_evaluate_once(tmp_path, one_thread):
    """Two threads ask for the same finished run: one evaluates, the other waits on the lock and reads it."""
    cfg = dataclasses.replace(CFG, seed=3)
    run(cfg, "dsprites", evaluation=dataclasses.replace(EVAL, seed=5), results_dir=tmp_path)  # train first
    out = []
    threads = [threading.Thread(target=lambda: out.append(run(cfg, "dsprites", evaluation=EVAL,
                                                              results_dir=tmp_path))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in out) == ["cached", "evaluated"]
    np.testing.assert_array_equal(out[0].matrices["r2"], out[1].matrices["r2"])
    leftovers = [p.name for p in (out[0].run_dir / "eval").iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


def test_run_dir_is_the_training_cache(trained):
    root, r = trained
    assert r.run_dir == run_dir_for(CFG, DatasetSpec("dsprites").load(), root / RUNS)
    assert r.row["run_key"] == r.run_dir.name


@pytest.mark.parametrize("kw, match", [
    (dict(dci_estimator="svm"), "dci_estimator"),
    (dict(num_points=0), "num_points"),
    (dict(num_tc=True), "num_tc"),
    (dict(num_tc=100, dr_batch=64), "num_tc=100 is too small"),
    (dict(metrics=("tc",)), "metrics"),
    (dict(metrics=("sapp",)), "metrics"),
    (dict(name="a b"), "name"),
])
def test_eval_settings_reject_bad_values(kw, match):
    with pytest.raises(ValueError, match=match):
        EvalSettings(**kw)


def test_presets_are_named_and_fast_forms_are_cheaper():
    assert {k: v.name for k, v in EVAL_PRESETS.items()} == {k: k for k in EVAL_PRESETS}
    ref, fast = EVAL_PRESETS["reference"], EVAL_PRESETS["fast"]
    assert ref.num_tc == 5000 and ref.dci_estimator == "gbt" and (ref.dr_hidden, ref.dr_layers) == (1000, 6)
    assert fast.dci_estimator == "random_forest" and fast.num_points < ref.num_points
    with pytest.raises(ValueError, match="unknown evaluation preset"):
        EvalSettings.preset("quick")


def test_dataset_spec_errors():
    with pytest.raises(ValueError, match="unknown dataset"):
        DatasetSpec("mnist")
    with pytest.raises(TypeError, match="pass its name"):
        as_dataset_spec(DatasetSpec("dsprites").load())
    assert as_dataset_spec({"name": "cars3d", "seed": 2}) == DatasetSpec("cars3d", 2)


def test_run_rejects_wrong_argument_types(tmp_path):
    with pytest.raises(TypeError, match="config"):
        run({"model": "beta_vae"}, "dsprites", results_dir=tmp_path)
    with pytest.raises(TypeError, match="evaluation"):
        run(CFG, "dsprites", evaluation={"name": "ci"}, results_dir=tmp_path)
