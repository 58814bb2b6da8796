"""A run along its training (rtc.experiments.curves): every kept step evaluated once, cached, read back exactly;
the quantities checked against known answers and against the library's one formula for each."""
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from rtc.experiments import DatasetSpec, EvalSettings, RunSpec, run
from rtc.experiments.curves import (
    POINT_COLUMNS,
    CorruptCurve,
    CurveSettings,
    _corr_min_eigenvalue,
    curve_path,
    curve_point,
    read_curve,
    read_point,
    write_point,
)
from rtc.experiments.results import cached_result, curve_settings
from rtc.models import TrainConfig
from rtc.models.encoding import encode, latent_kl, representation_stats

CFG = TrainConfig(model="rtc_vae", strength=10.0, steps=4, batch_size=8, checkpoint_every=2, snapshot_steps=(2,))
EVAL = EvalSettings.preset("ci", metrics=("sap_r2",))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("results")
    try:
        yield root, run(CFG, "dsprites", evaluation=EVAL, results_dir=root)
    finally:
        torch.set_num_threads(n)


def test_smallest_correlation_eigenvalue_known_answers():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20000, 3))
    assert _corr_min_eigenvalue(x) == pytest.approx(1.0, abs=0.05)  # independent: Corr ≈ I
    # two latents that move together: corr ρ gives the eigenvalue 1 − ρ
    rho = 0.99
    y = np.column_stack([x[:, 0], rho * x[:, 0] + math.sqrt(1 - rho ** 2) * x[:, 1], x[:, 2]])
    assert _corr_min_eigenvalue(y) == pytest.approx(1 - rho, abs=2e-3)
    assert math.isnan(_corr_min_eigenvalue(np.column_stack([x[:, 0], np.ones(20000)])))  # a constant latent


def test_every_kept_step_is_a_point_and_the_point_is_the_library_formula(trained):
    root, r = trained
    curve = r.curve()
    assert list(curve["step"]) == r.snapshots == [2, 4]
    assert list(curve["images_seen"]) == [16, 32] and list(curve.columns[:len(POINT_COLUMNS)]) == list(POINT_COLUMNS)
    np.testing.assert_allclose(curve["disparity"], curve["tc_mean"] - curve["tc_sample"], rtol=0, atol=1e-12)
    log = r.training_log()
    assert list(curve["eta"]) == [log["eta"].iloc[1], log["eta"].iloc[3]]
    # the last point is the run's final weights on the curve's images: the one formula of each quantity
    enc = encode(r.load_model(device="cpu"), DatasetSpec("dsprites").load(), n=EVAL.curve_images, seed=EVAL.seed)
    st = representation_stats(enc)
    last = curve.iloc[-1]
    for k in ("tc_mean", "tc_sample", "recon", "var_sum", "active_dims"):
        assert last[k] == pytest.approx(st[k], rel=1e-12), k
    np.testing.assert_allclose(last["kl_latents"], latent_kl(enc.mu, enc.sigma), rtol=1e-12)
    np.testing.assert_allclose(last["snr_latents"], st["var_mu"] / st["mean_sigma2"], rtol=1e-12)
    assert last["kl"] == pytest.approx(float(np.sum(last["kl_latents"])), rel=1e-12)
    assert (curve["seconds"] > 0).all()


def test_a_missing_point_is_recomputed_identically_and_a_corrupt_one_named(trained):
    root, r = trained
    spec = RunSpec(CFG, DatasetSpec("dsprites"), EVAL)
    before = r.curve()
    path = curve_path(r.run_dir, curve_settings(EVAL), 2)
    path.unlink()
    assert cached_result(spec, results_dir=root) is None  # not complete: the sweep runs it again
    with pytest.raises(FileNotFoundError, match="step 2"):
        r.curve()
    again = run(CFG, "dsprites", evaluation=EVAL, results_dir=root)  # evaluates only the missing point
    assert again.status == "cached" and cached_result(spec, results_dir=root) is not None
    after = again.curve()
    cols = [c for c in POINT_COLUMNS if c != "seconds"]
    pd.testing.assert_frame_equal(after[cols], before[cols])
    path.write_text(path.read_text()[:-10])
    with pytest.raises(CorruptCurve, match=str(path)):
        read_point(path)


def test_points_round_trip_exactly(tmp_path):
    point = {c: float(i) + 0.1 for i, c in enumerate(POINT_COLUMNS)}
    point.update(step=3, band_share=float("nan"), kl_latents=[0.1, 1 / 3], snr_latents=[2.0, float("inf")])
    p = tmp_path / "curve-3-x.json"
    write_point(p, point)
    back = read_point(p)
    assert back["kl_latents"] == [0.1, 1 / 3] and math.isnan(back["band_share"]) and back["step"] == 3
    p.write_text(json.dumps({"format": 1, "point": {"step": 3}}))
    with pytest.raises(CorruptCurve, match="missing"):
        read_point(p)
    with pytest.raises(FileNotFoundError):
        read_curve(tmp_path, CurveSettings(), [5])


@pytest.mark.parametrize("kw", [dict(images=10), dict(images=2.5), dict(seed=-1), dict(name="lean")])
def test_bad_curve_settings_are_value_errors(kw):
    with pytest.raises(ValueError):
        CurveSettings(**kw)


def test_curve_point_needs_a_positive_step(trained):
    root, r = trained
    with pytest.raises(ValueError, match="step"):
        curve_point(r.load_model(device="cpu"), DatasetSpec("dsprites").load(), step=0, batch_size=8,
                    log={"var_sum": [], "eta": []}, settings=CurveSettings(images=50))
