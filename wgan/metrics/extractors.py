"""Feature extractors for FID and KID: InceptionV3 pool features, or a small random network.

Every extractor maps uint8 images [N, H, W, C] (C = 1 or 3, values 0..255) to float64
features [N, D] and has a ``name`` that identifies the features (it keys the cached
reference statistics, so two extractors with one name must give the same features).

* ``InceptionFeatures``: the standard FID/KID network (Szegedy et al. 2015,
  https://arxiv.org/abs/1512.00567): ``keras.applications.InceptionV3`` without its top,
  global-average pooled, D = 2048. Images are resized to 299 x 299 (bilinear) and scaled by
  its ``preprocess_input``; grey images are tiled to 3 channels. The ImageNet weights are
  downloaded by Keras on first use (cached in ~/.keras/models) unless a local weights file
  is given. Note: these are Keras' weights, not the TF1 graph of the original FID code, so
  values are close to but not identical with published FIDs.
* ``RandomFeatures``: a small convolutional network with fixed random weights (seeded).
  Nothing is downloaded; it is for tests and quick smoke checks, and its distances are
  comparable only with themselves.
"""

import hashlib
import os

import numpy as np
import tensorflow as tf

from wgan.errors import ConfigError, DataError

INCEPTION_SIZE = 299
INCEPTION_NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
# Set to a weights file to turn on FID/KID during training for image data without a classifier.
WEIGHTS_ENV = "WGAN_INCEPTION_WEIGHTS"


def _batched(function, images, batch_size):
    outputs = [np.asarray(function(images[i:i + batch_size]), np.float64) for i in range(0, len(images), batch_size)]
    return np.concatenate(outputs, axis=0)


def _as_rgb_float(images):
    """uint8 [N, H, W, 1|3] -> float32 tensor [N, H, W, 3] with values 0..255."""
    images = tf.convert_to_tensor(images)
    if images.dtype != tf.uint8:
        raise TypeError(f"feature extractors take uint8 images, got {images.dtype.name}")
    images = tf.cast(images, tf.float32)
    return tf.tile(images, [1, 1, 1, 3]) if images.shape[-1] == 1 else images


def file_digest(path, length=8):
    """The first ``length`` hex digits of the sha256 of a file (identifies local weights)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:length]


def cached_imagenet_weights():
    """Path of the ImageNet no-top weights in the Keras cache, or None when never downloaded."""
    path = os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "models",
                        INCEPTION_NOTOP_FILE)
    return path if os.path.isfile(path) else None


class InceptionFeatures:
    """InceptionV3 pool features [N, 2048]; ``weights`` is ``"imagenet"`` or a local .h5/.weights file."""

    dim = 2048

    def __init__(self, weights="imagenet", batch_size=50):
        import keras

        if weights != "imagenet":
            if not os.path.isfile(weights):
                raise ConfigError(f"--inception_weights {weights} does not exist (give the InceptionV3 no-top "
                                  f"weights file, {INCEPTION_NOTOP_FILE})")
            self.name = f"inception_v3-{file_digest(weights)}"
        else:
            self.name = "inception_v3"
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
        resized = tf.image.resize(_as_rgb_float(images), (INCEPTION_SIZE, INCEPTION_SIZE), method="bilinear")
        return self.model(self._preprocess(resized), training=False)

    def __call__(self, images):
        """uint8 [N, H, W, 1|3] -> float64 [N, 2048]."""
        return _batched(self._forward, images, self.batch_size)


class RandomFeatures:
    """Pooled features [N, ``dim``] of a small conv net with fixed random weights (``seed``)."""

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


def make_extractor(name, inception_weights=None):
    """``inception`` (weights: a local file, else ImageNet via Keras) or ``random`` (tests, offline checks)."""
    if name == "inception":
        return InceptionFeatures(inception_weights or "imagenet")
    if name == "random":
        return RandomFeatures()
    raise ConfigError(f"unknown feature extractor {name!r}; choose inception or random")


def configured_inception_weights():
    """The weights training may use without a download: $WGAN_INCEPTION_WEIGHTS, else Keras' cache; or None."""
    return os.environ.get(WEIGHTS_ENV) or cached_imagenet_weights()
