"""Optimizers and learning-rate schedules from ``OptimizerConfig``.

The GAN sums each update's gradients over the replicas of a ``tf.distribute`` strategy
itself (``all_reduce_gradients``): its logged gradient norms and the float16 overflow check
must see the global gradient, and summing once is half the traffic of summing for the
norm and again inside Keras. The optimizers here therefore take gradients that are
already summed: Keras' own per-update all-reduce is turned off (``_Presummed``).
"""

import keras
import tensorflow as tf

# The Keras 3 TensorFlow-backend hook that sums gradients over replicas inside
# apply_gradients. Checked on import: were it renamed, the override below would silently
# stop applying and every update under R replicas would be R times too large.
_KERAS_ALL_REDUCE = "_all_reduce_sum_gradients"
if not hasattr(keras.optimizers.Adam, _KERAS_ALL_REDUCE):
    raise ImportError(f"keras {keras.__version__} optimizers have no {_KERAS_ALL_REDUCE}; wgan.optimizers "
                      "needs the TensorFlow backend of Keras 3")


class _Presummed:
    """Mixin: ``apply_gradients`` takes gradients already summed over replicas."""

    def _all_reduce_sum_gradients(self, grads_and_vars):
        return list(grads_and_vars)


class Adam(_Presummed, keras.optimizers.Adam):
    """``keras.optimizers.Adam`` taking pre-summed gradients."""


class RMSprop(_Presummed, keras.optimizers.RMSprop):
    """``keras.optimizers.RMSprop`` taking pre-summed gradients."""


class SGD(_Presummed, keras.optimizers.SGD):
    """``keras.optimizers.SGD`` taking pre-summed gradients."""


def all_reduce_gradients(grads):
    """Sum a list of per-replica gradients over the replicas in sync (identity with one replica).

    Call it in replica context (inside ``strategy.run``) before ``apply_gradients``.
    """
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return grads
    return ctx.all_reduce(tf.distribute.ReduceOp.SUM, grads)


def make_optimizer(cfg, precision="float32"):
    """A Keras optimizer for one network; wrapped for dynamic loss scaling under float16.

    bfloat16 has float32's exponent range, so its gradients neither underflow nor overflow
    and need no scaling; float16's 5-bit exponent does.
    """
    if cfg.name == "adam":
        opt = Adam(cfg.learning_rate, beta_1=cfg.beta_1, beta_2=cfg.beta_2, epsilon=cfg.epsilon)
    elif cfg.name == "rmsprop":
        # Keras' RMSprop matches PyTorch's (used by the WGAN reference code) for centered=False.
        opt = RMSprop(cfg.learning_rate, rho=cfg.rho, momentum=cfg.momentum, epsilon=cfg.epsilon)
    else:
        opt = SGD(cfg.learning_rate, momentum=cfg.momentum)
    if precision == "mixed_float16":
        # The wrapper hands the unscaled gradients to ``opt``, which does not sum them again.
        opt = keras.optimizers.LossScaleOptimizer(opt)
    return opt


def scheduled_learning_rate(cfg, iteration):
    """Learning rate at generator iteration ``iteration`` (int tensor): constant, or linear to zero.

    The WGAN-GP paper decays both networks' rates linearly to zero over the whole run;
    ``decay_steps`` is that run length in generator iterations.
    """
    base = tf.constant(cfg.learning_rate, tf.float32)
    if cfg.decay == "constant":
        return base
    progress = tf.cast(iteration, tf.float32) / float(cfg.decay_steps)
    return base * tf.maximum(0.0, 1.0 - progress)
