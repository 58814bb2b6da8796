"""Loaders for the real dataset files, validated completely before a dataset is returned.

- dSprites: ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` with ``imgs`` (737280, 64, 64) uint8 in {0, 1},
  ``latents_classes`` (737280, 6) int and ``latents_values`` (737280, 6) float (columns: colour, shape, scale,
  orientation, posX, posY; the constant colour column is dropped).
- Shapes3D: ``3dshapes.h5`` with ``images`` (480000, 64, 64, 3) uint8 and ``labels`` (480000, 6) float64, in C
  order with orientation fastest.
- Cars3D: a folder of ``.mat`` files (key ``im``: (128, 128, 3, 24, 4) uint8 = rows, cols, rgb, azimuth,
  elevation) plus ``list.txt`` naming the objects in order (one name per line, with or without ``.mat``).
  Images are reduced to 64x64 by 2x2 averaging. The image of (elevation e, azimuth a) is ``im[..., a, e]``
  (we index by the array's axes, which agrees with disentanglement_lib's row order az·4 + el).

Every check failure raises :class:`~rtc.data.base.DatasetFileError` naming the file and the problem. The
``factor_sizes`` / ``num_objects`` arguments exist so tests can write small files in the real formats; the
defaults are the real grids, and a file with another grid is rejected.
"""
from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import h5py
import numpy as np
import scipy.io

from .base import DatasetFileError, GroundTruthDataset
from .cache import IN_MEMORY_BYTES
from .cars3d import CARS3D_FACTOR_NAMES, CARS3D_FACTOR_SIZES
from .dsprites import DSPRITES_FACTOR_NAMES, DSPRITES_FACTOR_SIZES
from .shapes3d import SHAPES3D_FACTOR_NAMES, SHAPES3D_FACTOR_SIZES

__all__ = ["ArrayDataset", "load_dsprites_npz", "load_shapes3d_h5", "load_cars3d_mats"]


class ArrayDataset(GroundTruthDataset):
    """A dataset whose images are stored: an in-memory uint8 array or an h5py dataset, in C-order grid order.

    ``multiplier`` scales stored values to 0..255 (dSprites stores {0, 1}).
    """

    def __init__(self, name, factor_names, factor_sizes, factor_values, images, *, source: str,
                 multiplier: int = 1, h5file=None):
        self.name = name
        self.factor_names = tuple(factor_names)
        self.factor_sizes = tuple(int(s) for s in factor_sizes)
        self._factor_values = tuple(np.asarray(v, dtype=np.float64) for v in factor_values)
        self._images = images
        self.image_size = int(images.shape[1])
        self.num_channels = 1 if len(images.shape) == 3 else int(images.shape[3])
        self.source = source
        self._multiplier = multiplier
        self._h5file = h5file      # kept open while the dataset lives

    @property
    def factor_values(self):
        return self._factor_values

    def _render(self, f: np.ndarray) -> np.ndarray:
        idx = f @ self._strides
        if isinstance(self._images, np.ndarray):
            out = self._images[idx]
        else:
            uniq, inverse = np.unique(idx, return_inverse=True)   # h5py reads need increasing indices
            out = self._images[uniq][inverse]
        if self._multiplier != 1:
            out = out * np.uint8(self._multiplier)
        return out.reshape(len(f), self.image_size, self.image_size, self.num_channels)


def _grid(sizes) -> np.ndarray:
    """All factor index rows (N, F) of a C-order grid."""
    return np.stack(np.unravel_index(np.arange(int(np.prod(sizes))), sizes), axis=1).astype(np.int64)


def _check_array(path, key, arr, *, shape, kind: str):
    if tuple(arr.shape) != tuple(shape):
        raise DatasetFileError(f"{path}: {key!r} has shape {tuple(arr.shape)}, expected {tuple(shape)}")
    ok = {"uint8": arr.dtype == np.uint8, "int": np.issubdtype(arr.dtype, np.integer),
          "float": np.issubdtype(arr.dtype, np.floating)}[kind]
    if not ok:
        raise DatasetFileError(f"{path}: {key!r} has dtype {arr.dtype}, expected {kind}")


def _values_per_class(path, key, names, classes, values, sizes) -> list[np.ndarray]:
    """Check that each value column is a strictly increasing function of its class column; return the tables."""
    tables = []
    for k, (name, size) in enumerate(zip(names, sizes, strict=True)):
        table = np.full(size, np.nan)
        table[classes[:, k]] = values[:, k]
        if not np.array_equal(table[classes[:, k]], values[:, k]):
            raise DatasetFileError(f"{path}: {key!r} column for {name!r} is not a function of its class index")
        if size > 1 and not np.all(np.diff(table) > 0):
            raise DatasetFileError(f"{path}: {key!r} values of {name!r} do not increase with the class index")
        tables.append(table)
    return tables


def _require_file(path: Path, what: str) -> None:
    """DatasetFileError unless ``path`` is a regular file, saying what is there instead."""
    if path.is_dir():
        raise DatasetFileError(f"{path}: is a directory; expected the {what} file itself")
    if not path.exists():
        raise DatasetFileError(f"{path}: {what} file not found")
    if not path.is_file():
        raise DatasetFileError(f"{path}: is not a regular file (a device, pipe or socket); expected the {what} file")


def _npz_headers(path: Path, keys) -> dict:
    """``{key: (shape, dtype)}`` read from the ``.npy`` headers inside the npz archive, decompressing no data.

    A header is the first ~128 bytes of its member; reading it first means a wrong dtype or shape is
    reported before gigabytes are decompressed (a float32 ``imgs`` would need 11.25 GiB).
    """
    out = {}
    with zipfile.ZipFile(path) as zf:
        have = sorted(nm[:-4] for nm in zf.namelist() if nm.endswith(".npy"))
        missing = [k for k in keys if k not in have]
        if missing:
            raise DatasetFileError(f"{path}: missing key(s) {missing}; the file has {have}")
        for k in keys:
            with zf.open(k + ".npy") as fh:
                version = np.lib.format.read_magic(fh)
                read = {(1, 0): np.lib.format.read_array_header_1_0,
                        (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read is None:
                    raise DatasetFileError(f"{path}: {k!r} is stored in .npy format version {version}, "
                                           "expected 1.0 or 2.0")
                shape, _, dtype = read(fh)
            out[k] = (tuple(shape), np.dtype(dtype))
    return out


class _Header:
    """Shape and dtype of an array not loaded yet (what :func:`_check_array` looks at)."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype


def load_dsprites_npz(path: Path, *, factor_sizes=DSPRITES_FACTOR_SIZES) -> ArrayDataset:
    """The dSprites npz (see module docstring), validated; images held in memory (3.0 GB for the real file).

    Order of the checks, cheapest first: every member's ``.npy`` header (shape, dtype) is read from the
    archive before any data; then the latents (27 MB) are loaded and checked; the images are decompressed
    last, only for a file that passed everything else.
    """
    path = Path(path)
    _require_file(path, "dSprites .npz")
    sizes = tuple(int(s) for s in factor_sizes)
    n = int(np.prod(sizes))
    want = {"imgs": ((n, 64, 64), "uint8"), "latents_classes": ((n, 6), "int"), "latents_values": ((n, 6), "float")}
    readable = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError)
    try:
        headers = _npz_headers(path, list(want))
    except DatasetFileError:
        raise
    except readable as exc:
        raise DatasetFileError(f"{path}: not a readable npz file ({type(exc).__name__}: {exc})") from None
    for key, (shape, kind) in want.items():
        _check_array(path, key, _Header(*headers[key]), shape=shape, kind=kind)
    try:
        with np.load(path, allow_pickle=False) as z:
            classes, values = z["latents_classes"], z["latents_values"]
    except readable as exc:
        raise DatasetFileError(f"{path}: not a readable npz file ({type(exc).__name__}: {exc})") from None
    if np.any(classes[:, 0] != 0):
        raise DatasetFileError(f"{path}: 'latents_classes' colour column must be all 0")
    classes = classes[:, 1:].astype(np.int64)
    if not np.array_equal(classes, _grid(sizes)):
        raise DatasetFileError(f"{path}: 'latents_classes' is not the C-order grid {sizes} of "
                               f"{DSPRITES_FACTOR_NAMES} (posY fastest)")
    tables = _values_per_class(path, "latents_values", DSPRITES_FACTOR_NAMES, classes, values[:, 1:], sizes)
    try:
        with np.load(path, allow_pickle=False) as z:
            imgs = z["imgs"]
    except readable as exc:
        raise DatasetFileError(f"{path}: not a readable npz file ({type(exc).__name__}: {exc})") from None
    _check_array(path, "imgs", imgs, shape=(n, 64, 64), kind="uint8")
    if imgs.max() > 1:
        raise DatasetFileError(f"{path}: 'imgs' must be binary (0/1), found the value {imgs.max()}")
    return ArrayDataset("dsprites", DSPRITES_FACTOR_NAMES, sizes, tables, imgs, source=str(path), multiplier=255)


def load_shapes3d_h5(path: Path, *, factor_sizes=SHAPES3D_FACTOR_SIZES, in_memory: bool | None = None) -> ArrayDataset:
    """``3dshapes.h5`` (see module docstring), validated.

    ``in_memory``: True reads all images into memory (5.9 GB for the real file; random batches are then
    ~20× faster than from the file — ``bench/bench_data.py`` measures both); False reads each batch
    from the file; None (default) reads into memory only when the images take at most 1 GiB.
    """
    path = Path(path)
    _require_file(path, "Shapes3D 3dshapes.h5")
    if in_memory not in (None, True, False):
        raise ValueError(f"in_memory must be True, False or None, got {in_memory!r}")
    sizes = tuple(int(s) for s in factor_sizes)
    n = int(np.prod(sizes))
    try:
        h = h5py.File(path, "r")
    except OSError as exc:
        raise DatasetFileError(f"{path}: not a readable HDF5 file ({exc})") from None
    try:
        missing = [k for k in ("images", "labels") if k not in h]
        if missing:
            raise DatasetFileError(f"{path}: missing dataset(s) {missing}; the file has {sorted(h.keys())}")
        images, labels_ds = h["images"], h["labels"]
        _check_array(path, "images", images, shape=(n, 64, 64, 3), kind="uint8")
        _check_array(path, "labels", labels_ds, shape=(n, 6), kind="float")
        try:
            labels = labels_ds[...]
            images[0]
            images[n - 1]            # a truncated file fails here rather than in the middle of training
            if in_memory is None:
                in_memory = n * 64 * 64 * 3 <= IN_MEMORY_BYTES
            stored = images[...] if in_memory else images
        except (OSError, ValueError) as exc:
            raise DatasetFileError(f"{path}: data cannot be read ({exc})") from None
        classes = np.zeros(labels.shape, dtype=np.int64)
        for k, (name, size) in enumerate(zip(SHAPES3D_FACTOR_NAMES, sizes, strict=True)):
            uniq = np.unique(labels[:, k])
            if len(uniq) != size:
                raise DatasetFileError(f"{path}: 'labels' column {name!r} has {len(uniq)} distinct values, "
                                       f"expected {size}")
            classes[:, k] = np.searchsorted(uniq, labels[:, k])
        if not np.array_equal(classes, _grid(sizes)):
            raise DatasetFileError(f"{path}: 'labels' are not the C-order grid {sizes} of {SHAPES3D_FACTOR_NAMES} "
                                   f"(orientation fastest)")
        tables = _values_per_class(path, "labels", SHAPES3D_FACTOR_NAMES, classes, labels, sizes)
    except BaseException:
        h.close()
        raise
    if in_memory:
        h.close()
        h = None
    return ArrayDataset("shapes3d", SHAPES3D_FACTOR_NAMES, sizes, tables, stored, source=str(path), h5file=h)


def _read_names(list_path: Path) -> list[str]:
    try:
        lines = list_path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetFileError(f"{list_path}: cannot be read ({exc})") from None
    names = [ln.strip() for ln in lines if ln.strip()]
    names = [nm if nm.endswith(".mat") else nm + ".mat" for nm in names]
    dup = sorted({nm for nm in names if names.count(nm) > 1})
    if dup:
        raise DatasetFileError(f"{list_path}: objects listed twice: {dup[:5]}")
    return names


def load_cars3d_mats(folder: Path, *, num_objects: int = CARS3D_FACTOR_SIZES[2]) -> ArrayDataset:
    """The Cars3D ``.mat`` files in ``folder`` ordered by ``folder/list.txt`` (see module docstring), validated,
    resized to 64x64 and held in memory (216 MB for the real 183 objects)."""

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DatasetFileError(f"{folder}: is a file; expected the Cars3D folder of .mat files with list.txt "
                               "(give the folder that contains it)")
    if not folder.is_dir():
        raise DatasetFileError(f"{folder}: Cars3D folder not found (expected a folder of .mat files with list.txt)")
    list_path = folder / "list.txt"
    if list_path.is_dir():
        raise DatasetFileError(f"{list_path}: is a directory; expected the text file giving the order of the objects")
    if not list_path.is_file():
        raise DatasetFileError(f"{list_path}: missing (it gives the order of the Cars3D objects)")
    names = _read_names(list_path)
    if len(names) != num_objects:
        raise DatasetFileError(f"{list_path}: lists {len(names)} objects, expected {num_objects}")
    sizes = (CARS3D_FACTOR_SIZES[0], CARS3D_FACTOR_SIZES[1], num_objects)
    out = np.empty(sizes + (64, 64, 3), dtype=np.uint8)        # (elevation, azimuth, object, 64, 64, 3)
    for j, nm in enumerate(names):
        p = folder / nm
        if p.is_dir():
            raise DatasetFileError(f"{p}: listed in {list_path} but is a directory, not a .mat file")
        if not p.is_file():
            raise DatasetFileError(f"{p}: listed in {list_path} but not found")
        try:
            mat = scipy.io.loadmat(p)
        except Exception as exc:   # scipy raises several types (ValueError, MatReadError, OSError, TypeError)
            raise DatasetFileError(f"{p}: not a readable .mat file ({type(exc).__name__}: {exc})") from None
        if "im" not in mat:
            keys = sorted(k for k in mat if not k.startswith("__"))
            raise DatasetFileError(f"{p}: missing key 'im'; the file has {keys}")
        _check_array(p, "im", mat["im"], shape=(128, 128, 3, 24, 4), kind="uint8")
        im = mat["im"].astype(np.float32)
        small = im.reshape(64, 2, 64, 2, 3, 24, 4).mean(axis=(1, 3))          # 2x2 area average
        out[:, :, j] = np.rint(small.transpose(4, 3, 0, 1, 2)).astype(np.uint8)   # (elev, az, 64, 64, 3)
    values = (np.arange(4.0), np.arange(24.0), np.arange(float(num_objects)))
    return ArrayDataset("cars3d", CARS3D_FACTOR_NAMES, sizes, values, out.reshape(-1, 64, 64, 3), source=str(folder))
