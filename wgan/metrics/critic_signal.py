"""A quality signal for images nothing else can judge: the run's own critic on held-out images.

A folder without class subfolders has no classifier, and without the Inception graph (or
Keras' InceptionV3 weights) on the machine it has no FID either. What every run does have is
its critic and the images the build held out (``<records>/heldout``, never trained on):

* ``w_heldout``: the critic's Wasserstein estimate between held-out real images and
  generated ones, mean D(held-out) - mean D(G(z)). Lower is better. Arjovsky et al. 2017
  (https://arxiv.org/abs/1701.07875, Figure 3) and Gulrajani et al. 2017 (Figure 4) show the
  critic's estimate falling as samples improve, for a critic kept near 1-Lipschitz (clipping,
  a penalty). Measured on held-out images, not training images, so a critic that memorised
  its training set does not make the generator look good (or bad). Each evaluation uses the
  critic of its step; for an objective whose critic is not a Wasserstein critic (DCGAN's
  logits, hinge) it is a score difference, a weaker signal.
* ``spread``: the generated images' pixel variance (trace of their covariance) over the
  held-out images' own. 1 is as varied as the data; far below 1 is a collapse.

Neither is a primary metric (``wgan.metrics.registry``): no best snapshot follows them. Each
evaluation's critic is the one of its step, so values from different steps are measured by
different critics. On 2,000 Fashion-MNIST images as a flat folder (docs/own-data.md),
``w_heldout`` was lowest at step 800 (classifier FID 23.3), while step 2,000 scored 8.8 with a
``w_heldout`` four times higher: it would have picked a far worse snapshot. They watch a run
(a critic that memorises, a collapse); they do not rank its snapshots.
"""

import numpy as np

# Real held-out images read at most (the critic scores them at every evaluation).
MAX_HELDOUT = 1000


def pixel_spread(images):
    """Trace of the covariance of float images [N, ...] (any range): their total pixel variance."""
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    return float(np.sum(np.var(flat, axis=0, ddof=1)))


def critic_scores(critic, images, batch_size=256, labels=None):
    """The critic's scores float64 [N] for float32 images [N, H, W, C] in [-1, 1], in inference mode;
    a class-conditional critic gets each image's label, int32 ``labels`` [N]."""
    import tensorflow as tf

    def rows(i):
        x = tf.convert_to_tensor(images[i:i + batch_size])
        return x if labels is None else [x, tf.convert_to_tensor(np.asarray(labels[i:i + batch_size], np.int32))]

    parts = [critic(rows(i), training=False) for i in range(0, len(images), batch_size)]
    return np.concatenate([tf.reshape(tf.cast(p, tf.float32), [-1]).numpy() for p in parts]).astype(np.float64)


class CriticSignal:
    """Scores generated images with ``critic`` against ``heldout`` float32 images [M, H, W, C] in [-1, 1];
    a class-conditional critic with ``heldout_labels`` int32 [M], the held-out images' own."""

    def __init__(self, critic, heldout, heldout_labels=None):
        if len(heldout) < 2:
            raise ValueError("the critic signal needs at least 2 held-out images")
        self.critic, self.heldout = critic, np.asarray(heldout, np.float32)
        self.heldout_labels = heldout_labels
        self.real_spread = pixel_spread(self.heldout)

    def __call__(self, fake, fake_labels=None):
        """``{"w_heldout": float, "spread": float}`` for generated float32 images [N, H, W, C] in [-1, 1]
        (generated for classes ``fake_labels`` int32 [N] by a conditional generator)."""
        fake = np.asarray(fake, np.float32)
        w_heldout = (critic_scores(self.critic, self.heldout, labels=self.heldout_labels).mean()
                     - critic_scores(self.critic, fake, labels=fake_labels).mean())
        return {"w_heldout": float(w_heldout), "spread": pixel_spread(fake) / max(self.real_spread, 1e-12)}
