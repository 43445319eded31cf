"""Optimizers and learning-rate schedules from ``OptimizerConfig``."""

import keras
import tensorflow as tf


def make_optimizer(cfg, precision="float32"):
    """A Keras optimizer for one network; wrapped for dynamic loss scaling under float16."""
    if cfg.name == "adam":
        opt = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1, beta_2=cfg.beta_2, epsilon=cfg.epsilon)
    elif cfg.name == "rmsprop":
        # Keras' RMSprop matches PyTorch's (used by the WGAN reference code) for centered=False.
        opt = keras.optimizers.RMSprop(cfg.learning_rate, rho=cfg.rho, momentum=cfg.momentum, epsilon=cfg.epsilon)
    else:
        opt = keras.optimizers.SGD(cfg.learning_rate, momentum=cfg.momentum)
    if precision == "mixed_float16":
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
