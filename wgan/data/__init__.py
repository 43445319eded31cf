"""Data path: raw images -> TFRecord shards -> training batches, plus toy 2-D sets.

Public API (all importable from ``wgan.data``):

* naming and defaults: ``SOURCES``, ``TOY_SETS``, ``records_dir``, ``default_crop``,
  ``default_resize``, ``is_builtin``, ``is_toy``, ``splits`` (train, and test where a source has one);
* building: ``build_records``;
* reading: ``read_manifest``, ``verify_records``, ``verify_folder``, ``make_dataset`` (the trainer picks toy
  or records input in ``wgan.data.inputs``);
* pixels: ``uint8_to_float``, ``float_to_uint8``;
* toy sets: ``toy_dataset``, ``toy_modes``, ``toy_sample``.

Names are loaded on first use (PEP 562): the build's worker processes import
``wgan.data.imageops``, which runs this file, and must not import TensorFlow.
"""

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "SOURCES": "sources",
    "TOY_SETS": "sources",
    "default_crop": "sources",
    "default_resize": "sources",
    "is_builtin": "sources",
    "is_toy": "sources",
    "records_dir": "sources",
    "splits": "sources",
    "build_records": "build",
    "read_manifest": "manifest",
    "verify_records": "manifest",
    "verify_folder": "integrity",
    "make_dataset": "pipeline",
    "uint8_to_float": "pixels",
    "float_to_uint8": "pixels",
    "toy_dataset": "toy",
    "toy_modes": "toy",
    "toy_sample": "toy",
}

__all__ = [
    "SOURCES", "TOY_SETS", "build_records", "default_crop", "default_resize", "float_to_uint8",
    "is_builtin", "is_toy", "make_dataset", "read_manifest", "records_dir", "splits", "toy_dataset", "toy_modes",
    "toy_sample", "uint8_to_float", "verify_folder", "verify_records",
]

if TYPE_CHECKING:  # let type checkers and IDEs see the real definitions
    from wgan.data.build import build_records
    from wgan.data.integrity import verify_folder
    from wgan.data.manifest import read_manifest, verify_records
    from wgan.data.pipeline import make_dataset
    from wgan.data.pixels import float_to_uint8, uint8_to_float
    from wgan.data.sources import (SOURCES, TOY_SETS, default_crop, default_resize, is_builtin,
                                   is_toy, records_dir, splits)
    from wgan.data.toy import toy_dataset, toy_modes, toy_sample


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
