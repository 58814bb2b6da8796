"""Killed writers leave no litter: SIGKILL a real process in the middle of each of the library's writes
(checkpoint, final weights, evaluation, rendered dataset, executed notebook), run it again, and find the result
bit-identical to an uninterrupted run's and no temporary file left anywhere (issue: killed processes).

The kill comes from ``tests/fault_injection.py``: the process kills itself (SIGKILL) just before renaming the
written temporary file onto its target, after cutting it to half its size — what a kill mid-write leaves."""
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from rtc._io import find_temp_files

TESTS = Path(__file__).resolve().parent


def run_script(body: str, kill: str | None = None, nth: int = 1, env: dict | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess:
    prelude = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        import torch
        torch.set_num_threads(1)
        from fault_injection import kill_at_rename
        if {kill!r} is not None:
            kill_at_rename({kill!r}, {nth})
    """)
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(body)], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1", **(env or {})), cwd=cwd, timeout=600)


def killed(proc: subprocess.CompletedProcess) -> bool:
    return proc.returncode == -signal.SIGKILL


def temps(folder: Path) -> list[Path]:
    return [t.path for t in find_temp_files(folder, recursive=True)]


TRAIN = """
    from rtc.models.train import train
    from train_toys import ToySquares, small
    train(small("factor_vae", steps=8, checkpoint_every=2, snapshot_steps=(4,)), ToySquares(), cache_dir={cache!r},
          progress=False)
"""


def test_training_killed_writing_checkpoint_then_final_resumes_bit_identical_and_clean(tmp_path):
    from train_toys import ToySquares, params_equal, small

    from rtc.models.train import train

    cache = tmp_path / "runs"
    p = run_script(TRAIN.format(cache=str(cache)), kill="checkpoint.pt", nth=2)   # killed writing step 4's
    assert killed(p), p.stderr[-2000:]
    run_dir = next(cache.iterdir())
    assert [t.name for t in temps(run_dir)] and all(t.name.startswith(".checkpoint.pt.") for t in temps(run_dir))
    p = run_script(TRAIN.format(cache=str(cache)), kill="final.pt")              # resumed, killed writing final
    assert killed(p), p.stderr[-2000:]
    assert [t.name.split(".")[1] for t in temps(run_dir)] == ["final"]           # the checkpoint's orphan is gone
    assert not (run_dir / "final.pt").exists()
    p = run_script(TRAIN.format(cache=str(cache)))                               # resumed to the end
    assert p.returncode == 0, p.stderr[-2000:]
    assert temps(cache) == [] and torch.load(run_dir / "checkpoint.pt", weights_only=False)["step"] == 8  # kept

    cfg = small("factor_vae", steps=8, checkpoint_every=2, snapshot_steps=(4,))
    torch.set_num_threads(1)
    ref = train(cfg, ToySquares(), cache_dir=tmp_path / "ref", progress=False)  # never interrupted
    got = train(cfg, ToySquares(), cache_dir=cache, progress=False)             # loads the resumed run
    assert params_equal(got.model, ref.model) and params_equal(got.discriminator, ref.discriminator)
    assert all(np.array_equal(got.log[k], ref.log[k], equal_nan=True) for k in ref.log)
    for step in (4, 8):
        assert params_equal(got.load_snapshot(step), ref.load_snapshot(step))


EXTEND = """
    from rtc.models.train import train
    from train_toys import ToySquares, small
    train(small("rtc_vae", steps={steps}, checkpoint_every=2, snapshot_steps=(2, 4, 6)), ToySquares(),
          cache_dir={cache!r}, progress=False)
"""


def test_an_extension_killed_midway_resumes_exactly_and_the_shorter_run_stays_readable(tmp_path):
    from train_toys import ToySquares, params_equal, small

    from rtc.models.train import train

    cache = tmp_path / "runs"
    assert run_script(EXTEND.format(steps=4, cache=str(cache))).returncode == 0         # trained to 4
    p = run_script(EXTEND.format(steps=8, cache=str(cache)), kill="checkpoint.pt", nth=2)  # extending: killed
    assert killed(p), p.stderr[-2000:]                                                  # writing step 8's checkpoint
    run_dir = next(cache.iterdir())
    assert torch.load(run_dir / "checkpoint.pt", weights_only=False)["step"] == 6  # the previous checkpoint
    torch.set_num_threads(1)
    short = small("rtc_vae", steps=4, checkpoint_every=2, snapshot_steps=(2, 4, 6))
    first = train(short, ToySquares(fail_at_call=1), cache_dir=cache, progress=False)  # read, no training
    assert first.steps_done == 4 and first.snapshots == [2, 4] and len(first.log["loss"]) == 4
    assert run_script(EXTEND.format(steps=8, cache=str(cache))).returncode == 0         # resumed
    assert temps(cache) == []
    cfg = small("rtc_vae", steps=8, checkpoint_every=2, snapshot_steps=(2, 4, 6))
    ref = train(cfg, ToySquares(), cache_dir=tmp_path / "ref", progress=False)          # never interrupted
    got = train(cfg, ToySquares(fail_at_call=1), cache_dir=cache, progress=False)
    assert params_equal(got.model, ref.model) and got.snapshots == ref.snapshots == [2, 4, 6, 8]
    assert all(np.array_equal(got.log[k], ref.log[k], equal_nan=True) for k in ref.log)
    for step in (2, 4, 6):
        assert params_equal(got.load_snapshot(step), ref.load_snapshot(step))
    a, b = (torch.load(r.run_dir / "checkpoint.pt", weights_only=False) for r in (got, ref))
    assert a["eta"] == b["eta"] and a["step"] == b["step"] == 8


EVAL = """
    from rtc.experiments import EvalSettings, run
    from rtc.models import TrainConfig
    cfg = TrainConfig(model="beta_vae", strength=4.0, steps=4, batch_size=8, checkpoint_every=2)
    r = run(cfg, "dsprites", evaluation=EvalSettings.preset("ci", metrics=("sap_r2",)), results_dir={results!r})
    import json
    print(json.dumps({{k: v for k, v in r.row.items() if not k.endswith("seconds")}}, default=float))
"""


def test_evaluation_killed_writing_its_cache_is_redone_identically_and_clean(tmp_path):
    results = tmp_path / "results"
    # the evaluation's JSON is written last (its matrices' .npz first): killed there, the entry does not exist
    p = run_script(EVAL.format(results=str(results)), kill="ci-*.json")  # not the run's config.json
    assert killed(p), p.stderr[-2000:]
    eval_dir = next((results / "runs").iterdir()) / "eval"
    assert len(temps(eval_dir)) == 1 and not list(eval_dir.glob("*.json"))
    p = run_script(EVAL.format(results=str(results)))
    assert p.returncode == 0, p.stderr[-2000:]
    assert temps(results) == []
    ref = run_script(EVAL.format(results=str(tmp_path / "ref")))
    assert ref.returncode == 0, ref.stderr[-2000:]
    got, want = (json.loads(x.stdout.strip().splitlines()[-1]) for x in (p, ref))
    assert got.keys() == want.keys()
    for k in want:
        same = (got[k] == want[k] or (isinstance(want[k], float) and math.isnan(want[k]) and math.isnan(got[k])))
        assert same, (k, got[k], want[k])


RENDER = """
    import numpy as np
    from test_data_cache import Tiny
    from rtc.data.cache import cached
    c = cached(Tiny(), progress=False)
    print(int(c.images(Tiny().index_to_factors(np.arange(15))).astype(np.int64).sum()))
"""


def test_dataset_render_killed_writing_is_redone_and_clean(tmp_path):
    env = {"RTC_CACHE_DIR": str(tmp_path / "cache")}
    p = run_script(RENDER, kill="*.h5", env=env)
    assert killed(p), p.stderr[-2000:]
    assert len(temps(tmp_path / "cache")) == 1 and not list((tmp_path / "cache").glob("*.h5"))
    p = run_script(RENDER, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    assert temps(tmp_path / "cache") == []
    ref = run_script(RENDER, env={"RTC_CACHE_DIR": str(tmp_path / "ref")})
    assert p.stdout == ref.stdout and int(p.stdout) > 0


@pytest.mark.slow
def test_book_killed_writing_an_executed_notebook_is_redone_and_clean(tmp_path, repo_root):
    from test_book_runner import GOOD, executed, make_book

    make_book(tmp_path, {"good": GOOD}, repo_root)
    book = f"from rtc.book import main\nsys.exit(main(['--profile', 'ci', '--root', {str(tmp_path)!r}, '--no-build']))"
    p = run_script(book, kill="good.ipynb")
    assert killed(p), p.stderr[-2000:]
    out_dir = executed(tmp_path, "ci", "good").parent
    assert len(temps(out_dir)) == 1 and not executed(tmp_path, "ci", "good").exists()
    p = run_script(book)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "good ran" in p.stdout and temps(tmp_path / "book") == []
    assert '"6' in executed(tmp_path, "ci", "good").read_text()       # print(n * 2) with n = 3
