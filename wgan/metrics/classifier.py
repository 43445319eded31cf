"""Judge generated images with a small classifier trained on the same records (digits, mnist, fashion_mnist,
and a user's folder with one subfolder per class).

Inception features need a download and minutes per thousand images on a CPU; a small CNN
trained on the labelled records themselves takes seconds to minutes and measures what
matters for these data:

* ``cfid``: the Fréchet distance between generated and real (training-records) images in
  the classifier's penultimate-layer features (128-d), i.e. FID with a domain-specific network;
* ``class_histogram``: the share of generated images the classifier puts in each class;
  ``classes``: how many classes get at least ``MIN_CLASS_SHARE`` (a quarter of the fair
  1/10), so a generator collapsed onto a few classes shows as fewer than 10;
* ``confident``: the share of generated images whose top softmax probability is at least
  ``CONFIDENCE`` (0.9): recognisable digits or garments rather than blends or noise.

Each source has its recipe in ``CLASSIFIERS`` (network, updates, the accuracy it must
reach). The classifier is trained once per records folder and cached beside the records as
``classifier_r<side>.keras`` with a JSON of how it was trained and how accurate it is,
keyed by the records' manifest digest, so rebuilt records (other shards) train a new one.
Its accuracy is measured on the source's test split when that split's records are given
(``evaluation`` passes them for mnist and fashion_mnist when they can be built offline);
otherwise on ``HELD_OUT`` of the training records, which it is then not trained on. The
JSON also keeps the real test split's own scores (``real_test``), the yardstick for every
generated score.
"""

import dataclasses
import json
import math
import os

import numpy as np
import tensorflow as tf
from absl import logging

from wgan.data import manifest as manifest_io, sources
from wgan.data import uint8_to_float
from wgan.errors import DataError
from wgan.metrics import reference
from wgan.util.files import atomic_path, short_digest
from wgan.metrics.frechet import frechet_distance, gaussian_stats

CONFIDENCE = 0.9
MIN_CLASS_SHARE = 0.025
HELD_OUT = 0.2
FEATURES_LAYER = "features"


@dataclasses.dataclass(frozen=True)
class ClassifierSpec:
    """How a source's classifier is built and trained, and the accuracy it must reach.

    Attributes:
        min_accuracy: test (or held-out) accuracy below which training fails with DataError.
        stages: (filters, kernel, stride) of each ReLU convolution before the 128-unit features.
        epochs: passes over the training images, at least.
        min_updates: optimizer updates, at least (small sources need many passes).
        batch_size: images per update.
        learning_rate: Adam's initial rate.
        cosine: decay the rate to zero over the run (cosine), else constant.
    """

    min_accuracy: float
    stages: tuple
    epochs: int = 1
    min_updates: int = 0
    batch_size: int = 64
    learning_rate: float = 1e-3
    cosine: bool = False


_DIGIT_STAGES = ((32, 3, 1), (32, 3, 2), (64, 3, 1), (64, 3, 2))
_DIGITS = ClassifierSpec(0.95, _DIGIT_STAGES, min_updates=600)
CLASSIFIERS = {
    "digits": _DIGITS,
    "mnist": _DIGITS,
    # Fashion-MNIST is harder (about 91% for small CNNs) and 60,000 images make full-width
    # 28x28 convolutions slow on a CPU: the first layer strides at once (5x5, stride 2).
    # Measured on the real data with 2 CPU cores: 91.4% test accuracy in 70 s
    # (benchmarks/bench_classifier.py, docs/benchmarks/classifier.json).
    "fashion_mnist": ClassifierSpec(0.90, ((32, 5, 2), (64, 3, 2), (64, 3, 1)), epochs=7, batch_size=128,
                                    learning_rate=2e-3, cosine=True),
}
CLASSIFIER_SOURCES = tuple(CLASSIFIERS)
# Kept for readers of the digits recipe.
MIN_ACCURACY = _DIGITS.min_accuracy
# A user's labelled folder (class subfolders): the digits network up to 16x16, the strided
# Fashion-MNIST one above; at least 600 updates, since such folders are often small. Its
# classes are the user's, of unknown difficulty, so the bar is twice chance accuracy (a
# classifier that cannot beat that judges nothing): ``folder_spec``.
FOLDER_MIN_UPDATES = 600
FOLDER_ACCURACY_OVER_CHANCE = 2.0


def folder_spec(side, num_classes):
    """The ``ClassifierSpec`` of a labelled image folder of ``side`` x ``side`` images in ``num_classes`` classes."""
    stages = _DIGIT_STAGES if side <= 16 else CLASSIFIERS["fashion_mnist"].stages
    return ClassifierSpec(min(1.0, FOLDER_ACCURACY_OVER_CHANCE / num_classes), stages, min_updates=FOLDER_MIN_UPDATES)


def spec_for(folder):
    """The ``ClassifierSpec`` of the source a records folder was built from: its recipe in
    ``CLASSIFIERS``, or for a labelled folder of the user's ``folder_spec``.

    Raises DataError for unlabelled records of a source without a classifier recipe.
    """
    manifest = manifest_io.read_manifest(folder)
    source = (manifest.get("source") or {}).get("data")
    if source in CLASSIFIERS:
        return CLASSIFIERS[source]
    if source not in sources.SOURCES and manifest.get("labels") and (manifest.get("num_classes") or 0) >= 2:
        return folder_spec(manifest["height"], manifest["num_classes"])
    raise DataError(f"{folder} holds {source!r} records; the classifier metrics exist for "
                    f"{', '.join(CLASSIFIER_SOURCES)} and for folders with one subfolder per class")


def judges(hp, records_root=None):
    """Whether the classifier metrics apply to ``hp``'s data: a source with a recipe in ``CLASSIFIERS``,
    or an image folder whose records (under ``records_root``) hold at least two labelled classes."""
    if hp.data.name in CLASSIFIERS:
        return True
    if hp.data.is_toy or hp.data.name in sources.SOURCES or records_root is None:
        return False
    folder = sources.records_dir(records_root, hp.data.name, hp.data.crop, hp.data.resize)
    try:
        manifest = manifest_io.read_manifest(folder)
    except DataError:  # not built yet: the run's own start says so
        return False
    return bool(manifest.get("labels")) and (manifest.get("num_classes") or 0) >= 2


def classifier_path(folder):
    """``<folder>/classifier_r<side>.keras`` (the side is the records' resolution)."""
    side = manifest_io.read_manifest(folder)["height"]
    return os.path.join(folder, f"classifier_r{side}.keras")


def build_classifier(shape, num_classes, seed=0, stages=_DIGIT_STAGES):
    """A Keras CNN: images float32 [B, H, W, C] in [-1, 1] -> logits [B, num_classes].

    ReLU convolutions ``stages`` ((filters, kernel, stride) each, "same" padding), then a
    128-unit ReLU layer named ``features`` (the embedding for ``cfid``), with dropout 0.3
    before and after it. Initializers and dropout are seeded.
    """
    import keras

    def init(i):
        return keras.initializers.HeNormal(seed=seed + i)

    inputs = keras.Input(shape)
    x = inputs
    for i, (filters, kernel, stride) in enumerate(stages):
        x = keras.layers.Conv2D(filters, kernel, strides=stride, padding="same", activation="relu",
                                kernel_initializer=init(i))(x)
    x = keras.layers.Dropout(0.3, seed=seed)(keras.layers.Flatten()(x))
    features = keras.layers.Dense(128, activation="relu", kernel_initializer=init(10), name=FEATURES_LAYER)(x)
    logits = keras.layers.Dense(num_classes, kernel_initializer=init(11), name="logits")(
        keras.layers.Dropout(0.3, seed=seed + 1)(features))
    return keras.Model(inputs, logits, name="classifier")


def split(count, seed):
    """(indices to fit on, a seeded ``HELD_OUT`` share of ``range(count)`` held out)."""
    order = np.random.default_rng(seed).permutation(count)
    held = round(HELD_OUT * count)
    return order[held:], order[:held]


def _labelled(folder):
    manifest = manifest_io.read_manifest(folder)
    if not manifest["labels"]:
        raise DataError(f"{folder} has no labels; the classifier metrics need a labelled source "
                        f"({', '.join(CLASSIFIER_SOURCES)})")
    images, labels = reference.read_images(folder, with_labels=True)
    return manifest, uint8_to_float(images), labels


def train_classifier(folder, seed=0, test_folder=None, spec=None):
    """Train on the folder's labelled images; returns (model, info with ``accuracy``).

    ``spec`` (a ``ClassifierSpec``) defaults to the source's recipe in ``CLASSIFIERS``; another
    one is for trying recipes (``benchmarks/bench_classifier.py``).

    With ``test_folder`` (the same source's test-split records) the classifier trains on every
    training image and ``accuracy`` is measured on the test split; without it, on a seeded
    ``HELD_OUT`` share of the training records that it does not train on. ``info`` also
    says what it was measured on (``evaluated_on``), the recipe and the records' digest.

    Raises DataError when the records have no labels, the shapes differ, or the accuracy
    is below the source's ``min_accuracy``.
    """
    import keras

    spec = spec or spec_for(folder)
    manifest, x, labels = _labelled(folder)
    num_classes = int(manifest.get("num_classes") or labels.max() + 1)
    if test_folder is None:
        train, held = split(len(x), seed)
        x_train, y_train, x_test, y_test = x[train], labels[train], x[held], labels[held]
        evaluated_on = f"{HELD_OUT:.0%} of the training records, held out"
    else:
        _, x_test, y_test = _labelled(test_folder)
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(f"{test_folder} holds images of shape {x_test.shape[1:]}, {folder} {x.shape[1:]}")
        x_train, y_train = x, labels
        evaluated_on = "the test split"
    model = build_classifier(x.shape[1:], num_classes, seed, spec.stages)
    epochs = max(spec.epochs, math.ceil(spec.min_updates * spec.batch_size / len(x_train)))
    updates = epochs * math.ceil(len(x_train) / spec.batch_size)
    rate = (keras.optimizers.schedules.CosineDecay(spec.learning_rate, updates) if spec.cosine
            else spec.learning_rate)
    model.compile(optimizer=keras.optimizers.Adam(rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    dataset = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
               .shuffle(len(x_train), seed=seed, reshuffle_each_iteration=True).batch(spec.batch_size))
    model.fit(dataset, epochs=epochs, verbose=0, shuffle=False)  # the dataset shuffles itself, seeded
    accuracy = float((predict_logits(model, x_test).argmax(axis=1) == y_test).mean())
    info = {"accuracy": accuracy, "evaluated_on": evaluated_on, "held_out": len(x_test),
            "trained_on": len(x_train), "epochs": epochs, "num_classes": num_classes,
            "records": reference.records_digest(folder),
            "test_records": reference.records_digest(test_folder) if test_folder else None,
            "recipe": json.loads(json.dumps(dataclasses.asdict(spec))), "seed": seed}  # lists, as when cached
    if accuracy < spec.min_accuracy:
        raise DataError(f"the classifier trained on {folder} reached {accuracy:.1%} accuracy on {evaluated_on}, "
                        f"below {spec.min_accuracy:.0%}: its class metrics would not be trustworthy")
    return model, info


def predict_logits(model, x, batch_size=512):
    """Logits [N, K] (numpy) of float images [N, H, W, C] in [-1, 1], in inference mode."""
    return np.concatenate([model(x[i:i + batch_size], training=False).numpy() for i in range(0, len(x), batch_size)])


def _write_atomic(path, write):
    """``write(temp)`` then rename to ``path`` (which keeps its extension: Keras insists on .keras)."""
    with atomic_path(path, keep_extension=True) as temp:
        write(temp)


def _write_json(path, value):
    def write(temp):
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2)

    _write_atomic(path, write)


def _info_path(folder):
    return classifier_path(folder)[:-len(".keras")] + ".json"


def _write_info(folder, info):
    _write_json(_info_path(folder), info)


def read_cached(path, info_path, fresh):
    """``(model, info)`` of a judge network cached as ``path`` (.keras) beside its ``info_path`` JSON, when both
    exist and ``fresh(info)`` holds (the records it was trained on are the ones there now); else None."""
    import keras

    if not (os.path.isfile(path) and os.path.isfile(info_path)):
        return None
    with open(info_path, encoding="utf-8") as handle:
        info = json.load(handle)
    return (keras.models.load_model(path, compile=False), info) if fresh(info) else None


def write_cached(path, info_path, model, info):
    """Cache a judge network and its info, each atomically; the info last, so a model without it is trained again."""
    _write_atomic(path, model.save)
    _write_json(info_path, info)


def load_or_train(folder, seed=0, test_folder=None):
    """The folder's cached classifier (model, info), trained and cached first when missing or stale.

    The cache is stale when the records were rebuilt, or when a test split is given now
    and the cached classifier was measured on other (or no) test records.
    """
    path, info_path = classifier_path(folder), _info_path(folder)
    test_digest = reference.records_digest(test_folder) if test_folder else None
    cached = read_cached(path, info_path, lambda info: info.get("records") == reference.records_digest(folder) and (
        test_folder is None or info.get("test_records") == test_digest))
    if cached is not None:
        return cached
    logging.info("training the classifier for %s once (cached as %s)", folder, path)
    model, info = train_classifier(folder, seed, test_folder)
    logging.info("classifier accuracy %.2f%% on %d images (%s)", 100 * info["accuracy"], info["held_out"],
                 info["evaluated_on"])
    write_cached(path, info_path, model, info)
    return model, info


class ClassifierJudge:
    """The classifier metrics of generated images against one records folder."""

    def __init__(self, folder, seed=0, test_folder=None):
        import keras

        self.model, self.info = load_or_train(folder, seed, test_folder)
        self.num_classes = self.info["num_classes"]
        self._embed = keras.Model(self.model.input, [self.model.get_layer(FEATURES_LAYER).output, self.model.output])
        # Names the features in the stats cache after the classifier file, so a retrained
        # classifier never reuses the statistics of the old one.
        path = classifier_path(folder)
        self.name = f"{os.path.basename(path)[:-len('.keras')]}-{short_digest(path)}"
        self.mu, self.sigma = reference.reference_stats(folder, self)[:2]
        if test_folder is not None and self.info.get("real_test") is None:
            # The real test split's own scores: what a perfect generator would get.
            scores, extras = self.evaluate(reference.read_images(test_folder))
            self.info["real_test"] = {**scores, **extras, "images": manifest_io.read_manifest(test_folder)["count"]}
            _write_info(folder, self.info)

    def forward(self, images, batch_size=512):
        """(features float64 [N, 128], logits [N, K]) of uint8 images [N, H, W, C], in inference mode."""
        x = uint8_to_float(np.asarray(images))
        parts = [self._embed(x[i:i + batch_size], training=False) for i in range(0, len(x), batch_size)]
        return (np.concatenate([p[0].numpy() for p in parts]).astype(np.float64),
                np.concatenate([p[1].numpy() for p in parts]))

    def __call__(self, images):
        """Features [N, 128] float64 of uint8 images [N, H, W, C] (the extractor interface)."""
        return self.forward(images)[0]

    def evaluate(self, images):
        """uint8 images [N, H, W, C], N >= 2 -> (scalars, extras).

        scalars: ``cfid`` (>= 0), ``classes`` (0..K), ``confident`` (0..1);
        extras: ``class_histogram`` (K shares summing to 1).
        """
        return self.score(*self.forward(images))

    def score(self, features, logits):
        """``evaluate`` from the ``forward`` pass of N >= 2 images: (features [N, 128], logits [N, K])."""
        probabilities = tf.nn.softmax(logits).numpy()
        histogram = np.bincount(probabilities.argmax(axis=1), minlength=self.num_classes) / len(features)
        scalars = {"cfid": frechet_distance(*gaussian_stats(features), self.mu, self.sigma),
                   "classes": int((histogram >= MIN_CLASS_SHARE).sum()),
                   "confident": float((probabilities.max(axis=1) >= CONFIDENCE).mean())}
        return scalars, {"class_histogram": [round(float(h), 4) for h in histogram]}
