"""The evaluation cache's files: where a run's evaluation lives (:func:`eval_path`, keyed by the run, the
settings and the evaluation code, :func:`eval_code_version`), how it is written (:func:`write_evaluation`: the
matrices' ``.npz`` first, the JSON last, both atomically) and read back bit-identical (:func:`read_evaluation`).
``rtc.experiments.results`` documents the layout and owns the run folders.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from rtc._io import atomic_write
from rtc._source import files_digest

from .specs import EvalSettings

__all__ = ["EVAL_FORMAT", "EVAL_CODE_MODULES", "CorruptEvaluation", "eval_code_version", "eval_dir", "eval_path",
           "evaluation_files", "write_evaluation", "read_evaluation"]

# Version of the evaluation file's layout (the JSON's "format"); another number is a file this code cannot read.
EVAL_FORMAT = 1

# Source files whose change invalidates a cached evaluation (paths relative to the rtc package).
EVAL_CODE_MODULES = ("experiments/results.py", "experiments/specs.py", "experiments/store.py", "experiments/curves.py",
                     "metrics", "estimators/knn.py", "estimators/density_ratio.py",
                     "discriminator.py", "models/encoding.py", "gaussian.py")
# Files inside those that draw but compute nothing an evaluation stores.
EVAL_CODE_EXCLUDED = ("metrics/plots.py",)


class CorruptEvaluation(ValueError):
    """A cached evaluation file that cannot be read; the message names the file and says to delete it."""


def _rtc_root() -> Path:
    return Path(__file__).resolve().parents[1]


def eval_code_version() -> str:
    """sha256 (16 hex) of the evaluation code (:data:`EVAL_CODE_MODULES`; docstrings and comments do not count)."""
    root = _rtc_root()
    files = [f for rel in EVAL_CODE_MODULES
             for f in ((root / rel).rglob("*.py") if (root / rel).is_dir() else [root / rel])]
    return files_digest([f for f in files if f.relative_to(root).as_posix() not in EVAL_CODE_EXCLUDED])[:16]


def eval_dir(run_dir: str | Path) -> Path:
    """The folder of a run's evaluations (JSON files, their matrices, their locks)."""
    return Path(run_dir) / "eval"


def eval_path(run_dir: str | Path, settings: EvalSettings, step: int) -> Path:
    """Where the evaluation of the run in ``run_dir`` after ``step`` training steps under ``settings`` is cached:
    ``eval/<name>-<step>-<key>.json`` (its matrices in the sibling ``.npz``); the key hashes the run, the step, the
    settings and :func:`eval_code_version`."""
    blob = json.dumps({"run": Path(run_dir).name, "step": int(step), "settings": settings.to_dict(),
                       "code": eval_code_version()}, sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return eval_dir(run_dir) / f"{settings.name}-{int(step)}-{key}.json"


def evaluation_files(run_dir: str | Path) -> list[Path]:
    """The run's evaluation files (any settings, any evaluation code), newest first."""
    folder = eval_dir(run_dir)
    return sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []


def _json_scalar(v):
    """json.dumps' fallback: NumPy scalars as the Python number they hold exactly (np.float64 is a float already)."""
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    raise TypeError(f"an evaluation holds a {type(v).__name__} ({v!r:.80}), which has no exact JSON form")


def _table_doc(df: pd.DataFrame, where: str) -> dict:
    """A table as its column dtypes and its records. Only what JSON keeps exactly is accepted: unique string column
    names and the index 0 … n − 1 (which is not stored)."""
    if not df.index.equals(pd.RangeIndex(len(df))):
        raise ValueError(f"evaluation table {where}: its index must be 0 … n − 1 (it is not stored), got {df.index}")
    if not (df.columns.is_unique and all(isinstance(c, str) for c in df.columns)):
        raise ValueError(f"evaluation table {where}: column names must be unique strings, got {list(df.columns)}")
    return {"dtypes": {c: str(t) for c, t in df.dtypes.items()}, "records": df.to_dict("records")}


def _table(doc: dict) -> pd.DataFrame:
    records = doc["records"]
    # column by column with the stored dtype: an object column keeps its None, an int column its ints
    return pd.DataFrame({c: pd.Series([r[c] for r in records], dtype=t) for c, t in doc["dtypes"].items()},
                        index=pd.RangeIndex(len(records)))


def write_evaluation(path: Path, out: dict) -> None:
    """Write ``out`` (what :func:`_evaluate` returns, its row completed) as ``path`` (JSON) and its ``.npz``."""
    doc = {"format": EVAL_FORMAT, "row": out["row"], "conventions": out["conventions"],
           "factor_names": list(out["factor_names"]), "per_factor": _table_doc(out["per_factor"], "per_factor"),
           "disintegration": {k: _table_doc(v, f"disintegration[{k!r}]") for k, v in out["disintegration"].items()}}
    text = json.dumps(doc, default=_json_scalar, indent=1)  # floats by repr: exact; NaN/inf as NaN/Infinity
    matrices = {k: np.asarray(v) for k, v in out["matrices"].items()}
    bad = [k for k, v in matrices.items() if v.dtype == object]
    if bad:
        raise TypeError(f"evaluation matrices {bad} are not numeric arrays")

    def write_npz(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to the temporary name
            np.savez(f, **matrices)

    atomic_write(path.with_suffix(".npz"), write_npz)
    atomic_write(path, lambda tmp: tmp.write_text(text))  # last: a JSON that exists means a complete entry


def read_evaluation(path: str | Path) -> dict:
    """A cached evaluation (``eval/<name>-<key>.json`` and its ``.npz``): dict with ``row``, ``matrices`` (name →
    array), ``per_factor`` (DataFrame), ``disintegration`` (name → DataFrame), ``factor_names`` (tuple) and
    ``conventions``, exactly as written. Raises :class:`CorruptEvaluation` naming the file when it cannot be read
    (and FileNotFoundError when the JSON does not exist)."""
    path = Path(path)
    npz = path.with_suffix(".npz")
    text = path.read_text()
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("format") != EVAL_FORMAT:
            raise ValueError(f"not an evaluation of format {EVAL_FORMAT}")
        with np.load(npz, allow_pickle=False) as z:
            matrices = {k: z[k] for k in z.files}
        return {"row": dict(doc["row"]), "matrices": matrices, "per_factor": _table(doc["per_factor"]),
                "disintegration": {k: _table(v) for k, v in doc["disintegration"].items()},
                "factor_names": tuple(doc["factor_names"]), "conventions": dict(doc["conventions"])}
    except (ValueError, KeyError, TypeError, AttributeError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise CorruptEvaluation(f"{path} cannot be read ({type(e).__name__}: {str(e)[:200]}): it is truncated, damaged "
                                f"or of another format; delete it and {npz.name} beside it, and the run is evaluated "
                                "again when next asked for") from e
