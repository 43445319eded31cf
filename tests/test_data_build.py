"""Building records: round trip, modes and bad files, determinism, crash safety, sources."""

import io
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import scipy.io
from PIL import Image

from wgan.data import build, build_records, make_dataset, read_manifest, records_dir
from wgan.data.manifest import MANIFEST_NAME
from wgan.errors import DataError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _photo(rng, width=178, height=218):
    """A smooth random colour image (compresses like a photo, unlike pure noise)."""
    small = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)
    noise = rng.integers(-8, 9, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image, np.int16) + noise, 0, 255).astype(np.uint8))


def _photo_folder(folder, count, seed=0):
    """``count`` CelebA-sized images (JPEG and PNG, some in a sub-folder); returns sorted paths."""
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        sub = folder / ("b" if index % 3 == 0 else "a")
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{index:03d}.{'png' if index % 2 else 'jpg'}"
        _photo(rng).save(path)
        paths.append(str(path))
    return sorted(paths)


def _all_images(folder):
    """Every image of a records folder in build order, as uint8 [N, H, W, C]."""
    count = read_manifest(folder)["count"]
    batch = next(iter(make_dataset(folder, count, shuffle_buffer=0, repeat=False)))
    return np.round((batch.numpy() + 1.0) * 127.5).astype(np.uint8)


def _files(folder):
    return {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))}


def test_round_trip_matches_pil_crop_and_resize(tmp_path):
    paths = _photo_folder(tmp_path / "faces", 6)
    folder = build_records(str(tmp_path / "faces"), 32, 108, str(tmp_path / "out"), workers=1, progress=False)
    assert folder == records_dir(str(tmp_path / "out"), str(tmp_path / "faces"), 108, 32)
    assert folder.endswith("faces-c108-r32")
    expected = np.stack([
        np.asarray(Image.open(path).convert("RGB").crop((35, 55, 143, 163))
                   .resize((32, 32), Image.Resampling.LANCZOS)) for path in paths
    ])
    np.testing.assert_array_equal(_all_images(folder), expected)
    manifest = read_manifest(folder)
    assert (manifest["count"], manifest["height"], manifest["width"], manifest["channels"]) == (6, 32, 32, 3)
    assert manifest["crop"] == 108 and manifest["filter"] == "lanczos"
    # Every image lies in a subfolder (a/ or b/): the subfolders are its classes.
    assert manifest["labels"] is True and manifest["class_names"] == ["a", "b"] and manifest["num_classes"] == 2


def _mode_and_bad_files(folder):
    """One file per image mode (all usable) and one per kind of bad file; returns the good count."""
    folder.mkdir()
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    Image.fromarray(rgb).convert("RGBA").save(folder / "rgba.png")
    Image.fromarray(rgb).convert("LA").save(folder / "la.png")
    Image.fromarray(rgb).convert("P").save(folder / "p.png")
    keyed = Image.fromarray(rgb).convert("P")
    keyed.save(folder / "p_transparent.gif", transparency=0)
    Image.fromarray(rgb).convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray(rng.integers(0, 65536, (40, 30), dtype=np.uint16)).save(folder / "grey16.png")
    Image.fromarray(rgb).convert("L").save(folder / "grey.bmp")
    Image.fromarray(rgb).convert("1").save(folder / "bilevel.png")
    Image.fromarray(rgb).save(folder / "photo.webp")
    exif = Image.Exif()
    exif[0x0112] = 8
    Image.fromarray(rgb).save(folder / "rotated.jpg", exif=exif)
    good = (folder / "rotated.jpg").read_bytes()
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.png").write_text("not an image\n")
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 2])
    plain = io.BytesIO()
    Image.fromarray(rgb).save(plain, "JPEG")
    # Intact headers, then bytes that are no valid entropy-coded data.
    (folder / "corrupt.jpg").write_bytes(plain.getvalue()[:200] + bytes(range(256)) * 20)
    Image.fromarray(rgb[:10, :10]).save(folder / "tiny.png")  # smaller than the crop
    (folder / "readme.txt").write_text("ignored: not an image extension\n")
    return 10


def test_every_mode_converted_and_bad_files_counted(tmp_path, capsys):
    good = _mode_and_bad_files(tmp_path / "mixed")
    folder = build_records(str(tmp_path / "mixed"), 16, 20, str(tmp_path / "out"), workers=1)
    manifest = read_manifest(folder)
    assert manifest["count"] == good
    assert manifest["skipped"] == {"corrupt": 1, "empty_file": 1, "not_an_image": 1,
                                   "smaller_than_crop": 1, "truncated": 1}
    assert manifest["source"]["ignored_files"] == 1
    assert {example["reason"] for example in manifest["skipped_examples"]} == set(manifest["skipped"])
    err = capsys.readouterr().err
    assert "skipped 5 images" in err and "empty.jpg: empty_file" in err
    assert _all_images(folder).shape == (good, 16, 16, 3)


def test_no_usable_image_fails_and_leaves_nothing(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.jpg").write_bytes(b"")
    (tmp_path / "bad" / "b.png").write_text("text")
    with pytest.raises(DataError, match="no usable image.*1 empty_file, 1 not_an_image"):
        build_records(str(tmp_path / "bad"), 16, None, str(tmp_path / "out"), workers=1, progress=False)
    assert not os.path.exists(tmp_path / "out" / "bad-r16")


def test_output_identical_for_one_and_two_workers(tmp_path):
    _photo_folder(tmp_path / "faces", 20)
    one = build_records(str(tmp_path / "faces"), 16, 108, str(tmp_path / "w1"), shards=3, workers=1, progress=False)
    two = build_records(str(tmp_path / "faces"), 16, 108, str(tmp_path / "w2"), shards=3, workers=2, progress=False)
    files = _files(one)
    assert len([name for name in files if name.startswith("shard-")]) == 3
    assert files == _files(two)


def test_shard_counts_and_sizes_recorded(tmp_path):
    _photo_folder(tmp_path / "faces", 7)
    folder = build_records(str(tmp_path / "faces"), 8, None, str(tmp_path / "out"), shards=3, workers=1,
                           progress=False, compression="gzip")
    manifest = read_manifest(folder)
    assert [shard["records"] for shard in manifest["shards"]] == [3, 3, 1]
    for shard in manifest["shards"]:
        assert shard["file"].endswith(".tfrecord.gz")
        assert os.path.getsize(os.path.join(folder, shard["file"])) == shard["bytes"]
        assert len(shard["sha256"]) == 64
    assert _all_images(folder).shape == (7, 8, 8, 3)


def test_failure_mid_build_leaves_nothing_readable_and_rerun_completes(tmp_path, monkeypatch):
    _photo_folder(tmp_path / "faces", 6)
    original = build.ShardWriter.finish_shard

    def fail_after_first_shard(self):
        original(self)
        if self.shards:
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(build.ShardWriter, "finish_shard", fail_after_first_shard)
    args = (str(tmp_path / "faces"), 8, None, str(tmp_path / "out"))
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_records(*args, shards=3, workers=1, progress=False)
    folder = records_dir(str(tmp_path / "out"), str(tmp_path / "faces"), None, 8)
    with pytest.raises(DataError, match="dataset_info.json is missing"):
        make_dataset(folder, 2)
    monkeypatch.undo()
    build_records(*args, shards=3, workers=1, progress=False)
    assert _all_images(folder).shape == (6, 8, 8, 3)


_KILL_SCRIPT = """
import os, signal, sys
from wgan.data import build

original = build.ShardWriter.finish_shard

def finish_then_die(self):
    original(self)
    if self.shards:
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup of any kind runs

build.ShardWriter.finish_shard = finish_then_die
if __name__ == "__main__":
    build.build_records("digits", 8, None, sys.argv[1], shards=4, workers=1, progress=False)
"""


def test_killed_build_is_refused_by_reader_and_rebuilt(tmp_path, capsys):
    script = tmp_path / "killed_build.py"
    script.write_text(_KILL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": REPO}
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "out")], env=env,
                            capture_output=True, timeout=300)
    assert result.returncode == -signal.SIGKILL
    folder = records_dir(str(tmp_path / "out"), "digits", None, 8)
    left = os.listdir(folder)
    assert "shard-00000.tfrecord" in left and MANIFEST_NAME not in left
    with pytest.raises(DataError, match="not a finished records folder"):
        make_dataset(folder, 2)
    build_records("digits", 8, None, str(tmp_path / "out"), shards=4, workers=1)
    assert "removed" in capsys.readouterr().err
    assert sorted(os.listdir(folder)) == [MANIFEST_NAME] + [f"shard-0000{i}.tfrecord" for i in range(4)]
    assert read_manifest(folder)["count"] == 1797


def test_rerun_is_a_noop_that_says_so(tmp_path, capsys):
    folder = build_records("digits", 8, None, str(tmp_path), workers=1)
    before = {name: os.stat(os.path.join(folder, name)).st_mtime_ns for name in os.listdir(folder)}
    capsys.readouterr()
    assert build_records("digits", 8, None, str(tmp_path), workers=1) == folder
    assert "already complete" in capsys.readouterr().err
    assert before == {name: os.stat(os.path.join(folder, name)).st_mtime_ns for name in os.listdir(folder)}


def test_other_arguments_refused_unless_overwrite(tmp_path):
    folder = build_records("digits", 8, None, str(tmp_path), workers=1, progress=False)
    with pytest.raises(DataError, match="other arguments: compression 'gzip'.*--overwrite"):
        build_records("digits", 8, None, str(tmp_path), workers=1, progress=False, compression="gzip")
    build_records("digits", 8, None, str(tmp_path), workers=1, progress=False, compression="gzip", overwrite=True)
    manifest = read_manifest(folder)
    assert manifest["compression"] == "gzip"
    assert sorted(os.listdir(folder)) == [MANIFEST_NAME, "shard-00000.tfrecord.gz"]


def test_changed_shard_refused_on_rerun(tmp_path):
    folder = build_records("digits", 8, None, str(tmp_path), workers=1, progress=False)
    with open(os.path.join(folder, "shard-00000.tfrecord"), "r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff")
    with pytest.raises(DataError, match="sha256.*--overwrite"):
        build_records("digits", 8, None, str(tmp_path), workers=1, progress=False)


def test_digits_builds_offline_with_labels(tmp_path):
    folder = build_records("digits", 32, None, str(tmp_path), workers=1, progress=False)
    assert folder == os.path.join(str(tmp_path), "digits-r32")
    manifest = read_manifest(folder)
    assert (manifest["count"], manifest["channels"], manifest["num_classes"]) == (1797, 1, 10)
    images, labels = next(iter(make_dataset(folder, 1797, shuffle_buffer=0, repeat=False, with_labels=True)))
    assert images.shape == (1797, 32, 32, 1)
    assert labels.numpy()[:5].tolist() == [0, 1, 2, 3, 4]
    assert images.numpy().min() == -1.0 and images.numpy().max() == 1.0


@pytest.mark.parametrize("data, shape, channels", [
    ("mnist", (12, 28, 28), 1),
    ("fashion_mnist", (12, 28, 28), 1),
    ("cifar10", (12, 32, 32, 3), 3),
])
def test_keras_sources_from_injected_arrays(tmp_path, data, shape, channels):
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, shape, dtype=np.uint8)
    labels = np.arange(12).reshape(-1, 1) % 10  # cifar10 labels come as [N, 1]
    folder = build_records(data, shape[1], None, str(tmp_path), workers=1, progress=False,
                           arrays=(images, labels))
    stored, got_labels = next(iter(make_dataset(folder, 12, shuffle_buffer=0, repeat=False, with_labels=True)))
    expected = images.reshape(12, shape[1], shape[2], channels)
    np.testing.assert_array_equal(np.round((stored.numpy() + 1) * 127.5).astype(np.uint8), expected)
    assert got_labels.numpy().tolist() == (np.arange(12) % 10).tolist()


def test_injected_arrays_with_wrong_channels_refused(tmp_path):
    with pytest.raises(DataError, match="mnist: expected 1-channel images"):
        build_records("mnist", 28, None, str(tmp_path), progress=False,
                      arrays=(np.zeros((2, 28, 28, 3), np.uint8), None))


def test_svhn_from_mat_file(tmp_path):
    rng = np.random.default_rng(6)
    x = rng.integers(0, 256, (32, 32, 3, 5), dtype=np.uint8)
    y = np.array([[10], [1], [2], [10], [9]], dtype=np.uint8)
    (tmp_path / "raw" / "svhn").mkdir(parents=True)
    scipy.io.savemat(tmp_path / "raw" / "svhn" / "train_32x32.mat", {"X": x, "y": y})
    folder = build_records("svhn", 32, None, str(tmp_path / "out"), workers=1, progress=False,
                           raw_root=str(tmp_path / "raw"))
    images, labels = next(iter(make_dataset(folder, 5, shuffle_buffer=0, repeat=False, with_labels=True)))
    assert labels.numpy().tolist() == [0, 1, 2, 0, 9]
    np.testing.assert_array_equal(np.round((images.numpy() + 1) * 127.5).astype(np.uint8),
                                  np.moveaxis(x, -1, 0))


def test_missing_raw_folder_says_where_data_belongs(tmp_path):
    with pytest.raises(DataError) as caught:
        build_records("celeba", 64, 108, str(tmp_path / "out"), progress=False, raw_root=str(tmp_path))
    message = str(caught.value)
    assert os.path.join(str(tmp_path), "celeba", "img", "img_align_celeba") in message
    assert "img_align_celeba.zip" in message
    assert not os.path.exists(tmp_path / "out")


def test_named_folder_source_reads_raw_root(tmp_path):
    _photo_folder(tmp_path / "raw" / "celeba" / "img" / "img_align_celeba", 3)
    folder = build_records("celeba", 16, 108, str(tmp_path / "out"), workers=1, progress=False,
                           raw_root=str(tmp_path / "raw"))
    assert folder == os.path.join(str(tmp_path / "out"), "celeba-c108-r16")
    assert json.load(open(os.path.join(folder, MANIFEST_NAME)))["count"] == 3
