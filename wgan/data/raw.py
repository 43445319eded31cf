"""Find the raw images of a source: a sorted list of files, or in-memory arrays.

Nothing is decoded here (that happens in the build's workers, see ``imageops``);
this module only locates the data and says clearly where it belongs when it is
missing.
"""

import os
from dataclasses import dataclass, field

import numpy as np

from wgan.data import folders, idx, sources
from wgan.data.imageops import IMAGE_EXTENSIONS
from wgan.errors import DataError

RAW_ROOT = "datasets"


@dataclass
class RawData:
    """The raw images of one source, in the order their records are written.

    Attributes:
        items: file paths (str), or uint8 arrays [H, W] / [H, W, C] with values 0..255.
        labels: int64 [len(items)] class labels, or None when the source has none.
        channels: output channels (3 or 1).
        origin: what was read, for the manifest (kind, and path where there is one).
        ignored_files: files below a folder skipped for their extension (not images).
        class_names: the name of each label (index = label), or None.
        side: the output side the images suggest when no ``--resize`` is given: the
            source's default, or for a folder of images its survey's (``wgan.data.folders``).
    """

    items: list
    labels: np.ndarray | None
    channels: int
    origin: dict = field(default_factory=dict)
    ignored_files: int = 0
    class_names: tuple | None = None
    side: int | None = None

    @property
    def from_files(self) -> bool:
        """True when the items are file paths (decoded by the build), False for arrays."""
        return bool(self.items) and isinstance(self.items[0], str)

    def name_of(self, index: int, data: str) -> str:
        """How item ``index`` is named in messages: its path, or ``data[index]``."""
        item = self.items[index]
        return item if isinstance(item, str) else f"{data}[{index}]"


def list_images(folder: str) -> tuple[list[str], int]:
    """Every image file below ``folder`` in sorted path order, and how many other files there are.

    Image files are recognised by extension (``IMAGE_EXTENSIONS``, any case); the
    returned paths are ``folder`` joined with the relative path.
    """
    images, ignored = [], 0
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files:
            if name.lower().endswith(IMAGE_EXTENSIONS):
                images.append(os.path.join(root, name))
            else:
                ignored += 1
    # os.walk visits folders depth-first; sort the full paths for one global order.
    images.sort()
    return images, ignored


def _hint(hint: str, path: str) -> str:
    return "; " + hint.format(path=path, parent=os.path.dirname(path)) if hint else ""


def _missing(what: str, path: str, hint: str) -> DataError:
    return DataError(f"{what} not found: expected {path}{_hint(hint, path)}")


def _from_folder(folder: str, what: str, hint: str, source=None) -> RawData:
    if not os.path.isdir(folder):
        raise _missing(what, folder, hint)
    images, ignored = list_images(folder)
    if not images:
        lmdb = any(name.endswith(".mdb") for _, _, files in os.walk(folder) for name in files)
        extra = " (found an LMDB database: export it to image files first)" if lmdb else ""
        raise DataError(
            f"no image files ({', '.join(IMAGE_EXTENSIONS)}) below {folder}{extra}{_hint(hint, folder)}"
        )
    origin = {"kind": "folder", "path": os.path.abspath(folder)}
    if source is not None:  # a named source (celeba, lsun, anime) says how it is built
        return RawData(images, None, source.channels, origin, ignored, side=source.default_resize)
    # A user's folder: its images say (grey or colour, one common side, class subfolders).
    seen = folders.survey(folder, images)
    return RawData(images, seen.labels, seen.channels, origin, ignored, seen.class_names, seen.side)


def _digits() -> RawData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    # 17 grey levels 0..16 spread over 0..255 (16 -> 255), rounded.
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    source = sources.SOURCES["digits"]
    return RawData(list(images), digits.target.astype(np.int64), 1, {"kind": "sklearn.load_digits"},
                   class_names=source.class_names, side=source.default_resize)


def _keras(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    import keras

    try:
        train, test = getattr(keras.datasets, name).load_data()
        images, labels = train if split == "train" else test
    except Exception as err:  # network errors, a corrupt cache file ...
        raise DataError(
            f"could not load {name} through keras.datasets (it downloads to ~/.keras/datasets "
            f"on first use): {type(err).__name__}: {err}"
        ) from None
    return images, labels


def _svhn(path: str, hint: str) -> tuple[np.ndarray, np.ndarray]:
    from scipy.io import loadmat

    if not os.path.isfile(path):
        raise _missing("SVHN training file", path, hint)
    try:
        mat = loadmat(path)
        images, labels = mat["X"], mat["y"]
    except Exception as err:
        raise DataError(f"cannot read SVHN file {path}: {type(err).__name__}: {err}") from None
    if images.ndim != 4 or images.shape[:3] != (32, 32, 3):
        raise DataError(f"SVHN file {path}: X has shape {images.shape}, expected 32x32x3xN")
    # X is stored as [32, 32, 3, N]; digit 0 is labelled 10.
    labels = np.asarray(labels).reshape(-1) % 10
    return np.moveaxis(images, -1, 0), labels


def _checked_arrays(data: str, arrays, channels: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate ``(images, labels)``: uint8 [N, H, W] or [N, H, W, C], labels [N] or None."""
    try:
        images, labels = arrays
    except (TypeError, ValueError):
        raise DataError(f"{data}: arrays must be a pair (images, labels)") from None
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise DataError(f"{data}: images must be uint8 (0..255), got {images.dtype}")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) == 0:
        raise DataError(f"{data}: images must be a non-empty [N, H, W] or [N, H, W, C] array "
                        f"with C 1 or 3, got shape {images.shape}")
    if images.shape[-1] != channels:
        raise DataError(f"{data}: expected {channels}-channel images, got shape {images.shape}")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1).astype(np.int64)
        if len(labels) != len(images):
            raise DataError(f"{data}: {len(labels)} labels for {len(images)} images")
    return images, labels


def load_raw(data: str, raw_root: str = RAW_ROOT, arrays=None, split: str = "train") -> RawData:
    """Locate the raw images of ``data`` (a named source or a folder path).

    Args:
        data: a name in ``sources.SOURCES`` or a folder path.
        raw_root: the folder user-placed raw data lives under (``datasets``).
        arrays: optional ``(images, labels)`` replacing what an array source
            (digits, mnist, fashion_mnist, cifar10, svhn) would load: images uint8
            [N, H, W] or [N, H, W, C]; labels [N] or None. Tests use this to avoid
            downloads.
        split: ``train``, or ``test`` for the sources that have one (``sources.splits``).

    Raises:
        DataError: when the data is missing (saying where it belongs) or malformed.
    """
    if sources.is_toy(data):
        raise DataError(f"toy set {data!r} is sampled on the fly and has no raw images")
    sources.check_split(data, split)
    source = sources.SOURCES.get(data)
    if source is None:
        if not os.path.isdir(data):
            names = ", ".join(sources.SOURCES)
            raise DataError(f"--data {data!r} is neither a named source ({names}) nor a folder")
        return _from_folder(data, "image folder", "")
    if source.kind == "folder":
        if arrays is not None:
            raise DataError(f"{data} is read from image files; arrays cannot replace them")
        return _from_folder(os.path.join(raw_root, source.raw_path), f"{data} images", source.hint, source)

    if arrays is not None:
        images, labels = _checked_arrays(data, arrays, source.channels)
        origin = {"kind": "arrays"}
    elif source.kind == "digits":
        return _digits()
    elif source.kind == "idx":
        images, labels, origin = idx.load_split(data, split, raw_root)
        images, labels = _checked_arrays(data, (images, labels), source.channels)
    elif source.kind == "keras":
        images, labels = _checked_arrays(data, _keras(data, split), source.channels)
        origin = {"kind": f"keras.datasets.{data}"}
    else:
        path = os.path.join(raw_root, source.raw_path)
        images, labels = _checked_arrays(data, _svhn(path, source.hint), source.channels)
        origin = {"kind": "svhn train_32x32.mat", "path": os.path.abspath(path)}
    return RawData(list(images), labels, source.channels, {**origin, "split": split},
                   class_names=source.class_names if labels is not None else None, side=source.default_resize)
