"""Real images of a records folder, and their feature statistics cached beside them.

``<records>/fid_stats_<extractor>.npz`` holds ``mu`` [D], ``sigma`` [D, D], ``count``, the
features of the first ``KID_FEATURES`` images (float32, for KID, which needs samples rather
than moments), the extractor name and a digest of the manifest's shard list. It is written atomically
(temporary file + ``os.replace``), so a concurrent reader sees the old file or the whole new
one, and it is recomputed when the records were rebuilt or a different image count is asked.
"""

import collections
import hashlib
import json
import os

import numpy as np
import tensorflow as tf

from wgan.data import manifest as manifest_io
from wgan.data import records
from wgan.metrics.frechet import gaussian_stats

READ_BATCH = 512
# Real features kept for KID: its subsets use at most 1,000 rows, two subsets' worth leaves choice.
KID_FEATURES = 2000

Reference = collections.namedtuple("Reference", "mu sigma count features")


def read_images(folder, limit=None, with_labels=False):
    """The first ``limit`` (default: all) images of a records folder, in build order.

    Returns uint8 [N, H, W, C] (values 0..255), and with ``with_labels`` also int64 labels [N].
    Raises DataError (from the manifest checks) for a missing or damaged folder.
    """
    manifest = manifest_io.read_manifest(folder)
    paths = manifest_io.check_shards(folder, manifest)
    shape = (manifest["height"], manifest["width"], manifest["channels"])
    count = manifest["count"] if limit is None else min(limit, manifest["count"])
    serialized = records.open_shards(tf.data.Dataset.from_tensor_slices(paths), manifest["compression"], 1)
    # No drop_remainder: unlike training, evaluation wants every image.
    batches = serialized.take(count).batch(READ_BATCH).map(lambda b: records.parse_batch(b, shape, with_labels))
    parts = list(batches.as_numpy_iterator())
    if with_labels:
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]).astype(np.int64))
    return np.concatenate(parts)


def records_digest(folder):
    """A short digest of the folder's shard list (names, sizes, sha256): changes when records are rebuilt."""
    shards = manifest_io.read_manifest(folder)["shards"]
    return hashlib.sha256(json.dumps(shards, sort_keys=True).encode()).hexdigest()[:16]


def stats_path(folder, extractor_name):
    return os.path.join(folder, f"fid_stats_{extractor_name}.npz")


def save_stats(path, **values):
    """``numpy.savez`` to ``path`` atomically."""
    temp = f"{path}.tmp{os.getpid()}"
    with open(temp, "wb") as handle:
        np.savez(handle, **values)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def reference_stats(folder, extractor, limit=None):
    """``Reference(mu [D], sigma [D, D], count, features [<= KID_FEATURES, D])`` of ``extractor``
    features over the folder's first ``limit`` (default: all) images.

    Loaded from the cache file when it matches the extractor, the records and the count;
    otherwise computed and cached.
    """
    count = manifest_io.read_manifest(folder)["count"]
    count = count if limit is None else min(limit, count)
    digest = records_digest(folder)
    path = stats_path(folder, extractor.name)
    if os.path.isfile(path):
        try:
            with np.load(path) as cached:
                if (str(cached["extractor"]) == extractor.name and int(cached["count"]) == count
                        and str(cached["records"]) == digest):
                    return Reference(cached["mu"], cached["sigma"], count, cached["features"].astype(np.float64))
        except (OSError, KeyError, ValueError):
            pass  # unreadable or from an older layout: recompute and replace it
    features = extractor(read_images(folder, count))
    mu, sigma = gaussian_stats(features)
    kept = features[:KID_FEATURES].astype(np.float32)
    save_stats(path, mu=mu, sigma=sigma, count=count, features=kept, extractor=extractor.name, records=digest)
    return Reference(mu, sigma, count, kept.astype(np.float64))
