"""Experiments: one run = train + evaluate, cached (:func:`run`, in :mod:`rtc.experiments.results`, which owns the
results cache's layout).

A profile's grid — which runs, their cost, which are cached — is :mod:`rtc.experiments.grid` (no Ray); grids are
executed by :mod:`rtc.sweep` (Ray), which calls :func:`run` once per run.
"""
from .results import (
                  EVAL_PRESETS,
                  DatasetSpec,
                  EvalSettings,
                  RunResult,
                  as_dataset_spec,
                  default_results_dir,
                  eval_path,
                  run,
)

__all__ = ["run", "RunResult", "EvalSettings", "EVAL_PRESETS", "DatasetSpec", "as_dataset_spec", "eval_path",
           "default_results_dir"]
