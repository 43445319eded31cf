"""The residual generator and critic of WGAN-GP (Gulrajani et al. 2017).

Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville 2017, "Improved Training of Wasserstein
GANs", https://arxiv.org/abs/1704.00028; code: igul222/improved_wgan_training. The network
is chosen by the image side (``data.resize``), with ``base_width`` w:

* 32 (``gan_cifar_resnet.py``, w = 128 in the paper): generator z -> dense 4*4*w ->
  [B, 4, 4, w] -> three up-sampling residual blocks w -> w -> norm, ReLU, 3x3 conv C, tanh
  -> [B, 32, 32, C]. Critic: an "optimized" first block C -> w that halves the side (no
  norm, no leading ReLU), one down-sampling block, two plain blocks with identity
  shortcuts, then ReLU, the global MEAN over the 8x8 positions and a dense score.
* 64 (``gan_64x64.py``'s ``GoodGenerator`` / ``GoodDiscriminator``, w = 64): generator
  z -> dense 4*4*8w -> up-sampling blocks 8w -> 8w -> 4w -> 2w -> w -> norm, ReLU, 3x3 conv
  C, tanh. Critic: a 3x3 conv C -> w (no activation), down-sampling blocks w -> 2w -> 4w ->
  8w -> 8w to [B, 4, 4, 8w], flatten, dense score.

A residual block (``residual_block``) is norm -> ReLU -> conv1 -> norm -> ReLU -> conv2 (3x3)
plus a shortcut, the identity when nothing changes and a 1x1 conv otherwise. Up-sampling is
a nearest-neighbour doubling then the conv (the reference's ``UpsampleConv``: four copies of
the channels through ``depth_to_space``, which is the same thing). Down-sampling is a 2x2
mean pool after conv2 (``ConvMeanPool``); the shortcut pools after its conv at 32 and before
it at 64 (``MeanPoolConv``), as in the two files.

Normalization: ``g_norm`` in the generator (the reference: batch norm). ``c_norm`` in every
critic block except the 32x32 optimized one: the reference has none at 32 and layer norm at
64 with the gradient penalty (batch norm for its other objectives). Layer norm here is the
reference's: statistics over H, W, C of each example, one scale and offset per channel
(``keras.layers.GroupNormalization`` with one group, computed in float32).

Differences from the reference, deliberate:

* biases straight before batch norm are dropped (batch norm cancels them;
  ``layers.bias_before``): conv1 of the 32x32 blocks has one in the reference
  (tests/test_models.py counts both); the 64x64 file already leaves it out;
* weights follow ``architecture.initializer``; the reference draws uniform weights with
  variance 2 / (fan_in + fan_out) (Glorot) for shortcuts and dense layers and twice that
  for the other convolutions;
* the reference's conditional variant is built differently: class-conditional batch norm in
  the generator as in its ``Normalize`` with labels, but a projection critic term (Miyato &
  Koyama 2018) instead of its ACGAN classifier head (``wgan.models.conditional``);
* the critic's ReLUs that read a residual sum are ``tf.maximum(x, 0)`` (``CRITIC_SUM_ACTIVATION``),
  the same values, so that Grappler's remapper does not fail under the gradient penalty.
"""

from dataclasses import dataclass

import keras

from wgan.errors import ConfigError
from wgan.models import conditional
from wgan.models.activations import MaxReLU
from wgan.models.layers import bias_before, kernel_initializer, normalize

START_SIDE = 4  # both generators start from 4x4, both 64x64 critics end there
# The critic's ReLUs that read a residual sum directly (the head's, and each block's first
# with c_norm "none"): not keras.layers.ReLU,
# whose Conv2D + BiasAdd + Add + Relu fusion makes Grappler's remapper fail under the gradient
# penalty (wgan/models/activations.py, benchmarks/remapper_resnet.py). The generator keeps
# Keras' own, so an exported generator.keras loads without this package.
CRITIC_SUM_ACTIVATION = MaxReLU


@dataclass(frozen=True)
class Plan:
    """The shape of one reference network pair, channels as multiples of ``base_width``.

    ``g_channels``: the dense layer's channels, then each up-sampling block's output.
    ``c_stem``: builds the critic's first layer(s), images -> [B, s, s, w].
    ``c_blocks``: ``(output channels, resample)`` of the critic blocks after the stem,
    numbered from ``c_first_block``.
    ``c_head``: [B, s, s, c] -> [B, F] before the dense score.
    ``conv1_bias``: whether conv1 of a block has a bias in the reference.
    ``pool_first``: down-sampling shortcut pools before its 1x1 conv (else after).
    """

    reference: str
    g_channels: tuple
    c_stem: object
    c_blocks: tuple
    c_first_block: int
    c_head: object
    conv1_bias: bool
    pool_first: bool


def _plain_norm(x, kind, arch, dtype, name):
    """``layers.normalize``, except that "layer" is the reference's layer norm: statistics over
    H, W, C of each example with one scale and offset per channel (Keras' LayerNormalization
    would hold one per element)."""
    if kind == "layer":
        return keras.layers.GroupNormalization(groups=1, epsilon=arch.bn_epsilon, dtype=dtype, name=name)(x)
    return normalize(x, kind, arch, dtype, name)


def _norm(x, kind, arch, dtype, name, condition=None):
    """``_plain_norm``, with class-conditional batch norm for a ``condition`` (``wgan.models.conditional``)."""
    return conditional.normalize(x, condition, kind, arch, dtype, name, plain=_plain_norm)


def _conv(x, filters, kernel, use_bias, arch, dtype, name):
    return keras.layers.Conv2D(filters, kernel, padding="same", use_bias=use_bias,
                               kernel_initializer=kernel_initializer(arch.initializer), dtype=dtype, name=name)(x)


def _double(x, dtype, name):
    return keras.layers.UpSampling2D(2, interpolation="nearest", dtype=dtype, name=name)(x)


def _halve(x, dtype, name):
    # The reference's mean of the four 2x2 phases, i.e. a 2x2 average pool with stride 2.
    return keras.layers.AveragePooling2D(2, dtype=dtype, name=name)(x)


def residual_block(x, filters, resample, norm, arch, dtype, name, conv1_bias=True, pool_first=False,
                   first_activation=keras.layers.ReLU, condition=None):
    """One residual block: [B, s, s, c] -> [B, s', s', filters], s' = 2s ("up"), s/2 ("down") or s (None).

    ``norm``: "none", "batch" or "layer" (``layers.normalize``); ``conv1_bias``: whether conv1
    may have a bias (it never has one before batch norm); ``pool_first``: a down-sampling
    shortcut pools before its conv; ``first_activation``: the ReLU layer class after the first
    norm, which reads the block's input itself when ``norm`` is "none".
    """
    channels = x.shape[-1]
    if resample is None and filters == channels:
        shortcut = x
    else:
        s = x
        if resample == "up":
            s = _double(s, dtype, f"{name}_shortcut_up")
        elif resample == "down" and pool_first:
            s = _halve(s, dtype, f"{name}_shortcut_pool")
        s = _conv(s, filters, 1, arch.use_bias, arch, dtype, f"{name}_shortcut")
        if resample == "down" and not pool_first:
            s = _halve(s, dtype, f"{name}_shortcut_pool")
        shortcut = s

    h = _norm(x, norm, arch, dtype, name=f"{name}_norm1", condition=condition)
    relu1 = first_activation if norm == "none" else keras.layers.ReLU
    h = relu1(dtype=dtype, name=f"{name}_relu1")(h)
    if resample == "up":
        h = _double(h, dtype, f"{name}_up")
    # Down-sampling blocks keep the input width in conv1 and change it in conv2.
    h = _conv(h, channels if resample == "down" else filters, 3, conv1_bias and bias_before(arch, norm),
              arch, dtype, f"{name}_conv1")
    h = _norm(h, norm, arch, dtype, name=f"{name}_norm2", condition=condition)
    h = keras.layers.ReLU(dtype=dtype, name=f"{name}_relu2")(h)
    h = _conv(h, filters, 3, arch.use_bias, arch, dtype, f"{name}_conv2")
    if resample == "down":
        h = _halve(h, dtype, f"{name}_pool")
    return keras.layers.Add(dtype=dtype, name=name)([shortcut, h])


def _optimized_stem(images, width, arch, dtype):
    """gan_cifar_resnet.py ``OptimizedResBlockDisc1``: [B, 32, 32, C] -> [B, 16, 16, w]; no
    norm and no ReLU in front of the first conv, which sees the images."""
    s = _halve(images, dtype, "block1_shortcut_pool")
    s = _conv(s, width, 1, arch.use_bias, arch, dtype, "block1_shortcut")
    h = _conv(images, width, 3, arch.use_bias, arch, dtype, "block1_conv1")
    h = keras.layers.ReLU(dtype=dtype, name="block1_relu1")(h)
    h = _conv(h, width, 3, arch.use_bias, arch, dtype, "block1_conv2")
    h = _halve(h, dtype, "block1_pool")
    return keras.layers.Add(dtype=dtype, name="block1")([s, h])


def _conv_stem(images, width, arch, dtype):
    """gan_64x64.py ``GoodDiscriminator``'s input conv: [B, 64, 64, C] -> [B, 64, 64, w], no activation."""
    return _conv(images, width, 3, arch.use_bias, arch, dtype, "stem")


def _mean_head(x, dtype):
    """ReLU, then the mean over all positions: [B, s, s, c] -> [B, c]."""
    x = CRITIC_SUM_ACTIVATION(dtype=dtype, name="head_relu")(x)
    return keras.layers.GlobalAveragePooling2D(dtype=dtype, name="mean_pool")(x)


def _flatten_head(x, dtype):
    return keras.layers.Flatten(dtype=dtype, name="flatten")(x)


PLANS = {
    32: Plan(reference="gan_cifar_resnet.py", g_channels=(1, 1, 1, 1), c_stem=_optimized_stem,
             c_blocks=((1, "down"), (1, None), (1, None)), c_first_block=2, c_head=_mean_head, conv1_bias=True,
             pool_first=False),
    64: Plan(reference="gan_64x64.py GoodGenerator/GoodDiscriminator", g_channels=(8, 8, 4, 2, 1),
             c_stem=_conv_stem, c_blocks=((2, "down"), (4, "down"), (8, "down"), (8, "down")), c_first_block=1,
             c_head=_flatten_head,
             conv1_bias=False, pool_first=True),
}


def plan(hp):
    """The ``Plan`` for ``hp``'s images and their ``(side, channels)``; a ConfigError for other shapes."""
    if hp.data.is_toy:
        raise ConfigError("key 'architecture.name' is 'resnet', but toy 2-D data needs the 'mlp' architecture")
    height, width, channels = hp.data.sample_shape
    if height != width or height not in PLANS:
        raise ConfigError(f"key 'data.resize' is {height}" + (f" (images {height}x{width})" if height != width else "")
                          + "; the resnet architecture is defined for image sides "
                          + ", ".join(f"{side} ({p.reference})" for side, p in PLANS.items()))
    return PLANS[height], height, channels


def make_generator(hp):
    """z float32 [B, z_dim] (and labels int32 [B] when conditional) -> images float32 [B, H, W, C]
    in [-1, 1]; a built ``keras.Model``."""
    arch, dtype = hp.architecture, hp.precision
    p, _, channels = plan(hp)
    w = arch.base_width
    inputs, z, condition = conditional.generator_head(hp)
    # The dense layer's output also feeds the first shortcut, not only batch norm, so its bias is live.
    x = keras.layers.Dense(START_SIDE * START_SIDE * p.g_channels[0] * w, use_bias=arch.use_bias,
                           kernel_initializer=kernel_initializer(arch.initializer), dtype=dtype, name="project")(z)
    x = keras.layers.Reshape((START_SIDE, START_SIDE, p.g_channels[0] * w), dtype=dtype, name="reshape")(x)
    for stage, factor in enumerate(p.g_channels[1:], start=1):
        x = residual_block(x, factor * w, "up", arch.g_norm, arch, dtype, f"block{stage}", p.conv1_bias,
                           condition=condition)
    x = _norm(x, arch.g_norm, arch, dtype, name="out_norm", condition=condition)
    x = keras.layers.ReLU(dtype=dtype, name="out_relu")(x)
    x = _conv(x, channels, 3, arch.use_bias, arch, dtype, "out_conv")
    # tanh in float32: pixels in [-1, 1], and float32 images under mixed precision.
    x = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, x, name="generator")


def make_critic(hp):
    """images float32 [B, H, W, C] (and labels int32 [B] when conditional) -> scores float32 [B, 1],
    unbounded; a built ``keras.Model``."""
    arch, dtype = hp.architecture, hp.precision
    p, side, channels = plan(hp)
    w = arch.base_width
    inputs, images, condition = conditional.critic_head(hp, (side, side, channels), "images")
    x = p.c_stem(images, w, arch, dtype)
    for index, (factor, resample) in enumerate(p.c_blocks, start=p.c_first_block):
        x = residual_block(x, factor * w, resample, arch.c_norm, arch, dtype, f"block{index}", p.conv1_bias,
                           p.pool_first, first_activation=CRITIC_SUM_ACTIVATION)
    x = p.c_head(x, dtype)
    # Linear float32 score: no sigmoid (the DCGAN loss applies it), no rounding under mixed
    # precision; plus the class projection on the same features when conditional.
    return keras.Model(inputs, conditional.critic_score(hp, x, condition), name="critic")
