"""The metric registry (wgan.metrics.registry) and the metric that proves it: k-NN precision and recall."""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import tiny_hparams
from wgan.errors import ConfigError
from wgan.metrics import precision_recall, registry

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")


def two_clusters(n=200, seed=0, far=100.0):
    """Real features [2 n, 8]: n rows around the origin, then n rows ``far`` away on the first axis."""
    rng = np.random.default_rng(seed)
    near, away = rng.standard_normal((n, 8)), rng.standard_normal((n, 8))
    away[:, 0] += far
    return np.concatenate([near, away])


# ----- precision and recall: known answers --------------------------------------------------------
def test_knn_radius_is_the_distance_to_the_kth_other_row():
    line = np.arange(10, dtype=float)[:, None]  # 0, 1, ..., 9 on a line
    assert precision_recall.knn_radii(line, k=1) == pytest.approx(np.ones(10))
    radii = precision_recall.knn_radii(line, k=3)
    # The row itself is not its own neighbour: 0's third neighbour is 3, 5's is 2 (4, 6, then 3 or 7).
    assert radii[0] == pytest.approx(3.0) and radii[5] == pytest.approx(2.0) and radii[9] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="more than 3 rows"):
        precision_recall.knn_radii(line[:3], k=3)


def test_samples_that_are_real_rows_have_precision_one():
    real = two_clusters()
    fake = real[::3]
    precision, recall = precision_recall.precision_recall(real, fake)
    assert precision == 1.0
    assert 0.0 < recall <= 1.0


def test_samples_of_one_of_two_clusters_have_recall_one_half_and_precision_one():
    real = two_clusters()
    precision, recall = precision_recall.precision_recall(real, real[:200])
    assert precision == 1.0 and recall == 0.5
    # Fresh samples of the first cluster: realistic (nearly all inside), half the data missed.
    fresh = np.random.default_rng(1).standard_normal((200, 8))
    precision, recall = precision_recall.precision_recall(real, fresh)
    assert precision > 0.85 and 0.4 < recall <= 0.5


def test_samples_far_from_the_data_have_precision_and_recall_zero():
    real = two_clusters()
    precision, recall = precision_recall.precision_recall(real, real + 1000.0)
    assert precision == 0.0 and recall == 0.0


def test_batches_do_not_change_the_answer():
    real, fake = two_clusters(seed=2), np.random.default_rng(3).standard_normal((150, 8)) * 2
    assert precision_recall.precision_recall(real, fake, batch=7) == precision_recall.precision_recall(real, fake)


def test_evaluation_scores_cut_both_sides_to_equal_counts():
    real = two_clusters()
    reference = type("Reference", (), {"features": real, "count": 60000})()
    data = registry.FeatureData(num=50000, rows=real[:150], reference=reference)
    precision, recall = precision_recall.precision_score(data), precision_recall.recall_score(data)
    # 150 rows each: the generated rows are the first 150 real ones, which are also the real side.
    assert (precision.value, recall.value) == (1.0, 1.0)
    assert (precision.n_fake, precision.n_real, recall.n_fake, recall.n_real) == (150, 150, 150, 150)


# ----- the registry ----------------------------------------------------------------------------------
def test_precision_and_recall_are_registered_higher_is_better_on_request_and_never_primary():
    for name in ("precision", "recall"):
        metric = registry.get(name)
        assert metric.group == registry.FEATURE and metric.higher_is_better and metric.primary is None
        assert not metric.by_default and metric.series and registry.ROWS in metric.needs
        assert registry.is_better(name, 0.9, 0.8) and not registry.is_better(name, 0.7, 0.8)
    assert registry.get("precision").computation() is precision_recall.precision_score
    assert registry.get("recall").computation() is precision_recall.recall_score


def test_every_computation_the_registry_names_exists():
    for name in registry.names():
        assert callable(registry.get(name).computation()), name


def test_an_unknown_name_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown metric 'fjd'; the metrics are modes, hq, w1, cfid, classes, "
                                          "confident, agreement, icfid, fid, kid, is, precision, recall"):
        registry.get("fjd")
    assert registry.find("fjd") is None


def test_directions_and_primary_metrics_are_those_of_before_the_registry():
    # The tables wgan.metrics.evaluation kept before the registry (HIGHER_IS_BETTER, PRIMARY_METRICS).
    before = {"modes": True, "hq": True, "w1": False, "cfid": False, "classes": True, "confident": True,
              "fid": False, "kid": False, "is": True}
    assert {name: registry.get(name).higher_is_better for name in before} == before
    assert registry.primary_metrics() == ("fid", "cfid", "ffid", "w1")  # ffid: unlabelled folders, since 2026-12-08
    assert registry.primary_metric({"modes": 8, "hq": 0.9, "w1": 0.1}) == "w1"
    assert registry.primary_metric({"cfid": 9.0, "classes": 10, "confident": 0.8}) == "cfid"
    assert registry.primary_metric({"fid": 30.0, "cfid": 9.0}) == "fid"
    # Stored series names count as their metric: a folder judged in Inception features gets a best snapshot.
    assert registry.primary_metric({"fid_inception2015_n1k_r10k": 30.0, "cfid": 9.0}) == "fid_inception2015_n1k_r10k"
    assert registry.primary_metric({"kid_inception2015_n1k_r10k": 0.1, "cfid": 9.0}) == "cfid"
    assert registry.primary_metric({"classes": 10}) is None and registry.primary_metric({}) is None
    assert registry.is_better("cfid", 9.0, 10.0) and not registry.is_better("cfid", 11.0, 10.0)
    assert registry.is_better("modes", 8, 7) and registry.is_better("w1", 5.0, None)
    assert not registry.is_better("w1", 0.2, 0.2)


def test_data_kinds_get_the_metrics_of_before_plus_precision_and_recall_on_request():
    assert registry.metrics_for(registry.TOY_WITH_MODES) == ("modes", "hq", "w1")
    assert registry.metrics_for(registry.TOY_POINTS, asked=True) == ("w1",)
    assert registry.metrics_for(registry.IMAGE_DATA, labelled=True) == ("cfid", "classes", "confident", "fid", "kid")
    assert registry.metrics_for(registry.IMAGE_DATA, probabilities=True) == ("fid", "kid", "is")
    assert registry.metrics_for(registry.IMAGE_DATA, asked=True) == ("fid", "kid", "precision", "recall", "swd",
                                                                     "ffid")
    with pytest.raises(ValueError, match="data kind 'audio'"):
        registry.metrics_for("audio")


def test_series_names_and_base_metrics():
    assert registry.series_name("precision", "inception2015", 2000, 2000) == "precision_inception2015_n2k_r2k"
    assert registry.base_metric("precision_inception2015_n2k_r2k") == "precision"
    assert registry.base_metric("recall_random_n200_rtest200") == "recall"
    assert registry.base_metric("kid_std_inception2015_n40_r60") == "kid_std"
    assert registry.base_metric("is_std_inception2015_n50k") == "is_std"
    assert registry.base_metric("fid_keras_inception_n50k_rstats") == "fid"
    assert registry.base_metric("cfid") == "cfid" and registry.base_metric("raw_cfid") == "raw_cfid"
    assert registry.higher_is_better("fid_inception2015_n1k_r10k") is False


def test_the_units_health_watches_come_from_the_registry():
    assert registry.coverage_units() == ("modes", "classes")
    assert registry.coverage("modes") == "modes" and registry.quality("modes") == "hq"
    assert registry.coverage("classes") == "classes" and registry.quality("classes") == "confident"
    assert registry.get("hq").title == "high-quality share" and registry.get("confident").title == "confident share"


def test_registering_a_name_twice_fails():
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(registry.get("fid"))


def test_importing_the_registry_and_precision_recall_does_not_import_tensorflow():
    code = ("import sys, wgan.metrics.registry, wgan.metrics.precision_recall; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


# ----- the consumers ----------------------------------------------------------------------------------
def test_evaluation_accepts_precision_and_recall_where_fid_and_kid_are_accepted():
    from wgan.metrics import evaluation

    digits = tiny_hparams("wgan-gp", "digits")
    assert evaluation.parse_metrics("precision, recall", digits, "random") == ("precision", "recall")
    assert "precision" not in evaluation.default_metrics(digits, extractor_configured=True)
    assert evaluation.available_metrics(digits, asked=True)[-4:] == ("precision", "recall", "swd", "ffid")
    with pytest.raises(ConfigError, match="precision cannot be computed for 8gaussians; choose from modes, hq, w1$"):
        evaluation.parse_metrics("precision", tiny_hparams("wgan-gp", "8gaussians"))


def test_every_metric_a_toy_evaluation_produces_is_registered():
    import tensorflow as tf

    from wgan.metrics import evaluation

    hp = tiny_hparams("wgan-gp", "8gaussians", z_dim=4)
    evaluator = evaluation.make_evaluator(hp, None, num=300)
    generator = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    result = evaluator(generator)
    assert list(result.scalars) == ["modes", "hq", "w1"]
    assert all(registry.find(registry.base_metric(name)) for name in result.scalars)


def test_an_image_evaluation_computes_precision_and_recall_in_the_extractors_features(tmp_path):
    import tensorflow as tf

    from wgan import data
    from wgan.metrics import evaluation

    root = str(tmp_path)
    data.build_records("digits", resize=16, crop=None, output_dir=root, workers=1, progress=False)
    hp = tiny_hparams("wgan-gp", "digits", z_dim=4)
    evaluator = evaluation.make_evaluator(hp, root, metrics=("recall", "fid", "precision"), num=120,
                                          extractor="random")
    assert evaluator.judge is None  # no classifier metric asked for: no classifier trained
    generator = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(256, activation="tanh"),
                                     tf.keras.layers.Reshape((16, 16, 1))])
    result = evaluator(generator)
    # Registry order, whatever the order asked; precision and recall name the rows they used.
    assert list(result.scalars) == ["fid_random_n120_r1797", "precision_random_n120_r120",
                                    "recall_random_n120_r120"]
    for name in ("precision_random_n120_r120", "recall_random_n120_r120"):
        assert 0.0 <= result.scalars[name] <= 1.0
        assert result.about[name]["metric"] == registry.base_metric(name)
        assert result.about[name]["n_fake"] == result.about[name]["n_real"] == 120
    assert all(registry.find(registry.base_metric(name)) for name in result.scalars)


def test_evaluate_help_lists_precision_and_recall():
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bin", "evaluate.py"), "--help"], capture_output=True,
                          text=True, env=ENV, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = " ".join(proc.stdout.split())
    assert "confident, agreement, icfid, fid, kid, is, precision, recall, swd, ffid." in text
    assert "fid,kid,is for images without" in text
