"""Mixed precision and XLA: dtypes, float16 loss scaling (also inside the gradient penalty), jit_compile."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import merged, tiny_hparams
from wgan import config
from wgan.gan import constraints
from wgan.gan.model import GAN


def tiny_hp(model="wgan-gp", **values):
    base = {"n_critic": 2, "seed": 2, "architecture": {"c_norm": "none", "depth": 3}}
    return tiny_hparams(model, "mnist", **merged(base, values))


def batches(seed=0):
    images = np.random.default_rng(seed).uniform(-1, 1, (8, 16, 16, 1)).astype(np.float32)
    return iter(tf.data.Dataset.from_tensors(images).repeat())


def train(hp, iterations=2):
    keras.utils.set_random_seed(0)
    gan = GAN(hp)
    iterator = batches()
    return gan, [{k: float(v) for k, v in gan.train_iteration(iterator, hp.n_critic).items()}
                 for _ in range(iterations)]


@pytest.mark.parametrize("precision, compute", [("mixed_bfloat16", "bfloat16"), ("mixed_float16", "float16")])
def test_mixed_precision_computes_low_and_keeps_weights_losses_and_scores_float32(precision, compute):
    gan, history = train(tiny_hp(precision=precision))
    assert all(np.isfinite(v) for m in history for v in m.values())
    conv = gan.critic.get_layer("down2")
    assert conv.compute_dtype == compute and conv.kernel.dtype == "float32"
    assert gan.critic.get_layer("score").compute_dtype == "float32"
    assert all(v.dtype == "float32" for v in gan.generator.trainable_variables + gan.critic.trainable_variables)
    assert gan.sample(gan.fixed_z[:2]).dtype == tf.float32
    assert ("loss_scale" in history[-1]) == (precision == "mixed_float16")


def test_bfloat16_losses_track_float32():
    # Same seeds, same data: the first iteration's losses differ only by bfloat16 rounding.
    _, full = train(tiny_hp(), 1)
    _, half = train(tiny_hp(precision="mixed_bfloat16"), 1)
    for key in ("critic_loss", "gradient_penalty", "generator_loss"):
        assert half[0][key] == pytest.approx(full[0][key], rel=0.05, abs=1e-3), key


def tiny_gradient_critic(dtype):
    """A critic whose input gradient has entries of about 1e-10: below float16's smallest subnormal (6e-8)."""
    critic = keras.Sequential([keras.Input((16,)), keras.layers.Dense(16, dtype=dtype),
                               keras.layers.Dense(1, dtype="float32")])
    rng = np.random.default_rng(0)
    critic.layers[0].kernel.assign(rng.normal(0, 1e-5, (16, 16)))
    critic.layers[1].kernel.assign(rng.normal(0, 1e-5, (16, 1)))
    return critic


def test_gradient_penalty_loss_scaling_keeps_float16_gradients_from_underflowing():
    real = tf.random.stateless_normal([8, 16], [1, 2])
    fake = tf.random.stateless_normal([8, 16], [3, 4])
    alpha = tf.linspace(0.0, 1.0, 8)
    reference = tiny_gradient_critic("float32")
    half = tiny_gradient_critic("mixed_float16")
    half.set_weights(reference.get_weights())
    exact = constraints.gradient_penalty(reference, real, fake, alpha=alpha)[1].numpy()
    unscaled = constraints.gradient_penalty(half, real, fake, alpha=alpha)[1].numpy()
    scaled = constraints.gradient_penalty(half, real, fake, alpha=alpha, loss_scale=2.0 ** 24)[1].numpy()
    assert exact.min() > 1e-10
    assert unscaled.max() < 1e-5 * exact.min() + 2e-6  # flushed to zero: only the sqrt(epsilon) floor remains
    np.testing.assert_allclose(scaled, exact, rtol=0.02)


def test_gradient_penalty_overflow_reports_finite_values_and_poisons_the_gradient():
    critic = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, dtype="mixed_float16"),
                               keras.layers.Dense(1, dtype="float32")])
    x = tf.random.stateless_normal([2, 4], [5, 6])
    with tf.GradientTape() as tape:
        penalty, norms = constraints.gradient_penalty(critic, x, -x, alpha=tf.fill([2], 0.5), loss_scale=1e30)
        total = tf.reduce_sum(penalty)
    grads = tape.gradient(total, critic.trainable_variables)
    assert np.all(penalty.numpy() == 0.0) and np.all(norms.numpy() == 1.0)
    assert not all(np.all(np.isfinite(g.numpy())) for g in grads)


def test_float16_overflow_skips_the_critic_update_and_halves_the_scale():
    gan, _ = train(tiny_hp(precision="mixed_float16"), 1)
    before = [v.numpy().copy() for v in gan.critic.trainable_variables]
    gan.c_opt.dynamic_scale.assign(1e30)  # every scaled gradient overflows float16
    metrics = {k: float(v) for k, v in gan.train_iteration(batches(), 1).items()}
    assert all(np.isfinite(v) for v in metrics.values()), metrics  # the training loop's NaN check stays quiet
    assert metrics["c_grad_norm"] == 0.0  # nothing was applied
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, gan.critic.trainable_variables))
    assert float(gan.c_opt.dynamic_scale.numpy()) == pytest.approx(5e29)


@pytest.mark.parametrize("model", ["wgan-gp", "wgan"])
def test_xla_iteration_matches_the_graph_iteration_and_traces_once(model):
    plain, expected = train(tiny_hp(model), 3)
    xla, got = train(tiny_hp(model, jit_compile=True), 3)
    assert xla.trace_count == 1
    for a, b in zip(expected, got):
        for key in ("critic_loss", "generator_loss", "wasserstein", "gradient_penalty"):
            assert b[key] == pytest.approx(a[key], rel=1e-3, abs=1e-5), key
    if model == "wgan":
        assert max(np.abs(v.numpy()).max() for v in xla.critic.trainable_variables) <= xla.hp.clip_value + 1e-7


def test_jit_compile_defaults_to_the_faster_setting_on_cpu():
    # docs/scale.md: XLA measured slower for the conv models on CPU (bin/benchmark.py --jit off,on).
    assert config.HParams().jit_compile is False
