"""Features learned from a folder's own unlabelled images: a Fréchet distance that judges a run offline.

A folder without class subfolders has no classifier, and a machine without the Inception
graph has no FID. What such a run has is its real images, and a few minutes of CPU. Each
recipe here trains the small CNN of ``wgan.metrics.classifier`` on a task the images pose
themselves, once per records folder, and takes its 128-unit ``features`` layer as the
embedding of a Fréchet distance (``ffid``) between generated and training images:

* ``rotation``: which of four rotations (0, 90, 180, 270 degrees) an image was turned by
  (Gidaris et al. 2018, "Unsupervised representation learning by predicting image
  rotations"): to answer, the network must find where the top of a garment, a face or a
  glyph is;
* ``clusters``: which of ``CLUSTERS`` k-means clusters (of the images' pixels at half the side)
  an image belongs to: pseudo-classes, trained as the classifier is on real ones;
* ``contrastive``: which other image of a batch is the second random view of the same image
  (SimCLR, Chen et al. 2020; NT-Xent loss at temperature ``TEMPERATURE``): the features must
  keep what survives shifts, flips, cutout and brightness changes, and tell images apart.

Measured on a flat folder of 2,000 Fashion-MNIST images (docs/own-data.md#what-judges-a-run,
``benchmarks/own_data.py judges --features rotation,clusters,contrastive,random``), with the
Fashion-MNIST classifier's FID as the truth: the FID in ``rotation`` features ranked a run's 12
snapshots closest to it and kept the snapshot it would keep, so training uses it
(``DEFAULT_RECIPE``; the metric ``ffid``). A folder whose images have no up and down (textures,
aerial views) cannot teach it: the rotation network must reach ``MIN_ROTATION_ACCURACY`` on a
held-out ``classifier.HELD_OUT`` of the images, or ``DataError`` says why and the run is judged
without it.

The network is cached beside the records as ``features_<recipe>_r<side>.keras`` with a JSON of
how it was trained (and, for rotation, how accurate it is), keyed by the records' digest (a
rebuild trains a new one). Distances are comparable only within one records folder and one recipe.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf
from absl import logging

from wgan.data import manifest as manifest_io
from wgan.data import uint8_to_float
from wgan.errors import ConfigError, DataError
from wgan.metrics import classifier, reference
from wgan.metrics.frechet import frechet_distance
from wgan.metrics.sample_sizes import REFERENCE_IMAGES
from wgan.util.files import short_digest

CLUSTERS = 16
TEMPERATURE = 0.5
# Chance is 1/4; a network below twice that has found no up and down in the images.
MIN_ROTATION_ACCURACY = 0.5
# FID's covariance of 128-d features needs clearly more images than dimensions.
MIN_IMAGES = 256
# The network learns from the first this many images (memory: 10,000 64x64 colour ones are 0.5 GB as floats).
MAX_IMAGES = 10_000
FEATURES = classifier.FEATURES_LAYER


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one kind of learned features is trained.

    Attributes:
        fit: ``fit(x, seed, updates) -> keras.Model`` of images float32 [N, H, W, C] in [-1, 1]
            whose layer ``features`` gives the embedding.
        updates: optimizer updates.
        about: one line for logs and docs.
        accuracy: ``accuracy(model, x) -> float`` on images it was not fitted on, for a pretext task
            whose answers are known (None: not measured); ``min_accuracy``: the bar it must reach.
    """

    fit: object
    updates: int
    about: str
    accuracy: object = None
    min_accuracy: float = 0.0


def _stages(side):
    return classifier.folder_spec(side, 2).stages


def _fit(model, batches, updates):
    """Fit ``model`` (logits) to ``batches`` of (images, int labels) for ``updates`` Adam updates, the rate
    cosine-decayed from 1e-3 to 0."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, updates)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(batches.take(updates), epochs=1, verbose=0, shuffle=False)  # the batches come shuffled, seeded
    return model


def _shuffled(x, seed):
    """The images ``x`` in a seeded order, reshuffled every pass, forever."""
    return tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=seed, reshuffle_each_iteration=True).repeat()


def _rotated(x):
    """x [N, S, S, C] -> (the four rotations of every image [4N, S, S, C], which rotation [4N])."""
    turns = [np.rot90(x, k, axes=(1, 2)) for k in range(4)]
    return np.concatenate(turns), np.repeat(np.arange(4), len(x))


def fit_rotation(x, seed, updates, batch_size=64):
    """The classifier network taught which rotation (a seeded random one of four per image and pass; ``np.rot90``'s
    direction) each image of ``x`` [N, S, S, C] was turned by. The turns are made per batch, so memory holds
    ``x`` once."""
    if x.shape[1] != x.shape[2]:
        raise DataError(f"rotation features need square images, not {x.shape[1]}x{x.shape[2]}")
    turns = tf.data.Dataset.random(seed=seed).map(lambda r: tf.cast(r % 4, tf.int32))
    batches = (tf.data.Dataset.zip((_shuffled(x, seed), turns))
               .map(lambda image, k: (tf.image.rot90(image, k), k)).batch(batch_size))
    return _fit(classifier.build_classifier(x.shape[1:], 4, seed, _stages(x.shape[1])), batches, updates)


def rotation_accuracy(model, x):
    """The share of the four rotations of images ``x`` [N, S, S, C] that ``model`` names right."""
    rotated, turns = _rotated(x)
    return float((classifier.predict_logits(model, rotated).argmax(axis=1) == turns).mean())


def cluster_labels(x, seed, clusters=CLUSTERS):
    """k-means cluster [N] of each image's pixels at half its side (x float [N, H, W, C])."""
    from sklearn.cluster import KMeans

    small = tf.image.resize(x, (max(4, x.shape[1] // 2), max(4, x.shape[2] // 2)), antialias=True).numpy()
    return KMeans(clusters, n_init=4, random_state=seed).fit_predict(small.reshape(len(x), -1))


def fit_clusters(x, seed, updates, batch_size=64):
    labels = tf.data.Dataset.from_tensor_slices(cluster_labels(x, seed).astype(np.int32))
    pairs = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(x), labels))
    batches = pairs.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).repeat().batch(batch_size)
    return _fit(classifier.build_classifier(x.shape[1:], CLUSTERS, seed, _stages(x.shape[1])), batches, updates)


def _views(batch, seed):
    """A random view of each image of ``batch`` [B, S, S, C] in [-1, 1]: shifted up to 1/8 of the side,
    flipped left-right, brightness and contrast jittered, a cutout of a quarter of the side."""
    side = batch.shape[1]
    shift = max(1, side // 8)
    count = tf.shape(batch)[0]
    padded = tf.pad(batch, [[0, 0], [shift, shift], [shift, shift], [0, 0]], mode="REFLECT")
    seeds = tf.random.experimental.stateless_split(seed, 6)
    offsets = tf.random.stateless_uniform([count, 2], seeds[0], 0, 2 * shift + 1, dtype=tf.int32)
    rows = offsets[:, :1] + tf.range(side)[None, :]  # [B, S]: the rows of the padded image each view keeps
    cols = offsets[:, 1:] + tf.range(side)[None, :]
    crop = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    flip = tf.random.stateless_uniform([count, 1, 1, 1], seeds[1]) < 0.5
    x = tf.where(flip, tf.reverse(crop, axis=[2]), crop)
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    contrast = tf.random.stateless_uniform([count, 1, 1, 1], seeds[2], 0.6, 1.4)
    brightness = tf.random.stateless_uniform([count, 1, 1, 1], seeds[3], -0.3, 0.3)
    x = (x - mean) * contrast + mean + brightness
    hole = side // 4
    corner = tf.random.stateless_uniform([count, 2], seeds[4], 0, side - hole + 1, dtype=tf.int32)
    rows, cols = tf.range(side)[None, :, None, None], tf.range(side)[None, None, :, None]
    top, left = corner[:, 0][:, None, None, None], corner[:, 1][:, None, None, None]
    inside = (rows >= top) & (rows < top + hole) & (cols >= left) & (cols < left + hole)
    return tf.clip_by_value(tf.where(inside, tf.zeros_like(x), x), -1.0, 1.0)


def nt_xent(first, second, temperature=TEMPERATURE):
    """SimCLR's loss of two views' projections [B, D] (row i of each is one image): the cross-entropy of
    picking row i of the other view among the 2B - 1 other rows, by cosine similarity / temperature."""
    z = tf.math.l2_normalize(tf.concat([first, second], axis=0), axis=1)
    count = tf.shape(first)[0]
    logits = tf.matmul(z, z, transpose_b=True) / temperature
    logits -= 1e9 * tf.eye(2 * count)  # an image's own view is not a candidate
    targets = tf.concat([tf.range(count, 2 * count), tf.range(count)], axis=0)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits))


def fit_contrastive(x, seed, updates, batch_size=256):
    import keras

    net = classifier.build_classifier(x.shape[1:], 2, seed, _stages(x.shape[1]))
    backbone = keras.Model(net.input, net.get_layer(FEATURES).output)
    head = keras.Sequential([keras.layers.Dense(128, activation="relu", kernel_initializer=keras.initializers.HeNormal(seed)),
                             keras.layers.Dense(64, kernel_initializer=keras.initializers.HeNormal(seed + 1))])
    head.build((None, 128))
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, updates))
    variables = backbone.trainable_variables + head.trainable_variables
    images = tf.constant(x)

    @tf.function
    def step(index, step_seed):
        batch = tf.gather(images, index)
        pair = tf.random.experimental.stateless_split(step_seed, 2)
        with tf.GradientTape() as tape:
            loss = nt_xent(head(backbone(_views(batch, pair[0]), training=True)),
                           head(backbone(_views(batch, pair[1]), training=True)))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    rng = np.random.default_rng(seed)
    batch_size = min(batch_size, len(x))
    for update in range(updates):
        loss = step(rng.choice(len(x), batch_size, replace=False), tf.constant([seed, update], tf.int64))
        if update % 200 == 0:
            logging.info("contrastive features: update %d, loss %.3f", update, float(loss))
    return net


RECIPES = {
    "rotation": Recipe(fit_rotation, 1500, "which of four rotations an image was turned by", rotation_accuracy,
                       MIN_ROTATION_ACCURACY),
    "clusters": Recipe(fit_clusters, 1500, f"which of {CLUSTERS} k-means clusters of pixels an image is in"),
    "contrastive": Recipe(fit_contrastive, 1500, "which image of a batch is another view of the same one (SimCLR)"),
}


DEFAULT_RECIPE = "rotation"


def recipe(name):
    """The ``Recipe`` called ``name``; ConfigError listing the names otherwise."""
    if name not in RECIPES:
        raise ConfigError(f"unknown learned features {name!r}; choose {', '.join(RECIPES)}")
    return RECIPES[name]


def model_path(folder, name):
    """``<folder>/features_<name>_r<side>.keras``."""
    side = manifest_io.read_manifest(folder)["height"]
    return os.path.join(folder, f"features_{name}_r{side}.keras")


def _info_path(folder, name):
    return model_path(folder, name)[:-len(".keras")] + ".json"


def load_or_fit(folder, name=DEFAULT_RECIPE, seed=0):
    """(model, info) of the folder's ``name`` features, fitted on its images and cached first when missing
    or stale (records rebuilt).

    A recipe with an ``accuracy`` is fitted on all but a seeded ``classifier.HELD_OUT`` share of the
    images and measured on that share (``info["accuracy"]``). Raises DataError when the folder has
    fewer than ``MIN_IMAGES`` images, or the accuracy is below the recipe's bar (also when cached).
    """
    chosen = recipe(name)
    path, info_path = model_path(folder, name), _info_path(folder, name)
    count = manifest_io.read_manifest(folder)["count"]
    if count < MIN_IMAGES:
        raise DataError(f"{folder} holds {count} images; features learned from them need at least {MIN_IMAGES}")
    digest = reference.records_digest(folder)
    cached = classifier.read_cached(path, info_path, lambda info: info.get("records") == digest)
    if cached is not None:
        model, info = cached
    else:
        x = uint8_to_float(reference.read_images(folder, limit=MAX_IMAGES))
        logging.info("learning %s features of %s once (%s; cached as %s)", name, folder, chosen.about, path)
        info = {"recipe": name, "updates": chosen.updates, "records": digest, "images": len(x), "seed": seed}
        if chosen.accuracy is not None:
            fit_on, held = classifier.split(len(x), seed)
            model = chosen.fit(x[fit_on], seed, chosen.updates)
            info.update(accuracy=chosen.accuracy(model, x[held]), held_out=len(held))
        else:
            model = chosen.fit(x, seed, chosen.updates)
        classifier.write_cached(path, info_path, model, info)
    if info.get("accuracy", 1.0) < chosen.min_accuracy:
        raise DataError(f"the {name} network learned from {folder} named {info['accuracy']:.0%} of the rotations of "
                        f"{info['held_out']} held-out images right, below {chosen.min_accuracy:.0%}: these images "
                        "have no up and down for it to learn, so its features would judge nothing")
    return model, info


class FolderFeatures:
    """The extractor of a folder's learned ``name`` features: uint8 [N, H, W, C] -> float64 [N, 128]."""

    comparable = False
    has_probabilities = False

    def __init__(self, folder, name=DEFAULT_RECIPE, seed=0, batch_size=512):
        import keras

        model, self.info = load_or_fit(folder, name, seed)
        self.label = f"{name}_features"
        self.name = f"{name}-{short_digest(model_path(folder, name))}"
        self.batch_size = batch_size
        self._embed = keras.Model(model.input, model.get_layer(FEATURES).output)

    def __call__(self, images):
        x = uint8_to_float(np.asarray(images))
        return np.concatenate([self._embed(x[i:i + self.batch_size], training=False).numpy()
                               for i in range(0, len(x), self.batch_size)]).astype(np.float64)


class LearnedJudge:
    """``ffid``: generated images against (the first ``REFERENCE_IMAGES`` of) a records folder in its learned
    features (fitted on first use)."""

    def __init__(self, folder, name=DEFAULT_RECIPE, seed=0):
        self.extractor = FolderFeatures(folder, name, seed)
        self.info = self.extractor.info
        self.reference = reference.reference_stats(folder, self.extractor, REFERENCE_IMAGES)

    def distance(self, moments):
        """The Fréchet distance (>= 0) of generated features' ``(mu [128], sigma [128, 128])`` to the records'."""
        return float(frechet_distance(*moments, self.reference.mu, self.reference.sigma))
