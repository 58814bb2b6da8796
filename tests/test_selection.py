"""rtc.experiments.selection: the one way runs are picked (select_runs, find_run) and looked at (View)."""
from types import SimpleNamespace

import numpy as np
import pytest

from rtc.experiments.selection import END, HALF, View, active_view, find_run, select_runs
from rtc.models.encoding import Encoding


def _run(model, dataset, strength=10.0, seed=0, steps=8, snapshots=(4,)):
    return SimpleNamespace(config=SimpleNamespace(model=model, strength=strength, seed=seed, steps=steps),
                           dataset=SimpleNamespace(name=dataset), snapshots=list(snapshots))


RUNS = [_run("factor_vae", "dsprites"), _run("rtc_vae", "shapes3d", seed=1), _run("rtc_vae", "dsprites", 20.0),
        _run("rtc_vae", "dsprites", 10.0 + 1e-12, seed=2)]


def test_select_runs_matches_every_criterion_given():
    assert select_runs(RUNS) == [0, 1, 2, 3]
    assert select_runs(RUNS, model="rtc_vae") == [1, 2, 3]
    assert select_runs(RUNS, model="rtc_vae", dataset="dsprites") == [2, 3]
    assert select_runs(RUNS, strength=10) == [0, 1, 3]  # compared with isclose
    assert select_runs(RUNS, model="rtc_vae", seed=1) == [1]
    assert select_runs(RUNS, model="beta_vae") == []


def test_find_run_takes_the_first_run_of_the_first_preferred_dataset():
    assert find_run(RUNS, "rtc_vae", "dsprites") == 2
    assert find_run(RUNS, "rtc_vae", ("cars3d", "shapes3d", "dsprites")) == 1
    assert find_run(RUNS, "dip_vae_i", "dsprites") is None


def test_views_pick_the_weights_and_the_latents():
    assert (END.step(RUNS[0]), HALF.step(RUNS[0])) == (8, 4)
    assert END.available(RUNS[0]) and HALF.available(RUNS[0])
    assert not HALF.available(_run("beta_vae", "dsprites", snapshots=()))
    assert HALF.encode(_run("beta_vae", "dsprites", snapshots=()), None, n=4) is None
    assert View(half=True, active=True) != HALF


def test_active_view_keeps_the_latents_that_vary():
    rng = np.random.default_rng(0)
    mu = np.c_[rng.normal(size=50), 0.01 * rng.normal(size=50), rng.normal(size=50)]
    enc = Encoding(mu, np.ones_like(mu), mu, np.zeros((50, 1)), np.zeros(50))
    kept = active_view(enc)
    assert kept.mu.shape == (50, 2) and np.array_equal(kept.mu, mu[:, [0, 2]])
    assert active_view(Encoding(mu[:, :2], np.ones((50, 2)), mu[:, :2], np.zeros((50, 1)), np.zeros(50))) is None
    assert active_view(None) is None


@pytest.mark.parametrize("view", [END, HALF])
def test_encode_all_keeps_the_order_and_the_missing_runs(view, monkeypatch):
    import rtc.experiments.selection as sel

    seen = []
    monkeypatch.setattr(sel, "encode", lambda model, ds, n, seed: seen.append((model, ds, n, seed)) or model)
    runs = [SimpleNamespace(**vars(_run("beta_vae", "dsprites")), load_model=lambda device=None: "final",
                            load_snapshot=lambda step, device=None: f"step {step}"),
            SimpleNamespace(**vars(_run("beta_vae", "dsprites", snapshots=())), load_model=lambda device=None: "final",
                            load_snapshot=lambda step, device=None: f"step {step}")]
    out = view.encode_all(runs, n=7, seed=3, datasets={"dsprites": "DS"})
    assert out == (["final", "final"] if view is END else ["step 4", None])
    assert all(s[1:] == ("DS", 7, 3) for s in seen)
