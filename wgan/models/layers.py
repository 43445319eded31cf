"""Pieces shared by the architectures: weight initializers and normalization layers.

Functions named ``*_initializer`` return a fresh Keras initializer; ``normalize`` applies a
normalization layer to a functional-API tensor.
"""

import keras

from wgan.errors import ConfigError

INITIALIZERS = ("dcgan_normal", "glorot_uniform", "he_normal")


def kernel_initializer(name):
    """A new initializer for one dense or convolution kernel.

    A new instance per layer matters: a Keras 3 initializer fixes its seed when it is
    constructed (drawn from Python's ``random``, which ``keras.utils.set_random_seed``
    seeds), so one instance shared by two layers would give them identical weights, while a
    fresh one per layer makes the whole model reproducible from the trainer's seed.
    """
    if name == "dcgan_normal":
        # DCGAN: "All weights were initialized from a zero-centered Normal distribution
        # with standard deviation 0.02."
        return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)
    if name == "glorot_uniform":
        return keras.initializers.GlorotUniform()
    if name == "he_normal":
        return keras.initializers.HeNormal()
    raise ConfigError(f"key 'architecture.initializer' is {name!r}; valid values: {', '.join(INITIALIZERS)}")


def gamma_initializer(name):
    """A new initializer for a batch-norm scale: N(1, 0.02) with 'dcgan_normal' (as the
    DCGAN reference code does), ones otherwise."""
    if name == "dcgan_normal":
        return keras.initializers.RandomNormal(mean=1.0, stddev=0.02)
    return keras.initializers.Ones()


def normalize(x, kind, arch, dtype, name):
    """Apply normalization ``kind`` to the functional tensor ``x`` and return the result.

    x: [B, H, W, C] feature maps or [B, F] features. ``kind``:

    * ``"none"``: ``x`` unchanged;
    * ``"batch"``: batch norm over the batch (and spatial) axes, one scale/offset per
      channel, with ``arch.bn_momentum`` / ``arch.bn_epsilon``, over the global batch of all
      replicas with ``arch.sync_batch_norm``;
    * ``"layer"``: layer norm of each example over all its non-batch axes (H, W, C for
      feature maps, as the WGAN-GP code does for its critic); unlike batch norm it keeps
      examples independent, which the per-example gradient penalty needs. Keras gives it a
      scale/offset per element of those axes (the WGAN-GP code has one per channel).
    """
    if kind == "none":
        return x
    if kind == "batch":
        # synchronized: statistics over the global batch under tf.distribute (Keras 3's sync BN).
        return keras.layers.BatchNormalization(
            momentum=arch.bn_momentum, epsilon=arch.bn_epsilon, synchronized=arch.sync_batch_norm,
            gamma_initializer=gamma_initializer(arch.initializer), dtype=dtype, name=name)(x)
    if kind == "layer":
        axes = list(range(1, len(x.shape)))
        # The batch-norm epsilon doubles as layer-norm epsilon (the default 1e-5 is what the
        # WGAN-GP layer norm uses); Keras' own default of 1e-3 is large for small variances.
        return keras.layers.LayerNormalization(axis=axes, epsilon=arch.bn_epsilon, dtype=dtype, name=name)(x)
    raise ConfigError(f"unknown normalization {kind!r}; valid values: none, batch, layer")


def bias_before(arch, norm_kind):
    """Whether a dense/conv layer followed by ``norm_kind`` gets a bias.

    Batch norm subtracts the per-channel batch mean, which removes a per-channel bias
    exactly (its offset beta takes that role), so the bias would be a dead parameter there.
    Layer norm only removes the mean over all of an example's axes, not a per-channel
    bias, so the bias stays whenever ``arch.use_bias`` asks for it.
    """
    return arch.use_bias and norm_kind != "batch"
