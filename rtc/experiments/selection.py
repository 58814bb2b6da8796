"""Which runs, and at which point of training: the one way the analyses pick runs from a results collection
(:func:`select_runs`, :func:`find_run`) and look at them (:class:`View`: the end or half training, all latents
or the active ones). Both the comparison and factor disintegration use these.

A *run* here is anything with ``config`` (a :class:`rtc.models.TrainConfig`) and ``dataset`` (a
:class:`rtc.experiments.DatasetSpec` or a name): a ``RunSpec`` of a grid, or a ``RunResult`` of the cache.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from rtc.models.encoding import active_latents, encode

__all__ = ["select_runs", "find_run", "View", "END", "HALF", "active_view"]


def _dataset_name(run) -> str:
    return getattr(run.dataset, "name", run.dataset)


def select_runs(runs, *, model: str | None = None, dataset: str | None = None, strength: float | None = None,
                seed: int | None = None) -> list[int]:
    """Positions in ``runs``, in order, of the runs that match every criterion given (``strength`` compared with
    :func:`math.isclose`)."""
    return [i for i, r in enumerate(runs)
            if (model is None or r.config.model == model) and (dataset is None or _dataset_name(r) == dataset)
            and (strength is None or math.isclose(r.config.strength, float(strength)))
            and (seed is None or r.config.seed == seed)]


def find_run(runs, model: str, dataset) -> int | None:
    """Position in ``runs`` of the *first* run of ``model`` on ``dataset`` — a name, or a sequence of names in
    order of preference (the first dataset with such a run wins): the grid's order decides which run a figure
    shows (the first strength and seed the grid lists). None when the grid has no such run."""
    for name in ([dataset] if isinstance(dataset, str) else list(dataset)):
        hits = select_runs(runs, model=model, dataset=name)
        if hits:
            return hits[0]
    return None


def active_view(enc):
    """An encoding restricted to its active latents (µ, σ, z columns with Var µ_k > ACTIVE_VAR,
    :func:`rtc.models.encoding.active_latents`); None for a None encoding or one with fewer than two active
    latents (no pair, no correlation left to judge)."""
    keep = active_latents(enc.mu) if enc is not None else None
    if keep is None or keep.sum() < 2:
        return None
    return replace(enc, mu=enc.mu[:, keep], sigma=enc.sigma[:, keep], z=enc.z[:, keep])


@dataclass(frozen=True)
class View:
    """Where the claims look at a run: at the end of training (``half`` False: the final weights) or at half
    training (the weight snapshot at step ``config.steps // 2``), over all latents or the active ones only
    (``active``: :func:`active_view`)."""
    half: bool = False
    active: bool = False

    def step(self, run) -> int:
        return run.config.steps // 2 if self.half else run.config.steps

    def available(self, run) -> bool:
        """Whether the run has weights at this point (a run without the half-training snapshot has not)."""
        return not self.half or self.step(run) in run.snapshots

    def encode(self, run, dataset, *, n: int, seed: int = 0, device=None):
        """``rtc.models.encode`` of ``n`` seeded images of ``dataset`` (a loaded dataset) with the run's weights at
        this point (never trains); None where :meth:`available` is False, or (``active``) fewer than two latents
        are active."""
        if not self.available(run):
            return None
        model = run.load_snapshot(self.step(run), device=device) if self.half else run.load_model(device=device)
        enc = encode(model, dataset, n=n, seed=seed)
        return active_view(enc) if self.active else enc

    def encode_all(self, runs, *, n: int, seed: int = 0, datasets: dict | None = None, device=None) -> list:
        """:meth:`encode` of every run, in order, on its own dataset (``datasets``: name → loaded dataset; default:
        each run's ``dataset.load()``). The same ``n`` and ``seed`` draw the same images for every run of a
        dataset."""
        return [self.encode(r, datasets[_dataset_name(r)] if datasets is not None else r.dataset.load(), n=n,
                            seed=seed, device=device) for r in runs]


END, HALF = View(), View(half=True)
