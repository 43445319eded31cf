"""Named data sources, their defaults, and the records-folder naming rule.

This module is the single source of truth for what ``--data`` may name and
where the records of a build live. It imports nothing heavy (no TensorFlow, no
PIL) because the trainer, the build tool and their error paths all consult it.

``--data`` is one of:

* a named image source in ``SOURCES`` (``celeba``, ``lsun``, ``anime``, ``digits``,
  ``mnist``, ``fashion_mnist``, ``cifar10``, ``svhn``);
* a toy 2-D set in ``TOY_SETS`` (sampled on the fly, never built into records);
* any other string, taken as a folder path whose images are read recursively.
"""

import os
from dataclasses import dataclass

from wgan.errors import DataError

# Side of the square output images for a folder path given as ``--data``.
FOLDER_DEFAULT_RESIZE = 64

# Digits 0 to 9, as named in the records of digits, mnist and svhn.
DIGIT_NAMES = tuple(str(d) for d in range(10))
# Fashion-MNIST's ten classes in label order (Xiao et al. 2017, the dataset's README).
FASHION_MNIST_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                       "Ankle boot")
CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

TOY_SETS = ("8gaussians", "25gaussians", "swissroll")


@dataclass(frozen=True)
class Source:
    """A named image source.

    Attributes:
        name: the ``--data`` value.
        kind: how raw data is read: ``folder`` (image files below ``raw_path``),
            ``digits`` (scikit-learn's bundled digits), ``idx`` (the original IDX files of
            mnist and fashion_mnist, see ``wgan.data.idx``), ``keras`` (``keras.datasets``)
            or ``svhn`` (the ``train_32x32.mat`` file).
        channels: 3 for colour output, 1 for greyscale output.
        default_resize: output side when ``--resize`` is not given.
        default_crop: center-crop side when ``--crop`` is not given (None: no crop).
        builtin: True when the source needs no files placed by the user, so the
            trainer may build its records automatically.
        raw_path: where a user places the raw data, relative to the raw-data root
            (``datasets/``); None for sources that fetch their own data.
        hint: how to obtain the raw data, shown when it is missing; ``{path}`` and
            ``{parent}`` stand for the expected path and its parent folder.
        splits: the splits that can be built: ``("train",)``, or ``("train", "test")`` for
            sources that ship a test split.
        class_names: the name of each label (index = label) for a labelled source, else None;
            stored in the records' manifest (``class_names``).
    """

    name: str
    kind: str
    channels: int
    default_resize: int
    default_crop: int | None = None
    builtin: bool = False
    raw_path: str | None = None
    hint: str = ""
    splits: tuple = ("train",)
    class_names: tuple | None = None


SOURCES = {
    source.name: source
    for source in (
        Source(
            "celeba", "folder", 3, 64, default_crop=108,
            raw_path="celeba/img/img_align_celeba",
            hint="download img_align_celeba.zip (the aligned and cropped JPEGs, "
            "000001.jpg ...) from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html "
            "and unzip it into {parent}",
        ),
        Source(
            "lsun", "folder", 3, 64,
            raw_path="lsun",
            hint="export an LSUN category from its LMDB to image files (for example "
            "`python data.py export bedroom_train_lmdb --out_dir {path}/bedroom` "
            "with https://github.com/fyu/lsun); every image below {path} is used",
        ),
        Source(
            "anime", "folder", 3, 64,
            raw_path="anime",
            hint="place the anime face images (any of jpg, jpeg, png, bmp, webp, gif, "
            "in any sub-folders) below {path}",
        ),
        Source("digits", "digits", 1, 16, builtin=True, class_names=DIGIT_NAMES),
        Source("mnist", "idx", 1, 28, builtin=True, splits=("train", "test"), class_names=DIGIT_NAMES),
        Source("fashion_mnist", "idx", 1, 28, builtin=True, splits=("train", "test"),
               class_names=FASHION_MNIST_NAMES),
        Source("cifar10", "keras", 3, 32, builtin=True, splits=("train", "test"), class_names=CIFAR10_NAMES),
        Source(
            "svhn", "svhn", 3, 32,
            raw_path="svhn/train_32x32.mat",
            hint="download train_32x32.mat from http://ufldl.stanford.edu/housenumbers/ "
            "into {parent}",
            class_names=DIGIT_NAMES,
        ),
    )
}


def is_toy(data: str) -> bool:
    """True for the toy 2-D sets (8gaussians, 25gaussians, swissroll)."""
    return data in TOY_SETS


def is_builtin(data: str) -> bool:
    """True for named sources that need no user-placed files (digits and keras.datasets)."""
    source = SOURCES.get(data)
    return source is not None and source.builtin


def is_folder_path(data: str) -> bool:
    """True when ``data`` is neither a named source nor a toy set, so it names a folder."""
    return data not in SOURCES and not is_toy(data)


def _refuse_toy(data: str, what: str) -> None:
    if is_toy(data):
        raise DataError(f"toy set {data!r} is sampled on the fly and has no {what}")


def default_crop(data: str) -> int | None:
    """Center-crop side used when ``--crop`` is not given: 108 for celeba, otherwise None."""
    source = SOURCES.get(data)
    return source.default_crop if source else None


def default_resize(data: str) -> int:
    """Output side used when ``--resize`` is not given (64 for folder paths).

    Raises:
        DataError: for a toy set, which has no images.
    """
    _refuse_toy(data, "image size")
    source = SOURCES.get(data)
    return source.default_resize if source else FOLDER_DEFAULT_RESIZE


def source_label(data: str) -> str:
    """The name a source's records folder starts with: its name, or a folder path's base name."""
    if is_folder_path(data):
        label = os.path.basename(os.path.normpath(os.path.abspath(data)))
        if not label:
            raise DataError(f"--data {data!r}: cannot name records after the root folder")
        return label
    return data


def splits(data: str) -> tuple:
    """The splits ``data`` can be built from: ``("train", "test")`` for mnist, fashion_mnist and
    cifar10, ``("train",)`` for every other source (all its images are training images)."""
    source = SOURCES.get(data)
    return source.splits if source else ("train",)


def check_split(data: str, split: str) -> None:
    """Raise DataError unless ``data`` has the split ``split``."""
    if split not in splits(data):
        with_test = ", ".join(name for name, source in SOURCES.items() if "test" in source.splits)
        raise DataError(f"--split {split!r}: {source_label(data)} has only the splits {', '.join(splits(data))} "
                        f"(sources with a test split: {with_test})")


def records_dir(output_dir: str, data: str, crop: int | None, resize: int, split: str = "train") -> str:
    """Folder holding the records of ``data`` built with ``crop`` and ``resize``.

    ``<output_dir>/<name>-c<crop>-r<resize>``, without the ``-c<crop>`` part when
    there is no crop (``crop`` None or 0). ``<name>`` is the source name, or the base
    name of a folder path (``--data ~/pics/faces/`` gives ``faces-r64``). The test split
    of a source that has one goes to the same name with ``-test`` appended
    (``fashion_mnist-r28-test``); the training split keeps the plain name.

    Raises:
        DataError: for a toy set, which has no records, or a split the source lacks.
    """
    _refuse_toy(data, "records")
    check_split(data, split)
    crop_part = f"-c{crop}" if crop else ""
    split_part = "" if split == "train" else f"-{split}"
    return os.path.join(output_dir, f"{source_label(data)}{crop_part}-r{resize}{split_part}")
