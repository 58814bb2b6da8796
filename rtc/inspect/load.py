"""Loading a finished run for inspection, read-only: :class:`Inspection`, :func:`load_run`, and a run of a profile's
grid (:func:`resolve_run`, :func:`inspect_grid_run`). Nothing is trained and nothing is written to the results
cache; every failure is an :class:`InspectError` whose one-line message names the file and what to do."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rtc.data import load_dataset
from rtc.experiments.grid import grid_runs
from rtc.experiments.results import default_results_dir
from rtc.experiments.results import run_dir as cached_run_dir
from rtc.experiments.selection import select_runs
from rtc.experiments.store import eval_path, evaluation_files, read_evaluation
from rtc.metrics.diagnostics import disintegration
from rtc.metrics.mig import normalized_mi_matrix
from rtc.metrics.sap import r2_matrix
from rtc.models import CheckpointError, TrainConfig, encode, load_model, run_dir_for
from rtc.models.encoding import active_latents, latent_kl, latent_variances, traversal_order
from rtc.models.runfiles import CONFIG, FINAL, code_version, read_run_file

__all__ = ["InspectError", "Inspection", "load_run", "resolve_run", "inspect_grid_run"]


class InspectError(RuntimeError):
    """A run that cannot be inspected; the one-line message names the file and what to do."""


@dataclass
class Inspection:
    """A finished run loaded for inspection, with ``n`` encoded images.

    ``kl`` (L,): each latent's KL to the prior, mean over the images (nats); ``var_mu`` (L,): Var µ_k (ddof 1);
    ``order``: latents by decreasing KL; ``active``: :func:`rtc.models.encoding.active_latents`.
    ``evaluation``: the cached evaluation (dict with row, matrices, disintegration, factor_names) or one computed
    here (``eval_source`` says which). ``key_ok``: the run directory's name is the cache key this checkout computes
    for its settings (False: trained by other code — shown anyway, marked).
    """
    run_dir: Path
    config: object
    dataset: object
    model: object
    log: dict
    seconds: float
    key_ok: bool
    expected_key: str | None
    code_trained: str | None
    code_now: str | None
    encoding: object
    kl: np.ndarray
    var_mu: np.ndarray
    evaluation: dict
    eval_source: str
    seed: int = 0
    profile: str | None = None
    notes: list = field(default_factory=list)

    @property
    def order(self) -> np.ndarray:
        return traversal_order(self.kl)

    @property
    def active(self) -> np.ndarray:
        return active_latents(self.encoding.mu)

    @property
    def n(self) -> int:
        return int(self.encoding.mu.shape[0])


def _one_line(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return f"{type(e).__name__}: {s[0]}" if s else type(e).__name__


def _read_config(run_dir: Path) -> dict:
    cfg_file = run_dir / CONFIG
    if not run_dir.is_dir():
        raise InspectError(f"{run_dir} is not a directory: pass a run directory (results/runs/<model>-<key>) or "
                           "--profile/--model/--strength/--seed/--dataset")
    if not cfg_file.exists():
        raise InspectError(f"{run_dir} is not a run: it has no config.json (a run directory is "
                           "results/runs/<model>-<key>, written by rtc.models.train)")
    try:
        doc = json.loads(cfg_file.read_text())
        if not isinstance(doc, dict) or "config" not in doc:
            raise ValueError("no 'config' entry")
        return doc
    except (ValueError, OSError) as e:
        raise InspectError(f"{cfg_file} cannot be read ({_one_line(e)}): the run directory is damaged; delete it "
                           "and train the run again") from None


def _train_config(doc: dict, cfg_file: Path):
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = {k: v for k, v in doc["config"].items() if k in known}
    try:
        return TrainConfig(**cfg), sorted(set(doc["config"]) - known)
    except (TypeError, ValueError) as e:
        raise InspectError(f"{cfg_file}: its settings do not fit this checkout's TrainConfig ({_one_line(e)}); the "
                           "run was trained by other code — inspect it from that checkout") from None


def _load_dataset(identity: dict, cfg_file: Path, path=None):
    name = identity.get("name")
    source = identity.get("source")
    if path is None and source not in (None, "None", "procedural"):
        path = source
    try:
        return load_dataset(name, path=path, seed=identity.get("seed") or 0)
    except Exception as e:  # noqa: BLE001 — any loader failure is reported in one line
        env = {"dsprites": "RTC_DSPRITES", "shapes3d": "RTC_SHAPES3D", "cars3d": "RTC_CARS3D"}.get(str(name), "")
        raise InspectError(f"{cfg_file}: the run's dataset {name!r} (source {source}) cannot be loaded "
                           f"({_one_line(e)}); point {env or 'the loader'} at the dataset's file or pass "
                           "--dataset-path") from None


def _compute_eval(enc, ds) -> dict:
    """The NMI and R² matrices and their disintegration tables from the metrics' own functions (no cache)."""
    names = tuple(ds.factor_names)
    mats = {"nmi": normalized_mi_matrix(enc.mu, enc.factors), "r2": r2_matrix(enc.mu, enc.factors)}
    dis = {k: disintegration(mats[k], codes=enc.mu, factor_names=names) for k in ("nmi", "r2")}
    return {"row": {}, "matrices": mats, "disintegration": dis, "factor_names": names, "conventions": {}}



def load_run(run_dir, *, n: int = 1000, seed: int = 0, evaluation=None, dataset_path=None, device="cpu",
             profile: str | None = None) -> Inspection:
    """Load the finished run in ``run_dir`` (read-only) and encode ``n`` seeded images.

    ``evaluation``: the :class:`rtc.experiments.EvalSettings` whose cached evaluation to read (None: the newest
    evaluation file of the run, if any). Raises :class:`InspectError` (one line naming the file) for a path that
    is not a run, a missing or unreadable ``final.pt``, settings this checkout cannot read, or a dataset that
    cannot be loaded.
    """
    run_dir = Path(run_dir).expanduser().resolve()
    doc = _read_config(run_dir)
    cfg_file = run_dir / CONFIG
    config, unknown = _train_config(doc, cfg_file)
    final = run_dir / FINAL
    if not final.exists():
        raise InspectError(f"{final} is missing: the run did not finish; finish it (python -m rtc.sweep --profile "
                           "<profile>, or rtc.models.train with the same settings resumes it) and inspect it then")
    ds = _load_dataset(doc.get("data") or {}, cfg_file, dataset_path)
    expected, code_now, key_ok, notes = _key_check(run_dir, doc, config, unknown, ds)
    state, model = _read_final(final, config, key_ok, run_dir, device)
    # the run as far as it was trained (config.json holds the last call's settings; an extension may have stopped)
    config = dataclasses.replace(config, steps=int(state.get("step", config.steps)))
    log = {k: np.asarray(v, dtype=np.float64) for k, v in (state.get("log") or {}).items()}
    enc = encode(model, ds, n=n, seed=seed, device=device)
    ev, source = _cached_evaluation(run_dir, evaluation, config.steps)
    ev, source = _complete_evaluation(ev, source, enc, ds, n)
    return Inspection(run_dir, config, ds, model, log, float(state.get("seconds", 0.0)), key_ok, expected,
                      doc.get("code"), code_now, enc, latent_kl(enc.mu, enc.sigma), latent_variances(enc.mu), ev,
                      source,
                      seed=seed, profile=profile, notes=notes)


def _key_check(run_dir: Path, doc: dict, config, unknown: list, ds):
    """(the run directory's name this checkout computes, its code version, whether the run's name is that one and
    all its settings are known, the notes saying otherwise)."""
    notes = []
    expected = run_dir_for(config, ds, run_dir.parent).name
    code_now = code_version(ds)
    key_ok = expected == run_dir.name and not unknown
    if not key_ok:
        notes.append(f"cache key mismatch: this checkout would store these settings as {expected}, not "
                     f"{run_dir.name} (trained with code {doc.get('code')}, this checkout's is {code_now}"
                     + (f"; unknown settings {unknown}" if unknown else "") + "): the run was trained by other code")
    return expected, code_now, key_ok, notes


def _read_final(final: Path, config, key_ok: bool, run_dir: Path, device):
    """(the contents of ``final.pt``, the model in it); InspectError naming the file when it cannot be read."""
    try:
        state = read_run_file(final, "Delete it and train the run again.")
        model = load_model(final, config, num_channels=state.get("num_channels"), device=device)
    except Exception as e:  # noqa: BLE001 — truncated, corrupt, of an unknown format or from another network
        # read_run_file's CheckpointError wraps what torch.load raised: name that cause, as torch.load would
        cause = e.__cause__ if isinstance(e, CheckpointError) and e.__cause__ is not None else e
        other = "" if key_ok else " or was written by other code (see the cache key mismatch)"
        raise InspectError(f"{final} cannot be read ({_one_line(cause)[:160]}): it is truncated or corrupt{other}; "
                           f"delete {run_dir} and train the run again (python -m rtc.sweep --profile <profile>)"
                           ) from None
    return state, model


def _cached_evaluation(run_dir: Path, evaluation, steps: int):
    """(the run's cached evaluation after ``steps`` steps — ``evaluation``'s, else the first readable evaluation file
    of that step — or None, the words saying which)."""
    ev, source = None, ""
    if evaluation is not None and eval_path(run_dir, evaluation, steps).exists():
        p = eval_path(run_dir, evaluation, steps)
        ev, source = read_evaluation(p), f"cached evaluation {p.relative_to(run_dir)} ({evaluation.name} settings)"
    else:
        for p in evaluation_files(run_dir):
            try:
                ev = read_evaluation(p)
            except Exception:  # noqa: BLE001 — an unreadable evaluation file: try the next one
                continue
            if ev["row"].get("steps") != steps:  # another point of the run's trajectory
                ev = None
                continue
            source = (f"cached evaluation {p.relative_to(run_dir)} (not the current evaluation key: other settings "
                      "or older evaluation code)")
            break
    return ev, source


def _complete_evaluation(ev, source: str, enc, ds, n: int):
    """``ev`` with the NMI and R² matrices it lacks computed here (all of it when None), and ``source`` saying so."""
    if ev is None or "nmi" not in ev["matrices"] or "r2" not in ev["matrices"]:
        computed = _compute_eval(enc, ds)
        if ev is None:
            ev = computed
            source = f"no cached evaluation: NMI and R² computed here on {n} images (nothing written)"
        else:
            ev["matrices"] = {**computed["matrices"], **ev["matrices"]}
            ev["disintegration"] = {**computed["disintegration"], **ev["disintegration"]}
            source += f"; missing matrices computed here on {n} images"
    return ev, source


def resolve_run(profile: str, *, model: str, strength: float, seed: int, dataset: str, results_dir=None,
                root=None):
    """The run of ``profile``'s grid with these settings: (RunSpec, run directory). Trains nothing; raises
    :class:`InspectError` when the grid has no such run or the run is not in the results cache."""
    try:
        runs = grid_runs(profile, root=root)
    except (FileNotFoundError, ValueError) as e:
        raise InspectError(f"profile {profile!r}: {_one_line(e)}") from None
    match = [runs[i] for i in select_runs(runs, model=model, strength=strength, seed=int(seed), dataset=dataset)]
    if not match:
        have = sorted({f"{s.config.model} {s.config.strength:g} seed {s.config.seed} {s.dataset.name}" for s in runs})
        raise InspectError(f"parameters/{profile}/training.yaml has no run {model} {float(strength):g} seed {seed} "
                           f"{dataset}; it has: {'; '.join(have)}")
    spec = match[0]
    results_dir = Path(results_dir) if results_dir is not None else default_results_dir()
    try:
        ds = spec.dataset.load()
    except Exception as e:  # noqa: BLE001
        raise InspectError(f"dataset {dataset!r} cannot be loaded ({_one_line(e)}); point RTC_{dataset.upper()} at "
                           "its file or unset it to use the procedural renderer") from None
    rd = cached_run_dir(spec.config, ds, results_dir)
    if not (rd / FINAL).exists():
        raise InspectError(f"{rd / FINAL} does not exist: the run is not in the results cache; train it "
                           f"with `python -m rtc.sweep --profile {profile}` (or `make book PROFILE={profile}`)")
    return spec, rd


def inspect_grid_run(profile: str, *, model: str, strength: float, seed: int, dataset: str, results_dir=None,
                     n: int = 1000, image_seed: int = 0, root=None) -> Inspection:
    """:func:`resolve_run`, then :func:`load_run` with the grid's evaluation settings."""
    spec, run_dir = resolve_run(profile, model=model, strength=strength, seed=seed, dataset=dataset,
                                results_dir=results_dir, root=root)
    return load_run(run_dir, n=n, seed=image_seed, evaluation=spec.evaluation, profile=profile)


def _base_code(insp: Inspection, image: int) -> np.ndarray:
    return insp.encoding.mu[int(image)]
