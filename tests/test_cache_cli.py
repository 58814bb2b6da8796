"""python -m rtc.cache: a synthetic results cache and data cache with reachable, stale, orphaned, in-use and foreign
entries — each classified as such, listed, and pruned only when asked (never what a profile reaches without --all,
never what is in use)."""
import json
import subprocess
import sys

import pytest

from rtc._io import _host, file_lock
from rtc.cache import main, scan
from rtc.data import load_dataset
from rtc.experiments.grid import grid_runs
from rtc.experiments.results import RUNS
from rtc.experiments.store import eval_path
from rtc.models import TrainConfig, run_dir_for
from rtc.models.runfiles import CONFIG, FINAL, code_version, dataset_identity

GRID = """\
defaults: {steps: 2, batch_size: 8, snapshot_steps: [1]}
eval: {preset: ci}
grids:
  - {name: tiny, models: [beta_vae], strengths: [4], datasets: [dsprites], seeds: [0]}
"""


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def fake_run(run_dir, config, ds, code=None, nbytes=1000):
    run_dir.mkdir(parents=True)
    (run_dir / CONFIG).write_text(json.dumps({"config": config.to_dict(), "data": dataset_identity(ds),
                                              "code": code or code_version(ds)}, default=str))
    (run_dir / FINAL).write_bytes(b"w" * nbytes)
    (run_dir / "lock").touch()
    return run_dir


@pytest.fixture
def caches(tmp_path):
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    (root / "parameters" / "ci").mkdir(parents=True)
    (root / "parameters" / "ci" / "training.yaml").write_text(GRID)
    results, data = tmp_path / "results", tmp_path / "data"
    ds = load_dataset("dsprites")
    spec = grid_runs("ci", root=root)[0]
    dead = dead_pid()
    e = {}
    e["live_run"] = fake_run(run_dir_for(spec.config, ds, results / RUNS), spec.config, ds, nbytes=5000)
    e["live_eval"] = eval_path(e["live_run"], spec.evaluation, spec.config.steps)
    e["live_eval"].parent.mkdir()
    e["live_eval"].write_bytes(b"e" * 100)
    e["live_npz"] = e["live_eval"].with_suffix(".npz")                      # its matrices: part of it
    e["live_npz"].write_bytes(b"m" * 100)
    e["stale_eval"] = e["live_run"] / "eval" / "ci-00000000deadbeef.pkl"   # the old pickle format: never read
    e["stale_eval"].write_bytes(b"e" * 70)
    e["other_eval"] = e["live_run"] / "eval" / "ci-00000000feedface.json"  # other settings or evaluation code
    e["other_eval"].write_bytes(b"e" * 80)
    e["other_npz"] = e["other_eval"].with_suffix(".npz")                   # counted and removed with its JSON
    e["other_npz"].write_bytes(b"m" * 90)
    e["lone_npz"] = e["live_run"] / "eval" / "ci-00000000cafecafe.npz"     # its writer died before the JSON
    e["lone_npz"].write_bytes(b"m" * 60)
    e["orphan"] = e["live_run"] / f".checkpoint.pt.{_host()}-{dead}.0123456789ab.tmp"
    e["orphan"].write_bytes(b"p" * 300)
    e["writing"] = e["live_run"] / f".checkpoint.pt.{_host()}-{__import__('os').getpid()}.0123456789ab.tmp"
    e["writing"].write_bytes(b"p" * 10)
    old_cfg = TrainConfig(model="beta_vae", strength=4.0, steps=2, batch_size=8)
    e["old_code"] = fake_run(results / RUNS / "beta_vae-00000000000000aa", old_cfg, ds, code="0123456789abcdef",
                             nbytes=2000)
    other_cfg = TrainConfig(model="beta_vae", strength=9.0, steps=2, batch_size=8)
    e["no_profile"] = fake_run(run_dir_for(other_cfg, ds, results / RUNS), other_cfg, ds, nbytes=3000)
    e["busy"] = fake_run(results / RUNS / "beta_vae-00000000000000bb", old_cfg, ds, code="0123456789abcdef")
    version = ds.render_version
    data.mkdir()
    e["grid"] = data / f"dsprites-v{version}-seed0.h5"
    e["grid"].write_bytes(b"g" * 4000)
    e["old_grid"] = data / "dsprites-v0-seed0.h5"
    e["old_grid"].write_bytes(b"g" * 6000)
    e["old_render"] = data / f"shapes3d-v1-seed0.h5.tmp{dead}"             # an older rtc's temporary name
    e["old_render"].write_bytes(b"r" * 500)
    e["foreign"] = data / "notes.txt"
    e["foreign"].write_text("mine")
    return root, results, data, e


def statuses(root, results, data):
    return {x.path: x.status for x in scan(root=root, results_dir=results, data_dir=data)}


def test_every_entry_is_classified(caches):
    root, results, data, e = caches
    with file_lock(e["busy"] / "lock"):
        s = statuses(root, results, data)
    assert e["live_eval"] not in s and e["live_npz"] not in s and e["other_npz"] not in s  # part of another entry
    want = {"live_run": "reachable", "stale_eval": "stale", "other_eval": "stale", "lone_npz": "stale",
            "orphan": "orphan", "writing": "in use",
            "old_code": "stale", "no_profile": "stale", "busy": "in use", "grid": "reachable",
            "old_grid": "stale", "old_render": "orphan", "foreign": "other"}
    assert {k: s[e[k]] for k in want} == want
    assert len(s) == len(want)


def test_list_names_reachable_stale_and_orphans_with_sizes(caches, capsys):
    root, results, data, e = caches
    args = ["--root", str(root), "--results-dir", str(results), "--data-dir", str(data)]
    assert main(args + ["list"]) == 0
    out = capsys.readouterr().out
    assert "reachable" in out and "ci: 1 runs" in out
    assert str(e["old_code"]) in out and "trained by other code" in out
    assert str(e["no_profile"]) in out and "no committed profile lists it" in out
    assert str(e["orphan"]) in out and "is gone" in out
    assert "would free" in out


def removed_paths(out: str) -> set:
    return {line.split("  ")[-2 if "(" in line else -1].strip().split()[-1] for line in out.splitlines()
            if line.startswith(("would remove", "removing"))}


def test_prune_removes_only_what_it_is_asked_to(caches, capsys):
    root, results, data, e = caches
    args = ["--root", str(root), "--results-dir", str(results), "--data-dir", str(data), "prune"]
    entries = {x.path: x for x in scan(root=root, results_dir=results, data_dir=data)}
    before = {p for p in results.rglob("*")} | {p for p in data.rglob("*")}
    assert main(args + ["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert ({p for p in results.rglob("*")} | {p for p in data.rglob("*")}) == before   # dry run: nothing goes
    names = ["stale_eval", "other_eval", "lone_npz", "orphan", "old_code", "no_profile", "busy", "old_grid",
             "old_render"]
    assert removed_paths(out) == {str(e[k]) for k in names}
    assert entries[e["other_eval"]].bytes == 80 + 90                        # the evaluation with its matrices
    freed = sum(entries[e[k]].bytes for k in names)
    assert freed > 12_000 and f"would free {freed / 1000:.1f} KB (9 entries)" in out

    with file_lock(e["busy"] / "lock"):                                     # being trained now: never removed
        assert main(args + ["--stale"]) == 0
    out = capsys.readouterr().out
    assert sorted(k for k in e if not e[k].exists()) == ["lone_npz", "no_profile", "old_code", "old_grid",
                                                         "other_eval", "other_npz", "stale_eval"], out
    assert "in use" not in out or str(e["busy"]) not in removed_paths(out)
    assert main(args + ["--orphans"]) == 0
    assert sorted(k for k in e if not e[k].exists()) == ["lone_npz", "no_profile", "old_code", "old_grid",
                                                         "old_render", "orphan", "other_eval", "other_npz",
                                                         "stale_eval"]
    assert e["live_run"].exists() and e["live_eval"].exists() and e["live_npz"].exists() and e["grid"].exists()
    assert e["writing"].exists()
    capsys.readouterr()
    assert main(args + ["--all"]) == 0                                      # --all: the reachable ones too
    assert not e["live_run"].exists() and not e["grid"].exists() and not e["busy"].exists()
    assert e["foreign"].exists()                                            # not rtc's: never
