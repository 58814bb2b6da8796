"""Studies too long for a book build, trained on Ray (:func:`rtc.sweep.run_grid`) and published as per-snapshot
tables under ``published/`` (:mod:`rtc.experiments.published`), which the comparison chapter reads.

A study is ``parameters/studies/<name>.yaml``: a training grid (the schema of
:func:`rtc.experiments.grid.load_grid`; each of its grids is one *cell* of the study) and an optional ``study:``
section with its *phases*, trained in order::

    study:
      phases:
        - grids: [factor10, rtc10]        # cells trained together, paired by seed
          images: [48000, 96000, 192000]  # the budgets they are taken to, one after the other

At each budget every run of the phase is trained to ``images / batch_size`` steps — a run is a trajectory
(:mod:`rtc.models.train`): the next budget extends it from its checkpoint, and a run the default profile trained
already is the prefix it starts from — then evaluated along its curve, and the table is written again
(atomically): whenever the study stops, the published table holds every run at the furthest budget it was
evaluated at, nothing half-done — in this cache, or in the table published before (a fresh clone's empty cache
drops nothing the committed table holds: :func:`publish`). A study without ``study:`` is one phase of all its
grids at their own ``steps``.

Faults: a kill at any point loses at most the steps since the run's last checkpoint, and the next call goes on
(training resumes bit-identically; finished budgets are cache hits). Two calls of one study never run at once:
the second says which process holds the study's lock and waits for it. ``--hours`` stops before a budget that
would start after that much time (a budget under way is finished first; kill it to stop at once: nothing is
lost).

    python -m rtc.studies recipes              # the recipe study (published/recipes.csv)
    python -m rtc.studies long [--hours 2]     # the long run of the primary comparison (published/long.csv)
    python -m rtc.studies long --dry-run       # the plan: what each budget costs and what is cached
    python -m rtc.studies long --publish-only  # write the table from what is cached, train nothing
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from rtc._io import file_lock
from rtc._validate import ConfigError
from rtc.experiments.comparison.learning import mean_image_baseline
from rtc.experiments.grid import GridError, estimate_seconds, grid_runs, validate_grid
from rtc.experiments.probes import ProbeSettings
from rtc.experiments.published import (
    RUN_COLUMNS,
    PublishedTableError,
    config_key,
    git_commit,
    kept_rows,
    published_path,
    read_table,
    run_key,
    snapshot_rows,
    write_table,
)
from rtc.experiments.results import cached_result, default_results_dir, run_dir
from rtc.models.runfiles import CHECKPOINT, FINAL, CheckpointError, read_run_file
from rtc.paths import find_root
from rtc.progress import report
from rtc.sweep import SweepError, run_grid

__all__ = ["Phase", "Study", "load_study", "stage_runs", "reached", "publish", "run_study", "plan", "main",
           "STUDIES"]

STUDIES = "studies"  # parameters/studies/: not a book profile (rtc.params.profiles leaves it out)


@dataclass(frozen=True)
class Phase:
    """Cells (grid names) trained together, and the budgets (images per run, increasing) they are taken to."""
    grids: tuple[str, ...]
    images: tuple[int, ...]


@dataclass(frozen=True)
class Study:
    """A study file, read and checked: its grid (:func:`rtc.experiments.grid.validate_grid`), its phases, how its
    curves' points are probed (:class:`rtc.experiments.probes.ProbeSettings`, the ``study:`` section's ``probe``),
    the file and the repository it belongs to (its table goes to ``<root>/published/<name>.csv``)."""
    name: str
    grid: dict
    phases: tuple[Phase, ...]
    probe: ProbeSettings
    source: str
    root: Path

    @property
    def table_path(self) -> Path:
        return published_path(self.name, self.root)


def _phases(plan, grid: dict, source: str) -> tuple[Phase, ...]:
    names = [g["name"] for g in grid["grids"]]
    if "phases" not in plan:
        return (Phase(tuple(names), ()),)
    if not isinstance(plan["phases"], list) or not plan["phases"]:
        raise GridError(f"{source}: study.phases: expected [{{grids: [...], images: [...]}}, ...], got "
                        f"{plan['phases']!r}")
    out = []
    for j, ph in enumerate(plan["phases"]):
        where = f"{source}: study.phases[{j}]"
        if not isinstance(ph, dict) or set(ph) != {"grids", "images"}:
            raise GridError(f"{where}: expected the keys grids and images, got {ph!r}")
        unknown = [g for g in ph["grids"] if g not in names]
        if unknown or not ph["grids"]:
            raise GridError(f"{where}: grids {ph['grids']!r} — each must be one of the file's grids {names}")
        imgs = ph["images"]
        if not (isinstance(imgs, list) and imgs and all(isinstance(i, int) and not isinstance(i, bool) and i > 0
                                                        for i in imgs) and imgs == sorted(set(imgs))):
            raise GridError(f"{where}: images must be increasing whole numbers > 0, got {imgs!r}")
        out.append(Phase(tuple(ph["grids"]), tuple(imgs)))
    return tuple(out)


def load_study(name: str, *, root: str | Path | None = None) -> Study:
    """Read and check ``parameters/studies/<name>.yaml`` (module docstring): every budget must be a whole number of
    steps of each of its cells, and a step the cell keeps (``snapshot_steps``), so that every budget is a point of
    every run's curve."""
    path = find_root(root) / "parameters" / STUDIES / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise FileNotFoundError(f"no study {name!r}: {path} does not exist (studies: {known})")
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict):
        raise GridError(f"{path}: expected a mapping, got {type(doc).__name__}")
    doc = dict(doc)
    plan = doc.pop("study", None) or {}
    if not isinstance(plan, dict) or not set(plan) <= {"phases", "probe"}:
        raise GridError(f"{path}: study: expected a mapping with phases and/or probe, got {plan!r}")
    grid = validate_grid(doc, str(path))
    try:
        probe = ProbeSettings.from_mapping(plan.get("probe") or {}, where=f"{path}: study.probe")
    except ConfigError as e:
        raise GridError(str(e)) from None
    study = Study(name, grid, _phases(plan, grid, str(path)), probe, str(path), find_root(root))
    for phase in study.phases:
        for spec in grid_runs(grid, list(phase.grids)):
            c = spec.config
            for images in phase.images:
                steps, rest = divmod(images, c.batch_size)
                if rest or steps not in c.snapshot_steps:
                    raise GridError(f"{path}: {images} images is {images / c.batch_size:g} steps of {spec.label} "
                                    f"(batch {c.batch_size}): each budget must be a whole number of steps listed in "
                                    f"its snapshot_steps {list(c.snapshot_steps)}")
    return study


def stage_runs(study: Study, phase: Phase, images: int | None) -> list:
    """The runs of ``phase`` at the budget ``images`` (None: at their own ``steps``), as RunSpecs."""
    runs = grid_runs(study.grid, list(phase.grids))
    if images is None:
        return runs
    return [dataclasses.replace(s, config=dataclasses.replace(s.config, steps=images // s.config.batch_size))
            for s in runs]


def _cells(study: Study) -> dict:
    """RunSpec (at its grid's steps) → its cell (grid name)."""
    return {s: g["name"] for g in study.grid["grids"] for s in grid_runs(study.grid, [g["name"]])}


def reached(study: Study, results_dir: Path) -> list[tuple[str, object]]:
    """``(cell, RunResult)`` of every run of the study at the furthest budget it is evaluated at (runs evaluated
    at none are left out), in the file's order. Reads the cache; trains nothing."""
    out, datasets, cells = [], {}, _cells(study)
    for phase in study.phases:
        budgets = list(phase.images) or [None]
        for spec in stage_runs(study, phase, None):
            cell = cells[spec]
            best = None
            for images in budgets:
                s = spec if images is None else dataclasses.replace(
                    spec, config=dataclasses.replace(spec.config, steps=images // spec.config.batch_size))
                r = cached_result(s, results_dir=results_dir, datasets=datasets)
                if r is None:
                    break
                best = r
            if best is not None:
                out.append((cell, best))
    return out


def publish(study: Study, results_dir: Path, *, path: Path | None = None):
    """Write the study's table (``published/<name>.csv``) from what is cached — every run at the furthest budget
    it was evaluated at, one row per kept step — and from the table published before, for the runs it holds
    further than the cache (:func:`rtc.experiments.published.kept_rows`). Returns the table, or None when there
    is nothing to write. A published table that cannot be read stops it, naming the file: nothing is
    overwritten."""
    path = Path(path or study.table_path)
    found = reached(study, results_dir)
    old = read_table(path, study=study.name) if path.exists() else None
    if not found and old is None:
        return None
    datasets, kept = {}, []
    if old is not None:
        reached_images = {config_key(r.config, r.dataset): r.config.steps * r.config.batch_size
                          for _, r in found}
        cells = {config_key(s.config, s.dataset): (cell, s) for s, cell in _cells(study).items()}
        kept, dropped = kept_rows(old, cells, reached_images, datasets)
        for line in dropped:
            _say(f"study {study.name}: published run left out of {path.name}: {line}")
        # a run kept from the table is not also written from the cache (where it is evaluated less far)
        held = {run_key(tuple(r[c] for c in RUN_COLUMNS)) for r in kept}
        found = [(cell, r) for cell, r in found if config_key(r.config, r.dataset) not in held]
    baselines, rows, commit = {}, list(kept), git_commit(study.root)
    for cell, r in found:
        if r.dataset not in datasets:
            datasets[r.dataset] = r.dataset.load()
        if r.dataset not in baselines:
            baselines[r.dataset] = mean_image_baseline(datasets[r.dataset])
        rows += snapshot_rows(r, datasets[r.dataset], study=study.name, cell=cell, baseline=baselines[r.dataset],
                              probe=study.probe, commit=commit)
    return write_table(rows, path) if rows else None


def _trained_steps(spec, results_dir: Path, datasets: dict) -> int:
    """How far the run of ``spec`` is trained in the cache (0: not started)."""
    if spec.dataset not in datasets:
        datasets[spec.dataset] = spec.dataset.load()
    rd = run_dir(spec.config, datasets[spec.dataset], results_dir)
    for name in (FINAL, CHECKPOINT):
        try:
            return int(read_run_file(rd / name, "")["step"])
        except (FileNotFoundError, CheckpointError, KeyError):
            continue
    return 0


def _not_evaluated(runs, results_dir: Path, datasets: dict) -> list:
    """The specs of ``runs`` that the cache does not hold evaluated at their steps."""
    return [s for s in runs if cached_result(s, results_dir=results_dir, datasets=datasets) is None]


def _seconds_left(todo, results_dir: Path, datasets: dict) -> float:
    """Cost-model seconds (:func:`rtc.experiments.grid.estimate_seconds`, one run per core) to take the runs
    ``todo`` (:func:`_not_evaluated`) from where the cache has them to their steps, evaluation included."""
    left = [dataclasses.replace(s, config=dataclasses.replace(
            s.config, steps=max(s.config.steps - _trained_steps(s, results_dir, datasets), 1))) for s in todo]
    return float(sum(estimate_seconds(s) for s in left))


def _study_left(study: Study, results_dir: Path, until_images: int | None) -> float:
    """Cost-model seconds to take every phase to its last budget (at most ``until_images``): a run passes through
    every budget of its phase on the way to the last, so the last one's cost is the phase's."""
    total, datasets = 0.0, {}
    for phase in study.phases:
        budgets = [b for b in phase.images if until_images is None or b <= until_images] or \
            ([None] if not phase.images else [])
        if budgets:
            todo = _not_evaluated(stage_runs(study, phase, budgets[-1]), results_dir, datasets)
            total += _seconds_left(todo, results_dir, datasets)
    return total


def plan(study: Study, results_dir: Path):
    """One line per (phase, budget): its runs, how many are evaluated there, and what is left to train from where
    the runs stand, with the cost model's hours (:func:`rtc.experiments.grid.estimate_seconds`: the reference
    2-core CPU, one run per core — a shared machine is slower)."""
    lines, datasets = [], {}
    for j, phase in enumerate(study.phases):
        for images in list(phase.images) or [None]:
            runs = stage_runs(study, phase, images)
            todo = _not_evaluated(runs, results_dir, datasets)
            est = _seconds_left(todo, results_dir, datasets)
            lines.append(f"phase {j + 1} ({', '.join(phase.grids)}), "
                         + (f"{images:,} images" if images else "own steps")
                         + f": {len(runs)} runs, {len(runs) - len(todo)} evaluated, {len(todo)} to train or extend, "
                         f"≈ {est / 3600:.1f} CPU-hours from where they stand")
    return lines


def run_study(study: Study, *, results_dir: str | Path | None = None, hours: float | None = None,
              until_images: int | None = None, progress: bool = True):
    """Train, evaluate and publish the study, phase by phase and budget by budget (module docstring), holding the
    study's lock. ``hours``: start no budget after that many hours; ``until_images``: no budget above it.
    Returns the published table (None when nothing was evaluated)."""
    root = Path(results_dir) if results_dir is not None else default_results_dir()
    root.mkdir(parents=True, exist_ok=True)
    lock = root / f"study-{study.name}.lock"

    def waiting(pid):
        print(f"study {study.name!r} is running in {'process ' + str(pid) if pid else 'another process'} (lock "
              f"{lock}); waiting for it to finish — then this call goes on from where it stopped", flush=True)

    with file_lock(lock, on_wait=waiting):
        if study.table_path.exists():  # a table publish() cannot read stops the study now, not after a budget
            read_table(study.table_path, study=study.name)
        t0, table = time.monotonic(), None
        slots = max(1, int((os.cpu_count() or 1) // study.grid["resources"].cpus_per_run))
        left0 = _study_left(study, root, until_images)
        for j, phase in enumerate(study.phases):
            for images in list(phase.images) or [None]:
                if until_images is not None and images is not None and images > until_images:
                    break
                runs = stage_runs(study, phase, images)
                if hours is not None and time.monotonic() - t0 > hours * 3600:
                    _say(f"study {study.name}: {hours:g} h are up; stopping before phase {j + 1} at "
                         f"{images:,} images (the next call goes on from here)")
                    return publish(study, root)
                _say(f"study {study.name}: phase {j + 1}/{len(study.phases)} ({', '.join(phase.grids)}), "
                     + (f"{images:,} images per run" if images else "own steps")
                     + f", {len(runs)} runs; {_eta(t0, left0, _study_left(study, root, until_images), slots)}")
                try:
                    run_grid(runs, results_dir=root, progress=progress)
                except SweepError:
                    publish(study, root)  # what finished is published; the failed runs are named by the error
                    raise
                table = publish(study, root)
        return table if table is not None else publish(study, root)


def _eta(t0: float, left0: float, left: float, slots: int) -> str:
    """"<minutes> so far, ETA ≈ <hours> for the whole study": the cost model's seconds left over ``slots`` runs at
    once, scaled by this call's measured wall time per estimated second once some work is done."""
    elapsed = time.monotonic() - t0
    done = left0 - left
    scale = elapsed / (done / slots) if done > 0 and elapsed > 0 else 1.0
    eta = left / slots * min(max(scale, 0.2), 20.0)
    return (f"{elapsed / 60:.1f} min so far, ETA ≈ {eta / 3600:.1f} h for the whole study"
            + ("" if done > 0 else " (cost model, not yet calibrated)"))


def _say(line: str) -> None:
    print(line, flush=True)
    report(line)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtc.studies", description="Train, evaluate and publish a study "
                                "(parameters/studies/<name>.yaml) to published/<name>.csv; resumable.")
    p.add_argument("study", help="the study's name (recipes, long)")
    p.add_argument("--results-dir", default=None, help="cache root (default $RTC_RESULTS_DIR or <repo>/results)")
    p.add_argument("--hours", type=float, default=None, help="start no budget after this many hours")
    p.add_argument("--until-images", type=int, default=None, help="no budget above this many images per run")
    p.add_argument("--dry-run", action="store_true", help="print the plan and what is cached; train nothing")
    p.add_argument("--publish-only", action="store_true",
                   help="write the table from the cache (and the table published before); train nothing")
    a = p.parse_args(argv)
    if a.hours is not None and not (math.isfinite(a.hours) and a.hours > 0):
        p.error(f"--hours must be a number > 0, got {a.hours}")
    study = load_study(a.study)
    root = Path(a.results_dir) if a.results_dir else default_results_dir()
    if a.dry_run:
        print("\n".join(plan(study, root)))
        return 0
    t0 = time.perf_counter()
    try:
        table = publish(study, root) if a.publish_only else run_study(study, results_dir=root, hours=a.hours,
                                                                      until_images=a.until_images)
    except PublishedTableError as e:  # the table stays as it was: move it aside or repair it, then call again
        print(f"error: {e}; the table was left as it was (what was trained stays cached)", file=sys.stderr)
        return 1
    if table is None:
        print(f"study {study.name}: no run evaluated yet; nothing published")
        return 0
    last = table.sort_values("step").groupby(["cell", "seed"]).tail(1)
    print(last.groupby("cell")["images_seen"].agg(["count", "min", "max"]).rename(
        columns={"count": "runs", "min": "images (min)", "max": "images (max)"}).to_string())
    print(f"\npublished {study.table_path} ({len(table)} rows) in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
