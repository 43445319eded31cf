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
* ``spectral_norm``: Miyato et al. 2018, "Spectral Normalization for Generative Adversarial
  Networks", https://arxiv.org/abs/1802.05957: every critic kernel divided by its largest
  singular value, estimated by ``spectral_norm_iterations`` power iterations per training-mode
  call (``wgan.gan.spectral_norm``).
* ``r1``, ``r2``, ``r1_r2``: Mescheder, Geiger & Nowozin 2018, "Which Training Methods for
  GANs do actually Converge?", https://arxiv.org/abs/1801.04406: ``constraint_gamma / 2 *
  ||grad_x D(x)||^2``, zero-centred, at the real examples (R1), at the generated ones (R2),
  or both (R1 + R2, the R3GAN recipe of Huang et al. 2024, https://arxiv.org/abs/2501.05441).

Every penalty can be applied lazily (``constraint_every`` k > 1, StyleGAN2's lazy
regularization, Karras et al. 2020, https://arxiv.org/abs/1912.04958): only on every k-th
critic update, multiplied by k, so its average weight is unchanged at 1/k of its cost. Its
weight may follow a schedule (``constraint_gamma_end``: a cosine from ``constraint_gamma`` to
it over ``train_steps``, as R3GAN anneals gamma).

How a constraint can enter training (one entry may use several):

* ``penalty``: a per-example term added to the critic loss with the weight
  ``hp.<hyperparameter>``. Called inside the tape of the critic update as
  ``penalty(critic, real, fake, alpha, loss_scale)`` -> ``(per-example penalty, per-example
  gradient norm)``, both float32 [b]; ``alpha`` [b] holds uniform draws in [0, 1] (the
  interpolation weights), ``loss_scale`` the float16 dynamic loss scale or None. For a
  class-conditional critic it also gets ``labels=Labels(real, fake)`` (int32 [b] each).
  A penalty at real images (R1) uses ``real`` only, one at fakes (R2) ``fake`` only.

  With labels every penalty differentiates with respect to the image only, the label held
  fixed: a label is a discrete input, so there is no gradient in its direction to bound, and
  the Lipschitz condition the penalty enforces is the one in x of each f(., y). R1 scores the
  real images with their own labels, R2 the fakes with the labels they were generated for,
  and the gradient penalty's interpolates keep the real batch's labels: an interpolate is the
  real image moved toward a fake, and f(., y_real) is the function whose slope along that
  line is measured (docs/conditional.md, "The penalty with labels"). Every penalty here
  takes its input gradients from ``input_gradients``, which handles float16 loss scaling.
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
from typing import NamedTuple

from wgan.errors import registry_entry

# Inside the square root of the gradient norm: keeps sqrt differentiable at a zero
# gradient (d sqrt(s)/ds is infinite at s = 0, which makes the penalty's gradient NaN).
GRAD_NORM_EPSILON = 1e-12


class Labels(NamedTuple):
    """The class labels of a conditional critic's two batches: int32 [b] each."""

    real: object
    fake: object


def _scores(critic, x, labels, training):
    """``critic(x)``, or ``critic([x, labels])`` when ``labels`` (int32 [B]) is given (a conditional critic)."""
    return critic(x if labels is None else [x, labels], training=training)


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


def input_gradients(critic, x, training=True, loss_scale=None, labels=None):
    """The critic's gradient with respect to its input at the points ``x``: float32 with x's shape.

    critic: ``critic(x, training=...)`` -> scores [B, 1] or [B]; x: float32 [B, H, W, C] or
    [B, 2]. ``labels``: int32 [B] for a conditional critic, called on ``[x, labels]``; the
    gradient is then with respect to x alone, the labels held fixed (they are integers: the
    tape cannot watch them, and the label embedding is a constant of this derivative).
    Row i is the gradient of example i's own score (the examples are independent: no batch
    norm in a critic that a per-example penalty differentiates), taken of the sum of the
    scores. Shared by every penalty on the input gradient (the gradient penalty, R1,
    R2) and by the logged gradient norms.

    Call it inside the tape that computes the critic's gradients: the inner tape here is
    then recorded by that outer tape, which can differentiate a penalty of the result with
    respect to the critic's variables (a second-order gradient).

    float16 loss scaling (``loss_scale``: the dynamic loss scale, float32 scalar, or None
    for float32 and bfloat16): the inner gradient is taken of ``loss_scale / B *
    sum(scores)``, so each example's backward pass carries the same factor as the outer,
    scaled loss (which averages over the batch), and is divided by that factor in float32.
    Without it, input gradients below float16's smallest normal number (6e-5) would lose
    precision or flush to zero. A row whose scaled gradient overflowed stays non-finite: a
    penalty of it makes the ``LossScaleOptimizer`` skip the update and halve the scale.
    """
    import tensorflow as tf

    x = tf.cast(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.cast(_scores(critic, x, labels, training), tf.float32))
        if loss_scale is not None:
            factor = tf.cast(loss_scale, tf.float32) / tf.cast(tf.shape(x)[0], tf.float32)
            total = total * factor
    grad = tf.cast(tape.gradient(total, x), tf.float32)
    return grad / factor if loss_scale is not None else grad


def squared_norms(grad):
    """Per-example squared L2 norm over ALL non-batch axes: float32 [B] (one vector per example)."""
    import tensorflow as tf

    return tf.reduce_sum(tf.square(grad), axis=list(range(1, grad.shape.rank)))


def reported_norms(squared, fallback):
    """sqrt(squared + ``GRAD_NORM_EPSILON``), float32 [B], with an overflowed (non-finite) row
    reported as ``fallback``: the logged value stays finite while the penalty's gradient through
    that row stays non-finite, which is what tells a ``LossScaleOptimizer`` to skip the step."""
    import tensorflow as tf

    norms = tf.sqrt(squared + GRAD_NORM_EPSILON)
    return tf.where(tf.math.is_finite(norms), norms, tf.fill(tf.shape(norms), float(fallback)))


def gradient_penalty(critic, real, fake, alpha=None, seed=None, training=True, loss_scale=None, labels=None):
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
      labels: None, or for a conditional critic ``Labels(real, fake)``: the interpolates are
        scored with the REAL batch's labels, ``f(x_hat, y_real)``, and differentiated in x_hat
        alone (see the module docstring for why).

    Returns:
      ``(penalty, grad_norm)``, both float32 [B]. The caller multiplies the penalty by
      lambda (``hp.gp_lambda``, 10 in the paper) and adds it to the critic loss.

    The inner gradient comes from ``input_gradients`` (second order inside the caller's
    tape; float16 loss scaling). The norm runs over ALL non-batch axes with
    ``GRAD_NORM_EPSILON`` inside the square root, so the penalty at a zero gradient is 1,
    not NaN. Under mixed precision the critic computes the inner gradient in its own compute
    dtype (its first layer casts the float32 x_hat); the norm and the penalty are float32.
    An example whose scaled inner gradient overflows reports a penalty of 0 and a norm of 1;
    its non-finite gradient then makes the ``LossScaleOptimizer`` skip the update.
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
    at = None if labels is None else labels.real
    grad = input_gradients(critic, interpolate(real, fake, alpha), training, loss_scale, at)
    squared = squared_norms(grad)
    if loss_scale is None:
        grad_norm = tf.sqrt(squared + GRAD_NORM_EPSILON)
    else:
        grad_norm = reported_norms(squared, 1.0)
    return tf.square(grad_norm - 1.0), grad_norm


def _interpolates_penalty(critic, real, fake, alpha, loss_scale, labels=None):
    """The ``gradient_penalty`` entry's loss term: the penalty at the interpolates of weights ``alpha``."""
    return gradient_penalty(critic, real, fake, alpha=alpha, loss_scale=loss_scale, labels=labels)


# ----- R1, R2 (Mescheder et al. 2018) -------------------------------------------------------
def zero_centred_penalty(critic, x, training=True, loss_scale=None, labels=None):
    """``(0.5 * ||grad_x D(x)||^2, ||grad_x D(x)||)`` per example, float32 [B] each, at the points ``x``.

    Mescheder et al. 2018, eq. (9): R1 = gamma / 2 * E_real ||grad D||^2 (R2 the same at
    generated points); the caller multiplies the mean by gamma (``hp.constraint_gamma``).
    Zero-centred: a critic that is flat at the data pays nothing, unlike WGAN-GP's
    (||grad|| - 1)^2. The gradient is at ``x`` itself, not at interpolates. Under float16 an
    overflowed row reports a norm of 0 and keeps its non-finite penalty (``reported_norms``).
    ``labels``: x's own labels (int32 [B]) for a conditional critic, held fixed.
    """
    squared = squared_norms(input_gradients(critic, x, training, loss_scale, labels))
    return 0.5 * squared, reported_norms(squared, 0.0)


def _side(labels, side):
    """The labels of one batch (``"real"`` or ``"fake"``) of ``Labels``, or None without labels."""
    return None if labels is None else getattr(labels, side)


def _r1_penalty(critic, real, fake, alpha, loss_scale, labels=None):
    """The ``r1`` entry's loss term: at the real examples, with their labels."""
    return zero_centred_penalty(critic, real, loss_scale=loss_scale, labels=_side(labels, "real"))


def _r2_penalty(critic, real, fake, alpha, loss_scale, labels=None):
    """The ``r2`` entry's loss term: at the generated examples, with the labels they were drawn for."""
    return zero_centred_penalty(critic, fake, loss_scale=loss_scale, labels=_side(labels, "fake"))


def _r1_r2_penalty(critic, real, fake, alpha, loss_scale, labels=None):
    """The ``r1_r2`` entry's loss term: R1 + R2 per example (R3GAN's gamma / 2 * (R1 + R2)); the
    reported norm is the mean of the two examples' norms."""
    at_real, real_norm = zero_centred_penalty(critic, real, loss_scale=loss_scale, labels=_side(labels, "real"))
    at_fake, fake_norm = zero_centred_penalty(critic, fake, loss_scale=loss_scale, labels=_side(labels, "fake"))
    return at_real + at_fake, 0.5 * (real_norm + fake_norm)


def _spectral_norm(critic, iterations):
    """The ``spectral_norm`` entry's wrapper (imports TensorFlow: ``wgan.gan.spectral_norm``)."""
    from wgan.gan import spectral_norm

    return spectral_norm.wrap(critic, iterations)


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
    ``wgan.lab.benchmark.update_flops``; elementwise work on the weights counts 0);
    ``schedule_end``: the ``HParams`` field of the value a penalty's weight anneals to (a cosine
    over ``train_steps``, ``cosine_weight``; null there: a constant weight), or None for an
    entry whose weight never follows a schedule.
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
    schedule_end: str | None = None

    def __post_init__(self):
        acts = (self.penalty, self.project, self.wrap_critic)
        if any(f is not None for f in acts) and self.hyperparameter is None:
            raise ValueError(f"constraint {self.name!r}: an entry that acts needs its hyperparameter")
        if self.schedule_end is not None and self.penalty is None:
            raise ValueError(f"constraint {self.name!r}: only a penalty's weight follows a schedule")

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

    def weight(self, hp, step):
        """The penalty's weight (float32 scalar) at generator iteration ``step`` (int tensor): its
        hyperparameter's value, or a cosine from it to ``hp.<schedule_end>`` over ``hp.train_steps``."""
        import tensorflow as tf

        end = None if self.schedule_end is None else getattr(hp, self.schedule_end)
        if end is None:
            return tf.constant(self.value(hp), tf.float32)
        from wgan.gan.schedules import cosine_weight  # lazy: this module loads without TensorFlow

        return cosine_weight(self.value(hp), end, step, hp.train_steps)

    def loss_term(self, critic, real, fake, alpha, loss_scale=None, update=None, every=1, labels=None):
        """``(per-example penalty, per-example gradient norm)``, float32 [b] each, for a penalizing entry.

        ``labels``: ``Labels(real, fake)`` for a conditional critic, else None (the penalty
        differentiates in the images only, the labels held fixed).

        Call it inside the tape of the critic update; the caller averages both over the
        global batch and adds ``weight(hp, step)`` times the penalty's average to the critic loss.

        Lazy regularization (``every`` k > 1, ``hp.constraint_every``): on a critic update whose
        0-based count ``update`` (int tensor; the critic optimizer's ``iterations``, which the
        checkpoint holds, so a resumed run keeps the rhythm) is a multiple of k, the penalty
        times k; on the others zeros, and the penalty's passes are not computed (``tf.cond``,
        one trace for both branches).
        """
        if self.penalty is None:
            raise ValueError(f"constraint {self.name!r} adds no term to the critic loss")
        # Labels are passed only to a conditional critic's penalty: an unconditional one is called
        # with the five arguments every entry takes.
        extra = {} if labels is None else {"labels": labels}
        if every <= 1:
            return self.penalty(critic, real, fake, alpha, loss_scale, **extra)
        import tensorflow as tf

        def applied():
            per_example, norms = self.penalty(critic, real, fake, alpha, loss_scale, **extra)
            return float(every) * per_example, norms

        def skipped():
            zeros = tf.zeros(tf.shape(real)[:1], tf.float32)
            return zeros, zeros

        return tf.cond(tf.equal(tf.math.floormod(tf.cast(update, tf.int64), every), 0), applied, skipped)

    def after_update(self, variables, hp):
        """Apply the projection (if any) to the critic's ``variables`` after a critic update; returns None."""
        if self.project is not None:
            self.project(variables, self.value(hp))

    def prepare_critic(self, critic, hp):
        """The critic to train: ``critic`` itself, or wrapped by an entry with ``wrap_critic``."""
        return critic if self.wrap_critic is None else self.wrap_critic(critic, self.value(hp))

    def update_flops(self, critic_flops, every=1):
        """The FLOPs it adds to one critic update per example, from the critic's forward FLOPs;
        ``every``: a penalty applied on every ``every``-th update only (lazy regularization)."""
        return self.critic_passes * critic_flops / (every if self.penalty is not None else 1)


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
    Constraint(
        "spectral_norm", "spectral normalization",
        "Miyato et al. 2018 (SN-GAN): every critic kernel divided by its largest singular value (power iteration).",
        differentiates="the critic's kernels through their largest singular value (u from power iteration held fixed)",
        hyperparameter="spectral_norm_iterations", wrap_critic=_spectral_norm,
        # The power iteration works on the weights, once per call, whatever the batch: 0 per example.
        critic_passes=0),
    Constraint(
        "r1", "R1 penalty",
        "Mescheder et al. 2018: constraint_gamma / 2 * ||grad D(x)||^2 at the real examples.",
        differentiates="the critic's input gradient at the real examples",
        hyperparameter="constraint_gamma", schedule_end="constraint_gamma_end", penalty=_r1_penalty,
        batch_norm=False,
        # As the gradient penalty's: forward (C), input gradient (C), second-order backward (4C).
        critic_passes=6),
    Constraint(
        "r2", "R2 penalty",
        "Mescheder et al. 2018: constraint_gamma / 2 * ||grad D(x)||^2 at the generated examples.",
        differentiates="the critic's input gradient at the generated examples",
        hyperparameter="constraint_gamma", schedule_end="constraint_gamma_end", penalty=_r2_penalty,
        batch_norm=False, critic_passes=6),
    Constraint(
        "r1_r2", "R1 + R2 penalty",
        "Mescheder et al. 2018; Huang et al. 2024 (R3GAN): constraint_gamma / 2 * (||grad D(real)||^2 + "
        "||grad D(fake)||^2).",
        differentiates="the critic's input gradient at the real and at the generated examples",
        hyperparameter="constraint_gamma", schedule_end="constraint_gamma_end", penalty=_r1_r2_penalty,
        batch_norm=False, critic_passes=12),
)
CONSTRAINTS = {entry.name: entry for entry in _ENTRIES}
NAMES = tuple(CONSTRAINTS)


def get(name, where="key 'constraint'"):
    """The registry entry ``name``; a ``ConfigError`` naming ``where`` and the valid names otherwise."""
    return registry_entry(CONSTRAINTS, name, where)
