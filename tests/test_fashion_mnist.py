"""Fashion-MNIST end to end on IDX files the test writes: test-split records, the classifier, evaluation."""

import json
import os

import numpy as np
import pytest

from wgan import config, data
from wgan.metrics import evaluation
from wgan.data import inputs
from wgan.data import idx
from wgan.metrics import classifier, reference
from wgan.errors import DataError
from test_data_idx import write_idx  # pytest puts tests/ on sys.path


def striped(count, seed):
    """Learnable 28x28 'garments': class k is a bright band on rows 2k+4 .. 2k+6, over noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 10
    images = rng.integers(0, 60, (count, 28, 28))
    for i, k in enumerate(labels):
        images[i, 2 * k + 4:2 * k + 7, 4:24] = 230
    return images.astype(np.uint8), labels.astype(np.uint8)


@pytest.fixture(scope="module")
def fashion(tmp_path_factory):
    """datasets/fashion_mnist/ with train (600) and test (200) IDX files, as a user would place them."""
    base = tmp_path_factory.mktemp("fashion")
    raw = base / "datasets" / "fashion_mnist"
    for split, count, seed in (("train", 600, 1), ("test", 200, 2)):
        images, labels = striped(count, seed)
        images_stem, labels_stem = idx._STEMS[split]
        write_idx(str(raw / f"{images_stem}.gz"), images)
        write_idx(str(raw / f"{labels_stem}.gz"), labels)
    return base


def fashion_hp():
    return config.from_dict({"model": "wgan-gp", "data": {"name": "fashion_mnist", "crop": None, "resize": 28,
                                                          "channels": 1}})


def test_fashion_mnist_has_the_classifier_metrics():
    hp = fashion_hp()
    assert evaluation.default_metrics(hp, extractor_configured=False) == ("cfid", "classes", "confident")
    assert classifier.CLASSIFIERS["fashion_mnist"].min_accuracy == 0.90


def test_classifier_trains_on_train_split_measures_on_test_split_and_caches(fashion, monkeypatch):
    monkeypatch.chdir(fashion)  # the default raw root, datasets/, is here
    monkeypatch.setenv("KERAS_HOME", str(fashion / "keras"))
    monkeypatch.setattr(idx, "DEBIAN_ROOT", str(fashion / "no-debian"))
    hp = fashion_hp()
    root = str(fashion / "records")
    train_folder = inputs.records_folder(hp, root)  # built from the IDX files, offline
    test_folder = inputs.test_records_folder(hp, root)
    assert test_folder == data.records_dir(root, "fashion_mnist", None, 28, split="test")
    assert data.read_manifest(test_folder)["split"] == "test"

    evaluator = evaluation.make_evaluator(hp, root, num=20)
    info = evaluator.judge.info
    assert info["evaluated_on"] == "the test split"
    assert (info["trained_on"], info["held_out"], info["epochs"]) == (600, 200, 7)
    assert info["accuracy"] >= 0.9
    assert info["recipe"]["stages"] == [[32, 5, 2], [64, 3, 2], [64, 3, 1]]
    real = info["real_test"]
    assert real["images"] == 200 and real["classes"] == 10 and real["confident"] > 0.5
    assert len(real["class_histogram"]) == 10
    with open(classifier.classifier_path(train_folder)[:-len(".keras")] + ".json") as handle:
        assert json.load(handle)["real_test"] == real  # cached with the classifier

    path = classifier.classifier_path(train_folder)
    mtime = os.path.getmtime(path)
    again = classifier.ClassifierJudge(train_folder, test_folder=test_folder)
    assert os.path.getmtime(path) == mtime and again.info["accuracy"] == info["accuracy"]

    images, labels = reference.read_images(test_folder, with_labels=True)
    collapsed, extras = again.evaluate(images[labels < 2])
    assert collapsed["classes"] == 2 and collapsed["cfid"] > real["cfid"]


def test_without_a_test_split_the_accuracy_is_held_out(fashion, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no datasets/ here
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(idx, "DEBIAN_ROOT", str(tmp_path / "no-debian"))
    images, labels = striped(500, 3)
    folder = data.build_records("fashion_mnist", resize=28, crop=None, output_dir=str(tmp_path), progress=False,
                                arrays=(images, labels))
    assert inputs.test_records_folder(fashion_hp(), str(tmp_path)) is None  # nothing downloaded
    judge = classifier.ClassifierJudge(folder)
    assert judge.info["evaluated_on"] == "20% of the training records, held out"
    assert (judge.info["trained_on"], judge.info["held_out"]) == (400, 100)
    assert "real_test" not in judge.info


def test_classifier_refuses_a_source_without_a_recipe(tmp_path):
    rng = np.random.default_rng(0)
    folder = data.build_records("cifar10", resize=8, crop=None, output_dir=str(tmp_path), progress=False,
                                arrays=((rng.random((20, 8, 8, 3)) * 255).astype(np.uint8), np.arange(20) % 10))
    with pytest.raises(DataError, match=r"holds 'cifar10' records; the classifier metrics exist for digits, "
                                           r"mnist, fashion_mnist"):
        classifier.train_classifier(folder)



def test_fid_reference_can_be_the_test_split(fashion, monkeypatch):
    monkeypatch.chdir(fashion)
    monkeypatch.setenv("KERAS_HOME", str(fashion / "keras"))
    monkeypatch.setattr(idx, "DEBIAN_ROOT", str(fashion / "no-debian"))
    hp = fashion_hp()
    root = str(fashion / "records")
    evaluator = evaluation.make_evaluator(hp, root, metrics=("fid",), num=8, extractor="random",
                                          reference_images=1000, reference_split="test")
    test_folder = data.records_dir(root, "fashion_mnist", None, 28, split="test")
    assert evaluator.reference.count == 200  # every test image, not the 600 training ones
    assert any(name.startswith("fid_stats_") for name in os.listdir(test_folder))


def test_bench_classifier_tries_lengths_without_touching_the_cached_classifier(fashion, tmp_path):
    """benchmarks/bench_classifier.py, run as a user would: a row per length, then the shipped classifier's scores."""
    import subprocess
    import sys

    from wgan.lab import benchmark_report

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out, records = tmp_path / "classifier.json", tmp_path / "records"
    result = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "bench_classifier.py"), "--epochs", "1,2",
                             "--records_root", str(records), "--json", str(out)],
                            cwd=fashion, env=dict(os.environ, KERAS_HOME=str(fashion / "keras")),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    results = json.loads(out.read_text())
    assert [row["epochs"] for row in results["rows"]] == [1, 2]
    assert all(row["evaluated_on"] == "the test split" and row["held_out"] == 200 for row in results["rows"])
    assert results["shipped_epochs"] == 7 and results["shipped"]["real_test"]["images"] == 200
    with open(classifier.classifier_path(str(records / "fashion_mnist-r28"))[:-len(".keras")] + ".json") as handle:
        assert json.load(handle)["epochs"] == 7  # the cache holds the shipped recipe, not a tried one
    table = benchmark_report.classifier_table(results)
    assert "| 1 epoch | " in table and "| 2 epochs | " in table and "| real test split, 200 images |" in table
