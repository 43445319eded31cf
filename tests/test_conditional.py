"""Class-conditional generation (docs/conditional.md): the layers, the penalty with labels, one
iteration of every objective, every architecture's two-input networks, exact resume, the class
list taken from the records, and the one-line error of a run without labels."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import generated_mnist, logged_metrics, tiny_hparams
from wgan import config, data, models, runs
from wgan.errors import ConfigError
from wgan.gan import constraints, objectives
from wgan.gan.model import GAN
from wgan.models import conditional
from wgan.train import launch, loop

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = {"class_names": ["a", "b", "c"], "class_frequencies": [0.5, 0.25, 0.25]}


def conditional_hp(model="wgan-gp", **values):
    """Tiny conditional hyperparameters: dcgan networks of base width 4 on 16x16 grey images, 3 classes."""
    values.setdefault("conditional", {"enabled": True, **CLASSES})
    return tiny_hparams(model, "mnist", **values)


def labelled_batches(hp, seed=0):
    """One fixed (images [B, 16, 16, 1] in [-1, 1], labels int32 [B]) pair, repeated forever."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (hp.batch_size, *hp.data.sample_shape)).astype(np.float32)
    labels = rng.integers(0, hp.conditional.num_classes, hp.batch_size).astype(np.int32)
    return iter(tf.data.Dataset.from_tensors((images, labels)).repeat())


# ----- the layers ------------------------------------------------------------------------------
def test_conditional_batch_norm_is_batch_norm_then_a_gain_and_bias_per_class():
    x = np.array([[1.0, 2.0, 0.0], [3.0, -2.0, 1.0], [0.0, 4.0, 2.0], [4.0, 0.0, -3.0]], np.float32)
    labels = np.array([0, 1, 0, 1], np.int32)
    layer = conditional.ConditionalBatchNormalization(2, epsilon=1e-3)
    out = layer([x, labels], training=True).numpy()
    assert out.shape == (4, 3)
    np.testing.assert_array_equal(layer.class_gain.numpy(), np.ones((2, 3)))  # starts as plain batch norm
    np.testing.assert_array_equal(layer.class_bias.numpy(), np.zeros((2, 3)))
    gain = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
    bias = np.array([[0.1, 0.2, 0.3], [-1.0, -2.0, -3.0]], np.float32)
    layer.class_gain.assign(gain)
    layer.class_bias.assign(bias)
    out = layer([x, labels], training=True).numpy()
    # Written out: the batch's mean and (biased) variance per channel, then gain[y] * x_hat + bias[y].
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-3)
    np.testing.assert_allclose(out, gain[labels] * x_hat + bias[labels], rtol=1e-5, atol=1e-6)
    other = layer([x, 1 - labels], training=True).numpy()
    assert not np.allclose(other, out)  # a different label, a different output
    maps = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype(np.float32)
    on_maps = conditional.ConditionalBatchNormalization(2)
    assert on_maps([maps, labels[:2]], training=True).shape == (2, 4, 4, 3)  # feature maps: one gain per channel
    assert on_maps.class_gain.shape == (2, 3)


def test_the_projection_is_the_inner_product_of_the_class_embedding_and_the_features():
    features = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], np.float32)
    labels = np.array([2, 0, 2], np.int32)
    layer = conditional.ClassProjection(3)
    assert layer([features, labels]).shape == (3, 1)
    table = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]], np.float32)
    layer.embeddings.assign(table)
    # Row 0: (2, -1) . (1, 2) = 0; row 1: (1, 0) . (3, -1) = 3; row 2: (2, -1) . (0.5, 0.5) = 0.5.
    np.testing.assert_allclose(layer([features, labels]).numpy(), [[0.0], [3.0], [0.5]], rtol=1e-6)
    assert layer([features, np.array([1, 0, 2], np.int32)]).numpy()[0, 0] == 2.0


def image_hp(architecture, side):
    return conditional_hp(data={"name": "cifar10", "resize": side, "channels": 3},
                          architecture={"name": architecture, "base_width": 4, "g_norm": "batch"})


@pytest.mark.parametrize("architecture, side", [("dcgan", 16), ("infogan", 16), ("resnet", 32), ("mlp", 16)])
def test_every_architecture_takes_labels_and_a_label_changes_both_networks(architecture, side):
    hp = image_hp(architecture, side)
    keras.utils.set_random_seed(0)
    generator, critic = models.make_generator(hp), models.make_critic(hp)
    assert [t.name for t in generator.inputs] == ["z", "labels"] and len(critic.inputs) == 2
    z = np.random.default_rng(0).standard_normal((4, hp.z_dim)).astype(np.float32)
    y, y2 = np.array([0, 1, 2, 0], np.int32), np.array([1, 2, 0, 1], np.int32)
    images = generator([z, y], training=True)
    assert images.shape == (4, side, side, 3) and images.dtype == tf.float32
    assert float(tf.reduce_max(tf.abs(images))) <= 1.0
    for layer in generator.layers:  # the gains and biases start at 1 and 0, so move them apart first
        if isinstance(layer, conditional.ConditionalBatchNormalization):
            layer.class_gain.assign(np.random.default_rng(1).uniform(0.5, 1.5, layer.class_gain.shape))
    assert any(isinstance(layer, conditional.ConditionalBatchNormalization) for layer in generator.layers)
    assert not np.allclose(generator([z, y], training=True), generator([z, y2], training=True))
    scores = critic([images, tf.constant(y)], training=False)
    assert scores.shape == (4, 1) and scores.dtype == tf.float32
    assert not np.allclose(scores, critic([images, tf.constant(y2)], training=False))


def test_a_generator_without_batch_norm_reads_a_label_embedding_beside_z():
    hp = conditional_hp(architecture={"name": "mlp", "base_width": 8, "g_norm": "none"})
    generator = models.make_generator(hp)
    assert generator.get_layer("label_embedding").output.shape == (None, hp.z_dim)
    z = np.zeros((2, hp.z_dim), np.float32)
    assert not np.allclose(generator([z, np.array([0, 0], np.int32)]), generator([z, np.array([0, 1], np.int32)]))


def test_unconditional_networks_keep_one_input_and_their_layer_names():
    hp = tiny_hparams("wgan-gp", "mnist")
    generator, critic = models.make_generator(hp), models.make_critic(hp)
    assert len(generator.inputs) == 1 and len(critic.inputs) == 1
    assert critic.layers[-1].name == "score"
    assert models.generator_inputs(hp, np.zeros((2, hp.z_dim))).shape == (2, hp.z_dim)


# ----- the penalty with labels -------------------------------------------------------------------
def tiny_projection_critic(w_phi, w_score, table):
    """f(x, y) = w . relu(W x) + V[y] . relu(W x): phi(x) = relu(W x) [B, 3], x [B, 2], 2 classes."""
    x = keras.Input((2,), name="points")
    labels = keras.Input((), dtype="int32", name="labels")
    phi = keras.layers.Dense(3, use_bias=False, activation="relu", name="phi")(x)
    score = keras.layers.Dense(1, use_bias=False, name="score")(phi)
    projection = conditional.ClassProjection(2, name="projection")([phi, labels])
    critic = keras.Model([x, labels], keras.layers.Add()([score, projection]))
    critic.get_layer("phi").kernel.assign(w_phi)
    critic.get_layer("score").kernel.assign(w_score)
    critic.get_layer("projection").embeddings.assign(table)
    return critic


def written_out_gradient(x, label, w_phi, w_score, table):
    """grad_x f(x, y) with the label's embedding V[y] a constant: W diag(1[W^T x > 0]) (w + V[y]), per row."""
    active = (x @ w_phi > 0).astype(np.float32)  # [B, 3]
    return (active * (w_score[:, 0] + table[label])) @ w_phi.T  # [B, 2]


def test_the_penalties_hold_the_label_fixed_and_score_interpolates_with_the_real_labels():
    rng = np.random.default_rng(3)
    w_phi = rng.standard_normal((2, 3)).astype(np.float32)
    w_score = rng.standard_normal((3, 1)).astype(np.float32)
    table = np.array([[2.0, -1.0, 0.5], [-1.5, 0.5, 3.0]], np.float32)  # two classes far apart
    critic = tiny_projection_critic(w_phi, w_score, table)
    real = rng.standard_normal((6, 2)).astype(np.float32)
    fake = rng.standard_normal((6, 2)).astype(np.float32)
    alpha = rng.uniform(size=6).astype(np.float32)
    real_y, fake_y = np.array([0, 1, 0, 1, 0, 1], np.int32), np.array([1, 0, 1, 0, 1, 0], np.int32)
    labels = constraints.Labels(tf.constant(real_y), tf.constant(fake_y))

    x_hat = real + alpha[:, None] * (fake - real)
    expected = (np.linalg.norm(written_out_gradient(x_hat, real_y, w_phi, w_score, table), axis=1) - 1.0) ** 2
    wrong = (np.linalg.norm(written_out_gradient(x_hat, fake_y, w_phi, w_score, table), axis=1) - 1.0) ** 2
    assert np.abs(expected - wrong).max() > 0.1  # the test can tell the two label choices apart
    gp = constraints.get("gradient_penalty")
    penalty, _ = gp.loss_term(critic, tf.constant(real), tf.constant(fake), tf.constant(alpha), labels=labels)
    np.testing.assert_allclose(penalty.numpy(), expected, rtol=1e-5)

    # R1 at the real images with their labels, R2 at the fakes with theirs: 0.5 ||grad||^2.
    r1, _ = constraints.get("r1").loss_term(critic, tf.constant(real), tf.constant(fake), None, labels=labels)
    r2, _ = constraints.get("r2").loss_term(critic, tf.constant(real), tf.constant(fake), None, labels=labels)
    np.testing.assert_allclose(
        r1.numpy(), 0.5 * np.sum(written_out_gradient(real, real_y, w_phi, w_score, table) ** 2, axis=1), rtol=1e-5)
    np.testing.assert_allclose(
        r2.numpy(), 0.5 * np.sum(written_out_gradient(fake, fake_y, w_phi, w_score, table) ** 2, axis=1), rtol=1e-5)


# ----- training ----------------------------------------------------------------------------------
# wgan-gp also covers mixed precision and the moving-average generator (on the infogan networks).
MIXED = {"precision": "mixed_bfloat16", "ema_decay": 0.9, "architecture": {"name": "infogan", "base_width": 2}}


@pytest.mark.parametrize("model", objectives.NAMES)
def test_a_block_of_two_conditional_iterations_of_every_objective_with_one_trace(model):
    c_norm = "batch" if objectives.get(model).critic_batch_norm else "none"
    values = MIXED if model == "wgan-gp" else {"architecture": {"c_norm": c_norm}}
    hp = conditional_hp(model, n_critic=2, **values)
    keras.utils.set_random_seed(0)
    gan = GAN(hp)
    before = [v.numpy().copy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    metrics = {k: float(v) for k, v in gan.train_block(labelled_batches(hp), 2, hp.n_critic).items()}
    assert all(np.isfinite(v) for v in metrics.values()), metrics
    after = [v.numpy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    assert all(not np.array_equal(b, a) for b, a in zip(before, after) if b.size > 1)
    assert gan.trace_count == 1 and int(gan.step) == 2
    assert (metrics["gradient_penalty"] > 0) == objectives.get(model).penalized
    if objectives.get(model).clipped:  # the projection's embeddings are clipped like every critic weight
        assert all(np.abs(v.numpy()).max() <= hp.clip_value + 1e-7 for v in gan.critic.trainable_variables)
    if model == "wgan-gp":  # sampling by class refreshes the average's batch-norm statistics, in float32
        images = gan.sample(gan.fixed_z[:3], labels=np.array([0, 1, 2], np.int32))
        assert images.shape == (3, 16, 16, 1) and images.dtype == tf.float32


def test_generated_labels_follow_the_class_frequencies_and_the_seed():
    gan = GAN(conditional_hp())
    seed = tf.constant([4, 2], tf.int64)
    drawn = gan.class_labels(4000, seed).numpy()
    np.testing.assert_array_equal(drawn, gan.class_labels(4000, seed).numpy())
    np.testing.assert_allclose(np.bincount(drawn, minlength=3) / 4000, CLASSES["class_frequencies"], atol=0.03)


def test_a_conditional_run_takes_its_classes_from_the_records_and_resumes_bit_for_bit(tmp_path, records_root):
    hp = tiny_hparams("wgan-gp", "mnist", conditional={"enabled": True}, log_every=1, checkpoint_every=100,
                      snapshot_every=100)
    whole = launch.train_run(str(tmp_path / "whole"), hp, launch.until_step(4), records_root=records_root,
                             progress=False, deterministic=True)
    stored = runs.load_hparams(whole.vdir).conditional
    _, labels = generated_mnist(64)  # the records of the fixture: labels i % 10, digit names
    assert stored.class_names == list(data.SOURCES["mnist"].class_names)
    np.testing.assert_allclose(stored.class_frequencies, np.bincount(labels) / 64)

    filled = launch.with_classes(hp, records_root)
    _, vdir, stored_hp, lock, _ = runs.open_run(str(tmp_path / "parts"), filled)
    lock.release()
    loop.seed_everything(stored_hp.seed, deterministic=True)
    assert loop.train(stored_hp, vdir, 4, records_root=records_root, progress=False, stop_at_step=2)["step"] == 2
    resumed = launch.train_run(str(tmp_path / "parts"), runs.load_hparams(vdir), launch.until_step(4), version=1,
                               records_root=records_root, progress=False, deterministic=True)
    assert resumed.resumed and resumed.result["step"] == 4
    assert logged_metrics(resumed.vdir) == logged_metrics(whole.vdir)


def test_a_run_without_labels_stops_with_one_line_and_leaves_no_run_folder(tmp_path):
    images, _ = generated_mnist(16)
    data.build_records("mnist", resize=16, crop=None, output_dir=str(tmp_path / "records"), workers=1,
                       progress=False, arrays=(images, None))
    hp = tiny_hparams("wgan-gp", "mnist", conditional={"enabled": True})
    with pytest.raises(ConfigError, match=r"have no class labels; labels come from a labelled named source \(.*"
                                          r"fashion_mnist.*\) or from an image folder with one subfolder per class, "
                                          r"rebuilt with: python bin/build_tfrecord.py --data mnist"):
        launch.train_run(str(tmp_path / "ck"), hp, launch.until_step(1), records_root=str(tmp_path / "records"),
                         progress=False)
    assert not (tmp_path / "ck").exists()
    with pytest.raises(ConfigError, match="toy 2-D data .8gaussians. has no class labels"):
        tiny_hparams("wgan-gp", "8gaussians", conditional={"enabled": True})


def test_train_conditional_on_toy_data_prints_one_line_and_exits_non_zero(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bin", "train.py"), "--noprogress", "-m", "wgan-gp",
                           "--data", "8gaussians", "--conditional", "--checkpoint_dir", str(tmp_path / "ck")],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "toy 2-D data (8gaussians) has no class labels" in errors[0]
    assert not (tmp_path / "ck").exists()


def test_the_shipped_conditional_files_are_the_toolkits_own_with_conditioning_on():
    for model, source in (("wgan-gp", "digits"), ("wgan-gp", "fashion_mnist"), ("dcgan", "fashion_mnist")):
        own = config.resolve(model, source)
        chosen = config.resolve(model, source, setup="conditional")
        assert chosen.conditional.enabled and not own.conditional.enabled
        assert config.apply_overrides(own, [("conditional.enabled", True)]).to_dict() == chosen.to_dict()
