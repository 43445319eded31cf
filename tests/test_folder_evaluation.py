"""A user's folder with class subfolders is judged like digits: a classifier trained once on its labels,
classifier FID during training, a best snapshot; an unlabelled folder too small for learned features
(tests/test_folder_features.py) is judged by patch statistics against its own images (swd) and by its
critic on held-out images, and keeps no best snapshot."""

import json
import os

import numpy as np
from PIL import Image

from wgan import recipe, runs
from wgan.data import build_records
from wgan.metrics import classifier, evaluation
from wgan.train import launch

CLASSES = ("left", "middle", "right")


def _shapes_folder(root, per_class=24, side=16):
    """Grey images whose class is where a bright bar stands (easy to learn), with noise."""
    rng = np.random.default_rng(0)
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            image = rng.integers(0, 60, (side, side), dtype=np.uint8)
            column = 2 + label * 5
            image[:, column:column + 3] = 230
            Image.fromarray(image).save(root / name / f"{index}.png")
    return str(root)


def test_a_labelled_folder_trains_its_classifier_once_and_keeps_a_best_snapshot(tmp_path, monkeypatch):
    monkeypatch.setattr(classifier, "FOLDER_MIN_UPDATES", 150)  # the bars are easy; seconds, not a minute
    records_root = str(tmp_path / "records")
    folder = _shapes_folder(tmp_path / "bars")
    build_records(folder, None, None, records_root, workers=1, progress=False, heldout_per_mille=0)
    chosen = recipe.build("wgan-gp", folder, records_root, overrides=[
        ("architecture.base_width", 4), ("batch_size", 8), ("n_critic", 1), ("eval_every", 2),
        ("snapshot_every", 2), ("checkpoint_every", 2), ("log_every", 1), ("health.enabled", False)])
    hp = chosen.hp
    assert "by a classifier trained once on the folder's labels" in recipe.describe(chosen)
    assert classifier.judges(hp, records_root) and not classifier.judges(hp)  # the records say so
    assert set(evaluation.default_metrics(hp, False, records_root=records_root)) == {"cfid", "classes", "confident"}

    launched = launch.train_run(str(tmp_path / "checkpoint"), hp, launch.until_step(4), records_root=records_root,
                                progress=False)
    records = os.path.join(records_root, "bars-r16")
    assert os.path.isfile(os.path.join(records, "classifier_r16.keras"))
    with open(os.path.join(records, "classifier_r16.json"), encoding="utf-8") as f:
        info = json.load(f)
    assert info["num_classes"] == 3 and info["accuracy"] >= 2 / 3
    evaluations = [row for row in runs.read_jsonl(os.path.join(launched.vdir, runs.METRICS_FILE)) if "eval/cfid" in row]
    assert [row["step"] for row in evaluations] == [2, 4]
    assert all(len(row["eval/class_histogram"]) == 3 for row in evaluations)
    assert any(s.get("metrics", {}).get("cfid") is not None for s in runs.list_snapshots(launched.vdir))


def test_an_unlabelled_folder_gets_no_classifier(tmp_path):
    records_root = str(tmp_path / "records")
    folder = tmp_path / "flat"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for index in range(8):
        Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(folder / f"{index}.png")
    build_records(str(folder), None, None, records_root, workers=1, progress=False, heldout_per_mille=0)
    hp = recipe.build("wgan-gp", str(folder), records_root).hp
    assert not classifier.judges(hp, records_root)
    assert evaluation.default_metrics(hp, False, records_root=records_root) == ()
    assert ("else the FID in features a network learns once from the folder's own images (ffid; the best snapshot "
            "follows it), patch statistics against them (swd)") in recipe.describe(recipe.build("wgan-gp", str(folder),
                                                                                                records_root))


def test_classes_the_classifier_cannot_learn_leave_the_run_to_patch_statistics_not_stopped(tmp_path, monkeypatch,
                                                                                              caplog):
    monkeypatch.setattr(classifier, "FOLDER_MIN_UPDATES", 20)
    records_root = str(tmp_path / "records")
    rng = np.random.default_rng(2)
    for name in CLASSES:  # random pixels: nothing tells the classes apart
        (tmp_path / "noise" / name).mkdir(parents=True)
        for index in range(10):
            Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(tmp_path / "noise" / name / f"{index}.png")
    build_records(str(tmp_path / "noise"), None, None, records_root, workers=1, progress=False, heldout_per_mille=0)
    hp = recipe.build("wgan-gp", str(tmp_path / "noise"), records_root, overrides=[("eval_every", 2)]).hp
    assert classifier.judges(hp, records_root)
    assert evaluation.for_training(hp, records_root).metrics == ("swd",)  # no held-out images: no critic signal
    assert "its class metrics would not be trustworthy; the classifier's metrics are off" in caplog.text


def _flat_folder(root, count=40, side=16):
    """Grey images of a bright bar at a random column, no subfolders: nothing to label them by."""
    rng = np.random.default_rng(3)
    root.mkdir()
    for index in range(count):
        image = rng.integers(0, 60, (side, side), dtype=np.uint8)
        column = int(rng.integers(0, side - 3))
        image[:, column:column + 3] = 230
        Image.fromarray(image).save(root / f"{index}.png")
    return str(root)


def test_an_unlabelled_folder_is_judged_by_patch_statistics_and_its_critic_and_says_it_keeps_no_best(tmp_path,
                                                                                                         caplog):
    records_root = str(tmp_path / "records")
    folder = _flat_folder(tmp_path / "bars")
    build_records(folder, None, None, records_root, workers=1, progress=False, heldout_per_mille=250)
    hp = recipe.build("wgan-gp", folder, records_root, overrides=[
        ("architecture.base_width", 4), ("batch_size", 8), ("n_critic", 1), ("eval_every", 2),
        ("snapshot_every", 2), ("checkpoint_every", 2), ("log_every", 1), ("health.enabled", False)]).hp
    caplog.set_level("INFO")
    launched = launch.train_run(str(tmp_path / "checkpoint"), hp, launch.until_step(4), records_root=records_root,
                                progress=False)
    assert ("judged by swd, w_heldout, spread every 2 steps (patch statistics against 34 training images and the "
            "run's own critic on 6 held-out images: no class subfolders for a classifier and no Inception graph"
            in caplog.text)
    assert "holds 34 images; features learned from them need at least 256; no learned-feature FID" in caplog.text
    assert "no best snapshot: these do not rank a run's late checkpoints" in caplog.text
    evaluations = [row for row in runs.read_jsonl(os.path.join(launched.vdir, runs.METRICS_FILE))
                   if "eval/w_heldout" in row]
    assert [row["step"] for row in evaluations] == [2, 4]
    assert all(row["eval/spread"] > 0 and row["eval/swd"] > 0 and len(row["eval/swd_levels"]) == 2
               for row in evaluations)
    assert runs.read_best(launched.vdir) is None
