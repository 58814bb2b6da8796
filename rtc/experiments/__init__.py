"""Experiments: what a run is (:mod:`rtc.experiments.specs`), a profile's grid of runs
(:mod:`rtc.experiments.grid`, no Ray), one run trained, evaluated and cached (:func:`run`) or read from the cache
(:func:`load_results`) in :mod:`rtc.experiments.results`, and the evaluation files (:mod:`rtc.experiments.store`).
The paper's analyses build on these: :mod:`rtc.experiments.comparison` and :mod:`rtc.experiments.disintegration`.
Grids are executed by :mod:`rtc.sweep` (Ray), which calls :func:`run` once per run.
"""
from .results import (
           RUNS,
           NotCached,
           RunResult,
           cached_result,
           default_results_dir,
           load_results,
           results_table,
           run,
           run_dir,
)
from .specs import EVAL_PRESETS, DatasetSpec, EvalSettings, RunSpec, as_dataset_spec
from .store import CorruptEvaluation, eval_path, read_evaluation

__all__ = ["run", "load_results", "cached_result", "results_table", "read_evaluation", "RunResult", "NotCached",
           "CorruptEvaluation", "EvalSettings", "EVAL_PRESETS", "DatasetSpec", "RunSpec", "as_dataset_spec", "RUNS",
           "run_dir", "eval_path", "default_results_dir"]
