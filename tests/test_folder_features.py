"""Features learned from a folder's own images (wgan.metrics.folder_features): the rotation task, the bar its
network must reach, the cache beside the records, the FID in its features, and a flat folder's run keeping
a best snapshot by it."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from wgan import recipe, runs
from wgan.data import build_records
from wgan.errors import DataError
from wgan.metrics import evaluation, folder_features, reference, registry
from wgan.train import launch

SIDE = 8


def _folder(root, count, upright=True, seed=0):
    """``count`` grey SIDE x SIDE images, no subfolders. ``upright``: a bright band along the top and a
    dim one along the left at random strengths (a clear up and down); else noise, which has none."""
    rng = np.random.default_rng(seed)
    root.mkdir()
    for index in range(count):
        image = rng.integers(0, 50, (SIDE, SIDE), dtype=np.uint8)
        if upright:
            image[:2, :] = rng.integers(180, 255)
            image[2:, :1] = rng.integers(90, 130)
        Image.fromarray(image).save(root / f"{index}.png")
    return str(root)


@pytest.fixture
def quick(monkeypatch):
    """The rotation recipe in 150 updates (the bands are easy)."""
    monkeypatch.setitem(folder_features.RECIPES, "rotation",
                        dataclasses.replace(folder_features.RECIPES["rotation"], updates=150))


def _records(tmp_path, count=folder_features.MIN_IMAGES + 14, upright=True, heldout_per_mille=0):
    records_root = str(tmp_path / "records")
    build_records(_folder(tmp_path / "flat", count, upright), None, None, records_root, workers=1, progress=False,
                  heldout_per_mille=heldout_per_mille)
    return records_root, os.path.join(records_root, f"flat-r{SIDE}")


def test_the_four_rotations_and_their_answers():
    image = np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1)  # [[0, 1], [2, 3]]
    rotated, turns = folder_features._rotated(image)
    assert turns.tolist() == [0, 1, 2, 3]
    assert [r[..., 0].tolist() for r in rotated] == [[[0, 1], [2, 3]], [[1, 3], [0, 2]], [[3, 2], [1, 0]],
                                                     [[2, 0], [3, 1]]]


def test_the_rotation_network_learns_an_up_and_down_and_is_cached_beside_the_records(tmp_path, quick, monkeypatch):
    _, folder = _records(tmp_path)
    model, info = folder_features.load_or_fit(folder)
    assert info["accuracy"] >= 0.9 and info["held_out"] == round(0.2 * info["images"])
    path = folder_features.model_path(folder, "rotation")
    assert path.endswith(f"features_rotation_r{SIDE}.keras") and os.path.isfile(path)

    def refit(*args):
        raise AssertionError("fitted again although the records did not change")

    monkeypatch.setitem(folder_features.RECIPES, "rotation",
                        dataclasses.replace(folder_features.RECIPES["rotation"], fit=refit))
    _, cached = folder_features.load_or_fit(folder)
    assert cached == info
    with open(path[:-len(".keras")] + ".json", encoding="utf-8") as handle:  # rebuilt records: fitted anew
        stale = {**json.load(handle), "records": "0" * 16}
    with open(path[:-len(".keras")] + ".json", "w", encoding="utf-8") as handle:
        json.dump(stale, handle)
    with pytest.raises(AssertionError, match="fitted again"):
        folder_features.load_or_fit(folder)


def test_images_without_an_up_and_down_are_refused_with_the_reason(tmp_path, quick):
    _, folder = _records(tmp_path, upright=False)
    with pytest.raises(DataError, match=r"named \d+% of the rotations of 54 held-out images right, below 50%: these "
                                        "images have no up and down"):
        folder_features.load_or_fit(folder)


def test_too_few_images_are_refused_before_anything_is_fitted(tmp_path, quick):
    _, folder = _records(tmp_path, count=40)
    with pytest.raises(DataError, match="holds 40 images; features learned from them need at least 256"):
        folder_features.load_or_fit(folder)
    assert not os.path.exists(folder_features.model_path(folder, "rotation"))


def test_ffid_is_zero_for_the_records_themselves_and_grows_as_images_lose_their_up_and_down(tmp_path, quick):
    _, folder = _records(tmp_path)
    judge = folder_features.LearnedJudge(folder)
    real = reference.read_images(folder)
    features = judge.extractor(real)
    moments = (features.mean(axis=0), np.cov(features, rowvar=False))
    assert judge.distance(moments) == pytest.approx(0.0, abs=1e-6)
    flipped = judge.extractor(real[:, ::-1])  # upside down: the band at the bottom
    faded = real.copy()
    faded[:, :2, :] = (faded[:, :2, :] * 0.6).astype(np.uint8)  # the band half as bright
    scores = [judge.distance((f.mean(axis=0), np.cov(f, rowvar=False))) for f in (judge.extractor(faded), flipped)]
    assert 0.0 < scores[0] < scores[1]


def test_nt_xent_by_hand():
    first = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    second = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    # Row 0's candidates: row 1 (cos 0), row 2 (its pair, cos 1), row 3 (cos 0), at temperature 0.5.
    expected = -np.log(np.exp(2.0) / (np.exp(2.0) + 2 * np.exp(0.0)))
    assert float(folder_features.nt_xent(first, second)) == pytest.approx(expected, rel=1e-6)


def test_views_are_seeded_and_keep_the_shape_and_range():
    batch = tf.constant(np.random.default_rng(0).uniform(-1, 1, (3, 8, 8, 3)).astype(np.float32))
    seed = tf.constant([4, 2], tf.int64)
    first, again = folder_features._views(batch, seed), folder_features._views(batch, seed)
    other = folder_features._views(batch, tf.constant([4, 3], tf.int64))
    assert first.shape == (3, 8, 8, 3) and float(tf.reduce_min(first)) >= -1 and float(tf.reduce_max(first)) <= 1
    assert np.array_equal(first.numpy(), again.numpy()) and not np.array_equal(first.numpy(), other.numpy())


def test_the_registry_knows_ffid_as_the_primary_metric_after_fid_and_cfid():
    assert registry.primary_metrics() == ("fid", "cfid", "ffid", "w1")
    assert registry.primary_metric({"swd": 1.0, "ffid": 2.0, "w_heldout": 0.1}) == "ffid"
    assert not registry.higher_is_better("ffid") and "ffid" not in registry.metrics_for(registry.IMAGE_DATA)
    assert "ffid" in registry.metrics_for(registry.IMAGE_DATA, asked=True)


def test_a_flat_folder_run_is_judged_by_learned_features_and_keeps_a_best_snapshot(tmp_path, quick, caplog):
    records_root, folder = _records(tmp_path, count=folder_features.MIN_IMAGES + 40, heldout_per_mille=100)
    hp = recipe.build("wgan-gp", str(tmp_path / "flat"), records_root, overrides=[
        ("architecture.base_width", 4), ("batch_size", 8), ("n_critic", 1), ("eval_every", 2),
        ("snapshot_every", 2), ("checkpoint_every", 2), ("log_every", 1), ("health.enabled", False)]).hp
    caplog.set_level("INFO")
    launched = launch.train_run(str(tmp_path / "checkpoint"), hp, launch.until_step(4), records_root=records_root,
                                progress=False)
    assert "judged by ffid, swd, w_heldout, spread every 2 steps (features a network learned from the training " \
           "images (it names" in caplog.text
    assert "the best snapshot follows ffid" in caplog.text
    evaluations = [row for row in runs.read_jsonl(os.path.join(launched.vdir, runs.METRICS_FILE)) if "eval/ffid" in row]
    assert [row["step"] for row in evaluations] == [2, 4] and all(row["eval/ffid"] > 0 for row in evaluations)
    best = runs.read_best(launched.vdir)
    assert best is not None and best["metric"] == "ffid"
    assert best["value"] == min(row["eval/ffid"] for row in evaluations)


def test_a_flat_folder_whose_network_cannot_learn_is_judged_without_it_and_says_so(tmp_path, quick, caplog):
    records_root, _ = _records(tmp_path, upright=False)
    hp = recipe.build("wgan-gp", str(tmp_path / "flat"), records_root, overrides=[("eval_every", 2)]).hp
    assert evaluation.for_training(hp, records_root).metrics == ("swd",)
    assert "these images have no up and down for it to learn" in caplog.text
    assert "no learned-feature FID, so no best snapshot" in caplog.text


def test_preparing_a_flat_folders_training_fits_and_caches_the_network_its_evaluator_then_loads(tmp_path, quick,
                                                                                                 monkeypatch):
    records_root, folder = _records(tmp_path)
    hp = recipe.build("wgan-gp", str(tmp_path / "flat"), records_root, overrides=[("eval_every", 2)]).hp
    evaluation.prepare_for_training(hp, records_root)
    assert os.path.isfile(folder_features.model_path(folder, "rotation"))
    monkeypatch.setitem(folder_features.RECIPES, "rotation", dataclasses.replace(
        folder_features.RECIPES["rotation"], fit=lambda *args: pytest.fail("fitted twice")))
    assert evaluation.for_training(hp, records_root).learned is not None
    (tmp_path / "small").mkdir()
    small_root, _ = _records(tmp_path / "small", count=40)  # too few images: nothing to prepare, nothing raised
    evaluation.prepare_for_training(recipe.build("wgan-gp", str(tmp_path / "small" / "flat"), small_root).hp,
                                    small_root)


def test_tf_rot90_turns_as_np_rot90_does():
    # Training turns images with tf.image.rot90, the held-out accuracy with np.rot90: one direction.
    image = np.arange(6, dtype=np.float32).reshape(2, 3, 1)
    for k in range(4):
        assert np.array_equal(tf.image.rot90(image, k).numpy(), np.rot90(image, k, axes=(0, 1)))
