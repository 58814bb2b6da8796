"""The lean evaluation of a run (``rtc.experiments.results._evaluate``): where its time goes, old vs new time,
and every scalar of its row against a reference JSON written by another version of the code.

    PYTHONPATH=. .venv/bin/python bench/bench_eval.py --models /tmp/eval_models --write-ref ref.json
    PYTHONPATH=. .venv/bin/python bench/bench_eval.py --models /tmp/eval_models --compare-ref ref.json \
        [--old-src /tmp/old] [--repeat 1] [--profile]

Models (prepared once in ``--models``, then loaded by every evaluation): the Table 2 VAE randomly initialised
(seed 0), and two β-VAEs (β = 1 and β = 8) trained 200 steps at batch 32 on dSprites.

- ``--write-ref``: evaluate each model with the code on ``PYTHONPATH`` at evaluation seeds 0 and 1 and write
  the rows (run it on the code *before* a change).
- ``--compare-ref``: evaluate each model at seed 0 and print, per scalar, old (seed 0), new, |new − old| and
  the reference's seed-to-seed spread |old(seed 0) − old(seed 1)|; ``!`` marks a difference above that spread.
- ``--old-src DIR``: a folder holding the old ``rtc`` package (e.g. ``git archive <commit> rtc | tar -x -C DIR``):
  old and new evaluations alternate in fresh one-thread processes, ``--repeat`` times per model, and the
  time ratio old/new is printed (the machine may be shared: read the ratio, not the seconds).
- ``--profile``: a cProfile breakdown (cumulative seconds of each block) of the evaluation of the random model,
  for the code on ``PYTHONPATH`` and the ``--old-src`` one (both profiled, so the time ratio stays fair; the
  profiler inflates Python-heavy blocks).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

PRESET = "lean"
MODELS = {  # name -> (TrainConfig fields, train?)
    "random_init": (dict(model="beta_vae", strength=1.0, batch_size=32, steps=200, seed=0), False),
    "beta1_200": (dict(model="beta_vae", strength=1.0, batch_size=32, steps=200, seed=1), True),
    "beta8_200": (dict(model="beta_vae", strength=8.0, batch_size=32, steps=200, seed=2), True),
}
# (file, function) -> label of the block whose cumulative time the profile reports
BLOCKS = [(("encoding.py", "encode"), "encode (TC block)"),
          (("encoding.py", "representation_stats"), "representation_stats"),
          (("diagnostics.py", "tc_diagnostics"), "kNN TC (tc_diagnostics)"),
          (("density_ratio.py", "density_ratio_estimate"), "density-ratio TC"),
          (("evaluate.py", "_encode"), "evaluate: encode its points"),
          (("sap.py", "sap"), "SAP (r2 + svc)"), (("mig.py", "mig"), "MIG (reference)"),
          (("mig.py", "mig_chen"), "MIG (Chen)"), (("dci.py", "dci"), "DCI"),
          (("modularity.py", "modularity_explicitness"), "modularity + explicitness"),
          (("diagnostics.py", "disintegration"), "disintegration"),
          (("factor_vae.py", "factor_vae_score"), "FactorVAE score"),
          (("evaluate.py", "evaluate"), "rtc.metrics.evaluate (total)"),
          (("results.py", "_evaluate"), "_evaluate (total)")]


def _config(name):
    from rtc.models import TrainConfig
    return TrainConfig(**MODELS[name][0])


def prepare(models: Path) -> None:
    """Build / train the models once into ``models`` (state dicts)."""
    import tempfile

    import torch

    from rtc.data import load_dataset
    from rtc.models.train import build, train
    models.mkdir(parents=True, exist_ok=True)
    ds = load_dataset("dsprites")
    for name, (_, trained) in MODELS.items():
        path = models / f"{name}.pt"
        if path.exists():
            continue
        t0 = time.perf_counter()
        if trained:
            with tempfile.TemporaryDirectory() as tmp:
                model = train(_config(name), ds, cache_dir=tmp, progress=False).model
        else:
            model = build(_config(name), num_channels=1).model
        torch.save(model.state_dict(), path)
        print(f"prepared {name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def worker(models: Path, name: str, seed: int, profile: bool) -> dict:
    """One evaluation (one thread) of model ``name`` at evaluation seed ``seed``: row, seconds, profile."""
    import cProfile
    import pstats

    import torch

    from rtc.data import load_dataset
    from rtc.experiments.results import _evaluate
    from rtc.experiments.specs import EvalSettings
    from rtc.models.train import build
    torch.set_num_threads(1)
    ds = load_dataset("dsprites")
    model = build(_config(name), num_channels=1).model
    model.load_state_dict(torch.load(models / f"{name}.pt"))
    settings = EvalSettings.preset(PRESET, seed=seed)
    prof = cProfile.Profile(time.process_time) if profile else None  # CPU seconds: robust to a shared machine
    t0, c0 = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    out = _evaluate(model, ds, settings, None, False)
    if prof:
        prof.disable()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    blocks = {}
    if prof:
        stats = pstats.Stats(prof).stats
        for (path, _, func), (_, ncalls, _, cum, _) in stats.items():
            for (file, fn), label in BLOCKS:
                if path.endswith(os.sep + file) and func == fn and "/rtc/" in path:
                    blocks[label] = (blocks.get(label, (0.0, 0))[0] + cum, blocks.get(label, (0.0, 0))[1] + ncalls)
    row = {k: float(v) for k, v in out["row"].items() if k != "eval_seconds"}
    return {"row": row, "seconds": seconds, "cpu": cpu, "blocks": blocks}


def _spawn(src: str, models: Path, name: str, seed: int, profile: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=src, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, __file__, "--models", str(models), "--worker", name, "--seed", str(seed)]
    if profile:
        cmd.append("--profile")
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if res.returncode:
        raise SystemExit(f"worker {name} seed {seed} ({src}) failed:\n{res.stderr[-4000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _close(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def compare(ref: dict, new: dict) -> None:
    print("\n## every scalar of the row: old = reference at eval seed 0, spread = |old seed 0 − old seed 1|")
    for name in MODELS:
        old0, old1, now = ref[name]["0"]["row"], ref[name]["1"]["row"], new[name]["row"]
        print(f"\n### {name}\n| value | old | new | abs(new − old) | seed spread | |\n|---|---|---|---|---|---|")
        for k in old0:
            if k not in now:
                print(f"| {k} | {old0[k]:.6g} | missing | | | ! |")
                continue
            d = abs(now[k] - old0[k])
            s = abs(old1[k] - old0[k])
            flag = "" if _close(now[k], old0[k]) or d <= s else "!"
            print(f"| {k} | {old0[k]:.6g} | {now[k]:.6g} | {d:.3g} | {s:.3g} | {flag} |")
        extra = sorted(set(now) - set(old0))
        if extra:
            print(f"new columns: {extra}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, required=True)
    ap.add_argument("--write-ref", type=Path)
    ap.add_argument("--compare-ref", type=Path)
    ap.add_argument("--old-src", help="folder holding the old rtc package, for the side-by-side time ratio")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.models, a.worker, a.seed, a.profile)))
        return
    here = os.path.abspath(os.environ.get("PYTHONPATH", "."))
    prepare(a.models)
    if a.write_ref:
        ref = {name: {str(s): _spawn(here, a.models, name, s) for s in (0, 1)} for name in MODELS}
        a.write_ref.write_text(json.dumps(ref, indent=1))
        print(f"wrote {a.write_ref}: " + ", ".join(f"{n} {ref[n]['0']['seconds']:.1f} s" for n in ref))
    if not a.compare_ref:
        if a.profile:
            print_profile({"new": _spawn(here, a.models, "random_init", 0, profile=True)})
        return
    ref = json.loads(a.compare_ref.read_text())
    new, times, prof = {}, {"old": [], "new": []}, {}
    for name in MODELS:
        profile = a.profile and name == "random_init"  # old and new profiled alike, so the ratio stays fair
        for _ in range(a.repeat):
            if a.old_src:
                out = _spawn(a.old_src, a.models, name, 0, profile)
                times["old"].append(out)
                prof.setdefault("old", out)
            new[name] = _spawn(here, a.models, name, 0, profile)
            times["new"].append(new[name])
            prof.setdefault("new", new[name])
    compare(ref, new)
    if a.profile:
        print_profile({k: prof[k] for k in ("old", "new") if k in prof})
    if a.old_src:
        print("\n## one evaluation, old and new alternating in fresh one-thread processes: wall and CPU seconds "
              f"(models {', '.join(MODELS)}" + (f" × {a.repeat}" if a.repeat > 1 else "")
              + ("; random_init under cProfile in both" if a.profile else "") + ")")
        print("| | " + " | ".join(f"run {i}" for i in range(len(times["new"]))) + " | total | ratio old/new |")
        print("|---|" + "---|" * (len(times["new"]) + 2))
        for unit in ("seconds", "cpu"):
            tot = {k: sum(t[unit] for t in v) for k, v in times.items()}
            for k in ("old", "new"):
                print(f"| {k} {unit} | " + " | ".join(f"{t[unit]:.1f}" for t in times[k]) + f" | {tot[k]:.1f} | "
                      + (f"{tot['old'] / tot['new']:.2f}" if k == "new" else "") + " |")


def print_profile(prof: dict) -> None:
    print(f"\n## profile of one {PRESET} evaluation (random_init, one thread): cProfile cumulative CPU seconds (calls)")
    print("| block | " + " | ".join(prof) + " |\n|---|" + "---|" * len(prof))
    for _, label in BLOCKS:
        cells = [f"{p['blocks'][label][0]:.2f} ({p['blocks'][label][1]})" if label in p["blocks"] else "—"
                 for p in prof.values()]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
