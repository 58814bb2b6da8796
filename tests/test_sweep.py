"""rtc.sweep: grids on a local Ray (loopback only), a loopback `ray start` cluster, failures, killed workers,
the training.yaml schema and the dry run."""
import contextlib
import dataclasses
import ipaddress
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import rtc.sweep as sweep
from rtc.experiments import DatasetSpec, EvalSettings, eval_path, load_results, run
from rtc.experiments.curves import POINT_COLUMNS, curve_path, write_point
from rtc.experiments.grid import (
    EVAL_SECONDS,
    GridError,
    dry_run,
    estimate_seconds,
    grid_key,
    grid_runs,
    load_grid,
    validate_grid,
)
from rtc.experiments.results import curve_settings
from rtc.experiments.specs import RunSpec
from rtc.experiments.store import write_evaluation
from rtc.models import TrainConfig, run_dir_for
from rtc.models.runfiles import CHECKPOINT, FINAL
from rtc.sweep import SweepError, run_grid

EVAL = EvalSettings.preset("ci", metrics=("sap_r2",))


def tiny(seed=0, steps=3, **kw) -> RunSpec:
    return RunSpec(TrainConfig(model="beta_vae", steps=steps, batch_size=8, seed=seed, **kw), DatasetSpec("dsprites"),
                   EVAL)


# ------------------------------------------------------------------------------------------------ helpers

def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(p.name))
    out, todo = set(), [root]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def _addr(hexaddr: str):
    ip_hex, port = hexaddr.split(":")
    raw = bytes.fromhex(ip_hex)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # /proc/net stores 32-bit words host-order
    return ipaddress.ip_address(raw), int(port, 16)


def listening_sockets(pids: set[int]) -> list[tuple[int, str, int]]:
    """(pid, address, port) of every listening TCP socket and bound UDP socket of ``pids`` (from /proc)."""
    inode_pid = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inode_pid[target[8:-1]] = pid
    out = []
    for name, listening in (("tcp", "0A"), ("tcp6", "0A"), ("udp", None), ("udp6", None)):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]:
                f = line.split()
                if (listening is None or f[3] == listening) and f[9] in inode_pid:
                    ip, port = _addr(f[1])
                    out.append((inode_pid[f[9]], str(ip), port))
    return out


def _is_loopback(ip: str) -> bool:
    a = ipaddress.ip_address(ip)
    return a.is_loopback or (a.version == 6 and a.ipv4_mapped is not None and a.ipv4_mapped.is_loopback)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------------ local Ray

@pytest.fixture(scope="module")
def local_ray():
    """One embedded local Ray for the module (its start-up costs seconds); shut down at the end."""
    started = sweep.init_ray(num_cpus=2)
    import ray
    yield ray
    if started:
        ray.shutdown()


def test_usage_stats_are_disabled_when_the_library_starts_ray(local_ray):
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"
    assert os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "0"


def test_local_ray_listens_on_loopback_only(local_ray):
    assert local_ray.util.get_node_ip_address() == "127.0.0.1"
    socks = listening_sockets(_descendants(os.getpid()) | {os.getpid()})
    assert socks, "found no socket of the local Ray processes"
    assert [s for s in socks if not _is_loopback(s[1])] == []


def test_two_run_grid_then_all_cached(local_ray, tmp_path, monkeypatch):
    progress = tmp_path / "progress.txt"  # what the book runner would print (rtc.progress)
    monkeypatch.setenv("RTC_PROGRESS", str(progress))
    runs = [tiny(0), tiny(1)]
    t, res = run_grid(runs, results_dir=tmp_path, progress=False)
    assert list(t["status"]) == ["trained", "trained"] and list(t["seed"]) == [0, 1]
    assert [r.status for r in res] == ["trained", "trained"] and [r.config for r in res] == [s.config for s in runs]
    assert t["recon"].notna().all() and (t["eval"] == "ci").all()
    lines = progress.read_text().splitlines()
    assert lines[0].startswith("grid 0/2 runs (0 cached, 0 failed); running: beta_vae(") and "ETA" in lines[0]
    assert lines[-1] == "grid done: 2 runs (2 computed, 0 cached, 0 failed)"
    again, res_again = run_grid(runs, results_dir=tmp_path, progress=False)
    assert list(again["status"]) == ["cached", "cached"]
    assert list(again["run_key"]) == list(t["run_key"])
    assert progress.read_text().splitlines()[-1] == "grid done: 2 runs (0 computed, 2 cached, 0 failed)"
    # what the grid returned is what the cache gives back, with no run() in between
    table, loaded = load_results(runs, results_dir=tmp_path)
    for got in ((t, res), (again, res_again)):
        pd.testing.assert_frame_equal(got[0].drop(columns="status"), table.drop(columns="status"), check_exact=True)
        for a, b in zip(got[1], loaded, strict=True):
            assert (a.run_dir, a.config, a.dataset, a.factor_names, a.conventions) == (
                b.run_dir, b.config, b.dataset, b.factor_names, b.conventions)
            assert a.row.keys() == b.row.keys() and all(a.row[k] == b.row[k] or (a.row[k] != a.row[k] and
                                                                                  b.row[k] != b.row[k]) for k in a.row)
            for k in a.matrices:
                np.testing.assert_array_equal(a.matrices[k], b.matrices[k])
            pd.testing.assert_frame_equal(a.per_factor, b.per_factor, check_exact=True)


def test_failing_run_is_reported_and_the_others_finish(local_ray, tmp_path):
    bad = RunSpec(TrainConfig(model="beta_vae", steps=3, batch_size=8),
                  DatasetSpec("dsprites", path=str(tmp_path / "missing.npz")), EVAL)
    good = tiny(2)
    with pytest.raises(SweepError) as e:
        run_grid([bad, good], results_dir=tmp_path, progress=False)
    assert len(e.value.failures) == 1 and e.value.failures[0][0] == bad
    assert "missing.npz" in e.value.failures[0][1]
    assert "1 of 2 runs failed" in str(e.value) and bad.label in str(e.value)
    assert list(e.value.table["seed"]) == [2] and list(e.value.table["status"]) == ["trained"]
    assert [r.config.seed for r in e.value.results] == [2]
    t, res = run_grid([bad, good], results_dir=tmp_path, progress=False, raise_on_failure=False)
    assert list(t["status"]) == ["failed", "cached"] and "missing.npz" in t["error"].iloc[0]
    assert res[0] is None and res[1].status == "cached"


@pytest.mark.parametrize("spec_gpus, override", [(0.0, 0.25), (0.5, None)])
def test_gpu_request_without_a_gpu_is_an_error_not_a_hang(local_ray, tmp_path, spec_gpus, override):
    """A run's GPUs come from its RunSpec (the profile), or from gpus_per_run for every run when given."""
    if local_ray.cluster_resources().get("GPU", 0):
        pytest.skip("this machine has a GPU")
    spec = dataclasses.replace(tiny(9), gpus=spec_gpus)
    with pytest.raises(RuntimeError, match="no GPU"):
        run_grid([spec], results_dir=tmp_path, gpus_per_run=override, progress=False)
    run_grid([dataclasses.replace(tiny(9), gpus=0.5)], results_dir=tmp_path, gpus_per_run=0, progress=False)


def test_killed_worker_resumes_bit_identical(local_ray, tmp_path):
    """SIGKILL the worker process while it trains; Ray retries the task, which resumes from the checkpoint and
    ends with the weights and the evaluation of an uninterrupted run (CPU, one thread each)."""
    spec = tiny(5, steps=40, checkpoint_every=4)
    ds = spec.dataset.load()
    run_dir = run_dir_for(spec.config, ds, tmp_path / "killed" / "runs")
    out = {}
    th = threading.Thread(target=lambda: out.setdefault(
        "t", run_grid([spec], results_dir=tmp_path / "killed", progress=False, max_retries=2)[0]))
    th.start()
    killed, deadline = None, time.monotonic() + 240
    while killed is None and time.monotonic() < deadline and th.is_alive():
        if (run_dir / CHECKPOINT).exists() and not (run_dir / FINAL).exists():
            workers = [p for p in _descendants(os.getpid()) if _cmdline(p).startswith("ray::_task")]
            if workers:
                killed = workers[0]
                os.kill(killed, signal.SIGKILL)
                break
        time.sleep(0.05)
    th.join(timeout=300)
    assert killed is not None, "never saw the task mid-training with a checkpoint"
    assert not th.is_alive() and "t" in out
    assert list(out["t"]["status"]) == ["trained"]

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ref = run(spec.config, spec.dataset, evaluation=spec.evaluation, results_dir=tmp_path / "plain")
    finally:
        torch.set_num_threads(n)
    a = torch.load(run_dir / FINAL, weights_only=False)
    b = torch.load(ref.run_dir / FINAL, weights_only=False)
    assert a["model"].keys() == b["model"].keys()
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["log"].keys() == b["log"].keys()
    for k in a["log"]:  # every logged term of every step (NaN where a model has no such term)
        np.testing.assert_array_equal(np.asarray(a["log"][k]), np.asarray(b["log"][k]), err_msg=k)
    row = out["t"].iloc[0].to_dict()
    for k, v in ref.row.items():
        if k in ("train_seconds", "eval_seconds"):
            continue
        assert (row[k] == v) or (v != v and row[k] != row[k]), k


# ------------------------------------------------------------------------------------------------ a cluster

def test_grid_on_a_loopback_ray_cluster(tmp_path):
    """`ray start --head` bound to 127.0.0.1 (token authentication on), a driver in a subprocess joins it by
    address and runs a 2-run grid; the cluster is stopped by signalling its own `ray start --block` process."""
    base = Path(tempfile.mkdtemp(prefix="rtcray", dir="/tmp"))  # short: Ray's unix socket paths have a length limit
    token = base / "token"
    token.write_text(secrets.token_hex(32))
    port = _free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "OMP_NUM_THREADS": "1"}
    ray_bin = Path(sys.executable).with_name("ray")
    head = subprocess.Popen([str(ray_bin), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
                             f"--port={port}", "--disable-usage-stats", "--include-dashboard=false", "--num-cpus=2",
                             f"--temp-dir={base / 'r'}"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    results = tmp_path / "shared"
    script = (
        "import json, sys\n"
        "from rtc.sweep import run_grid\n"
        "from rtc.experiments.specs import RunSpec\n"
        "from rtc.experiments import EvalSettings, DatasetSpec\n"
        "from rtc.models import TrainConfig\n"
        "ev = EvalSettings.preset('ci', metrics=('sap_r2',))\n"
        "runs = [RunSpec(TrainConfig(model='beta_vae', steps=3, batch_size=8, seed=s), DatasetSpec('dsprites'), ev)"
        " for s in (0, 1)]\n"
        f"t, _ = run_grid(runs, address='127.0.0.1:{port}', results_dir={str(results)!r}, progress=False)\n"
        "print('TABLE' + t[['status', 'seed', 'recon']].to_json(orient='records'))\n")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait for the GCS port
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert head.poll() is None, "ray start exited"
            time.sleep(0.5)
        else:
            pytest.fail("the head node did not open its port within 120 s")
        drv = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
        assert drv.returncode == 0, drv.stderr[-3000:]
        ours = {p for p in _descendants(head.pid)} | {head.pid}
        socks = listening_sockets(ours)
        assert socks and [s for s in socks if not _is_loopback(s[1])] == []
        table = json.loads(drv.stdout.split("TABLE", 1)[1])
        assert [r["status"] for r in table] == ["trained", "trained"] and [r["seed"] for r in table] == [0, 1]
        assert len(list((results / "runs").iterdir())) == 2
    finally:
        # stop only what this test started: its `ray start --block` shuts its node down on SIGTERM
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and str(base) in _cmdline(int(p.name))]
        for p in left:  # belt and braces: anything still running with our temp dir in its command line
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(p.name), signal.SIGKILL)
        assert left == [], f"processes of the test cluster outlived `ray start`: {[p.name for p in left]}"


def test_cluster_address_needs_shared_results(monkeypatch):
    monkeypatch.delenv("RTC_RESULTS_DIR", raising=False)
    with pytest.raises(ValueError, match="RTC_RESULTS_DIR"):
        run_grid([tiny()], address="127.0.0.1:1", progress=False)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(cpus_per_run=0), ValueError, "cpus_per_run"),
    (dict(gpus_per_run=-1), ValueError, "gpus_per_run"),
    (dict(max_retries=-1), ValueError, "max_retries"),
])
def test_run_grid_argument_errors(tmp_path, kw, exc, match):
    with pytest.raises(exc, match=match):
        run_grid([tiny()], results_dir=tmp_path, progress=False, **kw)


def test_run_grid_needs_runspecs(tmp_path):
    with pytest.raises(TypeError, match=r"runs\[0\]"):
        run_grid([TrainConfig()], results_dir=tmp_path)


# ------------------------------------------------------------------------------------------------ training.yaml

GOOD = {"defaults": {"batch_size": 16, "steps": 30, "adam_betas": [0.9, 0.99], "eta_cap": None,
                     "snapshot_steps": [15, 30]},
        "eval": {"preset": "ci", "num_tc": 400},
        "grids": [{"name": "a", "models": ["factor_vae", "rtc_vae"], "strengths": [2, 10.0], "datasets": ["dsprites"],
                   "seeds": [0, 1]},
                  {"name": "b", "models": ["rtc_vae"], "strengths": [10], "datasets": ["dsprites"], "seeds": [0],
                   "overrides": {"steps": 60, "snapshot_steps": [15, 30]}}]}


def test_valid_grid_expands_to_the_product():
    g = validate_grid(GOOD)
    assert g["eval"].name == "ci" and g["eval"].num_tc == 400
    runs = grid_runs(g)
    assert len(runs) == 2 * 2 * 1 * 2 + 1
    assert {(r.config.model, r.config.strength, r.config.seed) for r in runs[:8]} == {
        (m, s, seed) for m in ("factor_vae", "rtc_vae") for s in (2.0, 10.0) for seed in (0, 1)}
    assert runs[0].config.adam_betas == (0.9, 0.99) and runs[-1].config.steps == 60
    assert [r.config.model for r in grid_runs(g, "b")] == ["rtc_vae"]


def test_a_run_in_two_grids_appears_once():
    doc = {**GOOD, "grids": [GOOD["grids"][0], {**GOOD["grids"][0], "name": "again"}]}
    assert len(grid_runs(validate_grid(doc))) == 8


def _with(path, value):
    doc = json.loads(json.dumps(GOOD))
    d = doc
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value
    return doc


@pytest.mark.parametrize("doc, match", [
    ({**GOOD, "extra": 1}, "unknown top-level key 'extra'"),
    (_with(["defaults", "stepz"], 3), "defaults: unknown key 'stepz'"),
    (_with(["defaults", "steps"], "30"), "x.yaml: defaults: 'steps' must be an integer"),
    (_with(["defaults", "steps"], True), "'steps' must be an integer"),
    (_with(["defaults", "lr"], "1e-3"), "'lr' must be a number"),
    (_with(["defaults", "eta_cap"], "big"), "'eta_cap' must be a number or None"),
    (_with(["defaults"], [1]), "defaults: expected a mapping"),
    (_with(["defaults", "adam_betas"], [0.9]), "adam_betas"),
    (_with(["defaults", "model"], "beta_vae"), "defaults: unknown key 'model'"),
    (_with(["eval", "preset"], "quick"), "eval.preset"),
    (_with(["eval", "num_tc"], 1.5), "x.yaml: eval: 'num_tc' must be an integer"),
    (_with(["eval", "num_tc"], 100), "x.yaml: eval: .*num_tc=100 is too small"),
    (_with(["eval", "bogus"], 1), "x.yaml: eval: unknown key 'bogus'"),
    (_with(["eval", "dci_estimator"], "svm"), "dci_estimator"),
    (_with(["resources"], {"cpus_per_run": 0}), "x.yaml: resources: cpus_per_run must be > 0"),
    (_with(["resources"], {"gpus_per_run": -0.5}), "x.yaml: resources: gpus_per_run must be ≥ 0"),
    (_with(["resources"], {"gpus_per_run": 1.5}), "gpus_per_run above 1 must be a whole number"),
    (_with(["resources"], {"gpus_per_run": "all"}), "'gpus_per_run' must be a number"),
    (_with(["resources"], {"gpus": 1}), "x.yaml: resources: unknown key 'gpus'"),
    (_with(["grids", 0, "models"], ["vae"]), "models \\['vae'\\]"),
    (_with(["grids", 0, "datasets"], ["mnist"]), "datasets"),
    (_with(["grids", 0, "seeds"], [-1]), "seeds"),
    (_with(["grids", 0, "strengths"], []), "non-empty"),
    (_with(["grids", 0, "strengths"], ["2"]), "strengths"),
    (_with(["grids", 1, "name"], "a"), "duplicate grid name"),
    (_with(["grids", 1, "overrides"], {"seed": 3}), r"x.yaml: grids\[1\] \(b\): overrides: unknown key 'seed'"),
    (_with(["grids", 1, "overrides"], {"steps": 1.5}), r"grids\[1\] \(b\): overrides: 'steps' must be an integer"),
    (_with(["grids", 0, "shape"], 1), "unknown key 'shape'"),
    ({k: v for k, v in GOOD.items() if k != "grids"}, "missing 'grids'"),
    (_with(["defaults", "snapshot_steps"], [10, 30]), r"grid 'a': snapshot_steps must include steps/2 = 15"),
    (_with(["grids", 1, "overrides"], {"steps": 80}), r"grid 'b': snapshot_steps must include steps/2 = 40"),
])
def test_schema_errors_name_the_key(doc, match):
    with pytest.raises(GridError, match=match):
        validate_grid(doc, "x.yaml")


def test_resources_reach_every_run():
    runs = grid_runs(validate_grid(GOOD))
    assert {(r.cpus, r.gpus) for r in runs} == {(1.0, 0.0)}  # defaults: one CPU, no GPU
    doc = {**GOOD, "resources": {"cpus_per_run": 2, "gpus_per_run": 0.25}}
    runs = grid_runs(validate_grid(doc))
    assert {(r.cpus, r.gpus) for r in runs} == {(2.0, 0.25)} and isinstance(runs[0].cpus, float)
    with pytest.raises(ValueError, match="RunSpec.cpus"):
        RunSpec(runs[0].config, runs[0].dataset, runs[0].evaluation, cpus=0)


def test_grid_key_is_the_resolved_grid():
    """Equal for the same settings written differently, different when a run's settings change."""
    base = grid_key(validate_grid(GOOD))
    reordered = {"grids": GOOD["grids"], "eval": GOOD["eval"], "defaults": dict(reversed(GOOD["defaults"].items()))}
    assert grid_key(validate_grid(reordered)) == base
    assert grid_key(validate_grid(_with(["defaults", "steps"], 31))) != base
    assert grid_key(validate_grid(_with(["eval", "num_tc"], 500))) != base
    assert grid_key(validate_grid(_with(["grids", 1, "overrides", "steps"], 61))) != base


def test_unknown_grid_name():
    with pytest.raises(GridError, match="unknown grids"):
        grid_runs(validate_grid(GOOD), ["c"])


@pytest.mark.parametrize("profile", ["ci", "default", "paper"])
def test_profile_files_validate(profile, repo_root):
    runs = grid_runs(profile, root=repo_root)
    assert runs
    if profile == "ci":
        # every model family of the training chapters (the compared pairs on two seeds), tiny: ci stays within minutes
        assert 2 <= len(runs) <= 12 and all(r.config.steps <= 100 for r in runs)


def test_paper_profile_is_table_1(repo_root):
    g = load_grid("paper", root=repo_root)
    runs = grid_runs(g)
    assert all(r.config.batch_size == 500 and r.config.lr == 1e-3 for r in runs)
    assert all((r.config.disc_hidden, r.config.disc_layers) == (1000, 6) for r in runs)
    assert g["eval"].num_tc == 5000
    assert {(r.cpus, r.gpus) for r in runs} == {(1.0, 0.25)}  # four runs share a GPU
    by = lambda m: {r.config.strength for r in runs if r.config.model == m}  # noqa: E731
    assert by("factor_vae") == by("rtc_vae") == {2.0, 6.0, 10.0, 20.0, 50.0}
    assert by("dip_vae_i") == by("dip_vae_ii") == {2.0, 5.0, 10.0, 20.0, 50.0}
    assert {r.dataset.name for r in runs} == {"dsprites", "shapes3d", "cars3d"}
    assert {"beta_vae", "revised_beta_vae"} <= {r.config.model for r in runs}
    dip1 = next(r for r in runs if r.config.model == "dip_vae_i" and r.config.strength == 5)
    assert dip1.config.objective().lambda_d == 50.0  # Table 1: λ_d = 10 λ_od


def test_dry_run_lists_runs_cached_and_cost(tmp_path, capsys, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    assert sweep.main(["--profile", "ci", "--dry-run", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "10 runs, 0 cached, 10 to compute" in out and "factor_vae" in out
    runs = grid_runs("ci", root=repo_root)
    t = dry_run(runs, results_dir=tmp_path)
    assert (t["est_seconds"] > 0).all() and not t["cached"].any()
    # a run whose evaluation is in the cache is listed as cached, at no cost
    spec = runs[0]
    d = run_dir_for(spec.config, spec.dataset.load(), tmp_path / "runs")
    p = eval_path(d, spec.evaluation, spec.config.steps)
    p.parent.mkdir(parents=True)
    kept = list(spec.config.kept_steps())
    torch.save({"format": 2, "step": spec.config.steps, "snapshots": kept}, d / FINAL)
    write_evaluation(p, {"row": {"x": 1}, "matrices": {}, "per_factor": pd.DataFrame({"a": [1]}),
                          "disintegration": {}, "factor_names": (), "conventions": {}})
    cs = curve_settings(spec.evaluation)
    for step in kept[:-1]:  # every point of its curve but the last: not complete, so not cached
        write_point(curve_path(d, cs, step), dict.fromkeys(POINT_COLUMNS, 0.0))
    assert not dry_run(runs, results_dir=tmp_path)["cached"].any()
    write_point(curve_path(d, cs, kept[-1]), dict.fromkeys(POINT_COLUMNS, 0.0))
    t = dry_run(runs, results_dir=tmp_path)
    assert list(t["cached"]) == [True] + [False] * (len(runs) - 1) and t["est_seconds"].iloc[0] == 0


def test_estimate_scales_with_steps_batch_and_discriminator():
    a = tiny(steps=1000)
    b = dataclasses.replace(a, config=dataclasses.replace(a.config, steps=2000))
    fa = RunSpec(TrainConfig(model="factor_vae", steps=1000, batch_size=8), DatasetSpec("dsprites"), EVAL)
    e = EVAL_SECONDS["ci"]
    assert estimate_seconds(b) - e == pytest.approx(2 * (estimate_seconds(a) - e))
    assert estimate_seconds(fa) > estimate_seconds(a)


def test_grid_eta_is_calibrated_by_the_runs_that_finished(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(sweep.time, "monotonic", lambda: now[0])
    eta = sweep.GridETA(slots=2)
    counts = {"done": 0, "cached": 1, "failed": 0}
    line = eta.line(5, counts, ["a", "b"], [100.0, 100.0, 100.0, 100.0])
    assert "grid 1/5 runs" in line and "running: a, b" in line and "ETA ≈ 3 min" in line and "not yet" in line
    now[0] += 240.0                     # two runs estimated at 100 s each, side by side on 2 slots (100 s of
    eta.finished(100.0)                 # wall time), took 240 s: this machine is 2.4× slower than the cost model
    eta.finished(100.0)
    counts["done"] = 2
    line = eta.line(5, counts, ["c"], [100.0, 100.0])
    assert "grid 3/5 runs" in line and "4.0 min elapsed" in line and "ETA ≈ 4 min" in line  # 200 s / 2 × 2.4
