"""A user's folder of images: grey stays grey, one common side is kept, class subfolders become labels."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from wgan.data import build_records, make_dataset, read_manifest
from wgan.data.folders import common_side, survey
from wgan.data.raw import list_images
from wgan.errors import DataError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = ("boot", "coat", "shirt")


def _grey(rng, side):
    return Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8), mode="L")


def _colour(rng, side):
    return Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8), mode="RGB")


def _folder(root, count, make, side=28, classes=None, seed=0):
    """``count`` PNGs made by ``make(rng, side)``, spread over ``classes`` subfolders (or flat)."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        sub = root / classes[index % len(classes)] if classes else root
        sub.mkdir(parents=True, exist_ok=True)
        make(rng, side).save(sub / f"{index:03d}.png")
    return str(root)


def _build(folder, out, **kwargs):
    return build_records(folder, kwargs.pop("resize", None), None, str(out), workers=1, progress=False,
                         heldout_per_mille=0, **kwargs)


def _images_and_labels(records):
    """float32 [N, H, W, C] in [-1, 1] and int64 [N] labels (None for unlabelled records), in build order."""
    manifest = read_manifest(records)
    batch = next(iter(make_dataset(records, manifest["count"], shuffle_buffer=0, repeat=False,
                                   with_labels=manifest["labels"])))
    return (batch[0].numpy(), batch[1].numpy()) if manifest["labels"] else (batch.numpy(), None)


def test_a_grey_folder_builds_grey_at_its_own_side(tmp_path):
    records = _build(_folder(tmp_path / "garments", 6, _grey), tmp_path / "out")
    manifest = read_manifest(records)
    assert records.endswith("garments-r28")  # not upscaled to 64
    assert (manifest["height"], manifest["width"], manifest["channels"]) == (28, 28, 1)
    assert manifest["build"]["channels"] == 1 and manifest["labels"] is False and "class_names" not in manifest


def test_a_colour_folder_and_a_folder_of_mixed_modes_build_in_colour(tmp_path):
    colour = _build(_folder(tmp_path / "colour", 4, _colour, side=32), tmp_path / "out")
    assert read_manifest(colour)["channels"] == 3 and colour.endswith("colour-r32")
    mixed = tmp_path / "mixed"
    _folder(mixed, 5, _grey)
    # In the middle of the sorted order, so neither the first nor the last image alone decides.
    _colour(np.random.default_rng(9), 28).save(mixed / "002b-colour.png")
    assert read_manifest(_build(str(mixed), tmp_path / "out"))["channels"] == 3


def test_a_grey_palette_is_grey_and_a_coloured_palette_is_colour(tmp_path):
    rng = np.random.default_rng(0)
    grey_palette = _grey(rng, 16).convert("P")  # P image whose palette entries are all grey
    assert survey(str(tmp_path), []).channels == 3  # nothing readable: colour, the safe default
    grey_palette.save(tmp_path / "grey.png")
    assert survey(str(tmp_path), [str(tmp_path / "grey.png")]).channels == 1
    _colour(rng, 16).convert("P").save(tmp_path / "colour.png")
    assert survey(str(tmp_path), [str(tmp_path / "grey.png"), str(tmp_path / "colour.png")]).channels == 3


def test_channels_override_the_survey_both_ways(tmp_path):
    grey = _folder(tmp_path / "grey", 4, _grey)
    as_colour = _build(grey, tmp_path / "a", channels=3)
    assert read_manifest(as_colour)["channels"] == 3
    images, _ = _images_and_labels(as_colour)
    np.testing.assert_array_equal(images[..., 0], images[..., 2])  # grey pixels in three equal channels
    colour = _folder(tmp_path / "colour", 4, _colour)
    assert read_manifest(_build(colour, tmp_path / "b", channels=1))["channels"] == 1


def test_a_source_of_arrays_refuses_other_channels(tmp_path):
    with pytest.raises(DataError, match="--channels 3: digits is stored with 1 channel; --channels applies to folders"):
        build_records("digits", None, None, str(tmp_path), progress=False, channels=3)


def test_sides_a_folder_suggests():
    assert common_side([28, 28, 28]) == 28
    assert common_side([16]) == 16
    assert common_side([100, 100]) == 64  # larger photos are brought down to the default
    assert common_side([28, 32]) == 64  # mixed sides: the default
    assert common_side([]) == 64


def test_class_subfolders_become_labels_with_their_names(tmp_path):
    folder = _folder(tmp_path / "shop", 9, _grey, classes=CLASSES)
    records = _build(folder, tmp_path / "out")
    manifest = read_manifest(records)
    assert manifest["labels"] is True and manifest["class_names"] == list(CLASSES) and manifest["num_classes"] == 3
    # Images are written in sorted path order: boot/ 0, 3, 6, then coat/, then shirt/.
    _, labels = _images_and_labels(records)
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    paths, _ = list_images(folder)
    np.testing.assert_array_equal(survey(folder, paths).labels, labels)


def test_class_names_and_records_do_not_depend_on_workers(tmp_path):
    folder = _folder(tmp_path / "shop", 12, _colour, side=16, classes=CLASSES)
    one = build_records(folder, None, None, str(tmp_path / "one"), workers=1, progress=False)
    two = build_records(folder, None, None, str(tmp_path / "two"), workers=2, progress=False)
    first, second = read_manifest(one), read_manifest(two)
    assert first["class_names"] == second["class_names"] == list(CLASSES)
    assert [s["sha256"] for s in first["shards"]] == [s["sha256"] for s in second["shards"]]


def test_a_flat_folder_or_a_single_subfolder_has_no_labels(tmp_path):
    flat = _folder(tmp_path / "flat", 4, _grey)
    assert read_manifest(_build(flat, tmp_path / "a"))["labels"] is False
    single = _folder(tmp_path / "single", 4, _grey, classes=("images",))
    assert read_manifest(_build(single, tmp_path / "b"))["labels"] is False
    loose = tmp_path / "loose"
    _folder(loose, 4, _grey, classes=CLASSES)
    _grey(np.random.default_rng(1), 28).save(loose / "stray.png")  # one image beside the class folders
    assert survey(str(loose), list_images(str(loose))[0]).labels is None


def test_a_folder_built_as_colour_before_is_not_silently_mixed(tmp_path):
    grey = _folder(tmp_path / "grey", 4, _grey)
    _build(grey, tmp_path / "out", channels=3)
    with pytest.raises(DataError, match=r"built with other arguments: channels 1 \(built with 3\); pass --overwrite"):
        _build(grey, tmp_path / "out")


def test_the_command_builds_a_grey_folder_without_flags(tmp_path):
    folder = _folder(tmp_path / "garments", 5, _grey, classes=("bag", "sandal"))
    env = {**os.environ, "PYTHONPATH": REPO}
    out = subprocess.run([sys.executable, os.path.join(REPO, "bin", "build_tfrecord.py"), "--data", folder,
                          "--heldout", "0"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    records = out.stdout.strip()
    assert records.endswith("garments-r28")
    with open(os.path.join(tmp_path, records, "dataset_info.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    assert (manifest["channels"], manifest["class_names"]) == (1, ["bag", "sandal"])
    bad = subprocess.run([sys.executable, os.path.join(REPO, "bin", "build_tfrecord.py"), "--data", folder,
                          "--channels", "2"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "--channels" in bad.stderr
