"""HDF5 grid caches and cached arrays: same images as the renderer, atomic writes, stale files never used."""
import h5py
import numpy as np
import pytest

import rtc.data.cache as cache_mod
import rtc.data.shapes3d as s3
from rtc.data import DatasetFileError, load_dataset
from rtc.data.base import GroundTruthDataset
from rtc.data.cache import CachedDataset, cache_dir, cached, cached_array, default_cache_path, write_grid_h5


class Tiny(GroundTruthDataset):
    name = "tiny"
    factor_names = ("a", "b")
    factor_sizes = (3, 5)
    num_channels = 3
    render_version = "1"

    def __init__(self, fail_after=None):
        self.seed = 0
        self.calls = 0
        self.fail_after = fail_after

    @property
    def factor_values(self):
        return (np.arange(3.0), np.arange(5.0))

    def _render(self, f):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("renderer crashed")
        out = np.zeros((len(f), 64, 64, 3), dtype=np.uint8)
        out[:] = (f @ self._strides * 10)[:, None, None, None]
        out[:, 0, 0, 1] = f[:, 0]
        return out


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("RTC_CACHE_DIR", str(tmp_path / "cache"))


def test_cached_dataset_serves_the_rendered_images():
    ds = Tiny()
    c = cached(ds, progress=False)
    assert isinstance(c, CachedDataset) and c.path == default_cache_path(ds) and c.path.parent == cache_dir()
    f = ds.index_to_factors(np.array([14, 0, 7, 7, 3]))
    assert np.array_equal(c.images(f), ds.images(f))
    assert c.factor_sizes == ds.factor_sizes and c.factor_names == ds.factor_names
    calls = ds.calls
    c2 = cached(ds, progress=False)                        # reused, not re-rendered
    assert ds.calls == calls and np.array_equal(c2.images(f), ds.images(f))


def test_large_grid_is_read_from_the_file(monkeypatch):
    monkeypatch.setattr(cache_mod, "IN_MEMORY_BYTES", 0)
    ds = Tiny()
    c = cached(ds, progress=False)
    assert c._memory is None
    f = ds.index_to_factors(np.array([14, 0, 7, 7, 3]))   # unsorted with a repeat
    assert np.array_equal(c.images(f), ds.images(f))


def test_interrupted_render_leaves_no_file(tmp_path):
    ds = Tiny(fail_after=1)
    target = tmp_path / "grid.h5"
    with pytest.raises(RuntimeError, match="crashed"):
        write_grid_h5(ds, target, chunk=4, progress=False)
    assert not target.exists()
    assert list(tmp_path.glob("grid.h5*")) == []           # the temporary file is removed too


def test_stale_default_cache_is_rebuilt_and_explicit_mismatch_rejected(tmp_path):
    ds = Tiny()
    path = default_cache_path(ds)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as h:                        # an incomplete cache (e.g. an older crash)
        h.create_dataset("images", data=np.zeros((15, 64, 64, 3), np.uint8))
    c = cached(ds, progress=False)
    assert np.array_equal(c.images(ds.index_to_factors(np.arange(15))), ds.images(ds.index_to_factors(np.arange(15))))
    c.close()
    other = tmp_path / "someone_elses.h5"
    write_grid_h5(ds, other, progress=False)
    with h5py.File(other, "a") as h:
        h.attrs["render_version"] = "0"
    with pytest.raises(DatasetFileError, match="render_version"):
        cached(ds, other, progress=False)


def test_cached_array_builds_once(tmp_path):
    calls = []
    build = lambda: calls.append(1) or np.arange(5.0)      # noqa: E731
    assert np.array_equal(cached_array("x.npy", build), np.arange(5.0))
    assert np.array_equal(cached_array("x.npy", build), np.arange(5.0))
    assert len(calls) == 1
    (cache_dir() / "y.npy").write_bytes(b"garbage")         # unreadable file: rebuilt, not trusted
    assert np.array_equal(cached_array("y.npy", build), np.arange(5.0))


def test_load_dataset_cache_path_for_dsprites_subset_semantics(tmp_path):
    # load_dataset(cache=path) wires through cached(); checked on dSprites by pre-writing a small fake with the
    # wrong sizes: the explicit path must be rejected (it is not a cache of the full grid)
    p = tmp_path / "not_dsprites.h5"
    write_grid_h5(Tiny(), p, progress=False)
    with pytest.raises(DatasetFileError, match="not a cache of dsprites"):
        load_dataset("dsprites", cache=p)


def test_cache_none_writes_no_files(tmp_path, monkeypatch):
    # Regression: load_dataset(cache=None) is documented as writing no files, but Shapes3D wrote its 24 MB
    # geometry .npy. The ray-cast is replaced by a stub: only where files go is under test.
    monkeypatch.setattr(s3, "_GEOMETRY_CACHE", {})
    monkeypatch.setattr(s3, "render_geometry", lambda *a, **k: np.zeros((3, 64, 64), dtype=np.float32))
    ds = load_dataset("shapes3d")
    ds.images(ds.sample_factors(2, 0))
    assert not cache_dir(create=False).exists()
    s3._GEOMETRY_CACHE.clear()
    ds = s3.Shapes3D(save_geometry=True)
    ds.images(ds.sample_factors(2, 0))
    assert (cache_dir(create=False) / "shapes3d-geometry-v1.npy").exists()
