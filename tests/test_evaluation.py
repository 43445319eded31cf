"""Evaluation: the digit classifier, metric choice per data, eval_every in training, bin/evaluate.py, storage."""

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import merged, tiny_hparams
from wgan import config, data, runs
from wgan.metrics import evaluation
from wgan.train import loop
from wgan.errors import ConfigError, DataError
from wgan.metrics import classifier, extractors, reference

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")


def tiny_hp(toy=True, **values):
    return tiny_hparams("wgan-gp", "8gaussians" if toy else "digits",
                        **merged({"batch_size": 16, "z_dim": 4, "histogram_every": 1000}, values))


@pytest.fixture(scope="module")
def digits_root(tmp_path_factory):
    """digits-r16 records built from scikit-learn's bundled digits (offline), with a trained classifier."""
    root = str(tmp_path_factory.mktemp("records"))
    folder = data.build_records("digits", resize=16, crop=None, output_dir=root, workers=1, progress=False)
    classifier.load_or_train(folder)
    return root


def digits_folder(root):
    return os.path.join(root, "digits-r16")


# ----- storing evaluations in a run (no TensorFlow work) -------------------------------------
def test_evaluations_merge_into_snapshot_metrics(tmp_path):
    vdir = str(tmp_path)
    for step in (2, 4):
        open(os.path.join(vdir, f"snap-{step}.index"), "w").close()
        runs.record_snapshot(vdir, os.path.join(vdir, f"snap-{step}"), step, 0.0, {"w1": 1.0})
    runs.record_evaluation(vdir, 4, {"w1": 0.5, "modes": 8}, os.path.join(vdir, "snap-4"))
    runs.record_evaluation(vdir, 4, {"modes": 7}, os.path.join(vdir, "snap-4"))
    runs.record_evaluation(vdir, 6, {"modes": 1}, os.path.join(vdir, "ckpt-6"))  # not a snapshot
    assert [s["metrics"] for s in runs.list_snapshots(vdir)] == [{"w1": 1.0}, {"w1": 0.5, "modes": 7}]
    assert runs.evaluations(vdir)[6] == {"modes": 1}


# ----- the classifier ----------------------------------------------------------------------
def test_classifier_is_accurate_cached_and_judges_collapse(digits_root):
    folder = digits_folder(digits_root)
    path = classifier.classifier_path(folder)
    assert path.endswith("classifier_r16.keras") and os.path.isfile(path)
    mtime = os.path.getmtime(path)
    judge = classifier.ClassifierJudge(folder)
    assert os.path.getmtime(path) == mtime  # loaded, not retrained
    assert judge.info["accuracy"] >= 0.95 and judge.info["held_out"] == 359

    images, labels = reference.read_images(folder, with_labels=True)
    real, extras = judge.evaluate(images[:1000])
    assert real["classes"] == 10 and real["confident"] > 0.9 and real["cfid"] < 15
    assert sum(extras["class_histogram"]) == pytest.approx(1.0, abs=1e-3)
    collapsed, extras = judge.evaluate(images[labels < 3][:500])
    assert collapsed["classes"] == 3 and collapsed["cfid"] > 10 * real["cfid"]
    assert np.count_nonzero(extras["class_histogram"]) <= 4
    noise = (np.random.default_rng(0).random((500, 16, 16, 1)) * 255).astype(np.uint8)
    assert judge.evaluate(noise)[0]["confident"] < 0.5


def test_the_classifier_judges_every_sample_asked_for(digits_root):
    # More samples than a training evaluation's 1,000, and not a multiple of the generating chunk.
    import keras

    from wgan import visualize
    from wgan.data import float_to_uint8

    hp = tiny_hp(toy=False)
    folder = digits_folder(digits_root)
    keras.utils.set_random_seed(0)
    generator = keras.Sequential([keras.Input((hp.z_dim,)), keras.layers.Dense(256, activation="tanh"),
                                  keras.layers.Reshape((16, 16, 1))])
    evaluator = evaluation.Evaluator(hp, evaluation.CLASSIFIER_METRICS, 1234, 0, folder)
    result = evaluator(generator)
    assert {result.about[name]["n_fake"] for name in evaluation.CLASSIFIER_METRICS} == {1234}
    images = float_to_uint8(visualize.generate(generator, evaluator.generator_inputs()))
    expected, extras = evaluator.judge.evaluate(images)
    assert len(images) == 1234
    assert result.scalars["cfid"] == pytest.approx(expected["cfid"], rel=1e-6)
    assert result.scalars["confident"] == pytest.approx(expected["confident"])
    assert result.extras["class_histogram"] == pytest.approx(extras["class_histogram"])


def test_classifier_refuses_records_without_labels(tmp_path):
    rng = np.random.default_rng(0)
    images = (rng.random((40, 8, 8)) * 255).astype(np.uint8)
    folder = data.build_records("mnist", resize=8, crop=None, output_dir=str(tmp_path), workers=1, progress=False,
                                arrays=(images, None))
    with pytest.raises(DataError, match="has no labels"):
        classifier.train_classifier(folder)


# ----- which metrics apply -----------------------------------------------------------------
def test_metric_choice_per_data():
    assert evaluation.available_metrics(tiny_hp()) == ("modes", "hq", "w1")
    swiss = tiny_hp(data={"name": "swissroll", "crop": None, "resize": None, "channels": 0})
    assert evaluation.available_metrics(swiss) == ("w1",)
    digits = tiny_hp(toy=False)
    assert evaluation.default_metrics(digits, extractor_configured=False) == ("cfid", "classes", "confident")
    cifar = config.resolve("wgan-gp", "cifar10")
    assert evaluation.default_metrics(cifar, extractor_configured=False) == ()
    assert evaluation.default_metrics(cifar, extractor_configured=True) == ("fid", "kid", "is")
    assert evaluation.default_metrics(cifar, True, "keras_inception") == ("fid", "kid")
    assert evaluation.parse_metrics("kid, fid,kid", digits) == ("kid", "fid")
    with pytest.raises(ConfigError, match="modes cannot be computed for digits; choose from cfid"):
        evaluation.parse_metrics("modes", digits)


def test_image_data_without_an_extractor_skips_evaluation_with_a_log_line(monkeypatch, caplog):
    monkeypatch.setattr(extractors, "configured_extractor", lambda: None)
    hp = config.resolve("wgan-gp", "cifar10", overrides=[("eval_every", 5)])
    with caplog.at_level("INFO"):
        assert evaluation.for_training(hp, "/nonexistent") is None
    assert "skipping evaluation" in caplog.text and evaluation.for_training(tiny_hp(), "/x") is None  # eval_every 0


def test_fid_and_kid_of_generated_digits_with_random_features(digits_root):
    hp = tiny_hp(toy=False)
    evaluator = evaluation.make_evaluator(hp, digits_root, metrics=("fid", "kid", "classes"), num=200,
                                          extractor="random")
    generator = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(256, activation="tanh"),
                                     tf.keras.layers.Reshape((16, 16, 1))])
    result = evaluator(generator)
    assert set(result.scalars) == {"fid_random_n200_r1797", "kid_random_n200_r1797", "kid_std_random_n200_r1797",
                                   "classes"}
    assert result.scalars["fid_random_n200_r1797"] > 1.0 and result.scalars["kid_random_n200_r1797"] > 0
    assert result.about["fid_random_n200_r1797"]["comparable"] is False and result.about["classes"]["n_fake"] == 200
    assert glob.glob(os.path.join(digits_folder(digits_root), "fid_stats_random_conv64-s0_n1797.npz"))


# ----- during training ---------------------------------------------------------------------
def test_training_logs_evaluations_and_stores_them_with_snapshots(tmp_path):
    hp = tiny_hp(eval_every=2)
    _, vdir, hp, lock, _ = runs.open_run(str(tmp_path), hp)
    with lock:
        loop.train(hp, vdir, 4, progress=False)
    snapshot = runs.list_snapshots(vdir)[0]
    assert snapshot["step"] == 4 and set(snapshot["metrics"]) == {"modes", "hq", "w1"}
    records = [r for r in runs.read_jsonl(os.path.join(vdir, runs.METRICS_FILE)) if "eval/w1" in r]
    assert [r["step"] for r in records] == [2, 4] and len(records[0]["eval/mode_counts"]) == 8
    tags = set()
    for path in glob.glob(os.path.join(vdir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(v.tag for v in event.summary.value)
    assert {"eval/modes", "eval/hq", "eval/w1"} <= tags


# ----- bin/evaluate.py ---------------------------------------------------------------------
def run_cli(script, *args, cwd):
    return subprocess.run([sys.executable, os.path.join(REPO, "bin", script), *args], capture_output=True,
                          text=True, env=ENV, cwd=str(cwd), timeout=300)


def test_evaluate_command_stores_metrics_that_list_shows(tmp_path):
    hp = tiny_hp()
    _, vdir, hp, lock, _ = runs.open_run(str(tmp_path / "checkpoint"), hp)
    with lock:
        loop.train(hp, vdir, 5, progress=False)  # snapshot at 4, newest checkpoint 5
    common = ["-m", "wgan-gp", "--data", "8gaussians", "--hparams", str(tmp_path / "hp.json")]
    (tmp_path / "hp.json").write_text(hp.to_json())
    proc = run_cli("evaluate.py", *common, "-v", "1.0", "--num", "300", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert printed["step"] == 4 and {"modes", "hq", "w1", "mode_counts"} <= set(printed)
    assert runs.evaluations(vdir)[4]["w1"] == pytest.approx(printed["w1"])

    listed = run_cli("generate_img.py", *common, "--list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr[-2000:]
    line = next(text for text in listed.stdout.splitlines() if "step       4" in text)
    assert f"w1={printed['w1']:.4g}" in line and "modes=" in line and "hq=" in line

    bad = run_cli("evaluate.py", *common, "-v", "1", "--metrics", "fid", cwd=tmp_path)
    assert bad.returncode == 1 and bad.stderr.strip().splitlines()[-1].startswith("error: --metrics 'fid'")
