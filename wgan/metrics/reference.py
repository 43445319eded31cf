"""Real images of a records folder, and their feature statistics cached beside them.

``<records>/fid_stats_<extractor>_n<count>.npz`` holds ``mu`` [D], ``sigma`` [D, D],
``count``, the features of the first ``KID_FEATURES`` images (float32, for KID, which needs
samples rather than moments), the extractor name and a digest of the manifest's shard list.
It is written atomically (``wgan.util.files.atomic_path``), so a concurrent reader sees the
old file or the whole new one, and it is recomputed when the records were rebuilt. One file
per count, so the cheap in-training reference (10,000 images) and the full-set reference of
final evaluations do not replace each other. The images stream through the extractor in
batches (``MomentAccumulator``), so the full set never has to fit in memory.

The files are TTUR-format ``.npz`` files (keys ``mu`` and ``sigma``; the other keys are
ignored by TTUR's ``fid.py``), and ``load_ttur_stats`` reads published ones.
"""

import collections
import hashlib
import json
import os
import zipfile

import numpy as np
import tensorflow as tf

from wgan.util import files
from wgan.data import manifest as manifest_io
from wgan.data import records
from wgan.errors import DataError
from wgan.metrics.frechet import MomentAccumulator
from wgan.metrics.inception_score import SPLITS, ScoreAccumulator

READ_BATCH = 512
# Real features kept for KID: its subsets use at most 1,000 rows, two subsets' worth leaves choice.
KID_FEATURES = 2000

# inception_score: (mean, std) of the real images, for extractors with class probabilities (else None).
Reference = collections.namedtuple("Reference", "mu sigma count features inception_score", defaults=(None,))


def _batches(folder, limit, with_labels, batch_size=None):
    manifest = manifest_io.read_manifest(folder)
    paths = manifest_io.check_shards(folder, manifest)
    shape = (manifest["height"], manifest["width"], manifest["channels"])
    count = manifest["count"] if limit is None else min(limit, manifest["count"])
    serialized = records.open_shards(tf.data.Dataset.from_tensor_slices(paths), manifest["compression"], 1)
    # No drop_remainder: unlike training, evaluation wants every image.
    batches = serialized.take(count).batch(batch_size or READ_BATCH).map(lambda b: records.parse_batch(b, shape, with_labels))
    return batches.as_numpy_iterator()


def iter_images(folder, limit=None, batch_size=None):
    """The first ``limit`` (default: all) images of a records folder, in build order, as uint8 batches
    [<= batch_size (default READ_BATCH), H, W, C] (values 0..255). Raises DataError for a missing or damaged folder."""
    yield from _batches(folder, limit, False, batch_size)


def read_images(folder, limit=None, with_labels=False):
    """The first ``limit`` (default: all) images of a records folder, in build order.

    Returns uint8 [N, H, W, C] (values 0..255), and with ``with_labels`` also int64 labels [N].
    Raises DataError (from the manifest checks) for a missing or damaged folder.
    """
    parts = list(_batches(folder, limit, with_labels))
    if with_labels:
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]).astype(np.int64))
    return np.concatenate(parts)


def records_digest(folder):
    """A short digest of the folder's shard list (names, sizes, sha256): changes when records are rebuilt."""
    shards = manifest_io.read_manifest(folder)["shards"]
    return hashlib.sha256(json.dumps(shards, sort_keys=True).encode()).hexdigest()[:16]


def stats_path(folder, extractor_name, count):
    return os.path.join(folder, f"fid_stats_{extractor_name}_n{count}.npz")


def save_stats(path, **values):
    """``numpy.savez`` to ``path`` atomically."""
    with files.atomic_path(path) as temp, open(temp, "wb") as handle:
        np.savez(handle, **values)


def reference_stats(folder, extractor, limit=None):
    """``Reference(mu [D], sigma [D, D], count, features [<= KID_FEATURES, D], inception_score)`` of
    ``extractor`` features over the folder's first ``limit`` (default: all) images.

    ``inception_score`` is (mean, std) of the same images when the extractor gives class
    probabilities (the 2015 graph; the real-data score papers quote), else None.
    Loaded from the cache file when it matches the extractor, the records and the count;
    otherwise computed (streaming, one pass) and cached.
    """
    count = manifest_io.read_manifest(folder)["count"]
    count = count if limit is None else min(limit, count)
    digest = records_digest(folder)
    path = stats_path(folder, extractor.name, count)
    if os.path.isfile(path):
        try:
            with np.load(path) as cached:
                if (str(cached["extractor"]) == extractor.name and int(cached["count"]) == count
                        and str(cached["records"]) == digest):
                    score = (float(cached["is_mean"]), float(cached["is_std"])) if "is_mean" in cached.files else None
                    return Reference(cached["mu"], cached["sigma"], count, cached["features"].astype(np.float64),
                                     score)
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
            pass  # unreadable or from an older layout: recompute and replace it
    moments, kept = MomentAccumulator(), []
    scores = ScoreAccumulator(count) if getattr(extractor, "has_probabilities", False) and count >= SPLITS else None
    for images in iter_images(folder, count):
        if scores is not None:
            features, probabilities = extractor.features_and_probabilities(images)
            scores.add(probabilities)
        else:
            features = extractor(images)
        moments.add(features)
        if sum(len(k) for k in kept) < KID_FEATURES:
            kept.append(features[:KID_FEATURES - sum(len(k) for k in kept)].astype(np.float32))
    mu, sigma = moments.result()
    kept = np.concatenate(kept)
    score = scores.result() if scores is not None else None
    extra = {"is_mean": score[0], "is_std": score[1]} if score else {}
    save_stats(path, mu=mu, sigma=sigma, count=count, features=kept, extractor=extractor.name, records=digest, **extra)
    return Reference(mu, sigma, count, kept.astype(np.float64), score)


def save_ttur_stats(path, mu, sigma, **metadata):
    """Write ``mu`` [D] and ``sigma`` [D, D] (float64) as a TTUR-format ``.npz`` (plus ``metadata`` keys), atomically.

    Raises DataError naming the path when it cannot be written (a missing folder, no permission).
    """
    try:
        save_stats(path, mu=np.asarray(mu, np.float64), sigma=np.asarray(sigma, np.float64), **metadata)
    except OSError as err:
        raise DataError(f"cannot write the statistics file {path}: {err.strerror or err}") from None


def load_ttur_stats(path, dim=None):
    """(mu [D], sigma [D, D]) float64 from a TTUR-format ``.npz`` (``fid_stats_cifar10_train.npz`` and the like).

    Raises DataError naming the file and the key when it is missing, unreadable, lacks
    ``mu``/``sigma``, their shapes disagree, or D differs from ``dim``.
    """
    if not os.path.isfile(path):
        raise DataError(f"statistics file {path} does not exist (give a TTUR-format .npz with keys mu and sigma)")
    try:
        with np.load(path) as stats:
            missing = [k for k in ("mu", "sigma") if k not in stats.files]
            if missing:
                raise DataError(f"{path}: no key {' or '.join(missing)} (has {', '.join(stats.files) or 'nothing'}); "
                                "a TTUR-format statistics file holds mu [D] and sigma [D, D]")
            mu, sigma = stats["mu"].astype(np.float64), stats["sigma"].astype(np.float64)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{path} is not a readable .npz file ({err})") from None
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise DataError(f"{path}: mu has shape {mu.shape} and sigma {sigma.shape}; need [D] and [D, D]")
    if dim is not None and len(mu) != dim:
        raise DataError(f"{path}: statistics of {len(mu)}-d features, but the extractor gives {dim}-d ones "
                        "(the 2015 Inception graph's pool_3 has 2048)")
    return mu, sigma
