"""Reading records: manifest and shard checks, batches, seeding, pixel scaling."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from wgan.data import (build_records, float_to_uint8, make_dataset, read_manifest,
                       uint8_to_float, verify_records)
from wgan.data.manifest import MANIFEST_NAME
from wgan.errors import DataError


@pytest.fixture(scope="module")
def digits_folder(tmp_path_factory):
    """Records of scikit-learn's digits at 8x8 (no resampling), in 3 shards."""
    out = tmp_path_factory.mktemp("records")
    return build_records("digits", 8, None, str(out), shards=3, workers=1, progress=False)


@pytest.fixture
def copy_of(digits_folder, tmp_path):
    """A private copy of the digits records that a test may damage."""
    target = tmp_path / "digits-r8"
    target.mkdir()
    for name in os.listdir(digits_folder):
        (target / name).write_bytes(open(os.path.join(digits_folder, name), "rb").read())
    return str(target)


def _take(dataset, batches):
    return [batch.numpy() for batch in dataset.take(batches)]


def test_batches_have_static_shape_and_unit_range(digits_folder):
    dataset = make_dataset(digits_folder, 32, seed=0)
    assert dataset.element_spec == tf.TensorSpec([32, 8, 8, 1], tf.float32)
    for batch in _take(dataset, 3):
        assert batch.min() >= -1.0 and batch.max() <= 1.0


def test_same_seed_same_batches_other_seed_other_batches(digits_folder):
    first = _take(make_dataset(digits_folder, 16, seed=7), 4)
    again = _take(make_dataset(digits_folder, 16, seed=7), 4)
    other = _take(make_dataset(digits_folder, 16, seed=8), 4)
    np.testing.assert_array_equal(np.stack(first), np.stack(again))
    assert not np.array_equal(np.stack(first), np.stack(other))


def test_records_read_without_the_autotuning_thread(digits_folder):
    # Deleting an iterator waits for tf.data's autotuning thread, which sleeps between
    # optimizations: a training run sat idle after its last save (wgan.data.pipeline).
    dataset = make_dataset(digits_folder, 16, seed=0)
    assert dataset.options().autotune.enabled is False
    assert _take(dataset, 2)[0].shape == (16, 8, 8, 1)


def test_one_epoch_without_repeat_drops_the_remainder(digits_folder):
    batches = _take(make_dataset(digits_folder, 500, seed=1, repeat=False), 10)
    assert len(batches) == 3  # 1797 // 500


def test_unshuffled_epoch_keeps_build_order(digits_folder):
    _, labels = next(iter(make_dataset(digits_folder, 20, shuffle_buffer=0, with_labels=True)))
    assert labels.numpy().tolist() == [index % 10 for index in range(20)]


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        make_dataset(str(tmp_path / "nope"), 4)


def test_missing_manifest(copy_of):
    os.remove(os.path.join(copy_of, MANIFEST_NAME))
    with pytest.raises(DataError, match="dataset_info.json is missing"):
        make_dataset(copy_of, 4)


def test_corrupt_manifest(copy_of):
    with open(os.path.join(copy_of, MANIFEST_NAME), "w") as handle:
        handle.write('{"format_version": 1, "count": ')
    with pytest.raises(DataError, match="cannot read .*dataset_info.json"):
        read_manifest(copy_of)


def test_other_format_version(copy_of):
    path = os.path.join(copy_of, MANIFEST_NAME)
    manifest = json.load(open(path))
    manifest["format_version"] = 99
    json.dump(manifest, open(path, "w"))
    with pytest.raises(DataError, match="format version 99"):
        make_dataset(copy_of, 4)


def test_missing_shard(copy_of):
    os.remove(os.path.join(copy_of, "shard-00001.tfrecord"))
    with pytest.raises(DataError, match="shard-00001.tfrecord listed in dataset_info.json is missing"):
        make_dataset(copy_of, 4)


def test_truncated_shard(copy_of):
    path = os.path.join(copy_of, "shard-00002.tfrecord")
    size = os.path.getsize(path)
    with open(path, "r+b") as handle:
        handle.truncate(size - 10)
    with pytest.raises(DataError, match=f"shard-00002.tfrecord has {size - 10} bytes but .* {size}"):
        make_dataset(copy_of, 4)


def test_changed_shard_found_by_verify(copy_of):
    with open(os.path.join(copy_of, "shard-00000.tfrecord"), "r+b") as handle:
        handle.seek(50)
        handle.write(b"\x00\x01")
    make_dataset(copy_of, 4)  # same size: the cheap check at open passes
    with pytest.raises(DataError, match="sha256"):
        verify_records(copy_of)


def test_fewer_images_than_one_batch(digits_folder):
    with pytest.raises(DataError, match="1797 images, fewer than one batch of 2000"):
        make_dataset(digits_folder, 2000)


def test_labels_required_for_with_labels(tmp_path):
    folder = build_records("cifar10", 4, None, str(tmp_path), workers=1, progress=False,
                           arrays=(np.zeros((3, 4, 4, 3), np.uint8), None))
    with pytest.raises(DataError, match="no labels"):
        make_dataset(folder, 2, with_labels=True)


def test_pixel_scaling_numpy_round_trip():
    every = np.arange(256, dtype=np.uint8).reshape(16, 16)
    unit = uint8_to_float(every)
    assert unit.dtype == np.float32 and unit.min() == -1.0 and unit.max() == 1.0
    back = float_to_uint8(unit)
    assert isinstance(back, np.ndarray) and back.dtype == np.uint8
    np.testing.assert_array_equal(back, every)
    np.testing.assert_array_equal(float_to_uint8(np.array([-1.7, 0.0, 1.3])), [0, 128, 255])


def test_pixel_scaling_tensor_round_trip():
    every = tf.range(256, dtype=tf.int32)
    unit = uint8_to_float(tf.cast(every, tf.uint8))
    assert unit.dtype == tf.float32
    back = float_to_uint8(unit)
    assert back.dtype == tf.uint8
    np.testing.assert_array_equal(back.numpy(), np.arange(256))
    np.testing.assert_array_equal(float_to_uint8(tf.constant([-2.0, 2.0])).numpy(), [0, 255])


def test_pixel_scaling_refuses_wrong_dtypes():
    with pytest.raises(TypeError, match="uint8"):
        uint8_to_float(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="floats"):
        float_to_uint8(np.zeros(3, np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        uint8_to_float(tf.zeros(3))


def test_every_public_name_resolves():
    import wgan.data

    for name in wgan.data.__all__:
        assert getattr(wgan.data, name) is not None
    assert sorted(wgan.data.__all__) == sorted(wgan.data._EXPORTS)
