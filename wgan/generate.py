"""Restore a generator from a run folder and make pictures or an export from it.

A class-conditional run (``hp.conditional.enabled``; docs/conditional.md) is sampled by class:
``resolve_class`` turns a name or a label index into a label, ``sample_labels`` draws labels
at the training set's class frequencies when none is asked for, ``class_samples`` makes the
grid of one row per class, and the export maps (z, labels) to images.

A version string ``RUN[.SNAPSHOT]`` names what to restore: ``2`` is the newest checkpoint
of run v2, ``2.1`` is snapshot 1 of run v2 (snapshots numbered from 0 in the order saved;
``2.10`` is snapshot 10, not 1). The generator is rebuilt from the run's
``hyperparameters.json`` alone and only its weights (the moving average when the run kept
one) are read from the checkpoint.
"""

import dataclasses
import os
import re
import time
from typing import Optional

import numpy as np
import tensorflow as tf
from absl import logging

from wgan import images, models, runs, visualize
from wgan.runs import checkpoints
from wgan.metrics import registry
from wgan.gan import model as gan_model
from wgan.data import float_to_uint8
from wgan.errors import ConfigError, RunError
from wgan.models import prior
from wgan.models.prior import latent

# ``--class all``: one row per class.
ALL_CLASSES = "all"

_VERSION = re.compile(r"^(\d+)(?:\.(\d+|" + runs.BEST + r"))?$")


def parse_version(text):
    """``"2"`` -> (2, None); ``"2.1"`` -> (2, 1); ``"2.10"`` -> (2, 10); ``"2.best"`` -> (2, "best").

    Anything else: RunError.
    """
    match = _VERSION.match(str(text).strip())
    if not match or int(match.group(1)) < 1:
        raise RunError(f"version {text!r} is not RUN or RUN.SNAPSHOT with RUN >= 1 and SNAPSHOT >= 0 or 'best' "
                       "(for example 2, 2.1 or 2.best)")
    snapshot = match.group(2)
    if snapshot is None or snapshot == runs.BEST:
        return int(match.group(1)), snapshot
    return int(match.group(1)), int(snapshot)


@dataclasses.dataclass
class Restored:
    """A checkpoint picked from a run: its folder, hyperparameters, path, step and snapshot index."""

    vdir: str
    hp: object
    path: str
    step: int
    snapshot: Optional[int]

    @property
    def label(self):
        version = os.path.basename(self.vdir)
        return f"{version}.{self.snapshot}" if self.snapshot is not None else version


def find_checkpoint(root, version_text):
    """The checkpoint ``version_text`` names under run root ``root``."""
    run, snapshot = parse_version(version_text)
    if run not in runs.list_versions(root):
        raise RunError(f"no run v{run} in {root}; {runs.describe_versions(root)}")
    vdir = runs.version_dir(root, run)
    hp = runs.load_hparams(vdir)
    if snapshot is None:
        # The newest checkpoint that reads back; damaged newer ones are named in a warning.
        found = checkpoints.newest_readable(vdir)
        if found is None:
            raise RunError(f"run v{run} in {root} has no checkpoint yet")
        return Restored(vdir, hp, found.prefix, found.step, None)
    if snapshot == runs.BEST:
        return _best_checkpoint(vdir, hp, run)
    snapshots = runs.list_snapshots(vdir)
    if snapshot >= len(snapshots):
        have = (f"its snapshots are 0..{len(snapshots) - 1}" if snapshots else "it has no snapshots yet")
        raise RunError(f"run v{run} has no snapshot {snapshot}; {have} (see --list)")
    record = snapshots[snapshot]
    path = os.path.join(vdir, record["path"])
    checkpoints.require_readable(path, f"snapshot {run}.{snapshot}")
    return Restored(vdir, hp, path, record["step"], snapshot)


def _best_checkpoint(vdir, hp, run):
    """The checkpoint of run v``run``'s best evaluated step (``-v RUN.best``)."""
    best = runs.best_record(vdir, registry.primary_metric, registry.is_better)
    if best is None:
        raise RunError(f"run v{run} has no evaluation, so no best snapshot: train with --set eval_every=N "
                       f"(iterations between evaluations) or score snapshots with bin/evaluate.py -v {run}.SNAPSHOT; "
                       f"or pick one with -v {run}.SNAPSHOT (see --list)")
    path = os.path.join(vdir, best["path"])
    if not os.path.exists(path + ".index"):
        raise RunError(f"run v{run}'s best checkpoint {path} (step {best['step']}) is missing; "
                       f"pick a snapshot with -v {run}.SNAPSHOT (see --list)")
    return Restored(vdir, hp, path, best["step"], runs.BEST)


GENERATORS = ("sampling", "raw", "ema")


def load_generator(restored, which="sampling"):
    """The generator of ``restored`` in inference mode.

    ``which``: ``sampling`` (the moving average when the run keeps one, else the
    generator), ``raw`` (the trained generator itself) or ``ema`` (the moving average; a
    RunError when the run keeps none).
    """
    if which not in GENERATORS:
        raise RunError(f"generator {which!r}: choose one of {', '.join(GENERATORS)}")
    if which == "ema" and restored.hp.ema_decay <= 0:
        raise RunError(f"{restored.vdir} keeps no moving-average generator (ema_decay is 0)")
    generator = models.make_generator(restored.hp)
    ema = which == "ema" or (which == "sampling" and restored.hp.ema_decay > 0)
    name = "ema_generator" if ema else "generator"
    tf.train.Checkpoint(**{name: generator}).restore(restored.path).expect_partial().assert_existing_objects_matched()
    generator.trainable = False
    return generator


def load_critic(restored):
    """The critic of ``restored`` (for toy contour plots)."""
    critic = models.make_critic(restored.hp)
    tf.train.Checkpoint(critic=critic).restore(restored.path).expect_partial().assert_existing_objects_matched()
    return critic


def slerp(a, b, t):
    """Spherical interpolation between latent vectors a, b [z_dim] at fractions t [T] -> [T, z_dim].

    Follows the great circle between the two directions (White, 2016), which keeps
    intermediate points at a typical norm for a Gaussian prior; falls back to a straight
    line when the vectors are (anti)parallel.
    """
    t = np.asarray(t, np.float64)[:, None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = np.clip(np.dot(a / na, b / nb), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return ((1 - t) * a + t * b).astype(np.float32)
    return ((np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)).astype(np.float32)


def interpolation_latents(hp, rows, steps, seed):
    """[rows * steps, z_dim]: each row interpolates between one random pair of latent vectors."""
    ends = latent(hp, 2 * rows, seed)
    t = np.linspace(0.0, 1.0, steps)
    return np.concatenate([slerp(ends[2 * r], ends[2 * r + 1], t) for r in range(rows)], axis=0)


# ----- classes ------------------------------------------------------------------------------
def class_names(hp):
    """The class names of a class-conditional run (index = label); RunError for any other run."""
    if not models.takes_labels(hp):
        raise RunError(f"run {hp.run_name} is not class-conditional (trained without conditional.enabled), so it "
                       "cannot generate a chosen class; leave out --class")
    if not hp.conditional.num_classes:
        raise RunError(f"run {hp.run_name} is class-conditional but its hyperparameters.json lists no class_names")
    return list(hp.conditional.class_names)


def describe_classes(hp):
    """``0 T-shirt/top, 1 Trouser, ...``: each class's label and name."""
    return ", ".join(f"{i} {name}" for i, name in enumerate(class_names(hp)))


def resolve_class(hp, text):
    """The label (int) that ``text`` names in a class-conditional run.

    A class name matches case-insensitively (``sneaker``, ``T-SHIRT/TOP``), as does one part of a
    name with a slash (``top`` for ``T-shirt/top``) when it names one class only; a number is the
    label index (a class named by a number, as the digits' ``7``, is that name first).
    Raises RunError for a run that is not conditional, ConfigError (listing the classes) for a
    text that names no class.
    """
    names = class_names(hp)
    key = str(text).strip().casefold()
    named = [i for i, name in enumerate(names) if name.casefold() == key]
    if named:
        return named[0]
    if key.isdigit() and int(key) < len(names):
        return int(key)
    parts = [i for i, name in enumerate(names) if key in (p.strip().casefold() for p in name.split("/"))]
    if len(parts) == 1:
        return parts[0]
    raise ConfigError(f"class {str(text).strip()!r} is not one of the run's {len(names)} classes: "
                      f"{describe_classes(hp)} (a name, any case, or a label)")


def resolve_classes(hp, text):
    """Labels (a list of ints, in the order given, without repeats) for ``--class``: ``all`` (every class),
    one class, or several separated by commas (``sneaker,sandal``); see ``resolve_class``."""
    if str(text).strip().casefold() == ALL_CLASSES:
        return list(range(len(class_names(hp))))
    parts = [p for p in str(text).split(",") if p.strip()]
    if not parts:
        raise ConfigError(f"--class {text!r} names no class; the run's classes: {describe_classes(hp)}")
    return list(dict.fromkeys(resolve_class(hp, p) for p in parts))


def sample_labels(hp, num, seed, label=None):
    """Labels int32 [num] for a class-conditional run: all ``label``, or without one drawn at the
    training set's class frequencies (``prior.labels``); None for an unconditional run (RunError when
    it is asked for a ``label``)."""
    if not models.takes_labels(hp):
        if label is not None:
            class_names(hp)  # raises: not conditional
        return None
    if label is None:
        return prior.labels(hp, num, seed)
    return np.full(num, label, np.int32)


def samples_from(generator, z, labels=None):
    """Generated images uint8 [N, H, W, C] for latent ``z`` [N, z_dim] (and ``labels`` int32 [N] for a
    class-conditional generator)."""
    return float_to_uint8(visualize.generate(generator, z if labels is None else [z, np.asarray(labels, np.int32)]))


def samples(generator, hp, num, seed, label=None):
    """Generated images uint8 [num, H, W, C] from ``num`` latent vectors fixed by ``seed``; a class-conditional
    run's all of class ``label``, or without one of labels drawn at the training frequencies."""
    return samples_from(generator, latent(hp, num, seed), sample_labels(hp, num, seed, label))


def class_samples(generator, hp, classes, columns, seed):
    """uint8 images [len(classes) * columns, H, W, C], row by row: one row per label of ``classes``, one
    column per latent vector fixed by ``seed``, the same down a column (``visualize.class_grid_inputs``)."""
    class_names(hp)  # a RunError for an unconditional run
    return samples_from(generator, *visualize.class_grid_inputs(latent(hp, columns, seed), classes))


def figure_samples(generator, hp, num, rows, seed, classes=None):
    """(uint8 images [N, H, W, C], the grid's rows) of a sample figure: ``num`` samples in ``rows`` rows,
    of one class when ``classes`` holds one label; with several labels one row per class of
    ceil(num / rows) columns (``class_samples``)."""
    if classes is not None and len(classes) > 1:
        return class_samples(generator, hp, classes, -(-num // rows), seed), len(classes)
    return samples(generator, hp, num, seed, classes[0] if classes else None), rows


def interpolation_inputs(hp, rows, steps, seed, classes=None):
    """(z [R * steps, z_dim], labels int32 [R * steps] or None) of an interpolation figure, R rows of
    ``steps`` images, each row a spherical path between two latent vectors.

    * an unconditional run (``classes`` None): ``rows`` rows, as ``interpolation_latents``;
    * a class-conditional run without ``classes``: the same rows, each with one label drawn at the
      training frequencies, held along the row;
    * one class: the same rows, all of that class (the class fixed, z moves);
    * several classes: one row per class, every row along the same path, so that a column holds z
      fixed and shows each class in turn. Labels are discrete: nothing is blended between classes
      (the generator takes integer labels; a blend of two class embeddings is not part of its inputs).
    """
    if classes is not None and len(classes) > 1:
        z = interpolation_latents(hp, 1, steps, seed)
        return visualize.class_grid_inputs(z, classes)
    z = interpolation_latents(hp, rows, steps, seed)
    label = None if not classes else classes[0]
    row_labels = sample_labels(hp, rows, seed, label)
    return z, None if row_labels is None else np.repeat(row_labels, steps)


def toy_frame(restored, num, seed, real_seed=0):
    """Scatter + critic-contour frame of a toy run's checkpoint: uint8 [S, S, 3]."""
    from wgan import data

    real = data.toy_sample(restored.hp.data.name, num, np.random.default_rng(real_seed))
    z = models.generator_inputs(restored.hp, latent(restored.hp, num, seed), seed=seed)
    return visualize.toy_frame(load_generator(restored), load_critic(restored), z,
                               real, title=f"{restored.label} step {restored.step}")


def progress_frames(root, run, num, rows, seed, classes=None):
    """One frame per snapshot of run v``run``: sample grids (images; ``classes`` as in ``figure_samples``)
    or toy plots, same noise."""
    vdir = runs.version_dir(root, run)
    if run not in runs.list_versions(root):
        raise RunError(f"no run v{run} in {root}; {runs.describe_versions(root)}")
    snapshots = runs.list_snapshots(vdir)
    if not snapshots:
        every = runs.load_hparams(vdir).snapshot_every
        raise RunError(f"run v{run} in {root} has no snapshots yet, and a GIF needs at least one (one is saved every "
                       f"snapshot_every = {every} iterations): train it longer, or leave out --gif")
    frames = []
    for record in snapshots:
        reason = checkpoints.problem(os.path.join(vdir, record["path"]))
        if reason is not None:
            logging.warning("GIF: skipping snapshot %d.%d (%s): %s", run, record["index"], record["path"], reason)
            continue
        restored = find_checkpoint(root, f"{run}.{record['index']}")
        if restored.hp.data.is_toy:
            frames.append(toy_frame(restored, num, seed))
        else:
            pictures, grid_rows = figure_samples(load_generator(restored), restored.hp, num, rows, seed, classes)
            grid = images.make_grid(pictures, rows=grid_rows)
            frames.append(_caption(grid, f"step {restored.step}"))
    return frames


def _caption(grid, text):
    """The grid with a white strip and ``text`` above it (PIL's built-in font)."""
    from PIL import ImageDraw

    strip = 12
    out = np.full((grid.shape[0] + strip, grid.shape[1], grid.shape[2]), 255, np.uint8)
    out[strip:] = grid
    picture = images.to_pil(out)
    ImageDraw.Draw(picture).text((2, 0), text, fill=0)
    array = np.asarray(picture)
    return array[..., None] if array.ndim == 2 else array


def describe_runs(root):
    """Text listing of every version under ``root`` and its snapshots (index, step, epoch, time, metrics)."""
    versions = runs.list_versions(root)
    if not versions:
        return f"no runs under {root}"
    lines = []
    for number in versions:
        vdir = runs.version_dir(root, number)
        latest, newest = _newest_checkpoint(vdir)
        modified = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(vdir)))
        snapshots = runs.list_snapshots(vdir)
        # An evaluation of the newest checkpoint (-v N) that is not also a snapshot.
        newest_metrics = runs.evaluations(vdir).get(runs.checkpoint_step(latest), {}) if latest else {}
        if latest and any(s["step"] == runs.checkpoint_step(latest) for s in snapshots):
            newest_metrics = {}
        lines.append(f"v{number}  ({newest}; last written {modified}){_format_metrics(newest_metrics, '  ')}"
                     + _format_flags(vdir, runs.checkpoint_step(latest) if latest else 0))
        best = runs.best_record(vdir, registry.primary_metric, registry.is_better)
        for s in snapshots:
            metrics = _format_metrics(s.get("metrics", {}), "")
            damage = checkpoints.describe(os.path.join(vdir, s["path"]))
            mark = "  <- best" if best is not None and best["step"] == s["step"] else ""
            lines.append(f"  {number}.{s['index']:<4} step {s['step']:>7}  epoch {s['epoch']:8.2f}  {s['time']}  "
                         f"{damage or metrics}" + mark + _format_flags(vdir, s["step"]))
        if best is None:
            lines.append(f"  {number}.best  none: no evaluation yet (train with --set eval_every=N, or bin/evaluate.py)")
        else:
            lines.append(f"  {number}.best  step {best['step']:>7}  epoch {best['epoch']:8.2f}  {best['time']}  "
                         f"{best['metric']}={best['value']:.4g} (best {best['metric']} of the evaluations)"
                         + _format_flags(vdir, best["step"]))
    return "\n".join(lines)


def _format_flags(vdir, step):
    """``  health: mode_collapse (since 1200)`` for the detectors tripped at ``step``, else ``""``."""
    flags = runs.health_flags(vdir, step)
    if not flags:
        return ""
    return "  health: " + ", ".join(f"{name} (since {record['since']})" for name, record in sorted(flags.items()))


def _newest_checkpoint(vdir):
    """(newest readable rolling checkpoint prefix or None, its description for ``--list``).

    Unreadable newer checkpoints are marked UNREADABLE with the reason.
    """
    found = checkpoints.checkpoints_in(os.path.join(vdir, runs.CKPT_DIR))
    damaged = []
    for candidate in reversed(found):
        reason = checkpoints.problem(candidate.prefix)
        if reason is None:
            text = f"newest checkpoint at step {candidate.step}"
            if damaged:
                text += "; " + "; ".join(damaged)
            return candidate.prefix, text
        damaged.append(f"{candidate.name} at step {candidate.step} UNREADABLE ({reason})")
    if damaged:
        return None, "no readable checkpoint: " + "; ".join(damaged)
    return None, "no checkpoint yet"


def _format_metrics(metrics, prefix):
    text = " ".join(f"{k}={v:.4g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in sorted(metrics.items()))
    return prefix + text if text else ""


class ExportedGenerator(tf.Module):
    """What ``--export`` saves: plain TensorFlow, loadable without the ``wgan`` package.

    ``generate(z)``: z float32 [N, z_dim] -> images float32 [N, H, W, C] in [-1, 1] (or [N, 2]).
    ``generate_uint8(z)``: the same as uint8 in [0, 255] (images only).
    ``latent(n, seed)``: n (int32 scalar) latents float32 [n, z_dim] of the run's own prior
    (which may be a mixture, not N(0, 1)), fixed by ``seed`` (int64 [2]).

    A class-conditional run's export takes labels too: ``generate(z, labels)`` and
    ``generate_uint8(z, labels)`` with labels int32 [N] in [0, num_classes); ``labels(n, seed)``
    draws n labels int32 [n] at the training set's class frequencies, fixed by ``seed`` (the
    same distribution as ``wgan.models.prior.labels``, not the same draws); ``class_names``
    (string [K], index = label) and ``num_classes`` are saved as variables; ``conditional`` (a bool variable)
    says which kind of export it is.
    """

    def __init__(self, generator, hp):
        super().__init__(name="exported_generator")
        self.generator = generator
        self.z_dim = tf.constant(hp.z_dim)
        centres = gan_model.mixture_centres(hp)
        self.latent = tf.function(lambda n, seed: gan_model.stateless_latent(hp, n, seed, centres), input_signature=[
            tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([2], tf.int64, name="seed")])
        self.is_toy = hp.data.is_toy
        conditional = models.takes_labels(hp)
        # Variables, not constants: a SavedModel keeps the variables of a module, not its tensors.
        self.conditional = tf.Variable(conditional, trainable=False, name="conditional")
        spec = tf.TensorSpec([None, hp.z_dim], tf.float32, name="z")
        if not conditional:
            self.generate = tf.function(lambda z: self.generator(z, training=False), input_signature=[spec])
            if not self.is_toy:
                self.generate_uint8 = tf.function(
                    lambda z: float_to_uint8(self.generator(z, training=False)), input_signature=[spec])
            return
        names = class_names(hp)
        self.class_names = tf.Variable(names, trainable=False, name="class_names")
        self.num_classes = tf.Variable(len(names), trainable=False, name="num_classes")
        frequencies = np.asarray(hp.conditional.class_frequencies or [1.0] * len(names), np.float64)
        with np.errstate(divide="ignore"):  # a class of no training image gets probability 0 (log 0 = -inf)
            self._class_logits = tf.constant(np.log(frequencies / frequencies.sum())[None], tf.float32)
        self.labels = tf.function(
            lambda n, seed: tf.cast(tf.random.stateless_categorical(self._class_logits, n, seed)[0], tf.int32),
            input_signature=[tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([2], tf.int64, name="seed")])
        label_spec = tf.TensorSpec([None], tf.int32, name="labels")
        self.generate = tf.function(lambda z, labels: self.generator([z, labels], training=False),
                                    input_signature=[spec, label_spec])
        if not self.is_toy:
            self.generate_uint8 = tf.function(
                lambda z, labels: float_to_uint8(self.generator([z, labels], training=False)),
                input_signature=[spec, label_spec])


def export(generator, hp, directory):
    """Write ``<directory>/saved_model`` (tf.saved_model) and ``<directory>/generator.keras``.

    The serving signature maps z (float32 [N, z_dim]), and for a class-conditional run labels
    (int32 [N]), to images (``ExportedGenerator``).
    """
    os.makedirs(directory, exist_ok=True)
    module = ExportedGenerator(generator, hp)
    signatures = {"serving_default": module.generate}
    tf.saved_model.save(module, os.path.join(directory, "saved_model"), signatures=signatures)
    generator.save(os.path.join(directory, "generator.keras"))
    return directory
