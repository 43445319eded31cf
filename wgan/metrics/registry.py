"""The metric registry: one entry per metric, the only table of metric names in the toolkit.

Each ``Metric`` says what the rest of the toolkit needs to know about a metric without
computing it: its group, which way is better, whether (and before which others) it is a
run's primary metric, what it needs, whether it has a spread series, how its series is
named, and how tables show it. ``wgan.metrics.evaluation`` computes what the registry lists,
``wgan.train.health`` and ``wgan.generate`` pick the best snapshot by ``primary_metric`` and
``is_better``, ``bin/evaluate.py`` builds its ``--metrics`` choices from it and
``wgan.lab.study`` its table columns.

No TensorFlow (nor anything else heavy) is imported here: ``--help`` texts and the run
listing read the registry cheaply.

Adding a metric of features (the ``feature`` group) takes one function and one line here:
the function ``compute(data: FeatureData) -> Score`` in its own module, named in
``Metric.compute`` as ``"module:function"`` and imported only when the metric is computed;
the evaluator gathers what ``Metric.needs`` asks for (moments, feature rows, class
probabilities, a reference). The toy and classifier groups are computed a group at a time
(``wgan.metrics.toy``, ``wgan.metrics.classifier``), as is the class-agreement group of
class-conditional runs (``wgan.metrics.class_agreement``), which their entries name too.

Primary metrics, in order (the first one present in an evaluation is the primary one):
``fid`` (images scored with a feature extractor, under its plain name), ``cfid`` (labelled
images: digits, mnist, fashion_mnist, class folders), ``ffid`` (the FID in features learned from
an unlabelled folder's own images, where neither of those is at hand: ``wgan.metrics.folder_features``),
``w1`` (toy points). The pixel group's
``swd`` is not primary either: it tracks a run's progress, but among its late checkpoints its
differences are within its noise (measured in docs/own-data.md). Stored names
match by their base metric, so a series such as ``fid_inception2015_n1k_r10k`` is a run's
primary ``fid``. The critic group (``wgan.metrics.critic_signal``) is never primary: each
evaluation's critic is another one, so its values do not rank a run's snapshots (measured in
docs/own-data.md).
"""

import dataclasses
import importlib
import re

from wgan.errors import ConfigError

# Groups (``Metric.group``), in the order the registry lists them.
TOY_MODES = "toy modes"  # toy sets with known modes (8gaussians, 25gaussians), computed together
TOY_DISTANCE = "toy distance"  # any toy set, against a real sample of points
CLASSIFIER = "classifier"  # labelled images, by the source's own classifier (computed together)
FEATURE = "feature"  # any images, in the features of an extractor (wgan.metrics.extractors)
CRITIC_SIGNAL = "critic"  # any images with held-out ones, by the run's own critic (training only)
CLASS_AGREEMENT = "class agreement"  # a class-conditional run on labelled images, by the classifier (together)
PIXEL = "pixel"  # any images, against the records' real images in pixel patches (no weights: wgan.metrics.swd)
LEARNED = "learned"  # any images, in features a small network learned from the records' own images
GROUPS = (TOY_MODES, TOY_DISTANCE, CLASSIFIER, FEATURE, CRITIC_SIGNAL, CLASS_AGREEMENT, PIXEL, LEARNED)

# What a metric needs (``Metric.needs``).
POINTS = "points"  # generated toy points
MODES = "modes"  # a toy set whose modes are known
REAL_POINTS = "real points"  # a real toy sample as large as the generated one
IMAGES = "images"  # generated images
LABELS = "labels"  # labelled records and the classifier trained on them
EXTRACTOR = "extractor"  # a feature extractor
MOMENTS = "moments"  # mean and covariance of generated features, and the reference's (or a statistics file)
ROWS = "rows"  # generated feature rows and the reference's kept real rows (reference.KID_FEATURES)
PROBABILITIES = "probabilities"  # an extractor that also gives class probabilities (the 2015 graph)
CRITIC = "critic"  # the run's critic and held-out real images (a training run's evaluator has both)
CLASS_LABELS = "class labels"  # a class-conditional generator: samples generated for known labels
REAL_IMAGES = "real images"  # the records' own images (any image data)
LEARNED_FEATURES = "learned features"  # a network fitted once on the records' own images (wgan.metrics.folder_features)

# Data kinds (``metrics_for``), and what each offers before the labels and the extractor are known.
TOY_POINTS = "toy points"  # a toy set without modes (swissroll)
TOY_WITH_MODES = "toy points with modes"
IMAGE_DATA = "images"
DATA_KINDS = {TOY_POINTS: frozenset({POINTS, REAL_POINTS}), TOY_WITH_MODES: frozenset({POINTS, REAL_POINTS, MODES}),
              IMAGE_DATA: frozenset({IMAGES, EXTRACTOR, MOMENTS, ROWS, REAL_IMAGES, LEARNED_FEATURES})}


@dataclasses.dataclass(frozen=True)
class Metric:
    """One metric.

    Attributes:
        name: as in ``--metrics``, metrics.jsonl (``eval/<name>``) and TensorBoard.
        group: one of ``GROUPS``.
        higher_is_better: which way is better (best snapshot, ``stalled``, tables).
        needs: a frozenset of the needs above.
        title: its name in tables and messages.
        digits: decimals of one run's value in tables; ``mean_digits``: of a mean over runs (default ``digits``).
        primary: its rank among the primary metrics (1 first), None when it is never primary.
        by_default: computed without ``--metrics`` when its data allow (else only when asked for).
        spread: it also gives a standard deviation, stored as the series ``<name>_std``.
        series: stored under ``series_name`` (extractor and sample counts in the name), not ``name``.
        min_samples: generated samples it needs at least, and why (``min_samples_why``).
        covers: the unit it counts covered (``modes``, ``classes``; ``mode_collapse`` watches it).
        quality_of: the unit whose samples it says look like data (the share ``mode_collapse`` reads).
        compute: ``"module:function"`` of the computation (feature metrics: ``function(FeatureData) -> Score``;
            the toy and classifier groups name the function computing the whole group).
        about: one line for help texts.
    """

    name: str
    group: str
    higher_is_better: bool
    needs: frozenset
    title: str
    digits: int = 3
    mean_digits: int | None = None
    primary: int | None = None
    by_default: bool = True
    spread: bool = False
    series: bool = False
    min_samples: int = 2
    min_samples_why: str = ""
    covers: str | None = None
    quality_of: str | None = None
    compute: str | None = None
    about: str = ""

    def computation(self):
        """The function ``compute`` names, imported now."""
        module, path = self.compute.split(":")
        found = importlib.import_module(module)
        for part in path.split("."):  # "Class.method" names a method (unbound)
            found = getattr(found, part)
        return found

    @property
    def table_digits(self):
        return self.digits if self.mean_digits is None else self.mean_digits


@dataclasses.dataclass
class FeatureData:
    """What a feature metric is computed from (filled by the evaluator as the metrics' ``needs`` ask).

    ``moments``: (mu [D], sigma [D, D]) of the generated features; ``rows``: the first
    generated feature rows [<= reference.KID_FEATURES, D]; ``scores``: an
    ``inception_score.ScoreAccumulator`` of the generated class probabilities;
    ``reference``: the real side (``reference.Reference``: mu, sigma, count, features
    [<= KID_FEATURES, D]); ``imported``: (mu, sigma) of a statistics file that replaces the
    reference's moments; ``num``: generated samples; ``seed``: the evaluation's seed.
    """

    num: int
    seed: int = 0
    moments: tuple | None = None
    rows: object = None
    scores: object = None
    reference: object = None
    imported: tuple | None = None


@dataclasses.dataclass
class Score:
    """A feature metric's result: ``value``, its ``spread`` (or None), and the sample counts behind it.

    ``n_fake``: generated samples used (None: all of the evaluation's); ``n_real``: real
    samples (a count, ``"stats"`` for an imported statistics file, None when there is no real side).
    """

    value: float
    spread: float | None = None
    n_real: object = None
    n_fake: int | None = None


_IMAGE_FEATURES = frozenset({IMAGES, EXTRACTOR})
_REGISTRY = {}


def register(metric):
    """Adds ``metric`` to the registry (its name must be new); returns it."""
    if metric.name in _REGISTRY:
        raise ValueError(f"metric {metric.name!r} is registered twice")
    if metric.group not in GROUPS:
        raise ValueError(f"metric {metric.name!r}: group {metric.group!r} is not one of {', '.join(GROUPS)}")
    _REGISTRY[metric.name] = metric
    return metric


# ----- the metrics, one line each ---------------------------------------------------------
register(Metric("modes", TOY_MODES, True, frozenset({POINTS, MODES}), "modes covered", digits=0, mean_digits=1,
                covers="modes", compute="wgan.metrics.toy:mode_metrics", about="modes covered"))
register(Metric("hq", TOY_MODES, True, frozenset({POINTS, MODES}), "high-quality share", quality_of="modes",
                compute="wgan.metrics.toy:mode_metrics", about="share of points within 3 std of a mode"))
register(Metric("w1", TOY_DISTANCE, False, frozenset({POINTS, REAL_POINTS}), "W1 to real", primary=4,
                compute="wgan.metrics.toy:wasserstein1", about="exact Wasserstein-1 to real points"))
register(Metric("cfid", CLASSIFIER, False, frozenset({IMAGES, LABELS}), "classifier FID", digits=1, primary=2,
                compute="wgan.metrics.classifier:ClassifierJudge.evaluate", about="FID in classifier features"))
register(Metric("classes", CLASSIFIER, True, frozenset({IMAGES, LABELS}), "classes ≥ 2.5%", digits=0,
                mean_digits=1, covers="classes", compute="wgan.metrics.classifier:ClassifierJudge.evaluate",
                about="classes with at least 2.5% of the samples"))
register(Metric("confident", CLASSIFIER, True, frozenset({IMAGES, LABELS}), "confident share",
                quality_of="classes", compute="wgan.metrics.classifier:ClassifierJudge.evaluate",
                about="share classified with probability >= 0.9"))
register(Metric("agreement", CLASS_AGREEMENT, True, frozenset({IMAGES, LABELS, CLASS_LABELS}), "class agreement",
                compute="wgan.metrics.class_agreement:class_metrics",
                about="share of samples the classifier puts in the class they were generated for (ceiling: "
                      "its accuracy on real images)"))
register(Metric("icfid", CLASS_AGREEMENT, False, frozenset({IMAGES, LABELS, CLASS_LABELS}), "intra-class cFID",
                digits=1, compute="wgan.metrics.class_agreement:class_metrics",
                about="classifier FID of each class's samples against that class's real images, averaged"))
register(Metric("fid", FEATURE, False, _IMAGE_FEATURES | {MOMENTS}, "FID", digits=2, primary=1, series=True,
                compute="wgan.metrics.frechet:fid_score", about="Fréchet Inception Distance"))
register(Metric("kid", FEATURE, False, _IMAGE_FEATURES | {ROWS}, "KID", digits=4, spread=True, series=True,
                compute="wgan.metrics.kid:kid_score", about="Kernel Inception Distance"))
register(Metric("is", FEATURE, True, _IMAGE_FEATURES | {PROBABILITIES}, "Inception Score", digits=2, spread=True,
                series=True, min_samples=10, min_samples_why="10 splits",
                compute="wgan.metrics.inception_score:is_score", about="Inception Score"))
register(Metric("precision", FEATURE, True, _IMAGE_FEATURES | {ROWS}, "precision (k-NN)", by_default=False,
                series=True, compute="wgan.metrics.precision_recall:precision_score",
                about="share of generated samples inside the real k-NN manifold"))
register(Metric("recall", FEATURE, True, _IMAGE_FEATURES | {ROWS}, "recall (k-NN)", by_default=False,
                series=True, compute="wgan.metrics.precision_recall:recall_score",
                about="share of real samples inside the generated k-NN manifold"))
register(Metric("w_heldout", CRITIC_SIGNAL, False, frozenset({IMAGES, CRITIC}), "held-out critic W",
                compute="wgan.metrics.critic_signal:CriticSignal",
                about="the critic's Wasserstein estimate between held-out images and samples"))
register(Metric("spread", CRITIC_SIGNAL, True, frozenset({IMAGES, CRITIC}), "pixel spread ratio",
                compute="wgan.metrics.critic_signal:CriticSignal",
                about="the samples' pixel variance over the held-out images' (1: as varied)"))
register(Metric("swd", PIXEL, False, frozenset({IMAGES, REAL_IMAGES}), "patch SWD", digits=1,
                by_default=False, compute="wgan.metrics.swd:PatchReference.distance",
                about="sliced Wasserstein distance of 7x7 patches at each Laplacian level against the records' "
                      "images (x1,000)"))
register(Metric("ffid", LEARNED, False, frozenset({IMAGES, LEARNED_FEATURES}), "learned-feature FID", digits=2,
                primary=3, by_default=False, compute="wgan.metrics.folder_features:LearnedJudge.distance",
                about="FID in the features of a network that learned the rotations of the records' own images"))


# ----- look-ups ---------------------------------------------------------------------------
def names(group=None, by_default=None, needs=None):
    """Registered names in registry order, optionally only of ``group``, of ``by_default`` (True/False),
    or needing ``needs`` (one need)."""
    return tuple(m.name for m in _REGISTRY.values()
                 if (group is None or m.group == group) and (by_default is None or m.by_default == by_default)
                 and (needs is None or needs in m.needs))


def find(name):
    """The ``Metric`` called ``name``, or None."""
    return _REGISTRY.get(name)


def get(name):
    """The ``Metric`` called ``name``; a ConfigError listing the valid names for an unknown one."""
    metric = _REGISTRY.get(name)
    if metric is None:
        raise ConfigError(f"unknown metric {name!r}; the metrics are {', '.join(_REGISTRY)}")
    return metric


def needs_of(metric_names):
    """The union of the needs of ``metric_names`` (a frozenset)."""
    return frozenset().union(*(get(n).needs for n in metric_names))


def metrics_for(kind, labelled=False, probabilities=False, asked=False, critic=False, conditional=False):
    """The metrics that data of ``kind`` can give, in registry order.

    ``kind``: ``TOY_POINTS`` (a toy set without modes, swissroll), ``TOY_WITH_MODES`` or
    ``IMAGE_DATA``; ``labelled``: image data with a classifier (``LABELS``);
    ``probabilities``: the extractor gives class probabilities; ``asked``: also the metrics
    computed only on request (``by_default`` False); ``critic``: image data evaluated during
    training, where the run's critic and held-out images are at hand (``CRITIC``); ``conditional``:
    labelled image data of a class-conditional run (``CLASS_LABELS``).
    """
    if kind not in DATA_KINDS:
        raise ValueError(f"data kind {kind!r}: choose from {', '.join(DATA_KINDS)}")
    offers = DATA_KINDS[kind] | ({LABELS} if labelled and kind == IMAGE_DATA else set())
    offers |= {PROBABILITIES} if probabilities and kind == IMAGE_DATA else set()
    offers |= {CRITIC} if critic and kind == IMAGE_DATA else set()
    offers |= {CLASS_LABELS} if conditional and labelled and kind == IMAGE_DATA else set()
    return tuple(m.name for m in _REGISTRY.values() if m.needs <= offers and (asked or m.by_default))


def coverage(unit):
    """The name of the metric counting the covered ``unit`` (``modes``, ``classes``)."""
    return next(m.name for m in _REGISTRY.values() if m.covers == unit)


def quality(unit):
    """The name of the metric giving the share of samples of ``unit`` that look like data."""
    return next(m.name for m in _REGISTRY.values() if m.quality_of == unit)


def coverage_units():
    """The units counted by coverage metrics, in registry order (``modes``, ``classes``)."""
    return tuple(m.covers for m in _REGISTRY.values() if m.covers)


# ----- series names -----------------------------------------------------------------------
def _count(n):
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def series_name(metric, extractor_label, n_fake, n_real=None, split="train"):
    """``fid_inception2015_n50k_r50k``: metric, extractor, generated count and (when there is one) real count.

    ``n_real`` is a count or ``"stats"`` (an imported statistics file of unknown count); real
    images of the test split are marked ``rtest`` (``fid_inception2015_n10k_rtest10k``).
    """
    name = f"{metric}_{extractor_label}_n{_count(n_fake)}"
    if n_real is not None:
        name += f"_r{'test' if split == 'test' else ''}{n_real if isinstance(n_real, str) else _count(n_real)}"
    return name


def spread_name(metric):
    """The name of ``metric``'s spread series: ``kid`` -> ``kid_std``."""
    return f"{metric}_std"


def _series_pattern():
    stems = [m.name for m in _REGISTRY.values() if m.series]
    stems += [spread_name(m.name) for m in _REGISTRY.values() if m.series and m.spread]
    # Longest first, so that kid_std is not read as kid with an extractor called std_...
    alternatives = "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True))
    return re.compile(rf"^({alternatives})_([a-z0-9_]+?)_n(\d+k?)(?:_r(test)?(\d+k?|stats))?$")


_SERIES = _series_pattern()


def base_metric(name):
    """The metric a stored name measures: ``fid_inception2015_n1k_r10k`` -> ``fid``; ``cfid`` -> ``cfid``;
    ``kid_std_inception2015_n1k_r10k`` -> ``kid_std``."""
    match = _SERIES.match(name)
    return match.group(1) if match else name


# ----- the best snapshot --------------------------------------------------------------------
def primary_metrics():
    """The primary metrics, first first (``fid``, ``cfid``, ``ffid``, ``w1``)."""
    return tuple(m.name for m in sorted((m for m in _REGISTRY.values() if m.primary is not None),
                                        key=lambda m: m.primary))


def primary_metric(scalars):
    """The key of ``scalars`` holding its primary metric, or None: the first of ``primary_metrics``
    among the keys' base metrics (``fid_inception2015_n1k_r10k`` counts as ``fid``)."""
    bases = {}
    for key in scalars:
        bases.setdefault(base_metric(key), key)
    return next((bases[name] for name in primary_metrics() if name in bases), None)


def higher_is_better(name):
    """Whether higher values of metric ``name`` (a registered name or a series of one) are better."""
    return get(base_metric(name)).higher_is_better


def is_better(name, value, than):
    """Whether ``value`` of metric ``name`` beats ``than`` (None: anything does)."""
    if than is None:
        return True
    return value > than if higher_is_better(name) else value < than
