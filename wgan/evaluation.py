"""Measure a generator with the metrics that fit its data; log them during training.

Metrics by data (names as in ``--metrics``, TensorBoard ``eval/<name>`` and ``--list``):

* 8gaussians, 25gaussians: ``modes`` (modes covered), ``hq`` (share of points within 3
  standard deviations of a mode), ``w1`` (exact Wasserstein-1 between the first 1,000
  generated points and 1,000 real ones);
  swissroll has no modes and gets ``w1`` only (see ``wgan.metrics.toy``);
* digits, mnist, fashion_mnist: ``cfid`` (classifier FID), ``classes`` (classes with at least 2.5% of the
  samples), ``confident`` (share classified with probability >= 0.9), plus the class
  histogram in metrics.jsonl (see ``wgan.metrics.classifier``);
* any image data, when asked for or when an extractor is configured: ``fid``, ``kid``
  (and ``kid_std``) from InceptionV3 features (see ``wgan.metrics.extractors``).

Costs are bounded by the sample counts: 2,000 points for toy data (the exact W1 assignment
on 1,000 of them takes up to about 1 s), 1,000 images otherwise (a second or two for the classifier metrics).
The latent vectors come from a fixed seed, so successive evaluations of one run differ only
by the generator.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf
from absl import logging

from wgan import inputs, runs, visualize
from wgan.data import float_to_uint8, toy_sample
from wgan.errors import ConfigError
from wgan.metrics import classifier, extractors, kid, reference, toy
from wgan.metrics.frechet import frechet_distance, gaussian_stats

TOY_SAMPLES = 2000
# Points in the exact W1: its cost grows as N^3 (see wgan.metrics.toy.EXACT_W1_MAX).
W1_POINTS = toy.EXACT_W1_MAX
IMAGE_SAMPLES = 1000
# Real images behind the Inception reference statistics (cached beside the records).
REFERENCE_IMAGES = 10000

MODE_METRICS = ("modes", "hq")
TOY_METRICS = MODE_METRICS + ("w1",)
CLASSIFIER_METRICS = ("cfid", "classes", "confident")
FEATURE_METRICS = ("fid", "kid")
ALL_METRICS = TOY_METRICS + CLASSIFIER_METRICS + FEATURE_METRICS
# Which way is better, for tables and plots.
HIGHER_IS_BETTER = {"modes": True, "hq": True, "w1": False, "cfid": False, "classes": True, "confident": True,
                    "fid": False, "kid": False}


def available_metrics(hp):
    """The metric names that apply to ``hp``'s data, in a fixed order."""
    if hp.data.is_toy:
        return TOY_METRICS if toy.has_modes(hp.data.name) else ("w1",)
    labelled = hp.data.name in classifier.CLASSIFIER_SOURCES
    return (CLASSIFIER_METRICS if labelled else ()) + FEATURE_METRICS


def default_metrics(hp, extractor_configured):
    """What is computed without ``--metrics``: everything cheap; FID/KID only with a configured extractor."""
    names = available_metrics(hp)
    if hp.data.is_toy or hp.data.name in classifier.CLASSIFIER_SOURCES:
        return tuple(n for n in names if n not in FEATURE_METRICS)
    return names if extractor_configured else ()


def parse_metrics(text, hp):
    """``"fid,kid"`` -> ("fid", "kid") after checking each name applies to ``hp``'s data."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    valid = available_metrics(hp)
    wrong = [n for n in names if n not in valid]
    if wrong or not names:
        raise ConfigError(f"--metrics {text!r}: {', '.join(wrong) or 'nothing'} cannot be computed for "
                          f"{hp.data.name}; choose from {', '.join(valid)}")
    return names


@dataclasses.dataclass
class Evaluation:
    """``scalars``: {name: number} (TensorBoard, snapshots, --list); ``extras``: lists (histograms, counts)."""

    scalars: dict
    extras: dict

    def describe(self):
        return "  ".join(f"{k}={v:.4g}" for k, v in self.scalars.items())


class Evaluator:
    """Computes ``metrics`` for generators of one run's data; the real-data side is prepared once.

    Args:
        hp: the run's HParams.
        metrics: names from ``available_metrics(hp)``.
        num: generated samples per evaluation (>= 2).
        seed: fixes the latent vectors (and the real toy sample).
        records_folder: the real images (image data only).
        test_folder: the source's test-split records, on which the classifier's accuracy is
            measured and whose own scores it keeps (None: a held-out share of the training records).
        extractor: a feature extractor for ``fid``/``kid`` (see ``wgan.metrics.extractors``).
        reference_images: real images behind the FID statistics.
        reference_folder: the records those statistics come from (default ``records_folder``;
            the test split's folder for Lucic et al.'s protocol of test images against samples).
    """

    def __init__(self, hp, metrics, num, seed=0, records_folder=None, extractor=None,
                 reference_images=REFERENCE_IMAGES, test_folder=None, reference_folder=None):
        if num < 2:
            raise ConfigError(f"evaluation needs at least 2 samples, got {num}")
        self.hp, self.metrics, self.num, self.seed = hp, tuple(metrics), num, seed
        self.judge = self.reference = self.extractor = None
        if hp.data.is_toy:
            # Its own stream (seed + 1), so real and generated samples are independent.
            self.real_points = toy_sample(hp.data.name, num, np.random.default_rng(seed + 1))
        if set(self.metrics) & set(CLASSIFIER_METRICS):
            self.judge = classifier.ClassifierJudge(records_folder, test_folder=test_folder)
        if set(self.metrics) & set(FEATURE_METRICS):
            self.extractor = extractor
            self.reference = reference.reference_stats(reference_folder or records_folder, extractor,
                                                       reference_images)

    def samples(self, generator):
        """Generated float32 samples [num, 2] or [num, H, W, C] in [-1, 1] for the fixed latents."""
        from wgan.generate import latent  # here: wgan.generate imports training, which imports this module

        return visualize.generate(generator, latent(self.hp, self.num, self.seed))

    def __call__(self, generator):
        """Evaluate a generator (a Keras model, run in inference mode); returns an ``Evaluation``."""
        output = self.samples(generator)
        scalars, extras = {}, {}
        if self.hp.data.is_toy:
            if set(self.metrics) & set(MODE_METRICS):
                modes = toy.mode_metrics(output, self.hp.data.name)
                scalars.update({k: modes[k] for k in MODE_METRICS if k in self.metrics})
                extras["mode_counts"] = modes["mode_counts"]
            if "w1" in self.metrics:
                name, value = toy.wasserstein1(output[:W1_POINTS], self.real_points[:W1_POINTS])
                scalars[name] = value
            return Evaluation(scalars, extras)
        images = float_to_uint8(output)
        if self.judge is not None:
            values, more = self.judge.evaluate(images)
            scalars.update({k: v for k, v in values.items() if k in self.metrics})
            extras.update(more)
        if self.extractor is not None:
            features = self.extractor(images)
            if "fid" in self.metrics:
                scalars["fid"] = frechet_distance(*gaussian_stats(features), self.reference.mu, self.reference.sigma)
            if "kid" in self.metrics:
                scalars["kid"], scalars["kid_std"] = kid.kernel_distance(features, self.reference.features,
                                                                         seed=self.seed)
        return Evaluation(scalars, extras)


def make_evaluator(hp, records_root, metrics=None, num=None, seed=0, extractor="inception", inception_weights=None,
                   reference_images=REFERENCE_IMAGES, reference_split="train"):
    """An ``Evaluator`` for ``hp``'s data; None when no metric applies (other images, no extractor).

    ``metrics``: names, or None for ``default_metrics``; ``num``: samples (default 2,000 toy
    points or 1,000 images); ``extractor``: ``inception`` or ``random`` for fid/kid;
    ``reference_split``: the records behind the fid/kid statistics, ``train`` or ``test``
    (sources with a test split; built on first use like the training records).
    """
    configured = inception_weights is not None or extractor != "inception"
    metrics = default_metrics(hp, configured) if metrics is None else tuple(metrics)
    if not metrics:
        return None
    folder = None if hp.data.is_toy else inputs.records_folder(hp, records_root)
    test_folder = inputs.test_records_folder(hp, records_root) if set(metrics) & set(CLASSIFIER_METRICS) else None
    features = None
    if set(metrics) & set(FEATURE_METRICS):
        features = extractors.make_extractor(extractor, inception_weights)
    num = num or (TOY_SAMPLES if hp.data.is_toy else IMAGE_SAMPLES)
    reference_folder = None
    if features is not None and reference_split != "train":
        reference_folder = inputs.records_folder(hp, records_root, split=reference_split)
    return Evaluator(hp, metrics, num, seed, folder, features, reference_images, test_folder, reference_folder)


def for_training(hp, records_root):
    """The evaluator a training with ``eval_every`` > 0 uses, or None (logged once) when nothing applies.

    Image data without a classifier gets FID/KID only when Inception weights are available
    without a download: ``$WGAN_INCEPTION_WEIGHTS`` or Keras' cache of the ImageNet weights.
    """
    if not hp.eval_every:
        return None
    weights = None if hp.data.is_toy else extractors.configured_inception_weights()
    evaluator = make_evaluator(hp, records_root, inception_weights=weights)
    if evaluator is None:
        logging.info("eval_every=%d: no metric for %s without Inception weights (set $%s to the no-top "
                     "weights file); skipping evaluation", hp.eval_every, hp.data.name, extractors.WEIGHTS_ENV)
    return evaluator


def log_evaluation(writer, vdir, step, epoch, evaluation):
    """Write an evaluation to TensorBoard (``eval/<name>``) and as one line of metrics.jsonl."""
    with writer.as_default():
        for name, value in evaluation.scalars.items():
            tf.summary.scalar(f"eval/{name}", value, step=step)
        if "class_histogram" in evaluation.extras:
            shares = np.asarray(evaluation.extras["class_histogram"])
            tf.summary.histogram("eval/classes_histogram", np.repeat(np.arange(len(shares)),
                                 np.round(shares * 1000).astype(int)), step=step, buckets=len(shares))
    record = {"step": step, "epoch": round(epoch, 4), **{f"eval/{k}": v for k, v in evaluation.scalars.items()},
              **{f"eval/{k}": v for k, v in evaluation.extras.items()}}
    runs.append_jsonl(os.path.join(vdir, runs.METRICS_FILE), record)


def evaluate_in_training(evaluator, generator, writer, vdir, step, epoch):
    """Evaluate, log (TensorBoard, metrics.jsonl, one log line) and return the scalars."""
    evaluation = evaluator(generator)
    log_evaluation(writer, vdir, step, epoch, evaluation)
    logging.info("eval step %d: %s", step, evaluation.describe())
    return evaluation.scalars
