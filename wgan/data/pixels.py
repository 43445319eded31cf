"""The one pair of pixel-scaling functions: uint8 0..255 <-> float32 [-1, 1].

Every image entering a model goes through ``uint8_to_float`` and every image
leaving one through ``float_to_uint8``, so a scaling mistake can only live here.
Both accept numpy arrays (returning numpy) and TensorFlow tensors (returning
tensors, using tf ops, so they work inside ``tf.function`` and ``tf.data``).
"""

import numpy as np
import tensorflow as tf


def uint8_to_float(images):
    """uint8 images of any shape (e.g. [batch, H, W, C]), 0..255 -> float32 in [-1, 1].

    x / 127.5 - 1: 0 -> -1, 255 -> 1. Other dtypes are refused, because scaling an
    already scaled float image twice is a silent, classic bug.
    """
    if tf.is_tensor(images):
        if images.dtype != tf.uint8:
            raise TypeError(f"uint8_to_float expects uint8 pixels, got {images.dtype.name}")
        return tf.cast(images, tf.float32) / 127.5 - 1.0
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"uint8_to_float expects uint8 pixels, got {images.dtype}")
    return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def float_to_uint8(images):
    """float images of any shape in [-1, 1] -> uint8 0..255, the inverse of ``uint8_to_float``.

    (x + 1) * 127.5, rounded half to even, clipped to 0..255 (generator outputs may
    overshoot slightly). Exact inverse: ``float_to_uint8(uint8_to_float(u)) == u``.
    """
    if tf.is_tensor(images):
        if not images.dtype.is_floating:
            raise TypeError(f"float_to_uint8 expects floats in [-1, 1], got {images.dtype.name}")
        scaled = tf.round((tf.cast(images, tf.float32) + 1.0) * 127.5)
        return tf.cast(tf.clip_by_value(scaled, 0.0, 255.0), tf.uint8)
    images = np.asarray(images)
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(f"float_to_uint8 expects floats in [-1, 1], got {images.dtype}")
    scaled = np.round((images.astype(np.float32) + np.float32(1.0)) * np.float32(127.5))
    return np.clip(scaled, 0, 255).astype(np.uint8)
