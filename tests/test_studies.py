"""rtc.studies: the study files' schema, and a tiny study run end to end as `make long` runs it — published after
every budget, killed and resumed to the table of an uninterrupted run, a second call waiting for the first."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from rtc._io import file_lock, find_temp_files
from rtc.experiments.grid import GridError
from rtc.experiments.published import read_table
from rtc.params import profiles
from rtc.studies import load_study, stage_runs

TINY = {
    "defaults": {"batch_size": 8, "steps": 50, "checkpoint_every": 5, "snapshot_steps": [25, 50, 100]},
    "eval": {"preset": "ci", "name": "study", "metrics": ["sap_r2"], "curve_images": 50},
    "grids": [{"name": "a", "models": ["beta_vae"], "strengths": [4], "datasets": ["dsprites"], "seeds": [0, 1]}],
    "study": {"probe": {"train": 60, "test": 40}, "phases": [{"grids": ["a"], "images": [400, 800]}]},
}
SKIP = ["train_seconds", "written", "commit"]  # what differs between two runs of one study by design


def make_root(path: Path, doc=None) -> Path:
    (path / "book").mkdir(parents=True)
    (path / "parameters" / "studies").mkdir(parents=True)
    (path / "parameters" / "studies" / "tiny.yaml").write_text(yaml.safe_dump(doc or TINY))
    return path


def cli(root: Path, *args, **kw) -> subprocess.Popen:
    env = {**os.environ, "RTC_RESULTS_DIR": str(root / "results"), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "rtc.studies", "tiny", *args], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw)


def finish(p: subprocess.Popen, timeout=600) -> str:
    out, _ = p.communicate(timeout=timeout)
    assert p.returncode == 0, out[-3000:]
    return out


# ------------------------------------------------------------------------------------------------ the schema

def test_the_committed_studies_load_and_are_not_profiles(repo_root):
    for name in ("recipes", "long", "long_gpu"):
        s = load_study(name, root=repo_root)
        assert s.table_path == repo_root / "published" / f"{name}.csv"
    assert load_study("long_gpu", root=repo_root).grid["resources"].gpus_per_run > 0
    assert "studies" not in profiles(repo_root)
    long = load_study("long", root=repo_root)
    first = long.phases[0]
    assert first.grids == ("factor_vae_10", "rtc_vae_10") and first.images[0] == 48000
    runs = stage_runs(long, first, 96000)
    assert {r.config.steps * r.config.batch_size for r in runs} == {96000}
    assert sorted({r.config.seed for r in runs}) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("change, match", [
    (lambda d: d["study"]["phases"][0].update(images=[404]), "whole number of steps"),
    (lambda d: d["study"]["phases"][0].update(images=[400 + 8 * 5]), "listed in its snapshot_steps"),
    (lambda d: d["study"]["phases"][0].update(images=[800, 400]), "increasing"),
    (lambda d: d["study"]["phases"][0].update(grids=["b"]), "one of the file's grids"),
    (lambda d: d["study"].update(other=1), "phases and/or probe"),
    (lambda d: d["study"].update(probe={"train": 2}), "train"),
    (lambda d: d["study"].update(phases=[]), "study.phases"),
])
def test_bad_study_files_name_the_problem(tmp_path, change, match):
    doc = yaml.safe_load(yaml.safe_dump(TINY))
    change(doc)
    root = make_root(tmp_path, doc)
    with pytest.raises(GridError, match=match):
        load_study("tiny", root=root)
    with pytest.raises(FileNotFoundError, match="no study 'other'"):
        load_study("other", root=root)


# ------------------------------------------------------------------------------------------------ end to end

@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    root = make_root(tmp_path_factory.mktemp("plain"))
    out = finish(cli(root))
    return root, out


def test_a_study_runs_and_publishes(uninterrupted):
    root, out = uninterrupted
    t = read_table(root / "published" / "tiny.csv", study="tiny")
    assert sorted(set(t["images_seen"])) == [200, 400, 800]  # the kept steps 25, 50, 100 at batch 8
    assert len(t) == 2 * 3 and set(t["seed"]) == {0, 1}
    assert t["acc_shape"].between(0, 1).all() and (t["trained_recon"] > 0).all()
    assert "phase 1/1 (a), 400 images per run" in out and "800 images per run" in out
    assert find_temp_files(root, recursive=True) == []


def test_killed_study_resumes_to_the_uninterrupted_table(uninterrupted, tmp_path):
    """SIGKILL the whole study (driver and Ray) once its first budget is published; the table left is consistent
    (every run at the first budget); the next call goes on and ends with the uninterrupted run's table, value for
    value, and no temporary file anywhere."""
    plain = read_table(uninterrupted[0] / "published" / "tiny.csv")
    root = make_root(tmp_path)
    table = root / "published" / "tiny.csv"
    p = cli(root)
    deadline = time.monotonic() + 600
    while not table.exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert p.poll() is None, "the study ended before it could be killed: " + p.communicate()[0][-2000:]
    os.killpg(p.pid, signal.SIGKILL)
    p.communicate()
    left = read_table(table)
    assert set(left["images_seen"]) <= {200, 400} and len(left) == 4  # the first budget, both runs, whole
    finish(cli(root))
    resumed = read_table(table)
    assert list(resumed.columns) == list(plain.columns)
    keep = [c for c in plain.columns if c not in SKIP]
    assert resumed[keep].equals(plain[keep])
    assert find_temp_files(root, recursive=True) == []


def test_a_second_call_waits_for_the_first(uninterrupted):
    root, _ = uninterrupted
    lock = root / "results" / "study-tiny.lock"
    with file_lock(lock):  # this test holds the study, as a running `make long` would
        p = cli(root)
        line, deadline = "", time.monotonic() + 120
        while "waiting" not in line and time.monotonic() < deadline:
            line = p.stdout.readline()
        assert "is running in process" in line and str(os.getpid()) in line, line
        time.sleep(1.0)
        assert p.poll() is None  # still waiting
    out = finish(p)  # released: it goes on (everything is cached) and publishes the same table
    assert "published" in out


def test_dry_run_and_publish_only(uninterrupted):
    root, _ = uninterrupted
    out = finish(cli(root, "--dry-run"))
    assert "phase 1 (a), 800 images: 2 runs, 2 evaluated, 0 to train or extend" in out
    out = finish(cli(root, "--publish-only"))
    assert "published" in out and textwrap.dedent(out).count("\n") > 2


def test_publishing_keeps_what_the_cache_holds_less_far(uninterrupted, tmp_path):
    """A fresh clone (the committed table, an empty cache): publishing drops nothing the table holds; training to
    a lower budget keeps the published runs' further rows; a run the study no longer defines, or one computed by
    other code, is left out and named; an unreadable table stops the publication and stays as it was."""
    plain = read_table(uninterrupted[0] / "published" / "tiny.csv")
    keep = [c for c in plain.columns if c not in SKIP]
    root = make_root(tmp_path)
    table = root / "published" / "tiny.csv"
    table.parent.mkdir()
    table.write_bytes((uninterrupted[0] / "published" / "tiny.csv").read_bytes())
    out = finish(cli(root, "--publish-only"))  # nothing cached: the committed table stays whole
    assert "published" in out and read_table(table)[keep].equals(plain[keep])
    finish(cli(root, "--until-images", "400"))  # the cache reaches 400 images; the table holds 800
    assert read_table(table)[keep].equals(plain[keep])
    assert (root / "results").exists()

    doc = yaml.safe_load(yaml.safe_dump(TINY))
    doc["grids"][0]["seeds"] = [0]  # seed 1 is no longer a run of the study
    (root / "parameters" / "studies" / "tiny.yaml").write_text(yaml.safe_dump(doc))
    out = finish(cli(root, "--publish-only"))
    assert "left out of tiny.csv: beta_vae 4 seed 1 lr 0.001 batch 8 (800 images): not a run of the study" in out
    t = read_table(table)
    assert set(t["seed"]) == {0} and int(t["images_seen"].max()) == 800

    other = read_table(table).assign(train_code="0" * 16)
    other.to_csv(table, index=False)
    out = finish(cli(root, "--publish-only"))
    assert "computed by other code" in out
    assert int(read_table(table)["images_seen"].max()) == 400  # the cache's run, at its own budget

    table.write_text("study,cell\nnot,a table\n")
    p = cli(root, "--publish-only")
    out, _ = p.communicate(timeout=600)
    assert p.returncode == 1 and "missing columns" in out and "the table was left as it was" in out
    assert table.read_text() == "study,cell\nnot,a table\n"
