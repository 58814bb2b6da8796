"""A run along its training: the claim quantities at every kept step (its weight snapshots, the last step among
them), each point evaluated once and cached beside the run's evaluations.

:func:`curve_point` encodes ``images`` seeded images with the weights of one step — once: µ, σ, one z per image and
the reconstruction through µ — and returns one row of scalars (:data:`POINT_COLUMNS`) and two per-latent lists:

- ``tc_mean``, ``tc_sample`` (Prop. 1 on the sample covariance; all latents and the active ones), their difference
  ``disparity``, ``active_dims`` (:func:`rtc.models.encoding.active_latents`);
- ``recon`` (Bernoulli −log p(x | z = µ), nats per image), ``kl`` (KL(q(z|x) ‖ N(0, I)) summed over latents) and
  ``kl_latents`` (per latent, :func:`rtc.models.encoding.latent_kl`);
- ``lmin_mu``, ``lmin_z``: the smallest eigenvalue of Corr(µ) and of Corr(z) — a near-null direction of Corr(µ)
  carries the disparity (:func:`rtc.experiments.comparison.mechanism.disparity_spectrum` splits it);
- ``snr_latents``: Var µ_k / E σ_k² per latent (an activity criterion relative to the noise, beside
  Var µ_k > 0.01) and its smallest value over the active latents, ``snr_min_active``;
- ``var_sum`` = Σ_k E σ_k² on these images, and from the training log up to the step: ``band_share`` (the share of
  the second half of those steps with the logged term inside the η rule's band, :func:`rtc.models.eta.band_share`)
  and ``eta`` (RTC-VAE's η at the step; 0 for the models without it);
- ``images_seen`` = step × batch size, and the point's own cost ``seconds``.

Files: ``<run dir>/eval/curve-<step>-<key>.json`` (:func:`rtc.experiments.store.eval_path` with
:class:`CurveSettings`: the key hashes the run, the step, the settings and the evaluation code), written atomically;
:func:`read_curve` reads a run's points back as one table (one row per kept step).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rtc._io import atomic_write_text
from rtc._validate import Config, check_int
from rtc.models.encoding import active_latents, encode, latent_kl, representation_stats
from rtc.models.eta import band_share

from .store import eval_path

__all__ = ["CurveSettings", "CURVE_FORMAT", "correlation_eigenvalues", "POINT_COLUMNS", "CorruptCurve",
           "curve_point", "curve_path", "write_point", "read_point", "read_curve", "missing_points"]

CURVE_FORMAT = 1

# The scalar columns of one point, in order (the per-latent lists kl_latents, snr_latents are kept beside them).
POINT_COLUMNS = ("step", "images_seen", "tc_mean", "tc_sample", "tc_mean_active", "tc_sample_active", "disparity",
                 "active_dims", "recon", "kl", "lmin_mu", "lmin_z", "snr_min_active", "var_sum", "band_share", "eta",
                 "seconds")


@dataclass(frozen=True)
class CurveSettings(Config):
    """How each point of a run's curve is evaluated: ``images`` seeded images (``seed``), encoded once."""
    name: str = "curve"
    images: int = 1000
    seed: int = 0

    def __post_init__(self):
        if self.name != "curve":
            raise ValueError(f"CurveSettings.name is 'curve', got {self.name!r}")
        try:
            object.__setattr__(self, "images", check_int(self.images, "CurveSettings.images", minimum=50))
            object.__setattr__(self, "seed", check_int(self.seed, "CurveSettings.seed", minimum=0))
        except TypeError as e:
            raise ValueError(str(e)) from None


class CorruptCurve(ValueError):
    """A cached curve point that cannot be read; the message names the file and says to delete it."""


def correlation_eigenvalues(x) -> np.ndarray:
    """(L,) the eigenvalues of the correlation matrix of ``x`` (N, L), ascending; all NaN when a latent is
    constant (its correlations are undefined)."""
    x = np.asarray(x, dtype=np.float64)
    if np.any(x.std(axis=0) == 0):
        return np.full(x.shape[1], np.nan)
    return np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))


def _corr_min_eigenvalue(x: np.ndarray) -> float:
    """The smallest eigenvalue of the correlation matrix of ``x`` (N, L); NaN when a latent is constant."""
    return float(correlation_eigenvalues(x)[0])


def curve_point(model, dataset, *, step: int, batch_size: int, log: dict, settings: CurveSettings) -> dict:
    """The claim quantities of ``model`` (the run's weights after ``step`` steps) on ``settings.images`` images of
    ``dataset``; ``log``: the run's per-step training log (name → sequence, at least ``step`` long), for the band
    share and η. Returns the module docstring's row (``kl_latents``, ``snr_latents`` as lists)."""
    t0 = time.perf_counter()
    step = check_int(step, "step", minimum=1)
    enc = encode(model, dataset, n=settings.images, seed=settings.seed, device=next(model.parameters()).device)
    st = representation_stats(enc)
    snr = st["var_mu"] / st["mean_sigma2"]
    active = active_latents(enc.mu)
    var_log = np.asarray(log["var_sum"][:step], dtype=np.float64)
    eta = float(log["eta"][step - 1]) if len(log["eta"]) >= step else float("nan")
    kl_latents = latent_kl(enc.mu, enc.sigma)
    row = {"step": step, "images_seen": step * int(batch_size),
           "tc_mean": st["tc_mean"], "tc_sample": st["tc_sample"], "tc_mean_active": st["tc_mean_active"],
           "tc_sample_active": st["tc_sample_active"], "disparity": st["tc_mean"] - st["tc_sample"],
           "active_dims": st["active_dims"], "recon": st["recon"], "kl": float(kl_latents.sum()),
           "lmin_mu": _corr_min_eigenvalue(enc.mu), "lmin_z": _corr_min_eigenvalue(enc.z),
           "snr_min_active": float(snr[active].min()) if active.any() else float("nan"),
           "var_sum": st["var_sum"],
           # the η rule's band over the second half of the steps so far (needs two logged steps)
           "band_share": band_share(var_log) if len(var_log) >= 2 else float("nan"), "eta": eta}
    row["seconds"] = time.perf_counter() - t0
    return {**row, "kl_latents": kl_latents.tolist(), "snr_latents": snr.tolist()}


def curve_path(run_dir: str | Path, settings: CurveSettings, step: int) -> Path:
    """Where the point of the run in ``run_dir`` at ``step`` is cached (:func:`rtc.experiments.store.eval_path`)."""
    return eval_path(run_dir, settings, step)


def write_point(path: Path, point: dict) -> None:
    """Write one point (what :func:`curve_point` returns) atomically; floats by repr (exact), NaN as ``NaN``."""
    atomic_write_text(path, json.dumps({"format": CURVE_FORMAT, "point": point}, indent=1))


def read_point(path: str | Path) -> dict:
    """One cached point, exactly as written; :class:`CorruptCurve` naming the file when it cannot be read."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
        if not isinstance(doc, dict) or doc.get("format") != CURVE_FORMAT:
            raise ValueError(f"not a curve point of format {CURVE_FORMAT}")
        point = dict(doc["point"])
        missing = [c for c in POINT_COLUMNS if c not in point]
        if missing:
            raise KeyError(f"missing columns {missing}")
        return point
    except FileNotFoundError:
        raise
    except (ValueError, KeyError, TypeError, OSError) as e:
        raise CorruptCurve(f"{path} cannot be read ({type(e).__name__}: {str(e)[:200]}): delete it, and the point is "
                           "evaluated again when next asked for") from e


def missing_points(run_dir: str | Path, settings: CurveSettings, steps) -> list[int]:
    """The steps among ``steps`` whose point is not cached (under today's evaluation code)."""
    return [s for s in steps if not curve_path(run_dir, settings, s).exists()]


def read_curve(run_dir: str | Path, settings: CurveSettings, steps) -> pd.DataFrame:
    """The cached points of a run at ``steps`` as one table (:data:`POINT_COLUMNS`, then ``kl_latents`` and
    ``snr_latents`` as lists), ordered by step. A missing point is a ``FileNotFoundError`` naming it."""
    rows = []
    for s in sorted(steps):
        path = curve_path(run_dir, settings, s)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: the run's point at step {s} is not evaluated under "
                                    "today's evaluation code (rtc.experiments.run evaluates it)")
        rows.append(read_point(path))
    return pd.DataFrame(rows, columns=[*POINT_COLUMNS, "kl_latents", "snr_latents"])
