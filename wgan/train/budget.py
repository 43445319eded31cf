"""A run length said as a budget (``--budget 30m``, ``20epochs``, ``500kimg``) turned into ``train_steps``.

A time budget is measured, not guessed: ``seconds_per_iteration`` builds the run's networks
on this machine, feeds them the run's own data and times a few iterations after the first
(which traces and compiles). ``steps_for`` then fixes ``train_steps``, and with it the
horizon of every learning-rate schedule, before the run's version is created; the value is
stored in ``hyperparameters.json`` with the budget, so a resume trains to the same step and
an interrupted run resumed with ``--deterministic`` is the uninterrupted run bit for bit.
A rerun of the same command resumes the run it made (``runs.open_run`` matches a budget
run's stored hyperparameters without ``train_steps``) instead of timing again.

What the run's first evaluation trains once (a labelled folder's classifier, an unlabelled one's
learned features) is trained before the timing, and its seconds count as spent (``measure_run``).
What the iterations do not cover (evaluations, sample grids, checkpoints, the health
detectors) is kept out of the budget by ``RESERVE``: a 30-minute budget plans 27 minutes of
iterations, and the run's own log (``images_per_sec``, its wall time) shows how close that came. Epoch and image budgets need no timing: they count the critic's real batches,
the WGAN warm-up's extra critic steps included.
"""

import dataclasses
import math
import time

from wgan.train.run_length import iterations_for_epochs
from wgan.util.units import parse_budget

# Share of a time budget left for what is not an iteration: evaluations every eval_every steps,
# sample grids, checkpoints and snapshots. An allowance, not a measurement (the classifier or learned features
# a first evaluation needs are trained before the timing and counted as spent: measure_run).
RESERVE = 0.10
# Iterations timed after the untimed first ones (tracing, oneDNN's first-call kernels), and a cap
# on the seconds the timing may take, whichever comes first (at least MIN_TIMED iterations).
TIMED_ITERATIONS = 30
WARMUP_ITERATIONS = 3
MIN_TIMED = 5
MAX_TIMING_SECONDS = 20.0
# Iterations counted one by one when a time budget is turned into steps (about a second of Python).
WALKED = 1_000_000


def seconds_per_iteration(hp, strategy, records_root, clock=time.perf_counter):
    """Seconds one steady-state generator iteration of ``hp`` takes here (``hp.n_critic`` critic steps).

    Builds a throwaway ``GAN`` under ``strategy`` fed by the run's own records (or toy
    sampler), runs ``WARMUP_ITERATIONS`` untimed, then times up to ``TIMED_ITERATIONS``
    (stopping after ``MAX_TIMING_SECONDS`` once ``MIN_TIMED`` are done). Nothing is saved.
    Returns ``(seconds per iteration, seconds the measurement took in all)``.
    """
    from wgan.data import inputs
    from wgan.gan.model import GAN

    began = clock()
    gan = GAN(hp, strategy)
    source = inputs.training_data(hp, records_root, seed=hp.seed)
    iterator = iter(inputs.distribute(strategy, source))

    def iteration():
        values = gan.train_iteration(iterator, hp.n_critic)
        float(values["critic_loss"])  # wait for the device: the time is the iteration's, not its launch's

    for _ in range(WARMUP_ITERATIONS):
        iteration()
    start, done = clock(), 0
    while done < TIMED_ITERATIONS and (done < MIN_TIMED or clock() - start < MAX_TIMING_SECONDS):
        iteration()
        done += 1
    per_iteration = (clock() - start) / done
    return per_iteration, clock() - began


def measure_run(hp, strategy, records_root, clock=time.perf_counter):
    """``seconds_per_iteration``, after training what the run's first evaluation would train (its classifier or
    its learned features, ``evaluation.prepare_for_training``): the seconds spent include that, so the budget
    is not overrun by it. Returns ``(seconds per iteration, seconds spent in all)``."""
    from wgan.metrics import evaluation

    began = clock()
    evaluation.prepare_for_training(hp, records_root)
    prepared = clock() - began
    per_iteration, spent = seconds_per_iteration(hp, strategy, records_root, clock)
    return per_iteration, prepared + spent


def _relative_cost(hp, step):
    """The cost of iteration ``step`` relative to a steady-state one (critic steps and generator
    steps counted alike: with the warm-up's 100 critic steps an iteration costs about 16x)."""
    return (hp.critic_steps(step) + hp.g_steps) / (hp.n_critic + hp.g_steps)


def steps_for(hp, budget, per_iteration=None, spent=0.0, dataset_size=None):
    """The ``train_steps`` a ``budget`` (``wgan.util.units.Budget``) buys for ``hp``.

    ``per_iteration``: seconds per steady-state iteration (``seconds_per_iteration``), for a
    time budget; ``spent``: seconds of the budget already used (the timing itself);
    ``dataset_size``: training images, for an epoch budget. At least 1.
    """
    if budget.kind == "epochs":
        return iterations_for_epochs(hp, budget.amount, dataset_size)
    if budget.kind == "images":
        return iterations_for_epochs(hp, 1.0, math.ceil(budget.amount))
    available = (budget.amount - spent) * (1.0 - RESERVE) / per_iteration
    steps, used = 0, 0.0
    # Step by step, so that the WGAN warm-up (its first and every warmup_every-th iterations)
    # is counted where it falls; past WALKED steps the mean cost so far stands for the rest.
    while used < available and steps < WALKED:
        used += _relative_cost(hp, steps)
        steps += 1
    if used < available:
        steps += int((available - used) / (used / steps))
    elif used > available:
        steps -= 1  # the last step taken did not fit
    return max(1, steps)


def describe(hp, budget, steps, per_iteration=None, spent=0.0):
    """The lines a run prints before it starts: what the budget bought and how that was found."""
    if budget.kind != "seconds":
        return f"budget {budget.describe()}: train_steps {steps:,} (batch {hp.batch_size}, {hp.n_critic} critic steps)"
    about = _duration(spent + steps * per_iteration / (1.0 - RESERVE))
    return (f"budget {budget.describe()}: train_steps {steps:,}, about {about} on this machine "
            f"({1 / per_iteration:.2f} iterations/s measured over the first iterations; "
            f"{RESERVE:.0%} kept for evaluations and checkpoints)")


# Evaluations a budget run has at least, when its file's cadence would give fewer: the best snapshot and
# the detectors need several (a slow machine's 30 minutes may be fewer iterations than one eval_every).
MIN_EVALUATIONS = 4

# A file's run shorter than this is not timed: the timing traces a network of its own and runs 8 to 33
# iterations, seconds that are a large share of such a run, which would need over 18 s an iteration to
# outlast a 30-minute budget. Its progress line shows its length. Every shipped file trains for thousands.
ESTIMATE_MIN_STEPS = 100


def _time_file_length(hp, checkpoint_dir, strategy, records_root, measure):
    """``(seconds, seconds per iteration, seconds the timing took)`` of a new run of ``hp``'s own
    ``train_steps`` here (timed by ``measure``, ``RESERVE`` included), or None for a run that exists
    already (the command resumes it) or one of fewer than ``ESTIMATE_MIN_STEPS`` iterations."""
    from wgan import runs

    if hp.train_steps < ESTIMATE_MIN_STEPS:
        return None
    if runs.matching_versions(runs.run_root(checkpoint_dir, hp), hp):
        return None
    per_iteration, spent = measure(hp, strategy, records_root)
    total = sum(_relative_cost(hp, step) for step in range(min(hp.train_steps, WALKED)))
    total += max(0, hp.train_steps - WALKED)
    return total * per_iteration / (1.0 - RESERVE), per_iteration, spent


def _file_length_line(hp, seconds, per_iteration):
    """``train_steps 6,500 (the file's): about 1.7 h on this machine (1.21 iterations/s ...)``."""
    return (f"train_steps {hp.train_steps:,} (the file's): about {_duration(seconds)} on this machine "
            f"({1 / per_iteration:.2f} iterations/s measured over the first iterations)")


def plan_file_length(hp, checkpoint_dir, strategy, records_root, cap, measure=measure_run, say=print):
    """A new run of a shipped file's own ``train_steps``, held to the time budget ``cap`` (``30m``) here.

    The file's length is timed (``_time_file_length``) and said in one line before the run. When it
    fits in ``cap`` on this machine, or the run exists already (the command resumes it), or it is a
    trial of fewer than ``ESTIMATE_MIN_STEPS`` iterations, returns ``(hp, None)`` unchanged. When it
    would take longer, the run trains for ``cap`` instead, as ``--budget`` would (``plan_run``,
    reusing the same timing): ``(hp with budget and the train_steps that fit, None)``, or, when
    this command started that run before, ``(its stored hp, its number)`` without timing again.
    A default run then takes about the same time on a slow CPU as on a fast one, never hours; on
    a machine fast enough for the file, nothing changes.
    """
    from wgan import config

    capped = config.apply_overrides(hp, [("budget", cap)], source="the default budget")
    if budget_runs(capped, checkpoint_dir):
        return plan_run(capped, checkpoint_dir, strategy, records_root, measure=measure, say=say)
    timed = _time_file_length(hp, checkpoint_dir, strategy, records_root, measure)
    if timed is None:
        return hp, None
    seconds, per_iteration, spent = timed
    limit = parse_budget(cap)
    if seconds <= limit.amount:
        say(_file_length_line(hp, seconds, per_iteration))
        return hp, None
    say(f"{_file_length_line(hp, seconds, per_iteration)}, longer than the default budget of {limit.describe()}, "
        f"which holds this run (--steps {hp.train_steps} trains the file's whole length, --budget another time)")
    return plan_run(capped, checkpoint_dir, strategy, records_root, measure=lambda *args: (per_iteration, spent),
                    say=say)


def _duration(seconds):
    """``"41 min"``, ``"11.2 h"`` or ``"50 s"``."""
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def budget_runs(hp, checkpoint_dir, follow_length=()):
    """The versions (newest first) an earlier start of the same budget run made: stored hyperparameters
    equal to ``hp``'s except in what the budget fixed (``train_steps``, ``eval_every``) and in the
    caller's ``follow_length`` keys."""
    from wgan import runs

    return runs.matching_versions(runs.run_root(checkpoint_dir, hp), hp,
                                  ignore=("train_steps", "eval_every", *follow_length))


def plan_run(hp, checkpoint_dir, strategy, records_root, measure=measure_run, say=print, follow_length=()):
    """Fix the length of a new run of ``hp`` from its budget (``hp.budget``, ``30m``), or find the run it made.

    A version of the same hyperparameters
    but ``train_steps`` and ``eval_every`` (the same command, earlier) is resumed with its stored length: returns
    ``(its stored hp, its number)``. Otherwise a time budget is measured (``measure``, see
    ``seconds_per_iteration``), an epoch budget counted from the records, and the result is
    ``(hp with train_steps, None)``; either way one line is said (``say``) before training. A run
    too short for ``MIN_EVALUATIONS`` evaluations at the file's ``eval_every`` evaluates more often.
    ``follow_length``: further keys the caller sets from the fixed length afterwards (the study's
    ``snapshot_every``), left out when an earlier run is looked for.
    """
    from wgan import runs

    budget = parse_budget(hp.budget)
    root = runs.run_root(checkpoint_dir, hp)
    found = budget_runs(hp, checkpoint_dir, follow_length)
    if found:
        stored = runs.load_hparams(runs.version_dir(root, found[0]))
        say(f"budget {budget.describe()}: resuming v{found[0]}, whose budget fixed train_steps at "
            f"{stored.train_steps:,}")
        return stored, found[0]
    per_iteration, spent, size = None, 0.0, None
    if budget.kind == "seconds":
        per_iteration, spent = measure(hp, strategy, records_root)
        if spent >= budget.amount:
            say(f"warning: timing the iterations took {spent:.0f} s of the {budget.describe()} budget")
    elif budget.kind == "epochs":
        if hp.data.is_toy:
            from wgan.errors import ConfigError

            raise ConfigError(f"{hp.data.name} is sampled on the fly and has no epochs; give the budget in time "
                              "(30m) or images (500kimg)")
        from wgan.data import inputs

        size = inputs.dataset_size(hp, records_root)
    steps = steps_for(hp, budget, per_iteration, spent, size)
    say(describe(hp, budget, steps, per_iteration, spent))
    hp = dataclasses.replace(hp, train_steps=steps)
    if hp.eval_every and steps < MIN_EVALUATIONS * hp.eval_every:
        hp = dataclasses.replace(hp, eval_every=max(1, steps // MIN_EVALUATIONS))
        evaluations = steps // hp.eval_every
        why = (f"so that the run has {MIN_EVALUATIONS} evaluations" if evaluations >= MIN_EVALUATIONS else
               f"the run's {steps:,} step{'s' if steps > 1 else ''} allow{'s' if steps == 1 else ''} no more than "
               f"{evaluations} evaluation{'s' if evaluations > 1 else ''}; a longer --budget gives {MIN_EVALUATIONS}")
        every = f"every {hp.eval_every:,} steps" if hp.eval_every > 1 else "every step"
        say(f"evaluation {every}, {why} "
            "(for the best snapshot and the health detectors)")
    return hp, None
