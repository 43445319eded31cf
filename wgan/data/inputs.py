"""The real data a run trains on: toy 2-D points or a records folder, built on demand.

Built-in sources (digits, mnist, fashion_mnist, cifar10) are built into records the first
time a run needs them; a folder source must be built by the user, and the error says how.
"""

import dataclasses
import os
from typing import Callable, Optional

import numpy as np
import tensorflow as tf
from absl import logging

from wgan import data
from wgan.data import integrity
from wgan.data import split as heldout_split
from wgan.errors import ConfigError, DataError


@dataclasses.dataclass
class TrainingData:
    """``dataset`` yields float32 batches [B, H, W, C] in [-1, 1] (or [B, 2]) forever; for a
    class-conditional run (``hp.conditional.enabled``) pairs of those and int32 [B] labels.

    ``size`` is the number of images (None for toy data, which has no epochs);
    ``sample_points(n)`` draws real toy points [n, 2] for plots.
    """

    dataset: tf.data.Dataset
    size: Optional[int]
    sample_points: Optional[Callable[[int], np.ndarray]] = None


def build_command(hp, split="train"):
    crop = f" -c {hp.data.crop}" if hp.data.crop else ""
    split_flag = "" if split == "train" else f" --split {split}"
    return f"python bin/build_tfrecord.py --data {hp.data.name}{crop} -r {hp.data.resize}{split_flag}"


def records_folder(hp, records_root, build_missing=True, split="train"):
    """The records folder of ``hp.data``'s ``split``; builds built-in sources when missing.

    ``split="test"`` gives the test split's folder (``<name>[-c<crop>]-r<side>-test``) of the
    sources that have one (mnist, fashion_mnist, cifar10; ``data.SOURCES[name].splits``);
    other sources raise DataError.
    """
    folder = data.records_dir(records_root, hp.data.name, hp.data.crop, hp.data.resize, split)
    if not os.path.exists(os.path.join(folder, "dataset_info.json")):
        if not (build_missing and data.is_builtin(hp.data.name)):
            raise DataError(f"no records at {folder}; build them first with: {build_command(hp, split)}")
        logging.info("building the %s %s records first: %s", hp.data.name, split, folder)
        data.build_records(hp.data.name, resize=hp.data.resize, crop=hp.data.crop, output_dir=records_root,
                           split=split, heldout_per_mille=heldout_split.DEFAULT_HELDOUT_PER_MILLE)
    return folder


def test_records_folder(hp, records_root, raw_root="datasets"):
    """The test split's records folder of ``hp.data`` when there is one without a download, else None.

    Sources with a test split (mnist, fashion_mnist, cifar10) keep it in
    ``<records_root>/<name>[-c<crop>]-r<side>-test`` (``data.records_dir(..., split="test")``).
    An existing build is returned as it is; for mnist and fashion_mnist a missing one is built
    when the IDX files are on disk (``raw_root``, Keras' cache or Debian's package, see
    ``wgan.data.idx``). Nothing is downloaded: the answer is None instead.
    """
    from wgan.data import idx

    if hp.data.is_toy or "test" not in data.splits(hp.data.name):
        return None
    folder = data.records_dir(records_root, hp.data.name, hp.data.crop, hp.data.resize, "test")
    if os.path.exists(os.path.join(folder, "dataset_info.json")):
        return folder
    if hp.data.name in idx.IDX_SOURCES and idx.find_split(hp.data.name, "test", raw_root) is not None:
        logging.info("building the %s test split first: %s", hp.data.name, folder)
        return data.build_records(hp.data.name, resize=hp.data.resize, crop=hp.data.crop, output_dir=records_root,
                                  split="test", raw_root=raw_root, progress=False)
    return None


def heldout_records(hp, records_root):
    """The records folder of real images ``hp``'s run never trains on, or None (with the reason).

    The source's test split when it has one without a download (``test_records_folder``),
    else the held-out part of the training records (``<records>/heldout``, see
    ``wgan.data.split``). Returns ``(folder, None)`` or ``(None, why)``.
    """
    if hp.data.is_toy:
        return None, "toy data is sampled fresh every batch, so every sample is held out"
    folder = records_folder(hp, records_root)
    test = test_records_folder(hp, records_root)
    if test is not None:
        return test, None
    if "test" in data.splits(hp.data.name):
        return None, f"{hp.data.name} has no test split records; build them with: {build_command(hp, 'test')}"
    entry = data.read_manifest(folder).get("heldout") or {}
    if entry.get("count", 0) < 2:
        return None, (f"{folder} has no held-out images; rebuild it with bin/build_tfrecord.py --overwrite "
                      f"(--heldout {heldout_split.DEFAULT_HELDOUT_PER_MILLE} by default)")
    return os.path.join(folder, entry["folder"]), None


def check_manifest(hp, manifest, folder):
    """The records must have the image shape the hyperparameters promise the networks."""
    shape = (manifest["height"], manifest["width"], manifest["channels"])
    if shape != hp.data.sample_shape:
        raise ConfigError(f"records in {folder} hold images of shape {shape}, but the hyperparameters say "
                          f"{hp.data.sample_shape} (keys data.resize, data.channels)")


def dataset_size(hp, records_root):
    """Images in the records of ``hp.data`` (built first for built-in sources)."""
    return data.read_manifest(records_folder(hp, records_root))["count"]


def training_data(hp, records_root, seed, skip_batches=0):
    """The ``TrainingData`` for ``hp``, its order fixed by ``seed``, starting after ``skip_batches`` batches.

    A resumed run passes the batches its critic already drew, so that it sees exactly the
    batches the uninterrupted run would have seen. Skipping reads (but does not decode)
    the skipped records: see ``benchmarks/bench_resume.py`` for its cost.
    """
    if hp.data.is_toy:
        rng = np.random.default_rng(seed + 1_000_003)
        return TrainingData(data.toy_dataset(hp.data.name, hp.batch_size, seed, skip_batches=skip_batches), None,
                            lambda n: data.toy_sample(hp.data.name, n, rng))
    folder = records_folder(hp, records_root)
    manifest = data.read_manifest(folder)
    check_manifest(hp, manifest, folder)
    # checksums: every shard's sha256 before training starts (benchmarks/bench_digests.py: seconds for GBs).
    dataset = data.make_dataset(folder, hp.batch_size, seed=seed, shuffle_buffer=hp.data.shuffle_buffer,
                                skip_batches=skip_batches, checksums=True, with_labels=hp.conditional.enabled)
    return TrainingData(dataset, manifest["count"])


def labels_hint(hp):
    """Where class labels come from, in words, for an error about a run without them."""
    labelled = ", ".join(name for name in data.SOURCES if data.SOURCES[name].class_names)
    return (f"labels come from a labelled named source ({labelled}) or from an image folder with one "
            f"subfolder per class, rebuilt with: {build_command(hp)} --overwrite")


def _record_labels(folder, manifest):
    """Every label of a records folder, int64 [count], in build order (only the label feature is parsed)."""
    from wgan.data import manifest as manifest_io, records

    paths = manifest_io.check_shards(folder, manifest)
    serialized = records.open_shards(tf.data.Dataset.from_tensor_slices(paths), manifest["compression"], 1)
    spec = {records.LABEL_KEY: tf.io.FixedLenFeature([1], tf.int64)}
    parsed = serialized.batch(4096).map(lambda batch: tf.io.parse_example(batch, spec)[records.LABEL_KEY][:, 0])
    return np.concatenate(list(parsed.as_numpy_iterator()) or [np.zeros([0], np.int64)])


def class_list(hp, records_root):
    """``(class_names, class_frequencies)`` of ``hp``'s training records: the manifest's names (label
    i's name at index i; "0", "1", ... when it has none) and each class's share of the training
    split's labels, counted once from the records (float, summing to 1).

    A ``ConfigError`` (one line, saying where labels come from) for toy data or records without labels.
    """
    if hp.data.is_toy:
        raise ConfigError(f"key 'conditional.enabled' is true, but toy 2-D data ({hp.data.name}) has no class "
                          f"labels; {labels_hint(hp)}")
    folder = records_folder(hp, records_root)
    manifest = data.read_manifest(folder)
    if not manifest.get("labels"):
        raise ConfigError(f"key 'conditional.enabled' is true, but the records {folder} have no class labels; "
                          f"{labels_hint(hp)}")
    counts = np.bincount(_record_labels(folder, manifest), minlength=int(manifest.get("num_classes") or 0))
    names = list(manifest.get("class_names") or [str(i) for i in range(len(counts))])
    if len(names) < len(counts):
        names += [str(i) for i in range(len(names), len(counts))]
    return names, [float(c) / float(counts.sum()) for c in counts[:len(names)]]


def distribute(strategy, training_data):
    """``training_data.dataset`` split for ``strategy``: each replica gets its rows of every global batch.

    With one replica the dataset is returned as it is. Otherwise
    ``strategy.experimental_distribute_dataset`` splits each global batch of
    ``hp.batch_size`` into per-replica batches, in order (replica r takes rows
    r * B/R ... (r + 1) * B/R - 1), and under ``multi_worker`` shards the input across
    workers: records by FILE, so each worker opens only its own shards (build at least
    one shard per worker; with fewer, tf.data falls back to reading everything and keeping
    every worker-th batch), toy points by DATA (every worker draws the same seeded stream
    and keeps every worker-th batch, so workers never train on the same batch).
    """
    if strategy.num_replicas_in_sync == 1:
        return training_data.dataset
    options = tf.data.Options()
    policy = tf.data.experimental.AutoShardPolicy
    options.experimental_distribute.auto_shard_policy = policy.DATA if training_data.size is None else policy.AUTO
    return strategy.experimental_distribute_dataset(training_data.dataset.with_options(options))


def read_failure(hp, records_root, err, kept):
    """The error to raise when the training data failed to read with the TensorFlow error ``err``.

    A ``DataError`` naming the damaged shard and record (or a records folder changed while
    read), the rebuild command, and ``kept``, the last good checkpoint (untouched); ``err``
    itself when the records do not explain it (toy data, or an error of another kind).
    """
    if hp.data.is_toy:
        return err
    folder = data.records_dir(records_root, hp.data.name, hp.data.crop, hp.data.resize)
    message, found = integrity.explain_read_error(folder, err)
    if not found and not isinstance(err, (tf.errors.DataLossError, tf.errors.NotFoundError)):
        return err
    saved = f"the last good checkpoint {kept} is untouched" if kept else "no checkpoint had been saved yet"
    return DataError(f"{message}; {saved}, so rerunning the same train command resumes from it")
