"""Hand-computed values of the GAN losses (the constraints' math: tests/test_constraints.py)."""

import math

import numpy as np
import pytest
import tensorflow as tf

from wgan.gan.losses import (dcgan_critic_loss, dcgan_generator_loss, wasserstein_estimate, wgan_critic_loss,
                             wgan_generator_loss)

REAL = tf.constant([[1.0], [2.0], [-3.0]])
FAKE = tf.constant([[0.5], [-1.0], [4.0]])


def softplus(x):
    return math.log1p(math.exp(x))


# ----- WGAN and DCGAN losses --------------------------------------------------------------
def test_wgan_losses():
    critic = wgan_critic_loss(REAL, FAKE)
    assert critic.dtype == tf.float32 and critic.shape == (3,)
    np.testing.assert_allclose(critic.numpy(), [-0.5, -3.0, 7.0])
    np.testing.assert_allclose(wgan_generator_loss(FAKE).numpy(), [-0.5, 1.0, -4.0])
    np.testing.assert_allclose(wasserstein_estimate(REAL, FAKE).numpy(), 0.0 - 3.5 / 3, rtol=1e-6)


def test_losses_accept_rank_1_and_low_precision_scores():
    real = tf.constant([1.0, 2.0, -3.0], tf.bfloat16)
    fake = tf.constant([0.5, -1.0, 4.0], tf.float16)
    for loss in (wgan_critic_loss(real, fake), dcgan_critic_loss(real, fake)):
        assert loss.dtype == tf.float32 and loss.shape == (3,)
    np.testing.assert_allclose(wgan_critic_loss(real, fake).numpy(), [-0.5, -3.0, 7.0])


def test_losses_reject_other_shapes():
    with pytest.raises(ValueError):
        wgan_generator_loss(tf.zeros([3, 2]))
    with pytest.raises(ValueError):
        wgan_generator_loss(tf.zeros([3, 1, 1]))


def test_dcgan_losses():
    critic = dcgan_critic_loss(REAL, FAKE).numpy()
    expected = [softplus(-r) + softplus(f) for r, f in [(1.0, 0.5), (2.0, -1.0), (-3.0, 4.0)]]
    np.testing.assert_allclose(critic, expected, rtol=1e-6)
    np.testing.assert_allclose(dcgan_critic_loss([[0.0]], [[0.0]]).numpy(), [2 * math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(dcgan_generator_loss(FAKE).numpy(), [softplus(-f) for f in (0.5, -1.0, 4.0)], rtol=1e-6)


def test_dcgan_losses_stay_finite_at_extreme_logits():
    real = tf.constant([100.0, -100.0])
    fake = tf.constant([-100.0, 100.0])
    with tf.GradientTape() as tape:
        tape.watch([real, fake])
        critic = dcgan_critic_loss(real, fake)
        generator = dcgan_generator_loss(fake)
        total = tf.reduce_sum(critic) + tf.reduce_sum(generator)
    np.testing.assert_allclose(critic.numpy(), [0.0, 200.0], atol=1e-6)
    np.testing.assert_allclose(generator.numpy(), [100.0, 0.0], atol=1e-6)
    for grad in tape.gradient(total, [real, fake]):
        assert np.all(np.isfinite(grad.numpy()))
