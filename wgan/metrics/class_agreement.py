"""Whether a class-conditional generator obeys its labels, judged by the toolkit's classifier
(``wgan.metrics.classifier``, the network behind ``cfid``).

* ``agreement``: the share of samples the classifier puts in the class they were generated
  for, overall and per class (``agreement_per_class``). Its ceiling is the classifier's own
  accuracy on real images (``agreement_ceiling``: on the test split when there is one, else
  on held-out training records): samples that are real images of their class score that
  accuracy, not 1.
* ``icfid``: intra-class classifier FID, the Fréchet distance between one class's samples and
  that class's real training images in the classifier's features (those of ``cfid``),
  averaged over the classes (``icfid_per_class``). The intra-FID of Miyato & Koyama 2018
  ("cGANs with Projection Discriminator", https://arxiv.org/abs/1802.05637), in the
  classifier's features instead of Inception's. ``cfid`` compares the whole set and cannot
  see a generator that draws a good sneaker when asked for a sandal; ``icfid`` can.

The samples are those of the evaluation, their labels drawn at the training set's class
frequencies (``wgan.models.prior.labels``), so a class gets about its share of the 1,000
judged samples: about 100 for ten balanced classes. FID is biased upward at such counts, so
``icfid`` is not 0 even for a perfect generator and is comparable only between evaluations
of the same sample count (the evaluation's ``about`` says it). A class with fewer than
``MIN_CLASS_SAMPLES`` samples gets no value and is left out of the mean.
"""

import numpy as np

from wgan.metrics import reference
from wgan.metrics.frechet import frechet_distance, gaussian_stats

# Samples (and real images) a class needs for its mean and covariance.
MIN_CLASS_SAMPLES = 2


def per_class_stats(features, labels, num_classes):
    """[(mu [D], sigma [D, D]) or None] per class of ``features`` [N, D] with ``labels`` int [N];
    None for a class with fewer than ``MIN_CLASS_SAMPLES`` rows."""
    labels = np.asarray(labels)
    return [gaussian_stats(features[labels == k]) if np.count_nonzero(labels == k) >= MIN_CLASS_SAMPLES else None
            for k in range(num_classes)]


class RealClassStatistics:
    """The real records' images of each class in a judge's features: ``stats`` [(mu, sigma) or None] per
    class, ``counts`` [K] images per class. Computed once per evaluator (a forward pass of the records)."""

    def __init__(self, judge, folder, limit=None):
        images, labels = reference.read_images(folder, limit, with_labels=True)
        features = judge(images)
        self.counts = np.bincount(labels, minlength=judge.num_classes).tolist()
        self.stats = per_class_stats(features, labels, judge.num_classes)


def agreement(logits, asked, num_classes):
    """(share of rows whose arg-max class is the asked one, [share per class or None without samples]).

    logits: [N, K] (or probabilities); asked: int labels [N] the samples were generated for.
    """
    asked = np.asarray(asked)
    hit = np.asarray(logits).argmax(axis=1) == asked
    per_class = [float(hit[asked == k].mean()) if np.any(asked == k) else None for k in range(num_classes)]
    return float(hit.mean()), per_class


def intra_class_fid(features, asked, real_stats):
    """(mean over the classes with a value, [FID per class or None]) of generated ``features`` [N, D]
    generated for labels ``asked`` [N], each class against ``real_stats[k]`` (mu, sigma) of its real images."""
    fake_stats = per_class_stats(features, asked, len(real_stats))
    per_class = [None if fake is None or real is None else float(frechet_distance(*fake, *real))
                 for fake, real in zip(fake_stats, real_stats)]
    values = [v for v in per_class if v is not None]
    return (float(np.mean(values)) if values else float("nan")), per_class


def class_metrics(judge, real, features, logits, asked):
    """The class-agreement metrics of samples generated for labels ``asked`` int [N].

    judge: a ``classifier.ClassifierJudge`` (``num_classes``, ``info["accuracy"]``); real: its
    ``RealClassStatistics``; features [N, D], logits [N, K]: the judge's ``forward`` of the samples.
    Returns (scalars ``agreement``, ``icfid``; extras ``agreement_per_class``, ``icfid_per_class``
    (None where a class has too few samples), ``agreement_ceiling`` (the classifier's accuracy on
    real images), ``class_samples`` (samples per class)).
    """
    overall, per_class = agreement(logits, asked, judge.num_classes)
    icfid, icfid_per_class = intra_class_fid(features, asked, real.stats)
    scalars = {"agreement": overall, "icfid": icfid}
    extras = {"agreement_per_class": [None if v is None else round(v, 4) for v in per_class],
              "icfid_per_class": [None if v is None else round(v, 3) for v in icfid_per_class],
              "agreement_ceiling": judge.info["accuracy"],
              "class_samples": np.bincount(np.asarray(asked), minlength=judge.num_classes).tolist()}
    return scalars, extras
