"""Feature extractors for FID, KID and IS, in one registry (``EXTRACTORS``).

Every extractor maps uint8 images [N, H, W, C] (C = 1 or 3, values 0..255) to float64
features [N, D] and has a ``name`` that identifies the features (it keys the cached
reference statistics, so two extractors with one name must give the same features), a
``label`` (the registry name, part of every stored metric's name) and ``comparable``
(whether its numbers can be set beside published ones). Extractors with
``has_probabilities`` also give class probabilities (``features_and_probabilities``) for
the Inception Score.

* ``inception2015`` (the default): the Inception graph of 2015-12-05 in the file and the way
  TTUR's FID code and improved-gan's Inception Score read it; see ``wgan.metrics.inception2015``.
  Comparable with papers.
* ``inception2015_tfgan``: the same network in the file and the way TF-GAN and
  google/compare_gan v1 read it (Lucic et al. 2018's protocol). Comparable with papers.
* ``keras_inception``: ``keras.applications.InceptionV3`` without its top,
  global-average pooled, D = 2048. Images are resized to 299 x 299 (bilinear) and scaled by
  its ``preprocess_input``; grey images are tiled to 3 channels. The ImageNet weights are
  downloaded by Keras on first use (cached in ~/.keras/models) unless a local weights file
  is given. These are other weights and another preprocessing than the 2015 graph's:
  **not comparable with papers**, only with other ``keras_inception`` numbers.
* ``random``: a small convolutional network with fixed random weights (seeded). Nothing is
  downloaded; it is for tests and quick smoke checks, and its distances are comparable only
  with themselves.
"""

import dataclasses
import os

import numpy as np

from wgan.util.files import short_digest
from wgan.errors import ConfigError, DataError
from wgan.metrics import inception_files

# TensorFlow (and the graph reader, wgan.metrics.inception2015) is imported where an extractor is built
# or run: the registry itself names the extractors for --help without loading it.

INCEPTION_SIZE = 299
INCEPTION_NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
# Set to a weights file to turn on FID/KID during training for image data without a classifier.
WEIGHTS_ENV = "WGAN_INCEPTION_WEIGHTS"


def _batched(function, images, batch_size):
    outputs = [np.asarray(function(images[i:i + batch_size]), np.float64) for i in range(0, len(images), batch_size)]
    return np.concatenate(outputs, axis=0)


def _as_rgb_float(images):
    """uint8 [N, H, W, 1|3] -> float32 tensor [N, H, W, 3] with values 0..255."""
    import tensorflow as tf

    images = tf.convert_to_tensor(images)
    if images.dtype != tf.uint8:
        raise TypeError(f"feature extractors take uint8 images, got {images.dtype.name}")
    images = tf.cast(images, tf.float32)
    return tf.tile(images, [1, 1, 1, 3]) if images.shape[-1] == 1 else images


def cached_imagenet_weights():
    """Path of the ImageNet no-top weights in the Keras cache, or None when never downloaded."""
    path = os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "models",
                        INCEPTION_NOTOP_FILE)
    return path if os.path.isfile(path) else None


class InceptionFeatures:
    """Keras InceptionV3 pool features [N, 2048] (``keras_inception``); ``weights`` is ``"imagenet"`` or a
    local .h5/.weights file."""

    dim = 2048
    label = "keras_inception"
    comparable = False
    has_probabilities = False

    def __init__(self, weights="imagenet", batch_size=50):
        import keras
        import tensorflow as tf

        if weights != "imagenet":
            if not os.path.isfile(weights):
                raise ConfigError(f"--inception_weights {weights} does not exist (give the InceptionV3 no-top "
                                  f"weights file, {INCEPTION_NOTOP_FILE})")
            self.name = f"{self.label}-{short_digest(weights)}"
        else:
            self.name = self.label
        try:
            self.model = keras.applications.InceptionV3(
                include_top=False, pooling="avg", weights=weights,
                input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3))
        except Exception as err:  # a failed download or a file of other weights
            hint = ("no internet? download the weights elsewhere and pass --inception_weights FILE"
                    if weights == "imagenet" else "is it the InceptionV3 include_top=False weights file?")
            raise DataError(f"cannot load the InceptionV3 weights ({weights}): {err}; {hint}") from None
        self.batch_size = batch_size
        self._preprocess = keras.applications.inception_v3.preprocess_input
        self._forward = tf.function(self._features, reduce_retracing=True)

    def _features(self, images):
        import tensorflow as tf

        resized = tf.image.resize(_as_rgb_float(images), (INCEPTION_SIZE, INCEPTION_SIZE), method="bilinear")
        return self.model(self._preprocess(resized), training=False)

    def __call__(self, images):
        """uint8 [N, H, W, 1|3] -> float64 [N, 2048]."""
        return _batched(self._forward, images, self.batch_size)


class RandomFeatures:
    """Pooled features [N, ``dim``] of a small conv net with fixed random weights (``seed``)."""

    label = "random"
    comparable = False
    has_probabilities = False

    def __init__(self, seed=0, dim=64, batch_size=256):
        import keras

        self.name = f"random_conv{dim}-s{seed}"
        self.dim = dim
        self.batch_size = batch_size
        init = [keras.initializers.HeNormal(seed=seed + i) for i in range(3)]
        # Fixed-size input: the pooling at the end makes the features independent of H and W.
        self.layers = [keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", kernel_initializer=init[0]),
                       keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", kernel_initializer=init[1]),
                       keras.layers.Conv2D(dim, 3, padding="same", activation="relu", kernel_initializer=init[2]),
                       keras.layers.GlobalAveragePooling2D()]

    def __call__(self, images):
        """uint8 [N, H, W, 1|3] -> float64 [N, dim]."""
        def forward(batch):
            x = _as_rgb_float(batch) / 127.5 - 1.0
            for layer in self.layers:
                x = layer(x)
            return x

        return _batched(forward, images, self.batch_size)


@dataclasses.dataclass(frozen=True)
class ExtractorEntry:
    """A registered extractor: ``build(inception_weights, inception_graph, download)`` makes it;
    ``configured(inception_weights, inception_graph, look)`` says whether it can run without a
    download (its file given, or with ``look`` found in its environment variable or cache)."""

    build: object
    configured: object
    comparable: bool
    has_probabilities: bool
    description: str


def _graph_entry(source, description):
    """The registry entry of one 2015-12-05 graph file (``wgan.metrics.inception_files.GraphFile``)."""

    def build(inception_weights, inception_graph, download):
        from wgan.metrics import inception2015

        return inception2015.Inception2015(inception_graph, download, source=source)

    def configured(inception_weights, inception_graph, look):
        return inception_graph is not None or (look and inception_files.locate_graph(source=source) is not None)

    return ExtractorEntry(build, configured, True, True, f"{description} ({source.member}, read as {source.reference} "
                                                         "read it): comparable with published FID, KID, IS")


# The 2015 graph files, in the order training looks for them (``configured_extractor``).
GRAPH_SOURCES = (inception_files.TTUR_GRAPH, inception_files.TFGAN_GRAPH)

EXTRACTORS = {
    inception_files.TTUR_GRAPH.label: _graph_entry(inception_files.TTUR_GRAPH, "the Inception graph of 2015-12-05"),
    inception_files.TFGAN_GRAPH.label: _graph_entry(inception_files.TFGAN_GRAPH, "the same network in TF-GAN's file"),
    "keras_inception": ExtractorEntry(
        lambda weights, graph, download: InceptionFeatures(weights or "imagenet"),
        lambda weights, graph, look: weights is not None or (look and configured_inception_weights() is not None),
        False, False, "Keras' ImageNet InceptionV3 (other weights and preprocessing): not comparable with papers"),
    "random": ExtractorEntry(
        lambda weights, graph, download: RandomFeatures(), lambda weights, graph, look: True, False, False,
        "a small seeded random network (tests, offline smoke checks): comparable only with itself"),
}
DEFAULT_EXTRACTOR = inception_files.TTUR_GRAPH.label


def extractor_entry(name):
    """The registry entry of ``name``; ConfigError listing the valid names otherwise."""
    if name not in EXTRACTORS:
        raise ConfigError(f"unknown feature extractor {name!r}; choose {', '.join(EXTRACTORS)}")
    return EXTRACTORS[name]


def make_extractor(name, inception_weights=None, inception_graph=None, download=True):
    """Build the registered extractor ``name``.

    ``inception_weights``: a local Keras no-top weights file (keras_inception; else ImageNet
    via Keras); ``inception_graph``: the 2015 graph's .pb or .tgz (inception2015; else
    $WGAN_INCEPTION_GRAPH or the cache); ``download``: may inception2015 try a download.
    """
    return extractor_entry(name).build(inception_weights, inception_graph, download)


def configured_extractor():
    """The extractor training may use without a download, as (name, kwargs), or None.

    A 2015 graph file when one is found locally (TTUR's first, then TF-GAN's: their
    environment variables or the cache), else Keras' InceptionV3 when its weights are
    (``$WGAN_INCEPTION_WEIGHTS`` or Keras' cache).
    """
    for source in GRAPH_SOURCES:
        graph = inception_files.locate_graph(source=source)
        if graph:
            return source.label, {"inception_graph": graph, "download": False}
    weights = configured_inception_weights()
    return ("keras_inception", {"inception_weights": weights}) if weights else None


def configured_inception_weights():
    """The Keras weights training may use without a download: $WGAN_INCEPTION_WEIGHTS, else Keras' cache; or None."""
    return os.environ.get(WEIGHTS_ENV) or cached_imagenet_weights()
