"""The training loop under bad configs, concurrent callers, read-only caches, kills, full disks, truncated files,
a diverging discriminator, and a caller that owns its RNGs; the cache key; the step functions the bench reuses."""
import errno
import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from train_toys import ToySquares, params_equal, small

from rtc._source import code_digest, files_digest
from rtc._validate import ConfigError
from rtc.data import batches
from rtc.models import CHECKPOINT, CONFIG, FINAL, SNAPSHOTS, RunState, load_model, snapshot_path
from rtc.models.config import TrainConfig
from rtc.models.runfiles import CheckpointError, code_version, run_dir_for
from rtc.models.train import TrainingDiverged, build, discriminator_step, train, vae_step

TESTS = Path(__file__).resolve().parent
# the module (``rtc.models.train`` as an attribute is the function train(), which rtc.models exports)
import rtc.models.runfiles as runfiles  # noqa: E402
import rtc.models.train as train_mod  # noqa: E402  (the module: no longer shadowed by the function)

# ---- configuration ------------------------------------------------------------------------------------------------

BAD_FIELDS = [
    ("lr", float("inf")), ("lr", 0.0), ("lr", float("nan")), ("disc_lr", -1e-4),
    ("strength", -1.0), ("strength", float("nan")), ("strength", "4"), ("strength", True),
    ("batch_size", 2.5), ("batch_size", 1), ("batch_size", 8.0), ("latent_dim", 0), ("steps", 0),
    ("warmup_steps", -1), ("seed", -1), ("seed", 1.5), ("seed", 2 ** 63), ("disc_hidden", 0), ("disc_layers", 0),
    ("disc_layers", 1), ("eta_every", 0), ("eta_every", 11), ("adam_betas", (0.9, 1.0)),
    ("adam_betas", (-0.1, 0.999)), ("adam_betas", (0.9,)), ("adam_betas", 0.9), ("disc_betas", (0.5, float("nan"))),
    ("checkpoint_every", 0), ("snapshot_steps", [0]), ("snapshot_steps", [3, 2]), ("snapshot_steps", 5),
    ("snapshot_steps", [2.5]), ("channels_last", "yes"), ("tc_estimator", "kde"),
    ("model", "nope"), ("warmup_start", "ae"), ("warmup_start", ["vae"]),
]


@pytest.mark.parametrize("name,value", BAD_FIELDS, ids=[f"{n}={v!r}" for n, v in BAD_FIELDS])
def test_every_bad_field_is_a_value_error_naming_it(name, value):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**{name: value})


@pytest.mark.parametrize("kw,name", [
    (dict(model="dip_vae_i", lambda_d=-1.0), "lambda_d"), (dict(model="dip_vae_ii", lambda_d=float("nan")), "lambda_d"),
    (dict(model="beta_vae", lambda_d=3.0), "lambda_d"), (dict(model="beta_vae", tc_estimator="mss1"), "tc_estimator"),
    (dict(model="beta_tcvae", tc_estimator="density_ratio"), "minibatch"),
    (dict(model="rtc_vae", strength=20.0, eta_cap=19.0), "eta_cap"), (dict(model="rtc_vae", eta_cap=float("nan")),
                                                                      "eta_cap"),
])
def test_model_dependent_fields(kw, name):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**kw)


def test_from_mapping_names_the_file_and_the_field():
    with pytest.raises(ConfigError, match=r"^training\.yaml: defaults: 'steps' must be an integer, got str '10'$"):
        TrainConfig.from_mapping({"steps": "10"}, where="training.yaml: defaults")
    with pytest.raises(ConfigError, match=r"^training\.yaml: defaults: TrainConfig\.steps must be ≥ 1, got 0$"):
        TrainConfig.from_mapping({"steps": 0}, where="training.yaml: defaults")
    assert (TrainConfig.from_mapping({"model": "factor_vae", "disc_betas": [0, 0.9]})
            == TrainConfig(model="factor_vae", disc_betas=(0.0, 0.9)))


def test_cache_dir_is_required():
    with pytest.raises(TypeError, match="cache_dir"):
        train(small(), ToySquares(), progress=False)


def test_bad_config_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="lr"):
        train(small(lr=float("inf")), ToySquares(), cache_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_numpy_scalars_are_accepted_and_normalised(tmp_path):
    a = TrainConfig(model="rtc_vae", strength=np.int64(4), batch_size=np.int64(8), lr=np.float32(0.5),
                    seed=np.uint8(3), adam_betas=[np.float64(0.9), 0.999], disc_betas=(0, 0.9), eta_cap=np.int64(200),
                    channels_last=np.bool_(True))
    b = TrainConfig(model="rtc_vae", strength=4.0, batch_size=8, lr=0.5, seed=3, adam_betas=(0.9, 0.999),
                    disc_betas=(0.0, 0.9), eta_cap=200.0, channels_last=True)
    assert a == b and hash(a) == hash(b)
    assert type(a.strength) is float and type(a.batch_size) is int and type(a.seed) is int
    assert run_dir_for(a, ToySquares(), tmp_path) == run_dir_for(b, ToySquares(), tmp_path)
    json.dumps(a.to_dict())  # plain Python types only
    assert TrainConfig(model="rtc_vae", eta_cap=float("inf")).eta_cap == float("inf")  # the literal rule's no-cap


def test_equal_configs_share_a_key_and_different_ones_do_not(tmp_path):
    ds = ToySquares()
    key = lambda **kw: run_dir_for(small("factor_vae", **kw), ds, tmp_path)  # noqa: E731
    assert key(disc_betas=(0, 0.9)) == key(disc_betas=(0.0, 0.9)) == key(disc_betas=[0.0, 0.9])
    assert key(strength=2) == key(strength=2.0) != key(strength=2.5)
    assert key(seed=1) != key(seed=2)


# ---- the cache key covers the code --------------------------------------------------------------------------------

def test_key_changes_with_the_code(tmp_path, monkeypatch):
    before = run_dir_for(small(), ToySquares(), tmp_path)
    monkeypatch.setattr(runfiles, "code_version", lambda ds=None: "something else")
    assert run_dir_for(small(), ToySquares(), tmp_path) != before


def test_code_digest_ignores_comments_and_docstrings_but_not_code(tmp_path):
    files = {"a": 'def f(x):\n    return x + 1\n',
             "b": '"""Module."""\n\n\ndef f(x):  # a comment\n    """Doc."""\n    return (x\n            + 1)\n',
             "c": 'def f(x):\n    return x + 2\n'}
    digest = {}
    for name, src in files.items():
        (tmp_path / f"{name}.py").write_text(src)
        digest[name] = code_digest(str(tmp_path / f"{name}.py"))
    assert digest["a"] == digest["b"] != digest["c"]


def test_moving_a_definition_between_files_keeps_the_digest(tmp_path):
    """Splitting a module is not a code change; changing a moved definition, or a third-party binding, is."""
    one = {"a.py": "import numpy as np\nfrom .b import g\n__all__ = ['f', 'g']\n\n\ndef f(x):\n    return g(x)\n\n\n"
                   "def g(x):\n    return np.sum(x)\n"}
    two = {"a.py": "from .b import g\n__all__ = ['f']\n\n\ndef f(x):\n    return g(x)\n",
           "b.py": "import numpy as np\n__all__ = ['g']\n\n\ndef g(x):\n    return np.sum(x)\n"}
    changed = {**two, "b.py": two["b.py"].replace("np.sum", "np.mean")}
    rebound = {**two, "b.py": two["b.py"].replace("import numpy as np", "import cupy as np")}
    digests = []
    for k, layout in enumerate((one, two, changed, rebound)):
        d = tmp_path / str(k)
        d.mkdir()
        for name, src in layout.items():
            (d / name).write_text(src)
        digests.append(files_digest(sorted(d.glob("*.py"))))
    assert digests[0] == digests[1]
    assert len({digests[1], digests[2], digests[3]}) == 3


def test_code_version_covers_what_determines_a_run():
    files = {Path(f).relative_to(TESTS.parent).as_posix() for m in runfiles.CODE_MODULES
             for f in runfiles._module_files(m)}
    for f in ("rtc/models/networks.py", "rtc/models/objectives.py", "rtc/models/eta.py", "rtc/models/train.py",
              "rtc/models/config.py", "rtc/models/runfiles.py",
              "rtc/discriminator.py", "rtc/estimators/minibatch.py", "rtc/data/__init__.py", "rtc/data/dsprites.py",
              "rtc/data/shapes3d.py", "rtc/data/cars3d.py", "rtc/data/base.py"):
        assert f in files, f
    assert code_version(ToySquares()) != code_version(None)  # the dataset's own class counts too


# ---- RNGs of the caller -------------------------------------------------------------------------------------------

def _global_draws():
    return torch.rand(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)]


def test_train_leaves_the_callers_rngs_alone(tmp_path):
    for kw in (dict(max_steps=5), {}, {}):  # fresh start, resume, load from the cache
        torch.manual_seed(123)
        np.random.seed(123)
        random.seed(123)
        train(small("factor_vae", steps=8), ToySquares(), cache_dir=tmp_path, progress=False, **kw)
        after = _global_draws()
        torch.manual_seed(123)
        np.random.seed(123)
        random.seed(123)
        assert after == _global_draws(), kw


def test_training_does_not_depend_on_the_callers_rng_state(tmp_path):
    torch.manual_seed(1)
    a = train(small("rtc_vae", steps=4), ToySquares(), cache_dir=tmp_path / "a", progress=False)
    torch.manual_seed(2)
    b = train(small("rtc_vae", steps=4), ToySquares(), cache_dir=tmp_path / "b", progress=False)
    assert params_equal(a.model, b.model) and params_equal(a.discriminator, b.discriminator)


# ---- the step functions are the loop --------------------------------------------------------------------------------

def test_vae_and_discriminator_steps_reproduce_train(tmp_path, one_thread):
    cfg = small("factor_vae", strength=5.0, steps=3)
    ref = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    tr = build(cfg, 1, "cpu")
    stream = batches(ToySquares(), cfg.batch_size, seed=cfg.seed)
    for step in range(cfg.steps):
        out, terms = vae_step(tr, next(stream), step=step, dataset_size=64)
        terms.update(discriminator_step(tr, out.z, next(stream)))
    assert params_equal(ref.model, tr.model) and params_equal(ref.discriminator, tr.disc)
    assert float(terms["loss"]) == ref.log["loss"][-1] and float(terms["disc_acc"]) == ref.log["disc_acc"][-1]


# ---- a diverging discriminator --------------------------------------------------------------------------------------

def test_nonfinite_discriminator_loss_saves_the_state_before_the_step(tmp_path, monkeypatch, one_thread):
    cfg = small("factor_vae", strength=5.0, steps=10)
    ref = train(cfg, ToySquares(), cache_dir=tmp_path / "ref", progress=False, max_steps=5)  # the state after 5 steps
    calls = {"n": 0}
    real = train_mod.discriminator_loss

    def failing(lq, lp):
        calls["n"] += 1
        loss, acc = real(lq, lp)
        return (loss * float("nan"), acc) if calls["n"] == 6 else (loss, acc)  # the 6th step (step 5)

    monkeypatch.setattr(train_mod, "discriminator_loss", failing)
    with pytest.raises(TrainingDiverged, match=r"step 5 \(non-finite discriminator loss\).*checkpoint\.pt"):
        train(cfg, ToySquares(), cache_dir=tmp_path / "run", progress=False)
    monkeypatch.setattr(train_mod, "discriminator_loss", real)
    ckpt = torch.load(run_dir_for(cfg, ToySquares(), tmp_path / "run") / "checkpoint.pt", weights_only=False)
    want = torch.load(ref.run_dir / "checkpoint.pt", weights_only=False)
    assert ckpt["step"] == want["step"] == 5 and len(ckpt["log"]["loss"]) == 5
    # the VAE had already stepped when the discriminator failed: the checkpoint still holds the pre-step state
    for part in ("model", "disc"):
        for k in want[part]:
            assert torch.equal(ckpt[part][k], want[part][k]), (part, k)
    assert str(ckpt["opt"]["state"]) == str(want["opt"]["state"])
    # and resuming from it finishes exactly like an uninterrupted run
    full = train(cfg, ToySquares(), cache_dir=tmp_path / "full", progress=False)
    res = train(cfg, ToySquares(), cache_dir=tmp_path / "run", progress=False)
    assert params_equal(full.model, res.model) and params_equal(full.discriminator, res.discriminator)


# ---- files: read-only cache, stale checkpoint, full disk, truncation ---------------------------------------------

def _forbid_writes(monkeypatch):
    def refuse(*a, **k):
        raise PermissionError(errno.EROFS, "read-only cache (test)")

    real_open = os.open

    def ro_open(path, flags, *a, **k):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse()
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(os, "open", ro_open)
    for name in ("replace", "rename", "unlink", "remove", "mkdir", "makedirs"):
        monkeypatch.setattr(os, name, refuse)
    for name in ("write_text", "write_bytes", "mkdir", "unlink", "touch"):
        monkeypatch.setattr(Path, name, refuse)
    monkeypatch.setattr(torch, "save", refuse)


def test_finished_run_loads_from_a_read_only_cache(tmp_path, monkeypatch):
    cfg = small(steps=3)
    first = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    stale = first.run_dir / "checkpoint.pt"
    shutil.copy(first.run_dir / "final.pt", stale)  # even a leftover checkpoint must not need a write
    _forbid_writes(monkeypatch)
    again = train(cfg, ToySquares(fail_at_call=1), cache_dir=tmp_path, progress=False)
    assert again.finished and params_equal(first.model, again.model)


def test_a_kill_between_the_last_checkpoint_and_final_only_writes_final(tmp_path, one_thread):
    cfg = small(steps=8)
    done = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    ckpt = torch.load(done.run_dir / CHECKPOINT, weights_only=False)
    assert ckpt["step"] == 8  # the trajectory's end is kept, to extend the run from
    (done.run_dir / FINAL).unlink()  # a kill after the checkpoint at step 8, before final.pt's rename
    again = train(cfg, ToySquares(fail_at_call=1), cache_dir=tmp_path, progress=False)  # no data: no training
    assert again.finished and params_equal(done.model, again.model) and (done.run_dir / FINAL).exists()
    np.testing.assert_array_equal(done.log["loss"], again.log["loss"])


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos 64")])
def test_full_disk_during_a_checkpoint_loses_nothing(tmp_path, monkeypatch, error, one_thread):
    cfg = small(steps=12)
    real = torch.save
    calls = {"n": 0}

    def full_disk(obj, f, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:  # the second checkpoint (step 8): write half a file, then fail as a full disk does
            Path(f).write_bytes(b"PK\x03\x04" + b"\0" * 60)
            raise error
        return real(obj, f, *a, **k)

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(CheckpointError, match=r"checkpoint\.pt.*(no space left on device|unexpected pos).*"
                                              r"Nothing was lost.*Free disk space"):
        train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    monkeypatch.setattr(torch, "save", real)
    run_dir = run_dir_for(cfg, ToySquares(), tmp_path)
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoint.pt", "config.json", "lock"]  # no temporaries
    assert torch.load(run_dir / "checkpoint.pt", weights_only=False)["step"] == 4  # the previous one, intact
    res = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    ref = train(cfg, ToySquares(), cache_dir=tmp_path / "ref", progress=False)
    assert res.finished and params_equal(ref.model, res.model)


def test_truncated_files_name_the_file_and_the_remedy(tmp_path):
    cfg = small(steps=8)
    part = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False, max_steps=4)
    ckpt = part.run_dir / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=rf"{ckpt}.*truncated.*Delete it to train this run from its start"):
        train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    assert ckpt.exists()  # never deleted behind the user's back
    ckpt.unlink()
    done = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    final = done.run_dir / "final.pt"
    final.write_bytes(final.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=rf"{final}.*truncated.*retrain=True"):
        train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)


# ---- the run files' format ---------------------------------------------------------------------------------------

def test_every_run_file_carries_the_format_and_the_run_state(tmp_path):
    assert snapshot_path("r", 12) == Path("r") / SNAPSHOTS / "step_0000012.pt"
    s = RunState(3, {"loss": [1.0, 2.0, 3.0]}, 1.5, [2])
    assert s.to_dict() == {"format": 2, "step": 3, "log": {"loss": [1.0, 2.0, 3.0]}, "seconds": 1.5, "snapshots": [2]}
    assert RunState.from_dict(s.to_dict()) == s
    cfg = small(steps=6, snapshot_steps=(3,))
    part = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False, max_steps=5)
    assert sorted(p.name for p in part.run_dir.iterdir()) == sorted([CHECKPOINT, CONFIG, SNAPSHOTS, "lock"])
    ckpt = torch.load(part.run_dir / CHECKPOINT, weights_only=False)
    assert ckpt["format"] == RunState.FORMAT == 2
    state = RunState.from_dict(ckpt)
    assert (state.step, state.snapshots, part.steps_done, part.snapshots) == (5, [3], 5, [3]) and state.seconds > 0
    np.testing.assert_array_equal(state.log["loss"], part.log["loss"])
    done = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    final = torch.load(done.run_dir / FINAL, weights_only=False)
    assert (final["format"], final["step"], final["snapshots"]) == (2, 6, [3, 6]) and done.snapshots == [3, 6]
    snap = torch.load(snapshot_path(done.run_dir, 3), weights_only=False)
    assert snap["step"] == 3 and 0 < snap["seconds"] < final["seconds"]
    assert final["seconds"] == done.seconds > state.seconds and len(final["log"]["loss"]) == 6
    for step in (3, 6):
        assert torch.load(snapshot_path(done.run_dir, step), weights_only=False)["format"] == 2


def _rewrite(path, **changes):
    """Rewrite the run file ``path`` with keys changed (None: deleted), as another version of the code wrote it."""
    st = torch.load(path, weights_only=False)
    for k, v in changes.items():
        if v is None:
            del st[k]
        else:
            st[k] = v
    torch.save(st, path)


def test_a_file_of_an_unknown_format_is_refused_with_a_remedy(tmp_path):
    cfg = small(steps=8)
    part = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False, max_steps=4)
    ckpt = part.run_dir / CHECKPOINT
    for fmt in (3, "1", 1.0, -1):
        _rewrite(ckpt, format=fmt)
        with pytest.raises(CheckpointError, match=rf"{ckpt} has format {fmt!r}; this code reads run files of format 0 "
                                                  r"to 2 \(a newer rtc.*Delete it to train this run from its start"):
            train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    assert ckpt.exists()  # never deleted behind the user's back
    ckpt.unlink()
    done = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    final = done.run_dir / FINAL
    _rewrite(final, format=3)
    with pytest.raises(CheckpointError, match=rf"{final} has format 3;.*retrain=True"):
        train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    with pytest.raises(CheckpointError, match=rf"{final} has format 3;.*Delete it and train the run again"):
        load_model(final, cfg)


def test_files_without_a_format_are_format_0(tmp_path, one_thread):
    """The files of the code before formats were numbered (no "format"; final.pt without "step") resume and load."""
    cfg = small("factor_vae", steps=8, snapshot_steps=(4,))
    ref = train(cfg, ToySquares(), cache_dir=tmp_path / "ref", progress=False)
    part = train(cfg, ToySquares(), cache_dir=tmp_path / "run", progress=False, max_steps=5)
    _rewrite(part.run_dir / CHECKPOINT, format=None)
    _rewrite(snapshot_path(part.run_dir, 4), format=None)
    res = train(cfg, ToySquares(), cache_dir=tmp_path / "run", progress=False)
    assert params_equal(ref.model, res.model) and params_equal(ref.discriminator, res.discriminator)
    np.testing.assert_array_equal(res.log["loss"], ref.log["loss"])
    assert res.snapshots == [4, 8] and params_equal(res.load_snapshot(4), ref.load_snapshot(4))
    _rewrite(res.run_dir / FINAL, format=None, step=None)
    again = train(cfg, ToySquares(fail_at_call=1), cache_dir=tmp_path / "run", progress=False)  # loads, no training
    assert again.finished and params_equal(ref.model, again.model) and again.snapshots == [4, 8]
    np.testing.assert_array_equal(again.log["loss"], ref.log["loss"])
    assert again.seconds == res.seconds


# ---- two processes, one run ---------------------------------------------------------------------------------------

WORKER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    import torch
    torch.set_num_threads(1)
    from rtc.models.train import train
    from train_toys import ToySquares, small
    go = Path({go!r})
    while not go.exists():
        time.sleep(0.01)
    ds = ToySquares()
    res = train(small("factor_vae", steps=30, checkpoint_every=3), ds, cache_dir={cache!r}, progress=False,
                max_steps={max_steps})
    digest = float(sum(p.double().sum() for p in res.model.state_dict().values()))
    print(json.dumps({{"calls": ds.calls, "steps": res.steps_done, "finished": res.finished, "digest": digest}}))
""")


def _run_pair(tmp_path, max_steps):
    go = tmp_path / "go"
    code = WORKER.format(tests=str(TESTS), go=str(go), cache=str(tmp_path / "cache"), max_steps=max_steps)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    go.touch()  # both start together
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]


def test_two_processes_training_one_run_share_it(tmp_path):
    a, b = _run_pair(tmp_path, max_steps=None)
    assert a["finished"] and b["finished"] and a["digest"] == b["digest"]
    assert sorted([a["calls"] == 0, b["calls"] == 0]) == [False, True]  # one trained, the other waited and loaded
    run_dir = next((tmp_path / "cache").iterdir())
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


def test_two_processes_stopping_early_continue_each_other(tmp_path):
    a, b = _run_pair(tmp_path, max_steps=10)  # the second waits, then resumes where the first stopped
    assert sorted([a["steps"], b["steps"]]) == [10, 20] and a["calls"] > 0 and b["calls"] > 0


def test_draws_are_those_of_a_script_seeded_once(tmp_path, one_thread):
    """train() on CPU draws what a plain script does after one torch.manual_seed(seed): init, then ε and
    permutations from the global stream in step order (so the run's own generators change no result)."""
    from rtc.discriminator import Discriminator
    from rtc.models import VAE
    from rtc.models.train import Trainer
    cfg = small("factor_vae", strength=5.0, steps=3, seed=7)
    ref = train(cfg, ToySquares(), cache_dir=tmp_path, progress=False)
    torch.manual_seed(cfg.seed)
    model, disc = VAE(1, 4), Discriminator(4, 32, 3)
    tr = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.adam_betas), cfg.objective(),
                 disc, torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr, betas=cfg.disc_betas), None,
                 noise=torch.default_generator, perm=torch.default_generator)
    stream = batches(ToySquares(), cfg.batch_size, seed=cfg.seed)
    for step in range(cfg.steps):
        out, _ = vae_step(tr, next(stream), step=step, dataset_size=64)
        discriminator_step(tr, out.z, next(stream))
    assert params_equal(ref.model, model) and params_equal(ref.discriminator, disc)
