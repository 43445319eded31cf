"""The relativistic pairing loss (rpgan, R3GAN) against hand-computed values."""

import numpy as np
import pytest
import tensorflow as tf

from wgan import config
from wgan.gan import losses, objectives


def softplus(t):
    return np.log1p(np.exp(t))


def test_critic_loss_by_hand():
    real = tf.constant([[2.0], [0.0], [-1.0]])
    fake = tf.constant([[0.0], [0.0], [3.0]])
    # softplus(-(real - fake)): softplus(-2), softplus(0) = log 2, softplus(4)
    np.testing.assert_allclose(losses.rpgan_critic_loss(real, fake).numpy(),
                               [0.126928011, np.log(2.0), 4.018149928], rtol=1e-6)


def test_generator_loss_by_hand_is_the_mirror_image():
    real = tf.constant([2.0, 0.0, -1.0])
    fake = tf.constant([0.0, 0.0, 3.0], tf.bfloat16)
    # softplus(-(fake - real)): softplus(2), log 2, softplus(-4)
    loss = losses.rpgan_generator_loss(fake, real)
    assert loss.dtype == tf.float32 and loss.shape == (3,)
    np.testing.assert_allclose(loss.numpy(), [2.126928011, np.log(2.0), 0.018149928], rtol=1e-6)
    np.testing.assert_allclose(loss.numpy(), losses.rpgan_critic_loss(fake, real).numpy(), rtol=1e-6)


def test_pairs_are_taken_row_by_row_and_large_gaps_stay_finite():
    real = tf.constant([100.0, -100.0])
    fake = tf.constant([-100.0, 100.0])
    np.testing.assert_allclose(losses.rpgan_critic_loss(real, fake).numpy(), [softplus(-200.0), 200.0], atol=1e-6)
    # Swapping the fakes changes the pairs, and so the loss (not a difference of batch means).
    assert not np.allclose(losses.rpgan_critic_loss(real, fake).numpy(),
                           losses.rpgan_critic_loss(real, fake[::-1]).numpy())


def test_the_registry_entry():
    rpgan = objectives.get("rpgan")
    assert rpgan.critic_loss is losses.rpgan_critic_loss and rpgan.generator_loss is losses.rpgan_generator_loss
    assert rpgan.constraint == "r1_r2" and rpgan.generator_needs_real and not rpgan.compared
    assert not any(objectives.get(n).generator_needs_real for n in objectives.NAMES if n != "rpgan")
    hp = config.from_dict({"model": "rpgan"})
    assert objectives.of_run(hp).constraint_entry.hyperparameter == "constraint_gamma"
    with pytest.raises(TypeError):
        rpgan.generator_loss(tf.constant([1.0]))  # it needs the real scores
