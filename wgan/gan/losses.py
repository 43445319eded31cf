"""GAN objectives as pure functions: DCGAN, WGAN, hinge, and top-k weights for the generator.

Which objective uses which losses and which constraint is said by its entry in
``wgan.gan.objectives``, not here. The constraints themselves (the WGAN-GP gradient penalty,
WGAN's weight clipping) and their math live in ``wgan.gan.constraints``.

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


# ----- relativistic pairing (RpGAN) ---------------------------------------------------------
# Jolicoeur-Martineau 2018, "The relativistic discriminator", https://arxiv.org/abs/1807.00734,
# and Huang et al. 2024, "The GAN is dead; long live the GAN!" (R3GAN), https://arxiv.org/abs/2501.05441,
# eq. (2): each real example is paired with one fake (row i with row i), and the critic
# scores the difference. softplus(t) = log(1 + e^t), computed stably for any t.
def rpgan_critic_loss(real_scores, fake_scores):
    """softplus(-(D(real) - D(fake))) per pair: float32 [B], > 0.

    real_scores, fake_scores: critic outputs [B, 1] or [B], any float dtype, paired by row.
    log 2 when the critic cannot tell the pair apart; falls towards 0 as D(real) - D(fake) grows.
    """
    return tf.nn.softplus(per_example_scores(fake_scores) - per_example_scores(real_scores))


def rpgan_generator_loss(fake_scores, real_scores):
    """softplus(-(D(fake) - D(real))) per pair: float32 [B], > 0 (the critic's loss with the roles swapped).

    Unlike every other generator loss here it needs the real scores of the same pairs, which
    the objective's entry says (``generator_needs_real``).
    """
    return tf.nn.softplus(per_example_scores(real_scores) - per_example_scores(fake_scores))
