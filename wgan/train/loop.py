"""The outer training loop: resume, iterate, log, checkpoint, snapshot, stop cleanly.

``train(hp, vdir, iterations)`` continues the run in ``vdir`` (a folder from
``runs.open_run``) for ``iterations`` more generator iterations. It saves a checkpoint
every ``checkpoint_every`` iterations and at the end, a permanent snapshot every
``snapshot_every``, and on SIGINT/SIGTERM. A NaN or Inf stops training before anything is
saved, so the last good checkpoint stays intact.

Iterations run in blocks of up to ``hp.steps_per_call`` per compiled call
(``GAN.train_block``). A block ends at the next step where the loop does anything (a log,
sample, histogram, evaluation, checkpoint or snapshot), at the run's end, and where the
WGAN warm-up changes the critic count (``block_end``), so every event happens at the step
it would with one iteration per call, and a run's results do not depend on the setting.
The loop counts the steps itself and reads from the device only at those events: the
NaN/Inf flag the block keeps there, and the metrics as floats at log steps.
"""

import math
import os
import signal
import threading
import time

import keras
import tensorflow as tf
from absl import logging

from wgan import runs
from wgan.runs import checkpoints
from wgan.gan import distribute
from wgan.metrics import evaluation
from wgan.train import health, summaries
from wgan.data import inputs
from wgan.util import malloc
from wgan.errors import TrainingError
from wgan.gan.model import GAN, PROBE_METRICS
from wgan.util.progress import Progress

CKPT_DIR = runs.CKPT_DIR  # the run-folder layout lives in wgan.runs
SNAPSHOT_DIR = runs.SNAPSHOT_DIR


def seed_everything(seed, deterministic=False):
    """Seed Python, NumPy and TensorFlow; ``deterministic`` also forces deterministic kernels."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def checkpoint_managers(checkpoint, vdir, keep):
    """(rolling manager keeping the newest ``keep``, snapshot manager keeping everything)."""
    rolling = checkpoints.Rotation(checkpoint, os.path.join(vdir, CKPT_DIR), keep)
    snapshots = checkpoints.Rotation(checkpoint, os.path.join(vdir, SNAPSHOT_DIR), None, name="snapshot")
    return rolling, snapshots


class _StopRequest:
    """Turns SIGINT/SIGTERM into a flag the loop checks between iterations."""

    def __init__(self):
        self.signal = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.signal = signal.Signals(signum).name

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def event_periods(hp):
    """The periods, in generator iterations, of everything the loop does between iterations."""
    periods = (hp.log_every, hp.sample_every, hp.histogram_every, hp.checkpoint_every, hp.snapshot_every)
    return periods + ((hp.eval_every,) if hp.eval_every else ())


def block_end(hp, step, end, stop_at_step=None):
    """The step the compiled call that starts at ``step`` (< ``end``) runs to.

    At most ``hp.steps_per_call`` iterations, and no further than the next multiple of any
    of ``event_periods(hp)``, the run's ``end``, ``stop_at_step`` (at least one iteration, as
    a stop is checked after each call) or the first iteration whose critic count
    (``hp.critic_steps``, the WGAN warm-up) differs from this one's: a block has one
    ``n_critic``.
    """
    limit = min(step + hp.steps_per_call, end)
    if stop_at_step is not None:
        limit = min(limit, max(stop_at_step, step + 1))
    for every in event_periods(hp):
        limit = min(limit, (step // every + 1) * every)
    n_critic = hp.critic_steps(step)
    for later in range(step + 1, limit):
        if hp.critic_steps(later) != n_critic:
            return later
    return limit


def train(hp, vdir, iterations, records_root="datasets/tfrecords", progress=True, stop_at_step=None,
          strategy=None):
    """Train the run in ``vdir`` for ``iterations`` more generator iterations.

    It resumes from the newest checkpoint that reads back (``wgan.runs.checkpoints``: damaged
    newer ones are named in a warning and passed over), and then trains to the step
    ``iterations`` after the newest checkpoint in ``ckpt/``, the step the command planned.
    ``stop_at_step`` (tests) simulates an interruption after that global step.
    ``strategy``: the ``tf.distribute`` strategy to train under (``wgan.gan.distribute``);
    None is the current one. Under multi-worker training every worker resumes from the
    run's checkpoint, but only the chief writes into ``vdir``.
    Returns a dict with the final ``step``, ``epoch``, the last ``metrics`` and the ``checkpoint`` path.
    """
    strategy = strategy or tf.distribute.get_strategy()
    gan = GAN(hp, strategy)
    checkpoint = gan.checkpoint()
    planned_start = runs.latest_step(vdir)
    resume_from = checkpoints.restore_newest_readable(checkpoint, vdir)  # skips damaged ones, warning
    # Restored from another step than the newest in ckpt/ (it was unreadable, or a newer snapshot
    # was saved just before a crash): the command still ends at the step it was planned to reach.
    iterations = max(0, iterations + planned_start - int(gan.step))
    steps = distribute.gather_ints(strategy, int(gan.step))
    if len(set(steps)) > 1:
        # Workers that cannot all read the chief's checkpoint would train different weights, silently.
        raise TrainingError(f"the workers start at different steps ({sorted(set(steps))}): every worker resumes from "
                            "the chief's checkpoint, so --checkpoint_dir must be on a file system they all share")
    # From here on ``vdir`` is where THIS process writes: the run folder for the chief, a
    # private temporary folder for other workers (removed at the end; see wgan.gan.distribute).
    run_dir, vdir = vdir, distribute.write_dir(strategy, vdir)
    rolling, snapshots = checkpoint_managers(checkpoint, vdir, hp.keep_checkpoints)
    start = int(gan.step)
    # The data order depends on the seed alone, and a resumed run skips the batches the
    # critic already drew: an interrupted run continues exactly where it stopped.
    source = inputs.training_data(hp, records_root, seed=hp.seed,
                                  skip_batches=int(gan.images_seen) // hp.batch_size)
    iterator = iter(inputs.distribute(strategy, source))
    real_points = source.sample_points(2048) if hp.data.is_toy else None

    writer = tf.summary.create_file_writer(vdir)
    train_scalars = summaries.Scalars(writer, "train")
    if start == 0:
        summaries.write_hparams(writer, hp)
    metrics_path = os.path.join(vdir, runs.METRICS_FILE)
    bar = Progress(iterations, enabled=progress, unit="it",
                   desc=os.path.basename(os.path.dirname(vdir)) + "/" + os.path.basename(vdir))

    def epoch():
        return int(gan.images_seen) / source.size if source.size else 0.0

    def save(step):
        gan.refresh_ema_statistics()  # a checkpoint's moving average carries its own batch-norm statistics
        # The permanent snapshot first: if a save fails, the resume starts before this step and saves it again.
        if step % hp.snapshot_every == 0 and not any(s["step"] == step for s in runs.list_snapshots(vdir)):
            runs.record_snapshot(vdir, snapshots.save(checkpoint_number=step), step, epoch(), evaluated.get(step))
        return rolling.save(checkpoint_number=step)

    last_saved = resume_from
    metrics = {}
    # None unless eval_every > 0 and a metric applies (the critic judges images nothing else can).
    evaluator = evaluation.for_training(hp, records_root, critic=gan.critic)
    evaluated = {}  # {step: scalars} of the newest evaluation, stored with a snapshot of that step
    monitor = health.Monitor(hp, vdir, gan, evaluator, writer, records_root, start, say=bar.message)
    step = start
    said_augment = False
    end = start + iterations
    periods = event_periods(hp)
    shown = {}  # the progress line's losses: those of the newest log
    window_start, window_images = time.perf_counter(), 0
    with _StopRequest() as stop:
        while step < end:
            n_critic = hp.critic_steps(step)
            block = block_end(hp, step, end, stop_at_step) - step
            try:
                values = gan.train_block(iterator, block, n_critic)
                if step == start and hp.data.is_toy:
                    malloc.raise_thresholds()  # after from_generator's first batch froze them (wgan.util.malloc)
                step += block  # the host's count: reading gan.step would wait for the device
                window_images += block * n_critic * hp.batch_size
                stopping = bool(stop.signal) or (stop_at_step is not None and step >= stop_at_step)
                # The final step is always logged, so a run shorter than log_every still has its scalars.
                logging_now = step % hp.log_every == 0 or stopping or step == end
                bad = None
                if logging_now or any(step % every == 0 for every in periods):
                    bad = gan.first_bad()  # before anything is written or saved at this step
                if logging_now and not bad:
                    metrics = {k: float(v) for k, v in values.items()}
            except tf.errors.OpError as err:  # a damaged or vanished shard: one line naming it
                raise inputs.read_failure(hp, records_root, err, last_saved) from None
            if bad:
                bad_step, bad_metrics = bad
                names = [k for k, v in bad_metrics.items() if not math.isfinite(v)]
                kept = f"the last good checkpoint {last_saved} is untouched" if last_saved else "nothing was saved"
                raise TrainingError(f"{', '.join(names)} became {bad_metrics[names[0]]} at step {bad_step} "
                                    f"({os.path.basename(vdir)}); {kept}. Lower the learning rate or check the data.")
            if logging_now:
                now = time.perf_counter()
                metrics["images_per_sec"] = window_images / max(now - window_start, 1e-9)
                window_start, window_images = now, 0
                if step % hp.log_every:  # a final or interrupted step off the rhythm: the probe did not run
                    metrics = {k: v for k, v in metrics.items() if k not in PROBE_METRICS}
                train_scalars.write({**metrics, **summaries.critic_layer_sigmas(gan.critic)}, step)
                runs.append_jsonl(metrics_path, {"step": step, "epoch": round(epoch(), 4), **metrics})
                monitor.after_log(step, metrics)
                shown = {"c_loss": metrics["critic_loss"], "g_loss": metrics["generator_loss"],
                         "W": metrics["wasserstein"]}
            bar.update(block, step=step, **shown)
            if step % hp.sample_every == 0:
                summaries.write_samples(writer, gan, step, real_points)
            if step % hp.histogram_every == 0:
                summaries.write_histograms(writer, gan.critic, step)
            if hp.eval_every and step % hp.eval_every == 0:
                if evaluator is not None:
                    evaluated = {step: evaluation.evaluate_in_training(evaluator, gan.sampling_generator, writer,
                                                                       vdir, step, epoch())}
                monitor.after_evaluation(step, epoch(), evaluated.get(step, {}))
                if gan.augmenter is not None:  # adaptive p from the held-out gap: before the save below
                    problem = gan.augmenter.after_evaluation(monitor.last_signals, int(gan.images_seen))
                    if problem and not said_augment:
                        bar.message(problem)
                        said_augment = True
            if step % hp.checkpoint_every == 0 or step % hp.snapshot_every == 0:
                last_saved = save(step)
            if stopping:
                logging.warning("stopping at step %d on %s", step, stop.signal or "request")
                break
        # The final save stays inside the guard: a second SIGINT/SIGTERM (Ctrl+C pressed twice, or
        # a study worker's parent-death signal, sent once per thread of the dying study process)
        # must not kill the process halfway through it.
        bar.close()
        if step != start and (last_saved is None or not last_saved.endswith(f"-{step}")):
            last_saved = save(step)
    summaries.write_samples(writer, gan, step, real_points)
    writer.flush()
    distribute.remove_write_dir(vdir, run_dir)
    return {"step": step, "epoch": epoch(), "metrics": metrics, "checkpoint": last_saved,
            "interrupted": bool(stop.signal), "health": monitor.tripped(),
            "health_seconds": monitor.seconds}

