"""Values that follow the run's generator iterations: the cosine that R3GAN anneals its settings along.

Used by the constraints (a penalty weight, ``constraint_gamma_end``) and the optimizers (Adam's
beta_2, ``beta_2_end``). Each value is a function of the iteration alone, so nothing about a
schedule is kept in a checkpoint and a resumed run continues it exactly.
"""

import math

import tensorflow as tf


def cosine_weight(start, end, step, horizon):
    """``end + (start - end) * (1 + cos(pi * min(step / horizon, 1))) / 2``: float32 scalar moving
    from ``start`` at step 0 to ``end`` at ``horizon`` and staying there (R3GAN's schedule)."""
    progress = tf.minimum(tf.cast(step, tf.float32) / float(horizon), 1.0)
    return end + (start - end) * 0.5 * (1.0 + tf.cos(math.pi * progress))
