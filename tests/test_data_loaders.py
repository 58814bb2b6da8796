"""Real-format loaders: small valid files written in the real formats load; corrupted ones are rejected clearly."""
import io
import os
import zipfile

import h5py
import numpy as np
import pytest
import scipy.io

import rtc.data.loaders as loaders
from rtc.data import DatasetFileError, load_dataset
from rtc.data.loaders import load_cars3d_mats, load_dsprites_npz, load_shapes3d_h5

DS_SIZES = (3, 2, 2, 4, 4)            # small dSprites-format grid (shape, scale, orientation, posX, posY)
S3_SIZES = (2, 2, 2, 2, 2, 3)         # small 3dshapes-format grid


def _grid(sizes):
    return np.stack(np.unravel_index(np.arange(int(np.prod(sizes))), sizes), 1)


def _dsprites_arrays(rng):
    n = int(np.prod(DS_SIZES))
    classes = np.concatenate([np.zeros((n, 1), dtype=np.int64), _grid(DS_SIZES)], 1)
    tables = [np.array([1.0]), np.array([1.0, 2.0, 3.0]), np.linspace(0.5, 1, 2), np.linspace(0, 2 * np.pi, 2),
              np.linspace(0, 1, 4), np.linspace(0, 1, 4)]
    values = np.stack([tables[k][classes[:, k]] for k in range(6)], 1)
    imgs = (rng.uniform(size=(n, 64, 64)) < 0.1).astype(np.uint8)
    return dict(imgs=imgs, latents_classes=classes, latents_values=values)


@pytest.fixture
def dsprites_file(tmp_path):
    arrays = _dsprites_arrays(np.random.default_rng(0))
    path = tmp_path / "dsprites.npz"
    np.savez_compressed(path, **arrays)
    return path, arrays


def test_dsprites_npz_loads(dsprites_file):
    path, arr = dsprites_file
    ds = load_dsprites_npz(path, factor_sizes=DS_SIZES)
    assert ds.factor_sizes == DS_SIZES and ds.num_channels == 1 and ds.source == str(path)
    f = ds.sample_factors(30, 0)
    idx = np.ravel_multi_index(tuple(f.T), DS_SIZES)
    assert np.array_equal(ds.images(f)[..., 0], arr["imgs"][idx] * 255)
    assert np.allclose(ds.factor_values[1], [0.5, 1.0])          # scale


def _write_npz(path, arrays, **changes):
    arrays = {**arrays, **changes}
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez_compressed(path, **arrays)
    return path


@pytest.mark.parametrize("change, message", [
    (dict(imgs=None), r"missing key\(s\) \['imgs'\]"),
    (dict(latents_classes=None), "missing key"),
    (dict(imgs="wrong_shape"), r"'imgs' has shape \(192, 63, 63\)"),
    (dict(imgs="float"), "'imgs' has dtype float32, expected uint8"),
    (dict(imgs="nonbinary"), "must be binary"),
    (dict(latents_classes="shuffled"), "not the C-order grid"),
    (dict(latents_classes="float"), "'latents_classes' has dtype float64, expected int"),
    (dict(latents_values="inconsistent"), "not a function of its class index"),
])
def test_dsprites_npz_rejects_corruption(tmp_path, dsprites_file, change, message):
    _, arr = dsprites_file
    key, how = next(iter(change.items()))
    if how == "wrong_shape":
        how = arr["imgs"][:, :63, :63]
    elif how == "float":
        how = arr[key].astype(np.float32 if key == "imgs" else np.float64)
    elif how == "nonbinary":
        how = arr["imgs"] * 2
    elif how == "shuffled":
        how = arr[key][np.random.default_rng(0).permutation(len(arr[key]))]
    elif how == "inconsistent":
        how = arr[key].copy()
        how[5, 4] += 0.01
    path = _write_npz(tmp_path / "bad.npz", arr, **{key: how})
    with pytest.raises(DatasetFileError, match=message) as err:
        load_dsprites_npz(path, factor_sizes=DS_SIZES)
    assert str(path) in str(err.value)


def test_dsprites_truncated_missing_and_wrong_grid(tmp_path, dsprites_file):
    path, _ = dsprites_file
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFileError, match="not a readable npz") as err:
        load_dsprites_npz(cut, factor_sizes=DS_SIZES)
    assert str(cut) in str(err.value)
    with pytest.raises(DatasetFileError, match="not found"):
        load_dsprites_npz(tmp_path / "nope.npz")
    # the real grid is the default: a small file is rejected, through load_dataset and its env variable too
    with pytest.raises(DatasetFileError, match=r"shape \(192, 64, 64\), expected \(737280, 64, 64\)"):
        load_dataset("dsprites", path=path)
    os.environ["RTC_DSPRITES"] = str(path)
    try:
        with pytest.raises(DatasetFileError, match=str(path)):
            load_dataset("dsprites")
    finally:
        del os.environ["RTC_DSPRITES"]


# ----------------------------------------------------------------------------- Shapes3D
def _shapes_arrays(rng):
    n = int(np.prod(S3_SIZES))
    g = _grid(S3_SIZES)
    tables = [np.linspace(0, 0.9, s) for s in S3_SIZES[:3]] + [np.linspace(0.75, 1.25, 2), np.arange(2.0),
                                                             np.linspace(-30, 30, 3)]
    labels = np.stack([tables[k][g[:, k]] for k in range(6)], 1)
    images = rng.integers(0, 256, size=(n, 64, 64, 3), dtype=np.uint8)
    return dict(images=images, labels=labels)


def _write_h5(path, arrays):
    with h5py.File(path, "w") as h:
        for k, v in arrays.items():
            if v is not None:
                h.create_dataset(k, data=v)
    return path


@pytest.mark.parametrize("in_memory", [None, False])
def test_shapes3d_h5_loads(tmp_path, in_memory):
    arr = _shapes_arrays(np.random.default_rng(1))
    path = _write_h5(tmp_path / "3dshapes.h5", arr)
    ds = load_shapes3d_h5(path, factor_sizes=S3_SIZES, in_memory=in_memory)
    f = ds.sample_factors(40, 0)                     # with repeats: exercises the sorted-unique h5 read
    idx = np.ravel_multi_index(tuple(f.T), S3_SIZES)
    assert np.array_equal(ds.images(f), arr["images"][idx])
    assert ds.num_channels == 3 and np.allclose(ds.factor_values[5], [-30, 0, 30])


@pytest.mark.parametrize("change, message", [
    (dict(labels=None), r"missing dataset\(s\) \['labels'\]"),
    (dict(images="wrong_shape"), r"'images' has shape \(96, 64, 64, 1\)"),
    (dict(images="float"), "'images' has dtype float32, expected uint8"),
    (dict(labels="shuffled"), "not the C-order grid"),
    (dict(labels="extra_value"), "has 3 distinct values, expected 2"),
])
def test_shapes3d_h5_rejects_corruption(tmp_path, change, message):
    arr = _shapes_arrays(np.random.default_rng(1))
    key, how = next(iter(change.items()))
    if how == "wrong_shape":
        how = arr["images"][..., :1]
    elif how == "float":
        how = arr["images"].astype(np.float32)
    elif how == "shuffled":
        how = arr["labels"][np.random.default_rng(0).permutation(len(arr["labels"]))]
    elif how == "extra_value":
        how = arr["labels"].copy()
        how[0, 0] = 0.5
    arr[key] = how
    path = _write_h5(tmp_path / "bad.h5", arr)
    with pytest.raises(DatasetFileError, match=message) as err:
        load_shapes3d_h5(path, factor_sizes=S3_SIZES)
    assert str(path) in str(err.value)


def test_shapes3d_truncated_and_not_hdf5(tmp_path):
    path = _write_h5(tmp_path / "3dshapes.h5", _shapes_arrays(np.random.default_rng(1)))
    data = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFileError, match=str(cut)):
        load_shapes3d_h5(cut, factor_sizes=S3_SIZES)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(DatasetFileError, match="not a readable HDF5"):
        load_shapes3d_h5(junk, factor_sizes=S3_SIZES)
    with pytest.raises(DatasetFileError, match=r"expected \(480000, 64, 64, 3\)"):
        load_dataset("shapes3d", path=path)


# ----------------------------------------------------------------------------- Cars3D
def _car_im(j):
    # smooth, object-dependent content (compresses well): value depends on row, col, channel, azimuth, elevation
    r, c, ch, az, el = np.meshgrid(*[np.arange(s) for s in (128, 128, 3, 24, 4)], indexing="ij", sparse=True)
    return ((r + 2 * c + 40 * ch + 3 * az + 50 * el + 17 * j) % 256).astype(np.uint8)


@pytest.fixture
def cars_folder(tmp_path):
    folder = tmp_path / "cars"
    folder.mkdir()
    names = ["car_b_mesh", "car_a_mesh"]                       # list.txt order, not alphabetical
    for j, nm in enumerate(names):
        scipy.io.savemat(folder / f"{nm}.mat", {"im": _car_im(j)}, do_compression=True)
    (folder / "list.txt").write_text("\n".join(names) + "\n")
    return folder


def test_cars3d_mats_load_in_list_order(cars_folder):
    ds = load_cars3d_mats(cars_folder, num_objects=2)
    assert ds.factor_sizes == (4, 24, 2) and ds.num_channels == 3
    for e, a, j in [(0, 0, 0), (3, 17, 1), (2, 5, 0)]:
        im = _car_im(j)[:, :, :, a, e].astype(float)
        want = np.rint(im.reshape(64, 2, 64, 2, 3).mean(axis=(1, 3)))       # 2x2 area average
        assert np.array_equal(ds.images(np.array([[e, a, j]]))[0], want.astype(np.uint8))


def test_cars3d_rejections(cars_folder, tmp_path):
    with pytest.raises(DatasetFileError, match="lists 2 objects, expected 183"):
        load_cars3d_mats(cars_folder)
    with pytest.raises(DatasetFileError, match="folder not found"):
        load_cars3d_mats(tmp_path / "nowhere", num_objects=2)
    # wrong key, wrong shape, wrong dtype, truncated: each names the file
    bad = cars_folder / "car_a_mesh.mat"
    for content, message in [({"img": _car_im(0)}, "missing key 'im'"),
                             ({"im": _car_im(0)[:, :, :, :, :3]}, r"shape \(128, 128, 3, 24, 3\)"),
                             ({"im": _car_im(0).astype(np.float32)}, "dtype float32, expected uint8")]:
        scipy.io.savemat(bad, content)
        with pytest.raises(DatasetFileError, match=message) as err:
            load_cars3d_mats(cars_folder, num_objects=2)
        assert str(bad) in str(err.value)
    scipy.io.savemat(bad, {"im": _car_im(1)})
    bad.write_bytes(bad.read_bytes()[:5000])
    with pytest.raises(DatasetFileError, match="not a readable .mat file") as err:
        load_cars3d_mats(cars_folder, num_objects=2)
    assert str(bad) in str(err.value)
    bad.unlink()
    with pytest.raises(DatasetFileError, match="listed in .* but not found"):
        load_cars3d_mats(cars_folder, num_objects=2)
    (cars_folder / "list.txt").write_text("car_b_mesh\ncar_b_mesh.mat\n")
    with pytest.raises(DatasetFileError, match="listed twice"):
        load_cars3d_mats(cars_folder, num_objects=2)
    (cars_folder / "list.txt").unlink()
    with pytest.raises(DatasetFileError, match="list.txt: missing"):
        load_cars3d_mats(cars_folder, num_objects=2)


def test_cache_argument_rejected_for_real_files(cars_folder):
    with pytest.raises(ValueError, match="procedural datasets only"):
        load_dataset("cars3d", path=cars_folder, cache=True)


# ----------------------------------------------------------------------------- file checks, in-memory Shapes3D
def _npz_with_header_only(path, members):
    """An npz whose members are bare .npy headers (shape, dtype) with no data: loading any of them fails."""
    with zipfile.ZipFile(path, "w") as zf:
        for key, (shape, dtype) in members.items():
            buf = io.BytesIO()
            np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                                       "fortran_order": False, "shape": shape})
            zf.writestr(key + ".npy", buf.getvalue())
    return path


def test_dsprites_headers_are_checked_before_any_data_is_read(tmp_path):
    # Regression: a float32 `imgs` of the real size needs 11.25 GiB; the old loader decompressed every array
    # first and died with MemoryError (or, here, a read error) naming no dtype. The headers alone decide now.
    n = 737280
    members = {"imgs": ((n, 64, 64), "float32"), "latents_classes": ((n, 6), "int64"),
               "latents_values": ((n, 6), "float64")}
    path = _npz_with_header_only(tmp_path / "dsprites.npz", members)
    with pytest.raises(DatasetFileError, match="'imgs' has dtype float32, expected uint8"):
        load_dsprites_npz(path)
    members["imgs"] = ((n, 64, 64), "uint8")
    members["latents_classes"] = ((n, 5), "int64")
    path = _npz_with_header_only(tmp_path / "dsprites2.npz", members)
    with pytest.raises(DatasetFileError, match=r"'latents_classes' has shape \(737280, 5\), expected \(737280, 6\)"):
        load_dsprites_npz(path)


def test_dsprites_bad_latents_rejected_before_images_are_decompressed(tmp_path, dsprites_file, monkeypatch):
    path, arrays = dsprites_file
    arrays = dict(arrays, latents_classes=arrays["latents_classes"][::-1].copy())
    bad = tmp_path / "bad.npz"
    np.savez_compressed(bad, **arrays)
    real_load = np.lib.npyio.NpzFile.__getitem__
    read = []

    def spy(self, key):
        read.append(key)
        return real_load(self, key)

    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", spy)
    with pytest.raises(DatasetFileError, match="not the C-order grid"):
        load_dsprites_npz(bad, factor_sizes=DS_SIZES)
    assert "imgs" not in read


def test_directory_and_file_confusions_say_what_is_there(tmp_path, cars_folder):
    # Regression: a directory where a file is expected (and the reverse) was reported as "not found"
    with pytest.raises(DatasetFileError, match="is a directory; expected the dSprites .npz file"):
        load_dsprites_npz(tmp_path)
    with pytest.raises(DatasetFileError, match="is a directory; expected the Shapes3D 3dshapes.h5 file"):
        load_dataset("shapes3d", path=tmp_path)
    with pytest.raises(DatasetFileError, match="is a file; expected the Cars3D folder"):
        load_cars3d_mats(cars_folder / "list.txt", num_objects=2)
    (cars_folder / "car_a_mesh.mat").unlink()
    (cars_folder / "car_a_mesh.mat").mkdir()
    with pytest.raises(DatasetFileError, match="is a directory, not a .mat file"):
        load_cars3d_mats(cars_folder, num_objects=2)
    with pytest.raises(DatasetFileError, match="dSprites .npz file not found"):
        load_dsprites_npz(tmp_path / "nope.npz")


def test_load_dataset_in_memory_option(tmp_path, monkeypatch):
    # Regression: load_dataset had no way to ask for an in-memory Shapes3D
    arr = _shapes_arrays(np.random.default_rng(1))
    path = _write_h5(tmp_path / "3dshapes.h5", arr)
    monkeypatch.setattr(loaders, "SHAPES3D_FACTOR_SIZES", S3_SIZES)
    monkeypatch.setattr(loaders.load_shapes3d_h5, "__kwdefaults__", dict(factor_sizes=S3_SIZES, in_memory=None))
    for flag, stored in ((True, np.ndarray), (False, h5py.Dataset)):
        ds = load_dataset("shapes3d", path=path, in_memory=flag)
        assert isinstance(ds._images, stored)
        f = ds.sample_factors(10, 0)
        assert np.array_equal(ds.images(f), arr["images"][np.ravel_multi_index(tuple(f.T), S3_SIZES)])
    with pytest.raises(ValueError, match="in_memory applies to a real Shapes3D file only"):
        load_dataset("shapes3d", in_memory=True)
    with pytest.raises(ValueError, match="in_memory applies to a real Shapes3D file only"):
        load_dataset("dsprites", path=path, in_memory=False)
