"""A LeakyReLU whose gradient reads its output, so Grappler can fuse it into the convolution.

With a gradient penalty the critic's LeakyReLU is differentiated twice. ``tf.nn.leaky_relu``'s
gradient (``LeakyReluGrad``) reads the op's *input*, the BiasAdd output; Grappler's remapper
still fuses Conv2D + BiasAdd + LeakyRelu into one op, then finds that BiasAdd output wanted
by the gradient, prints ``E0000 ... meta_optimizer.cc] remapper failed: INVALID_ARGUMENT:
Mutation::Apply error: fanout '...LeakyReluGrad' exist for missing node '...BiasAdd'`` and
drops every remapper fusion of the training iteration. ``benchmarks/remapper.py`` measures
what that costs.

For a slope in (0, 1), ``y = leaky_relu(x)`` has the sign of ``x``, so the gradient
``dy * (1 if x > 0 else slope)`` equals ``dy * (1 if y > 0 else slope)``: reading ``y``
gives the same values (tests/test_models.py compares first and second derivatives with
``tf.nn.leaky_relu``'s) and leaves the BiasAdd a single consumer, so the fusion applies.
Its second derivative is zero wherever it exists, as for ``tf.nn.leaky_relu``.
"""

import keras
import tensorflow as tf


def leaky_relu(x, slope):
    """``tf.nn.leaky_relu(x, slope)`` (any shape, float dtype) with the gradient taken from the output."""

    @tf.custom_gradient
    def forward(x):
        y = tf.nn.leaky_relu(x, alpha=slope)

        def grad(dy):
            return dy * tf.where(y > 0, tf.ones_like(y), tf.fill(tf.shape(y), tf.constant(slope, y.dtype)))

        return y, grad

    return forward(x)


@keras.saving.register_keras_serializable(package="wgan")
class LeakyReLU(keras.layers.Layer):
    """``keras.layers.LeakyReLU`` computed by ``leaky_relu``; no weights (old checkpoints load unchanged)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        if not 0 < negative_slope < 1:
            raise ValueError(f"negative_slope must be in (0, 1) for the output-based gradient, got {negative_slope}")
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        return leaky_relu(inputs, self.negative_slope)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


@keras.saving.register_keras_serializable(package="wgan")
class MaxReLU(keras.layers.Layer):
    """ReLU written as ``tf.maximum(x, 0)`` (any shape, float dtype), for a ReLU that reads a residual sum.

    In a residual critic, Grappler's remapper fuses Conv2D + BiasAdd + Add + Relu (the conv of
    a shortcut or a block, the residual sum, the next block's ReLU) into one op. Under the
    gradient penalty the sum is still wanted by the next convolution's gradient
    (``ShapeN``), and the remapper fails exactly as for LeakyReLU (``fanout ... exist for
    missing node ...Add``) and drops its fusions. A ``Maximum`` is not in that pattern, so
    the fusion is not attempted. The values equal ``tf.nn.relu``'s; the gradient too except
    at exactly 0 (1 here, 0 there), a set of measure zero; the second derivative is zero
    wherever it exists. ``benchmarks/remapper_resnet.py`` measures the difference.
    """

    def call(self, inputs):
        return tf.maximum(inputs, tf.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape
