"""Spectral normalization of a critic: every kernel divided by its largest singular value.

Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for Generative Adversarial
Networks", https://arxiv.org/abs/1802.05957 (Algorithm 1). Each kernel W, reshaped to a
matrix [fan_in, units] (a convolution's [kh * kw * c_in, c_out], as the paper does), is used
as W / sigma(W), with sigma estimated by power iteration from a vector u [units] kept
between calls: v = normalize(W u), u' = normalize(W^T v), sigma = v^T W u'. u and v are
constants for the gradient (``stop_gradient``), as in the paper; sigma is not, so the
gradient of the loss reaches W through 1 / sigma too.

Why not ``keras.layers.SpectralNormalization`` (Keras 3.15): in training mode it *assigns*
W / sigma into the kernel variable inside the forward pass. The layer's trainable kernel is
then overwritten by every critic call (the real and the fake batch, the penalty's
interpolates, the generator's update), the gradient never sees the 1 / sigma factor, and an
optimizer's moments refer to a weight that the next call rescales. Here the kernel variable
keeps the raw W that the optimizer trains, and the normalized kernel exists only inside the
call: ``keras.StatelessScope`` maps each kernel variable to W / sigma for the duration of the
wrapped critic's forward pass, so any architecture's Dense and Conv layers are normalized
without rebuilding them.

State: one non-trainable u per kernel, an attribute of the wrapper, so it is in every
checkpoint and a resumed run continues bit-identically. In training mode each call does
``iterations`` power iterations and stores the new u (under ``tf.distribute`` every replica
holds the same weights and u, so the per-replica assign keeps the copies equal, as weight
clipping's projection does). In inference mode the same iterations run but u is not stored,
so evaluating or plotting a critic never changes its training.
"""

import keras
import tensorflow as tf

# Added to the norm before dividing: a zero vector (an all-zero kernel) stays finite.
NORMALIZE_EPSILON = 1e-12


def _normalize(x):
    return x / (tf.norm(x) + NORMALIZE_EPSILON)


def power_iteration(matrix, u, iterations=1):
    """``(u', v, sigma)`` for ``matrix`` float32 [fan_in, units] and a unit ``u`` [units].

    ``iterations`` rounds of v = normalize(W u), u = normalize(W^T v); sigma = v^T W u' >= 0
    estimates the largest singular value (exact in the limit, for a u not orthogonal to the
    top right-singular vector). u' and v are returned without gradient; sigma carries the
    gradient with respect to ``matrix``.
    """
    v = None
    for _ in range(iterations):
        v = _normalize(tf.linalg.matvec(matrix, u))
        u = _normalize(tf.linalg.matvec(matrix, v, transpose_a=True))
    u, v = tf.stop_gradient(u), tf.stop_gradient(v)
    sigma = tf.tensordot(v, tf.linalg.matvec(matrix, u), 1)
    return u, v, sigma


def _as_matrix(kernel):
    """A kernel [..., units] as float32 [fan_in, units]."""
    value = tf.cast(tf.convert_to_tensor(kernel), tf.float32)
    return tf.reshape(value, [-1, kernel.shape[-1]])


class SpectralNormCritic(keras.Model):
    """``critic`` with every kernel spectrally normalized; called like it: [B, ...] -> scores [B, 1].

    ``iterations``: power iterations per call (1 in the paper: u carries over between
    updates, so one is enough once training has warmed it up). Every trainable variable
    whose path ends in ``kernel`` (Dense, Conv2D, and the layers of nested models) is
    normalized; biases and normalization parameters are not.
    """

    def __init__(self, critic, iterations=1, seed=None):
        super().__init__(name=critic.name)
        self.critic = critic
        self.iterations = int(iterations)
        self.kernels = [v for v in critic.trainable_variables if v.path.endswith("kernel")]
        self.power_vectors = []
        for index, kernel in enumerate(self.kernels):
            # A random unit-norm start (the paper's u ~ N(0, I), normalized on first use).
            u = self.add_weight(shape=(kernel.shape[-1],), trainable=False, name=f"sn_u_{index}",
                                initializer=keras.initializers.RandomNormal(seed=None if seed is None else seed + index))
            # An attribute of its own: a list alone would leave u out of tf.train.Checkpoint.
            setattr(self, f"sn_u_{index}", u)
            self.power_vectors.append(u)

    def normalized_kernels(self, training=False):
        """``[(kernel variable, W / sigma as a tensor, sigma)]``; stores the new u's when ``training``."""
        out = []
        for kernel, u in zip(self.kernels, self.power_vectors):
            new_u, _, sigma = power_iteration(_as_matrix(kernel), _normalize(tf.convert_to_tensor(u)),
                                              self.iterations)
            if training:
                u.assign(new_u)
            value = tf.convert_to_tensor(kernel)
            out.append((kernel, value / tf.cast(sigma, value.dtype), sigma))
        return out

    def call(self, inputs, training=False):
        mapping = [(kernel, value) for kernel, value, _ in self.normalized_kernels(training)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            scores = self.critic(inputs, training=training)
        # Updates the wrapped critic made to its own state inside the scope (batch-norm moving
        # statistics) were collected by it instead of applied: apply them now.
        for variable in self.critic.non_trainable_variables:
            value = scope.get_current_value(variable)
            if value is not None:
                variable.assign(value)
        return scores

    def layer_sigmas(self, iterations=20):
        """``{kernel path: largest singular value of the kernel the layer applies}`` (Python floats).

        The kernel applied in inference, W / sigma(u), analysed by ``iterations`` more power
        iterations warm-started from the stored u (nothing is stored): about 1 while the
        power iteration keeps up with the weights, above 1 when u lags behind them.
        """
        out = {}
        for (kernel, value, _), u in zip(self.normalized_kernels(training=False), self.power_vectors):
            matrix = tf.reshape(tf.cast(value, tf.float32), [-1, kernel.shape[-1]])
            _, _, sigma = power_iteration(matrix, _normalize(tf.convert_to_tensor(u)), iterations)
            out[kernel.path] = float(sigma)
        return out


def wrap(critic, iterations):
    """The constraint registry's ``wrap_critic``: ``critic`` spectrally normalized (``SpectralNormCritic``)."""
    return SpectralNormCritic(critic, iterations)
