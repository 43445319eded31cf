"""Look at a folder of a user's images before building it: grey or colour, one common side, classes.

A folder given as ``--data`` has no entry in ``wgan.data.sources`` to say how to build it,
so the build asks the images themselves (``survey``):

* **channels**: 1 when every image is grey (modes ``1``, ``L``, ``LA``, the 16- and 32-bit
  integer modes, or a palette whose entries are all grey), 3 as soon as one image is colour.
  A folder of grey PNGs built as colour trains a network on three equal channels, three
  times the input for nothing, and the toolkit's grey files then refuse the records.
* **side**: the images' short side when every image has the same one (the build crops the
  centred short-side square, so that is the side that keeps every pixel), but never above
  ``sources.FOLDER_DEFAULT_RESIZE``: 28x28 garments stay 28x28 instead of being upscaled to
  64x64, while a folder of photos is still brought down to 64. Mixed sides give the default.
* **classes**: a folder whose images all lie in subfolders, at least two of them, is labelled
  by subfolder (``FOLDER/<class>/**/*.png``, the layout of torchvision's ImageFolder and
  Keras' ``image_dataset_from_directory``): label ``i`` is the ``i``-th subfolder name in
  sorted order, so the labels do not depend on the file system's order or on ``--workers``.
  An image directly in the folder, or a single subfolder, means no labels.

Only image headers are read (PIL opens lazily), so surveying 200,000 files takes seconds;
a file PIL cannot open is left for the build to skip and count by reason.
"""

import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

from wgan.data.sources import FOLDER_DEFAULT_RESIZE

# PIL modes without colour. P and PA are grey only when their palette is (``_grey_palette``).
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N"})
_PALETTE_MODES = frozenset({"P", "PA"})


@dataclass(frozen=True)
class Survey:
    """What a folder's images say about how to build them.

    Attributes:
        channels: 1 when every readable image is grey, else 3.
        side: the output side the images suggest (see the module docstring).
        sides: the distinct short sides seen, smallest first (for messages).
        labels: int64 [N] class index of each path, or None for an unlabelled folder.
        class_names: the subfolder names in label order, or None.
    """

    channels: int
    side: int
    sides: tuple
    labels: np.ndarray | None
    class_names: tuple | None


def _grey_palette(image: Image.Image) -> bool:
    palette = image.getpalette() or []
    entries = np.asarray(palette[:768], dtype=np.int32).reshape(-1, 3)
    return bool(np.all(entries[:, 0] == entries[:, 1]) and np.all(entries[:, 1] == entries[:, 2]))


def _header(path: str):
    """``(is_grey, short_side)`` of the image at ``path``, or None when PIL cannot open it."""
    try:
        with Image.open(path) as image:
            mode, size = image.mode, image.size
            grey = mode in _GREY_MODES or (mode in _PALETTE_MODES and _grey_palette(image))
    except Exception:  # the build skips it and says why; a survey only counts readable files
        return None
    return grey, min(size)


def class_labels(folder: str, paths: list) -> tuple:
    """``(labels int64 [N], class names)`` from the first path component below ``folder``, or
    ``(None, None)`` when an image lies directly in ``folder`` or there are fewer than two classes."""
    first = []
    for path in paths:
        parts = os.path.relpath(path, folder).split(os.sep)
        if len(parts) < 2:
            return None, None
        first.append(parts[0])
    names = tuple(sorted(set(first)))
    if len(names) < 2:
        return None, None
    index = {name: i for i, name in enumerate(names)}
    return np.asarray([index[name] for name in first], dtype=np.int64), names


def common_side(short_sides) -> int:
    """The output side for images with these short sides: the one side they share, at most
    ``FOLDER_DEFAULT_RESIZE``; the default when they differ or none was readable."""
    sides = set(short_sides)
    if len(sides) == 1:
        return min(sides.pop(), FOLDER_DEFAULT_RESIZE)
    return FOLDER_DEFAULT_RESIZE


def survey(folder: str, paths: list) -> Survey:
    """Look at the headers of ``paths`` (image files below ``folder``); see the module docstring."""
    grey, sides = True, set()
    for path in paths:
        header = _header(path)
        if header is None:
            continue
        grey = grey and header[0]
        sides.add(header[1])
    labels, names = class_labels(folder, paths)
    return Survey(1 if grey and sides else 3, common_side(sides), tuple(sorted(sides)), labels, names)


def builds(records_root, data):
    """``[(records folder, manifest)]`` of every complete training build of the image folder ``data``
    under ``records_root``, sorted by folder name (a build is recognised by the absolute path its
    manifest records, not by its name: two folders of one base name do not mix)."""
    from wgan.data.manifest import MANIFEST_NAME, read_manifest
    from wgan.errors import DataError

    wanted = os.path.abspath(data)
    found = []
    if not os.path.isdir(records_root):
        return found
    for name in sorted(os.listdir(records_root)):
        folder = os.path.join(records_root, name)
        if not os.path.isfile(os.path.join(folder, MANIFEST_NAME)):
            continue
        try:
            manifest = read_manifest(folder)
        except DataError:  # a damaged build of something else is not ours to report here
            continue
        build = manifest.get("build") or {}
        if build.get("data") == wanted and manifest.get("split", "train") == "train":
            found.append((folder, manifest))
    return found
