"""The 2015 Inception graph as FID/KID/IS extractor, through a synthetic GraphDef with the real graph's names.

The real ``classify_image_graph_def.pb`` cannot be downloaded in tests. ``fake_graph`` builds
one with the same tensor names and shapes on the path the reference code uses:
``DecodeJpeg`` -> ``Cast`` -> ``ExpandDims`` [1, H, W, 3] -> ``ResizeBilinear`` (299 x 299)
-> ``Sub`` (- 128) -> ``Mul`` (/ 128) -> a small network -> ``pool_3`` [1, 1, 1, 2048] ->
``pool_3/_reshape`` [1, 2048] (the frozen batch of 1) -> ``softmax/logits/MatMul`` with
weights [2048, 1008] -> bias -> ``softmax``. So loading, the graph's own preprocessing, the
freed batch dimension, the feature and softmax shapes are exercised as with the real file.
The bias differs per class, so adding it or leaving it out shows in the probabilities. With
``tfgan=True`` it is random and the logits are also named ``logits``, as in TF-GAN's
``inceptionv1_for_inception_score.pb``, which TF-GAN feeds at ``Mul:0``.
"""

import json
import os
import subprocess
import sys
import tarfile
import urllib.error

import numpy as np
import pytest
import tensorflow as tf

from wgan import config, data
from wgan.metrics import evaluation
from wgan.util import files
from wgan.errors import ConfigError, DataError
from wgan.metrics import extractors, frechet, inception2015, inception_score, reference

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POOL_GRID = 13  # 299 = 13 * 23


BN_EPSILON = 0.001


def fake_graph(path, seed=0, tfgan=False):
    """Write a synthetic Inception GraphDef to ``path``.

    Returns (graph_def, weights): weights has w1 [3, 2048], the batch norm's mean, variance,
    beta, gamma [2048] and w2 [2048, 1008]. Like the real file, the 1x1 convolution is
    followed by a ``BatchNormWithGlobalNormalization`` node (an op TensorFlow refuses from
    GraphDef version 9 on) and the GraphDef's producer version is old (8).
    """
    rng = np.random.default_rng(seed)
    weights = {"w1": rng.standard_normal((3, 2048)).astype(np.float32),
               "mean": (rng.standard_normal(2048) * 0.1).astype(np.float32),
               "variance": rng.uniform(0.5, 2.0, 2048).astype(np.float32),
               "beta": (rng.standard_normal(2048) * 0.1).astype(np.float32),
               "gamma": rng.uniform(0.5, 1.5, 2048).astype(np.float32),
               "w2": (rng.standard_normal((2048, 1008)) * 0.05).astype(np.float32),
               # A bias that differs per class (a constant one would not change any softmax), so a
               # test can tell whether it was added: TTUR's from -2 to 2, TF-GAN's random.
               "b2": (rng.standard_normal(1008) if tfgan else np.linspace(-2.0, 2.0, 1008)).astype(np.float32)}
    graph = tf.Graph()
    with graph.as_default():
        contents = tf.compat.v1.placeholder(tf.string, [], name="DecodeJpeg/contents")
        decoded = tf.io.decode_jpeg(contents, channels=3, name="DecodeJpeg")
        expanded = tf.expand_dims(tf.cast(decoded, tf.float32, name="Cast"), 0, name="ExpandDims")
        resized = tf.compat.v1.image.resize_bilinear(expanded, tf.constant([299, 299], name="ResizeBilinear/size"),
                                                     name="ResizeBilinear")
        normalized = tf.multiply(tf.subtract(resized, tf.constant(128.0, name="Sub/y"), name="Sub"),
                                 tf.constant(1 / 128, name="Mul/y"), name="Mul")
        pooled = tf.nn.avg_pool2d(normalized, 299 // POOL_GRID, 299 // POOL_GRID, "VALID")  # [1, 13, 13, 3]
        conv = tf.nn.conv2d(pooled, tf.constant(weights["w1"][None, None]), 1, "VALID", name="conv/Conv2D")
        for key in ("mean", "variance", "beta", "gamma"):
            tf.constant(weights[key], name=f"conv/batchnorm/{key}")
        normed = tf.identity(conv, name="conv/batchnorm")  # becomes the old batch-norm op below
        hidden = tf.nn.relu(normed, name="conv")
        pool3 = tf.nn.avg_pool2d(hidden, POOL_GRID, 1, "VALID", name="pool_3")
        # TF-GAN's file serves batches (its run_inception maps over them), so its logits take any batch.
        flat = tf.reshape(pool3, [-1 if tfgan else 1, 2048], name="pool_3/_reshape")
        logits = tf.nn.bias_add(tf.matmul(flat, tf.constant(weights["w2"], name="softmax/weights"),
                                          name="softmax/logits/MatMul"),
                                tf.constant(weights["b2"], name="softmax/biases"), name="softmax/logits")
        if tfgan:
            logits = tf.identity(logits, name="logits")
        tf.nn.softmax(logits, name="softmax")
    assert pool3.shape == (1, 1, 1, 2048) and expanded.shape.as_list() == [1, None, None, 3]
    graph_def = graph.as_graph_def(add_shapes=True)  # shape hints with the frozen batch of 1, as frozen graphs have
    pool_hint = next(n for n in graph_def.node if n.name == "pool_3").attr["_output_shapes"].list.shape[0]
    assert [d.size for d in pool_hint.dim] == [1, 1, 1, 2048]
    node = next(n for n in graph_def.node if n.name == "conv/batchnorm")
    node.op = inception2015.OLD_BATCH_NORM
    del node.input[:]
    node.input.extend(["conv/Conv2D"] + [f"conv/batchnorm/{k}" for k in ("mean", "variance", "beta", "gamma")])
    node.attr["variance_epsilon"].f = BN_EPSILON
    node.attr["scale_after_normalization"].b = True
    graph_def.versions.producer = 8
    with open(path, "wb") as handle:
        handle.write(graph_def.SerializeToString())
    return graph_def, weights


def run_in_session(graph_def, tensor, feeds):
    """The reference way: the original GraphDef (old op and all) imported into a TF1 graph and run in a session."""
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        return session.run(tensor, feeds)


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("graph") / inception2015.GRAPH_FILE)
    graph_def, weights = fake_graph(path)
    return path, graph_def, weights


@pytest.fixture
def no_graph_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv(inception2015.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(inception2015.GRAPH_ENV, raising=False)
    monkeypatch.delenv(inception2015.TFGAN_GRAPH.env, raising=False)
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def extractor(graph_file):
    return inception2015.Inception2015(graph_file[0], download=False, batch_size=3)


def images(n, side=16, channels=3, seed=0):
    return (np.random.default_rng(seed).random((n, side, side, channels)) * 255).astype(np.uint8)


# ----- loading -----------------------------------------------------------------------------
def test_graph_is_found_by_path_variable_cache_and_archive(graph_file, no_graph_anywhere, monkeypatch, tmp_path):
    path = graph_file[0]
    assert inception2015.locate_graph() is None
    assert inception2015.locate_graph(path) == path
    monkeypatch.setenv(inception2015.GRAPH_ENV, path)
    assert inception2015.locate_graph() == path
    monkeypatch.delenv(inception2015.GRAPH_ENV)
    # The .tgz as the user downloads it, dropped into the cache folder: the graph is extracted from it.
    os.makedirs(no_graph_anywhere)
    with tarfile.open(no_graph_anywhere / inception2015.ARCHIVE_FILE, "w:gz") as tar:
        tar.add(path, arcname=inception2015.GRAPH_FILE)
    found = inception2015.locate_graph()
    assert found == str(no_graph_anywhere / inception2015.GRAPH_FILE)
    assert open(found, "rb").read() == open(path, "rb").read()
    assert not [f for f in os.listdir(no_graph_anywhere) if ".tmp-" in f]
    assert inception2015.locate_graph() == found  # now served from the cache without the archive


def test_a_given_path_that_does_not_exist_is_an_error_not_a_fallback(no_graph_anywhere, monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="--inception_graph .*missing.pb does not exist"):
        inception2015.locate_graph(str(tmp_path / "missing.pb"))
    monkeypatch.setenv(inception2015.GRAPH_ENV, str(tmp_path / "gone.pb"))
    with pytest.raises(ConfigError, match=r"\$WGAN_INCEPTION_GRAPH .*gone.pb does not exist"):
        inception2015.locate_graph()


def test_a_missing_graph_says_where_to_get_it_and_where_to_put_it(no_graph_anywhere, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", offline)  # nothing is downloaded, ever
    with pytest.raises(DataError) as caught:
        extractors.make_extractor("inception2015")
    message = str(caught.value)
    assert "\n" not in message and "no route to host" in message
    assert inception2015.DATA_URL in message and str(no_graph_anywhere) in message
    assert "--inception_graph" in message and "WGAN_INCEPTION_GRAPH" in message
    assert not os.path.exists(no_graph_anywhere / inception2015.ARCHIVE_FILE)  # no partial download left behind
    assert not [f for f in os.listdir(no_graph_anywhere) if ".tmp-" in f]
    with pytest.raises(DataError, match="is not in"):
        inception2015.find_graph(download=False)


def test_a_file_that_is_not_the_graph_is_refused(tmp_path, no_graph_anywhere):
    junk = tmp_path / "junk.pb"
    junk.write_bytes(b"\x00\x01 not a protobuf \xff" * 10)
    with pytest.raises(DataError, match="junk.pb is not"):
        inception2015.Inception2015(str(junk), download=False)
    other = tf.Graph()
    with other.as_default():
        tf.constant(1.0, name="pool_3")
    wrong = tmp_path / "other.pb"
    wrong.write_bytes(other.as_graph_def().SerializeToString())
    with pytest.raises(DataError, match="no node ExpandDims, softmax/logits/MatMul"):
        inception2015.Inception2015(str(wrong), download=False)
    archive = tmp_path / "inception-2015-12-05.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(junk, arcname="README")
    with pytest.raises(DataError, match="no readable classify_image_graph_def.pb"):
        inception2015.locate_graph(str(archive))


def test_extractor_name_carries_the_graph_digest(extractor, graph_file, tmp_path):
    assert extractor.name == f"inception2015-{files.short_digest(graph_file[0])}"
    assert extractor.label == "inception2015" and extractor.comparable and extractor.has_probabilities
    other = str(tmp_path / "other.pb")
    fake_graph(other, seed=1)
    assert inception2015.Inception2015(other, download=False).name != extractor.name


# ----- features: the graph's own preprocessing, batching, shapes ----------------------------
def test_features_follow_the_graphs_resize_normalization_and_batch_norm(extractor, graph_file):
    """A constant image v stays v through the resize; the graph maps it to relu(bn(((v - 128) / 128) 1 @ w1))."""
    w = graph_file[2]
    values = np.array([0, 64, 128, 200, 255])
    constant = np.broadcast_to(values[:, None, None, None], (5, 8, 8, 3)).astype(np.uint8)
    conv = ((values - 128) / 128)[:, None] * w["w1"].sum(axis=0)[None]
    normed = (conv - w["mean"]) / np.sqrt(w["variance"] + BN_EPSILON) * w["gamma"] + w["beta"]
    expected = np.maximum(normed, 0)
    features = extractor(constant)
    assert features.shape == (5, 2048) and features.dtype == np.float64
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-4)
    # Any input size: the graph resizes to 299 itself, so a 40x40 constant image gives the same features.
    np.testing.assert_allclose(extractor(np.full((1, 40, 40, 3), 200, np.uint8)), expected[3:4], rtol=1e-4, atol=1e-4)


def test_the_old_batch_norm_op_fails_in_a_tf2_function_and_the_rewrite_matches_the_session(graph_file):
    graph_def = graph_file[1]
    assert inception2015.OLD_BATCH_NORM in {n.op for n in graph_def.node}

    def unmodified(images):
        return tf.compat.v1.import_graph_def(graph_def, input_map={"ExpandDims:0": images},
                                             return_elements=["pool_3:0"], name="x")[0]

    function = tf.compat.v1.wrap_function(unmodified, [tf.TensorSpec([None, None, None, 3], tf.float32)])
    batch = images(2, side=12).astype(np.float32)
    with pytest.raises(tf.errors.UnimplementedError, match="BatchNormWithGlobalNormalization is not available"):
        function(tf.constant(batch))  # why the rewrite exists
    rewritten = inception2015.replace_old_batch_norm(graph_def)
    assert inception2015.OLD_BATCH_NORM not in {n.op for n in rewritten.node}
    assert {n.name for n in graph_def.node} <= {n.name for n in rewritten.node}  # every name still there
    reference_pool = run_in_session(graph_def, "pool_3:0", {"ExpandDims:0": batch[:1]})
    ours = inception2015.wrap_graph(graph_def)(tf.constant(batch[:1]))[0].numpy()
    np.testing.assert_allclose(ours, reference_pool.reshape(1, -1), rtol=1e-6, atol=1e-6)


def test_batched_features_equal_the_reference_fed_one_image_at_a_time(extractor, graph_file):
    """improved-gan runs ``ExpandDims:0`` with one image per call; batches of 3 over 7 images must agree."""
    batch = images(7, side=20)
    expected = np.concatenate([run_in_session(graph_file[1], "pool_3:0", {"ExpandDims:0": batch[i:i + 1].astype(
        np.float32)}).reshape(1, -1) for i in range(len(batch))])
    np.testing.assert_allclose(extractor(batch), expected, rtol=1e-5, atol=1e-5)
    assert extractor(batch[:0]).shape == (0, 2048)


def test_grey_images_are_tiled_and_floats_refused(extractor):
    grey = images(4, channels=1)
    np.testing.assert_allclose(extractor(grey), extractor(np.repeat(grey, 3, axis=-1)), rtol=1e-6)
    with pytest.raises(TypeError, match="uint8"):
        extractor(grey.astype(np.float32))


def test_softmax_is_improved_gans_pool3_times_weights_without_bias(extractor, graph_file):
    w2 = graph_file[2]["w2"]
    features, probabilities = extractor.features_and_probabilities(images(5))
    assert probabilities.shape == (5, 1008)
    logits = features @ w2.astype(np.float64)

    def softmax(values):
        exp = np.exp(values - values.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    # The fake graph's bias differs per class, so adding it would fail the comparison below.
    biased = softmax(logits + graph_file[2]["b2"].astype(np.float64))
    assert not np.allclose(biased, softmax(logits), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(probabilities, softmax(logits), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


# ----- TF-GAN's file of the same network (google/compare_gan v1, Lucic et al. 2018) ------------
TFGAN = inception2015.TFGAN_GRAPH


@pytest.fixture(scope="module")
def tfgan_graph_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("tfgan") / TFGAN.member)
    graph_def, weights = fake_graph(path, seed=2, tfgan=True)
    return path, graph_def, weights


def tf1_bilinear(images, size):
    """TF1 ``resize_bilinear`` (align_corners=False, no half-pixel centres) written out: source ``dst * in / out``."""
    def axis(n):
        source = np.arange(size) * (n / size)
        low = np.floor(source).astype(int)
        return low, np.minimum(low + 1, n - 1), source - low

    (y0, y1, dy), (x0, x1, dx) = axis(images.shape[1]), axis(images.shape[2])
    rows = images[:, y0] * (1 - dy)[None, :, None, None] + images[:, y1] * dy[None, :, None, None]
    return rows[:, :, x0] * (1 - dx)[None, None, :, None] + rows[:, :, x1] * dx[None, None, :, None]


def test_tfgan_preprocessing_is_the_tf1_bilinear_resize_then_minus_128_over_128():
    batch = images(2, side=10).astype(np.float64)
    ours = inception2015.tfgan_preprocess(tf.constant(batch, tf.float32)).numpy()
    assert ours.shape == (2, 299, 299, 3)
    np.testing.assert_allclose(ours, (tf1_bilinear(batch, 299) - 128) / 128, atol=1e-5)
    # Not tf.image.resize, whose half-pixel centres move every value.
    other = (tf.image.resize(batch, (299, 299), method="bilinear").numpy() - 128) / 128
    assert np.abs(ours - other).max() > 0.05


def test_tfgan_extractor_feeds_mul_and_reads_logits_with_their_bias(tfgan_graph_file):
    path, graph_def, weights = tfgan_graph_file
    extractor = inception2015.Inception2015(path, download=False, batch_size=3, source=TFGAN)
    assert extractor.label == "inception2015_tfgan" and extractor.name == f"inception2015_tfgan-{files.short_digest(path)}"
    batch = images(4, side=10)
    fed = ((tf1_bilinear(batch.astype(np.float64), 299) - 128) / 128).astype(np.float32)
    # The reference: TF-GAN's run_inception, the original graph in a TF1 session with Mul:0 fed (one image: the
    # frozen batch of 1).
    pool, softmax = zip(*[run_in_session(graph_def, ["pool_3:0", "softmax:0"], {"Mul:0": fed[i:i + 1]})
                          for i in range(len(batch))])
    features, probabilities = extractor.features_and_probabilities(batch)
    np.testing.assert_allclose(features, np.concatenate(pool).reshape(4, -1), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(probabilities, np.concatenate(softmax), rtol=1e-3, atol=1e-6)
    unbiased = np.exp(features @ weights["w2"].astype(np.float64))
    assert not np.allclose(probabilities, unbiased / unbiased.sum(axis=1, keepdims=True), atol=1e-4)  # the bias counts


def test_both_files_read_the_same_weights_to_the_same_features(tfgan_graph_file):
    """The two protocols differ only in the file: TTUR's graph resizes inside with the same TF1 op."""
    path = tfgan_graph_file[0]
    batch = images(5, side=12)
    ttur = inception2015.Inception2015(path, download=False)
    tfgan = inception2015.Inception2015(path, download=False, source=TFGAN)
    np.testing.assert_allclose(ttur(batch), tfgan(batch), rtol=1e-5, atol=1e-5)


def test_the_tfgan_source_has_its_own_file_variable_archive_and_message(graph_file, tfgan_graph_file,
                                                                       no_graph_anywhere, monkeypatch):
    with pytest.raises(DataError, match="is not inceptionv1_for_inception_score.pb.*no node logits"):
        inception2015.Inception2015(graph_file[0], download=False, source=TFGAN)  # TTUR's file has no 'logits'
    monkeypatch.setenv(TFGAN.env, tfgan_graph_file[0])
    assert inception2015.locate_graph(source=TFGAN) == tfgan_graph_file[0] and inception2015.locate_graph() is None
    monkeypatch.delenv(TFGAN.env)
    os.makedirs(no_graph_anywhere)
    with tarfile.open(no_graph_anywhere / TFGAN.archive, "w:gz") as tar:
        tar.add(tfgan_graph_file[0], arcname=TFGAN.member)
    assert inception2015.locate_graph(source=TFGAN) == str(no_graph_anywhere / TFGAN.member)
    os.remove(no_graph_anywhere / TFGAN.member)
    os.remove(no_graph_anywhere / TFGAN.archive)
    with pytest.raises(DataError) as caught:
        inception2015.find_graph(download=False, source=TFGAN)
    message = str(caught.value)
    assert TFGAN.url in message and "$WGAN_TFGAN_INCEPTION_GRAPH" in message and str(no_graph_anywhere) in message


def test_the_registry_builds_the_tfgan_extractor_and_training_finds_it(tfgan_graph_file, no_graph_anywhere,
                                                                      monkeypatch):
    entry = extractors.extractor_entry("inception2015_tfgan")
    assert entry.comparable and entry.has_probabilities
    assert not entry.configured(None, None, True) and entry.configured(None, tfgan_graph_file[0], False)
    built = extractors.make_extractor("inception2015_tfgan", inception_graph=tfgan_graph_file[0], download=False)
    name = evaluation.series_name("fid", built.label, 10000, 10000, "test")
    assert name == "fid_inception2015_tfgan_n10k_rtest10k" and evaluation.base_metric(name) == "fid"
    monkeypatch.setattr(extractors, "configured_inception_weights", lambda: None)
    assert extractors.configured_extractor() is None
    monkeypatch.setenv(TFGAN.env, tfgan_graph_file[0])
    assert entry.configured(None, None, True)
    assert extractors.configured_extractor() == ("inception2015_tfgan", {"inception_graph": tfgan_graph_file[0],
                                                                         "download": False})


# ----- the Inception Score arithmetic -------------------------------------------------------
def reference_inception_score(preds, splits=10):
    """improved-gan's get_inception_score arithmetic, written out for comparison."""
    scores = []
    for i in range(splits):
        part = preds[(i * preds.shape[0] // splits):((i + 1) * preds.shape[0] // splits), :]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return np.mean(scores), np.std(scores)


def test_inception_score_of_known_softmax_outputs():
    uniform = np.full((100, 1008), 1 / 1008)
    assert inception_score.inception_score(uniform) == pytest.approx((1.0, 0.0))
    # Confident and evenly spread over K classes in every split: exp(log K) = K (0 log 0 counted as 0).
    one_hot = np.eye(8)[np.arange(400) % 8]
    mean, std = inception_score.inception_score(one_hot)
    assert mean == pytest.approx(8.0) and std == pytest.approx(0.0, abs=1e-9)
    # Confident but collapsed onto one class: 1.
    assert inception_score.inception_score(np.eye(8)[np.zeros(50, int)])[0] == pytest.approx(1.0)


def test_inception_score_matches_the_reference_formula_in_uneven_batches():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((1234, 50)) * 3
    preds = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = reference_inception_score(preds)
    assert inception_score.inception_score(preds) == pytest.approx(expected, rel=1e-10)
    accumulator = inception_score.ScoreAccumulator(len(preds))
    for low, high in [(0, 7), (7, 300), (300, 301), (301, 1234)]:
        accumulator.add(preds[low:high])
    assert accumulator.result() == pytest.approx(expected, rel=1e-10)
    with pytest.raises(ValueError, match="at least 10 images"):
        inception_score.ScoreAccumulator(9)
    short = inception_score.ScoreAccumulator(20)
    short.add(preds[:5])
    with pytest.raises(ValueError, match="5 of the announced 20"):
        short.result()


def test_streamed_moments_equal_the_whole_array_statistics():
    rng = np.random.default_rng(4)
    features = rng.standard_normal((1000, 16)) * 0.1 + 50.0  # large mean, small spread: cancellation-prone
    accumulator = frechet.MomentAccumulator()
    for chunk in np.array_split(features, 7):
        accumulator.add(chunk)
    mu, sigma = accumulator.result()
    expected_mu, expected_sigma = frechet.gaussian_stats(features)
    np.testing.assert_allclose(mu, expected_mu, rtol=1e-12)
    np.testing.assert_allclose(sigma, expected_sigma, rtol=1e-8, atol=1e-14)


# ----- TTUR-format statistics ---------------------------------------------------------------
def test_ttur_npz_round_trip_and_bad_files(tmp_path):
    rng = np.random.default_rng(5)
    mu, a = rng.standard_normal(2048), rng.standard_normal((2048, 64))
    sigma = a @ a.T
    path = str(tmp_path / "fid_stats_mine.npz")
    reference.save_ttur_stats(path, mu, sigma, count=64)
    with np.load(path) as raw:  # what TTUR's fid.py reads: f['mu'][:], f['sigma'][:]
        np.testing.assert_array_equal(raw["mu"][:], mu)
        np.testing.assert_array_equal(raw["sigma"][:], sigma)
    loaded = reference.load_ttur_stats(path, dim=2048)
    np.testing.assert_array_equal(loaded[0], mu)
    np.testing.assert_array_equal(loaded[1], sigma)
    np.savez(tmp_path / "published.npz", mu=mu.astype(np.float32), sigma=sigma.astype(np.float32))  # TTUR's own layout
    assert reference.load_ttur_stats(str(tmp_path / "published.npz"))[1].dtype == np.float64

    np.savez(tmp_path / "nomu.npz", m=mu, sigma=sigma)
    with pytest.raises(DataError, match="nomu.npz: no key mu .*has m, sigma"):
        reference.load_ttur_stats(str(tmp_path / "nomu.npz"))
    with pytest.raises(DataError, match="statistics of 2048-d features, but the extractor gives 64-d"):
        reference.load_ttur_stats(path, dim=64)
    np.savez(tmp_path / "shapes.npz", mu=mu, sigma=sigma[:10])
    with pytest.raises(DataError, match=r"sigma \(10, 2048\)"):
        reference.load_ttur_stats(str(tmp_path / "shapes.npz"))
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="broken.npz is not a readable"):
        reference.load_ttur_stats(str(tmp_path / "broken.npz"))
    with pytest.raises(DataError, match="does not exist"):
        reference.load_ttur_stats(str(tmp_path / "absent.npz"))
    with pytest.raises(DataError, match="cannot write the statistics file .*no-such-folder"):
        reference.save_ttur_stats(str(tmp_path / "no-such-folder" / "x.npz"), mu, sigma)


# ----- reference statistics cached beside the records, and evaluation ----------------------
def build_cifar_like(root, seed):
    rng = np.random.default_rng(seed)
    return data.build_records("cifar10", resize=8, crop=None, output_dir=root, shards=2, workers=1, progress=False,
                              arrays=((rng.random((60, 8, 8, 3)) * 255).astype(np.uint8), None))


def test_reference_statistics_are_cached_per_count_and_keyed_by_the_manifest(extractor, tmp_path, monkeypatch):
    folder = build_cifar_like(str(tmp_path), seed=0)
    calls = []
    original = inception2015.Inception2015.features_and_probabilities
    monkeypatch.setattr(inception2015.Inception2015, "features_and_probabilities",
                        lambda self, x: calls.append(len(x)) or original(self, x))
    monkeypatch.setattr(reference, "READ_BATCH", 25)  # streams: the images come in three batches
    first = reference.reference_stats(folder, extractor)
    assert calls == [25, 25, 10] and first.count == 60 and first.mu.shape == (2048,)
    path = reference.stats_path(folder, extractor.name, 60)
    assert os.path.basename(path) == f"fid_stats_{extractor.name}_n60.npz" and os.path.isfile(path)
    # float32 features: the convolutions of a batch of 1 and of 3 may round differently on some CPUs (seen: an
    # AMD EPYC, 4e-9), so the streamed mean agrees to float32's precision, not float64's.
    np.testing.assert_allclose(first.mu, extractor(reference.read_images(folder)).mean(axis=0), rtol=1e-6)
    probabilities = extractor.features_and_probabilities(reference.read_images(folder))[1]
    assert first.inception_score == pytest.approx(inception_score.inception_score(probabilities))
    del calls[3:]  # those direct calls
    cached = reference.reference_stats(folder, extractor)
    assert cached.count == 60 and len(calls) == 3 and cached.inception_score == first.inception_score  # cached
    assert reference.reference_stats(folder, extractor, limit=30).count == 30  # its own file, the first kept
    assert reference.reference_stats(folder, extractor).count == 60 and len(calls) == 5
    # Rebuilt records (other images, other shard digests): the cached statistics are not reused.
    build_cifar_like(str(tmp_path / "elsewhere"), seed=1)
    for name in os.listdir(tmp_path / "elsewhere" / os.path.basename(folder)):
        os.replace(tmp_path / "elsewhere" / os.path.basename(folder) / name, os.path.join(folder, name))
    again = reference.reference_stats(folder, extractor)
    assert len(calls) == 8 and not np.allclose(again.mu, first.mu)


def tiny_image_hp():
    return config.from_dict({"model": "wgan-gp", "batch_size": 8, "z_dim": 4, "n_critic": 1,
                             "data": {"name": "cifar10", "crop": None, "resize": 8, "channels": 3, "shuffle_buffer": 8},
                             "architecture": {"name": "dcgan", "base_width": 4, "depth": 1}})


def test_evaluator_streams_and_names_every_number_by_extractor_and_counts(graph_file, tmp_path, monkeypatch):
    build_cifar_like(str(tmp_path), seed=0)
    monkeypatch.setattr(evaluation, "GENERATE_BATCH", 16)  # 40 samples: three chunks
    hp = tiny_image_hp()
    evaluator = evaluation.make_evaluator(hp, str(tmp_path), metrics=("fid", "kid", "is"), num=40,
                                          extractor="inception2015", inception_graph=graph_file[0],
                                          reference_images=None)
    generator = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(192, activation="tanh"),
                                     tf.keras.layers.Reshape((8, 8, 3))])
    result = evaluator(generator)
    assert set(result.scalars) == {"fid_inception2015_n40_r60", "kid_inception2015_n40_r60",
                                   "kid_std_inception2015_n40_r60", "is_inception2015_n40", "is_std_inception2015_n40"}
    assert result.about["fid_inception2015_n40_r60"] == {"metric": "fid", "extractor": "inception2015",
                                                         "features": evaluator.extractor.name,
                                                         "comparable": True, "n_fake": 40, "n_real": 60,
                                                         "reference_split": "train"}
    assert evaluation.base_metric("kid_std_inception2015_n40_r60") == "kid_std"
    assert evaluation.base_metric("fid_keras_inception_n50k_r10k") == "fid"
    assert evaluation.base_metric("fid_inception2015_n10k_rtest10k") == "fid"
    assert evaluation.series_name("fid", "inception2015", 10000, 10000, "test") == "fid_inception2015_n10k_rtest10k"
    # The streamed statistics equal those of all 40 images at once (an FID of 2048-d features costs seconds).
    samples = data.float_to_uint8(evaluator.samples(generator))
    features, probabilities = evaluator.extractor.features_and_probabilities(samples)
    mu, sigma = frechet.gaussian_stats(features)
    np.testing.assert_allclose(evaluator.generated_stats[0], mu, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(evaluator.generated_stats[1], sigma, rtol=1e-5, atol=1e-9)
    assert result.scalars["is_inception2015_n40"] == pytest.approx(inception_score.inception_score(probabilities)[0])
    assert result.scalars["fid_inception2015_n40_r60"] > 0

    # Against an imported TTUR file of the same statistics instead of the records: same value, the name says so.
    stats = str(tmp_path / "stats.npz")
    reference.save_ttur_stats(stats, evaluator.reference.mu, evaluator.reference.sigma)
    imported = evaluation.make_evaluator(hp, str(tmp_path), metrics=("fid",), num=40, extractor="inception2015",
                                         inception_graph=graph_file[0], reference_stats=stats)(generator)
    assert imported.scalars == {"fid_inception2015_n40_rstats": result.scalars["fid_inception2015_n40_r60"]}
    assert imported.about["fid_inception2015_n40_rstats"]["reference"] == stats


def test_is_needs_an_extractor_with_probabilities():
    hp = tiny_image_hp()
    assert evaluation.available_metrics(hp) == ("fid", "kid", "is")
    assert evaluation.available_metrics(hp, "keras_inception") == ("fid", "kid")
    with pytest.raises(ConfigError, match="is cannot be computed for cifar10 with random.*--extractor inception2015"):
        evaluation.parse_metrics("fid,is", hp, "random")
    with pytest.raises(ConfigError, match="unknown feature extractor 'inception'; choose inception2015, inception2015_tfgan, "
                                          "keras_inception, random"):
        extractors.make_extractor("inception")
    assert not extractors.EXTRACTORS["keras_inception"].comparable and extractors.EXTRACTORS["inception2015"].comparable


def test_final_evaluations_default_to_50k_images_against_all_records(graph_file, tmp_path, monkeypatch):
    build_cifar_like(str(tmp_path), seed=0)
    seen = {}
    monkeypatch.setattr(evaluation, "Evaluator", lambda hp, metrics, num, seed, folder, extractor, reference_images,
                        *rest: seen.update(metrics=metrics, num=num, reference=reference_images))
    monkeypatch.setenv(inception2015.GRAPH_ENV, graph_file[0])
    evaluation.make_evaluator(tiny_image_hp(), str(tmp_path), reference_images=None, final=True)
    assert seen == {"metrics": ("fid", "kid", "is"), "num": 50000, "reference": None}
    evaluation.make_evaluator(tiny_image_hp(), str(tmp_path), metrics=("fid",))  # in training: cheap
    assert seen["num"] == 1000


def test_training_uses_the_graph_only_when_it_is_here(graph_file, tmp_path, monkeypatch, no_graph_anywhere):
    build_cifar_like(str(tmp_path), seed=0)
    hp = config.from_dict({**tiny_image_hp().to_dict(), "eval_every": 5})
    monkeypatch.setattr(extractors, "configured_inception_weights", lambda: None)
    # No graph, no Keras weights: nothing downloads; only the patch statistics, which need no weights.
    assert evaluation.for_training(hp, str(tmp_path)).metrics == ("swd",)
    monkeypatch.setenv(inception2015.GRAPH_ENV, graph_file[0])
    evaluator = evaluation.for_training(hp, str(tmp_path))
    assert evaluator.metrics == ("fid", "kid", "is") and evaluator.num == 1000
    assert evaluator.extractor.label == "inception2015" and evaluator.reference.count == 60


# ----- the command line ---------------------------------------------------------------------
def run_evaluate(*args, env, cwd):
    return subprocess.run([sys.executable, os.path.join(REPO, "bin", "evaluate.py"), *args], capture_output=True,
                          text=True, env=env, cwd=str(cwd), timeout=300)


def test_reference_only_reproduces_a_statistics_file_and_a_missing_graph_is_one_line(graph_file, tmp_path):
    build_cifar_like(str(tmp_path / "records"), seed=0)
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2", WGAN_CACHE=str(tmp_path / "cache"))
    env.pop(inception2015.GRAPH_ENV, None)
    common = ["-m", "wgan-gp", "--data", "cifar10", "-r", "8", "-c", "0", "--records_dir", str(tmp_path / "records"),
              "--reference_only", "--inception_graph", graph_file[0]]
    exported = str(tmp_path / "fid_stats_cifar8.npz")
    first = run_evaluate(*common, "--export_stats", exported, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "statistics of 60 real images" in first.stdout and "(comparable with published numbers)" in first.stdout
    again = run_evaluate(*common, "--reference_stats", exported, "--json", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    printed = json.loads(again.stdout.strip().splitlines()[-1])
    assert printed["fid_to_file"] == pytest.approx(0.0, abs=1e-6) and printed["count"] == 60
    assert printed["is_real"] >= 1.0 and "Inception Score of these real images" in first.stdout

    # No graph anywhere and no internet (a proxy that refuses): one line, exit 1, nothing left behind.
    offline = dict(env, http_proxy="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    missing = run_evaluate(*common[:-2], env=offline, cwd=tmp_path)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    line = missing.stderr.strip().splitlines()[-1]
    assert line.startswith("error: the Inception graph (classify_image_graph_def.pb) is not in")
    assert inception2015.DATA_URL in line and str(tmp_path / "cache") in line
    assert not os.path.exists(tmp_path / "cache" / inception2015.ARCHIVE_FILE)
