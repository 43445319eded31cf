"""The WGAN-GP paper's residual networks (wgan/models/resnet.py): shapes, dtypes, parameter counts and
FLOPs against the reference code, the reference's layer ops, training, run and file names."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from wgan import config
from wgan.config import ArchitectureConfig, DataConfig, HParams
from wgan.errors import ConfigError
from wgan.gan.model import GAN
from wgan.models import make_critic, make_generator
from wgan.models.flops import count_flops

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 2


def make_hp(side=32, base_width=4, z_dim=8, channels=3, precision="float32", **arch):
    data = DataConfig(name="test", crop=None, resize=side, channels=channels)
    return HParams(data=data, z_dim=z_dim, precision=precision,
                   architecture=ArchitectureConfig(name="resnet", base_width=base_width, **arch))


def trainable(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_variables)


def images(hp, batch=BATCH, seed=0):
    return tf.random.stateless_uniform([batch, *hp.data.sample_shape], seed=[seed, 2], minval=-1.0, maxval=1.0)


# ----- shapes, ranges, dtypes -----------------------------------------------------------
@pytest.mark.parametrize("precision, compute", [("float32", "float32"), ("mixed_bfloat16", "bfloat16"),
                                                ("mixed_float16", "float16")])
@pytest.mark.parametrize("c_norm", ["none", "layer", "batch"])
@pytest.mark.parametrize("side", [32, 64])
def test_shapes_range_and_dtypes(side, c_norm, precision, compute):
    hp = make_hp(side=side, c_norm=c_norm, precision=precision)
    generator, critic = make_generator(hp), make_critic(hp)
    assert (generator.name, critic.name) == ("generator", "critic")
    for training in (True, False):
        out = generator(tf.random.stateless_normal([BATCH, hp.z_dim], seed=[0, 1]), training=training)
        assert out.dtype == tf.float32 and tuple(out.shape) == (BATCH, side, side, 3)
        assert np.all(np.abs(out.numpy()) <= 1.0)
        score = critic(images(hp), training=training)
        assert score.dtype == tf.float32 and tuple(score.shape) == (BATCH, 1)
        assert np.all(np.isfinite(score.numpy()))
    for model in (generator, critic):
        assert model.get_layer("block2_conv1").compute_dtype == compute  # really computes in low precision...
        assert all(v.dtype == "float32" for v in model.variables)  # ...with float32 variables
    assert critic.get_layer("score").compute_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is untouched


def test_feature_map_sizes_follow_the_reference():
    gen32, critic32 = make_generator(make_hp(32)), make_critic(make_hp(32))
    assert gen32.get_layer("reshape").output.shape[1:] == (4, 4, 4)
    assert [gen32.get_layer(f"block{i}").output.shape[1:] for i in (1, 2, 3)] == [(8, 8, 4), (16, 16, 4), (32, 32, 4)]
    assert [critic32.get_layer(f"block{i}").output.shape[1:] for i in (1, 2, 3, 4)] == [
        (16, 16, 4), (8, 8, 4), (8, 8, 4), (8, 8, 4)]
    assert critic32.get_layer("mean_pool").output.shape[1:] == (4,)
    gen64, critic64 = make_generator(make_hp(64)), make_critic(make_hp(64))
    assert gen64.get_layer("reshape").output.shape[1:] == (4, 4, 32)
    assert [gen64.get_layer(f"block{i}").output.shape[1:] for i in (1, 2, 3, 4)] == [
        (8, 8, 32), (16, 16, 16), (32, 32, 8), (64, 64, 4)]
    assert [critic64.get_layer(f"block{i}").output.shape[1:] for i in (1, 2, 3, 4)] == [
        (32, 32, 8), (16, 16, 16), (8, 8, 32), (4, 4, 32)]
    assert critic64.get_layer("flatten").output.shape[1:] == (4 * 4 * 32,)
    # 32x32: the identity shortcut of the plain blocks; the critic's optimized block has no norm.
    assert "block3_shortcut" not in [l.name for l in critic32.layers]
    layer_critic = make_critic(make_hp(32, c_norm="layer"))
    assert not any(l.name.startswith("block1_norm") for l in layer_critic.layers)
    assert isinstance(layer_critic.get_layer("block2_norm1"), keras.layers.GroupNormalization)


@pytest.mark.parametrize("side", [16, 28, 48, 128])
def test_other_sides_are_one_config_error_naming_the_key_and_the_sides(side):
    hp = make_hp(side=side)
    for build in (make_generator, make_critic):
        with pytest.raises(ConfigError, match=rf"^key 'data.resize' is {side}; the resnet architecture is defined "
                                              r"for image sides 32 \(gan_cifar_resnet.py\), 64 \(gan_64x64.py"):
            build(hp)
    # The hyperparameter validator says it before TensorFlow builds anything.
    with pytest.raises(ConfigError, match=rf"^h.json: key 'data.resize' is {side}; the resnet architecture is "
                                          r"defined for image sides 32, 64 only$"):
        config.from_dict({"architecture": {"name": "resnet"}, "data": {"resize": side}}, source="h.json")


def test_toy_data_needs_the_mlp():
    with pytest.raises(ConfigError, match="needs the 'mlp' architecture"):
        make_critic(make_hp(side=None, channels=0))


# ----- parameter counts and FLOPs against the reference -----------------------------------
def test_cifar_parameter_counts_match_gan_cifar_resnet():
    """Counted by hand from igul222/improved_wgan_training gan_cifar_resnet.py, unconditional
    (CONDITIONAL = False), DIM_G = DIM_D = 128, 128-d noise, 32x32x3. tflib's Conv2D and Linear
    have biases unless told otherwise; its Batchnorm has offset and scale per channel.

    Generator:
      Generator.Input  Linear 128 -> 4*4*128:        128 * 2048 + 2048         =   264,192
      ResidualBlock(resample='up', 128 -> 128), x3 (Generator.1-3):
        Shortcut  UpsampleConv 1x1:                  128 * 128 + 128           =    16,512
        N1, N2    Batchnorm:                         2 * (2 * 128)             =       512
        Conv1     UpsampleConv 3x3:                  9 * 128 * 128 + 128       =   147,584
        Conv2     Conv2D 3x3:                        9 * 128 * 128 + 128       =   147,584
        per block 312,192; three                                                =   936,576
      Generator.OutputN Batchnorm:                   2 * 128                   =       256
      Generator.Output  Conv2D 3x3 128 -> 3:         9 * 128 * 3 + 3           =     3,459
      total 1,204,483; Conv1's bias sits right before N2's batch norm (3 * 128 = 384 dead).
    Critic (NORMALIZATION_D = False):
      OptimizedResBlockDisc1: Shortcut MeanPoolConv 1x1 3 -> 128:  3 * 128 + 128 =     512
                              Conv1 3x3 3 -> 128:                 27 * 128 + 128 =   3,584
                              Conv2 ConvMeanPool 3x3:      9 * 128 * 128 + 128 = 147,584
      Discriminator.2 (down): Shortcut ConvMeanPool 1x1:       128 * 128 + 128 =  16,512
                              Conv1, Conv2 3x3:       2 * (9 * 128 * 128 + 128) = 295,168
      Discriminator.3, .4 (identity shortcut):    2 * 2 * (9 * 128 * 128 + 128) = 590,336
      Discriminator.Output Linear 128 -> 1:                                 129
      total 1,053,825. With NORMALIZATION_D the blocks 2-4 add two layer norms of 2 * 128 each: 1,536.
    """
    hp = make_hp(32, base_width=128, z_dim=128, c_norm="none", g_norm="batch")
    generator, critic = make_generator(hp), make_critic(hp)
    block = 16_512 + 512 + 147_584 + 147_584
    assert block == 312_192
    reference_generator = 264_192 + 3 * block + 256 + 3_459
    assert reference_generator == 1_204_483
    assert trainable(generator) == reference_generator - 3 * 128  # the dead biases before batch norm
    reference_critic = 512 + 3_584 + 147_584 + 16_512 + 295_168 + 590_336 + 129
    assert reference_critic == 1_053_825
    assert trainable(critic) == reference_critic
    assert trainable(make_critic(make_hp(32, base_width=128, c_norm="layer"))) == reference_critic + 3 * 2 * 2 * 128
    # Forward FLOPs, 2 per multiply-accumulate of the dense and conv layers (wgan/models/flops.py).
    w = 128
    g_macs = (128 * 16 * w                                   # dense
              + (8 ** 2 + 16 ** 2 + 32 ** 2) * 19 * w * w    # per block at its output side: 1x1 + 3x3 + 3x3
              + 32 ** 2 * 9 * w * 3)                         # output conv
    assert count_flops(generator) == 2 * g_macs == 844_365_824
    c_macs = (16 ** 2 * 3 * w + 32 ** 2 * 27 * w + 32 ** 2 * 9 * w * w   # optimized block (pool before shortcut)
              + 16 ** 2 * w * w + 2 * 16 ** 2 * 9 * w * w                # block 2 (pool after its convs)
              + 2 * 2 * 8 ** 2 * 9 * w * w                               # blocks 3, 4
              + w)                                                       # score
    assert count_flops(critic) == 2 * c_macs == 544_145_664


def test_64x64_parameter_counts_match_gan_64x64_good_networks():
    """Counted by hand from gan_64x64.py GoodGenerator / GoodDiscriminator (DIM = 64, 128-d
    noise, 64x64x3, MODE = 'wgan-gp' so the critic's Normalize is tflib's Layernorm with one
    offset and scale per channel). Its ResidualBlock gives Conv1 no bias, Conv2 and the
    Shortcut one; Normalize has 2 parameters per channel.

    Generator:
      Generator.Input Linear 128 -> 4*4*512:          128 * 8192 + 8192                = 1,056,768
      up block (in -> out): Shortcut 1x1 in*out + out, BN1 2*in, Conv1 9*in*out,
                            BN2 2*out, Conv2 9*out*out + out
        Res1 512 -> 512: 262,656 + 1,024 + 2,359,296 + 1,024 + 2,359,808      = 4,983,808
        Res2 512 -> 256: 131,328 + 1,024 + 1,179,648 +   512 +   590,080      = 1,902,592
        Res3 256 -> 128:  32,896 +   512 +   294,912 +   256 +   147,584      =   476,160
        Res4 128 -> 64:    8,256 +   256 +    73,728 +   128 +    36,928      =   119,296
      Generator.OutputN 2 * 64 = 128; Generator.Output Conv2D 3x3 64 -> 3: 9 * 64 * 3 + 3 = 1,731
      total 8,540,483 (no bias before a batch norm, so nothing is dropped here).
    Critic:
      Discriminator.Input Conv2D 3x3 3 -> 64:         27 * 64 + 64                     =     1,792
      down block (in -> out): Shortcut MeanPoolConv 1x1 in*out + out, LN1 2*in,
                              Conv1 9*in*in, LN2 2*in, Conv2 ConvMeanPool 9*in*out + out
        Res1 64 -> 128:    8,320 +   128 +    36,864 +   128 +    73,856      =   119,296
        Res2 128 -> 256:  33,024 +   256 +   147,456 +   256 +   295,168      =   476,160
        Res3 256 -> 512: 131,584 +   512 +   589,824 +   512 + 1,180,160      = 1,902,592
        Res4 512 -> 512: 262,656 + 1,024 + 2,359,296 + 1,024 + 2,359,808      = 4,983,808
      Discriminator.Output Linear 4*4*512 -> 1:       8192 + 1                         =     8,193
      total 7,491,841; without the layer norms (c_norm none) 7,491,841 - 2 * 2 * (64 + 128 + 256 + 512) = 7,488,001.
    """
    hp = make_hp(64, base_width=64, z_dim=128, c_norm="layer", g_norm="batch")
    generator, critic = make_generator(hp), make_critic(hp)
    reference_generator = 1_056_768 + 4_983_808 + 1_902_592 + 476_160 + 119_296 + 128 + 1_731
    assert reference_generator == 8_540_483
    assert trainable(generator) == reference_generator
    reference_critic = 1_792 + 119_296 + 476_160 + 1_902_592 + 4_983_808 + 8_193
    assert reference_critic == 7_491_841
    assert trainable(critic) == reference_critic
    assert trainable(make_critic(make_hp(64, base_width=64, c_norm="none"))) == reference_critic - 4 * 960
    up = [(512, 512, 8), (512, 256, 16), (256, 128, 32), (128, 64, 64)]  # (in, out, output side)
    g_macs = 128 * 8192 + sum(s * s * (i * o + 9 * i * o + 9 * o * o) for i, o, s in up) + 64 ** 2 * 9 * 64 * 3
    assert count_flops(generator) == 2 * g_macs == 3_573_022_720
    down = [(64, 128, 64), (128, 256, 32), (256, 512, 16), (512, 512, 8)]  # (in, out, input side)
    c_macs = (64 ** 2 * 27 * 64
              + sum((s // 2) ** 2 * i * o + s * s * 9 * i * i + s * s * 9 * i * o for i, o, s in down) + 8192)
    assert count_flops(critic) == 2 * c_macs == 3_394_781_184


# ----- the reference's layer ops -------------------------------------------------------------
def _sub_model(model, layer):
    node = model.get_layer(layer)
    return keras.Model(node.input, node.output)


def test_upsampling_is_the_reference_upsample_conv_resize():
    # tflib UpsampleConv: four copies of the channels, then depth_to_space(2) (written here channels-last).
    x = tf.random.stateless_normal([2, 4, 4, 3], seed=[1, 2])
    reference = tf.nn.depth_to_space(tf.concat([x, x, x, x], axis=-1), 2)
    up = make_generator(make_hp(32)).get_layer("block1_up")
    np.testing.assert_array_equal(up(x).numpy(), reference.numpy())


def test_down_sampling_is_the_reference_mean_of_four_phases():
    x = tf.random.stateless_normal([2, 8, 8, 3], seed=[3, 4])
    reference = (x[:, ::2, ::2] + x[:, 1::2, ::2] + x[:, ::2, 1::2] + x[:, 1::2, 1::2]) / 4.0
    pool = make_critic(make_hp(32)).get_layer("block2_pool")
    np.testing.assert_allclose(pool(x).numpy(), reference.numpy(), rtol=1e-6, atol=1e-6)


def test_layer_norm_is_the_reference_layernorm():
    # tflib Layernorm(name, [1, 2, 3], x): moments over C, H, W of each example, epsilon 1e-5,
    # offset and scale per channel.
    critic = make_critic(make_hp(64, c_norm="layer"))
    norm = critic.get_layer("block2_norm1")
    rng = np.random.default_rng(0)
    gamma, beta = rng.normal(1, 0.3, 8).astype(np.float32), rng.normal(0, 0.3, 8).astype(np.float32)
    norm.gamma.assign(gamma)
    norm.beta.assign(beta)
    x = rng.normal(2.0, 3.0, (2, 32, 32, 8)).astype(np.float32)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    var = x.var(axis=(1, 2, 3), keepdims=True)
    reference = (x - mean) / np.sqrt(var + 1e-5) * gamma + beta
    np.testing.assert_allclose(norm(x).numpy(), reference, rtol=1e-4, atol=1e-4)
    # One example's values never reach another's: the per-example gradient penalty stays exact.
    y = x.copy()
    y[1] *= 10
    np.testing.assert_allclose(norm(y).numpy()[0], reference[0], rtol=1e-4, atol=1e-4)


def test_biases_follow_the_reference_and_never_precede_batch_norm():
    def biases(model):
        return {l.name: l.use_bias for l in model.layers if isinstance(l, keras.layers.Conv2D)}

    gen32 = biases(make_generator(make_hp(32, g_norm="batch")))
    assert [gen32[f"block{i}_conv1"] for i in (1, 2, 3)] == [False] * 3  # before batch norm
    assert all(gen32[f"block{i}_conv2"] and gen32[f"block{i}_shortcut"] for i in (1, 2, 3))
    assert all(biases(make_generator(make_hp(32, g_norm="none"))).values())  # the reference keeps them
    assert all(biases(make_critic(make_hp(32, c_norm="none"))).values())
    critic64 = biases(make_critic(make_hp(64, c_norm="layer")))
    assert [critic64[f"block{i}_conv1"] for i in (1, 2, 3, 4)] == [False] * 4  # gan_64x64.py: biases=False
    assert critic64["stem"] and all(critic64[f"block{i}_conv2"] for i in (1, 2, 3, 4))


# ----- training -------------------------------------------------------------------------
def train_hp(model, side, precision="float32"):
    return config.from_dict({
        "model": model, "batch_size": 4, "z_dim": 8, "n_critic": 2, "seed": 1, "precision": precision,
        "data": {"name": "test", "crop": None, "resize": side, "channels": 3},
        "architecture": {"name": "resnet", "base_width": 4, "c_norm": "layer" if model == "wgan-gp" else "batch"}})


# Every objective at 32x32 float32 is the objective x architecture matrix of
# tests/test_training.py. These add what it does not reach: mixed precision under the
# penalty's second-order pass, and the 64x64 network with each kind of critic norm (layer
# norm under the penalty, batch norm otherwise; the other objectives share these networks).
@pytest.mark.parametrize("model, side, precision", [("wgan-gp", 32, "mixed_bfloat16"), ("wgan-gp", 64, "float32"),
                                                    ("wgan", 64, "float32")])
def test_the_resnet_trains_in_mixed_precision_and_at_64_with_one_trace(model, side, precision):
    hp = train_hp(model, side, precision)
    keras.utils.set_random_seed(0)
    gan = GAN(hp)
    batch = np.random.default_rng(0).uniform(-1, 1, (hp.batch_size, side, side, 3)).astype(np.float32)
    iterator = iter(tf.data.Dataset.from_tensors(batch).repeat())
    before = [v.numpy().copy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    for _ in range(2):
        metrics = {k: float(v) for k, v in gan.train_iteration(iterator, hp.n_critic).items()}
        assert all(np.isfinite(v) for v in metrics.values()), metrics
    after = [v.numpy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    # The 64x64 critic flattens its last block into the linear score, so a constant added there
    # (the biases of block4's conv2 and shortcut) shifts every score alike: a critic loss that a
    # shift leaves unchanged (the Wasserstein ones) gives those two no gradient, also in the reference.
    may_stay = {"block4_conv2/bias", "block4_shortcut/bias"} if side == 64 else set()
    variables = gan.generator.trainable_variables + gan.critic.trainable_variables
    unchanged = [v.path for b, a, v in zip(before, after, variables) if b.size > 1 and np.array_equal(b, a)]
    if model == "wgan":
        # Clipping can pin a whole small variable (a norm's scale of 1 clipped to 0.01) at the bound.
        assert all(np.abs(v.numpy()).max() <= hp.clip_value + 1e-7 for v in gan.critic.trainable_variables)
        assert len(unchanged) < 0.2 * len(variables), unchanged
    else:
        assert set(unchanged) <= may_stay, unchanged
    assert gan.trace_count == 1 and int(gan.step) == 2


def test_only_the_critic_relus_that_read_a_residual_sum_are_max_relus():
    def kinds(model):
        return {l.name: type(l).__name__ for l in model.layers if "relu" in l.name}

    plain = kinds(make_critic(make_hp(32, c_norm="none")))
    assert [n for n, k in plain.items() if k == "MaxReLU"] == [
        "block2_relu1", "block3_relu1", "block4_relu1", "head_relu"]
    normed = kinds(make_critic(make_hp(32, c_norm="layer")))
    assert [n for n, k in normed.items() if k == "MaxReLU"] == ["head_relu"]  # the others read a norm's output
    assert set(kinds(make_generator(make_hp(32, g_norm="none"))).values()) == {"ReLU"}


REMAPPER_SCRIPT = """
from wgan import config
from wgan.lab import benchmark
hp = benchmark.shipped_hparams("wgan-gp", "cifar10", architecture="resnet")
hp = config.apply_overrides(hp, [("batch_size", 4), ("architecture.base_width", 8)], source="test")
benchmark.benchmark_model(hp, iterations=1)
print("done")
"""


def test_wgan_gp_resnet_iteration_passes_grapplers_remapper():
    # The ResNet critic uses Keras' ReLU: ReluGrad reads the ReLU's output, not the BiasAdd
    # before it, so the gradient penalty's second pass leaves the remapper's fusions alone
    # (unlike LeakyReluGrad, wgan/models/activations.py).
    env = {**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", REMAPPER_SCRIPT], capture_output=True, text=True, env=env, check=False,
                          timeout=600)
    assert proc.returncode == 0 and "done" in proc.stdout, proc.stderr[-3000:]
    assert "remapper failed" not in proc.stderr, proc.stderr[-3000:]


# ----- run names, hyperparameter files ------------------------------------------------------
def test_run_names_carry_the_architecture_only_when_it_is_named():
    assert config.run_name("wgan-gp", "cifar10", None, 32, "resnet") == "wgan-gp-cifar10-resnet-r32"
    assert config.run_name("wgan-gp", "celeba", 108, 64, "resnet") == "wgan-gp-celeba-resnet-c108-r64"
    assert config.run_name("wgan-gp", "/data/faces/", 0, 64, "resnet") == "wgan-gp-faces-resnet-r64"
    # The architectures of the shipped <model>-<data>.json files keep the names runs had before.
    assert config.run_name("wgan-gp", "cifar10", None, 32, "dcgan") == "wgan-gp-cifar10-r32"
    assert config.run_name("wgan", "mnist", None, 28, "infogan") == "wgan-mnist-r28"
    assert config.run_name("wgan-gp", "8gaussians", None, None, "mlp") == "wgan-gp-8gaussians"
    for path in sorted(os.listdir(os.path.join(REPO, "hyperparameter"))):
        hp = config.load(os.path.join(REPO, "hyperparameter", path))
        if hp.architecture.name != "resnet":
            assert hp.run_name == config.run_name(hp.model, hp.data.name, hp.data.crop, hp.data.resize)


def test_default_files_and_resolve_find_the_resnet_file():
    assert os.path.basename(config.default_path("wgan-gp", "cifar10", architecture="resnet")) == \
        "wgan-gp-cifar10-resnet.json"
    assert os.path.basename(config.default_path("wgan-gp", "cifar10", architecture="dcgan")) == "wgan-gp-cifar10.json"
    assert os.path.basename(config.default_path("wgan-gp", "cifar10")) == "wgan-gp-cifar10.json"
    hp = config.resolve("wgan-gp", "cifar10", architecture="resnet")
    assert (hp.architecture.name, hp.architecture.base_width, hp.run_name) == \
        ("resnet", 128, "wgan-gp-cifar10-resnet-r32")
    assert config.resolve("wgan-gp", "cifar10").run_name == "wgan-gp-cifar10-r32"  # unchanged
    with pytest.raises(ConfigError, match=r"hyperparameter file not found: .*wgan-gp-mnist-resnet.json; shipped: "):
        config.resolve("wgan-gp", "mnist", architecture="resnet")
    # An explicit file with --architecture: the flag wins, and the validator checks the result.
    with pytest.raises(ConfigError, match=r"key 'data.resize' is 28; the resnet architecture"):
        config.resolve("wgan-gp", "mnist", path=config.default_path("wgan-gp", "mnist"), architecture="resnet")


def test_shipped_files_hold_the_reference_settings():
    cifar = config.resolve("wgan-gp", "cifar10", architecture="resnet")  # gan_cifar_resnet.py
    assert (cifar.batch_size, cifar.z_dim, cifar.n_critic, cifar.gp_lambda, cifar.train_steps) == \
        (64, 128, 5, 10.0, 100_000)
    assert (cifar.architecture.base_width, cifar.architecture.g_norm, cifar.architecture.c_norm) == \
        (128, "batch", "none")
    assert (cifar.data.resize, cifar.data.channels) == (32, 3)
    for opt in (cifar.g_optimizer, cifar.c_optimizer):
        assert (opt.name, opt.learning_rate, opt.beta_1, opt.beta_2, opt.decay, opt.decay_steps) == \
            ("adam", 2e-4, 0.0, 0.9, "linear", None)  # decay to 0 over ITERS = train_steps
    gp = config.resolve("wgan-gp", "celeba", architecture="resnet")  # gan_64x64.py, MODE = 'wgan-gp'
    assert (gp.batch_size, gp.z_dim, gp.n_critic, gp.gp_lambda, gp.train_steps) == (64, 128, 5, 10.0, 200_000)
    assert (gp.architecture.base_width, gp.architecture.c_norm, gp.data.resize) == (64, "layer", 64)
    for opt in (gp.g_optimizer, gp.c_optimizer):
        assert (opt.name, opt.learning_rate, opt.beta_1, opt.beta_2, opt.decay) == ("adam", 1e-4, 0.0, 0.9, "constant")
    wgan = config.resolve("wgan", "celeba", architecture="resnet")  # MODE = 'wgan': RMSProp, clipping, batch norm
    assert (wgan.c_optimizer.name, wgan.c_optimizer.learning_rate, wgan.clip_value, wgan.n_critic) == \
        ("rmsprop", 5e-5, 0.01, 5)
    assert (wgan.c_optimizer.rho, wgan.architecture.c_norm, wgan.warmup) == (0.9, "batch", False)  # TF1 decay 0.9
    dcgan = config.resolve("dcgan", "celeba", architecture="resnet")  # MODE = 'dcgan': one critic step
    assert (dcgan.g_optimizer.learning_rate, dcgan.g_optimizer.beta_1, dcgan.n_critic) == (2e-4, 0.5, 1)
    assert dcgan.architecture.c_norm == "batch"


def test_runs_of_both_architectures_live_side_by_side(tmp_path):
    from wgan import runs

    checkpoint = tmp_path / "checkpoint"
    for architecture in ("dcgan", "resnet"):
        hp = config.resolve("wgan-gp", "cifar10", architecture=architecture)
        version = checkpoint / hp.run_name / "v0"
        version.mkdir(parents=True)
        (version / runs.HPARAMS_FILE).write_text(hp.to_json())
    assert sorted(os.listdir(checkpoint)) == ["wgan-gp-cifar10-r32", "wgan-gp-cifar10-resnet-r32"]
    found = runs.existing_root(str(checkpoint), "wgan-gp", "cifar10", architecture="resnet")
    assert os.path.basename(found) == "wgan-gp-cifar10-resnet-r32"
    assert os.path.basename(runs.existing_root(str(checkpoint), "wgan-gp", "cifar10")) == "wgan-gp-cifar10-r32"
    stored = json.loads((checkpoint / "wgan-gp-cifar10-resnet-r32" / "v0" / runs.HPARAMS_FILE).read_text())
    assert stored["architecture"]["name"] == "resnet"
    assert [os.path.basename(p) for p in runs.find_runs(str(checkpoint), "wgan-gp", "cifar10", architecture="resnet")] \
        == ["wgan-gp-cifar10-resnet-r32"]
    # Without --architecture, the resnet run is found by name when it is the only run of its model and data.
    only = tmp_path / "only"
    hp = config.resolve("wgan-gp", "cifar10", architecture="resnet")
    (only / hp.run_name / "v0").mkdir(parents=True)
    (only / hp.run_name / "v0" / runs.HPARAMS_FILE).write_text(hp.to_json())
    assert os.path.basename(runs.existing_root(str(only), "wgan-gp", "cifar10")) == "wgan-gp-cifar10-resnet-r32"
    assert runs.find_run_roots(str(only), "wgan-gp", "cifar10", architecture="dcgan") == []


def test_docs_size_table_is_the_commands_output():
    files = [os.path.join("hyperparameter", f"{name}.json") for name in
             ("wgan-gp-cifar10-resnet", "wgan-gp-celeba-resnet", "wgan-celeba-resnet")]
    command = " ".join(["python tools/model_table.py", *files])
    doc = os.path.join(REPO, "docs", "models.md")
    with open(doc, encoding="utf-8") as handle:
        assert f"`{command}`" in handle.read()  # the doc prints the command that made its table
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tools", "model_table.py"), "--check", doc, *files],
                          capture_output=True, text=True, cwd=REPO, timeout=600, check=False,
                          env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
