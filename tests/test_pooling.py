"""Seeds pool across builds: a run of the cache that differs from a profile's run only in its seed, trained at least
as far, joins its cell (rtc.experiments.grid.pooled_seeds); nothing else does."""
import dataclasses

import pytest
import torch

from rtc.experiments import DatasetSpec, EvalSettings, RunSpec, run
from rtc.experiments.grid import pooled_seeds
from rtc.models import TrainConfig
from rtc.models.train import train

CFG = TrainConfig(model="beta_vae", strength=4.0, steps=4, batch_size=8, checkpoint_every=2, snapshot_steps=(2,))
EVAL = EvalSettings.preset("ci", metrics=("sap_r2",))


def spec(**kw):
    return RunSpec(dataclasses.replace(CFG, **kw), DatasetSpec("dsprites"), EVAL)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("results")
    ds = DatasetSpec("dsprites").load()
    try:
        for kw in (dict(seed=0), dict(seed=3), dict(seed=5, steps=8, snapshot_steps=(2, 4)), dict(seed=4, lr=2e-3)):
            train(dataclasses.replace(CFG, **kw), ds, cache_dir=root / "runs", progress=False)
        train(dataclasses.replace(CFG, seed=6, steps=2), ds, cache_dir=root / "runs", progress=False)  # shorter
        train(dataclasses.replace(CFG, seed=7, steps=8, snapshot_steps=()), ds, cache_dir=root / "runs",
              progress=False)  # further, but step 4 not kept
        yield root
    finally:
        torch.set_num_threads(n)


def test_other_seeds_of_the_same_configuration_pool_when_they_got_as_far(cache):
    got = pooled_seeds([spec(seed=0)], results_dir=cache)
    assert [s.config.seed for s in got] == [3, 5]  # 4: other lr; 6: trained to 2 only; 7: no weights at step 4
    assert all(s.config == dataclasses.replace(CFG, seed=s.config.seed) for s in got)  # the profile's settings
    assert pooled_seeds([spec(seed=0), spec(seed=3)], results_dir=cache)[0].config.seed == 5  # listed: not extra
    assert pooled_seeds([spec(seed=0, strength=2.0)], results_dir=cache) == []


def test_a_pooled_seed_is_evaluated_without_training(cache):
    extra = pooled_seeds([spec(seed=0)], results_dir=cache)[1]  # seed 5: trained to 8, read at its snapshot 4
    r = run(extra.config, extra.dataset, evaluation=EVAL, results_dir=cache)
    assert r.status == "evaluated" and r.row["seed"] == 5 and r.row["steps"] == 4 and len(r.curve()) == 2


def test_a_folder_that_is_no_run_of_this_code_is_skipped(cache):
    junk = cache / "runs" / "beta_vae-junk"
    junk.mkdir()
    (junk / "config.json").write_text('{"config": {"model": "beta_vae", "snapshot_every": 3}}')
    assert [s.config.seed for s in pooled_seeds([spec(seed=0)], results_dir=cache)] == [3, 5]
