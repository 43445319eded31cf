"""The keras-io conditional GAN recipe beside the toolkit's conditional WGAN-GP: Fashion-MNIST, same wall clock,
one classifier.

    python benchmarks/keras_io_conditional.py --json docs/benchmarks/keras_io_conditional.json   # 15 min each
    python benchmarks/keras_io_conditional.py --seconds 60 --num 2000 --json /tmp/smoke.json     # a smoke run

The keras-io example "Conditional GAN" is where most TensorFlow users learn to generate a chosen
class. Its recipe, rewritten here from its description (not copied), on MNIST there and on
Fashion-MNIST here:
- a 128-d N(0, 1) latent concatenated with the one-hot label (138 inputs); generator: dense 7x7x138,
  LeakyReLU 0.2, two 4x4 stride-2 transposed convolutions of 128 channels each followed by LeakyReLU
  0.2, then a 7x7 convolution to 1 channel with a sigmoid: images in [0, 1];
- discriminator on the image with the one-hot label broadcast to 10 extra channels (28x28x11): two
  3x3 stride-2 convolutions (64, 128) with LeakyReLU 0.2, global max pooling, a dense logit;
- the non-saturating GAN loss (binary cross-entropy on logits), one discriminator step on the
  generated and real batch together, then one generator step on fresh noise; generated images take
  the labels of the real batch they are paired with;
- Adam 3e-4 for both networks with Keras' default betas (0.9, 0.999); batch 64; no normalisation.

The toolkit side trains ``--project`` (default the shipped
``hyperparameter/wgan-gp-fashion_mnist-conditional.json``, with the precision ``train.py`` picks on
this machine) for the same seconds (``wgan.lab.side_by_side``). Both generators are scored on
``--num`` samples, labels drawn at the training set's class frequencies, by the toolkit's
Fashion-MNIST classifier: class agreement (its ceiling is the classifier's accuracy on the real test
split), intra-class classifier FID, classifier FID, the confident share and the class shares.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
import numpy as np

from wgan.lab import side_by_side  # noqa: E402  (no TensorFlow)
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

DEFAULT_PROJECT = "hyperparameter/wgan-gp-fashion_mnist-conditional.json"
KERAS_IO = {"batch_size": 64, "z_dim": 128, "learning_rate": 3e-4}


def keras_io_networks(num_classes, seed):
    """(generator [z ; one-hot] [B, 128 + K] -> [B, 28, 28, 1] in [0, 1],
    discriminator [image ; label maps] [B, 28, 28, 1 + K] -> logit [B, 1])."""
    import keras

    keras.utils.set_random_seed(seed)
    layers = keras.layers
    width = KERAS_IO["z_dim"] + num_classes
    inputs = keras.Input((width,))
    x = layers.LeakyReLU(0.2)(layers.Dense(7 * 7 * width)(inputs))
    x = layers.Reshape((7, 7, width))(x)
    for _ in range(2):
        x = layers.LeakyReLU(0.2)(layers.Conv2DTranspose(128, 4, strides=2, padding="same")(x))
    generator = keras.Model(inputs, layers.Conv2D(1, 7, padding="same", activation="sigmoid")(x),
                            name="keras_io_conditional_generator")

    images = keras.Input((28, 28, 1 + num_classes))
    x = images
    for filters in (64, 128):
        x = layers.LeakyReLU(0.2)(layers.Conv2D(filters, 3, strides=2, padding="same")(x))
    logit = layers.Dense(1)(layers.GlobalMaxPooling2D()(x))
    return generator, keras.Model(images, logit, name="keras_io_conditional_discriminator")


def train_keras_io(real_images, real_labels, num_classes, seconds, seed=0):
    """Train the recipe for ``seconds`` on uint8 images [N, 28, 28, 1] with int labels [N].

    Returns (generator: [z [B, 128], labels int32 [B]] -> images [B, 28, 28, 1] in [-1, 1], the
    range the toolkit scores; generator steps; real images seen)."""
    import time

    import keras
    import tensorflow as tf

    generator, discriminator = keras_io_networks(num_classes, seed)
    d_opt, g_opt = (keras.optimizers.Adam(KERAS_IO["learning_rate"]) for _ in range(2))
    batch = KERAS_IO["batch_size"]
    dataset = iter(tf.data.Dataset.from_tensor_slices((real_images, real_labels.astype(np.int32)))
                   .shuffle(len(real_images), seed=seed).repeat().batch(batch, drop_remainder=True)
                   .map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y)).prefetch(2))
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def with_label_maps(images, one_hot):
        maps = tf.broadcast_to(one_hot[:, None, None, :], [batch, 28, 28, num_classes])
        return tf.concat([images, maps], axis=-1)

    @tf.function
    def step(real, labels):
        one_hot = tf.one_hot(labels, num_classes)
        fake = generator(tf.concat([tf.random.normal([batch, KERAS_IO["z_dim"]]), one_hot], 1), training=True)
        both = tf.concat([with_label_maps(fake, one_hot), with_label_maps(real, one_hot)], 0)
        targets = tf.concat([tf.ones([batch, 1]), tf.zeros([batch, 1])], 0)  # the recipe's: generated = 1
        with tf.GradientTape() as tape:
            d_loss = bce(targets, discriminator(both, training=True))
        d_opt.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables),
                                  discriminator.trainable_variables))
        with tf.GradientTape() as tape:
            fake = generator(tf.concat([tf.random.normal([batch, KERAS_IO["z_dim"]]), one_hot], 1), training=True)
            g_loss = bce(tf.zeros([batch, 1]), discriminator(with_label_maps(fake, one_hot), training=True))
        g_opt.apply_gradients(zip(tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))

    steps, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        step(*next(dataset))
        steps += 1
    generator.trainable = False
    z, labels = keras.Input((KERAS_IO["z_dim"],)), keras.Input((), dtype="int32")
    images = generator(keras.layers.Concatenate()([z, keras.ops.one_hot(labels, num_classes)]))
    return keras.Model([z, labels], images * 2.0 - 1.0, name="keras_io_conditional"), steps, steps * batch


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    side_by_side.add_arguments(parser, seconds=900.0, json_name="keras_io_conditional.json")
    parser.add_argument("--project", default=DEFAULT_PROJECT, help="The toolkit's conditional hyperparameter file.")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from wgan import config, models
    from wgan.data import inputs
    from wgan.lab import benchmark, benchmark_report
    from wgan.lab.side_by_side import classifier_scores, entry, machine_precision, train_for_seconds
    from wgan.metrics import reference
    from wgan.train import launch

    hp = config.load(args.project)
    if hp.data.name != "fashion_mnist" or hp.data.sample_shape != (28, 28, 1) or not hp.conditional.enabled:
        sys.exit(f"error: {args.project}: the comparison needs a conditional file on fashion_mnist at 28x28x1")
    hp = machine_precision(launch.with_classes(config.apply_overrides(hp, [("seed", args.seed)]), args.records_dir))
    train_folder = inputs.records_folder(hp, args.records_dir)
    test_folder = inputs.test_records_folder(hp, args.records_dir)
    images, labels = reference.read_images(train_folder, with_labels=True)
    num_classes = hp.conditional.num_classes

    rows = []
    print(f"keras-io conditional recipe: {args.seconds:g} s ...", file=sys.stderr, flush=True)
    generator, steps, seen = train_keras_io(images, labels, num_classes, args.seconds, args.seed)
    # The recipe's generator takes a 128-d N(0, 1) latent; the labels are drawn as for the toolkit's.
    keras_hp = config.apply_overrides(hp, [("z_dim", KERAS_IO["z_dim"]), ("z_distribution", "normal")])
    assert models.takes_labels(keras_hp)
    scores, info = classifier_scores(generator, keras_hp, train_folder, test_folder, args.num, args.seed)
    rows.append(entry("keras-io conditional GAN (batch 64, one-hot inputs, non-saturating loss)", steps,
                      args.seconds, seen, len(images), scores))
    print(f"{args.project}: {args.seconds:g} s ...", file=sys.stderr, flush=True)
    generator, steps, seen = train_for_seconds(hp, args.records_dir, args.seconds)
    scores, info = classifier_scores(generator, hp, train_folder, test_folder, args.num, args.seed)
    rows.append(entry(f"toolkit `{os.path.basename(args.project)}` ({hp.precision})", steps, args.seconds, seen,
                      len(images), scores))
    results = {"command": benchmark_report.command_line("benchmarks/keras_io_conditional.py"),
               "machine": benchmark.machine_info(), "seconds": args.seconds, "num": args.num,
               "classifier": {"accuracy": info["accuracy"], "evaluated_on": info["evaluated_on"]},
               "rows": rows, "real_test": info.get("real_test"), "class_names": list(hp.conditional.class_names)}
    benchmark.publish(results, benchmark_report.recipe_table, args.json)


if __name__ == "__main__":
    main()
