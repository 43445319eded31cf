"""MNIST / Fashion-MNIST from IDX files the tests write: formats, search order, splits, bad files."""

import gzip
import json
import os
import struct

import numpy as np
import pytest

from wgan import data
from wgan.data import idx
from wgan.errors import DataError


def write_idx(path, array, gzipped=None):
    """Write uint8 ``array`` as an IDX file (gzipped when the path ends in .gz)."""
    array = np.asarray(array, dtype=np.uint8)
    payload = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    gzipped = path.endswith(".gz") if gzipped is None else gzipped
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with (gzip.open(path, "wb") if gzipped else open(path, "wb")) as handle:
        handle.write(payload)
    return path


def write_split(folder, split, count, seed=0, gz=True, side=28):
    """Images [count, side, side] and labels 0..9 in ``folder``; returns them."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, side, side), dtype=np.uint8)
    labels = (np.arange(count) % 10).astype(np.uint8)
    ext = ".gz" if gz else ""
    images_stem, labels_stem = idx._STEMS[split]
    write_idx(os.path.join(folder, images_stem + ext), images)
    write_idx(os.path.join(folder, labels_stem + ext), labels)
    return images, labels


@pytest.fixture
def places(tmp_path, monkeypatch):
    """raw_root, the keras cache and Debian's folder, all empty, below tmp_path; no download."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(idx, "DEBIAN_ROOT", str(tmp_path / "debian"))

    def offline(name, split):
        raise ConnectionError("no network in tests")

    monkeypatch.setattr(idx, "_download", offline)
    return {"raw_root": str(tmp_path / "raw"), "keras": str(tmp_path / "keras" / "datasets" / "fashion-mnist"),
            "debian": str(tmp_path / "debian" / "fashion-mnist"), "tmp": tmp_path}


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trip_gzipped_or_not(tmp_path, gz):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(str(tmp_path / ("a.gz" if gz else "a")), array)
    read = idx.read_idx(path, 3)
    assert read.dtype == np.uint8 and read.shape == (2, 3, 4)
    np.testing.assert_array_equal(read, array)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = write_idx(str(tmp_path / "plain-name"), np.ones((3,), np.uint8), gzipped=True)
    np.testing.assert_array_equal(idx.read_idx(path, 1), [1, 1, 1])


@pytest.mark.parametrize("gz", [True, False])
def test_truncated_file_names_the_file(tmp_path, gz):
    full = str(tmp_path / "full")
    write_idx(full, np.zeros((5, 4, 4), np.uint8), gzipped=False)
    raw = open(full, "rb").read()[:-7]
    path = str(tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else "")))
    with (gzip.open(path, "wb") if gz else open(path, "wb")) as handle:
        handle.write(raw)
    with pytest.raises(DataError, match=rf"^{path}: truncated IDX file: its header promises \(5, 4, 4\) = 80 "
                                        r"values, only 73 follow; replace the file with the original$"):
        idx.read_idx(path, 3)


def test_truncated_gzip_stream_names_the_file(tmp_path):
    path = write_idx(str(tmp_path / "x.gz"), np.zeros((50, 28, 28), np.uint8))
    blob = open(path, "rb").read()
    open(path, "wb").write(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=rf"^{path}: damaged gzip file \(EOFError"):
        idx.read_idx(path, 3)


def test_header_shorter_than_its_dimensions(tmp_path):
    path = str(tmp_path / "h")
    open(path, "wb").write(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(DataError, match=rf"^{path}: truncated IDX file \(header ends after 6 bytes\)$"):
        idx.read_idx(path, 3)


def test_wrong_magic_number_names_the_file(tmp_path):
    labels = write_idx(str(tmp_path / "labels"), np.zeros(4, np.uint8))
    # A labels file (1-d) where an images file (3-d) is expected.
    with pytest.raises(DataError, match=rf"^{labels}: not an IDX file of 3-d unsigned bytes: magic number "
                                        r"0x00000801, expected 0x00000803"):
        idx.read_idx(labels, 3)
    jpeg = str(tmp_path / "photo")
    open(jpeg, "wb").write(b"\xff\xd8\xff\xe0" + bytes(100))
    with pytest.raises(DataError, match=r"magic number 0xffd8ffe0"):
        idx.read_idx(jpeg, 3)


def test_trailing_bytes_are_refused(tmp_path):
    path = str(tmp_path / "long")
    write_idx(path, np.zeros((2, 2, 2), np.uint8), gzipped=False)
    with open(path, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(DataError, match=r"goes on past the \(2, 2, 2\) = 8 values"):
        idx.read_idx(path, 3)


def test_search_order_raw_root_then_keras_cache_then_debian(places):
    debian_images, _ = write_split(places["debian"], "train", 12, seed=3)
    found = idx.find_split("fashion_mnist", "train", places["raw_root"])
    assert found.kind == "debian"
    keras_images, _ = write_split(places["keras"], "train", 11, seed=2, gz=False)
    assert idx.find_split("fashion_mnist", "train", places["raw_root"]).kind == "keras_cache"
    raw_images, _ = write_split(os.path.join(places["raw_root"], "fashion_mnist"), "train", 10, seed=1)
    images, labels, origin = idx.load_split("fashion_mnist", "train", places["raw_root"])
    assert origin["found_in"] == "raw_root" and len(images) == 10
    np.testing.assert_array_equal(images, raw_images)
    assert labels.dtype == np.int64 and list(labels[:3]) == [0, 1, 2]


def test_mnist_keras_cache_is_an_npz(places):
    cache = os.path.join(places["tmp"], "keras", "datasets")
    os.makedirs(cache)
    rng = np.random.default_rng(0)
    arrays = {f"{x}_{s}": rng.integers(0, 255, shape, dtype=np.uint8)
              for s, n in (("train", 6), ("test", 4)) for x, shape in (("x", (n, 28, 28)), ("y", (n,)))}
    np.savez(os.path.join(cache, "mnist.npz"), **arrays)
    images, labels, origin = idx.load_split("mnist", "test", places["raw_root"])
    assert origin["kind"] == "npz" and origin["found_in"] == "keras_cache"
    np.testing.assert_array_equal(images, arrays["x_test"])
    np.testing.assert_array_equal(labels, arrays["y_test"])


def test_nothing_found_lists_every_place_apt_and_the_download(places):
    with pytest.raises(DataError) as err:
        idx.load_split("fashion_mnist", "train", places["raw_root"])
    message = str(err.value)
    assert "\n" not in message
    for where in (os.path.join(places["raw_root"], "fashion_mnist"), places["keras"], places["debian"]):
        assert where in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "train-images-idx3-ubyte[.gz]" in message
    assert "download through keras.datasets failed too (ConnectionError: no network in tests)" in message


def test_half_copied_folder_says_which_file_is_missing(places):
    folder = os.path.join(places["raw_root"], "fashion_mnist")
    write_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"), np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match=r"has train-images-idx3-ubyte.gz but not train-labels-idx1-ubyte\[.gz\]"):
        idx.find_split("fashion_mnist", "train", places["raw_root"])


def test_count_mismatch_between_images_and_labels(places):
    folder = os.path.join(places["raw_root"], "fashion_mnist")
    write_split(folder, "train", 5)
    write_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"), np.zeros(4, np.uint8))
    with pytest.raises(DataError, match=r"holds 5 images but .* 4 labels"):
        idx.load_split("fashion_mnist", "train", places["raw_root"])


def test_train_and_test_splits_build_into_their_own_folders(places):
    folder = os.path.join(places["raw_root"], "fashion_mnist")
    train_images, _ = write_split(folder, "train", 20, seed=1)
    test_images, test_labels = write_split(folder, "test", 7, seed=2, gz=False)
    out = str(places["tmp"] / "records")
    kwargs = dict(resize=28, crop=None, output_dir=out, progress=False, raw_root=places["raw_root"])
    train_dir = data.build_records("fashion_mnist", **kwargs)
    test_dir = data.build_records("fashion_mnist", split="test", **kwargs)
    assert train_dir == os.path.join(out, "fashion_mnist-r28")
    assert test_dir == data.records_dir(out, "fashion_mnist", None, 28, split="test") == train_dir + "-test"
    train, test = data.read_manifest(train_dir), data.read_manifest(test_dir)
    assert (train["split"], train["count"]) == ("train", 20)
    # A named source's classes are its own ten, whichever labels a small split happens to hold.
    assert (test["split"], test["count"], test["num_classes"]) == ("test", 7, 10)
    assert test["class_names"][7] == "Sneaker" and len(test["class_names"]) == 10
    assert test["source"]["found_in"] == "raw_root" and test["source"]["split"] == "test"
    from wgan.metrics.reference import read_images
    images, labels = read_images(test_dir, with_labels=True)
    np.testing.assert_array_equal(images[..., 0], test_images)
    np.testing.assert_array_equal(labels, test_labels)
    # A rerun is a no-op; the manifest on disk says the split.
    assert data.build_records("fashion_mnist", split="test", **kwargs) == test_dir
    with open(os.path.join(test_dir, "dataset_info.json")) as handle:
        assert json.load(handle)["build"]["split"] == "test"


def test_sources_without_a_test_split_refuse_it(tmp_path):
    with pytest.raises(DataError, match=r"^--split 'test': digits has only the splits train \(sources with a "
                                        r"test split: mnist, fashion_mnist, cifar10\)$"):
        data.build_records("digits", resize=16, crop=None, output_dir=str(tmp_path), progress=False, split="test")
    assert data.splits("fashion_mnist") == ("train", "test") and data.splits("celeba") == ("train",)


def test_folders_built_before_splits_count_as_train(places):
    write_split(os.path.join(places["raw_root"], "mnist"), "train", 10)
    out = str(places["tmp"] / "records")
    folder = data.build_records("mnist", resize=28, crop=None, output_dir=out, progress=False,
                                raw_root=places["raw_root"])
    path = os.path.join(folder, "dataset_info.json")
    manifest = json.load(open(path))
    del manifest["build"]["split"], manifest["split"]
    json.dump(manifest, open(path, "w"))
    assert data.build_records("mnist", resize=28, crop=None, output_dir=out, progress=False,
                              raw_root=places["raw_root"]) == folder


def test_build_tfrecord_cli_split_test_and_one_line_errors(places, tmp_path):
    import subprocess
    import sys

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=repo, TF_CPP_MIN_LOG_LEVEL="3", KERAS_HOME=str(tmp_path / "keras"))
    folder = os.path.join(places["raw_root"], "fashion_mnist")
    write_split(folder, "test", 6)
    bad = os.path.join(folder, "train-images-idx3-ubyte.gz")
    write_split(folder, "train", 6)
    blob = open(bad, "rb").read()
    open(bad, "wb").write(blob[:40])
    base = [sys.executable, os.path.join(repo, "bin", "build_tfrecord.py"), "--data", "fashion_mnist",
            # --output_dir, the flag's old name, still names the records' parent folder.
            "--raw_root", places["raw_root"], "--output_dir", str(tmp_path / "records")]
    ok = subprocess.run(base + ["--split", "test"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == str(tmp_path / "records" / "fashion_mnist-r28-test")
    broken = subprocess.run(base, capture_output=True, text=True, env=env)
    assert broken.returncode == 1
    assert broken.stderr.strip().splitlines()[-1].startswith(f"error: {bad}: damaged gzip file")
    assert "Traceback" not in broken.stderr
    assert not os.path.exists(tmp_path / "records" / "fashion_mnist-r28" / "dataset_info.json")
