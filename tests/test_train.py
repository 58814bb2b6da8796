"""Training loop: learning on a tiny dataset, exact resume after a kill, NaN guard, results cache,
FactorVAE's two optimizers, the data stream, and encoding statistics."""
import numpy as np
import pytest
import torch
from train_toys import ToySquares, params_equal, small

from rtc.data import batches
from rtc.models.config import TrainConfig
from rtc.models.encoding import Encoding, encode, representation_stats
from rtc.models.runfiles import StepNotKept, run_dir_for
from rtc.models.train import TrainingDiverged, train


@pytest.mark.parametrize("model", ["beta_vae", "rtc_vae"])
def test_resume_after_kill_is_bit_identical(tmp_path, model, one_thread):
    cfg = small(model, strength=5.0, warmup_steps=3)
    ref = train(cfg, ToySquares(), cache_dir=tmp_path / "a", progress=False)
    # Kill during step 6 (calls per step: 1 for beta_vae, 2 with a discriminator) → resume from step 4.
    per_step = 2 if model == "rtc_vae" else 1
    with pytest.raises(KeyboardInterrupt):
        train(cfg, ToySquares(fail_at_call=6 * per_step + 1), cache_dir=tmp_path / "b", progress=False)
    ckpt = run_dir_for(cfg, ToySquares(), tmp_path / "b") / "checkpoint.pt"
    assert torch.load(ckpt, weights_only=False)["step"] == 4
    res = train(cfg, ToySquares(), cache_dir=tmp_path / "b", progress=False)
    assert res.finished and res.steps_done == 12
    assert params_equal(ref.model, res.model)
    for k in ref.log:
        np.testing.assert_array_equal(ref.log[k], res.log[k])
    if model == "rtc_vae":
        assert params_equal(ref.discriminator, res.discriminator)


def test_eta_resume_mid_window_is_bit_identical(tmp_path, one_thread):
    # η checked every 3 steps from step 2 (after steps 4, 7, 10, 13); stopping after 6 steps leaves step 5
    # in an open window, which the checkpoint must carry
    cfg = small("revised_beta_vae", strength=1.0, warmup_steps=2, eta_every=3, steps=14)
    ref = train(cfg, ToySquares(), cache_dir=tmp_path / "a", progress=False)
    assert len(set(ref.log["eta"][2:])) > 1  # η moves after the warm-up: the resume has something to get wrong
    part = train(cfg, ToySquares(), cache_dir=tmp_path / "b", progress=False, max_steps=6)
    assert not part.finished and part.steps_done == 6
    res = train(cfg, ToySquares(), cache_dir=tmp_path / "b", progress=False)
    assert params_equal(ref.model, res.model)
    np.testing.assert_array_equal(ref.log["eta"], res.log["eta"])
    np.testing.assert_array_equal(ref.log["var_sum"], res.log["var_sum"])


def test_max_steps_then_resume_equals_uninterrupted(tmp_path, one_thread):
    cfg = small("factor_vae", strength=10.0)
    ref = train(cfg, ToySquares(), cache_dir=tmp_path / "a", progress=False)
    part = train(cfg, ToySquares(), cache_dir=tmp_path / "b", progress=False, max_steps=5)
    assert not part.finished and part.steps_done == 5
    res = train(cfg, ToySquares(), cache_dir=tmp_path / "b", progress=False)
    assert params_equal(ref.model, res.model) and params_equal(ref.discriminator, res.discriminator)
    assert np.isfinite(res.log["disc_acc"]).all() and np.isfinite(res.log["tc"]).all()
    cached = train(cfg, ToySquares(fail_at_call=1), cache_dir=tmp_path / "b", progress=False)
    assert params_equal(ref.discriminator, cached.discriminator)  # the discriminator comes back from the cache


def test_nan_guard_fires_and_keeps_last_good_checkpoint(tmp_path):
    cfg = small(steps=10)
    with pytest.raises(TrainingDiverged, match=r"step 6 .*non-finite recon.*checkpoint\.pt"):
        train(cfg, ToySquares(nan_at_call=7), cache_dir=tmp_path, progress=False)
    st = torch.load(run_dir_for(cfg, ToySquares(), tmp_path) / "checkpoint.pt", weights_only=False)
    assert st["step"] == 6 and len(st["log"]["loss"]) == 6
    assert all(torch.isfinite(v).all() for v in st["model"].values())


def test_cache_hit_does_not_train(tmp_path):
    cfg = small(steps=3)
    first = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    ds = ToySquares(fail_at_call=1)  # any data access would raise
    again = train(cfg, ds, cache_dir=tmp_path, progress=False)
    assert ds.calls == 0 and again.finished and again.discriminator is None
    assert params_equal(first.model, again.model)
    np.testing.assert_array_equal(first.log["loss"], again.log["loss"])
    assert run_dir_for(cfg, ds, tmp_path) != run_dir_for(small(steps=3, lr=2e-3), ds, tmp_path)  # key covers config
    assert run_dir_for(cfg, ds, tmp_path) == run_dir_for(small(steps=4, snapshot_steps=(1,)), ds, tmp_path)  # one
    #   trajectory, whatever its length or kept steps


def test_training_lowers_the_loss(tmp_path):
    torch.manual_seed(0)
    cfg = small(steps=150, batch_size=16, checkpoint_every=1000)
    res = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    first, last = res.log["recon"][:10].mean(), res.log["recon"][-10:].mean()
    # the untrained decoder pays ~4096·log 2 ≈ 2839 nats; learning the background alone halves that
    assert last < 0.5 * first, (first, last)


@pytest.mark.parametrize("model", ["beta_tcvae", "dip_vae_i", "dip_vae_ii", "revised_beta_vae",
                                   "revised_factor_vae"])
def test_every_model_trains_a_few_steps(tmp_path, model):
    res = train(small(model, steps=3, strength=2.0), ToySquares(), cache_dir=tmp_path, progress=False)
    assert res.finished and np.isfinite(res.log["loss"]).all()


def _toy_indices(x):
    """Dataset indices of ToySquares images: the square's first row and column are 6a and 6b → index 8a + b."""
    rows = x[:, 0].sum(2).argmax(1) // 6
    cols = x[:, 0].sum(1).argmax(1) // 6
    return (8 * rows + cols).numpy()


def test_batch_stream_covers_each_epoch_once_and_starts_anywhere():
    s = batches(ToySquares(), 24, seed=3)
    seen = np.concatenate([_toy_indices(next(s)) for _ in range(8)])  # 192 = 3 epochs of 64
    for e in range(3):
        assert sorted(seen[64 * e:64 * (e + 1)]) == list(range(64))
    assert not np.array_equal(seen[:64], seen[64:128])
    # batch 5 is a function of (seed, 5) only: starting there gives it exactly (the loop resumes this way)
    np.testing.assert_array_equal(_toy_indices(next(batches(ToySquares(), 24, seed=3, start=5))), seen[120:144])


def test_snapshots_and_encode(tmp_path):
    cfg = small(steps=4, snapshot_steps=(2,))
    res = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    assert res.snapshots == [2, 4]
    m = res.load_snapshot(2)
    enc = encode(m, ToySquares(), n=50, seed=1, batch_size=16)
    assert enc.mu.shape == enc.z.shape == enc.sigma.shape == (50, 4) and enc.factors.shape == (50, 2)
    assert np.all(enc.sigma > 0) and enc.recon.shape == (50,)
    enc2 = encode(m, ToySquares(), n=50, seed=1, batch_size=7)
    np.testing.assert_allclose(enc.mu, enc2.mu, rtol=1e-5, atol=1e-6)  # chunking changes nothing (float32)


def test_representation_stats_known_gaussian():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, 0.0], [0.0, 0.0, 1.0]])
    mu = rng.multivariate_normal(np.zeros(3), cov, size=20000)
    sigma = np.full_like(mu, 0.5)
    z = mu + sigma * rng.standard_normal(mu.shape)
    s = representation_stats(Encoding(mu, sigma, z, None, np.zeros(len(mu))))
    # Prop. 1: TC(µ) = −½ log(1 − 0.64) = 0.511; z adds 0.25 to each variance: ρ = 0.8/1.25 → 0.266.
    # 20k samples: s.e. of a correlation estimate ≈ (1 − ρ²)/√n ≈ 0.003 → TC within ~0.01.
    assert s["tc_mean"] == pytest.approx(-0.5 * np.log(1 - 0.64), abs=0.02)
    assert s["tc_sample"] == pytest.approx(-0.5 * np.log(1 - 0.64 ** 2), abs=0.02)
    assert s["active_dims"] == 3 and s["var_sum"] == pytest.approx(0.75)
    mu_dead = mu.copy()
    mu_dead[:, 2] = 0.0  # a dimension that never varies: singular covariance
    s = representation_stats(Encoding(mu_dead, sigma, z, None, np.zeros(len(mu))))
    assert s["tc_mean"] == float("inf") and s["active_dims"] == 2
    assert s["tc_mean_active"] == pytest.approx(-0.5 * np.log(1 - 0.64), abs=0.02)


def test_config_validation():
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="unknown model"):
        TrainConfig(model="nope")


def test_cache_key_treats_int_and_float_strength_alike(tmp_path):
    from rtc.models.config import TrainConfig
    from rtc.models.runfiles import run_dir_for

    class _DS:
        name, factor_sizes, num_channels, seed, render_version = "toy", (2, 3), 1, 0, "1"

        def __len__(self):
            return 6

    a = run_dir_for(TrainConfig(model="rtc_vae", strength=2), _DS(), tmp_path)
    b = run_dir_for(TrainConfig(model="rtc_vae", strength=2.0), _DS(), tmp_path)
    c = run_dir_for(TrainConfig(model="rtc_vae", strength=2.5), _DS(), tmp_path)
    assert a == b and a != c


def test_training_step_rate_times_the_training_step(one_thread):
    from rtc.models.throughput import training_step_rate
    rate = training_step_rate(3, batch=4, steps=1)  # images/s of vae_step; only its sanity is testable here
    assert np.isfinite(rate) and rate > 0


@pytest.mark.parametrize("model", ["factor_vae", "rtc_vae"])
def test_a_run_extended_equals_the_run_trained_at_once(tmp_path, model):
    """A run is one trajectory: trained to 4 steps, then asked for 8, it extends from its kept checkpoint and ends
    bit for bit as the run trained to 8 at once — weights, discriminator, log, η state, snapshots — and the
    4-step run stays readable from the same folder (its weights from the snapshot at 4, its log cut there)."""
    torch.set_num_threads(1)
    kw = dict(checkpoint_every=3, snapshot_steps=(2, 4, 6))
    short = train(small(model, steps=4, **kw), ToySquares(), cache_dir=tmp_path / "a", progress=False)
    longer = train(small(model, steps=8, **kw), ToySquares(), cache_dir=tmp_path / "a", progress=False)
    ref = train(small(model, steps=8, **kw), ToySquares(), cache_dir=tmp_path / "b", progress=False)
    assert longer.run_dir == short.run_dir and longer.snapshots == ref.snapshots == [2, 4, 6, 8]
    assert params_equal(longer.model, ref.model)
    assert (longer.discriminator is None) == (ref.discriminator is None)
    if ref.discriminator is not None:
        assert params_equal(longer.discriminator, ref.discriminator)
    assert all(np.array_equal(longer.log[k], ref.log[k], equal_nan=True) for k in ref.log)
    a, b = (torch.load(r.run_dir / "checkpoint.pt", weights_only=False) for r in (longer, ref))
    assert a["eta"] == b["eta"] and a["opt"]["state"][0]["exp_avg"].equal(b["opt"]["state"][0]["exp_avg"])
    again = train(small(model, steps=4, **kw), ToySquares(fail_at_call=1), cache_dir=tmp_path / "a", progress=False)
    assert again.steps_done == 4 and again.snapshots == [2, 4] and params_equal(again.model, short.model)
    assert all(np.array_equal(again.log[k], short.log[k], equal_nan=True) for k in short.log)
    assert again.seconds == pytest.approx(short.seconds)


def test_a_step_the_run_did_not_keep_is_a_clear_error(tmp_path):
    train(small(steps=6, snapshot_steps=(2,)), ToySquares(), cache_dir=tmp_path, progress=False)
    with pytest.raises(StepNotKept, match=r"trained to step 6 and kept its weights at steps \[2, 6\].*not at step 4"):
        train(small(steps=4), ToySquares(fail_at_call=1), cache_dir=tmp_path, progress=False)
    assert train(small(steps=2), ToySquares(fail_at_call=1), cache_dir=tmp_path, progress=False).steps_done == 2
