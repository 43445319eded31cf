"""Restore a generator from a run folder and make pictures or an export from it.

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
from wgan.errors import RunError
from wgan.models.prior import labels as prior_labels, latent

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


def interpolation_labels(hp, rows, steps, seed):
    """Labels int32 [rows * steps] for ``interpolation_latents``: one class per row (drawn by
    ``prior.labels``), so a row moves through z alone; None for an unconditional run."""
    if not models.takes_labels(hp):
        return None
    return np.repeat(prior_labels(hp, rows, seed), steps)


def samples_from(generator, z, hp=None, labels=None, seed=0):
    """Generated images uint8 [N, H, W, C] for latent ``z`` [N, z_dim]; a class-conditional run's
    (``hp``) classes are ``labels`` int32 [N], or drawn by ``prior.labels(hp, N, seed)``."""
    inputs = z if hp is None else models.generator_inputs(hp, z, labels, seed)
    return float_to_uint8(visualize.generate(generator, inputs))


def samples(generator, hp, num, seed):
    """Generated images uint8 [num, H, W, C] from ``num`` latent vectors (and, conditional, labels) fixed by ``seed``."""
    return samples_from(generator, latent(hp, num, seed), hp, seed=seed)


def toy_frame(restored, num, seed, real_seed=0):
    """Scatter + critic-contour frame of a toy run's checkpoint: uint8 [S, S, 3]."""
    from wgan import data

    real = data.toy_sample(restored.hp.data.name, num, np.random.default_rng(real_seed))
    z = models.generator_inputs(restored.hp, latent(restored.hp, num, seed), seed=seed)
    return visualize.toy_frame(load_generator(restored), load_critic(restored), z,
                               real, title=f"{restored.label} step {restored.step}")


def progress_frames(root, run, num, rows, seed):
    """One frame per snapshot of run v``run``: sample grids (images) or toy plots, same noise."""
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
            grid = images.make_grid(samples(load_generator(restored), restored.hp, num, seed), rows=rows)
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
    """

    def __init__(self, generator, hp):
        super().__init__(name="exported_generator")
        self.generator = generator
        self.z_dim = tf.constant(hp.z_dim)
        centres = gan_model.mixture_centres(hp)
        self.latent = tf.function(lambda n, seed: gan_model.stateless_latent(hp, n, seed, centres), input_signature=[
            tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([2], tf.int64, name="seed")])
        self.is_toy = hp.data.is_toy
        spec = tf.TensorSpec([None, hp.z_dim], tf.float32, name="z")
        self.generate = tf.function(lambda z: self.generator(z, training=False), input_signature=[spec])
        if not self.is_toy:
            self.generate_uint8 = tf.function(
                lambda z: float_to_uint8(self.generator(z, training=False)), input_signature=[spec])


def export(generator, hp, directory):
    """Write ``<directory>/saved_model`` (tf.saved_model) and ``<directory>/generator.keras``."""
    os.makedirs(directory, exist_ok=True)
    module = ExportedGenerator(generator, hp)
    signatures = {"serving_default": module.generate}
    tf.saved_model.save(module, os.path.join(directory, "saved_model"), signatures=signatures)
    generator.save(os.path.join(directory, "generator.keras"))
    return directory
