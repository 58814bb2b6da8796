"""Experiments: one run = train + evaluate, cached (:mod:`rtc.experiments.run`).

Grids of runs go through :mod:`rtc.sweep` (Ray), which calls :func:`run` once per run.
"""
from .run import (EVAL_PRESETS, DatasetSpec, EvalSettings, RunResult, as_dataset_spec, default_results_dir,
                  eval_path, run)

__all__ = ["run", "RunResult", "EvalSettings", "EVAL_PRESETS", "DatasetSpec", "as_dataset_spec", "eval_path",
           "default_results_dir"]
