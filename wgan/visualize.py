"""Turn networks into pictures: sample grids for images, scatter + contour frames for toy data.

Shared by TensorBoard summaries during training and by ``generate_img``, so both show the
same thing.
"""

import numpy as np
import tensorflow as tf

from wgan import images, models
from wgan.data import float_to_uint8

TOY_EXTENT = 2.0  # the toy sets lie within [-1.5, 1.5] after the reference code's scaling


def generate(generator, inputs, batch_size=256):
    """Run ``generator`` in inference mode over its ``inputs`` in chunks; numpy output.

    ``inputs``: latent z [N, z_dim], or ``[z, labels]`` for a class-conditional generator
    (``models.generator_inputs`` builds either).
    """
    def chunk(start):
        part = models.input_rows(inputs, start, start + batch_size)
        return [tf.convert_to_tensor(p) for p in part] if isinstance(part, list) else tf.convert_to_tensor(part)

    outputs = [generator(chunk(i), training=False).numpy() for i in range(0, models.input_count(inputs), batch_size)]
    return np.concatenate(outputs, axis=0)


def sample_grid(generator, inputs, rows, margin=2):
    """uint8 grid [H', W', C] of the generator's images for ``inputs`` (z [N, z_dim], or ``[z, labels]``), ``rows`` rows."""
    return images.make_grid(float_to_uint8(generate(generator, inputs)), rows=rows, margin=margin)


def class_grid_inputs(z, classes):
    """(z [R * C, z_dim], labels int32 [R * C]) of a grid with one row per class of ``classes`` (R labels)
    and one column per latent vector of ``z`` [C, z_dim]: a column holds its z fixed through the classes,
    so the rows differ by the class alone."""
    classes = np.asarray(classes, np.int32)
    return np.tile(np.asarray(z, np.float32), (len(classes), 1)), np.repeat(classes, len(z))


def class_grid(generator, z, classes, margin=2):
    """uint8 grid [H', W', C] of a class-conditional generator: one row per class of ``classes``, one column
    per latent vector of ``z`` [C, z_dim] (``class_grid_inputs``)."""
    return sample_grid(generator, list(class_grid_inputs(z, classes)), rows=len(classes), margin=margin)


def critic_grid(critic, extent=TOY_EXTENT, steps=64):
    """The critic's score over a ``steps`` x ``steps`` grid of [-extent, extent]^2: (xs, ys, values)."""
    xs = np.linspace(-extent, extent, steps, dtype=np.float32)
    points = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)
    values = critic(tf.convert_to_tensor(points), training=False).numpy().reshape(steps, steps)
    return xs, xs, values


def toy_frame(generator, critic, z, real, title=None):
    """uint8 [S, S, 3] plot of real points [N, 2], generated points for ``z`` and critic contours."""
    fake = generate(generator, z)
    grid = critic_grid(critic) if critic is not None else None
    return images.plot_points(real, fake, grid, extent=TOY_EXTENT, title=title)
