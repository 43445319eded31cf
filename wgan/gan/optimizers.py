"""Optimizers and learning-rate schedules from ``OptimizerConfig``, each following a stated reference.

Which reference each optimizer reproduces (checked step by step against the formula,
written out in ``tests/test_optimizers.py``, for gradients from 1e-8 to 1e-1):

* ``rmsprop``: PyTorch's ``torch.optim.RMSprop`` (``centered=False``), the optimizer of the
  WGAN paper's code (martinarjovsky/WassersteinGAN, lr 5e-5)::

      v <- rho * v + (1 - rho) * g^2
      b <- momentum * b + g / (sqrt(v) + epsilon);   w <- w - lr * b   (b = g / (...) without momentum)

  with rho 0.99 and epsilon 1e-8 (PyTorch's defaults), epsilon OUTSIDE the root. Keras'
  own ``RMSprop`` puts it inside (``g / sqrt(v + epsilon)``) with epsilon 1e-7, so no
  denominator falls below 3.2e-4: a clipped critic's gradients of 1e-6 to 1e-4 then move
  its weights 10 to 10,000 times less than in the reference, and WGAN barely trains.
* ``adam``: Keras' ``Adam`` unchanged. It is TensorFlow 1's ``tf.train.AdamOptimizer``, the
  optimizer of the WGAN-GP paper's code (igul222/improved_wgan_training)::

      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
      w <- w - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)

  PyTorch's ``Adam`` adds epsilon after the bias correction instead
  (``m_hat / (sqrt(v_hat) + epsilon)``), which is the same update with epsilon scaled by
  sqrt(1 - b2^t); the two agree to 1e-3 for gradients above about 1e-4 (the test shows where).
* ``sgd``: Keras' ``SGD`` (``w <- w - lr * g``, momentum as in PyTorch for constant lr).

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
    raise ImportError(f"keras {keras.__version__} optimizers have no {_KERAS_ALL_REDUCE}; wgan.gan.optimizers "
                      "needs the TensorFlow backend of Keras 3")


class _Presummed:
    """Mixin: ``apply_gradients`` takes gradients already summed over replicas."""

    def _all_reduce_sum_gradients(self, grads_and_vars):
        return list(grads_and_vars)


class Adam(_Presummed, keras.optimizers.Adam):
    """``keras.optimizers.Adam`` taking pre-summed gradients."""


class RMSprop(_Presummed, keras.optimizers.RMSprop):
    """RMSProp with PyTorch's update rule (epsilon outside the square root), taking pre-summed gradients.

    Only ``update_step`` differs from Keras': the slots (``_velocities``, ``_momentums``)
    and the checkpoint layout stay Keras'. ``centered`` is not supported.
    """

    def __init__(self, *args, **kwargs):
        if kwargs.get("centered"):
            raise ValueError("wgan.gan.optimizers.RMSprop implements centered=False only")
        super().__init__(*args, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        lr = tf.cast(learning_rate, variable.dtype)
        gradient = tf.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        velocity = self._velocities[index]
        self.assign(velocity, self.rho * velocity + (1.0 - self.rho) * tf.square(gradient))
        step = gradient / (tf.sqrt(velocity) + self.epsilon)
        if self.momentum > 0:
            buffer = self._momentums[index]
            self.assign(buffer, self.momentum * buffer + step)
            step = buffer
        self.assign_sub(variable, lr * step)


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
        opt = RMSprop(cfg.learning_rate, rho=cfg.rho, momentum=cfg.momentum, epsilon=cfg.epsilon)
    else:
        opt = SGD(cfg.learning_rate, momentum=cfg.momentum)
    if precision == "mixed_float16":
        # The wrapper hands the unscaled gradients to ``opt``, which does not sum them again.
        opt = keras.optimizers.LossScaleOptimizer(opt)
    return opt


def scheduled_learning_rate(cfg, iteration, train_steps):
    """Learning rate (float32 scalar) at generator iteration ``iteration`` (int tensor): constant, or linear to zero.

    The WGAN-GP paper decays both networks' rates linearly to zero over the whole run, so
    the horizon is the run's length ``train_steps`` unless ``cfg.decay_steps`` sets one.
    Past the horizon the rate stays 0.
    """
    base = tf.constant(cfg.learning_rate, tf.float32)
    if cfg.decay == "constant":
        return base
    progress = tf.cast(iteration, tf.float32) / float(cfg.decay_horizon(train_steps))
    return base * tf.maximum(0.0, 1.0 - progress)
