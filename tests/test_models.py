"""Shape, range, dtype, initialisation and FLOP-count tests of the architectures in wgan.models."""

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from wgan import config
from wgan.config import ArchitectureConfig, DataConfig, HParams
from wgan.errors import ConfigError
from wgan.models import ARCHITECTURES, make_critic, make_generator
from wgan.models.dcgan import plan
from wgan.models.flops import count_flops

SIDES = (28, 32, 48, 64, 96, 128)
BATCH = 2


def make_hp(name="dcgan", side=32, channels=3, base_width=4, z_dim=8, **arch):
    """Tiny hyperparameters; ``side=None`` means toy 2-D data."""
    data = DataConfig(name="test", crop=None, resize=side, channels=0 if side is None else channels)
    return HParams(data=data, z_dim=z_dim, architecture=ArchitectureConfig(name=name, base_width=base_width, **arch))


def noise(hp, batch=BATCH, seed=0):
    return tf.random.stateless_normal([batch, hp.z_dim], seed=[seed, 1])


def images(hp, batch=BATCH, seed=0):
    return tf.random.stateless_uniform([batch, *hp.data.sample_shape], seed=[seed, 2], minval=-1.0, maxval=1.0)


def assert_generator_output(hp, generator, training):
    out = generator(noise(hp), training=training)
    assert out.dtype == tf.float32
    assert tuple(out.shape) == (BATCH, *hp.data.sample_shape)
    values = out.numpy()
    assert np.all(np.isfinite(values))
    if not hp.data.is_toy:
        assert values.min() >= -1.0 and values.max() <= 1.0
    return values


def assert_critic_output(hp, critic, training):
    out = critic(images(hp), training=training)
    assert out.dtype == tf.float32
    assert tuple(out.shape) == (BATCH, 1)
    assert np.all(np.isfinite(out.numpy()))


# ----- registry ------------------------------------------------------------------------
def test_registry_lists_architectures_without_importing_tensorflow():
    code = "import sys, wgan.models; print(sorted(wgan.models.ARCHITECTURES)); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["['dcgan',", "'infogan',", "'mlp',", "'resnet']", "False"]


@pytest.mark.parametrize("build", [make_generator, make_critic])
def test_unknown_architecture_lists_valid_names(build):
    with pytest.raises(ConfigError, match=r"key 'architecture.name' is 'biggan'; valid values: dcgan, infogan, mlp, resnet"):
        build(make_hp(name="biggan"))


def test_config_validator_rejects_unknown_architecture():
    with pytest.raises(ConfigError, match=r"^h.json: key 'architecture.name' is 'biggan'; valid values: dcgan, infogan, mlp, "
                                          r"resnet$"):
        config.from_dict({"architecture": {"name": "biggan"}}, source="h.json")
    assert config.from_dict({"architecture": {"name": "mlp"}}).architecture.name == "mlp"


def test_models_are_named_and_built_on_construction():
    for name in ARCHITECTURES:
        hp = make_hp(name=name)
        generator, critic = make_generator(hp), make_critic(hp)
        assert (generator.name, critic.name) == ("generator", "critic")
        assert generator.built and critic.built
        assert generator.trainable_variables and critic.trainable_variables


# ----- dcgan ---------------------------------------------------------------------------
@pytest.mark.parametrize("side, expected", [(28, (7, 2)), (32, (4, 3)), (48, (6, 3)), (64, (4, 4)),
                                            (96, (6, 4)), (128, (4, 5)), (10, (5, 1))])
def test_dcgan_plan(side, expected):
    assert plan(side) == expected


@pytest.mark.parametrize("side", [7, 6, 27, 1])
def test_dcgan_rejects_sides_it_cannot_build(side):
    with pytest.raises(ConfigError, match=f"key 'data.resize' is {side}; the dcgan architecture needs an even"):
        make_generator(make_hp(side=side))


def test_dcgan_rejects_toy_data():
    with pytest.raises(ConfigError, match="needs the 'mlp' architecture"):
        make_critic(make_hp(side=None))


@pytest.mark.parametrize("g_norm", ["batch", "none"])
@pytest.mark.parametrize("upsampling", ["transpose", "nearest"])
@pytest.mark.parametrize("side", SIDES)
def test_dcgan_generator_shapes_and_range(side, upsampling, g_norm):
    hp = make_hp(side=side, channels=1 if side == 28 else 3, upsampling=upsampling, g_norm=g_norm)
    generator = make_generator(hp)
    assert_generator_output(hp, generator, training=True)
    assert_generator_output(hp, generator, training=False)
    # The start side is the plan's, and each stage doubles it.
    s0, n = plan(side)
    assert tuple(generator.get_layer("reshape").output.shape[1:3]) == (s0, s0)
    assert len([l for l in generator.layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]) == n


@pytest.mark.parametrize("c_norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("side", SIDES)
def test_dcgan_critic_shapes(side, c_norm):
    hp = make_hp(side=side, channels=1 if side == 28 else 3, c_norm=c_norm)
    critic = make_critic(hp)
    assert_critic_output(hp, critic, training=True)
    assert_critic_output(hp, critic, training=False)
    # No normalization on the first layer; one on each later stage when asked for.
    norms = [l.name for l in critic.layers if "norm" in l.name]
    expected = [] if c_norm == "none" else [f"down{i}_norm" for i in range(2, plan(side)[1] + 1)]
    assert norms == expected


def test_standard_64x64_dcgan_channels_and_parameter_counts():
    hp = make_hp(side=64, base_width=64, z_dim=100)
    generator, critic = make_generator(hp), make_critic(hp)
    assert generator.get_layer("reshape").output.shape[1:] == (4, 4, 512)
    assert [generator.get_layer(f"up{i}").output.shape[-1] for i in range(1, 5)] == [256, 128, 64, 3]
    assert generator.output.shape[1:] == (64, 64, 3)
    assert [critic.get_layer(f"down{i}").output.shape[1:] for i in range(1, 5)] == [
        (32, 32, 64), (16, 16, 128), (8, 8, 256), (4, 4, 512)]
    # Pinned because docs/models.md quotes them.
    assert generator.count_params() == 3_578_627
    assert critic.count_params() == 2_764_737
    assert count_flops(generator) == 209_256_448
    assert count_flops(critic) == 207_634_432
    nearest = make_generator(make_hp(side=64, base_width=64, z_dim=100, upsampling="nearest"))
    assert (nearest.count_params(), count_flops(nearest)) == (2_373_059, 468_779_008)
    assert make_critic(make_hp(side=64, base_width=64, c_norm="layer")).count_params() == 2_879_425


def test_biases_are_dropped_before_batch_norm_and_by_use_bias():
    def biases(model):
        return {l.name: l.use_bias for l in model.layers if hasattr(l, "use_bias") and hasattr(l, "kernel")}

    generator = make_generator(make_hp(g_norm="batch"))
    assert biases(generator) == {"project": False, "up1": False, "up2": False, "up3": True}
    critic = make_critic(make_hp(c_norm="batch"))
    assert biases(critic) == {"down1": True, "down2": False, "down3": False, "score": True}
    critic = make_critic(make_hp(c_norm="layer"))
    assert all(biases(critic).values())
    for model in (make_generator(make_hp(use_bias=False, g_norm="none")), make_critic(make_hp(use_bias=False))):
        assert not any(biases(model).values())


# ----- mlp -----------------------------------------------------------------------------
@pytest.mark.parametrize("g_norm, c_norm", [("none", "none"), ("batch", "layer"), ("batch", "batch")])
def test_mlp_toy_shapes(g_norm, c_norm):
    hp = make_hp(name="mlp", side=None, base_width=16, depth=3, g_norm=g_norm, c_norm=c_norm)
    generator, critic = make_generator(hp), make_critic(hp)
    for training in (True, False):
        assert_generator_output(hp, generator, training)
        assert_critic_output(hp, critic, training)
    assert len([l for l in critic.layers if isinstance(l, keras.layers.Dense)]) == 3 + 1


def test_mlp_toy_generator_output_is_linear():
    hp = make_hp(name="mlp", side=None, g_norm="none")
    generator = make_generator(hp)
    points = generator.get_layer("points")
    points.kernel.assign(tf.zeros_like(points.kernel))
    points.bias.assign([7.0, -7.0])
    np.testing.assert_array_equal(generator(noise(hp)).numpy(), [[7.0, -7.0]] * BATCH)


@pytest.mark.parametrize("side, channels", [(28, 1), (32, 3)])
def test_mlp_image_shapes(side, channels):
    hp = make_hp(name="mlp", side=side, channels=channels, base_width=16, depth=2, c_norm="layer")
    assert_generator_output(hp, make_generator(hp), training=True)
    assert_critic_output(hp, make_critic(hp), training=True)


# ----- infogan -------------------------------------------------------------------------
@pytest.mark.parametrize("c_norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("side, channels", [(28, 1), (32, 3)])
def test_infogan_shapes_and_range(side, channels, c_norm):
    hp = make_hp(name="infogan", side=side, channels=channels, base_width=4, c_norm=c_norm)
    generator, critic = make_generator(hp), make_critic(hp)
    for training in (True, False):
        assert_generator_output(hp, generator, training)
        assert_critic_output(hp, critic, training)
    quarter = side // 4
    assert tuple(generator.get_layer("reshape").output.shape[1:]) == (quarter, quarter, 8)
    assert tuple(generator.get_layer("up1").output.shape[1:]) == (side // 2, side // 2, 4)
    assert tuple(critic.get_layer("down2").output.shape[1:]) == (quarter, quarter, 8)
    norms = [l.name for l in critic.layers if "norm" in l.name]
    assert norms == ([] if c_norm == "none" else ["down2_norm", "fc3_norm"])


@pytest.mark.parametrize("side", [30, 27])
def test_infogan_rejects_sides_not_divisible_by_4(side):
    with pytest.raises(ConfigError, match=rf"key 'data.resize' is {side}; the infogan architecture needs"):
        make_generator(make_hp(name="infogan", side=side, channels=1))


def test_infogan_output_is_the_reference_sigmoid_mapped_to_minus_one_one():
    hp = make_hp(name="infogan", side=28, channels=1, base_width=4, g_norm="none")
    generator = make_generator(hp)
    z = noise(hp)
    logits = keras.Model(generator.input, generator.get_layer("up2").output)(z).numpy()
    reference = 1.0 / (1.0 + np.exp(-logits))  # compare_gan v1: out = tf.nn.sigmoid(net), pixels in [0, 1]
    np.testing.assert_allclose(generator(z).numpy(), 2.0 * reference - 1.0, atol=1e-6)


def test_infogan_parameter_counts_match_compare_gan_v1_at_28x28():
    """Counted by hand from compare_gan v1 abstract_gan.py (z_dim 64, 28x28x1, base width 64).

    Reference generator (every linear/deconv has a bias; batch norm has gamma and beta):
      g_fc1  64 * 1024 + 1024             =    66,560   g_bn1 2 * 1024 =  2,048
      g_fc2  1024 * 6272 + 6272 (7*7*128) = 6,428,800   g_bn2 2 * 6272 = 12,544
      g_dc3  4 * 4 * 128 * 64 + 64        =   131,136   g_bn3 2 * 64   =    128
      g_dc4  4 * 4 * 64 * 1 + 1           =     1,025
      total 6,642,241; of that 1024 + 6272 + 64 = 7,360 are biases right before batch norm.
    Reference discriminator:
      d_conv1 4 * 4 * 1 * 64 + 64     =     1,088
      d_conv2 4 * 4 * 64 * 128 + 128  =   131,200   d_bn2 2 * 128  =   256
      d_fc3   6272 * 1024 + 1024      = 6,423,552   d_bn3 2 * 1024 = 2,048
      d_fc4   1024 + 1                =     1,025
      total without batch norm (WGAN-GP) 6,556,865; with it (GAN, WGAN) 6,559,169, of
      which 128 + 1024 = 1,152 are biases right before batch norm.
    This toolkit drops the biases that batch norm cancels (see wgan/models/infogan.py).
    """
    hp = make_hp(name="infogan", side=28, channels=1, base_width=64, z_dim=64, g_norm="batch", c_norm="batch")
    generator, critic = make_generator(hp), make_critic(hp)
    trainable = lambda model: sum(int(np.prod(v.shape)) for v in model.trainable_variables)  # noqa: E731
    reference_generator = 66_560 + 2_048 + 6_428_800 + 12_544 + 131_136 + 128 + 1_025
    assert reference_generator == 6_642_241
    assert trainable(generator) == reference_generator - (1024 + 6272 + 64)
    reference_critic_bn = 1_088 + 131_200 + 256 + 6_423_552 + 2_048 + 1_025
    assert reference_critic_bn == 6_559_169
    assert trainable(critic) == reference_critic_bn - (128 + 1024)
    reference_critic_plain = 1_088 + 131_200 + 6_423_552 + 1_025
    assert reference_critic_plain == 6_556_865
    plain = make_critic(make_hp(name="infogan", side=28, channels=1, base_width=64, c_norm="none"))
    assert trainable(plain) == reference_critic_plain  # no batch norm, so nothing is dropped
    # Layer sizes of the reference.
    assert [generator.get_layer(n).output.shape[-1] for n in ("fc1", "fc2", "up1", "up2")] == [1024, 6272, 64, 1]
    assert [critic.get_layer(n).output.shape[-1] for n in ("down1", "down2", "fc3", "score")] == [64, 128, 1024, 1]
    # Forward FLOPs, 2 per multiply-accumulate (wgan/models/flops.py), by hand:
    # generator 64*1024 + 1024*6272 + 7*7*128 positions * 16*64 (up1 scatters per input) + 14*14*16*64*1
    assert count_flops(generator) == 2 * (64 * 1024 + 1024 * 6272 + 49 * 4 * 4 * 64 * 128 + 196 * 4 * 4 * 64)
    # critic 14*14*16*1*64 + 7*7*16*64*128 + 6272*1024 + 1024
    assert count_flops(critic) == 2 * (196 * 16 * 64 + 49 * 16 * 64 * 128 + 6272 * 1024 + 1024)


# ----- shared contract -----------------------------------------------------------------
@pytest.mark.parametrize("name, side", [("dcgan", 32), ("infogan", 28), ("mlp", None), ("mlp", 28)])
def test_critic_output_is_an_unbounded_linear_score(name, side):
    hp = make_hp(name=name, side=side, channels=1)
    critic = make_critic(hp)
    score = critic.get_layer("score")
    assert score.activation is keras.activations.linear
    score.kernel.assign(tf.zeros_like(score.kernel))
    for value in (5.0, -5.0):  # a sigmoid could give neither
        score.bias.assign([value])
        np.testing.assert_array_equal(critic(images(hp)).numpy(), [[value]] * BATCH)


@pytest.mark.parametrize("precision, compute", [("mixed_bfloat16", "bfloat16"), ("mixed_float16", "float16")])
@pytest.mark.parametrize("name, side", [("dcgan", 32), ("infogan", 28), ("mlp", None), ("mlp", 28)])
def test_mixed_precision_outputs_are_float32(name, side, precision, compute):
    hp = make_hp(name=name, side=side, channels=1, c_norm="layer")
    hp.precision = precision
    generator, critic = make_generator(hp), make_critic(hp)
    assert_generator_output(hp, generator, training=True)
    assert_critic_output(hp, critic, training=True)
    for model in (generator, critic):
        first = next(l for l in model.layers if hasattr(l, "kernel"))
        assert first.compute_dtype == compute  # really computes in low precision...
        assert all(v.dtype == "float32" for v in model.variables)  # ...with float32 variables
    assert keras.config.dtype_policy().name == "float32"  # the global policy is untouched


# ----- initialisation ------------------------------------------------------------------
def weights(model):
    return [w.numpy() for w in model.weights]


@pytest.mark.parametrize("initializer", ["dcgan_normal", "glorot_uniform", "he_normal"])
@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_same_seed_gives_identical_initial_weights(name, initializer):
    hp = make_hp(name=name, initializer=initializer, c_norm="layer", depth=3)
    runs = []
    for seed in (3, 3, 4):
        keras.utils.set_random_seed(seed)
        runs.append(weights(make_generator(hp)) + weights(make_critic(hp)))
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(runs[0], runs[2]))


def test_layers_of_equal_shape_get_different_weights():
    # A Keras 3 initializer instance fixes its seed, so sharing one between layers would
    # give them identical kernels.
    critic = make_critic(make_hp(name="mlp", base_width=8, depth=3))
    k2, k3 = critic.get_layer("hidden2").kernel.numpy(), critic.get_layer("hidden3").kernel.numpy()
    assert k2.shape == k3.shape and not np.array_equal(k2, k3)


def test_dcgan_normal_initialisation_statistics():
    generator = make_generator(make_hp(side=32, base_width=64, g_norm="batch"))
    kernel = generator.get_layer("up1").kernel.numpy()
    assert abs(kernel.mean()) < 1e-3 and abs(kernel.std() - 0.02) < 1e-3
    gamma = generator.get_layer("project_norm").gamma.numpy()
    assert abs(gamma.mean() - 1.0) < 0.01 and abs(gamma.std() - 0.02) < 0.005


@pytest.mark.parametrize("initializer", ["glorot_uniform", "he_normal"])
def test_other_initializers(initializer):
    critic = make_critic(make_hp(name="mlp", side=None, base_width=256, initializer=initializer))
    kernel = critic.get_layer("hidden2").kernel.numpy()  # 256 x 256
    if initializer == "glorot_uniform":
        limit = np.sqrt(6.0 / 512)
        assert np.abs(kernel).max() <= limit and abs(kernel.std() - limit / np.sqrt(3)) < 0.05 * limit
    else:
        assert abs(kernel.std() - np.sqrt(2.0 / 256)) < 0.1 * np.sqrt(2.0 / 256)


# ----- FLOPs ---------------------------------------------------------------------------
def test_count_flops_matches_hand_count():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 8*8 positions * (3*3*3*4) = 6912 MACs
    x = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")(x)  # 8*8 inputs * (4*4*2*4) = 8192 MACs
    x = keras.layers.ReLU()(x)
    x = keras.layers.Flatten()(x)  # 16*16*2 = 512 features
    x = keras.layers.Dense(5)(x)  # 512*5 = 2560 MACs
    model = keras.Model(inputs, x)
    assert count_flops(model) == 2 * (6912 + 8192 + 2560)
    assert count_flops(model, batch_size=3) == 3 * 2 * (6912 + 8192 + 2560)
    # Nested models are descended into.
    outer = keras.Sequential([keras.Input((8, 8, 3)), model, keras.layers.Dense(2)])
    assert count_flops(outer) == 2 * (6912 + 8192 + 2560 + 5 * 2)


def test_count_flops_refuses_unknown_kernel_layers():
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.DepthwiseConv2D(3)(inputs))
    with pytest.raises(ValueError, match="no FLOP formula"):
        count_flops(model)
