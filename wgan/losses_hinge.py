"""The hinge objective: a margin loss for the critic, the Wasserstein generator loss.

* Lim & Ye 2017, "Geometric GAN", https://arxiv.org/abs/1705.02894: the critic is a
  soft-margin SVM separating real from generated samples, the generator moves its samples
  along the SVM's normal vector;
* Miyato et al. 2018, "Spectral Normalization for Generative Adversarial Networks",
  https://arxiv.org/abs/1802.05957, eq. (17): the same losses, the form SN-GAN, SAGAN and
  BigGAN train with.

Critic: relu(1 - D(x)) + relu(1 + D(G(z))) per example. Real scores above +1 and fake
scores below -1 cost nothing, so the critic stops pushing samples it already separates by
the margin, and its scores stay near [-1, 1] instead of growing without bound. Generator:
-D(G(z)), as for WGAN (``wgan.losses.wgan_generator_loss``, which the registry entry names).

Neither paper adds a penalty term to these losses: Miyato et al. keep the critic Lipschitz
by spectral normalization of its weights, an architecture change, not part of the
objective. The registry entry's constraint is therefore ``none`` (batch norm is allowed in
the critic).
"""

import tensorflow as tf

from wgan.losses import per_example_scores


def hinge_critic_loss(real_scores, fake_scores):
    """relu(1 - D(real)) + relu(1 + D(fake)) per example: float32 [B], >= 0.

    real_scores, fake_scores: critic outputs [B, 1] or [B], any float dtype (cast to float32).
    Zero exactly when every real score is >= 1 and every fake score is <= -1.
    """
    real = per_example_scores(real_scores)
    fake = per_example_scores(fake_scores)
    return tf.nn.relu(1.0 - real) + tf.nn.relu(1.0 + fake)
