"""A profile's grid of runs, without running anything: :class:`RunSpec`, :func:`load_grid` / :func:`grid_runs`
(``parameters/<profile>/training.yaml``), the cost model (:func:`estimate_seconds`) and :func:`dry_run`.

This module imports no Ray and changes no environment: describing or costing a grid is safe anywhere.
Executing a grid is :func:`rtc.sweep.run_grid` (Ray); one run is :func:`rtc.experiments.run`.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import typing
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rtc._validate import Config, ConfigError, _type_name, fits, is_integer

from .results import cached_result, default_results_dir
from .specs import EVAL_PRESETS, DatasetSpec, EvalSettings, RunSpec, check_resources, run_settings

__all__ = ["Resources", "GridError", "load_grid", "validate_grid", "grid_key", "grid_runs", "cached_row",
           "estimate_seconds", "dry_run", "STEP_SECONDS", "EVAL_SECONDS"]


class GridError(ConfigError):
    """A training.yaml that does not fit the grid schema (the message names the file and the key)."""


def cached_row(spec: RunSpec, results_dir: Path, datasets: dict):
    """The cached evaluation's row of ``spec``, or None (reads the cache; trains nothing). ``datasets``: DatasetSpec →
    loaded dataset, shared across calls."""
    try:
        r = cached_result(spec, results_dir=results_dir, datasets=datasets)
    except Exception:  # noqa: BLE001 — not readable here: the run's task reports the error with its settings
        return None
    return None if r is None else r.row


# ---------------------------------------------------------------------------------------------------------------
# The profile's grid: parameters/<profile>/training.yaml
# ---------------------------------------------------------------------------------------------------------------

_GRID_KEYS = {"name": str, "models": list, "strengths": list, "datasets": list, "seeds": list, "overrides": dict}
_TOP_KEYS = ("description", "defaults", "eval", "resources", "grids")
_FROM_GRID = ("model", "strength", "seed")  # TrainConfig fields a grid sets; not allowed in defaults / overrides


@dataclass(frozen=True)
class Resources(Config):
    """Ray resources of every run of a grid (training.yaml's ``resources``): CPUs (> 0) and GPUs (≥ 0; a fraction
    shares one GPU between runs, e.g. 0.25 puts four on one) per run."""
    cpus_per_run: float = 1.0
    gpus_per_run: float = 0.0

    def __post_init__(self):
        cpus, gpus = check_resources(self.cpus_per_run, self.gpus_per_run, ("cpus_per_run", "gpus_per_run"))
        object.__setattr__(self, "cpus_per_run", cpus)
        object.__setattr__(self, "gpus_per_run", gpus)


def _train_fields(values, where: str) -> dict:
    """A ``defaults`` / ``overrides`` mapping checked against the ``TrainConfig`` fields and their annotations
    (:func:`rtc._validate.fits`), lists made tuples; the grid's own fields (model, strength, seed) are refused."""
    from rtc.models import TrainConfig

    if not isinstance(values, dict):
        raise GridError(f"{where}: expected a mapping of TrainConfig fields, got {type(values).__name__} {values!r}")
    hints = {k: v for k, v in typing.get_type_hints(TrainConfig).items() if k not in _FROM_GRID}
    out = {}
    for k, v in values.items():
        if k not in hints:
            raise GridError(f"{where}: unknown key {k!r}; allowed: {', '.join(sorted(hints))}")
        if not fits(hints[k], v):
            raise GridError(f"{where}: {k!r} must be {_type_name(hints[k])}, got {type(v).__name__} {v!r}")
        out[k] = tuple(v) if isinstance(v, list) else v
    return out


def validate_grid(doc, source: str = "training.yaml") -> dict:
    """Check a parsed training.yaml against the schema of :func:`load_grid`; return it normalised."""
    from rtc.data import DATASETS
    from rtc.models import MODELS

    if not isinstance(doc, dict):
        raise GridError(f"{source}: expected a mapping with keys {_TOP_KEYS}, got {type(doc).__name__}")
    for k in doc:
        if k not in _TOP_KEYS:
            raise GridError(f"{source}: unknown top-level key {k!r}; allowed: {', '.join(_TOP_KEYS)}")
    if "grids" not in doc:
        raise GridError(f"{source}: missing 'grids'")
    defaults = _train_fields(doc.get("defaults") or {}, f"{source}: defaults")
    ev = doc.get("eval") or {}
    if not isinstance(ev, dict):
        raise GridError(f"{source}: eval: expected a mapping, got {type(ev).__name__} {ev!r}")
    ev = dict(ev)
    preset = ev.pop("preset", "reference")
    if preset not in EVAL_PRESETS:
        raise GridError(f"{source}: eval.preset must be one of {sorted(EVAL_PRESETS)}, got {preset!r}")
    try:
        # The preset's values, then the file's: one check of every field against EvalSettings.
        settings = EvalSettings.from_mapping({**EVAL_PRESETS[preset].to_dict(), **ev}, where=f"{source}: eval")
        resources = Resources.from_mapping(doc.get("resources") or {}, where=f"{source}: resources")
    except ConfigError as e:
        raise GridError(str(e)) from None
    grids = doc["grids"]
    if not isinstance(grids, list) or not grids:
        raise GridError(f"{source}: 'grids' must be a non-empty list of grids")
    names, out_grids = set(), []
    for j, g in enumerate(grids):
        where = f"{source}: grids[{j}]"
        if not isinstance(g, dict):
            raise GridError(f"{where}: expected a mapping, got {type(g).__name__}")
        for k in g:
            if k not in _GRID_KEYS:
                raise GridError(f"{where}: unknown key {k!r}; allowed: {', '.join(_GRID_KEYS)}")
        for k in ("name", "models", "strengths", "datasets", "seeds"):
            if k not in g:
                raise GridError(f"{where}: missing {k!r}")
            if not isinstance(g[k], _GRID_KEYS[k]) or (isinstance(g[k], list) and not g[k]):
                raise GridError(f"{where}: {k!r} must be a non-empty {_GRID_KEYS[k].__name__}, got {g[k]!r}")
        if g["name"] in names:
            raise GridError(f"{where}: duplicate grid name {g['name']!r}")
        names.add(g["name"])
        for k, ok, what in (("models", lambda m: m in MODELS, f"a model of {sorted(MODELS)}"),
                            ("strengths", lambda s: fits(float, s), "a number"),
                            ("datasets", lambda d: d in DATASETS, f"one of {DATASETS}"),
                            ("seeds", lambda s: is_integer(s) and s >= 0, "an integer ≥ 0")):
            bad = [x for x in g[k] if not ok(x)]
            if bad:
                raise GridError(f"{where} ({g['name']}): {k} {bad} — each must be {what}")
        overrides = _train_fields(g.get("overrides") or {}, f"{where} ({g['name']}): overrides")
        out_grids.append({**g, "overrides": overrides})
    return {"description": doc.get("description", ""), "defaults": defaults, "eval": settings,
            "resources": resources, "grids": out_grids}


def grid_key(grid: dict) -> str:
    """sha256 of a normalised grid (what :func:`load_grid` / :func:`validate_grid` return): every setting its runs
    are built from, so two training.yaml files that differ only in comments, layout or key order share it."""
    doc = {**grid, "eval": grid["eval"].to_dict(), "resources": grid["resources"].to_dict()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def load_grid(profile: str, *, root: str | Path | None = None) -> dict:
    """Read and validate ``parameters/<profile>/training.yaml``.

    Schema (unknown keys and wrong types are a :class:`GridError` naming the file and the key)::

        description: str                 # optional
        defaults: {TrainConfig field: value}   # shared by every run; not model/strength/seed
        eval: {preset: reference|fast|lean|ci, EvalSettings field: value}
        resources: {cpus_per_run: number > 0, gpus_per_run: number ≥ 0}   # optional; default 1 and 0
        grids:                           # each: the product models × strengths × datasets × seeds
          - name: str                    # unique; chapters select grids by name
            models: [model, ...]         # rtc.models.MODELS
            strengths: [number, ...]     # β, γ or λ_od (DIP-VAE λ_d follows Table 1 unless overridden)
            datasets: [dsprites|shapes3d|cars3d, ...]
            seeds: [int, ...]
            overrides: {TrainConfig field: value}   # optional, this grid only

    Returns ``{"description", "defaults", "eval" (EvalSettings), "resources" (Resources), "grids" (list of dicts)}``.
    """
    import yaml

    from rtc.paths import find_root

    path = find_root(root) / "parameters" / profile / "training.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no grid file {path} for profile {profile!r}")
    return validate_grid(yaml.safe_load(path.read_text()), str(path))


def grid_runs(profile: str | dict, grids=None, *, root: str | Path | None = None) -> list[RunSpec]:
    """The runs of ``profile`` (a name or a :func:`load_grid` dict), restricted to the grids named in ``grids``
    (default: all), in file order, without duplicates (a run in two grids appears once)."""
    from rtc.models import TrainConfig

    g = load_grid(profile, root=root) if isinstance(profile, str) else profile
    known = [x["name"] for x in g["grids"]]
    if grids is not None:
        grids = [grids] if isinstance(grids, str) else list(grids)
        unknown = [n for n in grids if n not in known]
        if unknown:
            raise GridError(f"unknown grids {unknown}; the profile defines {known}")
    out, seen = [], set()
    for grid in g["grids"]:
        if grids is not None and grid["name"] not in grids:
            continue
        for model, strength, dataset, seed in itertools.product(grid["models"], grid["strengths"],
                                                                grid["datasets"], grid["seeds"]):
            cfg = TrainConfig(model=model, strength=float(strength), seed=seed,
                              **{**g["defaults"], **grid["overrides"]})
            spec = RunSpec(cfg, DatasetSpec(dataset), g["eval"], cpus=g["resources"].cpus_per_run,
                           gpus=g["resources"].gpus_per_run)
            if spec not in seen:
                seen.add(spec)
                out.append(spec)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Cost estimate
# ---------------------------------------------------------------------------------------------------------------

# Seconds per image of one training step on this project's reference CPU (2 cores, torch 2.13, Table 2 model,
# channels_last, both cores for one run, quiet machine), measured once: the VAE step ran at ≈ 340 images/s (batch 64
# and 500 alike; ≈ 1.5 s per step at batch 500); a FactorVAE step with the 6 × 1000 discriminator took ≈ 2.1 s at
# batch 500, i.e. ≈ 1.2 ms per image more, of which encoding the second batch is ≈ 0.4 ms (≈ 2,500 images/s) and
# the rest is scaled here by the discriminator's hidden weight count (5 × 1000²). A shared machine can be 3–7×
# slower; a GPU is far faster (bench/gpu_check.py measures it).
STEP_SECONDS = {"vae_per_image": 1 / 340, "encode_per_image": 1 / 2500,
                "disc_per_image_per_weight": (0.6 / 500 - 1 / 2500) / (5 * 1000 * 1000)}
# Evaluation cost per run and preset, seconds on the same CPU: "ci" (≈ 15 s), "lean" (≈ 55 s: the default grid
# on one thread per run) and "fast" (≈ 225 s) measured once
# on a small model (rtc.experiments.run, 2 threads); "reference" is an estimate from bench/bench_metrics.py (DCI
# with gradient boosting ≈ 830 s on 10,000 codes, Chen's MIG ≈ 180 s) plus the scores' encoding.
EVAL_SECONDS = {"ci": 15.0, "lean": 55.0, "fast": 225.0, "reference": 1500.0}


def estimate_seconds(spec: RunSpec) -> float:
    """Estimated seconds (training + evaluation) of one run on the reference 2-core CPU, from :data:`STEP_SECONDS` and
    :data:`EVAL_SECONDS` (a custom preset name is costed as "reference")."""
    c = spec.config
    per_image = STEP_SECONDS["vae_per_image"]
    if c.objective().uses_discriminator:
        weights = c.disc_hidden * c.disc_hidden * max(c.disc_layers - 1, 1)
        per_image += STEP_SECONDS["encode_per_image"] + STEP_SECONDS["disc_per_image_per_weight"] * weights
    return c.steps * c.batch_size * per_image + EVAL_SECONDS.get(spec.evaluation.name, EVAL_SECONDS["reference"])


def dry_run(runs, *, results_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per run: its settings, whether its evaluation is cached, and the estimated CPU seconds."""
    results_dir = (Path(results_dir) if results_dir is not None else default_results_dir()).resolve()
    datasets: dict = {}
    rows = []
    for spec in runs:
        cached = cached_row(spec, results_dir, datasets) is not None
        rows.append({**run_settings(spec.config, spec.dataset), "eval": spec.evaluation.name, "cached": cached,
                     "est_seconds": 0.0 if cached else estimate_seconds(spec)})
    return pd.DataFrame(rows)
