"""Training input: batches of images from a records folder."""

import os

import tensorflow as tf

from wgan.data import integrity, locks, manifest as manifest_io, records
from wgan.data.pixels import uint8_to_float
from wgan.errors import DataError

# Shards read at once. More interleaving mixes shards better; each open shard
# costs a read buffer, and a handful already saturates 2 to 8 cores.
MAX_OPEN_SHARDS = 8


def _options_without_autotune_thread():
    """tf.data options without the autotuning model thread.

    Deleting an iterator waits for that thread, which sleeps between optimizations, longer
    as the iterator ages: a training run then hung for seconds after its last save (8 to 9 s in 4
    of 8 runs of 30 Fashion-MNIST steps, about 30 s after 10,000 steps; 0 of 13 runs with
    this option). Fashion-MNIST records decode at 57,000 images/s without the thread and
    60,000 with it, measured side by side (training reads about 400), because AUTOTUNE
    still means one decoding call per core and a prefetch buffer that grows while the
    consumer waits (TensorFlow's fallback).
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def make_dataset(
    folder: str,
    batch_size: int,
    seed: int | None = None,
    shuffle_buffer: int = 10000,
    repeat: bool = True,
    with_labels: bool = False,
    skip_batches: int = 0,
    checksums: bool = False,
) -> tf.data.Dataset:
    """Batches of images from the records folder ``folder``.

    Before anything is read the manifest is checked and every shard must exist
    with the byte size it records (a truncated or missing shard is a DataError
    here, not a failure hours into training). Shards are visited in a shuffled
    order and interleaved; the compact uint8 records (not float copies) are
    shuffled in a buffer of ``shuffle_buffer``; batches are decoded and scaled to
    [-1, 1] by ``uint8_to_float``, the one place pixels are scaled.

    Args:
        folder: a records folder (see ``records_dir``).
        batch_size: images per batch; a last partial batch is dropped.
        seed: fixes the shard order and the shuffle (same seed, same batches);
            None shuffles differently every time.
        shuffle_buffer: records held for shuffling; 0 or 1 disables shuffling, and
            records then come in build order (shards one after the other).
        repeat: cycle forever, reshuffling every epoch; False gives one epoch.
        with_labels: yield ``(images, labels)``; the source must have labels.
        skip_batches: start after this many batches of the seeded order (a resumed run
            continues the sequence exactly). The skipped records are read and shuffled,
            not decoded.
        checksums: also compare every shard's sha256 with the manifest first (reads
            every byte once; ``integrity.verify``).

    Returns:
        A dataset of float32 [batch_size, H, W, C] in [-1, 1], or with
        ``with_labels`` pairs of that and int32 [batch_size] labels.

    Raises:
        DataError: a missing folder, manifest or shard, a shard whose size differs
            from the manifest, fewer images than one batch, or labels asked for a
            source without labels.
    """
    # Held as long as the returned dataset lives: a build refuses to clear these records meanwhile.
    read_lock = locks.read_lock(folder) if os.path.isdir(folder) else None
    manifest = manifest_io.read_manifest(folder)
    paths = manifest_io.check_shards(folder, manifest)
    if checksums:
        integrity.verify(folder, manifest)
    if batch_size < 1:
        raise DataError(f"batch_size must be positive, got {batch_size}")
    if manifest["count"] < batch_size:
        raise DataError(f"{folder} holds {manifest['count']} images, fewer than one batch of {batch_size}")
    if with_labels and not manifest["labels"]:
        raise DataError(f"{folder} has no labels (source {manifest.get('source', {}).get('data')})")
    shape = (manifest["height"], manifest["width"], manifest["channels"])
    shuffle = shuffle_buffer > 1

    files = tf.data.Dataset.from_tensor_slices(paths)
    if shuffle:
        files = files.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    # Without shuffling read shards one after the other, so records keep build order.
    cycle = min(len(paths), MAX_OPEN_SHARDS) if shuffle else 1
    serialized = records.open_shards(files, manifest["compression"], cycle)
    if shuffle:
        # A seed distinct from the shard shuffle's, so the two orders are unrelated.
        record_seed = None if seed is None else seed + 1
        serialized = serialized.shuffle(shuffle_buffer, seed=record_seed, reshuffle_each_iteration=True)
    if repeat:
        serialized = serialized.repeat()
    batches = serialized.batch(batch_size, drop_remainder=True)
    if skip_batches:
        batches = batches.skip(skip_batches)

    def decode(batch):
        parsed = records.parse_batch(batch, shape, with_labels)
        if with_labels:
            return uint8_to_float(parsed[0]), parsed[1]
        return uint8_to_float(parsed)

    dataset = batches.map(decode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    dataset = dataset.with_options(_options_without_autotune_thread())
    dataset._wgan_read_lock = read_lock  # released when the dataset is garbage collected
    return dataset

