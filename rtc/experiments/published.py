"""Published results: the per-snapshot evaluation table of a study too long for a book build, committed under
``published/`` with what produced it.

One row per run and kept step (:func:`snapshot_rows`): the run's settings, the step and the images seen, the claim
quantities of its curve there (:mod:`rtc.experiments.curves`), the ingredients of the learning check (the
reconstruction through µ, the trained reconstruction — the training log's over the last tenth of the steps so far —
and the dataset's mean-image baseline and floor: the check itself is applied by whoever reads the table, with the
one rule of :func:`rtc.experiments.comparison.learning.add_learning`), the held-out accuracy of a classifier per
factor (``acc_<factor>``, :mod:`rtc.experiments.probes`), and provenance: the training seconds up to the step, the
precision, the git commit, the digests of the training code (the run's cache key, :func:`rtc.models.code_version`)
and of the evaluation code (:func:`rtc.experiments.store.eval_code_version`), and when the table was written.

:func:`write_table` writes it atomically (a reader sees the old table or the new one; a kill leaves no temporary
file behind, :mod:`rtc._io`); :func:`read_table` reads one back and refuses, naming the file and what is wrong,
a table with a missing column, a non-numeric value where a number belongs, a row of another study, or rows of
more than one code digest. :func:`staleness` compares its digests with today's code: the book says whether the
published numbers were computed by the code it ships.
"""
from __future__ import annotations

import io
import math
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rtc._io import atomic_write_text
from rtc.models import code_version
from rtc.models.runfiles import read_run_file, snapshot_path
from rtc.paths import find_root

from .probes import ProbeSettings, cached_factor_accuracy
from .store import eval_code_version

__all__ = ["PUBLISHED", "ID_COLUMNS", "QUANTITY_COLUMNS", "PROVENANCE_COLUMNS", "COLUMNS", "PublishedTableError",
           "published_path", "trained_recon_at", "snapshot_rows", "git_commit", "write_table", "read_table",
           "staleness", "provenance", "TRAINED_SHARE", "RUN_COLUMNS", "run_key", "config_key", "kept_rows"]

PUBLISHED = "published"

ID_COLUMNS = ("study", "cell", "model", "dataset", "strength", "seed", "lr", "batch_size", "warmup_steps",
              "precision", "step", "images_seen")
QUANTITY_COLUMNS = ("tc_mean", "tc_sample", "disparity", "tc_mean_active", "tc_sample_active", "active_dims",
                    "recon", "trained_recon", "baseline", "floor", "kl", "lmin_mu", "lmin_z", "var_sum",
                    "band_share", "eta")
PROVENANCE_COLUMNS = ("train_seconds", "commit", "train_code", "eval_code", "written")
COLUMNS = ID_COLUMNS + QUANTITY_COLUMNS + PROVENANCE_COLUMNS
_TEXT = {"study", "cell", "model", "dataset", "precision", "commit", "train_code", "eval_code", "written"}
_INTEGER = {"seed", "batch_size", "warmup_steps", "step", "images_seen", "active_dims"}
# The trained reconstruction: the training log's mean over this share of the steps so far (at least one step).
TRAINED_SHARE = 0.1


class PublishedTableError(ValueError):
    """A published table that cannot be used: the message names the file and what is wrong."""


def published_path(name: str, root: str | Path | None = None) -> Path:
    """``<repository>/published/<name>.csv``."""
    return find_root(root) / PUBLISHED / f"{name}.csv"


def trained_recon_at(recon_log, step: int, share: float = TRAINED_SHARE) -> float:
    """The reconstruction the model was trained on after ``step`` steps: the mean of the per-step log ``recon_log``
    (Bernoulli −log p(x | z), z ~ q(z|x), nats per image of the training batches) over the last ``share`` of the
    first ``step`` steps (at least one). NaN when the log is shorter than ``step``."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    log = np.asarray(recon_log, dtype=np.float64)
    if step < 1 or len(log) < step:
        return math.nan
    k = max(1, int(round(share * step)))
    return float(log[step - k:step].mean())


def _seconds_at(result, step: int) -> float:
    """Training seconds up to ``step``: the snapshot's (format 2 keeps them), else the run's total at its end."""
    state = result._final_state()
    if step == int(state["step"]):
        return float(state["seconds"])
    snap = read_run_file(snapshot_path(result.run_dir, step), f"Delete {result.run_dir} and train the run again.")
    return float(snap.get("seconds", math.nan))


def git_commit(root: str | Path | None = None) -> str:
    """``git rev-parse HEAD`` of the repository (``+dirty`` when tracked files other than the published tables
    differ from it: the code digests then say what computed the table), or "unknown". The tables under
    ``published/`` do not count: a study rewrites its own table after every budget, which would otherwise mark
    every table after the first of a call dirty."""
    cwd = find_root(root)
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                  f":(exclude){PUBLISHED}/*.csv"], cwd=cwd, capture_output=True, text=True,
                                 check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if changed else "")


def snapshot_rows(result, dataset, *, study: str, cell: str, baseline: dict, probe: ProbeSettings | None = None,
                  commit: str | None = None) -> list[dict]:
    """One row (:data:`COLUMNS` but ``written``, then ``acc_<factor>`` per factor) per kept step of ``result``
    (a :class:`rtc.experiments.RunResult` whose curve is evaluated) on ``dataset`` (the run's, loaded).
    ``baseline``: :func:`rtc.experiments.comparison.learning.mean_image_baseline` of the dataset."""
    c, probe = result.config, probe or ProbeSettings()
    curve = result.curve()
    log = result.training_log()["recon"].to_numpy()  # config.steps rows: the run as trained that far
    commit = commit if commit is not None else git_commit()
    train, evalc = code_version(dataset), eval_code_version()
    rows = []
    for p in curve.to_dict("records"):
        step = int(p["step"])
        acc = cached_factor_accuracy(result, step, dataset, probe)
        rows.append({"study": study, "cell": cell, "model": c.model, "dataset": result.dataset.name,
                     "strength": float(c.strength), "seed": int(c.seed), "lr": float(c.lr),
                     "batch_size": int(c.batch_size), "warmup_steps": int(c.warmup_steps), "precision": c.precision,
                     "step": step, "images_seen": step * int(c.batch_size),
                     **{k: float(p[k]) for k in QUANTITY_COLUMNS if k in p and k != "active_dims"},
                     "active_dims": int(p["active_dims"]),
                     "trained_recon": trained_recon_at(log, step), "baseline": float(baseline["baseline"]),
                     "floor": float(baseline["floor"]), "train_seconds": _seconds_at(result, step),
                     "commit": commit, "train_code": train, "eval_code": evalc,
                     **{f"acc_{k}": v for k, v in acc.items()}})
    return rows


def write_table(rows, path: str | Path) -> pd.DataFrame:
    """Write ``rows`` (what :func:`snapshot_rows` returns, any number of runs) as the CSV ``path``, atomically,
    sorted by cell, seed and step, with ``written`` = now (UTC); checked as :func:`read_table` checks it first."""
    table = pd.DataFrame(list(rows))
    table["written"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    acc = sorted(c for c in table.columns if c.startswith("acc_"))
    table = table[list(COLUMNS) + acc].sort_values(["cell", "seed", "step"], kind="stable").reset_index(drop=True)
    _check(table, str(path), study=None)
    buf = io.StringIO()
    table.to_csv(buf, index=False, float_format="%.6g")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(path), buf.getvalue())
    return table


def _check(table: pd.DataFrame, source: str, study: str | None) -> None:
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise PublishedTableError(f"{source}: missing columns {missing}; a published table has {list(COLUMNS)} and "
                                  "acc_<factor> per factor (rtc.experiments.published)")
    if table.empty:
        raise PublishedTableError(f"{source}: no rows")
    for c in COLUMNS:
        if c in _TEXT:
            continue
        values = pd.to_numeric(table[c], errors="coerce")
        bad = table[c][values.isna() & table[c].notna()]
        if len(bad):
            raise PublishedTableError(f"{source}: column {c!r} holds non-numbers, e.g. {bad.iloc[0]!r} (row "
                                      f"{bad.index[0] + 2} of the file)")
        if c in _INTEGER and (values.isna().any() or (values % 1 != 0).any()):
            raise PublishedTableError(f"{source}: column {c!r} must hold whole numbers")
    if study is not None and set(table["study"]) != {study}:
        raise PublishedTableError(f"{source}: rows of studies {sorted(set(table['study']))}, expected only "
                                  f"{study!r}")
    for c in ("train_code", "eval_code"):
        if table[c].nunique() != 1:
            raise PublishedTableError(f"{source}: rows of {table[c].nunique()} different {c} digests "
                                      f"({sorted(set(table[c]))}): a table mixes runs of different code; publish it "
                                      "again from one code version")
    dup = table.duplicated(["cell", "seed", "step"])
    if dup.any():
        raise PublishedTableError(f"{source}: {int(dup.sum())} duplicate (cell, seed, step) rows")


def read_table(path: str | Path, *, study: str | None = None) -> pd.DataFrame:
    """A published table, checked (module docstring); ``study``: the only study its rows may belong to."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: no published table (python -m rtc.studies writes it)")
    try:
        table = pd.read_csv(path, dtype={c: str for c in _TEXT})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise PublishedTableError(f"{path}: not a readable CSV ({type(e).__name__}: {str(e)[:200]})") from e
    _check(table, str(path), study)
    for c in COLUMNS:
        if c not in _TEXT:
            table[c] = pd.to_numeric(table[c])
    return table


def staleness(table: pd.DataFrame, dataset) -> dict:
    """Whether the table's runs and evaluations are today's code: ``{"train_code", "eval_code"}`` (the table's),
    ``{"today_train", "today_eval"}``, ``current`` (both equal) and ``text``, one sentence for the book."""
    train, evalc = str(table["train_code"].iloc[0]), str(table["eval_code"].iloc[0])
    today_train, today_eval = code_version(dataset), eval_code_version()
    current = train == today_train and evalc == today_eval
    parts = [f"training code {train}" + ("" if train == today_train else f" (today's: {today_train})"),
             f"evaluation code {evalc}" + ("" if evalc == today_eval else f" (today's: {today_eval})")]
    text = ("computed by today's code (" + ", ".join(parts) + ")" if current else
            "computed by OLDER code than this book's (" + ", ".join(parts) + "): rerun the study to refresh it")
    return {"train_code": train, "eval_code": evalc, "today_train": today_train, "today_eval": today_eval,
            "current": current, "text": text}


def _short(commit: str) -> str:
    return commit[:12] + ("+dirty" if commit.endswith("+dirty") else "")


def provenance(table: pd.DataFrame, dataset) -> dict:
    """Where a published table's numbers come from: ``runs``, ``images_min`` / ``images_max`` (the furthest kept
    step of each run, the least and the most), ``train_hours`` (the runs' training time summed, one CPU thread
    or device each), ``precision``, ``commit``, ``written``, :func:`staleness`, and ``text``, one sentence for the
    book naming all of them."""
    last = table.sort_values("step").groupby(["cell", "seed"]).tail(1)
    commits = sorted(set(table["commit"]))
    stale = staleness(table, dataset)
    out = {"runs": len(last), "images_min": int(last["images_seen"].min()),
           "images_max": int(last["images_seen"].max()), "train_hours": float(last["train_seconds"].sum()) / 3600,
           "precision": ", ".join(sorted(set(table["precision"]))), "commit": ", ".join(_short(c) for c in commits),
           "written": str(table["written"].max()), "staleness": stale}
    reach = (f"{out['images_min']:,} images per run" if out["images_min"] == out["images_max"] else
             f"{out['images_min']:,} to {out['images_max']:,} images per run")
    out["text"] = (f"{out['runs']} runs, {reach}, {out['train_hours']:.1f} hours of training in all "
                   f"({out['precision']}), published at commit {out['commit']} on {out['written']}; "
                   f"{stale['text']}")
    return out


# A run's identity in a published table: what its cache key holds and the table records (the cell is a label).
RUN_COLUMNS = ("model", "dataset", "strength", "seed", "lr", "batch_size", "warmup_steps", "precision")


def run_key(values) -> tuple:
    """The run of a table row, or of a RunSpec's fields (:data:`RUN_COLUMNS`); floats rounded to the CSV's six
    significant digits, so that a value read back from the table matches the grid's."""
    text, floats = {"model", "dataset", "precision"}, {"strength", "lr"}
    return tuple(str(v) if c in text else float(f"{float(v):.6g}") if c in floats else int(v)
                 for c, v in zip(RUN_COLUMNS, values, strict=True))


def config_key(c, dataset) -> tuple:
    """The run key of a TrainConfig ``c`` on the DatasetSpec ``dataset`` (a RunSpec's or a RunResult's)."""
    return run_key((c.model, dataset.name, c.strength, c.seed, c.lr, c.batch_size, c.warmup_steps, c.precision))


def kept_rows(table: pd.DataFrame, cells: dict, reached_images: dict, datasets: dict) -> tuple[list[dict], list[str]]:
    """The rows of a published ``table`` that a study's cache does not replace, relabelled with today's cells,
    and one line per published run left out, saying why.

    A published run is kept when it is one of the study's runs (``cells``: run key → (cell, RunSpec)), its code
    digests are today's (a table holds one code version: :func:`read_table`) and it reaches further than the cache
    holds it (``reached_images``: run key → images per run evaluated in the cache). So a fresh clone, whose cache
    is empty, publishes what was published before, and a run it trains replaces its rows once it reaches as far.
    ``datasets``: DatasetSpec → the loaded dataset (filled as needed)."""
    kept, dropped, digests = [], [], {}  # digests: DatasetSpec → today's (training, evaluation) code digests
    for key, g in table.groupby(list(RUN_COLUMNS), sort=False):
        key = run_key(key)
        images = int(g["images_seen"].max())
        what = f"{key[0]} {key[2]:g} seed {key[3]} lr {key[4]:g} batch {key[5]} ({images:,} images)"
        if key not in cells:
            dropped.append(f"{what}: not a run of the study any more")
            continue
        cell, spec = cells[key]
        if spec.dataset not in digests:
            if spec.dataset not in datasets:
                datasets[spec.dataset] = spec.dataset.load()
            digests[spec.dataset] = (code_version(datasets[spec.dataset]), eval_code_version())
        today = digests[spec.dataset]
        if (str(g["train_code"].iloc[0]), str(g["eval_code"].iloc[0])) != today:
            dropped.append(f"{what}: computed by other code (digests {g['train_code'].iloc[0]}, "
                           f"{g['eval_code'].iloc[0]}; today's {today[0]}, {today[1]})")
        elif images > reached_images.get(key, 0):
            kept += [{**r, "cell": cell} for r in g.drop(columns="written").to_dict("records")]
    return kept, dropped
