"""Measure a generator with the metrics that fit its data; log them during training.

Metrics by data (names as in ``--metrics``):

* 8gaussians, 25gaussians: ``modes`` (modes covered), ``hq`` (share of points within 3
  standard deviations of a mode), ``w1`` (exact Wasserstein-1 between the first 1,000
  generated points and 1,000 real ones);
  swissroll has no modes and gets ``w1`` only (see ``wgan.metrics.toy``);
* digits, mnist, fashion_mnist: ``cfid`` (classifier FID), ``classes`` (classes with at least 2.5% of the
  samples), ``confident`` (share classified with probability >= 0.9), plus the class
  histogram in metrics.jsonl (see ``wgan.metrics.classifier``), on every one of the evaluator's
  ``num`` samples: ``IMAGE_SAMPLES`` (1,000) in training, the count the health thresholds were
  set with, and what ``--num`` or a study asks for otherwise (until 2026-12-07 they were always
  on the first 1,000, whatever ``num`` said: ``wgan.lab.scored_samples``);
* any image data, when asked for or when an extractor is configured: ``fid``, ``kid`` (and
  its spread) and, with the 2015 Inception graph, ``is`` (Inception Score, and its spread),
  from the features of a registered extractor (``wgan.metrics.extractors``); only when asked
  for, ``precision`` and ``recall`` (k-NN manifolds, ``wgan.metrics.precision_recall``);
* a class-conditional run on labelled images (``hp.conditional.enabled``): also ``agreement``
  (share of samples the classifier puts in the class asked for; its ceiling, the classifier's
  accuracy, is stored beside it) and ``icfid`` (intra-class classifier FID), plus both per class
  in metrics.jsonl (see ``wgan.metrics.class_agreement``). Every sample of such a run is
  generated for a label drawn at the training set's class frequencies (``prior.labels``), so
  ``cfid``, ``classes`` and ``confident`` judge the mixture the training data has;
* any image data, when asked for: ``swd``, the sliced Wasserstein distance between 7x7 patches
  of generated and real images at each level of a Laplacian pyramid (``wgan.metrics.swd``);
  it needs no weights, so it draws, during training, the progress of image data that none of
  the above can judge (a folder without classes on a machine without Inception); it is not
  primary (no best snapshot follows it: ``wgan.metrics.swd``);
* image data that neither a classifier nor an extractor can judge, during training, also:
  ``ffid``, the FID in the features of a small network that learned the rotations of the
  records' own images, fitted once and cached beside them (``wgan.metrics.folder_features``; any
  image data when asked for): it ranks a run's snapshots as the classifier FID does where a
  classifier exists to check it, so it is primary there and the best snapshot follows it;
  ``w_heldout`` (the run's critic on held-out images against samples) and ``spread``
  (``wgan.metrics.critic_signal``), on the first ``IMAGE_SAMPLES`` generated images.

Every name, group, direction and need comes from the registry (``wgan.metrics.registry``);
this module gathers what the asked metrics need and calls their computations.

Feature metrics are stored (TensorBoard ``eval/<name>``, metrics.jsonl, evaluations.jsonl,
``--list``) under a name that carries the extractor and the sample counts
(``series_name``): ``fid_inception2015_n50k_r50k`` is the FID of 50,000 generated images
against 50,000 real ones with the 2015 graph, ``is_inception2015_n50k`` an Inception Score.
So numbers computed differently are never one series. ``Evaluation.about`` says the same
per name as fields (``extractor``, ``comparable``, ``n_fake``, ``n_real``).

Costs: in training, 2,000 points for toy data, 1,000 generated images against 10,000 real
ones otherwise. ``bin/evaluate.py`` defaults to the papers' protocol for feature metrics:
``FINAL_IMAGES`` (50,000) generated images against every training image. Images are
generated and pushed through the extractor in chunks of ``GENERATE_BATCH``, and only
moments, the softmax sums of the Inception Score and the first ``reference.KID_FEATURES``
feature rows are kept, so memory does not grow with the count. ``precision`` and ``recall``
use those rows: the first ``precision_recall.SAMPLES`` (2,000) generated rows against as many
kept real rows (O(N^2) distances; ``--num 2000`` is enough when they are all that is asked).
The latent vectors come from a fixed seed, so successive evaluations of one run differ only
by the generator.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf
from absl import logging

from wgan import models, runs, visualize
from wgan.data import inputs
from wgan.data import float_to_uint8, toy_sample, uint8_to_float
from wgan.data import sources
from wgan.errors import ConfigError, DataError
from wgan.metrics import (class_agreement, classifier, critic_signal, extractors, folder_features, reference, registry,
                          swd, toy)
from wgan.metrics.frechet import MomentAccumulator, frechet_distance
from wgan.metrics.inception_score import ScoreAccumulator
from wgan.metrics.sample_sizes import FINAL_IMAGES, IMAGE_SAMPLES, REFERENCE_IMAGES, TOY_SAMPLES
from wgan.models.prior import latent

# Points in the exact W1: its cost grows as N^3 (see wgan.metrics.toy.EXACT_W1_MAX).
W1_POINTS = toy.EXACT_W1_MAX
# Images generated and featurised at a time: bounds memory for 50,000 samples.
GENERATE_BATCH = 500

# The stored names of feature metrics, and the metric behind one (kept here for their callers).
series_name, base_metric = registry.series_name, registry.base_metric
# The classifier's metrics, as benchmarks/keras_io_wgan_gp.py asks for them.
CLASSIFIER_METRICS = registry.names(group=registry.CLASSIFIER)


def _group(name):
    return registry.get(name).group


def available_metrics(hp, extractor=extractors.DEFAULT_EXTRACTOR, asked=False, records_root=None):
    """The metric names that apply to ``hp``'s data with ``extractor`` (an extractor name), in registry order.

    ``asked``: also the metrics computed only on request (``precision``, ``recall``): the
    valid ``--metrics`` choices. ``records_root``: where to look whether an image folder's
    records are labelled (``classifier.judges``); without it a folder counts as unlabelled.
    """
    if hp.data.is_toy:
        kind = registry.TOY_WITH_MODES if toy.has_modes(hp.data.name) else registry.TOY_POINTS
    else:
        kind = registry.IMAGE_DATA
    return registry.metrics_for(kind, labelled=classifier.judges(hp, records_root),
                                probabilities=extractors.extractor_entry(extractor).has_probabilities, asked=asked,
                                conditional=models.takes_labels(hp))


def default_metrics(hp, extractor_configured, extractor=extractors.DEFAULT_EXTRACTOR, records_root=None):
    """What is computed without ``--metrics``: everything cheap; feature metrics only with a configured extractor
    (``records_root``: as for ``available_metrics``)."""
    names = available_metrics(hp, extractor, records_root=records_root)
    if hp.data.is_toy or classifier.judges(hp, records_root):
        return tuple(n for n in names if _group(n) != registry.FEATURE)
    return names if extractor_configured else ()


def parse_metrics(text, hp, extractor=extractors.DEFAULT_EXTRACTOR, records_root=None):
    """``"fid,kid"`` -> ("fid", "kid") after checking each name applies to ``hp``'s data and ``extractor``."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    valid = available_metrics(hp, extractor, asked=True, records_root=records_root)
    wrong = [n for n in names if n not in valid]
    if wrong or not names:
        known = [registry.find(n) for n in wrong if registry.find(n) is not None]
        features = not hp.data.is_toy and any(m.group == registry.FEATURE for m in known)
        also = "".join(f" ({m.name} needs class probabilities: --extractor inception2015)" for m in known
                       if features and registry.PROBABILITIES in m.needs)
        raise ConfigError(f"--metrics {text!r}: {', '.join(wrong) or 'nothing'} cannot be computed for "
                          f"{hp.data.name}{f' with {extractor}' if features else ''}; choose from "
                          f"{', '.join(valid)}{also}")
    return names


@dataclasses.dataclass
class Evaluation:
    """``scalars``: {name: number} (TensorBoard, snapshots, --list); ``extras``: lists (histograms, counts);
    ``about``: {name: what it was computed with} (``metric``, ``extractor``, ``features`` (the
    extractor's full name, with the digest of its weights file), ``comparable``, ``n_fake``, ``n_real``)."""

    scalars: dict
    extras: dict
    about: dict = dataclasses.field(default_factory=dict)

    def describe(self):
        return "  ".join(f"{k}={v:.4g}" for k, v in self.scalars.items())


class Evaluator:
    """Computes ``metrics`` for generators of one run's data; the real-data side is prepared once.

    Args:
        hp: the run's HParams.
        metrics: names from ``available_metrics(hp, extractor.label, asked=True)``.
        num: generated samples per evaluation (>= 2; more for metrics with a larger ``min_samples``: 10 for ``is``).
        seed: fixes the latent vectors (and the real toy sample).
        records_folder: the real images (image data only).
        test_folder: the source's test-split records, on which the classifier's accuracy is
            measured and whose own scores it keeps (None: a held-out share of the training records).
        extractor: a feature extractor for the feature metrics (see ``wgan.metrics.extractors``).
        reference_images: real images behind the FID/KID statistics; None for all of them.
        reference_folder: the records those statistics come from (default ``records_folder``;
            the test split's folder for Lucic et al.'s protocol of test images against samples).
        reference_stats: optional path of a TTUR-format ``.npz`` (``mu``, ``sigma``) that the FID
            is computed against instead of the records' statistics (KID still uses the records).
        critic_signal: a ``critic_signal.CriticSignal`` (the run's critic and held-out images) for
            the critic group's metrics.
    """

    def __init__(self, hp, metrics, num, seed=0, records_folder=None, extractor=None,
                 reference_images=REFERENCE_IMAGES, test_folder=None, reference_folder=None, reference_stats=None,
                 reference_split="train", critic_signal=None):
        if num < 2:
            raise ConfigError(f"evaluation needs at least 2 samples, got {num}")
        self.hp, self.metrics, self.num, self.seed = hp, tuple(metrics), num, seed
        entries = [registry.get(name) for name in self.metrics]
        for entry in entries:
            if num < entry.min_samples:
                why = f" ({entry.min_samples_why})" if entry.min_samples_why else ""
                raise ConfigError(f"the {entry.title} needs at least {entry.min_samples} samples{why}, got {num}")
        self.needs = registry.needs_of(self.metrics)
        self.judge = self.reference = self.extractor = self.imported = self.generated_stats = None
        self.patch_reference = self.learned = None
        self.real_classes = None
        self.reference_stats, self.reference_split = reference_stats, reference_split
        self.critic_signal = critic_signal
        if registry.CRITIC in self.needs and critic_signal is None:
            raise ValueError("the critic group's metrics need the run's critic and held-out images")
        if hp.data.is_toy:
            # Its own stream (seed + 1), so real and generated samples are independent.
            self.real_points = toy_sample(hp.data.name, num, np.random.default_rng(seed + 1))
        if registry.LABELS in self.needs:
            self.judge = classifier.ClassifierJudge(records_folder, test_folder=test_folder)
        if registry.REAL_IMAGES in self.needs:
            real = reference.read_images(records_folder, limit=swd.REFERENCE_IMAGES)
            self.patch_reference = swd.PatchReference(real, seed)
        if registry.LEARNED_FEATURES in self.needs:
            self.learned = folder_features.LearnedJudge(records_folder)
        if registry.CLASS_LABELS in self.needs:
            if not models.takes_labels(hp):
                asked = ", ".join(n for n in self.metrics if registry.CLASS_LABELS in registry.get(n).needs)
                raise ConfigError(f"{asked}: these metrics need a class-conditional run (conditional.enabled)")
            self.real_classes = class_agreement.RealClassStatistics(self.judge, records_folder)
        if registry.EXTRACTOR in self.needs:
            self.extractor = extractor
            probable = [e for e in entries if registry.PROBABILITIES in e.needs]
            if probable and not extractor.has_probabilities:
                raise ConfigError(f"the {probable[0].title} needs class probabilities, which {extractor.label} does "
                                  "not give; use --extractor inception2015")
            if reference_stats and registry.MOMENTS in self.needs:
                self.imported = reference.load_ttur_stats(reference_stats, getattr(extractor, "dim", None))
            if registry.ROWS in self.needs or (registry.MOMENTS in self.needs and not reference_stats):
                self.reference = reference.reference_stats(reference_folder or records_folder, extractor,
                                                           reference_images)

    def generator_inputs(self):
        """The fixed generator inputs: ``num`` latents, and for a conditional run their labels (drawn at
        the training set's class frequencies, ``models.generator_inputs``), fixed by the evaluator's seed."""
        return models.generator_inputs(self.hp, latent(self.hp, self.num, self.seed), seed=self.seed)

    def samples(self, generator, num=None):
        """Generated float32 samples [num, 2] or [num, H, W, C] in [-1, 1] for the (first ``num``) fixed inputs."""
        inputs = self.generator_inputs()
        return visualize.generate(generator, models.input_rows(inputs, 0, num if num is not None else self.num))

    def __call__(self, generator):
        """Evaluate a generator (a Keras model, run in inference mode); returns an ``Evaluation``."""
        if self.hp.data.is_toy:
            return self._toy(self.samples(generator))
        return self._images(generator)

    def _asked(self, group):
        """The asked metrics of ``group``, in registry order."""
        return [registry.get(n) for n in registry.names(group=group) if n in self.metrics]

    def _toy(self, output):
        scalars, extras, about = {}, {}, {}
        modes = self._asked(registry.TOY_MODES)
        if modes:  # computed together (wgan.metrics.toy.mode_metrics)
            values = modes[0].computation()(output, self.hp.data.name)
            scalars.update({m.name: values[m.name] for m in modes})
            extras["mode_counts"] = values["mode_counts"]
            about.update({m.name: {"metric": m.name, "n_fake": len(output)} for m in modes})
        for entry in self._asked(registry.TOY_DISTANCE):
            points = min(W1_POINTS, len(output))
            # The name travels with the value (wgan.metrics.toy.wasserstein1: exact or sliced).
            name, value = entry.computation()(output[:W1_POINTS], self.real_points[:W1_POINTS])
            scalars[name] = value
            about[name] = {"metric": name, "n_fake": points, "n_real": points}
        return Evaluation(scalars, extras, about)

    def _images(self, generator):
        inputs = self.generator_inputs()
        labels = models.input_labels(inputs)
        # The classifier judges every sample asked for (its features and logits are small; the
        # images are not kept). The critic signal keeps float images, so it takes the first
        # IMAGE_SAMPLES, the count of a training evaluation.
        judged = self.num if self.judge is not None else 0
        critic_judged = min(self.num, IMAGE_SAMPLES) if self.critic_signal is not None else 0
        # More generated images than the reference has would be subsampled away (swd.sliced_wasserstein).
        patch_judged = min(self.num, self.patch_reference.count) if self.patch_reference is not None else 0
        learned_judged = self.num if self.learned is not None else 0
        judge_features, judge_logits, for_critic, for_patches = [], [], [], []
        moments, rows, learned_moments = MomentAccumulator(), [], MomentAccumulator()
        scores = ScoreAccumulator(self.num) if registry.PROBABILITIES in self.needs else None
        for start in range(0, self.num, GENERATE_BATCH):
            generated = visualize.generate(generator, models.input_rows(inputs, start, start + GENERATE_BATCH))
            images = float_to_uint8(generated)
            if start < judged:
                features, logits = self.judge.forward(images[:judged - start])
                judge_features.append(features)
                judge_logits.append(logits)
            if start < critic_judged:
                for_critic.append(generated[:critic_judged - start])
            if start < patch_judged:
                for_patches.append(images[:patch_judged - start])
            if start < learned_judged:
                learned_moments.add(self.learned.extractor(images[:learned_judged - start]))
            if self.extractor is None:
                if start + GENERATE_BATCH >= max(judged, critic_judged, patch_judged, learned_judged):
                    break  # the classifier, the critic, the patches, the learned features have their images
                continue
            if scores is not None:
                features, probabilities = self.extractor.features_and_probabilities(images)
                scores.add(probabilities)
            else:
                features = self.extractor(images)
            moments.add(features)
            room = reference.KID_FEATURES - sum(len(k) for k in rows)
            if room > 0:
                rows.append(features[:room])
        scalars, extras, about = {}, {}, {}
        if self.judge is not None:
            features, logits = np.concatenate(judge_features), np.concatenate(judge_logits)
            values, more = self.judge.score(features, logits)
            for name, value in values.items():
                if name in self.metrics:
                    scalars[name] = value
                    about[name] = {"metric": name, "extractor": self.judge.name, "comparable": False,
                                   "n_fake": judged}
            extras.update(more)
            by_class = self._asked(registry.CLASS_AGREEMENT)
            if by_class:  # computed together (wgan.metrics.class_agreement.class_metrics)
                values, more = by_class[0].computation()(self.judge, self.real_classes, features, logits,
                                                         labels[:judged])
                for entry in by_class:
                    scalars[entry.name] = values[entry.name]
                    about[entry.name] = {"metric": entry.name, "extractor": self.judge.name, "comparable": False,
                                         "n_fake": judged, "labels": "drawn at the training class frequencies",
                                         "ceiling": self.judge.info["accuracy"],
                                         "ceiling_on": self.judge.info.get("evaluated_on")}
                extras.update(more)
        if self.critic_signal is not None:
            fake = np.concatenate(for_critic)
            values = self.critic_signal(fake, None if labels is None else labels[:len(fake)])
            for entry in self._asked(registry.CRITIC_SIGNAL):
                scalars[entry.name] = values[entry.name]
                about[entry.name] = {"metric": entry.name, "extractor": "critic", "comparable": False,
                                     "n_fake": critic_judged, "n_real": len(self.critic_signal.heldout)}
        for entry in self._asked(registry.PIXEL):
            value, per_level = entry.computation()(self.patch_reference, np.concatenate(for_patches))
            scalars[entry.name] = value
            extras[f"{entry.name}_levels"] = per_level
            about[entry.name] = {"metric": entry.name, "extractor": "pixel patches", "comparable": False,
                                 "n_fake": patch_judged, "n_real": self.patch_reference.count}
        for entry in self._asked(registry.LEARNED):
            scalars[entry.name] = entry.computation()(self.learned, learned_moments.result())
            about[entry.name] = {"metric": entry.name, "extractor": self.learned.extractor.name, "comparable": False,
                                 "n_fake": learned_judged, "n_real": self.learned.reference.count}
        if self.extractor is not None:
            scalars_more, about_more = self._feature_metrics(moments, rows, scores)
            scalars.update(scalars_more)
            about.update(about_more)
        return Evaluation(scalars, extras, about)

    def _feature_metrics(self, moments, rows, scores):
        label, comparable = self.extractor.label, self.extractor.comparable
        scalars, about = {}, {}

        def put(metric, score):
            n_real, n_fake = score.n_real, score.n_fake or self.num
            split = self.reference_split if n_real != "stats" else "train"
            name = series_name(metric, label, n_fake, n_real, split)
            scalars[name] = score.value
            about[name] = {"metric": metric, "extractor": label, "features": self.extractor.name,
                           "comparable": comparable, "n_fake": n_fake, "n_real": n_real}
            if n_real is not None and n_real != "stats":
                about[name]["reference_split"] = split
            if n_real == "stats":
                about[name]["reference"] = self.reference_stats
            if score.spread is not None:
                spread = registry.spread_name(metric)
                std = series_name(spread, label, n_fake, n_real, split)
                scalars[std] = score.spread
                about[std] = {**about[name], "metric": spread}

        data = registry.FeatureData(self.num, self.seed, rows=np.concatenate(rows), scores=scores,
                                    reference=self.reference, imported=self.imported)
        if registry.MOMENTS in self.needs:
            data.moments = self.generated_stats = moments.result()
        for entry in self._asked(registry.FEATURE):
            put(entry.name, entry.computation()(data))
        return scalars, about


def make_evaluator(hp, records_root, metrics=None, num=None, seed=0, extractor=extractors.DEFAULT_EXTRACTOR,
                   inception_weights=None, reference_images=REFERENCE_IMAGES, reference_split="train",
                   inception_graph=None, download=True, reference_stats=None, final=False):
    """An ``Evaluator`` for ``hp``'s data; None when no metric applies (other images, no extractor).

    ``metrics``: names, or None for ``default_metrics``; ``num``: samples (default 2,000 toy
    points; for images 1,000, or with ``final`` and a feature metric ``FINAL_IMAGES``);
    ``extractor``: a registry name (``wgan.metrics.extractors.EXTRACTORS``) for the feature metrics,
    built with ``inception_weights`` (keras_inception), ``inception_graph`` and ``download``
    (the 2015 graphs); ``reference_images``: real images behind the statistics (None: all);
    ``reference_split``: the records behind the fid/kid statistics, ``train`` or ``test``
    (sources with a test split; built on first use like the training records).
    """
    if metrics is None:
        configured = extractors.extractor_entry(extractor).configured(inception_weights, inception_graph, final)
        metrics = default_metrics(hp, configured, extractor, records_root)
        if not metrics and final and not hp.data.is_toy:
            metrics = available_metrics(hp, extractor, records_root=records_root)  # other images: the papers' metrics, fetching the graph if need be
    metrics = tuple(metrics)
    if not metrics:
        return None
    folder = None if hp.data.is_toy else inputs.records_folder(hp, records_root)
    needs = registry.needs_of(metrics)
    test_folder = inputs.test_records_folder(hp, records_root) if registry.LABELS in needs else None
    features = None
    if registry.EXTRACTOR in needs:
        features = extractors.make_extractor(extractor, inception_weights, inception_graph, download)
    if not num:
        feature = final and registry.EXTRACTOR in needs
        num = TOY_SAMPLES if hp.data.is_toy else FINAL_IMAGES if feature else IMAGE_SAMPLES
    reference_folder = None
    if features is not None and reference_split != "train":
        reference_folder = inputs.records_folder(hp, records_root, split=reference_split)
    return Evaluator(hp, metrics, num, seed, folder, features, reference_images, test_folder, reference_folder,
                     reference_stats, reference_split)


def reference_statistics(hp, records_root, extractor=extractors.DEFAULT_EXTRACTOR, reference_images=None,
                         compare_with=None, **options):
    """The records' reference statistics alone (no run): (extractor, Reference, FID to ``compare_with`` or None).

    ``compare_with``: a TTUR-format ``.npz``; the FID between the two sets of statistics is
    about 0 when this toolkit reproduces the file's statistics (the check of docs/quality.md).
    ``options``: ``inception_weights``, ``inception_graph``, ``download`` for ``make_extractor``.
    """
    if hp.data.is_toy:
        raise ConfigError(f"{hp.data.name} is a toy set of points: it has no image statistics")
    built = extractors.make_extractor(extractor, **options)
    stats = reference.reference_stats(inputs.records_folder(hp, records_root), built, reference_images)
    distance = None
    if compare_with:
        distance = frechet_distance(stats.mu, stats.sigma, *reference.load_ttur_stats(compare_with, stats.mu.shape[0]))
    return built, stats, distance


def for_training(hp, records_root, critic=None):
    """The evaluator a training with ``eval_every`` > 0 uses, or None (logged once) when nothing applies.

    Image data without a classifier gets FID/KID (and IS with the 2015 graph) only when an
    extractor is available without a download (``extractors.configured_extractor``): the
    2015 Inception graph in ``$WGAN_INCEPTION_GRAPH`` or the cache, else Keras' InceptionV3
    weights in ``$WGAN_INCEPTION_WEIGHTS`` or Keras' cache. Without either it is judged by
    ``ffid`` in features learned from its own images (the best snapshot follows it), ``swd``
    against its training images, and ``critic`` (the run's critic, a Keras model) on the
    records' held-out images (``wgan.metrics.critic_signal``): ``_own_images_evaluator``.
    One line says what judges the run.
    """
    if not hp.eval_every:
        return None
    configured = None if hp.data.is_toy else extractors.configured_extractor()
    try:
        if configured is None:
            evaluator = make_evaluator(hp, records_root, metrics=default_metrics(hp, extractor_configured=False,
                                                                                records_root=records_root))
        else:
            name, options = configured
            evaluator = make_evaluator(hp, records_root, extractor=name, **options)
    except DataError as err:
        if not sources.is_folder_path(hp.data.name):
            raise  # a named source's classifier must reach its recipe's accuracy (docs/quality.md)
        # A user's classes may not be learnable by the small classifier: the critic judges instead.
        logging.warning("%s; the classifier's metrics are off", err)
        evaluator = None
    if evaluator is None and not hp.data.is_toy:
        evaluator = _own_images_evaluator(hp, records_root, critic)
    if evaluator is None:
        logging.info("eval_every=%d: no metric for %s without the Inception graph (set $%s to %s) or Keras' "
                     "InceptionV3 weights ($%s), no class subfolders for a classifier of its own, images too small "
                     "for patch statistics and no held-out images for the critic; skipping evaluation", hp.eval_every,
                     hp.data.name, "WGAN_INCEPTION_GRAPH", "classify_image_graph_def.pb", extractors.WEIGHTS_ENV)
    else:
        primary = registry.primary_metric(evaluator.metrics)
        best = (f"the best snapshot follows {primary}" if primary else
                "no best snapshot: these do not rank a run's late checkpoints (docs/own-data.md), so use the newest "
                "checkpoint")
        logging.info("judged by %s every %d steps (%s; %s)", ", ".join(evaluator.metrics), hp.eval_every,
                     _judge_of(evaluator), best)
    return evaluator


def prepare_for_training(hp, records_root):
    """Train and cache now what the first training evaluation of ``hp`` would (the classifier of labelled
    records and its statistics, or an unlabelled folder's learned features and theirs), so that a time
    budget planned after this counts it. Nothing for toy data, a run without evaluation, or where an
    Inception extractor judges. Errors are left to the run's own evaluator, which says them once.
    """
    if not hp.eval_every or hp.data.is_toy or extractors.configured_extractor() is not None:
        return
    try:
        if classifier.judges(hp, records_root):
            make_evaluator(hp, records_root, metrics=default_metrics(hp, extractor_configured=False,
                                                                     records_root=records_root))
        else:
            folder_features.LearnedJudge(inputs.records_folder(hp, records_root, build_missing=False))
    except DataError:
        pass


def _own_images_evaluator(hp, records_root, critic):
    """The evaluator of image data that neither a classifier nor an extractor judges, or None when nothing can.

    ``ffid`` in features learned from the training records, when there are ``folder_features.MIN_IMAGES``
    and the network learns their rotations (else one warning says why not); ``swd`` (the pixel group)
    against the training records, when their images are at least a patch wide; the critic group's
    metrics with ``critic`` on the records' held-out images, when there are some.
    """
    try:
        records_folder = inputs.records_folder(hp, records_root, build_missing=False)
    except DataError as err:  # a training run has built them; a bare check may not have
        logging.warning("no evaluation: %s", err)
        return None
    metrics = registry.names(group=registry.PIXEL) if hp.data.resize >= swd.PATCH else ()
    signal = _critic_signal(hp, records_root, critic) if critic is not None else None
    if signal is not None:
        metrics += tuple(n for n in registry.metrics_for(registry.IMAGE_DATA, critic=True)
                         if registry.get(n).group == registry.CRITIC_SIGNAL)
    learned = registry.names(group=registry.LEARNED)
    try:
        return Evaluator(hp, learned + metrics, IMAGE_SAMPLES, records_folder=records_folder, critic_signal=signal)
    except DataError as err:  # too few images, or no up and down to learn: judged without it
        logging.warning("%s; no learned-feature FID, so no best snapshot", err)
    if not metrics:
        return None
    return Evaluator(hp, metrics, IMAGE_SAMPLES, records_folder=records_folder, critic_signal=signal)


def _critic_signal(hp, records_root, critic):
    """A ``critic_signal.CriticSignal`` of ``critic`` on the records' held-out images, or None without them."""
    folder, why = inputs.heldout_records(hp, records_root)
    if folder is None:
        logging.warning("no critic signal: %s", why)
        return None
    heldout_labels = None
    if models.takes_labels(hp):  # a conditional critic scores real images with their own labels
        heldout, heldout_labels = reference.read_images(folder, limit=critic_signal.MAX_HELDOUT, with_labels=True)
        heldout_labels = heldout_labels.astype(np.int32)
    else:
        heldout = reference.read_images(folder, limit=critic_signal.MAX_HELDOUT)
    if len(heldout) < 2:
        return None
    return critic_signal.CriticSignal(critic, uint8_to_float(heldout), heldout_labels)


def _judge_of(evaluator):
    """What computes an evaluator's numbers, in words."""
    judge = getattr(evaluator, "judge", None)
    if judge is not None:
        info = judge.info
        return (f"a classifier trained on the labelled records, {info['accuracy']:.1%} accurate on "
                f"{info['evaluated_on']}")
    if evaluator.extractor is not None:
        return f"{evaluator.extractor.label} features"
    if evaluator.learned is not None or evaluator.patch_reference is not None or evaluator.critic_signal is not None:
        judges = []
        if evaluator.learned is not None:
            info = evaluator.learned.info
            judges.append(f"features a network learned from the training images (it names {info['accuracy']:.0%} of "
                          "held-out rotations right)")
        if evaluator.patch_reference is not None:
            judges.append(f"patch statistics against {evaluator.patch_reference.count:,} training images")
        if evaluator.critic_signal is not None:
            judges.append(f"the run's own critic on {len(evaluator.critic_signal.heldout):,} held-out images")
        return (f"{', '.join(judges[:-1])}{' and ' if len(judges) > 1 else ''}{judges[-1]}: no class subfolders "
                "for a classifier and no Inception graph on this machine")
    return "the toy metrics"


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
    if evaluation.about:
        record["eval/about"] = evaluation.about
    runs.append_jsonl(os.path.join(vdir, runs.METRICS_FILE), record)


def evaluate_in_training(evaluator, generator, writer, vdir, step, epoch):
    """Evaluate, log (TensorBoard, metrics.jsonl, one log line) and return the scalars."""
    evaluation = evaluator(generator)
    log_evaluation(writer, vdir, step, epoch, evaluation)
    logging.info("eval step %d: %s", step, evaluation.describe())
    return evaluation.scalars
