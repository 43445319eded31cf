"""The TFRecord layout of one image: features, shard names, writing and batch decoding.

Each record is a ``tf.train.Example`` with

* ``image``: bytes, the raw uint8 pixels of a [height, width, channels] array in
  HWC order (no JPEG/PNG re-encoding: decoding is a reshape, and no second lossy step);
* ``shape``: int64 [3], (height, width, channels);
* ``label``: int64 [1], only when the source has labels.
"""

import tensorflow as tf

IMAGE_KEY = "image"
SHAPE_KEY = "shape"
LABEL_KEY = "label"

# Manifest value -> tf.io compression type.
COMPRESSION_TYPES = {"none": "", "gzip": "GZIP"}


def shard_name(index: int, compression: str) -> str:
    """File name of shard ``index`` (``shard-00003.tfrecord``, ``.tfrecord.gz`` for gzip)."""
    return f"shard-{index:05d}.tfrecord" + (".gz" if compression == "gzip" else "")


def serialize(pixels: bytes, shape: tuple[int, int, int], label: int | None) -> bytes:
    """One serialized record: ``pixels`` (uint8 HWC bytes of ``shape``) and the optional label."""
    feature = {
        IMAGE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[pixels])),
        SHAPE_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=list(shape))),
    }
    if label is not None:
        feature[LABEL_KEY] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)]))
    # deterministic=True writes the feature map sorted by key. Without it the order follows
    # protobuf's per-process hash seed, so identical pixels gave different shard bytes (and
    # sha256 digests) from one process to the next.
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString(deterministic=True)


def open_writer(path: str, compression: str) -> tf.io.TFRecordWriter:
    """A TFRecord writer for ``path`` with the manifest's ``compression`` (none or gzip)."""
    return tf.io.TFRecordWriter(path, options=tf.io.TFRecordOptions(COMPRESSION_TYPES[compression]))


def open_shards(paths, compression: str, cycle_length: int, deterministic: bool = True) -> tf.data.Dataset:
    """Serialized records of the shard ``paths`` (a string dataset), interleaved ``cycle_length`` at a time."""
    return paths.interleave(
        lambda path: tf.data.TFRecordDataset(path, compression_type=COMPRESSION_TYPES[compression]),
        cycle_length=cycle_length,
        block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=deterministic,
    )


def parse_batch(serialized: tf.Tensor, shape: tuple[int, int, int], with_labels: bool):
    """Decode a batch of serialized records.

    Args:
        serialized: string [batch] of records.
        shape: (height, width, channels) from the manifest; every record has it.
        with_labels: also return the labels.

    Returns:
        uint8 [batch, height, width, channels] with values 0..255, and with
        ``with_labels`` also int32 [batch] labels.
    """
    features = {IMAGE_KEY: tf.io.FixedLenFeature([], tf.string)}
    if with_labels:
        features[LABEL_KEY] = tf.io.FixedLenFeature([], tf.int64)
    parsed = tf.io.parse_example(serialized, features)
    # decode_raw of equally long strings gives [batch, H*W*C]. Keep the batch size
    # static when it is known (drop_remainder batches), so Keras sees full shapes.
    batch = serialized.shape[0]
    images = tf.reshape(tf.io.decode_raw(parsed[IMAGE_KEY], tf.uint8), [batch or -1, *shape])
    if with_labels:
        return images, tf.cast(parsed[LABEL_KEY], tf.int32)
    return images
