"""Run length: how many generator iterations one training command runs.

``train_steps`` is the run's total length and the horizon of its learning-rate schedule,
so the same command run twice gives the same run:

* without ``--steps`` or ``--epoch`` a command trains up to step ``train_steps``; a run
  that got there is complete, and running it again changes nothing;
* ``--steps N`` adds N iterations on purpose (past ``train_steps`` too);
* ``--epoch E`` adds the iterations in which the critic draws E passes over the data,
  counting the WGAN warm-up's extra critic batches (``HParams.critic_steps``).

Past the horizon of a linear decay the learning rates are 0 and the weights no longer
change: such an extension is refused with the command that would train longer instead.
"""

import dataclasses
import math

from wgan.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Plan:
    """``iterations`` to run from step ``start``; ``note``: a line for the user, or None."""

    start: int
    iterations: int
    note: str | None = None

    @property
    def end(self):
        return self.start + self.iterations


def iterations_for_epochs(hp, epochs, dataset_size, start=0):
    """Generator iterations from step ``start`` in which the critic draws ``epochs`` passes over ``dataset_size`` images.

    Counts the critic batches each iteration actually draws, warm-up included.
    """
    wanted = math.ceil(epochs * dataset_size / hp.batch_size)  # critic batches
    drawn, step = 0, start
    while drawn < wanted:
        drawn += hp.critic_steps(step)
        step += 1
    return max(1, step - start)


def _decay_ends(hp):
    """The step at which every decaying learning rate reached zero, or None when one stays constant."""
    horizons = []
    for cfg in (hp.g_optimizer, hp.c_optimizer):
        if cfg.decay == "constant":
            return None
        horizons.append(cfg.decay_horizon(hp.train_steps))
    return max(horizons)


def plan(hp, start, steps=None, epochs=None, dataset_size=None, how_to_extend="--steps N"):
    """The ``Plan`` of one training command for a run now at step ``start``.

    ``steps``/``epochs``: the command's ``--steps`` / ``--epoch`` (at most one);
    ``dataset_size``: images per epoch (needed with ``epochs``). ``how_to_extend`` names
    the flag in messages. Raises ``ConfigError`` for bad values, and for an extension that
    would run entirely past a linear decay's horizon (every learning rate 0).
    """
    if steps is not None and epochs is not None:
        raise ConfigError("give --steps or --epoch, not both")
    if steps is not None and steps < 1:
        raise ConfigError(f"--steps must be >= 1, got {steps}")
    if epochs is not None:
        if hp.data.is_toy:
            raise ConfigError(f"{hp.data.name} is sampled on the fly and has no epochs; use --steps")
        if not epochs > 0:
            raise ConfigError(f"--epoch must be > 0, got {epochs}")
    if steps is None and epochs is None:
        remaining = max(0, hp.train_steps - start)
        if remaining == 0:
            return Plan(start, 0, f"the run is complete at step {start} (train_steps {hp.train_steps}); "
                                  f"to train it longer add {how_to_extend}")
        return Plan(start, remaining)
    iterations = steps if steps is not None else iterations_for_epochs(hp, epochs, dataset_size, start)
    ends = _decay_ends(hp)
    if ends is not None and start + iterations > ends:
        if start >= ends:
            raise ConfigError(f"the learning rates decayed linearly to 0 at step {ends} (train_steps "
                              f"{hp.train_steps}) and the run is at step {start}: more iterations would not change "
                              f"the weights. Train a new run with --set train_steps={start + iterations} instead")
        return Plan(start, iterations, f"the learning rates reach 0 at step {ends}: the last "
                                       f"{start + iterations - ends} of these {iterations} iterations will not "
                                       "change the weights")
    return Plan(start, iterations)
