"""Training health: say while a run trains that it is failing, how, and which snapshot was best.

Four detectors (names as in ``health.jsonl``, TensorBoard and docs/health.md), each with the
threshold of ``hp.health`` it compares against:

* ``critic_overfit``: the critic scores its training images higher than held-out real
  images it never saw (WGAN-GP paper, section 5.3, Figure 4b). With W_train = E[D(train)] -
  E[D(fake)] and W_heldout = E[D(heldout)] - E[D(fake)] on the same fakes, it trips when
  (W_train - W_heldout) / |W_train| > ``overfit_gap`` and the gap exceeds
  ``overfit_sigmas`` standard errors, for ``patience`` evaluations in a row.
* ``mode_collapse``: the generated samples' spread (trace of their covariance in the
  evaluation features: classifier features for labelled digits, the points for toy data,
  pixels otherwise), as a ratio to the real spread, falls below ``collapse_spread`` times
  its peak over the run's earlier evaluations, or, once every
  class (toy: mode) has been covered at some evaluation, a share of at least
  ``collapse_lost`` of them is lost, for ``patience`` evaluations in a row. A class is lost
  when under its minimum share of the samples is classified as it; a toy mode when it is
  not covered by sharp points, or, while the samples are blurry (a high-quality share under
  ``collapse_quality``), when under 1 / (4 K) of the probe's points have it as their
  nearest mode (blur spread over every mode loses none).
* ``stalled``: the primary metric (``registry.primary_metrics()``) has not improved by
  ``stall_delta`` (relative) for ``stall_patience`` evaluations while it is still worse
  than ``stall_far`` times real data's own score (the metric of real images).
* ``diverging``: |Wasserstein estimate| or the gradient penalty, as logged every
  ``log_every`` steps, above ``diverge_factor`` times its median over the first
  ``diverge_baseline`` logged steps, for ``diverge_patience`` logged steps in a row.

A trip prints one line (what, since which step, the numbers, what to try, the best
snapshot), appends one JSON line to the run's health.jsonl and shows as TensorBoard
``health/<detector>`` = 1; a detector whose condition no longer holds writes a ``clear``
line. The measured signals go to TensorBoard under ``health/``. ``Monitor`` also keeps the
run's best checkpoint (``best/``, ``best.json``; ``-v N.best``).

Cost per evaluation: one generator pass over ``samples`` latents and one critic pass over
at most 3 x ``samples`` images (and a classifier pass for digits); see docs/health.md.
"""

import functools
import math
import os
import statistics
import sys
import time

import numpy as np
import tensorflow as tf

from wgan import models, runs, visualize
from wgan.gan import augment
from wgan.metrics import critic_signal, registry
from wgan.data import inputs
from wgan.train import summaries
from wgan.data import float_to_uint8, toy_modes, toy_sample, uint8_to_float
from wgan.metrics import reference
from wgan.metrics.toy import has_modes, modes_reached
from wgan.models.prior import latent

# Latents and real toy points of the probes come from their own fixed seeds, apart from the evaluator's.
PROBE_SEED = 7919


class Detector:
    """One failure mode: ``check`` returns (condition holds, values, threshold) for one update."""

    name = ""
    advice = ""
    # The health config field that says in how many consecutive updates the condition must hold
    # before the detector trips; None: at the first.
    patience_field = None

    def __init__(self, cfg):
        self.cfg = cfg
        self.patience = getattr(cfg, self.patience_field) if self.patience_field else 1

    def advice_for(self, hp):
        """What to try, in words, for the run of ``hp``."""
        return self.advice

    def describe(self, values):
        """The numbers of a trip, in words."""
        return ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())


class CriticOverfit(Detector):
    name = "critic_overfit"
    advice = "try more data, fewer critic steps (n_critic), a weaker critic or an earlier snapshot"
    patience_field = "patience"
    # The first thing to try when the run does not augment (docs/augment.md).
    augment_advice = "try adaptive augmentation first (--set augment.policy=color,translation,cutout --set augment.adaptive=true)"

    def advice_for(self, hp):
        if augment.active(hp):
            return self.advice
        return f"{self.augment_advice}, then {self.advice[len('try '):]}"

    def check(self, signals):
        if "wasserstein_heldout" not in signals:
            return None
        w_train, gap, se = signals["wasserstein_train"], signals["gap"], signals["gap_se"]
        ratio = signals["gap_ratio"]
        holds = w_train > 0 and ratio > self.cfg.overfit_gap and gap > self.cfg.overfit_sigmas * se
        values = {"wasserstein_train": w_train, "wasserstein_heldout": signals["wasserstein_heldout"],
                  "gap_ratio": ratio, "gap_sigmas": gap / se if se > 0 else math.inf, "images": signals["images"]}
        return holds, values, {"gap_ratio": self.cfg.overfit_gap, "gap_sigmas": self.cfg.overfit_sigmas}

    def describe(self, values):
        return (f"held-out W {values['wasserstein_heldout']:.4g} vs training W {values['wasserstein_train']:.4g} "
                f"on {values['images']} images each (gap {values['gap_ratio']:.0%} of training W, "
                f"{values['gap_sigmas']:.1f} standard errors)")


class ModeCollapse(Detector):
    name = "mode_collapse"
    advice = "try a lower generator learning rate, more critic steps, wgan-gp, or an earlier snapshot"
    patience_field = "patience"

    def check(self, signals):
        if "spread_ratio" not in signals:
            return None
        values = {"spread_ratio": signals["spread_ratio"], "peak_spread_ratio": signals["peak_spread_ratio"],
                  "space": signals["space"]}
        threshold = {"fall_from_peak": self.cfg.collapse_spread}
        # Against the run's own peak, not the real spread alone: an untrained generator's samples
        # also spread little (0.01 x real at step 100 of the digits quick start, rising after).
        holds = signals["spread_ratio"] < self.cfg.collapse_spread * signals["peak_spread_ratio"]
        values["spread_fell"] = holds  # so the console line says which of the two signs tripped
        if "covered" in signals:
            missing = signals["total"] - signals["covered"]
            values.update(covered=signals["covered"], of=signals["total"], missing=missing, unit=signals["unit"],
                          quality=signals.get("quality"))
            if "reached" in signals:
                values["reached"] = signals["reached"]
                # Toy modes, while the samples are blurry: few sharp points say how sharp the samples
                # are, not which modes the generator reaches, so a mode is lost only when few points are
                # even nearest to it. An 8gaussians WGAN-GP run (study seed 4) blurred over the whole
                # ring at 1.08 x the real spread: 1 to 2 modes covered at high-quality shares of 0.18
                # and 0.12, all 8 reached, and 8 covered again at 2,500. Sharp samples keep the count
                # of covered modes: the 8gaussians DCGAN (seed 0) put 0.49 of its points on 2 modes
                # and blurred the rest over all 8 cells, a collapse that the nearest mode would miss.
                if (signals.get("quality") or 0.0) < self.cfg.collapse_quality:
                    missing = signals["total"] - signals["reached"]
                    values["missing"] = missing
            threshold.update(missing_share=self.cfg.collapse_lost, quality=self.cfg.collapse_quality)
            # Missing classes count once every class (mode) was covered at some evaluation, or
            # once the samples were sharp at one. Blurry early samples fall into classes by chance
            # (a WGAN run went 8 -> 4 -> 7 -> 4 classes at cFID 550-800), but sharp ones from few
            # classes are a collapse that never covered everything (8gaussians DCGAN: 2 of 8
            # modes at a high-quality share of 0.49). The peak, not the current share, so that
            # a collapsed run that turns blurry (1 mode at 0.23) is not declared cleared.
            # But a run that covers more than at any earlier evaluation is spreading, not collapsing
            # (25gaussians WGAN-GP: 15 -> 16 -> 18 -> 24 -> 25 modes at shares 0.38 to 0.76).
            complete = signals["best_covered"] >= signals["total"]
            sharp = signals.get("peak_quality", 0.0) >= self.cfg.collapse_quality
            spreading = signals.get("gaining", False)
            holds = holds or ((complete or (sharp and not spreading)) and missing > 0
                              and missing >= self.cfg.collapse_lost * signals["total"])
        return holds, values, threshold

    def describe(self, values):
        text = f"generated spread ({values['space']}) {values['spread_ratio']:.3g} x the real spread"
        # A trip on lost modes alone leaves the spread near its peak, or above the earlier peak.
        text += (f", down from {values['peak_spread_ratio']:.3g} x at its peak" if values.get("spread_fell")
                 else f" (its peak before: {values['peak_spread_ratio']:.3g} x)")
        if "covered" in values:
            text += f", {values['covered']} of {values['of']} {values['unit']} covered"
            if values["quality"] is not None:
                text += f" at a {registry.get(registry.quality(values['unit'])).title} of {values['quality']:.3g}"
            if "reached" in values:
                text += (f", {values['reached']} of {values['of']} the nearest mode of at least "
                         f"1/{4 * values['of']} of the points")
        return text


class Stalled(Detector):
    name = "stalled"
    advice = "try other learning rates, a different seed, wgan-gp, or stop here and keep the best snapshot"

    def check(self, signals):
        if "metric" not in signals:
            return None
        far = signals["floor"] is None or not registry.is_better(
            signals["metric"], signals["current"], self.cfg.stall_far * signals["floor"])
        holds = signals["evals_since_best"] >= self.cfg.stall_patience and far
        values = {"metric": signals["metric"], "current": signals["current"], "best": signals["best"],
                  "best_step": signals["best_step"], "real_score": signals["floor"],
                  "evals_since_best": signals["evals_since_best"]}
        return holds, values, {"stall_patience": self.cfg.stall_patience, "stall_delta": self.cfg.stall_delta,
                               "stall_far": self.cfg.stall_far}

    def describe(self, values):
        real = f"{values['real_score']:.4g}" if values["real_score"] is not None else "n/a"
        return (f"{values['metric']} {values['current']:.4g}, best {values['best']:.4g} at step {values['best_step']}, "
                f"no gain of {self.cfg.stall_delta:.0%} in {values['evals_since_best']} evaluations "
                f"(real data scores {real})")


class Diverging(Detector):
    name = "diverging"
    advice = "try lower learning rates, a larger gp_lambda or a smaller clip_value, or an earlier snapshot"
    patience_field = "diverge_patience"

    def check(self, signals):
        ratios = {k: v for k, v in signals.items() if k.endswith("_ratio")}
        if not ratios:
            return None
        name = max(ratios, key=ratios.get)
        values = {"signal": name[:-len("_ratio")], "value": signals[name[:-len("_ratio")]],
                  "early_median": signals[name[:-len("_ratio")] + "_baseline"], "ratio": ratios[name]}
        return ratios[name] > self.cfg.diverge_factor, values, {"diverge_factor": self.cfg.diverge_factor}

    def describe(self, values):
        return (f"{values['signal']} {values['value']:.4g} is {values['ratio']:.0f} x its early median "
                f"{values['early_median']:.4g}")


# Evaluated at every evaluation, and at every logged step, respectively.
EVALUATION_DETECTORS = (CriticOverfit, ModeCollapse, Stalled)
LOG_DETECTORS = (Diverging,)
DETECTORS = tuple(d.name for d in EVALUATION_DETECTORS + LOG_DETECTORS)
# The logged scalars ``diverging`` watches (absolute values): offset-free, unlike d_real and d_fake.
DIVERGE_SIGNALS = ("wasserstein", "gradient_penalty")


# The share of samples that look like data, per coverage unit (modes, classes), is the metric
# ``registry.quality(unit)`` names: near a mode (toy: ``hq``) or classified with confidence >= 0.9
# (``confident``). Sharp samples from few classes are a collapse.


# The samples' total variance, and the critic's scores: the same numbers the critic signal reports.
_spread, critic_scores = critic_signal.pixel_spread, critic_signal.critic_scores


class Probe:
    """The real-data side of the evaluation-time signals, prepared once per training.

    ``train`` and ``heldout``: float32 real samples in [-1, 1] (equal counts; heldout None
    without a held-out split); ``real_spread``: the real samples' spread in the features
    ``features`` maps samples to.
    """

    def __init__(self, hp, evaluator, records_root, say):
        cfg = hp.health
        self.hp, self.evaluator = hp, evaluator
        self.z = _latents(hp, cfg.samples)
        # A conditional generator's probe classes, fixed like z; the critic scores real images with their own.
        self.inputs = models.generator_inputs(hp, self.z, seed=PROBE_SEED)
        self.fake_labels = models.input_labels(self.inputs)
        self.heldout = self.train_labels = self.heldout_labels = None
        if hp.data.is_toy:
            self.train = toy_sample(hp.data.name, cfg.samples, np.random.default_rng(PROBE_SEED))
            self.features, self.space = (lambda x: x), "points"
            self.real_spread = _spread(self.train)
            # As many fresh points as the evaluator generates: its metrics depend on the count.
            self.floor_samples = None if evaluator is None else toy_sample(
                hp.data.name, evaluator.num, np.random.default_rng(PROBE_SEED + 1))
            return
        folder = inputs.records_folder(hp, records_root)
        held_folder, why = inputs.heldout_records(hp, records_root)
        # One read serves the critic probe, the pixel spread and real data's own score.
        train, train_labels = _read(hp, folder, max(cfg.samples, evaluator.num if evaluator else 0))
        if held_folder is None:
            say(f"health: critic_overfit is off: {why}")
            self.train = uint8_to_float(train[:cfg.samples])
        else:
            held, self.heldout_labels = _read(hp, held_folder, min(cfg.samples, len(train)))
            self.heldout = uint8_to_float(held)
            self.train = uint8_to_float(train[:len(held)])  # as many as held out: equal standard errors
            self.train_labels = None if train_labels is None else train_labels[:len(held)]
        judge = getattr(evaluator, "judge", None)
        if judge is not None:  # the classifier's features, the space cfid is measured in
            self.features, self.space = (lambda x: judge(float_to_uint8(x))), "classifier features"
            self.real_spread = float(np.trace(judge.sigma))
        else:
            self.features, self.space = (lambda x: x), "pixels"
            self.real_spread = _spread(self.train)
        # Real data's own score: held-out images when there are enough, else training images.
        self.floor_samples = None
        if evaluator is not None:
            enough = self.heldout is not None and len(self.heldout) >= evaluator.num
            self.floor_samples = self.heldout if enough else uint8_to_float(train[:evaluator.num])

    def signals(self, gan):
        """Critic and spread signals of the current networks: {name: float}."""
        fake = visualize.generate(gan.sampling_generator, self.inputs)
        out = {"spread_generated": _spread(self.features(fake)), "spread_real": self.real_spread, "space": self.space}
        out["spread_ratio"] = out["spread_generated"] / max(self.real_spread, 1e-12)
        if self.hp.data.is_toy and has_modes(self.hp.data.name):  # not swissroll
            out["reached"] = modes_reached(fake, self.hp.data.name)
        if self.heldout is not None:
            d_fake = critic_scores(gan.critic, fake, labels=self.fake_labels).mean()
            d_train = critic_scores(gan.critic, self.train, labels=self.train_labels)
            d_held = critic_scores(gan.critic, self.heldout, labels=self.heldout_labels)
            out["wasserstein_train"] = float(d_train.mean() - d_fake)
            out["wasserstein_heldout"] = float(d_held.mean() - d_fake)
            out["gap"] = float(d_train.mean() - d_held.mean())
            out["gap_se"] = float(math.sqrt(d_train.var(ddof=1) / len(d_train) + d_held.var(ddof=1) / len(d_held)))
            out["gap_ratio"] = out["gap"] / max(abs(out["wasserstein_train"]), 1e-12)
            out["images"] = len(d_held)
        return out

    def real_score(self, metric):
        """The primary metric of real samples (the best a generator can hope for), or None."""
        if self.evaluator is None or metric is None or self.floor_samples is None:
            return None
        if len(self.floor_samples) < self.evaluator.num:
            return None  # fewer real images than the evaluator scores: no like-for-like number
        return self.evaluator(_RealSamples(self.floor_samples)).scalars.get(metric)


class _RealSamples:
    """Stands in for a generator: returns real samples in the order outputs are asked for.

    The evaluator then scores real data exactly as it scores a generator (same counts,
    same batching), which is what "real data's own score" has to mean.
    """

    def __init__(self, samples):
        self.samples, self.at = samples, 0

    def __call__(self, inputs, training=False):
        n = models.input_count(inputs)  # z, or [z, labels] for a conditional run
        out = self.samples[self.at:self.at + n]
        self.at += n
        return tf.convert_to_tensor(out)


def _read(hp, folder, limit):
    """``(uint8 images [N, H, W, C], int32 labels [N] or None)``: the first ``limit`` records of
    ``folder``, with their labels when ``hp``'s critic takes them (a class-conditional run)."""
    if not models.takes_labels(hp):
        return reference.read_images(folder, limit=limit), None
    images, labels = reference.read_images(folder, limit=limit, with_labels=True)
    return images, labels.astype(np.int32)


def _latents(hp, n):
    return latent(hp, n, PROBE_SEED)


def _timed(method):
    """Adds the wall time of ``method`` to ``self.seconds``: the detectors' cost (benchmarks/bench_health.py)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started

    return wrapper


class _State:
    """One detector's streak: consecutive updates its condition held, since which step, tripped or not."""

    def __init__(self):
        self.streak, self.since, self.tripped = 0, None, False


class Monitor:
    """The health of one training: fed every logged step and every evaluation by ``wgan.train.loop``.

    Args:
        hp: the run's HParams (``hp.health`` holds the thresholds).
        vdir: the folder this process writes (health.jsonl, best.json, best/).
        gan: the ``GAN`` being trained (its critic and sampling generator are probed; its
            networks are saved as the best snapshot).
        evaluator: the run's ``evaluation.Evaluator`` or None.
        writer: the TensorBoard writer.
        start: the step training resumes from (state is replayed from the run's files up to it).
        say: prints one console line.
    """

    def __init__(self, hp, vdir, gan, evaluator, writer, records_root, start, say=None):
        self.hp, self.cfg, self.vdir, self.gan = hp, hp.health, vdir, gan
        self.scalars = summaries.Scalars(writer, "health")
        self.evaluator = evaluator
        self.say = say or (lambda text: print(text, file=sys.stderr, flush=True))
        # The networks only (no optimizer state): what -v N.best restores, at a third of the bytes.
        networks = {"generator": gan.generator, "critic": gan.critic}
        if gan.ema_generator is not None:
            networks["ema_generator"] = gan.ema_generator
        self.best_manager = tf.train.CheckpointManager(tf.train.Checkpoint(**networks),
                                                       os.path.join(vdir, runs.BEST_DIR), max_to_keep=1,
                                                       checkpoint_name="best")
        self.records_root = records_root
        self.probe = None
        self.last_signals = {}  # the probe's signals at the newest evaluation (adaptive augmentation reads them)
        self.floor, self.floor_known = None, False
        self.detectors = [d(self.cfg) for d in EVALUATION_DETECTORS + LOG_DETECTORS]
        self.states = {d.name: _State() for d in self.detectors}
        self.best = runs.read_best(vdir)
        self.history = []  # (step, primary metric value) of every evaluation
        self.best_covered = 0
        self.peak_quality = 0.0  # highest high-quality (toy) or confident share at any evaluation
        self.peak_spread = 0.0
        self.logged = {name: [] for name in DIVERGE_SIGNALS}
        self.seconds = 0.0  # spent in after_log and after_evaluation
        self._replay(start)

    # ----- resume ---------------------------------------------------------------------
    def _replay(self, start):
        """Rebuild the detectors' memory from metrics.jsonl and health.jsonl up to ``start``."""
        for record in runs.read_jsonl(os.path.join(self.vdir, runs.METRICS_FILE)):
            if record.get("step", 0) > start:
                continue
            scalars = {k[len("eval/"):]: v for k, v in record.items() if k.startswith("eval/")}
            metric = registry.primary_metric(scalars)
            if metric is not None:
                self.history.append((record["step"], scalars[metric]))
                self.best_covered = max(self.best_covered, self._covered(scalars) or 0)
                self.peak_quality = max(self.peak_quality, self._quality(scalars) or 0.0)
            self.peak_spread = max(self.peak_spread, record.get("health/spread_ratio", 0.0))
            for name in DIVERGE_SIGNALS:
                if name in record and len(self.logged[name]) < self.cfg.diverge_baseline:
                    self.logged[name].append(abs(record[name]))
        for record in runs.read_jsonl(os.path.join(self.vdir, runs.HEALTH_FILE)):
            if record.get("step", 0) <= start and record.get("detector") in self.states:
                state = self.states[record["detector"]]
                state.tripped = record.get("event") == "trip"
                state.since = record.get("since")
        if self.best is not None and self.best["step"] > start:
            self.best = None  # a best from beyond the resumed checkpoint (crash after saving it) is stale

    # ----- per logged step --------------------------------------------------------------
    @_timed
    def after_log(self, step, metrics):
        """Feed the scalars logged at ``step`` ({name: float}) to ``diverging``."""
        if not self.cfg.enabled:
            return
        signals = {}
        for name in DIVERGE_SIGNALS:
            if name not in metrics:
                continue
            history = self.logged[name]
            if len(history) < self.cfg.diverge_baseline:
                history.append(abs(metrics[name]))
                continue
            baseline = statistics.median(history)
            if baseline <= 0:  # a model without this term (no penalty): nothing to compare with
                continue
            signals.update({name: abs(metrics[name]), f"{name}_baseline": baseline,
                            f"{name}_ratio": abs(metrics[name]) / baseline})
        if signals:
            states = self._update([d for d in self.detectors if isinstance(d, LOG_DETECTORS)], signals, step)
            # One write a log: each call of the compiled writer costs the host about 0.6 ms.
            self._write_scalars({**{k: v for k, v in signals.items() if k.endswith("_ratio")}, **states}, step)

    # ----- per evaluation ---------------------------------------------------------------
    @_timed
    def after_evaluation(self, step, epoch, scalars):
        """Feed the evaluation of ``step`` (scalars {name: float}) to the detectors; keep the best checkpoint."""
        metric = registry.primary_metric(scalars)
        if metric is not None and registry.is_better(metric, scalars[metric], self._best_value(metric)):
            prefix = self.best_manager.save(checkpoint_number=step)
            runs.write_best(self.vdir, prefix, step, epoch, metric, scalars[metric], registry.higher_is_better(metric))
            self.best = runs.read_best(self.vdir)
        if not self.cfg.enabled:
            return
        if self.probe is None:
            self.probe = Probe(self.hp, self.evaluator, self.records_root, self.say)
        signals = self.probe.signals(self.gan)
        self.last_signals = signals
        signals["peak_spread_ratio"] = self.peak_spread
        self.peak_spread = max(self.peak_spread, signals["spread_ratio"])
        covered = self._covered(scalars)
        if covered is not None:
            signals["gaining"] = covered > self.best_covered  # more than at any earlier evaluation
            self.best_covered = max(self.best_covered, covered)
            quality = self._quality(scalars)
            if quality is not None:
                self.peak_quality = max(self.peak_quality, quality)
                signals.update(quality=quality, peak_quality=self.peak_quality)
            signals.update(covered=covered, best_covered=self.best_covered, total=self._total(), unit=self._unit())
        if metric is not None:
            if not self.floor_known:
                self.floor, self.floor_known = self.probe.real_score(metric), True
            self.history.append((step, scalars[metric]))
            signals.update(self._stall_signals(metric))
        logged = {k: float(v) for k, v in signals.items() if k not in ("best_step", "best_covered", "total",
                                                                       "peak_quality")
                  and isinstance(v, (int, float)) and not isinstance(v, bool)}
        # Also in metrics.jsonl: readable without TensorBoard, and replayed on resume.
        runs.append_jsonl(os.path.join(self.vdir, runs.METRICS_FILE),
                          {"step": step, **{f"health/{k}": v for k, v in logged.items()}})
        states = self._update([d for d in self.detectors if isinstance(d, EVALUATION_DETECTORS)], signals, step)
        self._write_scalars({**logged, **states}, step)

    def _best_value(self, metric):
        return self.best["value"] if self.best is not None and self.best.get("metric") == metric else None

    def _covered(self, scalars):
        """Classes (labelled data) or modes (toy) the samples cover (the first coverage metric present), or None."""
        return next((scalars[name] for name in map(registry.coverage, registry.coverage_units()) if name in scalars),
                    None)

    def _unit(self):
        """What coverage counts: the unit of the toy modes' coverage metric, or of the classifier's."""
        group = registry.TOY_MODES if self.hp.data.is_toy else registry.CLASSIFIER
        return next(registry.get(name).covers for name in registry.names(group=group) if registry.get(name).covers)

    def _quality(self, scalars):
        """The share of samples that look like data (``registry.quality``), or None."""
        return scalars.get(registry.quality(self._unit()))

    def _total(self):
        if self.hp.data.is_toy:
            return len(toy_modes(self.hp.data.name))
        return self.evaluator.judge.num_classes

    def _stall_signals(self, metric):
        """Evaluations since the primary metric last improved on its best by ``stall_delta`` (relative)."""
        best_value, best_step, since = None, None, 0
        for step, value in self.history:
            margin = self.cfg.stall_delta * abs(best_value) if best_value is not None else 0.0
            target = None if best_value is None else (best_value + margin if registry.higher_is_better(metric)
                                                      else best_value - margin)
            if registry.is_better(metric, value, target):
                best_value, best_step, since = value, step, 0
            else:
                since += 1
        return {"metric": metric, "current": self.history[-1][1], "best": best_value, "best_step": best_step,
                "floor": self.floor, "evals_since_best": since}

    # ----- trips ------------------------------------------------------------------------
    def _update(self, detectors, signals, step):
        """Feed ``signals`` to ``detectors``: streaks, trips and clears (recorded and said). Returns
        ``{detector name: 1.0 tripped / 0.0}`` of those that could judge, for the caller to write."""
        states = {}
        for detector in detectors:
            result = detector.check(signals)
            if result is None:
                continue
            holds, values, threshold = result
            state = self.states[detector.name]
            if holds:
                state.since = step if state.streak == 0 and not state.tripped else state.since
                state.streak += 1
            else:
                state.streak = 0
            if holds and not state.tripped and state.streak >= detector.patience:
                state.tripped = True
                self._record("trip", detector, step, state.since, values, threshold)
                self.say(self.line(detector, state.since, values))
            elif not holds and state.tripped:
                state.tripped = False
                self._record("clear", detector, step, state.since, values, threshold)
                self.say(f"health: {detector.name} cleared at step {step}: {detector.describe(values)}")
            states[detector.name] = float(state.tripped)
        return states

    def line(self, detector, since, values):
        """The console line of a trip: what, since when, the numbers, what to try, the best snapshot."""
        return (f"health: {detector.name} since step {since}: {detector.describe(values)}; {detector.advice_for(self.hp)}; "
                f"{self.best_text()}")

    def best_text(self):
        if self.best is None:
            return "no evaluated snapshot yet"
        return (f"best so far: {os.path.basename(self.vdir)}.best (step {self.best['step']}, "
                f"{self.best['metric']} {self.best['value']:.4g})")

    def _record(self, event, detector, step, since, values, threshold):
        runs.append_jsonl(os.path.join(self.vdir, runs.HEALTH_FILE), {
            "step": int(step), "detector": detector.name, "event": event, "since": since,
            "values": {k: (float(v) if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool) else v)
                       for k, v in values.items()},
            "threshold": threshold, "best_step": self.best["step"] if self.best else None})

    def tripped(self):
        """Names of the detectors tripped now."""
        return [name for name, state in self.states.items() if state.tripped]

    def _write_scalars(self, values, step):
        self.scalars.write({name: value for name, value in values.items()
                            if value is not None and math.isfinite(value)}, step)
