"""The InfoGAN-style networks of "Are GANs Created Equal?" (Lucic et al. 2018).

Lucic, Kurach, Michalski, Gelly & Bousquet 2018, https://arxiv.org/abs/1711.10337; code:
google/compare_gan, branch v1, ``compare_gan/src/gans/abstract_gan.py`` (after Chen et al.
2016, InfoGAN, https://arxiv.org/abs/1606.03657). With ``base_width`` w (64 in the paper)
and an image side s (a multiple of 4; 28 for MNIST and Fashion-MNIST):

* generator: z [B, z_dim] -> dense 16w (1024) -> BN -> LReLU -> dense (s/4)^2 * 2w
  (7*7*128) -> BN -> LReLU -> reshape [B, s/4, s/4, 2w] -> 4x4 stride-2 transposed conv w
  (64) -> BN -> LReLU -> 4x4 stride-2 transposed conv C -> sigmoid, rescaled to [-1, 1];
* critic: [B, s, s, C] -> 4x4 stride-2 conv w (64) -> LReLU -> 4x4 stride-2 conv 2w (128)
  -> norm -> LReLU -> flatten -> dense 16w (1024) -> norm -> LReLU -> dense 1.

Differences from the reference, all deliberate:

* **Output range.** The reference generator ends in a sigmoid, pixels in [0, 1]; this
  toolkit's data are scaled to [-1, 1]. The output here is ``2 * sigmoid(a) - 1`` of the
  same pre-activation ``a`` (which equals ``tanh(a / 2)``): the same function of the
  weights, mapped affinely onto the toolkit's pixel range, so a generator of either code
  makes the same images once both are converted to uint8.
* **Biases before batch norm** are dropped, as everywhere in this toolkit (batch norm
  subtracts the batch mean, which cancels them; see ``layers.bias_before``). The reference
  keeps them as dead parameters: tests/test_models.py counts both.
* **Critic normalization** follows ``architecture.c_norm`` (the reference's
  ``discriminator_batchnorm``: batch for GAN and WGAN, none for WGAN-GP, in the places
  shown above; ``layer`` is also allowed). The generator always uses ``g_norm``.
* The critic returns its logit (no sigmoid): the DCGAN loss applies it.
* Weights use ``architecture.initializer``; the reference draws N(0, 0.02) (truncated
  for convolutions), which ``dcgan_normal`` matches except for the truncation.

LeakyReLU has slope 0.2 in both networks, as in the reference's ``lrelu``; batch-norm
momentum and epsilon come from ``architecture.bn_momentum`` / ``bn_epsilon`` (the paper
files set the reference's 0.999 and 0.001).
"""

import keras

from wgan.errors import ConfigError
from wgan.models import conditional
from wgan.models.activations import LeakyReLU
from wgan.models.layers import bias_before, kernel_initializer, normalize

LEAKY_SLOPE = 0.2  # compare_gan v1 ops.lrelu
# The critic's LeakyReLU takes its gradient from its output, so the gradient penalty does not make
# Grappler's remapper fail (wgan/models/activations.py). The generator keeps Keras' own, so an
# exported generator.keras loads without this package.
CRITIC_ACTIVATION = LeakyReLU
# Hidden width of the dense layers relative to base_width: 16 * 64 = 1024 in the paper.
DENSE_FACTOR = 16


def _image_shape(hp):
    if hp.data.is_toy:
        raise ConfigError("key 'architecture.name' is 'infogan', but toy 2-D data needs the 'mlp' architecture")
    height, width, channels = hp.data.sample_shape
    if height != width or height % 4:
        raise ConfigError(f"key 'data.resize' is {height}; the infogan architecture needs square images with a "
                          "side divisible by 4 (28 for mnist and fashion_mnist, 32, 64)")
    return height, channels


def _dense(x, units, arch, norm, dtype, name, activation=keras.layers.LeakyReLU, condition=None):
    x = keras.layers.Dense(units, use_bias=bias_before(arch, norm),
                           kernel_initializer=kernel_initializer(arch.initializer), dtype=dtype, name=name)(x)
    x = conditional.normalize(x, condition, norm, arch, dtype, name=f"{name}_norm")
    return activation(negative_slope=LEAKY_SLOPE, dtype=dtype, name=f"{name}_lrelu")(x)


def make_generator(hp):
    """z float32 [B, z_dim] (and labels int32 [B] when conditional) -> images float32 [B, s, s, C]
    in [-1, 1]; a built ``keras.Model``."""
    arch, dtype = hp.architecture, hp.precision
    side, channels = _image_shape(hp)
    quarter, w = side // 4, arch.base_width

    inputs, z, condition = conditional.generator_head(hp)
    x = _dense(z, DENSE_FACTOR * w, arch, arch.g_norm, dtype, name="fc1", condition=condition)
    # As in the reference, batch norm sees the flat features (one scale per unit), before the reshape.
    x = _dense(x, quarter * quarter * 2 * w, arch, arch.g_norm, dtype, name="fc2", condition=condition)
    x = keras.layers.Reshape((quarter, quarter, 2 * w), dtype=dtype, name="reshape")(x)
    x = keras.layers.Conv2DTranspose(w, 4, strides=2, padding="same", use_bias=bias_before(arch, arch.g_norm),
                                     kernel_initializer=kernel_initializer(arch.initializer), dtype=dtype,
                                     name="up1")(x)
    x = conditional.normalize(x, condition, arch.g_norm, arch, dtype, name="up1_norm")
    x = keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, dtype=dtype, name="up1_lrelu")(x)
    x = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=arch.use_bias,
                                     kernel_initializer=kernel_initializer(arch.initializer), dtype=dtype,
                                     name="up2")(x)
    # The reference's sigmoid, then [0, 1] -> [-1, 1] (see the module docstring); both in
    # float32 so the output is float32 under mixed precision. Built-in layers only, so an
    # exported generator.keras loads without this package.
    x = keras.layers.Activation("sigmoid", dtype="float32", name="sigmoid")(x)
    x = keras.layers.Rescaling(2.0, offset=-1.0, dtype="float32", name="to_signed")(x)
    return keras.Model(inputs, x, name="generator")


def make_critic(hp):
    """images float32 [B, s, s, C] (and labels int32 [B] when conditional) -> scores float32 [B, 1],
    unbounded; a built ``keras.Model``."""
    arch, dtype = hp.architecture, hp.precision
    side, channels = _image_shape(hp)
    w = arch.base_width

    inputs, x, condition = conditional.critic_head(hp, (side, side, channels), "images")
    for stage, (filters, norm) in enumerate([(w, "none"), (2 * w, arch.c_norm)], start=1):
        # The reference normalizes only the second convolution, never the layer that sees the images.
        x = keras.layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=bias_before(arch, norm),
                                kernel_initializer=kernel_initializer(arch.initializer), dtype=dtype,
                                name=f"down{stage}")(x)
        x = normalize(x, norm, arch, dtype, name=f"down{stage}_norm")
        x = CRITIC_ACTIVATION(negative_slope=LEAKY_SLOPE, dtype=dtype, name=f"down{stage}_lrelu")(x)
    x = keras.layers.Flatten(dtype=dtype, name="flatten")(x)
    x = _dense(x, DENSE_FACTOR * w, arch, arch.c_norm, dtype, name="fc3", activation=CRITIC_ACTIVATION)
    return keras.Model(inputs, conditional.critic_score(hp, x, condition), name="critic")
