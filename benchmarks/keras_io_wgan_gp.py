"""The keras-io WGAN-GP recipe beside the toolkit's shipped WGAN-GP, same data, same wall clock, one metric.

    python benchmarks/keras_io_wgan_gp.py                      # 12 minutes each (the issue's budget)
    python benchmarks/keras_io_wgan_gp.py --seconds 60         # a smoke run
    python benchmarks/keras_io_wgan_gp.py --project hyperparameter/wgan-gp-fashion_mnist-lucic2018.json \
        --project hyperparameter/wgan-gp-fashion_mnist.json

Most TensorFlow users meet WGAN-GP in the keras-io example "WGAN-GP overriding
``Model.train_step``", which trains on Fashion-MNIST. Its recipe, rewritten here from its
description (not copied): batch 512; every step takes ONE real batch and makes 3 critic
updates on it, each with fresh noise, then one generator update; Adam 2e-4 with betas
(0.5, 0.9) for both networks; penalty weight 10; the interpolation weight alpha drawn from
N(0, 1) instead of U[0, 1] (the paper's). Its networks as described there: a 128-d normal
latent; generator dense 4x4x256, then three 2x upsampling + 3x3 convolution stages (128, 64,
1 channels; batch norm and LeakyReLU 0.2 between), tanh, cropped from 32x32 to 28x28; critic
on images zero-padded to 32x32: four 5x5 stride-2 convolutions (64, 128, 256, 512) with
LeakyReLU 0.2 and dropout 0.3 after the middle two, then dropout 0.2 and a dense score.

The toolkit side trains each ``--project`` file (default: the shipped
``hyperparameter/wgan-gp-fashion_mnist-lucic2018.json``) through ``wgan.gan.model.GAN`` for the same number
of seconds (``wgan.lab.side_by_side``). Both loops count their first call (tracing) in the budget. Both generators are
scored by the toolkit's Fashion-MNIST classifier (``wgan.metrics.classifier``, trained on the
train split, accuracy measured on the test split) on ``--num`` samples; the real test split's
own scores are the last row. Records come from the IDX files found offline
(``wgan.data.idx``: datasets/fashion_mnist/, Keras' cache, Debian's dataset-fashion-mnist).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
import numpy as np

from wgan.lab import side_by_side  # noqa: E402  (no TensorFlow)
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

# The file the committed comparison (docs/benchmarks/keras_io_wgan_gp.json) ran: Lucic et al.'s.
DEFAULT_PROJECT = "hyperparameter/wgan-gp-fashion_mnist-lucic2018.json"
TRAIN_IMAGES = 60000


# ----- the keras-io recipe, rewritten ------------------------------------------------------
KERAS_IO = {"batch_size": 512, "critic_steps": 3, "z_dim": 128, "learning_rate": 2e-4, "beta_1": 0.5,
            "beta_2": 0.9, "gp_weight": 10.0}


def keras_io_networks(seed):
    """(generator z [B, 128] -> [B, 28, 28, 1] in [-1, 1], critic [B, 28, 28, 1] -> [B, 1])."""
    import keras

    keras.utils.set_random_seed(seed)
    layers = keras.layers
    z = keras.Input((KERAS_IO["z_dim"],))
    x = layers.Dense(4 * 4 * 256, use_bias=False)(z)
    x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
    x = layers.Reshape((4, 4, 256))(x)
    for filters in (128, 64):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(layers.UpSampling2D()(x))
        x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
    x = layers.Conv2D(1, 3, padding="same", use_bias=False)(layers.UpSampling2D()(x))
    x = layers.Activation("tanh")(layers.BatchNormalization()(x))
    generator = keras.Model(z, layers.Cropping2D(2)(x), name="keras_io_generator")

    images = keras.Input((28, 28, 1))
    x = layers.ZeroPadding2D(2)(images)
    for i, filters in enumerate((64, 128, 256, 512)):
        x = layers.LeakyReLU(0.2)(layers.Conv2D(filters, 5, strides=2, padding="same")(x))
        if i in (1, 2):
            x = layers.Dropout(0.3)(x)
    score = layers.Dense(1)(layers.Dropout(0.2)(layers.Flatten()(x)))
    return generator, keras.Model(images, score, name="keras_io_critic")


def train_keras_io(real_images, seconds, seed=0):
    """Train the recipe for ``seconds``; returns (generator, generator steps, images seen by the critic)."""
    import keras
    import tensorflow as tf

    from wgan.gan import constraints, losses

    generator, critic = keras_io_networks(seed)
    c_opt, g_opt = (keras.optimizers.Adam(KERAS_IO["learning_rate"], beta_1=KERAS_IO["beta_1"],
                                          beta_2=KERAS_IO["beta_2"]) for _ in range(2))
    batch = KERAS_IO["batch_size"]
    dataset = iter(tf.data.Dataset.from_tensor_slices(real_images).shuffle(TRAIN_IMAGES, seed=seed)
                   .repeat().batch(batch, drop_remainder=True).prefetch(2))

    @tf.function
    def step(real):
        for _ in range(KERAS_IO["critic_steps"]):  # the same real batch for every critic step
            z = tf.random.normal([batch, KERAS_IO["z_dim"]])
            with tf.GradientTape() as tape:
                fake = generator(z, training=True)
                real_scores, fake_scores = critic(real, training=True), critic(fake, training=True)
                alpha = tf.random.normal([batch])  # the tutorial's N(0, 1), not U[0, 1]
                penalty, _ = constraints.gradient_penalty(critic, real, fake, alpha=alpha)
                loss = tf.reduce_mean(losses.wgan_critic_loss(real_scores, fake_scores)) + \
                    KERAS_IO["gp_weight"] * tf.reduce_mean(penalty)
            c_opt.apply_gradients(zip(tape.gradient(loss, critic.trainable_variables), critic.trainable_variables))
        with tf.GradientTape() as tape:
            fake_scores = critic(generator(tf.random.normal([batch, KERAS_IO["z_dim"]]), training=True),
                                 training=True)
            loss = tf.reduce_mean(losses.wgan_generator_loss(fake_scores))
        g_opt.apply_gradients(zip(tape.gradient(loss, generator.trainable_variables), generator.trainable_variables))

    steps, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        step(next(dataset))
        steps += 1
    generator.trainable = False
    return generator, steps, steps * batch  # one real batch per step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    side_by_side.add_arguments(parser, seconds=720.0, json_name="keras_io_wgan_gp.json")
    parser.add_argument("--project", action="append", help=f"Toolkit hyperparameter file(s); default {DEFAULT_PROJECT}.")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from wgan import config
    from wgan.lab import benchmark, benchmark_report
    from wgan.lab.side_by_side import classifier_scores, entry, train_for_seconds
    from wgan.data import inputs
    from wgan.metrics import reference

    command = benchmark_report.command_line("benchmarks/keras_io_wgan_gp.py")
    machine = benchmark.machine_info()

    projects = args.project or [DEFAULT_PROJECT]
    hps = [config.load(path) for path in projects]
    base = hps[0]
    if any(hp.data.name != "fashion_mnist" or hp.data.sample_shape != (28, 28, 1) for hp in hps):
        sys.exit("error: every --project file must train on fashion_mnist at 28x28x1")
    train_folder = inputs.records_folder(base, args.records_dir)
    test_folder = inputs.test_records_folder(base, args.records_dir)
    real = reference.read_images(train_folder).astype(np.float32) / 127.5 - 1.0

    rows = []
    print(f"keras-io recipe: {args.seconds:g} s ...", file=sys.stderr, flush=True)
    generator, steps, images = train_keras_io(real, args.seconds, args.seed)
    keras_hp = config.apply_overrides(base, [("z_dim", KERAS_IO["z_dim"]), ("z_distribution", "normal")])
    scores, info = classifier_scores(generator, keras_hp, train_folder, test_folder, args.num, args.seed)
    rows.append(entry("keras-io recipe (batch 512, 3 critic steps on one batch, alpha ~ N(0, 1))", steps,
                      args.seconds, images, TRAIN_IMAGES, scores))
    for path, hp in zip(projects, hps):
        print(f"{path}: {args.seconds:g} s ...", file=sys.stderr, flush=True)
        generator, steps, images = train_for_seconds(hp, args.records_dir, args.seconds)
        scores, info = classifier_scores(generator, hp, train_folder, test_folder, args.num, args.seed)
        rows.append(entry(f"toolkit `{os.path.basename(path)}`", steps, args.seconds, images, TRAIN_IMAGES, scores))
    results = {"command": command, "machine": machine, "seconds": args.seconds, "num": args.num,
               "classifier": {"accuracy": info["accuracy"], "evaluated_on": info["evaluated_on"]},
               "rows": rows, "real_test": info.get("real_test")}
    benchmark.publish(results, benchmark_report.recipe_table, args.json)


if __name__ == "__main__":
    main()
