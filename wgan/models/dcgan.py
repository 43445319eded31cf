"""DCGAN generator and critic: strided convolutions, sized from the image resolution.

Radford, Metz & Chintala 2015, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks", https://arxiv.org/abs/1511.06434.
The same networks serve as WGAN and WGAN-GP critic (Arjovsky et al. 2017; Gulrajani et
al. 2017); only the loss and the critic normalization change.

With ``base_width`` w and n up/down-sampling stages (n = 4 at 64x64):

* generator: z [B, z_dim] -> dense -> [B, s0, s0, w*2^(n-1)] -> n stages that double the
  side and halve the channels -> [B, H, W, C], the last stage with tanh and no norm;
* critic: [B, H, W, C] -> n conv stages (kernel 4, stride 2) with w, 2w, ..., w*2^(n-1)
  channels and LeakyReLU 0.2 -> [B, s0, s0, w*2^(n-1)] -> flatten -> dense -> [B, 1].

At 64x64 with w = 64 this is the standard DCGAN: critic 64-128-256-512 channels,
generator 512-256-128-64-3. The critic ends in a dense layer on the flattened s0 x s0
map, which is the paper's final "valid" s0 x s0 convolution to one output written
differently.
"""

import keras

from wgan.errors import ConfigError
from wgan.models import conditional
from wgan.models.activations import LeakyReLU
from wgan.models.layers import bias_before, kernel_initializer, normalize

LEAKY_SLOPE = 0.2  # DCGAN: "the slope of the leak was set to 0.2"
# Not keras.layers.LeakyReLU: under the gradient penalty that one makes Grappler's remapper
# fail and skip its fusions (wgan/models/activations.py, benchmarks/remapper.py).
CRITIC_ACTIVATION = LeakyReLU
MAX_START_SIDE = 7


def plan(side):
    """``(s0, n)`` for an image side: halve while even and > 7; s0 is the generator's start
    side and n the number of stages (28 -> (7, 2), 32 -> (4, 3), 64 -> (4, 4), 96 -> (6, 4)).

    Halving only even sides keeps every stride-2 stage exact, so the critic's feature
    maps mirror the generator's sizes; n >= 1 is required.
    """
    s0, n = side, 0
    while s0 % 2 == 0 and s0 > MAX_START_SIDE:
        s0, n = s0 // 2, n + 1
    if n < 1:
        raise ConfigError(
            f"key 'data.resize' is {side}; the dcgan architecture needs an even image side greater than "
            f"{MAX_START_SIDE} (for example 28, 32, 48, 64, 96, 128)")
    return s0, n


def _image_shape(hp):
    if hp.data.is_toy:
        raise ConfigError("key 'architecture.name' is 'dcgan', but toy 2-D data needs the 'mlp' architecture")
    height, width, channels = hp.data.sample_shape
    if height != width:
        raise ConfigError(f"the dcgan architecture needs square images, got {height}x{width}")
    return height, channels


def _upsample(x, filters, arch, use_bias, dtype, name):
    """Double the side of ``x`` [B, s, s, c] -> [B, 2s, 2s, filters]."""
    if arch.upsampling == "transpose":
        # Kernel 4 with stride 2 (a multiple of the stride) spreads each input pixel evenly
        # over the output; "same" padding makes the output exactly twice the input side.
        return keras.layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", use_bias=use_bias,
            kernel_initializer=kernel_initializer(arch.initializer), dtype=dtype, name=name)(x)
    # Nearest-neighbour resize then a 3x3 convolution: no uneven kernel overlap, so no
    # checkerboard artefacts (Odena et al. 2016, https://distill.pub/2016/deconv-checkerboard/).
    x = keras.layers.UpSampling2D(2, interpolation="nearest", dtype=dtype, name=f"{name}_resize")(x)
    return keras.layers.Conv2D(
        filters, 3, padding="same", use_bias=use_bias,
        kernel_initializer=kernel_initializer(arch.initializer), dtype=dtype, name=name)(x)


def make_generator(hp):
    """z float32 [B, z_dim] (and labels int32 [B] when conditional) -> images float32 [B, H, W, C]
    in [-1, 1]; a built ``keras.Model``."""
    arch, dtype = hp.architecture, hp.precision
    side, channels = _image_shape(hp)
    s0, n = plan(side)
    top = arch.base_width * 2 ** (n - 1)

    inputs, z, condition = conditional.generator_head(hp)
    # "Project and reshape": normalize after the reshape so batch norm keeps one
    # scale/offset per channel, like the convolution stages that follow.
    x = keras.layers.Dense(s0 * s0 * top, use_bias=bias_before(arch, arch.g_norm),
                           kernel_initializer=kernel_initializer(arch.initializer), dtype=dtype, name="project")(z)
    x = keras.layers.Reshape((s0, s0, top), dtype=dtype, name="reshape")(x)
    x = conditional.normalize(x, condition, arch.g_norm, arch, dtype, name="project_norm")
    x = keras.layers.ReLU(dtype=dtype, name="project_relu")(x)
    for stage in range(1, n + 1):
        if stage < n:
            x = _upsample(x, arch.base_width * 2 ** (n - 1 - stage), arch, bias_before(arch, arch.g_norm),
                          dtype, name=f"up{stage}")
            x = conditional.normalize(x, condition, arch.g_norm, arch, dtype, name=f"up{stage}_norm")
            x = keras.layers.ReLU(dtype=dtype, name=f"up{stage}_relu")(x)
        else:
            # DCGAN: no batch norm on the generator output layer; tanh maps into the data
            # range [-1, 1]. The activation runs in float32 so the output is float32
            # under mixed precision.
            x = _upsample(x, channels, arch, arch.use_bias, dtype, name=f"up{stage}")
            x = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, x, name="generator")


def make_critic(hp):
    """images float32 [B, H, W, C] (and labels int32 [B] when conditional) -> scores float32
    [B, 1], unbounded; a built ``keras.Model``."""
    arch, dtype = hp.architecture, hp.precision
    side, channels = _image_shape(hp)
    _, n = plan(side)

    inputs, x, condition = conditional.critic_head(hp, (side, side, channels), "images")
    for stage in range(1, n + 1):
        # DCGAN: no normalization on the first critic layer (normalizing the layer that sees
        # the raw images made training unstable in the paper).
        norm = arch.c_norm if stage > 1 else "none"
        x = keras.layers.Conv2D(arch.base_width * 2 ** (stage - 1), 4, strides=2, padding="same",
                                use_bias=bias_before(arch, norm), kernel_initializer=kernel_initializer(arch.initializer),
                                dtype=dtype, name=f"down{stage}")(x)
        x = normalize(x, norm, arch, dtype, name=f"down{stage}_norm")
        x = CRITIC_ACTIVATION(negative_slope=LEAKY_SLOPE, dtype=dtype, name=f"down{stage}_lrelu")(x)
    x = keras.layers.Flatten(dtype=dtype, name="flatten")(x)
    # Linear float32 score: no sigmoid (the DCGAN loss applies it to this logit), and
    # float32 so scores and losses do not round under mixed precision; plus the class projection.
    return keras.Model(inputs, conditional.critic_score(hp, x, condition), name="critic")
