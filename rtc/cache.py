"""What the caches hold, and pruning them: ``python -m rtc.cache list`` / ``prune``.

rtc keeps two caches, both gitignored and both safe to delete (everything in them is recomputed on demand):

- the **results cache** (:func:`rtc.experiments.default_results_dir`: ``$RTC_RESULTS_DIR``, else
  ``<repository>/results``; its layout is :mod:`rtc.experiments.results`'s): one folder per trained run,
  ``runs/<model>-<key>/`` (weights, checkpoint, snapshots, ``config.json``, the lock) with its evaluations in
  ``eval/<preset>-<key>.json`` and their matrices in ``.npz`` beside them;
- the **data cache** (:func:`rtc.data.cache.cache_dir`: ``$RTC_CACHE_DIR``, else ``<repository>/.cache/rtc``):
  rendered dataset grids (``<dataset>-v<renderer version>-seed<seed>.h5``), Shapes3D's ray-cast geometry
  (``.npy``) and the book's MathJax copy.

A run's key hashes its configuration, its dataset and the training code (``rtc.models.train.code_version``),
and an evaluation's key the evaluation code: every change to that code makes new folders and leaves the old
ones behind. :func:`scan` sorts every entry into

- **reachable** — a run of a committed profile's grid (``parameters/<profile>/training.yaml``) under the current
  code, an evaluation a profile reads, a dataset file of the current renderer: what a build would use now;
- **stale** — a run trained by other code, or by the current code but listed by no profile; an evaluation by
  other code or settings, one in the old pickle format (``.pkl``, no longer read), or matrices (``.npz``) whose
  evaluation file was never written; a rendered grid, geometry or MathJax copy of another version;
- **orphan** — a temporary file left by a writer that was killed (:mod:`rtc._io`; its process is gone);
- **in use** — a run whose lock is held right now (being trained) or a temporary file being written: never removed;
- **other** — a file this module does not know: listed, never removed.

``prune`` removes the stale entries (``--stale``) and the orphans (``--orphans``; both when neither is given),
printing each path and its size first and the space freed last; ``--dry-run`` prints and removes nothing.
Reachable entries are removed only with ``--all`` (and never while in use).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from ._io import find_temp_files, parse_temp, try_lock, writer_alive
from .book.mathjax import MATHJAX_VERSION
from .data import DATASETS, load_dataset
from .data.cache import cache_dir
from .experiments.curves import curve_path
from .experiments.grid import grid_runs
from .experiments.results import RUNS, curve_settings, run_dir
from .experiments.store import eval_dir, eval_path
from .models.runfiles import CONFIG, code_version
from .params import profiles as all_profiles
from .paths import find_root

__all__ = ["Entry", "scan", "prune", "reachable", "main", "STATUSES"]

STATUSES = ("reachable", "stale", "orphan", "in use", "other")


@dataclass(frozen=True)
class Entry:
    """One thing in a cache: ``kind`` ("run", "evaluation", "dataset", "geometry", "mathjax", "temp", "file"),
    its ``path``, ``bytes`` on disk (apparent size, a folder's files summed), ``status`` (:data:`STATUSES`),
    ``cache`` ("results" or "data") and ``why`` (which profiles list it, or why it is stale)."""
    kind: str
    path: Path
    bytes: int
    status: str
    cache: str
    why: str = ""


def _size(path: Path) -> int:
    """Bytes of a file, or of a folder's files but its temporary ones (those are entries of their own)."""
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*")
               if p.is_file() and not p.is_symlink() and parse_temp(p) is None)


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def reachable(root: Path, results_dir: Path, profiles: list[str] | None = None) -> tuple[dict, dict]:
    """What the committed profiles' grids use under the current code: ``({run dir: [labels]}, {evaluation file:
    [labels]})``, labels like ``"default: rtc_vae(strength=10, seed=0, steps=1500) on dsprites"``."""
    runs: dict[Path, list[str]] = {}
    evals: dict[Path, list[str]] = {}
    datasets: dict = {}
    for profile in profiles if profiles is not None else all_profiles(root):
        if not (root / "parameters" / profile / "training.yaml").exists():
            continue
        for spec in grid_runs(profile, root=root):
            if spec.dataset not in datasets:
                datasets[spec.dataset] = spec.dataset.load()
            rd = run_dir(spec.config, datasets[spec.dataset], results_dir)
            label = f"{profile}: {spec.label}"
            runs.setdefault(rd, []).append(label)
            evals.setdefault(eval_path(rd, spec.evaluation, spec.config.steps), []).append(label)
            for step in spec.config.kept_steps():  # the points of the run's curve (rtc.experiments.curves)
                evals.setdefault(curve_path(rd, curve_settings(spec.evaluation), step), []).append(label)
    return runs, evals


def _current_code(data: dict, memo: dict) -> str | None:
    """The training code's digest today for the procedural dataset a run's ``config.json`` names (None: unknown)."""
    name, seed = data.get("name"), data.get("seed") or 0
    if name not in DATASETS:
        return None
    if (name, seed) not in memo:
        memo[(name, seed)] = code_version(load_dataset(name, seed=seed))
    return memo[(name, seed)]


def _scan_evaluations(run_dir: Path, evals: dict) -> list[Entry]:
    """The evaluations of a reachable run that no profile reads: by other code or settings, in the old pickle format,
    or matrices without their evaluation file (a writer killed between the two). Never one whose lock is held."""
    folder = eval_dir(run_dir)
    out = []
    for f in sorted(folder.iterdir()) if folder.is_dir() else []:
        js, npz = f.with_suffix(".json"), f.with_suffix(".npz")
        if (f.suffix not in (".json", ".npz", ".pkl") or js in evals or parse_temp(f) is not None
                or (f.suffix == ".npz" and js.exists())):  # matrices are counted with their evaluation file
            continue
        size = _size(f) + (_size(npz) if f.suffix == ".json" and npz.exists() else 0)
        if not try_lock(f.with_suffix(".lock")):
            out.append(Entry("evaluation", f, size, "in use", "results", "being evaluated now"))
        elif f.suffix == ".pkl":
            out.append(Entry("evaluation", f, size, "stale", "results",
                             "an evaluation in the old pickle format (no longer read)"))
        elif f.suffix == ".json":
            out.append(Entry("evaluation", f, size, "stale", "results",
                             "an evaluation by other evaluation code or settings than the profiles'"))
        else:
            out.append(Entry("evaluation", f, size, "stale", "results",
                             "matrices without their evaluation file (its writer was killed)"))
    return out


def _scan_results(results_dir: Path, runs: dict, evals: dict) -> list[Entry]:
    out: list[Entry] = []
    memo: dict = {}
    runs_dir = results_dir / RUNS
    for d in sorted(runs_dir.iterdir()) if runs_dir.is_dir() else []:
        if not d.is_dir():
            if parse_temp(d) is None:  # a temporary file is reported with the others (_scan_temps)
                out.append(Entry("file", d, _size(d), "other", "results", "not a run folder"))
            continue
        size = _size(d)
        busy = not try_lock(d / "lock")
        if d in runs:
            out.append(Entry("run", d, size, "in use" if busy else "reachable", "results", "; ".join(runs[d])))
            out += _scan_evaluations(d, evals)
            continue
        try:
            meta = json.loads((d / CONFIG).read_text())
            code, current = meta.get("code"), _current_code(meta.get("data", {}), memo)
            cfg = meta.get("config", {})
            what = f"{cfg.get('model')}(strength={cfg.get('strength')}, seed={cfg.get('seed')}) on " \
                   f"{meta.get('data', {}).get('name')}"
            why = (f"{what}: trained by other code ({code}; today's is {current})" if code != current
                   else f"{what}: current code, but no committed profile lists it")
        except (OSError, ValueError, AttributeError):
            why = "no readable config.json (an unfinished or foreign folder)"
        out.append(Entry("run", d, size, "in use" if busy else "stale", "results", why))
    return out


_H5 = re.compile(r"^(?P<name>[a-z0-9]+)-v(?P<version>[^-]+)-seed(?P<seed>\d+)\.h5$")
_GEOMETRY = re.compile(r"^shapes3d-geometry-v(?P<version>.+)\.npy$")


def _scan_data(data_dir: Path) -> list[Entry]:
    versions = {name: str(getattr(load_dataset(name), "render_version", "0")) for name in DATASETS}
    out = []
    for p in sorted(data_dir.iterdir()) if data_dir.is_dir() else []:
        if parse_temp(p) is not None:  # reported with the temporary files (_scan_temps)
            continue
        m, g = _H5.match(p.name), _GEOMETRY.match(p.name)
        if m and m["name"] in versions:
            ok = versions[m["name"]] == m["version"]
            out.append(Entry("dataset", p, _size(p), "reachable" if ok else "stale", "data",
                             f"{m['name']} rendered by renderer v{m['version']}"
                             + ("" if ok else f" (today's is v{versions[m['name']]})")))
        elif g:
            ok = versions["shapes3d"] == g["version"]
            out.append(Entry("geometry", p, _size(p), "reachable" if ok else "stale", "data",
                             f"Shapes3D ray-cast geometry v{g['version']}"))
        elif p.is_dir() and p.name.startswith("mathjax-"):
            ok = p.name == f"mathjax-{MATHJAX_VERSION}"
            out.append(Entry("mathjax", p, _size(p), "reachable" if ok else "stale", "data",
                             f"MathJax {p.name.removeprefix('mathjax-')} for the book"))
        else:
            out.append(Entry("file", p, _size(p), "other", "data", "not written by rtc (kept)"))
    return out


def _scan_temps(folder: Path, cache: str) -> list[Entry]:
    out = []
    for t in find_temp_files(folder, recursive=True):
        if t.pid >= 0 and writer_alive(t):
            out.append(Entry("temp", t.path, _size(t.path), "in use", cache,
                             f"being written by process {t.pid}" + (f" on {t.host}" if t.host else "")))
        else:
            who = f"process {t.pid} is gone" if t.pid >= 0 else "left by an older rtc (no pid)"
            out.append(Entry("temp", t.path, _size(t.path), "orphan", cache, f"partial {t.target.name}: {who}"))
    return out


def _results_dir(root: Path) -> Path:
    """The results cache of the repository at ``root``: ``$RTC_RESULTS_DIR``, else ``<root>/results``."""
    env = os.environ.get("RTC_RESULTS_DIR")
    return Path(env).expanduser().resolve() if env else root / "results"


def scan(*, root: str | Path | None = None, results_dir: str | Path | None = None,
         data_dir: str | Path | None = None, profiles: list[str] | None = None) -> list[Entry]:
    """Every entry of the results cache and the data cache, classified (module docstring). ``root``: the repository
    (its ``parameters/`` define what is reachable); ``profiles``: only these profiles count (default: all)."""
    root = find_root(root)
    results_dir = Path(results_dir) if results_dir is not None else _results_dir(root)
    data_dir = Path(data_dir) if data_dir is not None else cache_dir(create=False)
    runs, evals = reachable(root, results_dir, profiles)
    return (_scan_results(results_dir, runs, evals) + _scan_temps(results_dir, "results")
            + _scan_data(data_dir) + _scan_temps(data_dir, "data"))


def prune(entries: list[Entry], *, stale: bool = True, orphans: bool = True, everything: bool = False,
          dry_run: bool = False, say=print) -> int:
    """Remove the selected entries (``stale`` ones, ``orphans``; with ``everything`` the reachable ones too; never
    "in use" or "other"), saying each path and size first; returns the bytes freed (that would be, with
    ``dry_run``). A run folder is re-checked just before it goes: one whose lock is taken meanwhile stays."""
    chosen = [e for e in entries if (e.status == "stale" and (stale or everything))
              or (e.status == "orphan" and (orphans or everything)) or (e.status == "reachable" and everything)]
    freed = 0
    for e in chosen:
        say(f"{'would remove' if dry_run else 'removing'} {e.status:9} {_human(e.bytes):>9}  {e.path}"
            + (f"  ({e.why})" if e.why else ""))
        if dry_run:
            freed += e.bytes
            continue
        if e.kind == "run" and not try_lock(e.path / "lock"):
            say(f"  kept {e.path}: it is being trained now")
            continue
        if e.path.is_dir():
            shutil.rmtree(e.path, ignore_errors=True)
        else:
            e.path.unlink(missing_ok=True)
            if e.kind == "evaluation":  # an evaluation file goes with its matrices, and its lock with it
                if e.path.suffix == ".json":
                    e.path.with_suffix(".npz").unlink(missing_ok=True)
                if not e.path.with_suffix(".json").exists():
                    e.path.with_suffix(".lock").unlink(missing_ok=True)
        freed += e.bytes
    say(f"{'would free' if dry_run else 'freed'} {_human(freed)} ({len(chosen)} entries)")
    return freed


def _print_list(entries: list[Entry], results_dir: Path, data_dir: Path, verbose: bool) -> None:
    for cache, folder in (("results", results_dir), ("data", data_dir)):
        mine = [e for e in entries if e.cache == cache]
        total = sum(e.bytes for e in mine)
        print(f"{cache} cache: {folder} — {_human(total)} in {len(mine)} entries")
        for status in STATUSES:
            sel = [e for e in mine if e.status == status]
            if not sel:
                continue
            kinds = {}
            for e in sel:
                kinds[e.kind] = kinds.get(e.kind, 0) + 1
            print(f"  {status:9} {_human(sum(e.bytes for e in sel)):>9}  "
                  + ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in kinds.items()))
            if status == "reachable" and cache == "results":
                per_profile: dict[str, int] = {}
                for e in sel:
                    for label in e.why.split("; "):
                        per_profile[label.split(":")[0]] = per_profile.get(label.split(":")[0], 0) + 1
                print("            " + ", ".join(f"{p}: {n} runs" for p, n in sorted(per_profile.items())))
            if verbose or status in ("stale", "orphan", "in use"):
                for e in sel:
                    print(f"      {_human(e.bytes):>9}  {e.path}  ({e.why})")
    stale = [e for e in entries if e.status in ("stale", "orphan")]
    if stale:
        print(f"`python -m rtc.cache prune` would free {_human(sum(e.bytes for e in stale))} "
              f"({len(stale)} stale or orphaned entries); add --dry-run to see them first")
    else:
        print("nothing stale or orphaned")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rtc.cache", description=__doc__.split("\n\n")[0])
    ap.add_argument("--results-dir", default=None, help="results cache (default: $RTC_RESULTS_DIR or <repo>/results)")
    ap.add_argument("--data-dir", default=None, help="data cache (default: $RTC_CACHE_DIR or <repo>/.cache/rtc)")
    ap.add_argument("--root", default=None, help="repository root (default: found from the current folder)")
    sub = ap.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="what the caches hold: reachable, stale, orphaned, in use")
    ls.add_argument("-v", "--verbose", action="store_true", help="one line per entry, reachable ones too")
    pr = sub.add_parser("prune", help="remove stale entries and orphaned temporary files")
    pr.add_argument("--stale", action="store_true", help="remove stale runs, evaluations and data files")
    pr.add_argument("--orphans", action="store_true", help="remove temporary files of killed writers")
    pr.add_argument("--all", action="store_true", help="remove reachable entries too (everything but what is in use)")
    pr.add_argument("--dry-run", action="store_true", help="print what would go and remove nothing")
    a = ap.parse_args(argv)

    try:
        root = find_root(a.root)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results_dir = Path(a.results_dir).resolve() if a.results_dir else _results_dir(root)
    data_dir = Path(a.data_dir).resolve() if a.data_dir else cache_dir(create=False)
    entries = scan(root=root, results_dir=results_dir, data_dir=data_dir)
    if a.command == "list":
        _print_list(entries, results_dir, data_dir, a.verbose)
        return 0
    both = not (a.stale or a.orphans)
    prune(entries, stale=a.stale or both, orphans=a.orphans or both, everything=a.all, dry_run=a.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
