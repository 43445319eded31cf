"""Checkpoint files that survive damage: verified saves, safe rotation, fallback to the newest readable.

A checkpoint is the pair ``<prefix>.index`` + ``<prefix>.data-*`` that ``tf.train.Checkpoint``
writes. A machine killed mid-save, a full disk or a flipped bit leaves a prefix whose files
exist but cannot be read. This module

* tells readable from unreadable checkpoints by reading every tensor back (TensorFlow
  checks each tensor's crc32c as it reads it, so a flipped byte is found, not only a
  truncation);
* saves through ``Rotation``: every save is read back before anything older is deleted,
  so the rotation can never delete its way to no readable checkpoint;
* finds the newest readable checkpoint of a run among ``ckpt/`` and ``snapshots/``,
  warning with the file name for every newer one it has to pass over.

Checkpoints are found by their ``.index`` files, not by TensorFlow's ``checkpoint`` state
file, which a crash can damage as well; the state file is still written after every save
so that ``tf.train.latest_checkpoint`` keeps working for other tools.
"""

import dataclasses
import glob
import os
import re
import shutil

import tensorflow as tf
from absl import logging

from wgan.errors import RunError, TrainingError
from wgan.util.files import write_atomic
from wgan.runs import CKPT_DIR, SNAPSHOT_DIR
_STEP = re.compile(r"-(\d+)$")


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One checkpoint on disk: its ``prefix`` (path without extension) and generator ``step``."""

    prefix: str
    step: int

    @property
    def name(self):
        """``ckpt/ckpt-6`` or ``snapshots/snapshot-4``: how messages name it."""
        return os.path.join(os.path.basename(os.path.dirname(self.prefix)), os.path.basename(self.prefix))


def problem(prefix):
    """Why the checkpoint ``prefix`` cannot be restored, or None when every tensor reads back intact.

    Reads every tensor (the whole checkpoint), so it finds truncated files, flipped bytes
    (per-tensor crc32c), damaged index files and missing data shards alike.
    """
    if not os.path.isfile(prefix + ".index"):
        return "its .index file is missing"
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as err:  # any failure to read back means a restore would fail too
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        # The caller names the file already; keep the reason short enough for one line.
        first_line = first_line.replace(prefix, os.path.basename(prefix))
        return f"{type(err).__name__}: {first_line[:160]}"
    return None


def checkpoints_in(directory):
    """Every checkpoint in ``directory`` (``name-<step>.index`` files), oldest step first."""
    found = []
    for index in glob.glob(os.path.join(glob.escape(directory), "*.index")):
        prefix = index[: -len(".index")]
        match = _STEP.search(os.path.basename(prefix))
        if match:
            found.append(Candidate(prefix, int(match.group(1))))
    return sorted(found, key=lambda c: c.step)


def remove(prefix):
    """Delete a checkpoint's files (and a half-written ``<prefix>_temp`` folder)."""
    for path in glob.glob(glob.escape(prefix) + ".data-*") + [prefix + ".index"]:
        if os.path.exists(path):
            os.remove(path)
    shutil.rmtree(prefix + "_temp", ignore_errors=True)


def newest_readable(vdir, include_snapshots=True):
    """The newest readable checkpoint of the run folder ``vdir`` as a ``Candidate``, or None if it has none.

    Looks at ``ckpt/`` and (with ``include_snapshots``) ``snapshots/``; at equal steps the
    rolling checkpoint is tried first. Every newer checkpoint that cannot be read is
    reported with ``logging.warning``, naming the file and the reason.

    Raises:
        RunError: checkpoints exist but none of them can be read (nothing is restored,
            so the damaged files are not replaced by a fresh start).
    """
    folders = [CKPT_DIR] + ([SNAPSHOT_DIR] if include_snapshots else [])
    candidates = [c for folder in folders for c in checkpoints_in(os.path.join(vdir, folder))]
    # Newest step first; at equal steps prefer ckpt/ (listed first) over snapshots/.
    candidates = sorted(enumerate(candidates), key=lambda item: (-item[1].step, item[0]))
    damaged = []
    for _, candidate in candidates:
        reason = problem(candidate.prefix)
        if reason is None:
            if damaged:
                logging.warning("falling back to %s (step %d), the newest readable checkpoint of %s",
                                candidate.prefix, candidate.step, vdir)
            return candidate
        logging.warning("checkpoint %s cannot be read (%s); trying an older one", candidate.prefix, reason)
        damaged.append(f"{candidate.name} ({reason})")
    if damaged:
        raise RunError(f"no readable checkpoint in {vdir}: {'; '.join(damaged)}. Nothing was restored; "
                       "train a new version, or move these files away to start this one over")
    return None


def restore_newest_readable(checkpoint, vdir):
    """Restore ``checkpoint`` (a ``tf.train.Checkpoint``) from the newest readable checkpoint of ``vdir``.

    Returns the restored prefix, or None for a run that has no checkpoint yet.

    Raises:
        RunError: as ``newest_readable``.
    """
    candidate = newest_readable(vdir)
    if candidate is None:
        return None
    checkpoint.restore(candidate.prefix).assert_existing_objects_matched()
    logging.info("resumed %s at step %d", candidate.prefix, candidate.step)
    return candidate.prefix


class Rotation:
    """Saves ``checkpoint`` as ``<directory>/<name>-<step>``, verifies it, and keeps the newest ``keep``.

    The interface follows ``tf.train.CheckpointManager`` (``save(checkpoint_number=...)``,
    ``latest_checkpoint``). Unlike it, a save is read back before older checkpoints are
    deleted, and a save that fails (a full disk, an I/O error) or reads back damaged is
    removed and reported as a ``TrainingError`` naming the checkpoint left intact.
    ``keep`` None keeps everything (snapshots).
    """

    def __init__(self, checkpoint, directory, keep, name="ckpt"):
        self.checkpoint = checkpoint
        self.directory = directory
        self.keep = keep
        self.name = name
        self._latest = None

    @property
    def latest_checkpoint(self):
        """The prefix this rotation saved last, else the newest one on disk (not verified), else None."""
        if self._latest is None:
            existing = checkpoints_in(self.directory)
            return existing[-1].prefix if existing else None
        return self._latest

    def save(self, checkpoint_number):
        """Save at step ``checkpoint_number`` and return the new prefix.

        Raises:
            TrainingError: the save failed or did not read back; its files are removed.
        """
        os.makedirs(self.directory, exist_ok=True)
        prefix = os.path.join(self.directory, f"{self.name}-{int(checkpoint_number)}")
        kept = self.latest_checkpoint
        # As tf.train.CheckpointManager does: checkpoints carry a save counter, and restoring
        # one into a Checkpoint expects it.
        self.checkpoint.save_counter.assign_add(1)
        try:
            self.checkpoint.write(prefix)
            reason = problem(prefix)
        except (tf.errors.OpError, OSError) as err:
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        if reason is not None:
            remove(prefix)
            safe = f"{kept} is untouched" if kept and kept != prefix else "no earlier checkpoint here"
            raise TrainingError(f"saving checkpoint {prefix} failed ({reason}); removed it, {safe}. "
                                "Free disk space (or fix the disk) and rerun the same command to resume")
        self._latest = prefix
        self._rotate(int(checkpoint_number))
        _write_state(self.directory, prefix)
        return prefix

    def _rotate(self, step):
        """Delete what the verified save at ``step`` supersedes.

        Checkpoints of later steps belong to a history this run abandoned when it fell
        back past them (they could not be read), and would otherwise shadow the new
        ones. Of the rest, the oldest beyond ``keep`` go; the new save, already read
        back, is always among those kept.
        """
        existing = checkpoints_in(self.directory)
        for candidate in existing:
            if candidate.step > step:
                logging.warning("removing %s: training went back to step %d", candidate.prefix, step)
                remove(candidate.prefix)
        if self.keep is None:
            return
        older = [c for c in existing if c.step <= step]
        for candidate in older[: max(0, len(older) - self.keep)]:
            remove(candidate.prefix)


def _write_state(directory, newest):
    """TensorFlow's ``checkpoint`` state file (text proto), atomically: ``tf.train.latest_checkpoint`` reads it."""
    lines = [f'model_checkpoint_path: "{os.path.basename(newest)}"']
    lines += [f'all_model_checkpoint_paths: "{os.path.basename(c.prefix)}"' for c in checkpoints_in(directory)]
    write_atomic(os.path.join(directory, "checkpoint"), "\n".join(lines) + "\n")


def describe(prefix):
    """``""`` for a readable checkpoint, else ``"UNREADABLE (<reason>)"`` (for listings)."""
    reason = problem(prefix)
    return "" if reason is None else f"UNREADABLE ({reason})"


def require_readable(prefix, what):
    """Raise RunError naming ``what`` (for example ``snapshot 1.2``) when ``prefix`` cannot be read."""
    reason = problem(prefix)
    if reason is not None:
        raise RunError(f"{what} ({prefix}) cannot be read: {reason}; pick another one (see generate_img.py --list)")
