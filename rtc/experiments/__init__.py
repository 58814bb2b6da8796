"""Experiments: one run = train + evaluate, cached (:func:`run`), and the cache read without computing anything
(:func:`load_results`), in :mod:`rtc.experiments.results`, which owns the results cache's layout (:data:`RUNS`,
:func:`run_dir`, :func:`eval_path`).

A profile's grid — which runs, their cost, which are cached — is :mod:`rtc.experiments.grid` (no Ray); grids are
executed by :mod:`rtc.sweep` (Ray), which calls :func:`run` once per run.
"""
from .results import (
                  EVAL_PRESETS,
                  RUNS,
                  CorruptEvaluation,
                  DatasetSpec,
                  EvalSettings,
                  NotCached,
                  RunResult,
                  as_dataset_spec,
                  cached_result,
                  default_results_dir,
                  eval_path,
                  load_results,
                  read_evaluation,
                  results_table,
                  run,
                  run_dir,
)

__all__ = ["run", "load_results", "cached_result", "results_table", "read_evaluation", "RunResult", "NotCached",
           "CorruptEvaluation", "EvalSettings", "EVAL_PRESETS", "DatasetSpec", "as_dataset_spec", "RUNS", "run_dir",
           "eval_path", "default_results_dir"]
