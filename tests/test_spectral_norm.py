"""Spectral normalization (wgan/gan/spectral_norm.py): the normalized kernels' top singular value against
numpy.linalg.svd, the raw kernels left to the optimizer, the power-iteration state in checkpoints, and
bit-identical resumes of runs with the new constraints and objective."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import logged_metrics, tiny_hparams
from wgan.gan import spectral_norm
from wgan.gan.model import GAN
from wgan.train import launch, summaries


def small_critic(seed=0):
    """Dense and convolution kernels of different shapes: [4, 4, 1, 3] (a [16, 3] matrix), [48, 5], [5, 1]."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(3, 4, padding="same"),
                              keras.layers.Flatten(), keras.layers.Dense(5), keras.layers.Dense(1)])
    for variable in model.trainable_variables:  # top singular values well above 1
        variable.assign(3.0 * variable)
    return model


def top_singular_value(kernel):
    return np.linalg.svd(np.reshape(np.asarray(kernel), (-1, kernel.shape[-1])), compute_uv=False)[0]


def test_after_enough_power_iterations_every_layer_has_top_singular_value_one():
    critic = spectral_norm.SpectralNormCritic(small_critic(), iterations=1)
    x = tf.random.stateless_normal([2, 4, 4, 1], [1, 2])
    raw = [k.numpy().copy() for k in critic.kernels]
    assert min(top_singular_value(k) for k in raw) > 1.2  # far from 1 before normalization
    for _ in range(60):  # one power iteration per training-mode call
        critic(x, training=True)
    for kernel, applied, sigma in critic.normalized_kernels():
        np.testing.assert_allclose(top_singular_value(applied.numpy()), 1.0, atol=1e-2)
        np.testing.assert_allclose(float(sigma), top_singular_value(kernel.numpy()), rtol=1e-2)
    for sigma in critic.layer_sigmas().values():
        assert sigma == pytest.approx(1.0, abs=1e-2)
    # The optimizer's weights stay the raw ones (keras.layers.SpectralNormalization would overwrite them).
    for before, kernel in zip(raw, critic.kernels):
        np.testing.assert_array_equal(before, kernel.numpy())


def test_inference_calls_leave_the_power_iteration_state_alone():
    critic = spectral_norm.SpectralNormCritic(small_critic(), iterations=1)
    x = tf.random.stateless_normal([2, 4, 4, 1], [1, 2])
    before = [u.numpy().copy() for u in critic.power_vectors]
    critic(x, training=False)
    critic.layer_sigmas()
    assert all(np.array_equal(b, u.numpy()) for b, u in zip(before, critic.power_vectors))
    critic(x, training=True)
    assert not any(np.array_equal(b, u.numpy()) for b, u in zip(before, critic.power_vectors))


def test_the_scores_are_the_wrapped_critic_with_normalized_kernels_and_the_gradient_sees_sigma():
    inner = small_critic()
    critic = spectral_norm.SpectralNormCritic(inner, iterations=3)
    x = tf.random.stateless_normal([2, 4, 4, 1], [1, 2])
    kernel = critic.kernels[-1]  # the score layer's [5, 1] kernel: sigma = ||w|| exactly
    expected = critic.normalized_kernels()  # from the stored u, as the training call will start
    with tf.GradientTape() as tape:
        scores = critic(x, training=True)
        total = tf.reduce_sum(scores)
    # By hand: the same network with every kernel divided by its sigma.
    for variable, applied, _ in expected:
        variable.assign(applied)
    np.testing.assert_allclose(scores.numpy(), inner(x).numpy(), rtol=1e-5, atol=1e-6)
    # d/dw of <h, w / ||w||> is (h - <h, w_hat> w_hat) / ||w||: orthogonal to w. Without the
    # 1 / sigma factor in the gradient it would be h, which is not.
    grad = tape.gradient(total, kernel)
    assert grad is not None
    assert abs(float(tf.reduce_sum(grad * kernel))) < 1e-4 * float(tf.norm(grad) * tf.norm(kernel))


def test_the_power_iteration_state_survives_a_checkpoint(tmp_path):
    critic = spectral_norm.SpectralNormCritic(small_critic(), iterations=1)
    x = tf.random.stateless_normal([2, 4, 4, 1], [1, 2])
    for _ in range(3):
        critic(x, training=True)
    path = tf.train.Checkpoint(critic=critic).save(str(tmp_path / "ckpt"))
    assert sum("sn_u_" in name for name, _ in tf.train.list_variables(path)) == 3
    fresh = spectral_norm.SpectralNormCritic(small_critic(seed=1), iterations=1)
    tf.train.Checkpoint(critic=fresh).restore(path).assert_existing_objects_matched()
    for u, restored in zip(critic.power_vectors, fresh.power_vectors):
        np.testing.assert_array_equal(u.numpy(), restored.numpy())
    np.testing.assert_array_equal(critic(x).numpy(), fresh(x).numpy())


def test_the_gan_wraps_its_critic_and_logs_its_layer_sigmas():
    hp = tiny_hparams("hinge", constraint="spectral_norm")
    gan = GAN(hp)
    assert isinstance(gan.critic, spectral_norm.SpectralNormCritic)
    sigmas = summaries.critic_layer_sigmas(gan.critic)
    assert len(sigmas) == 3 and all(k.startswith("c_layer_sigma/") for k in sigmas)
    assert summaries.critic_layer_sigmas(GAN(tiny_hparams("hinge")).critic) == {}


# ----- exact resume -----------------------------------------------------------------------
def _train(checkpoint_dir, hp, step):
    return launch.train_run(str(checkpoint_dir), hp, launch.until_step(step), progress=False, deterministic=True)


@pytest.mark.parametrize("model, values", [
    ("wgan", {"constraint": "spectral_norm"}),  # the power-iteration vectors in the checkpoint
    ("rpgan", {"constraint_every": 2}),  # the generator's real batches and the lazy rhythm
])
def test_a_resumed_run_is_bit_identical(tmp_path, model, values):
    hp = tiny_hparams(model, n_critic=2, seed=5, **values)
    whole = _train(tmp_path / "whole", hp, 4)
    _train(tmp_path / "parts", hp, 2)
    second = _train(tmp_path / "parts", hp, 4)
    assert second.resumed
    expected = logged_metrics(whole.vdir)
    assert [row["step"] for row in expected] == [1, 2, 3, 4]
    assert logged_metrics(second.vdir) == expected


def test_batch_norm_statistics_inside_the_wrapper_are_updated_as_without_it():
    """The wrapped critic runs inside a keras.StatelessScope, which collects state updates instead of
    applying them: the wrapper applies them, so batch-norm moving statistics move as they would unwrapped."""
    def critic():
        keras.utils.set_random_seed(0)
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                                 keras.layers.BatchNormalization(momentum=0.5), keras.layers.Dense(1)])

    x = tf.random.stateless_normal([8, 3], [1, 2])
    plain, wrapped = critic(), spectral_norm.SpectralNormCritic(critic())
    plain_norm = plain.layers[1]
    wrapped_norm = wrapped.critic.layers[1]
    # Same normalized kernels in both: copy W / sigma into the plain critic, then one training call each.
    for layer, (_, applied, _) in zip((plain.layers[0], plain.layers[2]), wrapped.normalized_kernels()):
        layer.kernel.assign(applied)
    plain(x, training=True)
    wrapped(x, training=True)
    assert not np.allclose(wrapped_norm.moving_mean.numpy(), 0.0)
    np.testing.assert_allclose(wrapped_norm.moving_mean.numpy(), plain_norm.moving_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(wrapped_norm.moving_variance.numpy(), plain_norm.moving_variance.numpy(), rtol=1e-5)
