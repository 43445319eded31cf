"""The constraint registry: what keeps the critic (near) 1-Lipschitz, and its math.

``hp.constraint`` (or, with ``"auto"``, the objective's default in ``wgan.gan.objectives``)
names one entry. Everything that depends on the constraint reads the entry: the training
step (``wgan.gan.model``: a term added to the critic loss, a projection after each critic
update), the schema (``wgan.config``: valid names, whether the critic may use batch norm),
the FLOP count (``wgan.lab.benchmark``) and the help texts. No module outside this one and
the objective registry compares a constraint name to a literal.

Entries today:

* ``none``: nothing; the objective's loss alone (DCGAN, hinge).
* ``gradient_penalty``: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs",
  https://arxiv.org/abs/1704.00028: ``gp_lambda * (||grad_x f(x_hat)|| - 1)^2`` at random
  interpolates x_hat of real and fake examples, added to the critic loss.
* ``weight_clipping``: Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN",
  https://arxiv.org/abs/1701.07875: every critic weight clipped to [-clip_value, clip_value]
  after each critic update.

How a constraint can enter training (one entry may use several):

* ``penalty``: a per-example term added to the critic loss with the weight
  ``hp.<hyperparameter>``. Called inside the tape of the critic update as
  ``penalty(critic, real, fake, alpha, loss_scale)`` -> ``(per-example penalty, per-example
  gradient norm)``, both float32 [b]; ``alpha`` [b] holds uniform draws in [0, 1] (the
  interpolation weights), ``loss_scale`` the float16 dynamic loss scale or None. A penalty at
  real images (R1, Mescheder et al. 2018) uses ``real`` only, one at fakes (R2) ``fake`` only.
  The training step logs their batch means as ``gradient_penalty`` and ``gp_grad_norm``.
* ``project``: ``project(variables, value)`` applied to the critic's trainable variables after
  every critic update, ``value`` = ``hp.<hyperparameter>``.
* ``wrap_critic``: ``wrap_critic(critic, value)`` -> the critic to train, applied once when the
  critic is built (spectral normalization, Miyato et al. 2018, wraps the critic's layers).

Adding a constraint is one entry below (and its functions, here or in a module of its own),
plus its hyperparameter in ``wgan.config`` if it needs a new one, and its tests.

This module imports TensorFlow only inside the functions that compute, so that the
registry can be read by ``wgan.config`` before TensorFlow starts.
"""

import dataclasses
from collections.abc import Callable

from wgan.errors import registry_entry

# Inside the square root of the gradient norm: keeps sqrt differentiable at a zero
# gradient (d sqrt(s)/ds is infinite at s = 0, which makes the penalty's gradient NaN).
GRAD_NORM_EPSILON = 1e-12


# ----- WGAN-GP --------------------------------------------------------------------------
def interpolate(real, fake, alpha):
    """x_hat = real + alpha * (fake - real), one alpha per example.

    real, fake: float32 [B, ...]; alpha: [B] (or [B, 1, ..., 1]) in [0, 1], reshaped to
    [B, 1, ..., 1] so it broadcasts over all non-batch axes ([B, 1, 1, 1] for images,
    [B, 1] for 2-D points). Returns float32 with the shape of ``real``.
    """
    import tensorflow as tf

    alpha = tf.reshape(tf.cast(alpha, real.dtype), [-1] + [1] * (real.shape.rank - 1))
    return real + alpha * (fake - real)


def gradient_penalty(critic, real, fake, alpha=None, seed=None, training=True, loss_scale=None):
    """WGAN-GP penalty (||grad_x f(x_hat)||_2 - 1)^2 at random interpolates x_hat.

    Args:
      critic: callable ``critic(x, training=...)`` -> scores [B, 1] or [B] (a Keras model).
      real, fake: [B, H, W, C] images or [B, 2] points (cast to float32).
      alpha: optional [B] interpolation weights in [0, 1]; by default drawn from U[0, 1]
        per example with ``tf.random.uniform``, or with ``tf.random.stateless_uniform``
        when ``seed`` (a shape-[2] integer tensor) is given, for reproducible tests.
      training: passed to the critic.
      loss_scale: optional float32 scalar, the dynamic loss scale of float16 training
        (``LossScaleOptimizer.dynamic_scale``); None for float32 and bfloat16.

    Returns:
      ``(penalty, grad_norm)``, both float32 [B]. The caller multiplies the penalty by
      lambda (``hp.gp_lambda``, 10 in the paper) and adds it to the critic loss.

    Call it inside the tape that computes the critic's gradients: the inner tape below
    is then recorded by that outer tape, which can differentiate the penalty with
    respect to the critic's variables (a second-order gradient).

    The norm runs over ALL non-batch axes (the gradient is one vector per example) with
    ``GRAD_NORM_EPSILON`` inside the square root, so the penalty at a zero gradient is 1,
    not NaN. Under mixed precision the critic computes the inner gradient in its own
    compute dtype (its first layer casts the float32 x_hat); the gradient is then cast to
    float32 for the norm and the penalty.

    float16 loss scaling (``loss_scale``): the inner gradient is taken of
    ``loss_scale / B * sum(scores)``, so each example's backward pass carries the same
    factor as the outer, scaled loss (which averages over the batch), and is divided by
    that factor in float32. Without it, input gradients below float16's smallest normal
    number (6e-5) would lose precision or flush to zero. An example whose scaled inner
    gradient overflows reports a penalty of 0 and a norm of 1; its NaN gradient then makes
    the ``LossScaleOptimizer`` skip the update and halve the scale, as for any overflow.
    """
    import tensorflow as tf

    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    if alpha is None:
        shape = tf.shape(real)[:1]
        if seed is None:
            alpha = tf.random.uniform(shape, 0.0, 1.0, dtype=tf.float32)
        else:
            alpha = tf.random.stateless_uniform(shape, seed=seed, minval=0.0, maxval=1.0, dtype=tf.float32)
    x_hat = interpolate(real, fake, alpha)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        # Examples are independent (no batch norm in a WGAN-GP critic), so the gradient of
        # the sum holds each example's own gradient in its row.
        total = tf.reduce_sum(tf.cast(critic(x_hat, training=training), tf.float32))
        if loss_scale is not None:
            factor = tf.cast(loss_scale, tf.float32) / tf.cast(tf.shape(x_hat)[0], tf.float32)
            total = total * factor
    grad = tf.cast(tape.gradient(total, x_hat), tf.float32)
    if loss_scale is not None:
        grad = grad / factor
    axes = list(range(1, grad.shape.rank))
    grad_norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=axes) + GRAD_NORM_EPSILON)
    if loss_scale is not None:
        # Keep the reported value finite; the gradient through an overflowed row stays
        # non-finite (0 * inf), which is what tells the optimizer to skip the step.
        grad_norm = tf.where(tf.math.is_finite(grad_norm), grad_norm, tf.ones_like(grad_norm))
    return tf.square(grad_norm - 1.0), grad_norm


def _interpolates_penalty(critic, real, fake, alpha, loss_scale):
    """The ``gradient_penalty`` entry's loss term: the penalty at the interpolates of weights ``alpha``."""
    return gradient_penalty(critic, real, fake, alpha=alpha, loss_scale=loss_scale)


# ----- WGAN weight clipping -------------------------------------------------------------
def clip_weights(variables, clip_value):
    """Clip every variable in place to [-clip_value, clip_value]; returns None.

    WGAN's crude way of keeping the critic Lipschitz: call it after every critic update
    with ``critic.trainable_variables`` (all trainable parameters, as the reference code
    clamps every parameter; batch-norm moving statistics are not trained and are left
    alone). Works eagerly and inside ``tf.function``.
    """
    import tensorflow as tf

    for variable in variables:
        limit = tf.cast(clip_value, variable.dtype)
        # tf.clip_by_value(t, clip_value_min, clip_value_max): the minimum comes first.
        variable.assign(tf.clip_by_value(variable, -limit, limit))


# ----- the registry ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Constraint:
    """One way of keeping the critic (near) 1-Lipschitz.

    ``name``: the value of ``hp.constraint``; ``label``: a few words for help texts and
    messages ("gradient penalty"); ``description``: one line with its paper;
    ``differentiates``: what it takes a derivative of ("nothing" if it takes none);
    ``hyperparameter``: the ``HParams`` field it reads (the penalty's weight, the
    projection's bound, the wrapper's setting), or None; ``penalty``, ``project``,
    ``wrap_critic``: how it enters training (see the module docstring), None when it does not
    enter that way; ``batch_norm``: whether the critic may use batch norm with it (a
    per-example input-gradient penalty may not: batch norm mixes the examples of a batch, so
    one example's score depends on the others); ``critic_passes``: the FLOPs it adds to one
    critic update per example, in critic forward passes (the benchmark's conventions,
    ``wgan.lab.benchmark.update_flops``; elementwise work on the weights counts 0).
    """

    name: str
    label: str
    description: str
    differentiates: str = "nothing"
    hyperparameter: str | None = None
    penalty: Callable | None = None
    project: Callable | None = None
    wrap_critic: Callable | None = None
    batch_norm: bool = True
    critic_passes: int = 0

    def __post_init__(self):
        acts = (self.penalty, self.project, self.wrap_critic)
        if any(f is not None for f in acts) and self.hyperparameter is None:
            raise ValueError(f"constraint {self.name!r}: an entry that acts needs its hyperparameter")

    @property
    def acts(self):
        """Whether it changes training at all (False for ``none``)."""
        return any(f is not None for f in (self.penalty, self.project, self.wrap_critic))

    @property
    def penalizes(self):
        """Whether it adds a term to the critic loss."""
        return self.penalty is not None

    @property
    def projects(self):
        """Whether it projects the critic's weights after every critic update."""
        return self.project is not None

    @property
    def enters(self):
        """How it enters training, in words (for help texts and reports)."""
        ways = []
        if self.penalty is not None:
            ways.append(f"a term added to the critic loss with weight {self.hyperparameter}")
        if self.project is not None:
            ways.append(f"a projection of the critic's weights after each update ({self.hyperparameter})")
        if self.wrap_critic is not None:
            ways.append(f"a wrapper on the critic's layers ({self.hyperparameter})")
        return "; ".join(ways) or "nothing"

    def value(self, hp):
        """Its hyperparameter's value in ``hp`` (a Python number), or None if it has none."""
        return None if self.hyperparameter is None else getattr(hp, self.hyperparameter)

    def loss_term(self, critic, real, fake, alpha, loss_scale=None):
        """``(per-example penalty, per-example gradient norm)``, float32 [b] each, for a penalizing entry.

        Call it inside the tape of the critic update; the caller averages both over the
        global batch and adds ``value(hp)`` times the penalty's average to the critic loss.
        """
        if self.penalty is None:
            raise ValueError(f"constraint {self.name!r} adds no term to the critic loss")
        return self.penalty(critic, real, fake, alpha, loss_scale)

    def after_update(self, variables, hp):
        """Apply the projection (if any) to the critic's ``variables`` after a critic update; returns None."""
        if self.project is not None:
            self.project(variables, self.value(hp))

    def prepare_critic(self, critic, hp):
        """The critic to train: ``critic`` itself, or wrapped by an entry with ``wrap_critic``."""
        return critic if self.wrap_critic is None else self.wrap_critic(critic, self.value(hp))

    def update_flops(self, critic_flops):
        """The FLOPs it adds to one critic update per example, from the critic's forward FLOPs."""
        return self.critic_passes * critic_flops


_ENTRIES = (
    Constraint("none", "no constraint", "Nothing: the objective's loss alone."),
    Constraint(
        "gradient_penalty", "gradient penalty",
        "Gulrajani et al. 2017 (WGAN-GP): gp_lambda * (||grad f(x_hat)|| - 1)^2 at interpolates of real and fake.",
        differentiates="the critic's input gradient at random interpolates of real and fake examples",
        hyperparameter="gp_lambda", penalty=_interpolates_penalty,
        # A per-example input gradient: batch norm would make each example's score depend on the others.
        batch_norm=False,
        # Forward at x_hat (C), its input gradient (C), and the second-order backward through both (2C + 2C).
        critic_passes=6),
    Constraint(
        "weight_clipping", "weight clipping",
        "Arjovsky et al. 2017 (WGAN): critic weights clipped to [-clip_value, clip_value] after each update.",
        hyperparameter="clip_value", project=clip_weights),
)
CONSTRAINTS = {entry.name: entry for entry in _ENTRIES}
NAMES = tuple(CONSTRAINTS)


def get(name, where="key 'constraint'"):
    """The registry entry ``name``; a ``ConfigError`` naming ``where`` and the valid names otherwise."""
    return registry_entry(CONSTRAINTS, name, where)
