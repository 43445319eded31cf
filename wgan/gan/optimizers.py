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
  With ``beta_2_end`` set, b2 follows a cosine from ``beta_2`` to ``beta_2_end`` over the
  decay horizon, set before every generator iteration (R3GAN ramps it from 0.9 to 0.99). The
  bias correction then uses the current b2 to the power t, as PyTorch's ``Adam`` does when a
  training loop sets its betas each iteration (R3GAN's code), not the product of the b2 used
  so far; the two differ only while 1 - b2^t is far from 1, in the first tens of updates.
* ``sgd``: Keras' ``SGD`` (``w <- w - lr * g``, momentum as in PyTorch for constant lr).

The GAN sums each update's gradients over the replicas of a ``tf.distribute`` strategy
itself (``all_reduce_gradients``): its logged gradient norms and the float16 overflow check
must see the global gradient, and summing once is half the traffic of summing for the
norm and again inside Keras. The optimizers here therefore take gradients that are
already summed: Keras' own per-update all-reduce is turned off (``_Presummed``).
"""

import keras
import tensorflow as tf

from wgan.gan import schedules

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
    """``keras.optimizers.Adam`` taking pre-summed gradients.

    ``scheduled_beta_2``: beta_2 is the float32 variable ``beta_2_now`` (set by ``apply_schedules``
    before each generator iteration) instead of a constant; the update is Keras' otherwise
    (``amsgrad`` is not supported with it). Without it the variable does not exist, so the
    checkpoints of runs with a constant beta_2 keep Keras' layout.
    """

    def __init__(self, *args, scheduled_beta_2=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.beta_2_now = None
        if scheduled_beta_2:
            if self.amsgrad:
                raise ValueError("wgan.gan.optimizers.Adam: a scheduled beta_2 does not support amsgrad")
            self.beta_2_now = tf.Variable(self.beta_2, trainable=False, dtype=tf.float32, name="beta_2_now")

    def update_step(self, gradient, variable, learning_rate):
        if self.beta_2_now is None:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        lr, gradient = tf.cast(learning_rate, dtype), tf.cast(gradient, dtype)
        t = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2_now, dtype)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        alpha = lr * tf.sqrt(1.0 - tf.pow(beta_2, t)) / (1.0 - tf.pow(beta_1, t))
        self.assign_add(m, (gradient - m) * (1.0 - beta_1))
        self.assign_add(v, (tf.square(gradient) - v) * (1.0 - beta_2))
        self.assign_sub(variable, m * alpha / (tf.sqrt(v) + self.epsilon))


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
        opt = Adam(cfg.learning_rate, beta_1=cfg.beta_1, beta_2=cfg.beta_2, epsilon=cfg.epsilon,
                   scheduled_beta_2=cfg.beta_2_end is not None)
    elif cfg.name == "rmsprop":
        opt = RMSprop(cfg.learning_rate, rho=cfg.rho, momentum=cfg.momentum, epsilon=cfg.epsilon)
    else:
        opt = SGD(cfg.learning_rate, momentum=cfg.momentum)
    if precision == "mixed_float16":
        # The wrapper hands the unscaled gradients to ``opt``, which does not sum them again.
        opt = keras.optimizers.LossScaleOptimizer(opt)
    return opt


def scheduled_beta_2(cfg, iteration, train_steps):
    """Adam's beta_2 (float32 scalar) at generator iteration ``iteration`` (int tensor): ``cfg.beta_2``, or with
    ``cfg.beta_2_end`` a cosine from it to ``beta_2_end`` over the decay horizon (``decay_steps``, else the run)."""
    if cfg.beta_2_end is None:
        return tf.constant(cfg.beta_2, tf.float32)
    return schedules.cosine_weight(cfg.beta_2, cfg.beta_2_end, iteration, cfg.decay_horizon(train_steps))


def apply_schedules(opt, cfg, iteration, train_steps):
    """Set ``opt``'s learning rate (and a scheduled Adam's beta_2) for generator iteration ``iteration``;
    returns the learning rate (float32 scalar). ``opt`` may be wrapped in a ``LossScaleOptimizer``."""
    rate = scheduled_learning_rate(cfg, iteration, train_steps)
    opt.learning_rate.assign(rate)
    inner = getattr(opt, "inner_optimizer", opt)
    if getattr(inner, "beta_2_now", None) is not None:
        inner.beta_2_now.assign(scheduled_beta_2(cfg, iteration, train_steps))
    return rate


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
