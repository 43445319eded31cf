"""GAN objectives as pure functions: DCGAN, WGAN, hinge and the WGAN-GP gradient penalty.

Which objective uses which losses and which constraint (penalty, clipping) is said by its
entry in ``wgan.gan.objectives``, not here.

* WGAN: Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", https://arxiv.org/abs/1701.07875
* WGAN-GP: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs",
  https://arxiv.org/abs/1704.00028
* DCGAN: Radford, Metz & Chintala 2015, https://arxiv.org/abs/1511.06434, trained with the
  non-saturating generator loss of Goodfellow et al. 2014.

Every loss returns PER-EXAMPLE float32 values of shape [B]; the trainer averages them
over the global batch (``tf.nn.compute_average_loss``) so the same code is correct under a
``tf.distribute`` strategy. Critic outputs may be [B, 1] or [B] and any float dtype; they
are cast to float32 first, so mixed-precision critics give float32 losses.
"""

import tensorflow as tf

# Inside the square root of the gradient norm: keeps sqrt differentiable at a zero
# gradient (d sqrt(s)/ds is infinite at s = 0, which makes the penalty's gradient NaN).
GRAD_NORM_EPSILON = 1e-12


def per_example_scores(scores):
    """Critic outputs [B, 1] or [B], any float dtype -> float32 [B]: what every loss of every
    objective (here and in other loss modules) applies to the scores first."""
    scores = tf.cast(scores, tf.float32)
    rank, last = scores.shape.rank, scores.shape[-1] if scores.shape.rank else None
    if not (rank == 1 or (rank == 2 and last in (1, None))):
        # Reshaping [B, k] to [-1] would silently mix examples, so refuse it.
        raise ValueError(f"critic outputs must have shape [B, 1] or [B], got {scores.shape}")
    return tf.squeeze(scores, axis=-1) if rank == 2 else scores


# ----- WGAN ---------------------------------------------------------------------------
def wgan_critic_loss(real_scores, fake_scores):
    """f(fake) - f(real) per example, float32 [B], unbounded.

    Minimizing its mean maximizes E[f(real)] - E[f(fake)], the critic's estimate of the
    Wasserstein-1 distance (valid while f is kept near 1-Lipschitz by clipping or a penalty).
    """
    return per_example_scores(fake_scores) - per_example_scores(real_scores)


def wgan_generator_loss(fake_scores):
    """-f(fake) per example, float32 [B], unbounded."""
    return -per_example_scores(fake_scores)


def wasserstein_estimate(real_scores, fake_scores):
    """mean f(real) - mean f(fake): scalar float32, the critic's Wasserstein-1 estimate, for logging.

    Averages over the examples given (one replica's batch under a distribution strategy).
    """
    return tf.reduce_mean(per_example_scores(real_scores)) - tf.reduce_mean(per_example_scores(fake_scores))


# ----- DCGAN --------------------------------------------------------------------------
def dcgan_critic_loss(real_logits, fake_logits):
    """Discriminator cross-entropy per example, float32 [B], >= 0.

    -log sigmoid(real) - log(1 - sigmoid(fake)): real labelled 1, fake labelled 0.
    ``sigmoid_cross_entropy_with_logits`` works on logits and stays finite for any logit;
    a sigmoid followed by a log would not: in float32 sigmoid(x) rounds to 1 for x above
    about 17, and log(1 - 1) = -inf.
    """
    real = per_example_scores(real_logits)
    fake = per_example_scores(fake_logits)
    return (tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(real), logits=real)
            + tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(fake), logits=fake))


def dcgan_generator_loss(fake_logits):
    """Non-saturating generator loss -log sigmoid(fake) = softplus(-fake) per example, float32 [B], >= 0.

    The minimax form log(1 - sigmoid(fake)) has a vanishing gradient exactly when the
    discriminator rejects the samples confidently, early in training; this form does not.
    """
    return tf.nn.softplus(-per_example_scores(fake_logits))


# ----- hinge ----------------------------------------------------------------------------
# Lim & Ye 2017, "Geometric GAN", https://arxiv.org/abs/1705.02894, and Miyato et al. 2018,
# https://arxiv.org/abs/1802.05957, eq. (17) (the form SN-GAN, SAGAN and BigGAN train with).
# The critic is a soft-margin SVM between real and generated samples; the generator loss is
# WGAN's -D(G(z)). Neither paper adds a penalty: SN-GAN keeps the critic Lipschitz by
# spectral normalization, so the registry entry's default constraint is ``none``.
def hinge_critic_loss(real_scores, fake_scores):
    """relu(1 - D(real)) + relu(1 + D(fake)) per example: float32 [B], >= 0.

    real_scores, fake_scores: critic outputs [B, 1] or [B], any float dtype (cast to float32).
    Zero exactly when every real score is >= 1 and every fake score is <= -1: the critic
    stops pushing samples it already separates by the margin, so its scores stay near
    [-1, 1] instead of growing without bound.
    """
    real = per_example_scores(real_scores)
    fake = per_example_scores(fake_scores)
    return tf.nn.relu(1.0 - real) + tf.nn.relu(1.0 + fake)


# ----- Top-k generator updates ---------------------------------------------------------
def top_k_count(batch, fraction):
    """Examples kept of a batch of ``batch`` examples (int or int32 scalar) for a kept ``fraction``
    (float32 scalar in (0, 1]): int32 scalar ceil(fraction * batch), at least 1, at most ``batch``."""
    batch = tf.cast(batch, tf.float32)
    count = tf.math.ceil(tf.cast(fraction, tf.float32) * batch)
    return tf.cast(tf.clip_by_value(count, 1.0, batch), tf.int32)


def top_k_mask(scores, fraction):
    """1.0 for the ``top_k_count`` examples the critic scores highest, 0.0 for the rest: float32 [B].

    Sinha et al. 2020, "Top-k Training of GANs", https://arxiv.org/abs/2002.06224: the
    generator's update skips the fakes the critic finds least realistic, whose gradients
    can push a sample between two modes further from both. A higher score means "more
    real" for every objective here (a WGAN score, a DCGAN logit). Ranks come from two
    argsorts, not ``tf.math.top_k``, so the shapes stay static under XLA; ties go to the
    lower index.
    """
    scores = per_example_scores(scores)
    ranks = tf.argsort(tf.argsort(scores, direction="DESCENDING", stable=True), stable=True)
    return tf.cast(ranks < top_k_count(tf.shape(scores)[0], fraction), tf.float32)


def top_k_weights(scores, fraction):
    """``top_k_mask`` scaled by B / k: float32 [B] weights whose product with per-example losses
    has the batch mean of the mean over the k kept examples."""
    mask = top_k_mask(scores, fraction)
    return mask * (tf.cast(tf.size(mask), tf.float32) / tf.reduce_sum(mask))


# ----- WGAN-GP ------------------------------------------------------------------------
def interpolate(real, fake, alpha):
    """x_hat = real + alpha * (fake - real), one alpha per example.

    real, fake: float32 [B, ...]; alpha: [B] (or [B, 1, ..., 1]) in [0, 1], reshaped to
    [B, 1, ..., 1] so it broadcasts over all non-batch axes ([B, 1, 1, 1] for images,
    [B, 1] for 2-D points). Returns float32 with the shape of ``real``.
    """
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


# ----- WGAN weight clipping -----------------------------------------------------------
def clip_weights(variables, clip_value):
    """Clip every variable in place to [-clip_value, clip_value]; returns None.

    WGAN's crude way of keeping the critic Lipschitz: call it after every critic update
    with ``critic.trainable_variables`` (all trainable parameters, as the reference code
    clamps every parameter; batch-norm moving statistics are not trained and are left
    alone). Works eagerly and inside ``tf.function``.
    """
    for variable in variables:
        limit = tf.cast(clip_value, variable.dtype)
        # tf.clip_by_value(t, clip_value_min, clip_value_max): the minimum comes first.
        variable.assign(tf.clip_by_value(variable, -limit, limit))
