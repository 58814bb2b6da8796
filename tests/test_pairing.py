"""Paired seeds: a vanilla model and its revised form trained with one seed start from identical weights (VAE and,
where both have one, discriminator) and see identical batches, so a same-seed difference measures the revision
alone (rtc.experiments.comparison's paired intervals rely on it). Checked on the default profile's own pairs."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from rtc.data import batches, load_dataset
from rtc.experiments.comparison import PAIRS
from rtc.experiments.grid import grid_runs
from rtc.models.train import build


def _weights_equal(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)


def _pairs(profile: str):
    """(vanilla config, revised config) of every same-seed, same-strength pair of the profile's grid."""
    runs = grid_runs(profile)
    key = {(r.config.model, r.config.strength, r.config.seed, r.dataset.name): r.config for r in runs}
    return [(cfg, key[(PAIRS[m], s, seed, ds)]) for (m, s, seed, ds), cfg in key.items()
            if m in PAIRS and (PAIRS[m], s, seed, ds) in key]


@pytest.mark.parametrize("profile", ["ci", "default"])
def test_the_profile_pairs_each_vanilla_model_with_its_revised_form_on_three_seeds(profile):
    pairs = _pairs(profile)
    seeds = {(a.model, a.strength): set() for a, _ in pairs}
    for a, _ in pairs:
        seeds[(a.model, a.strength)].add(a.seed)
    assert {m for m, _ in seeds} == set(PAIRS)
    assert all(len(s) >= (2 if profile == "ci" else 3) for s in seeds.values()), seeds


@pytest.mark.parametrize("vanilla", list(PAIRS))
def test_same_seed_gives_identical_initial_weights_and_batches(vanilla, one_thread):
    a, b = next((a, b) for a, b in _pairs("ci") if a.model == vanilla)
    ta, tb = build(a, 1), build(b, 1)
    assert _weights_equal(ta.model, tb.model)
    assert (ta.disc is None) == (tb.disc is None)   # the same batches per step: one, or two with a discriminator
    if ta.disc is not None:
        assert _weights_equal(ta.disc, tb.disc)
    assert torch.equal(ta.noise.get_state(), tb.noise.get_state())   # the same ε and permutations follow
    ds = load_dataset("dsprites")
    sa, sb = batches(ds, a.batch_size, seed=a.seed), batches(ds, b.batch_size, seed=b.seed)
    for _ in range(3):
        assert torch.equal(next(sa), next(sb))


@pytest.mark.parametrize("vanilla", list(PAIRS))
def test_other_seeds_give_other_weights_and_batches(vanilla, one_thread):
    a, b = next((a, b) for a, b in _pairs("ci") if a.model == vanilla)
    other = dataclasses.replace(b, seed=b.seed + 1)
    assert not _weights_equal(build(a, 1).model, build(other, 1).model)
    ds = load_dataset("dsprites")
    sa, sb = batches(ds, a.batch_size, seed=a.seed), batches(ds, other.batch_size, seed=other.seed)
    assert not torch.equal(next(sa), next(sb))
