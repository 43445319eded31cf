"""Top-k training (Sinha et al. 2020): the mask, its ramp, and the generator update it changes."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import tiny_hparams
from wgan import config
from wgan.gan import model as gan_module, losses
from wgan.errors import ConfigError
from wgan.gan.model import GAN


def test_top_k_mask_keeps_the_highest_scores_rounding_the_count_up():
    scores = tf.constant([[0.3], [2.0], [-1.0], [0.3], [5.0]])
    assert losses.top_k_mask(scores, 0.5).numpy().tolist() == [1, 1, 0, 0, 1]  # ceil(2.5) = 3; a tie goes to index 0
    assert losses.top_k_mask(scores, 1.0).numpy().tolist() == [1] * 5
    assert losses.top_k_mask(scores, 0.01).numpy().tolist() == [0, 0, 0, 0, 1]  # never fewer than one
    assert int(losses.top_k_count(64, 0.75)) == 48
    assert losses.top_k_weights(scores, 0.5).numpy().tolist() == pytest.approx([5 / 3, 5 / 3, 0, 0, 5 / 3])


def test_top_k_mask_is_the_same_under_xla():
    scores = tf.constant(np.random.default_rng(0).normal(size=(32, 1)), tf.float32)
    eager = losses.top_k_mask(scores, 0.6).numpy()
    compiled = tf.function(lambda s: losses.top_k_mask(s, 0.6), jit_compile=True)(scores).numpy()
    np.testing.assert_array_equal(eager, compiled)
    assert eager.sum() == 20  # ceil(0.6 * 32)
    assert eager[np.argsort(-scores.numpy()[:, 0])[:20]].all()


def test_the_kept_fraction_ramps_linearly_from_one_to_top_k():
    hp = tiny_hparams("wgan-gp", top_k=0.5, top_k_rampup=100)
    assert [float(gan_module.top_k_fraction(hp, step)) for step in (0, 50, 100, 1000)] == [1.0, 0.75, 0.5, 0.5]
    assert float(gan_module.top_k_fraction(tiny_hparams("wgan-gp", top_k=0.5), 0)) == 0.5


@pytest.mark.parametrize("model", ["wgan-gp", "dcgan"])
def test_the_generator_update_is_the_gradient_of_the_mean_over_the_kept_fakes(model):
    hp = tiny_hparams(model, top_k=0.5)
    gan = GAN(hp)
    z = tf.random.stateless_normal([hp.batch_size, hp.z_dim], [1, 2])
    grads, metrics = gan._generator_gradients(z, tf.constant(0.5))
    with tf.GradientTape() as tape:
        scores = tf.reshape(gan.critic(gan.generator(z, training=True), training=True), [-1])
        best = tf.gather(scores, tf.argsort(scores, direction="DESCENDING")[:hp.batch_size // 2])
        expected = tf.reduce_mean(gan.generator_loss_fn(best))
    expected_grads = tape.gradient(expected, gan.generator.trainable_variables)
    assert float(metrics["generator_loss"]) == pytest.approx(float(expected), rel=1e-5)
    for got, want in zip(grads, expected_grads):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-6)
    # And it is not the full batch's gradient.
    all_grads, _ = gan._generator_gradients(z, tf.constant(1.0))
    assert not np.allclose(all_grads[0].numpy(), grads[0].numpy())


def test_a_top_k_run_trains_with_one_trace_and_logs_the_fraction():
    hp = tiny_hparams("wgan-gp", top_k=0.5, top_k_rampup=4)
    gan = GAN(hp)
    from wgan.data import toy
    iterator = iter(toy.toy_dataset(hp.data.name, hp.batch_size, seed=0))
    fractions = [float(gan.train_iteration(iterator, hp.n_critic)["top_k_fraction"]) for _ in range(5)]
    assert fractions == [1.0, 0.875, 0.75, 0.625, 0.5]
    assert gan.trace_count == 1


def test_top_k_of_zero_is_refused_with_its_key():
    with pytest.raises(ConfigError, match="key 'top_k' is 0"):
        config.from_dict({"model": "wgan-gp", "top_k": 0.0,
                          "data": {"name": "8gaussians", "crop": None, "resize": None, "channels": 0},
                          "architecture": {"name": "mlp"}})
