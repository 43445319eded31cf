"""Multilayer perceptrons for toy 2-D data and small images.

As in the toy experiments of WGAN-GP (Gulrajani et al. 2017, "Improved Training of
Wasserstein GANs", https://arxiv.org/abs/1704.00028; code: gan_toy.py with DIM=512 and three
ReLU layers per network) and the MLP networks of WGAN (Arjovsky et al. 2017,
https://arxiv.org/abs/1701.07875).

With ``depth`` d and ``base_width`` w:

* generator: z [B, z_dim] -> d x (dense w, norm, ReLU) -> dense -> [B, 2] linear for toy
  data, or -> reshape + tanh -> [B, H, W, C] in [-1, 1] for images;
* critic: [B, 2] or [B, H, W, C] (flattened) -> d x (dense w, norm, ReLU) -> dense -> [B, 1].

Set ``g_norm`` and ``c_norm`` to "none" for the WGAN-GP toy setup, which has no normalization.
"""

import math

import keras

from wgan.models import conditional
from wgan.models.layers import bias_before, kernel_initializer


def _hidden(x, arch, norm, dtype, prefix, first_norm=True, condition=None):
    """``arch.depth`` blocks of dense(base_width) -> norm -> ReLU: [B, F] -> [B, base_width]; batch
    norm is class-conditional with a ``condition`` (``wgan.models.conditional``)."""
    for layer in range(1, arch.depth + 1):
        kind = norm if (layer > 1 or first_norm) else "none"
        x = keras.layers.Dense(arch.base_width, use_bias=bias_before(arch, kind),
                               kernel_initializer=kernel_initializer(arch.initializer),
                               dtype=dtype, name=f"{prefix}{layer}")(x)
        x = conditional.normalize(x, condition, kind, arch, dtype, name=f"{prefix}{layer}_norm")
        x = keras.layers.ReLU(dtype=dtype, name=f"{prefix}{layer}_relu")(x)
    return x


def make_generator(hp):
    """z float32 [B, z_dim] (and labels int32 [B] when conditional: a label embedding joins z, or
    class-conditional batch norm with g_norm "batch") -> float32 [B, 2] (toy, unbounded) or
    [B, H, W, C] in [-1, 1]."""
    arch, dtype, shape = hp.architecture, hp.precision, tuple(hp.data.sample_shape)
    inputs, z, condition = conditional.generator_head(hp)
    x = _hidden(z, arch, arch.g_norm, dtype, prefix="hidden", condition=condition)
    if hp.data.is_toy:
        # Toy points live on the real plane: a linear float32 output, no squashing.
        out = keras.layers.Dense(shape[0], use_bias=arch.use_bias, kernel_initializer=kernel_initializer(arch.initializer),
                                 dtype="float32", name="points")(x)
    else:
        x = keras.layers.Dense(math.prod(shape), use_bias=arch.use_bias,
                               kernel_initializer=kernel_initializer(arch.initializer), dtype=dtype, name="pixels")(x)
        x = keras.layers.Reshape(shape, dtype=dtype, name="reshape")(x)
        # tanh in float32: images in [-1, 1] and float32 under mixed precision.
        out = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, out, name="generator")


def make_critic(hp):
    """float32 [B, 2] or [B, H, W, C] (and labels int32 [B] when conditional) -> scores float32 [B, 1], unbounded."""
    arch, dtype, shape = hp.architecture, hp.precision, tuple(hp.data.sample_shape)
    inputs, x, condition = conditional.critic_head(hp, shape, "points" if hp.data.is_toy else "images")
    if not hp.data.is_toy:
        x = keras.layers.Flatten(dtype=dtype, name="flatten")(x)
    # ReLU as in both reference MLP critics. As in the dcgan critic, the layer that sees the
    # raw input is not normalized.
    x = _hidden(x, arch, arch.c_norm, dtype, prefix="hidden", first_norm=False)
    return keras.Model(inputs, conditional.critic_score(hp, x, condition), name="critic")
