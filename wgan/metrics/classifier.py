"""Judge generated digits with a small classifier trained on the same records (digits, mnist).

Inception features need a download and minutes per thousand images on a CPU; a CNN of about
0.2 M parameters trained on the labelled records themselves takes seconds and measures
what matters for digits:

* ``cfid``: the Fréchet distance between generated and real images in the classifier's
  penultimate-layer features (128-d), i.e. FID with a domain-specific network;
* ``class_histogram``: the share of generated images the classifier puts in each class;
  ``classes``: how many classes get at least ``MIN_CLASS_SHARE`` (a quarter of the fair
  1/10), so a generator collapsed onto a few digits shows as fewer than 10;
* ``confident``: the share of generated images whose top softmax probability is at least
  ``CONFIDENCE`` (0.9): recognisable digits rather than blends or noise.

The classifier is trained once per records folder on 80% of its images, must reach
``MIN_ACCURACY`` on the other 20% (otherwise its verdicts would mean little and an error
says so), and is cached beside the records as ``classifier_r<side>.keras`` with a JSON of
its held-out accuracy; a rebuilt records folder (other shards) trains a new one.
"""

import json
import math
import os

import numpy as np
import tensorflow as tf
from absl import logging

from wgan.data import manifest as manifest_io
from wgan.data import uint8_to_float
from wgan.errors import DataError
from wgan.metrics import reference
from wgan.metrics.extractors import file_digest
from wgan.metrics.frechet import frechet_distance, gaussian_stats

CLASSIFIER_SOURCES = ("digits", "mnist")
CONFIDENCE = 0.9
MIN_CLASS_SHARE = 0.025
MIN_ACCURACY = 0.95
HELD_OUT = 0.2
BATCH_SIZE = 64
# Updates rather than epochs: 1,797 digits need many passes, 60,000 mnist images about two.
TRAIN_UPDATES = 600
FEATURES_LAYER = "features"


def classifier_path(folder):
    """``<folder>/classifier_r<side>.keras`` (the side is the records' resolution)."""
    side = manifest_io.read_manifest(folder)["height"]
    return os.path.join(folder, f"classifier_r{side}.keras")


def build_classifier(shape, num_classes, seed=0):
    """A Keras CNN: images float32 [B, H, W, C] in [-1, 1] -> logits [B, num_classes].

    Two stride-2 stages of 3x3 convolutions, then a 128-unit ReLU layer named ``features``
    (the embedding for ``cfid``). Initializers and dropout are seeded.
    """
    import keras

    def init(i):
        return keras.initializers.HeNormal(seed=seed + i)

    inputs = keras.Input(shape)
    x = inputs
    for i, (filters, stride) in enumerate([(32, 1), (32, 2), (64, 1), (64, 2)]):
        x = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu",
                                kernel_initializer=init(i))(x)
    x = keras.layers.Dropout(0.3, seed=seed)(keras.layers.Flatten()(x))
    features = keras.layers.Dense(128, activation="relu", kernel_initializer=init(10), name=FEATURES_LAYER)(x)
    logits = keras.layers.Dense(num_classes, kernel_initializer=init(11), name="logits")(
        keras.layers.Dropout(0.3, seed=seed + 1)(features))
    return keras.Model(inputs, logits, name="digit_classifier")


def _split(count, seed):
    order = np.random.default_rng(seed).permutation(count)
    held = round(HELD_OUT * count)
    return order[held:], order[:held]


def train_classifier(folder, seed=0):
    """Train on 80% of the folder's labelled images; returns (model, info with ``accuracy`` on the rest).

    Raises DataError when the records have no labels or the held-out accuracy is below
    ``MIN_ACCURACY``.
    """
    import keras

    manifest = manifest_io.read_manifest(folder)
    if not manifest["labels"]:
        raise DataError(f"{folder} has no labels; the classifier metrics need a labelled source "
                        f"({', '.join(CLASSIFIER_SOURCES)})")
    images, labels = reference.read_images(folder, with_labels=True)
    x = uint8_to_float(images)
    num_classes = int(manifest.get("num_classes") or labels.max() + 1)
    train, held = _split(len(x), seed)
    model = build_classifier(x.shape[1:], num_classes, seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    epochs = max(1, math.ceil(TRAIN_UPDATES * BATCH_SIZE / len(train)))
    dataset = (tf.data.Dataset.from_tensor_slices((x[train], labels[train]))
               .shuffle(len(train), seed=seed, reshuffle_each_iteration=True).batch(BATCH_SIZE))
    model.fit(dataset, epochs=epochs, verbose=0, shuffle=False)  # the dataset shuffles itself, seeded
    predicted = predict_logits(model, x[held]).argmax(axis=1)
    accuracy = float((predicted == labels[held]).mean())
    info = {"accuracy": accuracy, "held_out": len(held), "trained_on": len(train), "epochs": epochs,
            "num_classes": num_classes, "records": reference.records_digest(folder), "seed": seed}
    if accuracy < MIN_ACCURACY:
        raise DataError(f"the classifier trained on {folder} reached {accuracy:.1%} held-out accuracy, below "
                        f"{MIN_ACCURACY:.0%}: its class metrics would not be trustworthy")
    return model, info


def predict_logits(model, x, batch_size=512):
    """Logits [N, K] (numpy) of float images [N, H, W, C] in [-1, 1], in inference mode."""
    return np.concatenate([model(x[i:i + batch_size], training=False).numpy() for i in range(0, len(x), batch_size)])


def _write_atomic(path, write):
    stem, extension = os.path.splitext(path)
    temp = f"{stem}.tmp{os.getpid()}{extension}"  # Keras insists on the .keras extension
    write(temp)
    os.replace(temp, path)


def load_or_train(folder, seed=0):
    """The folder's cached classifier (model, info), trained and cached first when missing or stale."""
    import keras

    path = classifier_path(folder)
    info_path = path[:-len(".keras")] + ".json"
    if os.path.isfile(path) and os.path.isfile(info_path):
        with open(info_path, encoding="utf-8") as handle:
            info = json.load(handle)
        if info.get("records") == reference.records_digest(folder):
            return keras.models.load_model(path, compile=False), info
    logging.info("training the digit classifier for %s once (cached as %s)", folder, path)
    model, info = train_classifier(folder, seed)
    logging.info("classifier held-out accuracy %.2f%% on %d images", 100 * info["accuracy"], info["held_out"])
    _write_atomic(path, model.save)

    def write_info(temp):
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(info, handle, indent=2)

    _write_atomic(info_path, write_info)  # last: a model without its info is retrained
    return model, info


class ClassifierJudge:
    """The classifier metrics of generated images against one records folder."""

    def __init__(self, folder, seed=0):
        import keras

        self.model, self.info = load_or_train(folder, seed)
        self.num_classes = self.info["num_classes"]
        self._embed = keras.Model(self.model.input, [self.model.get_layer(FEATURES_LAYER).output, self.model.output])
        # Names the features in the stats cache after the classifier file, so a retrained
        # classifier never reuses the statistics of the old one.
        path = classifier_path(folder)
        self.name = f"{os.path.basename(path)[:-len('.keras')]}-{file_digest(path)}"
        self.mu, self.sigma = reference.reference_stats(folder, self)[:2]

    def _forward(self, images, batch_size=512):
        x = uint8_to_float(np.asarray(images))
        parts = [self._embed(x[i:i + batch_size], training=False) for i in range(0, len(x), batch_size)]
        return (np.concatenate([p[0].numpy() for p in parts]).astype(np.float64),
                np.concatenate([p[1].numpy() for p in parts]))

    def __call__(self, images):
        """Features [N, 128] float64 of uint8 images [N, H, W, C] (the extractor interface)."""
        return self._forward(images)[0]

    def evaluate(self, images):
        """uint8 images [N, H, W, C], N >= 2 -> (scalars, extras).

        scalars: ``cfid`` (>= 0), ``classes`` (0..K), ``confident`` (0..1);
        extras: ``class_histogram`` (K shares summing to 1).
        """
        features, logits = self._forward(images)
        probabilities = tf.nn.softmax(logits).numpy()
        histogram = np.bincount(probabilities.argmax(axis=1), minlength=self.num_classes) / len(images)
        scalars = {"cfid": frechet_distance(*gaussian_stats(features), self.mu, self.sigma),
                   "classes": int((histogram >= MIN_CLASS_SHARE).sum()),
                   "confident": float((probabilities.max(axis=1) >= CONFIDENCE).mean())}
        return scalars, {"class_histogram": [round(float(h), 4) for h in histogram]}
