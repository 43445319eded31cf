"""Hand-computed values of the GAN losses, the WGAN-GP gradient penalty and weight clipping."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from wgan.gan import losses
from wgan.gan.losses import (clip_weights, dcgan_critic_loss, dcgan_generator_loss, gradient_penalty,
                         wasserstein_estimate, wgan_critic_loss, wgan_generator_loss)

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


# ----- gradient penalty -------------------------------------------------------------------
def linear_critic(kernel, dtype="float32"):
    """f(x) = <w, flatten(x)> + 1 for inputs shaped like ``kernel``: the gradient is w everywhere."""
    kernel = np.asarray(kernel, np.float32)
    model = keras.Sequential([keras.Input(kernel.shape), keras.layers.Flatten(),
                              keras.layers.Dense(1, dtype=dtype, bias_initializer="ones")])
    model.layers[-1].kernel.assign(kernel.reshape(-1, 1))
    return model


def quadratic_critic(x, training=True):
    """f(x) = 0.5 * ||x||^2 per example: the gradient is x itself."""
    return 0.5 * tf.reduce_sum(tf.square(x), axis=list(range(1, x.shape.rank)))[:, None]


@pytest.mark.parametrize("alpha", [None, [0.0, 0.3, 1.0, 0.7]])
def test_penalty_of_linear_critic_is_exact(alpha):
    critic = linear_critic([1.0, 2.0, 2.0])  # ||w|| = 3
    real = tf.random.normal([4, 3])
    fake = tf.random.normal([4, 3])
    penalty, norm = gradient_penalty(critic, real, fake, alpha=alpha)
    assert penalty.dtype == norm.dtype == tf.float32 and penalty.shape == norm.shape == (4,)
    np.testing.assert_allclose(norm.numpy(), [3.0] * 4, rtol=1e-6)
    np.testing.assert_allclose(penalty.numpy(), [4.0] * 4, rtol=1e-5)


def test_norm_runs_over_all_non_batch_axes_of_images():
    kernel = np.linspace(-1.0, 1.0, 4 * 4 * 2).reshape(4, 4, 2)
    critic = linear_critic(kernel)
    penalty, norm = gradient_penalty(critic, tf.zeros([3, 4, 4, 2]), tf.ones([3, 4, 4, 2]), seed=[1, 2])
    expected = np.linalg.norm(kernel)
    np.testing.assert_allclose(norm.numpy(), [expected] * 3, rtol=1e-5)
    np.testing.assert_allclose(penalty.numpy(), [(expected - 1.0) ** 2] * 3, rtol=1e-5)


def test_outer_tape_differentiates_penalty_wrt_critic_weights():
    w = np.array([1.0, 2.0, 2.0], np.float32)
    critic = linear_critic(w)
    with tf.GradientTape() as tape:
        penalty, _ = gradient_penalty(critic, tf.random.normal([5, 3]), tf.random.normal([5, 3]))
        loss = tf.reduce_mean(penalty)
    kernel = critic.layers[-1].kernel
    grad = tape.gradient(loss, kernel)
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    np.testing.assert_allclose(grad.numpy().ravel(), 2 * (3.0 - 1.0) * w / 3.0, rtol=1e-5)


def test_outer_gradient_inside_tf_function():
    critic = linear_critic([0.0, 3.0, 4.0])  # ||w|| = 5

    @tf.function
    def step(real, fake):
        with tf.GradientTape() as tape:
            penalty, _ = gradient_penalty(critic, real, fake)
            loss = tf.reduce_mean(penalty)
        return loss, tape.gradient(loss, critic.layers[-1].kernel)

    loss, grad = step(tf.random.normal([2, 3]), tf.random.normal([2, 3]))
    np.testing.assert_allclose(loss.numpy(), 16.0, rtol=1e-5)
    np.testing.assert_allclose(grad.numpy().ravel(), [0.0, 2 * 4 * 3 / 5, 2 * 4 * 4 / 5], rtol=1e-5)


def test_zero_gradient_gives_penalty_one_and_finite_gradients():
    critic = linear_critic([0.0, 0.0, 0.0])
    with tf.GradientTape() as tape:
        penalty, norm = gradient_penalty(critic, tf.random.normal([4, 3]), tf.random.normal([4, 3]))
        loss = tf.reduce_mean(penalty)
    np.testing.assert_allclose(penalty.numpy(), [1.0] * 4, atol=1e-5)
    np.testing.assert_allclose(norm.numpy(), [0.0] * 4, atol=1e-5)
    grad = tape.gradient(loss, critic.layers[-1].kernel).numpy()
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("shape", [(3, 2), (3, 2, 2, 2)])
def test_alpha_is_one_weight_per_example(shape):
    # With f = 0.5 ||x||^2, real = 0 and fake = 1: x_hat = alpha * 1, so the gradient
    # norm is alpha * sqrt(D) for each example's own alpha.
    dim = np.prod(shape[1:])
    alpha = np.array([0.0, 0.5, 1.0], np.float32)
    penalty, norm = gradient_penalty(quadratic_critic, tf.zeros(shape), tf.ones(shape), alpha=alpha)
    np.testing.assert_allclose(norm.numpy(), alpha * np.sqrt(dim), atol=1e-5)
    np.testing.assert_allclose(penalty.numpy(), (alpha * np.sqrt(dim) - 1.0) ** 2, atol=1e-5)


def test_random_alpha_is_uniform_per_example_and_seedable():
    shape = (64, 2, 2, 1)
    real, fake = tf.zeros(shape), tf.ones(shape)
    _, norm = gradient_penalty(quadratic_critic, real, fake)
    alpha = norm.numpy() / 2.0  # sqrt(D) = 2
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0 + 1e-6
    assert np.std(alpha) > 0.1  # drawn per example, not once per batch
    first, _ = gradient_penalty(quadratic_critic, real, fake, seed=[7, 8])
    again, _ = gradient_penalty(quadratic_critic, real, fake, seed=[7, 8])
    other, _ = gradient_penalty(quadratic_critic, real, fake, seed=[7, 9])
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert not np.array_equal(first.numpy(), other.numpy())


def test_penalty_of_mixed_precision_critic_is_float32():
    critic = linear_critic([1.0, 2.0, 2.0], dtype="mixed_bfloat16")  # bfloat16 holds 1 and 2 exactly
    penalty, norm = gradient_penalty(critic, tf.random.normal([4, 3]), tf.random.normal([4, 3]))
    assert penalty.dtype == norm.dtype == tf.float32
    np.testing.assert_allclose(norm.numpy(), [3.0] * 4, rtol=1e-6)
    np.testing.assert_allclose(penalty.numpy(), [4.0] * 4, rtol=1e-5)


def test_epsilon_is_inside_the_square_root():
    assert losses.GRAD_NORM_EPSILON == 1e-12


# ----- weight clipping -------------------------------------------------------------------
def test_clip_weights_bounds_and_untouched_values():
    variable = tf.Variable([-1.0, -0.01, -0.005, 0.0, 0.003, 0.01, 2.0])
    assert clip_weights([variable], 0.01) is None
    np.testing.assert_array_equal(variable.numpy(), np.float32([-0.01, -0.01, -0.005, 0.0, 0.003, 0.01, 0.01]))


def test_clip_weights_on_keras_variables_inside_tf_function():
    critic = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, kernel_initializer="ones"),
                               keras.layers.Dense(1, kernel_initializer="random_normal")])
    inside = critic.layers[1].kernel.numpy() * 1e-4
    critic.layers[1].kernel.assign(inside)
    tf.function(lambda: clip_weights(critic.trainable_variables, 0.05))()
    assert all(np.all(np.abs(v.numpy()) <= 0.05) for v in critic.trainable_variables)
    np.testing.assert_array_equal(critic.layers[0].kernel.numpy(), np.full((3, 4), 0.05, np.float32))
    np.testing.assert_array_equal(critic.layers[1].kernel.numpy(), inside)
