"""Open a run, seed, train it: the one path from hyperparameters to a trained run folder.

``train_run`` is what ``python bin/train.py`` and every stability-study run (``wgan.lab.study``)
do: pick and lock the version folder (``runs.open_run``; under a multi-worker strategy the
chief picks and the other workers follow, ``open_run``), ask the caller how many generator
iterations to add, seed everything, and train (``loop.train``). A version it created
that fails before saving anything is removed again (``runs.removed_if_unsaved``), so a bad
start never leaves a run that a later command would resume. A class-conditional run gets its
class list and class frequencies from the records first (``with_classes``), before any folder exists.
"""

import contextlib
import dataclasses
import os
import time

import tensorflow as tf

from wgan import config, runs
from wgan.errors import ConfigError
from wgan.gan import distribute
from wgan.train import loop


@dataclasses.dataclass
class Launched:
    """What ``train_run`` did: the version (``number``, folder ``vdir``, its hyperparameters
    ``hp``), whether it was ``resumed``, the ``iterations`` it added, the ``loop.train``
    result (None when there was nothing to train) and the training's wall ``seconds``."""

    number: int
    vdir: str
    hp: object
    resumed: bool
    iterations: int = 0
    result: dict = None
    seconds: float = 0.0


def open_run(strategy, hp, checkpoint_dir, version=None):
    """``runs.open_run`` on the chief; other workers take the chief's version without locking it.

    Returns ``(number, vdir, hp, lock, resumed)``. Every multi-worker task runs the same
    command, so all of them resolve the same hyperparameters; the chief alone picks (and
    locks) the version, and the others learn its number by a collective broadcast.
    """
    if distribute.is_chief(strategy):
        number, vdir, hp, lock, resumed = runs.open_run(checkpoint_dir, hp, version)
        distribute.chief_value(strategy, number)
        return number, vdir, hp, lock, resumed
    number = distribute.chief_value(strategy, 0)
    vdir = runs.version_dir(runs.run_root(checkpoint_dir, hp), number)
    # On a shared file system the stored hyperparameters win, as they do on the chief.
    if version is not None and os.path.exists(os.path.join(vdir, runs.HPARAMS_FILE)):
        hp = runs.load_hparams(vdir)
    return number, vdir, hp, contextlib.nullcontext(), os.path.isdir(os.path.join(vdir, runs.CKPT_DIR))


def with_classes(hp, records_root):
    """``hp`` with ``conditional.class_names`` and ``class_frequencies`` filled from its training
    records (``inputs.class_list``: the manifest's names, the training split's label counts), so
    that ``hyperparameters.json`` alone rebuilds the networks and draws labels as training does.

    Unconditional runs and runs whose two lists are both filled already come back unchanged.
    A ``ConfigError`` (one line, saying where labels come from) when the data has no labels, or
    when a class list given in the file does not match the records' number of classes.
    """
    cond = hp.conditional
    if not cond.enabled or (cond.class_names and cond.class_frequencies):
        return hp
    from wgan.data import inputs

    names, frequencies = inputs.class_list(hp, records_root)
    if cond.class_names and len(cond.class_names) != len(names):
        raise ConfigError(f"key 'conditional.class_names' lists {len(cond.class_names)} classes, but the "
                          f"{hp.data.name} records have {len(names)}; set it to null to take the records' list")
    return config.apply_overrides(hp, [("conditional.class_names", list(cond.class_names or names)),
                                       ("conditional.class_frequencies", frequencies)],
                                  source=f"the {hp.data.name} records' classes")


def until_step(step):
    """An ``iterations`` argument for ``train_run``: the iterations that take the run from its
    newest checkpoint (``runs.latest_step``) to generator step ``step``, or 0 when it is there."""
    return lambda vdir, hp, resumed: max(0, step - runs.latest_step(vdir))


def train_run(checkpoint_dir, hp, iterations, version=None, strategy=None, records_root="datasets/tfrecords",
              progress=True, deterministic=False):
    """Open (and lock) the run of ``hp`` and train it; returns ``Launched``.

    Args:
      checkpoint_dir: where run folders live.
      hp: the hyperparameters to match or create a version with (``runs.open_run``);
        ``version`` resumes that version with its stored ones instead.
      iterations: ``iterations(vdir, hp, resumed)`` -> generator iterations to add (0: none),
        asked once the version is open and locked, with its hyperparameters
        (``until_step(n)`` trains to step n).
      strategy: the ``tf.distribute`` strategy; None is the current one.
      records_root, progress: passed to ``loop.train``.
      deterministic: deterministic kernels (``loop.seed_everything``).
    """
    strategy = strategy or tf.distribute.get_strategy()
    if version is None:  # before a version folder exists: a run without labels stops with nothing written
        hp = with_classes(hp, records_root)
    number, vdir, hp, lock, resumed = open_run(strategy, hp, checkpoint_dir, version)
    created = distribute.is_chief(strategy) and not resumed
    with lock, runs.removed_if_unsaved(vdir, created):
        launched = Launched(number, vdir, hp, resumed, iterations(vdir, hp, resumed))
        if launched.iterations <= 0:
            return launched
        loop.seed_everything(hp.seed, deterministic)
        started = time.perf_counter()
        launched.result = loop.train(hp, vdir, launched.iterations, records_root=records_root,
                                         progress=progress, strategy=strategy)
        launched.seconds = time.perf_counter() - started
    return launched
