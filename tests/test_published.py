"""Published tables (rtc.experiments.published) and the probe of each kept step (rtc.experiments.probes): known
answers, the schema's refusals, atomic writes, and the committed tables' schema and code digest."""
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from rtc._io import find_temp_files
from rtc.data import load_dataset
from rtc.experiments.probes import ProbeSettings, factor_accuracy
from rtc.experiments.published import (
    COLUMNS,
    PUBLISHED,
    PublishedTableError,
    git_commit,
    read_table,
    staleness,
    trained_recon_at,
    write_table,
)
from rtc.experiments.store import eval_code_version
from rtc.models import code_version

DS = load_dataset("dsprites")


def rows(n_seeds=2, steps=(10, 20), study="s", cell="c", train=None, evalc=None):
    out = []
    for seed in range(n_seeds):
        for st in steps:
            r = {c: 1.0 for c in COLUMNS}
            r.update(study=study, cell=cell, model="beta_vae", dataset="dsprites", seed=seed, batch_size=8,
                     warmup_steps=0, precision="fp32", step=st, images_seen=8 * st, active_dims=3,
                     commit="abc", train_code=train or code_version(DS), eval_code=evalc or eval_code_version(),
                     tc_mean=0.5 + seed + st / 100, acc_shape=0.4)
            r.pop("written")
            out.append(r)
    return out


# ------------------------------------------------------------------------------------------------ known answers

def test_trained_recon_is_the_mean_of_the_last_tenth():
    log = np.arange(1.0, 101.0)  # the log of step k is k
    assert trained_recon_at(log, 100) == pytest.approx(np.mean(np.arange(91, 101)))
    assert trained_recon_at(log, 10) == 10.0  # one step: round(0.1 · 10) = 1
    assert trained_recon_at(log, 30, share=0.1) == pytest.approx(np.mean([28, 29, 30]))
    assert trained_recon_at(log, 1) == 1.0
    assert math.isnan(trained_recon_at(log, 101))  # the log does not reach the step
    with pytest.raises(ValueError):
        trained_recon_at(log, 10, share=0)


def test_probe_known_answers():
    rng = np.random.default_rng(0)
    f = DS.sample_factors(600, rng)
    one_hot = np.eye(3)[f[:, 0]]  # µ that is the shape: perfectly separable
    acc = factor_accuracy(np.c_[one_hot, rng.normal(size=(600, 2))], f, train=400)
    assert acc[0] == 1.0
    const = factor_accuracy(np.zeros((600, 4)), f, train=400)  # a constant code: the majority share of the test set
    test = f[400:, 0]
    assert const[0] == pytest.approx(np.bincount(test).max() / len(test), abs=0.05)
    assert const[0] < 0.45
    with pytest.raises(ValueError, match="NaN"):
        factor_accuracy(np.full((600, 2), np.nan), f, train=400)
    with pytest.raises(ValueError, match="train"):
        factor_accuracy(one_hot, f, train=600)
    with pytest.raises(ValueError):
        ProbeSettings(train=5)


# ------------------------------------------------------------------------------------------------ the schema

def test_round_trip_sorted_atomic(tmp_path):
    path = tmp_path / "t.csv"
    rs = rows()
    written = write_table(rs[::-1], path)
    back = read_table(path, study="s")
    assert list(back.columns) == list(COLUMNS) + ["acc_shape"]
    assert list(back["step"]) == [10, 20, 10, 20] and list(back["seed"]) == [0, 0, 1, 1]
    np.testing.assert_allclose(back["tc_mean"], written["tc_mean"], rtol=1e-5)
    assert find_temp_files(tmp_path) == []


@pytest.mark.parametrize("mutate, match", [
    (lambda t: t.drop(columns=["tc_mean"]), "missing columns \\['tc_mean'\\]"),
    (lambda t: t.assign(recon=["x"] + [1.0] * (len(t) - 1)), "'recon' holds non-numbers"),
    (lambda t: t.assign(step=[10.5] * len(t)), "'step' must hold whole numbers"),
    (lambda t: t.assign(train_code=["a"] + ["b"] * (len(t) - 1)), "2 different train_code digests"),
    (lambda t: pd.concat([t, t.iloc[:1]]), "duplicate"),
    (lambda t: t.iloc[:0], "no rows"),
])
def test_bad_tables_are_refused(tmp_path, mutate, match):
    path = tmp_path / "t.csv"
    write_table(rows(), path)
    mutate(pd.read_csv(path)).to_csv(path, index=False)
    with pytest.raises(PublishedTableError, match=match):
        read_table(path)


def test_other_study_and_missing_and_garbage(tmp_path):
    path = tmp_path / "t.csv"
    write_table(rows(study="recipes"), path)
    with pytest.raises(PublishedTableError, match="expected only 'long'"):
        read_table(path, study="long")
    with pytest.raises(FileNotFoundError, match="no published table"):
        read_table(tmp_path / "none.csv")
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PublishedTableError):
        read_table(path)


def test_write_refuses_what_read_would(tmp_path):
    bad = rows()
    bad[0]["eval_code"] = "0123"
    with pytest.raises(PublishedTableError, match="eval_code"):
        write_table(bad, tmp_path / "t.csv")
    assert not (tmp_path / "t.csv").exists() and find_temp_files(tmp_path) == []


def test_staleness_names_both_digests(tmp_path):
    path = tmp_path / "t.csv"
    write_table(rows(), path)
    now = staleness(read_table(path), DS)
    assert now["current"] and "today's code" in now["text"]
    write_table(rows(train="0" * 16), path)
    old = staleness(read_table(path), DS)
    assert not old["current"] and "OLDER" in old["text"] and "0" * 16 in old["text"]
    assert old["today_train"] == code_version(DS)


# ------------------------------------------------------------------------------------------------ committed tables

def test_committed_tables_have_the_schema_and_say_whether_they_are_current(repo_root):
    """Every published table of the repository reads back under the schema; a table computed by older code than
    today's is reported (a warning in the test report; the book says it beside the numbers)."""
    tables = sorted((repo_root / PUBLISHED).glob("*.csv"))
    assert tables, f"no published table under {repo_root / PUBLISHED}"
    for path in tables:
        t = read_table(path, study=path.stem)
        assert {"acc_shape"} <= set(t.columns)
        s = staleness(t, DS)
        if not s["current"]:
            warnings.warn(f"{path.name}: {s['text']}", stacklevel=1)


def test_commit_is_dirty_for_code_but_not_for_a_rewritten_table(tmp_path):
    """A study rewrites its own table after every budget: that must not mark the next table's commit dirty."""
    import subprocess

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    for d in ("parameters", "book", "published", "rtc"):
        (tmp_path / d).mkdir()
    (tmp_path / "published" / "long.csv").write_text("a\n1\n")
    (tmp_path / "rtc" / "model.py").write_text("x = 1\n")
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "t")
    head = git_commit(tmp_path)
    assert len(head) == 40 and not head.endswith("+dirty")
    (tmp_path / "published" / "long.csv").write_text("a\n2\n")  # the study's own output
    assert git_commit(tmp_path) == head
    (tmp_path / "rtc" / "model.py").write_text("x = 2\n")       # code: what computed the table changed
    assert git_commit(tmp_path) == head + "+dirty"
