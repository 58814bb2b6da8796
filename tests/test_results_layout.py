"""rtc.experiments.results owns the results cache's layout: run_dir / eval_path, evaluations as JSON + .npz that read
back exactly, load_results that reads the cache and never trains (NotCached otherwise), and RunResult's loaders of
the trained model, its snapshots and its training log."""
import dataclasses
import json
import math
import struct

import numpy as np
import pandas as pd
import pytest
import torch

import rtc.experiments.results as results
import rtc.experiments.store as store
import rtc.models.train as train_module
from rtc.experiments import (
    RUNS,
    CorruptEvaluation,
    DatasetSpec,
    EvalSettings,
    NotCached,
    eval_path,
    load_results,
    read_evaluation,
    run,
    run_dir,
)
from rtc.experiments.specs import RunSpec
from rtc.models import TrainConfig, run_dir_for
from rtc.models.runfiles import FINAL

CFG = TrainConfig(model="beta_vae", strength=4.0, steps=4, batch_size=8, checkpoint_every=2, snapshot_steps=(2,))
EVAL = EvalSettings.preset("ci", metrics=("sap_r2", "mig", "disintegration"))
SPEC = RunSpec(CFG, DatasetSpec("dsprites"), EVAL)


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    """One tiny run trained and evaluated for the module: (results_dir, RunResult)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        root = tmp_path_factory.mktemp("results")
        return root, run(CFG, "dsprites", evaluation=EVAL, results_dir=root)
    finally:
        torch.set_num_threads(n)


@pytest.fixture
def no_training(monkeypatch):
    """Any training or evaluation from here on fails the test."""
    def fail(*a, **k):
        raise AssertionError("trained or evaluated while only reading the cache")
    monkeypatch.setattr(train_module, "train", fail)
    monkeypatch.setattr(results, "_evaluate", fail)


def bits(x) -> bytes:
    return struct.pack("<d", x)


def assert_same_evaluation(a: dict, b: dict):
    """Equal in value, type and (floats) bits; tables with their dtypes; matrices with dtype and shape."""
    assert a["row"].keys() == b["row"].keys()
    for k, v in a["row"].items():
        w = b["row"][k]
        if isinstance(v, (float, np.floating)):
            assert type(w) is float and bits(float(v)) == bits(w), k
        elif isinstance(v, (bool, np.bool_)):
            assert type(w) is bool and w == v, k
        elif isinstance(v, (int, np.integer)):
            assert type(w) is int and w == v, k
        else:
            assert w == v, k
    assert a["matrices"].keys() == b["matrices"].keys()
    for k in a["matrices"]:
        assert a["matrices"][k].dtype == b["matrices"][k].dtype, k
        np.testing.assert_array_equal(a["matrices"][k], b["matrices"][k], err_msg=k)
    pd.testing.assert_frame_equal(a["per_factor"], b["per_factor"], check_exact=True)
    assert a["disintegration"].keys() == b["disintegration"].keys()
    for k in a["disintegration"]:
        pd.testing.assert_frame_equal(a["disintegration"][k], b["disintegration"][k], check_exact=True)
    assert tuple(a["factor_names"]) == b["factor_names"] and a["conventions"] == b["conventions"]


# ------------------------------------------------------------------------------------------------ layout

def test_layout_is_run_dir_then_eval_json_and_npz(cached):
    root, r = cached
    ds = DatasetSpec("dsprites").load()
    assert r.run_dir == run_dir(CFG, "dsprites", root) == run_dir(CFG, ds, root)
    assert r.run_dir == run_dir_for(CFG, ds, root / RUNS) and r.run_dir.parent == root / RUNS
    p = eval_path(r.run_dir, EVAL, CFG.steps)
    assert p.parent == r.run_dir / "eval" and p.suffix == ".json" and p.with_suffix(".npz").exists()
    doc = json.loads(p.read_text())
    assert doc["format"] == 1 and set(doc) == {"format", "row", "conventions", "factor_names", "per_factor",
                                               "disintegration"}
    assert not list(r.run_dir.rglob("*.pkl"))


def test_default_results_dir_is_the_root(monkeypatch, tmp_path):
    monkeypatch.setenv("RTC_RESULTS_DIR", str(tmp_path))
    assert run_dir(CFG, "dsprites").parent == tmp_path.resolve() / RUNS


def test_a_real_evaluation_reads_back_exactly(cached, tmp_path):
    """The in-memory output of the evaluation, written and read back, is the same to the bit and the dtype."""
    _, r = cached
    ds = DatasetSpec("dsprites").load()
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = results._evaluate(r.load_model(), ds, EVAL, None, False)
    finally:
        torch.set_num_threads(n)
    out["row"] = {"run_key": r.run_dir.name, **out["row"], "lambda_d": math.nan, "flag": np.bool_(True),
                  "count": np.int64(7), "third": np.float32(1 / 3)}
    assert out["disintegration"] and len(out["per_factor"]) > 0
    path = tmp_path / "eval" / "x-0.json"
    path.parent.mkdir()
    store.write_evaluation(path, out)
    assert_same_evaluation(out, read_evaluation(path))
    # and what run() returned is what its files hold
    back = read_evaluation(eval_path(r.run_dir, EVAL, CFG.steps))
    assert_same_evaluation({"row": r.row, "matrices": r.matrices, "per_factor": r.per_factor,
                            "disintegration": r.disintegration, "factor_names": r.factor_names,
                            "conventions": r.conventions}, back)


def test_special_floats_and_ints_round_trip(tmp_path):
    tiny = 5e-324  # the smallest subnormal
    row = {"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "nzero": -0.0, "tiny": tiny, "third": 1 / 3,
           "big": 2 ** 62 + 1, "np_int": np.int64(-3), "flag": False, "label": "β-VAE", "none": None}
    table = pd.DataFrame({"factor": ["a", "b"], "value": [math.nan, 0.1 + 0.2], "n": [1, 2], "ok": [True, False],
                          "maybe": pd.Series([None, "x"], dtype=object)})
    out = {"row": row, "matrices": {"m": np.array([[math.nan, -0.0], [math.inf, tiny]]),
                                    "i": np.arange(3, dtype=np.int32)},
           "per_factor": table, "disintegration": {"nmi": table.iloc[:0].reset_index(drop=True)},
           "factor_names": ("a", "b"), "conventions": {"nan": "not a number"}}
    path = tmp_path / "e.json"
    store.write_evaluation(path, out)
    text = path.read_text()
    assert "NaN" in text and "Infinity" in text  # Python's json writes them; its reader takes them back
    back = read_evaluation(path)
    assert_same_evaluation(out, back)
    assert math.isnan(back["row"]["nan"]) and back["row"]["none"] is None and back["per_factor"]["maybe"][0] is None


def test_what_json_cannot_hold_exactly_is_refused_before_writing(tmp_path):
    base = {"row": {}, "matrices": {}, "per_factor": pd.DataFrame({"a": [1]}), "disintegration": {},
            "factor_names": (), "conventions": {}}
    for bad, match in ((dict(row={"when": pd.Timestamp(0)}), "no exact JSON form"),
                       (dict(per_factor=pd.DataFrame({"a": [1, 2]}, index=[5, 6])), "index"),
                       (dict(per_factor=pd.DataFrame({0: [1]})), "column names"),
                       (dict(matrices={"m": np.array([None])}), "not numeric")):
        with pytest.raises((TypeError, ValueError), match=match):
            store.write_evaluation(tmp_path / "bad.json", {**base, **bad})
        assert list(tmp_path.iterdir()) == []


def test_a_truncated_evaluation_is_a_clear_error(cached, tmp_path):
    root, r = cached
    src = eval_path(r.run_dir, EVAL, CFG.steps)
    bad = tmp_path / src.name
    text = src.read_text()
    bad.write_text(text[:len(text) // 2])
    bad.with_suffix(".npz").write_bytes(src.with_suffix(".npz").read_bytes())
    with pytest.raises(CorruptEvaluation, match="delete it") as e:
        read_evaluation(bad)
    assert str(bad) in str(e.value)
    bad.write_text(text)                                       # a complete JSON, its matrices cut short
    data = src.with_suffix(".npz").read_bytes()
    bad.with_suffix(".npz").write_bytes(data[:len(data) // 2])
    with pytest.raises(CorruptEvaluation, match=bad.with_suffix(".npz").name):
        read_evaluation(bad)
    bad.write_text(json.dumps({"format": 99}))
    with pytest.raises(CorruptEvaluation, match="format"):
        read_evaluation(bad)


def test_run_reports_a_corrupt_cached_evaluation(tmp_path):
    cfg = TrainConfig(model="beta_vae", steps=2, batch_size=8, seed=11)
    ev = EvalSettings.preset("ci", metrics=("sap_r2",))
    r = run(cfg, "dsprites", evaluation=ev, results_dir=tmp_path)
    p = eval_path(r.run_dir, ev, cfg.steps)
    p.write_text(p.read_text()[:-5])
    with pytest.raises(CorruptEvaluation, match=str(p)):
        run(cfg, "dsprites", evaluation=ev, results_dir=tmp_path)


# ------------------------------------------------------------------------------------------------ load_results

def test_load_results_reads_the_cache_in_order(cached, no_training):
    root, r = cached
    table, res = load_results([SPEC, SPEC], results_dir=root)
    assert len(table) == 2 and list(table["run_key"]) == [r.run_dir.name] * 2 and (table["status"] == "cached").all()
    assert [x.status for x in res] == ["cached", "cached"]
    assert res[0].config == CFG and res[0].dataset == SPEC.dataset and res[0].run_dir == r.run_dir
    assert_same_evaluation(vars(r), vars(res[0]))
    pd.testing.assert_frame_equal(table.drop(columns="status"), pd.DataFrame([r.row, r.row]))


def test_load_results_names_every_missing_run_and_trains_nothing(cached, no_training):
    root, r = cached
    untrained = RunSpec(TrainConfig(model="beta_vae", strength=4.0, steps=4, batch_size=8, seed=9),
                        DatasetSpec("dsprites"), EVAL)
    unevaluated = RunSpec(CFG, DatasetSpec("dsprites"), EvalSettings.preset("ci", metrics=("sap_r2",), seed=3))
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(NotCached) as e:
        load_results([SPEC, untrained, unevaluated], results_dir=root)
    msg = str(e.value)
    assert isinstance(e.value, LookupError)
    assert [s for s, _ in e.value.missing] == [untrained, unevaluated]
    assert untrained.label in msg and "not trained" in msg
    assert "not evaluated with the 'ci' settings" in msg and msg.count("\n  - ") == 2
    assert "python -m rtc.sweep --profile" in msg and "rtc.sweep.run_grid" in msg
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing written


def test_load_results_needs_runspecs(tmp_path):
    with pytest.raises(TypeError, match=r"runs\[0\]"):
        load_results([CFG], results_dir=tmp_path)


# ------------------------------------------------------------------------------------------------ RunResult loaders

def test_load_model_is_the_trained_model(cached, no_training):
    root, r = cached
    _, (res,) = load_results([SPEC], results_dir=root)
    model = res.load_model(device="cpu")
    final = torch.load(r.run_dir / FINAL, map_location="cpu", weights_only=False)
    assert not model.training
    state = model.state_dict()
    assert state.keys() == final["model"].keys()
    assert all(torch.equal(state[k], final["model"][k]) for k in state)


def test_training_log_and_snapshots_are_the_runs(cached, no_training):
    from rtc.models.runfiles import snapshot_path

    root, r = cached
    _, (res,) = load_results([SPEC], results_dir=root)
    final = torch.load(r.run_dir / FINAL, map_location="cpu", weights_only=False)
    log = res.training_log()
    assert list(log["step"]) == list(range(1, CFG.steps + 1))
    kept = [k for k, v in final["log"].items() if np.isfinite(np.asarray(v, dtype=np.float64)).any()]
    assert list(log.columns) == ["step"] + kept and "disc_loss" not in kept  # a β-VAE has no discriminator
    for k in kept:
        assert log[k].dtype == np.float64
        np.testing.assert_array_equal(log[k], np.asarray(final["log"][k], dtype=np.float64), err_msg=k)
    assert res.snapshots == [2, 4]
    snap = res.load_snapshot(2, device="cpu")
    saved = torch.load(snapshot_path(r.run_dir, 2), map_location="cpu", weights_only=False)["model"]
    assert all(torch.equal(v, saved[k]) for k, v in snap.state_dict().items())
    assert not all(torch.equal(v, final["model"][k]) for k, v in snap.state_dict().items())
    with pytest.raises(FileNotFoundError, match=r"snapshots at steps \[2, 4\]"):
        res.load_snapshot(3)


def test_a_run_whose_weights_are_gone_is_not_cached(cached, tmp_path, no_training):
    import shutil

    root, r = cached
    copy = tmp_path / "results"
    shutil.copytree(root, copy)
    (run_dir(CFG, "dsprites", copy) / FINAL).unlink()
    with pytest.raises(NotCached, match="not trained"):
        load_results([SPEC], results_dir=copy)


def test_a_shorter_budget_of_a_cached_run_is_read_and_evaluated_without_training(cached):
    """One folder per trajectory: the run at 2 steps is the 4-step run's snapshot there — evaluated apart, its log
    cut at step 2, nothing trained."""
    root, r = cached
    short = dataclasses.replace(CFG, steps=2)
    s = run(short, "dsprites", evaluation=EVAL, results_dir=root)
    assert s.status == "evaluated" and s.run_dir == r.run_dir and s.row["steps"] == 2
    assert eval_path(r.run_dir, EVAL, 2) != eval_path(r.run_dir, EVAL, 4) and eval_path(r.run_dir, EVAL, 2).exists()
    assert len(s.training_log()) == 2 and s.snapshots == [2] and r.snapshots == [2, 4]
    np.testing.assert_array_equal(s.training_log()["loss"], r.training_log()["loss"][:2])
    a, b = s.load_model(device="cpu"), r.load_snapshot(2, device="cpu")
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    with pytest.raises(FileNotFoundError, match="snapshots at steps"):
        s.load_snapshot(4)
