"""A profile's grid of runs, without running anything: :class:`RunSpec`, :func:`load_grid` / :func:`grid_runs`
(``parameters/<profile>/training.yaml``), the cost model (:func:`estimate_seconds`) and :func:`dry_run`.

This module imports no Ray and changes no environment: describing or costing a grid is safe anywhere.
Executing a grid is :func:`rtc.sweep.run_grid` (Ray); one run is :func:`rtc.experiments.run`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import typing
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from rtc._validate import Config, ConfigError, _type_name, fits, is_integer
from rtc.data import DATASETS
from rtc.models import MODELS, TrainConfig
from rtc.models.runfiles import FINAL, CheckpointError, StepNotKept, read_run_file, weights_at
from rtc.paths import find_root

from .results import RUNS, cached_result, default_results_dir, run_dir
from .specs import EVAL_PRESETS, DatasetSpec, EvalSettings, RunSpec, check_resources, run_settings

__all__ = ["GridSpec", "Resources", "GridError", "load_grid", "validate_grid", "grid_key", "grid_runs", "cached_row",
           "pooled_seeds", "pooled_text", "estimate_seconds", "dry_run", "STEP_SECONDS", "EVAL_SECONDS"]


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


@dataclass(frozen=True)
class GridSpec(Config):
    """One grid of a training.yaml (``grids:`` lists them): the runs models × strengths × datasets × seeds, with
    ``overrides`` of TrainConfig fields for this grid only. Built by :meth:`Config.from_mapping` (unknown keys,
    missing keys and wrong types name the file and the grid); each list non-empty, each item known."""
    name: str
    models: tuple[str, ...]
    strengths: tuple[float, ...]
    datasets: tuple[str, ...]
    seeds: tuple[int, ...]
    overrides: dict | None = None

    def __post_init__(self):
        for k, ok, what in (("models", lambda m: m in MODELS, f"a model of {sorted(MODELS)}"),
                            ("strengths", lambda s: fits(float, s), "a number"),
                            ("datasets", lambda d: d in DATASETS, f"one of {DATASETS}"),
                            ("seeds", lambda s: is_integer(s) and s >= 0, "an integer ≥ 0")):
            if not getattr(self, k):
                raise ValueError(f"{k!r} must be a non-empty list, got []")
            bad = [x for x in getattr(self, k) if not ok(x)]
            if bad:
                raise ValueError(f"{k} {bad} — each must be {what}")
        object.__setattr__(self, "overrides", _train_fields(self.overrides or {}, "overrides"))

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in ("name", "models", "strengths", "datasets", "seeds", "overrides")}


def _settings(doc: dict, source: str) -> tuple[EvalSettings, Resources]:
    """training.yaml's ``eval`` (a preset's values, then the file's: one check of every field against
    EvalSettings) and ``resources``."""
    ev = doc.get("eval") or {}
    if not isinstance(ev, dict):
        raise GridError(f"{source}: eval: expected a mapping, got {type(ev).__name__} {ev!r}")
    ev = dict(ev)
    preset = ev.pop("preset", "reference")
    if preset not in EVAL_PRESETS:
        raise GridError(f"{source}: eval.preset must be one of {sorted(EVAL_PRESETS)}, got {preset!r}")
    try:
        settings = EvalSettings.from_mapping({**EVAL_PRESETS[preset].to_dict(), **ev}, where=f"{source}: eval")
        resources = Resources.from_mapping(doc.get("resources") or {}, where=f"{source}: resources")
    except ConfigError as e:
        raise GridError(str(e)) from None
    return settings, resources


def _grids(grids, source: str) -> list[dict]:
    """training.yaml's ``grids``: each through :meth:`GridSpec.from_mapping`, names unique."""
    if not isinstance(grids, list) or not grids:
        raise GridError(f"{source}: 'grids' must be a non-empty list of grids")
    names, out = set(), []
    for j, g in enumerate(grids):
        name = g.get("name") if isinstance(g, dict) else None
        try:
            spec = GridSpec.from_mapping(g, where=f"{source}: grids[{j}]" + (f" ({name})" if name else ""))
        except ConfigError as e:
            raise GridError(str(e)) from None
        if spec.name in names:
            raise GridError(f"{source}: grids[{j}]: duplicate grid name {spec.name!r}")
        names.add(spec.name)
        out.append(spec.to_dict())
    return out


def validate_grid(doc, source: str = "training.yaml") -> dict:
    """Check a parsed training.yaml against the schema of :func:`load_grid`; return it normalised."""
    if not isinstance(doc, dict):
        raise GridError(f"{source}: expected a mapping with keys {_TOP_KEYS}, got {type(doc).__name__}")
    for k in doc:
        if k not in _TOP_KEYS:
            raise GridError(f"{source}: unknown top-level key {k!r}; allowed: {', '.join(_TOP_KEYS)}")
    if "grids" not in doc:
        raise GridError(f"{source}: missing 'grids'")
    defaults = _train_fields(doc.get("defaults") or {}, f"{source}: defaults")
    settings, resources = _settings(doc, source)
    grids = _grids(doc["grids"], source)
    for g in grids:  # every run keeps its state at half training: the half-training check of every verdict
        fields = {**defaults, **g["overrides"]}
        half = fields.get("steps", TrainConfig.steps) // 2
        if half >= 1 and half not in fields.get("snapshot_steps", ()):
            raise GridError(f"{source}: grid {g['name']!r}: snapshot_steps must include steps/2 = {half}, where the "
                            f"half-training check of every verdict reads the runs (got "
                            f"{list(fields.get('snapshot_steps', []))})")
    return {"description": doc.get("description", ""), "defaults": defaults, "eval": settings,
            "resources": resources, "grids": grids}


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


    path = find_root(root) / "parameters" / profile / "training.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no grid file {path} for profile {profile!r}")
    return validate_grid(yaml.safe_load(path.read_text()), str(path))


def grid_runs(profile: str | dict, grids=None, *, root: str | Path | None = None) -> list[RunSpec]:
    """The runs of ``profile`` (a name or a :func:`load_grid` dict), restricted to the grids named in ``grids``
    (default: all), in file order, without duplicates (a run in two grids appears once)."""

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


def pooled_seeds(runs, *, results_dir: str | Path | None = None) -> list[RunSpec]:
    """The runs of the results cache that differ from one of ``runs`` only in the seed — the seeds another build
    (another seed set of the same profile) trained — and got at least as far: trained to the run's ``steps`` with
    its weights kept there, under today's training code. As :class:`RunSpec` s with the settings of the run they
    pool with, in the order of ``runs`` then seed; none of ``runs`` itself. Reads ``config.json`` and ``final.pt``
    of each run folder; trains nothing (their evaluation at ``steps`` may still be missing: ``run_grid`` computes
    it, without training). Seeds pooled this way were never chosen by looking at results: every seed a build of
    this profile trained enters, learned or not (the chapters' learning check applies to them alike)."""
    root = Path(results_dir) if results_dir is not None else default_results_dir()
    found: dict[tuple, set] = {}
    for cfg_file in sorted((root / RUNS).glob("*/config.json")):
        try:
            doc = json.loads(cfg_file.read_text())
            c = TrainConfig.from_mapping(doc["config"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a run of this code (rtc.cache lists it as stale)
        found.setdefault(_pool_key(c, doc.get("data", {}).get("name")), set()).add(c.seed)
    out, have = [], {(_pool_key(s.config, s.dataset.name), s.config.seed) for s in runs}
    datasets: dict = {}
    for spec in runs:
        for seed in sorted(found.get(_pool_key(spec.config, spec.dataset.name), ())):
            if (_pool_key(spec.config, spec.dataset.name), seed) in have:
                continue
            other = dataclasses.replace(spec, config=dataclasses.replace(spec.config, seed=seed))
            if other.dataset not in datasets:
                datasets[other.dataset] = other.dataset.load()
            if _reached(run_dir(other.config, datasets[other.dataset], root), other.config.steps):
                out.append(other)
                have.add((_pool_key(spec.config, spec.dataset.name), seed))
    return out


def pooled_text(extra) -> str:
    """One sentence naming the runs :func:`pooled_seeds` found, cell by cell (model, strength, dataset: seeds)."""
    if not extra:
        return "No run of another seed set of this profile was in the cache: every cell has the profile's seeds."
    cells: dict = {}
    for s in extra:
        cells.setdefault((s.config.model, s.config.strength, s.dataset.name), []).append(s.config.seed)
    parts = [f"{m} {st:g} on {ds}: seed{'s' if len(v) > 1 else ''} {', '.join(map(str, v))}"
             for (m, st, ds), v in cells.items()]
    return (f"Besides the profile's seeds, {len(extra)} run(s) of other seed sets of this profile were in the cache "
            f"and join their cells ({'; '.join(parts)}).")


def _pool_key(config: TrainConfig, dataset) -> str:
    return json.dumps({**config.key_dict(), "seed": None, "dataset": dataset}, sort_keys=True, default=str)


def _reached(rd: Path, steps: int) -> bool:
    """Has the run in ``rd`` (under today's training code: its key) kept its weights at ``steps``?"""
    try:
        weights_at(rd, read_run_file(rd / FINAL, ""), steps)
    except (FileNotFoundError, CheckpointError, StepNotKept):
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# Cost estimate
# ---------------------------------------------------------------------------------------------------------------

# Seconds per image of one training step on this project's reference CPU (2 cores, torch 2.13, Table 2 model,
# channels_last, both cores for one run, quiet machine), measured once: the VAE step ran at ≈ 340 images/s (batch 64
# and 500 alike; ≈ 1.5 s per step at batch 500); a FactorVAE step with the 6 × 1000 discriminator took ≈ 2.1 s at
# batch 500, i.e. ≈ 1.2 ms per image more, of which encoding the second batch is ≈ 0.4 ms (≈ 2,500 images/s) and
# the rest is scaled here by the discriminator's hidden weight count (5 × 1000²). A shared machine can be 3–7×
# slower; a GPU is far faster (scripts/gpu/gpu_check.py measures it).
STEP_SECONDS = {"vae_per_image": 1 / 340, "encode_per_image": 1 / 2500,
                "disc_per_image_per_weight": (0.6 / 500 - 1 / 2500) / (5 * 1000 * 1000)}
# Evaluation cost per run and preset, seconds on the same CPU: "ci" (≈ 15 s), "lean" (≈ 55 s: the default grid
# on one thread per run) and "fast" (≈ 225 s) measured once
# on a small model (rtc.experiments.run, 2 threads); "reference" is an estimate from bench/bench_metrics.py (DCI
# with gradient boosting ≈ 830 s on 10,000 codes, Chen's MIG ≈ 180 s) plus the scores' encoding.
# "study" (rtc.studies: the "ci" metrics and a curve of 1,000 images per kept step) ≈ 15 s + ≈ 1 s per point.
EVAL_SECONDS = {"ci": 15.0, "study": 20.0, "lean": 55.0, "fast": 225.0, "reference": 1500.0}


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
