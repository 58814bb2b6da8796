"""The dataset interface (rtc.data.base, rtc.data.batches) on a tiny dataset whose images encode their index."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.data import DATASETS, batches, load_dataset
from rtc.data.base import GroundTruthDataset, as_rng


class IndexDataset(GroundTruthDataset):
    """Image pixel (0, 0, 0) = flat grid index (< 256), so batches can be traced back to their indices."""

    name = "index"
    num_channels = 1

    def __init__(self, sizes=(3, 4, 5)):
        self.factor_sizes = tuple(sizes)
        self.factor_names = tuple(f"f{k}" for k in range(len(sizes)))

    def _render(self, f):
        out = np.zeros((len(f), 64, 64, 1), dtype=np.uint8)
        out[:, 0, 0, 0] = f @ self._strides
        return out


def _indices(batch):
    return np.rint(batch[:, 0, 0, 0].numpy() * 255).astype(int)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=5), st.integers(0, 2**31 - 1))
def test_index_factor_round_trip(sizes, seed):
    ds = IndexDataset(sizes)
    idx = np.arange(len(ds))
    f = ds.index_to_factors(idx)
    assert np.array_equal(ds.factors_to_index(f), idx)
    # C order: the last factor varies fastest, as np.unravel_index does
    assert np.array_equal(f, np.stack(np.unravel_index(idx, sizes), 1))
    g = ds.sample_factors(50, seed)
    assert np.array_equal(ds.index_to_factors(ds.factors_to_index(g)), g)


def test_sample_factors_uniform_and_seeded():
    ds = IndexDataset((3, 4, 5))
    f = ds.sample_factors(60_000, 1)
    assert f.dtype == np.int64 and f.shape == (60_000, 3)
    assert np.array_equal(f, ds.sample_factors(60_000, 1))
    assert not np.array_equal(f, ds.sample_factors(60_000, 2))
    for k, s in enumerate(ds.factor_sizes):
        counts = np.bincount(f[:, k], minlength=s)
        assert len(counts) == s
        # each count ~ Binomial(60000, 1/s): sd <= sqrt(60000/4) ≈ 122; 6 sd bound cannot fail by chance
        assert np.all(np.abs(counts - 60_000 / s) < 6 * 122)
    assert ds.sample_factors(0, 0).shape == (0, 3)


def test_as_rng():
    g = np.random.default_rng(3)
    assert as_rng(g) is g
    assert as_rng(5).integers(1000) == np.random.default_rng(5).integers(1000)
    with pytest.raises(TypeError, match="rng"):
        as_rng("seed")


def test_bad_factors_rejected_with_clear_errors():
    ds = IndexDataset((3, 4, 5))
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        ds.images(np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match="2-D"):
        ds.images(np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"'f1' \(size 4\)"):
        ds.images(np.array([[0, 4, 0]]))
    with pytest.raises(ValueError, match="out of range"):
        ds.images(np.array([[0, -1, 0]]))
    with pytest.raises(ValueError, match="integer"):
        ds.images(np.array([[0.5, 0, 0]]))
    with pytest.raises(ValueError, match=r"\[0, 60\)"):
        ds.index_to_factors(np.array([60]))
    assert ds.images(np.array([[1.0, 2.0, 3.0]]))[0, 0, 0, 0] == 20 + 10 + 3   # integral floats are fine
    assert ds.images(np.zeros((0, 3), dtype=int)).shape == (0, 64, 64, 1)


def test_observations_float_nchw_unit_range():
    ds = IndexDataset((3, 4, 5))
    f = ds.index_to_factors(np.arange(60))
    x = ds.observations(f, device="cpu")
    assert x.dtype == torch.float32 and x.shape == (60, 1, 64, 64) and x.is_contiguous()
    assert np.array_equal(_indices(x), np.arange(60))
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    f2, x2 = ds.sample_observations(7, 0)
    assert np.array_equal(_indices(x2), ds.factors_to_index(f2))


def test_pairs_sharing_a_factor():
    ds = IndexDataset((3, 4, 5))
    a, b = ds.sample_pairs_sharing_factor(500, "f1", 0)
    assert np.array_equal(a[:, 1], b[:, 1])
    assert (a[:, 0] != b[:, 0]).mean() > 0.5          # the other factors are drawn independently
    with pytest.raises(ValueError, match="unknown factor"):
        ds.sample_pairs_sharing_factor(5, "nope", 0)


def test_batches_shuffle_is_a_permutation_per_epoch():
    ds = IndexDataset((3, 4, 5))                           # 60 images; batch 8 -> epochs straddle batches
    seen = np.concatenate([_indices(b) for b in batches(ds, 8, seed=0, steps=15)])   # 120 = two epochs
    assert len(seen) == 120
    assert np.array_equal(np.sort(seen[:60]), np.arange(60))
    assert np.array_equal(np.sort(seen[60:]), np.arange(60))
    assert not np.array_equal(seen[:60], seen[60:])        # a fresh permutation each epoch
    again = np.concatenate([_indices(b) for b in batches(ds, 8, seed=0, steps=15)])
    assert np.array_equal(seen, again)                     # seeded


def test_batches_iid_draws_repeat_indices():
    ds = IndexDataset((3, 4, 5))
    seen = np.concatenate([_indices(b) for b in batches(ds, 30, seed=1, shuffle=False, steps=2)])
    # 60 i.i.d. draws from 60 values: P(no repeat) = 60!/60^60 ≈ 1e-25
    assert len(np.unique(seen)) < 60
    b = next(batches(ds, 5, device="cpu"))
    assert b.shape == (5, 1, 64, 64) and b.dtype == torch.float32


def test_batches_bad_arguments():
    ds = IndexDataset()
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(ds, 0))
    with pytest.raises(ValueError, match="steps"):
        next(batches(ds, 2, steps=-1))


def test_load_dataset_unknown_name():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'"):
        load_dataset("mnist")


GRIDS = {"dsprites": ((3, 6, 40, 32, 32), 737_280, 1),
         "shapes3d": ((10, 10, 10, 8, 4, 15), 480_000, 3),
         "cars3d": ((4, 24, 183), 17_568, 3)}


@pytest.mark.parametrize("name", DATASETS)
def test_procedural_grids_match_the_originals(name, monkeypatch):
    for var in ("RTC_DSPRITES", "RTC_SHAPES3D", "RTC_CARS3D"):
        monkeypatch.delenv(var, raising=False)
    ds = load_dataset(name)
    sizes, n, c = GRIDS[name]
    assert ds.name == name and ds.factor_sizes == sizes and len(ds) == n
    assert len(ds.factor_names) == len(sizes) and ds.num_channels == c and ds.image_size == 64
    assert [len(v) for v in ds.factor_values] == list(sizes)
    f, x = ds.sample_observations(3, 0)
    assert x.shape == (3, c, 64, 64) and x.dtype == torch.float32
    assert ds.images(f).dtype == np.uint8


def test_observations_are_images_over_255_exactly():
    ds = load_dataset("dsprites")
    f = ds.sample_factors(20, 0)
    img = torch.from_numpy(ds.images(f)).permute(0, 3, 1, 2).float()
    # both sides divide float32 by 255 with IEEE rounding: bitwise equal, no tolerance
    assert torch.equal(ds.observations(f), img / 255.0)
    assert torch.equal(ds.observations(f, device="cpu"), img / 255.0)
