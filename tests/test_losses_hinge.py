"""The hinge objective against hand-computed values, and its shipped hyperparameter files."""

import os

import numpy as np
import pytest
import tensorflow as tf

from wgan import config
from wgan.gan import objectives
from wgan.gan.losses import hinge_critic_loss, wgan_generator_loss

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL = tf.constant([[2.0], [1.0], [0.5], [-1.0]])
FAKE = tf.constant([[-2.0], [-1.0], [0.0], [3.0]])


def test_hinge_critic_loss_by_hand():
    # relu(1 - r) + relu(1 + f): (0 + 0), (0 + 0), (0.5 + 1), (2 + 4)
    loss = hinge_critic_loss(REAL, FAKE)
    assert loss.dtype == tf.float32 and loss.shape == (4,)
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.0, 1.5, 6.0])


def test_hinge_gradients_vanish_beyond_the_margin():
    real, fake = tf.constant([2.0, 0.5]), tf.constant([-3.0, 0.25])
    with tf.GradientTape() as tape:
        tape.watch([real, fake])
        total = tf.reduce_sum(hinge_critic_loss(real, fake))
    d_real, d_fake = tape.gradient(total, [real, fake])
    np.testing.assert_allclose(d_real.numpy(), [0.0, -1.0])  # a real score past +1 is left alone
    np.testing.assert_allclose(d_fake.numpy(), [0.0, 1.0])  # a fake score past -1 too


def test_hinge_accepts_rank_1_and_low_precision_scores():
    loss = hinge_critic_loss(tf.constant([0.5, 2.0], tf.bfloat16), tf.constant([0.0, -0.5], tf.float16))
    assert loss.dtype == tf.float32
    np.testing.assert_allclose(loss.numpy(), [1.5, 0.5])
    with pytest.raises(ValueError):
        hinge_critic_loss(tf.zeros([2, 2]), tf.zeros([2, 2]))


def test_hinge_registry_entry():
    hinge = objectives.get("hinge")
    assert hinge.critic_loss is hinge_critic_loss
    assert hinge.generator_loss is wgan_generator_loss  # -D(G(z)), as Miyato et al. 2018, eq. (17)
    np.testing.assert_allclose(hinge.generator_loss(FAKE).numpy(), [2.0, 1.0, 0.0, -3.0])
    assert hinge.constraint == "none" and hinge.critic_batch_norm


# Miyato et al. 2018, Table 1, setting A (the WGAN-GP paper's setting): Adam with
# alpha = 1e-4, beta1 = 0.5, beta2 = 0.9, and n_dis = 5 critic updates per generator update.
SNGAN_SETTING_A = {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.9, "n_dis": 5}


@pytest.mark.parametrize("data", ["8gaussians", "digits"])
def test_shipped_files_use_the_sngan_setting_a(data):
    hp = config.load(os.path.join(REPO, "hyperparameter", f"hinge-{data}.json"))
    assert hp.model == "hinge" and hp.data.name == data
    for opt in (hp.g_optimizer, hp.c_optimizer):
        assert (opt.name, opt.learning_rate, opt.beta_1, opt.beta_2, opt.decay) == (
            "adam", SNGAN_SETTING_A["learning_rate"], SNGAN_SETTING_A["beta_1"], SNGAN_SETTING_A["beta_2"],
            "constant")
    assert hp.n_critic == SNGAN_SETTING_A["n_dis"] and hp.g_steps == 1 and not hp.warmup
    assert hp.architecture.c_norm == "none"  # SN-GAN's critics have no batch norm
