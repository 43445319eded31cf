"""MNIST and Fashion-MNIST from their original IDX files, found offline before any download.

The IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/): two zero bytes, a type
code (0x08: unsigned bytes), the number of dimensions n, n big-endian uint32 sizes, then
the values in C order. Images files have n = 3 ([N, 28, 28]), label files n = 1 ([N]).
Files may be gzipped (``.gz``, as distributed) or not.

``find_split`` looks for a split's two files in this order and stops at the first place
that has them:

1. ``<raw_root>/<name>/`` (``datasets/fashion_mnist/``), where a user puts files by hand;
2. Keras' cache (``$KERAS_HOME`` or ``~/.keras``, then ``datasets/``): the IDX files of
   ``fashion-mnist/`` or ``mnist.npz``, whatever ``keras.datasets`` downloaded before;
3. Debian's dataset packages, ``/usr/share/datasets/fashion-mnist/``
   (``apt-get install dataset-fashion-mnist``) or ``/usr/share/datasets/mnist/``;

and only then does ``load_split`` let ``keras.datasets`` download. When that fails too, one
``DataError`` names every place searched, the apt-get command and the download's error.
"""

import gzip
import os
import zlib
from dataclasses import dataclass

import numpy as np

from wgan.errors import DataError

SPLITS = ("train", "test")
# Debian installs its dataset packages here; a module constant so tests can point it elsewhere.
DEBIAN_ROOT = "/usr/share/datasets"

_UBYTE = 0x08
# The file stems of each split: (images, labels); "t10k" is the original name of the test files.
_STEMS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


@dataclass(frozen=True)
class IdxSource:
    """Where one IDX source may already be on disk.

    Attributes:
        name: the ``--data`` value.
        keras_cache: the path below Keras' ``datasets/`` cache folder that ``keras.datasets``
            downloads to: a folder of IDX files, or an ``.npz`` with x_train, y_train, x_test, y_test.
        debian_folder: the folder below ``DEBIAN_ROOT`` a Debian package installs.
        apt_package: that package's name, or None when Debian ships none.
    """

    name: str
    keras_cache: str
    debian_folder: str
    apt_package: str | None = None


IDX_SOURCES = {
    source.name: source
    for source in (
        IdxSource("fashion_mnist", "fashion-mnist", "fashion-mnist", "dataset-fashion-mnist"),
        IdxSource("mnist", "mnist.npz", "mnist"),
    )
}


def keras_datasets_dir() -> str:
    """Keras' download cache: ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets")


def _open(path: str):
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def read_idx(path: str, ndim: int) -> np.ndarray:
    """The uint8 array [d1, ..., d_ndim] stored in the IDX file ``path`` (gzipped or not).

    Raises:
        DataError: one line naming the file, for a missing file, a wrong magic number (not
            an unsigned-byte IDX file of ``ndim`` dimensions), a file shorter or longer than
            its header says, or a damaged gzip stream.
    """
    try:
        with _open(path) as handle:
            header = handle.read(4)
            if len(header) < 4:
                raise DataError(f"{path}: truncated IDX file ({len(header)} bytes, shorter than its header)")
            expected = bytes([0, 0, _UBYTE, ndim])
            if header != expected:
                raise DataError(f"{path}: not an IDX file of {ndim}-d unsigned bytes: magic number "
                                f"0x{header.hex()}, expected 0x{expected.hex()}; replace the file with the original")
            dims_bytes = handle.read(4 * ndim)
            if len(dims_bytes) < 4 * ndim:
                raise DataError(f"{path}: truncated IDX file (header ends after {4 + len(dims_bytes)} bytes)")
            shape = tuple(int(d) for d in np.frombuffer(dims_bytes, dtype=">u4"))
            size = int(np.prod(shape))
            values = handle.read(size + 1)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{path}: damaged gzip file ({type(err).__name__}: {err}); "
                        "replace it with the original") from None
    if len(values) < size:
        raise DataError(f"{path}: truncated IDX file: its header promises {shape} = {size} values, only "
                        f"{len(values)} follow; replace the file with the original")
    if len(values) > size:
        raise DataError(f"{path}: the file goes on past the {shape} = {size} values its header promises; "
                        "replace the file with the original")
    return np.frombuffer(values, dtype=np.uint8).reshape(shape)


def _file_in(folder: str, stem: str) -> str | None:
    """``folder/stem[.gz]``, also with the ``.idx`` dot some unpackers write (``train-images.idx3-ubyte``)."""
    dotted = stem.replace("-idx", ".idx")
    for name in (f"{stem}.gz", stem, f"{dotted}.gz", dotted):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def _split_files(folder: str, split: str) -> tuple[str, str] | None:
    """The (images, labels) files of ``split`` in ``folder``, None when the folder has neither.

    Raises DataError when only one of the two is there (a half-copied folder).
    """
    images_stem, labels_stem = _STEMS[split]
    images, labels = _file_in(folder, images_stem), _file_in(folder, labels_stem)
    if images and labels:
        return images, labels
    if images or labels:
        missing = labels_stem if images else images_stem
        raise DataError(f"{folder} has {os.path.basename(images or labels)} but not {missing}[.gz]; "
                        "copy both files of the split there")
    return None


@dataclass(frozen=True)
class Found:
    """Where a split was found: ``kind`` (raw_root, keras_cache, debian) and the file paths."""

    kind: str
    paths: tuple


def search_places(name: str, raw_root: str) -> list[tuple[str, str]]:
    """``(kind, path)`` of every place ``find_split`` looks, in order."""
    source = IDX_SOURCES[name]
    return [("raw_root", os.path.join(raw_root, name)),
            ("keras_cache", os.path.join(keras_datasets_dir(), source.keras_cache)),
            ("debian", os.path.join(DEBIAN_ROOT, source.debian_folder))]


def find_split(name: str, split: str, raw_root: str) -> Found | None:
    """The first place (see the module docstring) holding ``split`` of ``name``, or None."""
    _check(name, split)
    for kind, path in search_places(name, raw_root):
        if path.endswith(".npz"):
            if os.path.isfile(path):
                return Found(kind, (path,))
        elif os.path.isdir(path):
            files = _split_files(path, split)
            if files:
                return Found(kind, files)
    return None


def _check(name: str, split: str) -> None:
    if name not in IDX_SOURCES:
        raise DataError(f"{name!r} is not an IDX source; IDX sources: {', '.join(IDX_SOURCES)}")
    if split not in SPLITS:
        raise DataError(f"split {split!r} is not one of {', '.join(SPLITS)}")


def _read_npz(path: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return arrays[f"x_{split}"], arrays[f"y_{split}"]
    except (OSError, ValueError, KeyError, zlib.error) as err:
        raise DataError(f"{path}: cannot read x_{split}/y_{split} ({type(err).__name__}: {err}); "
                        "delete the file to download it again") from None


def read_found(found: Found, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [N, H, W] and labels uint8 [N] of a found split; counts must agree."""
    if len(found.paths) == 1:
        return _read_npz(found.paths[0], split)
    images_path, labels_path = found.paths
    images, labels = read_idx(images_path, 3), read_idx(labels_path, 1)
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} {len(labels)} labels; "
                        "the two files are from different splits or versions")
    return images, labels


def _download(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``keras.datasets.<name>.load_data()``'s ``split`` (downloads into Keras' cache)."""
    import keras

    train, test = getattr(keras.datasets, name).load_data()
    return train if split == "train" else test


def not_found_message(name: str, split: str, raw_root: str, download_error: str) -> str:
    """The one line that says where ``name`` was looked for, how to install it and why the download failed."""
    source = IDX_SOURCES[name]
    places = "; ".join(f"{path}" for _, path in search_places(name, raw_root))
    apt = f"; install it offline with `apt-get install {source.apt_package}`" if source.apt_package else ""
    images, labels = _STEMS[split]
    return (f"{name} {split} split not found: searched {places} for {images}[.gz] and {labels}[.gz]"
            f"{apt}, or copy the IDX files into {os.path.join(raw_root, name)}; the download through "
            f"keras.datasets failed too ({download_error})")


def load_split(name: str, split: str, raw_root: str, download=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(images uint8 [N, 28, 28], labels int64 [N], origin)`` of ``split`` of ``name``.

    ``origin`` names what was read for the manifest: ``{"kind": "idx", "found_in": kind,
    "files": [...]}`` or ``{"kind": "keras.datasets download"}``. ``download(name, split)``
    replaces the keras.datasets download (default ``_download``).

    Raises:
        DataError: a bad file (named), or nothing found anywhere and no download
            (``not_found_message``).
    """
    found = find_split(name, split, raw_root)
    if found is not None:
        images, labels = read_found(found, split)
        origin = {"kind": "idx" if len(found.paths) == 2 else "npz", "found_in": found.kind,
                  "files": [os.path.abspath(p) for p in found.paths]}
    else:
        try:
            images, labels = (download or _download)(name, split)
        except Exception as err:  # no network, a proxy, a corrupt partial download ...
            reason = f"{type(err).__name__}: {err}".splitlines()[0]
            raise DataError(not_found_message(name, split, raw_root, reason)) from None
        origin = {"kind": "keras.datasets download", "found_in": "download"}
    return np.asarray(images, dtype=np.uint8), np.asarray(labels).reshape(-1).astype(np.int64), origin
