"""The critic's LeakyReLU and MaxReLU (wgan/models/activations.py) against tf.nn.leaky_relu and tf.nn.relu: values,
gradients, the penalty's second-order gradient, and the Grappler error they exist to avoid."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from wgan.models import activations

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _critic_terms(act, x, kernel, bias, strides=2):
    """Score, d score / d x and d ||d score / d x||^2 / d (kernel, bias) of conv -> bias -> act -> sum (as in the penalty)."""
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            h = act(tf.nn.bias_add(tf.nn.conv2d(x, kernel, strides, "SAME"), bias))
            score = tf.reduce_sum(h * tf.linspace(-1.0, 1.0, h.shape[-1]))
        grad_x = inner.gradient(score, x)
        penalty = tf.reduce_sum(grad_x ** 2)
    # Zero, not None: with the output-based gradient the bias reaches the penalty only through
    # the x > 0 test, whose derivative is zero (tf.nn.leaky_relu's second derivative is zero too).
    return score, grad_x, outer.gradient(penalty, [kernel, bias], unconnected_gradients=tf.UnconnectedGradients.ZERO)


def test_values_and_first_and_second_derivatives_equal_tf_nn_leaky_relu():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, 8, 8, 2)), tf.float32)
    kernel = tf.Variable(rng.normal(size=(4, 4, 2, 5)), dtype=tf.float32)
    bias = tf.Variable(rng.normal(size=(5,)), dtype=tf.float32)
    ours = _critic_terms(lambda h: activations.leaky_relu(h, 0.2), x, kernel, bias)
    reference = _critic_terms(lambda h: tf.nn.leaky_relu(h, alpha=0.2), x, kernel, bias)
    np.testing.assert_allclose(ours[0], reference[0], rtol=1e-6)
    np.testing.assert_allclose(ours[1], reference[1], rtol=1e-6, atol=1e-7)
    for mine, theirs in zip(ours[2], reference[2]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    # Gradient at exactly zero: both take the slope (x > 0 is false), so no value differs there either.
    zero = tf.zeros([4])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(zero)
        a, b = activations.leaky_relu(zero, 0.2), tf.nn.leaky_relu(zero, alpha=0.2)
    np.testing.assert_array_equal(tape.gradient(a, zero), tape.gradient(b, zero))


def test_max_relu_matches_relu_to_second_order():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, 8, 8, 2)), tf.float32)
    kernel = tf.Variable(rng.normal(size=(3, 3, 2, 5)), dtype=tf.float32)
    bias = tf.Variable(rng.normal(size=(5,)), dtype=tf.float32)
    ours = _critic_terms(activations.MaxReLU(), x, kernel, bias, strides=1)
    reference = _critic_terms(tf.nn.relu, x, kernel, bias, strides=1)
    np.testing.assert_allclose(ours[0], reference[0], rtol=1e-6)
    np.testing.assert_allclose(ours[1], reference[1], rtol=1e-6, atol=1e-7)
    for mine, theirs in zip(ours[2], reference[2]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    y = activations.MaxReLU(dtype="mixed_bfloat16")(tf.constant([[-1.0, 2.0]]))
    assert y.dtype == tf.bfloat16 and np.array_equal(tf.cast(y, tf.float32), [[0.0, 2.0]])


def test_layer_keeps_dtype_policy_and_config():
    layer = activations.LeakyReLU(negative_slope=0.2, dtype="mixed_bfloat16")
    y = layer(tf.constant([[-1.0, 2.0]]))
    assert y.dtype == tf.bfloat16 and np.allclose(tf.cast(y, tf.float32), [[-0.2, 2.0]], rtol=1e-2)  # bfloat16: 8 bits
    assert activations.LeakyReLU.from_config(layer.get_config()).negative_slope == 0.2


SCRIPT = """
import sys
import tensorflow as tf
from wgan.lab import benchmark
hp = benchmark.shipped_hparams("wgan-gp", sys.argv[1])
from wgan import config
hp = config.apply_overrides(hp, [("batch_size", 8), ("architecture.base_width", 8)], source="test")
benchmark.benchmark_model(hp, iterations=1)
print("done")
"""


@pytest.mark.parametrize("source", ["digits", "mnist"])  # the dcgan and the infogan critic
def test_wgan_gp_iteration_passes_grapplers_remapper(source):
    # The error this layer avoids is printed by Grappler at ERROR level; keep ERROR lines here.
    env = {**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, source], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0 and "done" in proc.stdout, proc.stderr[-3000:]
    assert "remapper failed" not in proc.stderr, proc.stderr[-3000:]
