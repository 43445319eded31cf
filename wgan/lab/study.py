"""The stability study: train each model with several seeds, measure the results, count failures.

One seed README judged by eye that, out of five runs with one set of hyperparameters, DCGAN
failed three, WGAN two and WGAN-GP none. ``run_study`` makes that a measurement: every
(model, seed) pair trains through the library (``launch.train_run``, as bin/train.py does) from
the shipped ``hyperparameter/<model>-<source>.json`` with the study's step count and seed,
in a checkpoint folder of the study's own (user runs are untouched). Its final checkpoint is
evaluated (``wgan.metrics.evaluation``), the source's failure criterion (``CRITERIA``) gives a
verdict, and the study writes ``study.json``, ``study.md`` (tables) and ``study.png`` (one
picture per run).

Runs go to a pool of ``jobs`` spawned worker processes that each use one TensorFlow thread,
so two runs share two cores without fighting over them. Killing the study process alone
stops its workers too (Linux): each run saves a checkpoint, the worker exits, and the same
command resumes. A run that already reached the study's step count (an interrupted study
started again) is evaluated, not retrained.
"""

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable

from wgan import config, runs
from wgan.lab import class_shares
from wgan.util import files, units
from wgan.gan import objectives
from wgan.errors import ConfigError, RunError
from wgan.metrics import registry, sample_sizes

# Samples behind each final score. Digits keep 1,000 (their data has 1,797 images); MNIST and
# Fashion-MNIST use 10,000, the sample size of Lucic et al.'s tables and of the test split.
TOY_SAMPLES = sample_sizes.TOY_SAMPLES  # as during training, so the last evaluation and the score agree
DIGITS_SAMPLES = 1000
IMAGE_SAMPLES = 10000
TIME_FILE = "study_time.json"


@dataclasses.dataclass(frozen=True)
class Criterion:
    """When a run counts as failed: in words (printed with the results), as a check, and the metrics shown.

    ``check(scalars)`` returns None for a success, else the reason for the failure;
    ``samples`` is how many points or images the final evaluation generates.
    """

    text: str
    columns: tuple
    check: Callable
    samples: int

    def verdict(self, scalars):
        return self.check(scalars)


# Digits: a healthy generator covers all 10 classes and stays far closer to the real images
# in classifier features than noise or a collapsed generator (see docs/quality.md for the
# measurements behind the threshold).
DIGITS_CFID_MAX = 50.0
MNIST_CFID_MAX = 50.0
# Fashion-MNIST: the same rule; for the scale, the toolkit's 12-minute WGAN-GP run reached 39
# and real test images score 0.1 against the training records (issue 15).
FASHION_MNIST_CFID_MAX = 50.0


# The metrics the criteria read (names from the registry): modes covered, classes covered, and
# the classifier's distance (its group's primary metric, the classifier FID).
_MODES, _CLASSES = registry.coverage("modes"), registry.coverage("classes")
_DISTANCE = registry.primary_metric(registry.names(group=registry.CLASSIFIER))
_TOY_COLUMNS = registry.names(group=registry.TOY_MODES) + registry.names(group=registry.TOY_DISTANCE)


def _toy_verdict(scalars):
    if scalars[_MODES] < scalars["num_modes"]:
        return f"covers {scalars[_MODES]} of {scalars['num_modes']} modes"
    return None


def _digit_verdict(limit):
    def verdict(scalars):
        reasons = []
        if scalars[_CLASSES] < 10:
            reasons.append(f"{scalars[_CLASSES]} of 10 classes")
        if scalars[_DISTANCE] > limit:
            reasons.append(f"{_DISTANCE} {scalars[_DISTANCE]:.0f} > {limit:g}")
        return "; ".join(reasons) or None
    return verdict


_TOY_TEXT = ("a run fails when it covers fewer than all {k} modes; a mode is covered when at least 1/(4*{k}) of "
             f"{TOY_SAMPLES:,} generated points lie within 3 standard deviations of its centre")
_DIGIT_TEXT = ("a run fails when fewer than 10 classes each get at least 2.5% of {samples:,} generated "
               "images (by a CNN trained on the real records) or its classifier FID is above {limit:g}")


def _digit_criterion(limit, samples):
    return Criterion(_DIGIT_TEXT.format(limit=limit, samples=samples), registry.names(group=registry.CLASSIFIER),
                     _digit_verdict(limit), samples)


CRITERIA = {
    "8gaussians": Criterion(_TOY_TEXT.format(k=8), _TOY_COLUMNS, _toy_verdict, TOY_SAMPLES),
    "25gaussians": Criterion(_TOY_TEXT.format(k=25), _TOY_COLUMNS, _toy_verdict, TOY_SAMPLES),
    "digits": _digit_criterion(DIGITS_CFID_MAX, DIGITS_SAMPLES),
    "mnist": _digit_criterion(MNIST_CFID_MAX, IMAGE_SAMPLES),
    "fashion_mnist": _digit_criterion(FASHION_MNIST_CFID_MAX, IMAGE_SAMPLES),
}
SOURCES = tuple(CRITERIA)


# Evaluations during each study run, for the health detectors that label a failure (wgan.train.health).
HEALTH_EVALUATIONS = 10
# ... but no closer together than this: a few-step smoke study is not worth evaluating.
MIN_EVAL_EVERY = 50
# A failed run's label: the health detector that tripped first, as the study tables name it.
FAILURE_LABELS = {"mode_collapse": "collapsed", "stalled": "stalled", "critic_overfit": "overfit",
                  "diverging": "diverged", "none": "no detector"}


# A class-conditional run's scores also say whether the classes asked for were obeyed.
_CLASS_COLUMNS = registry.names(group=registry.CLASS_AGREEMENT)


def columns(source, results):
    """The metric columns of a study's tables: its failure criterion's, then, when every run of it
    is class-conditional (its metrics hold them), the class-agreement group's (``agreement``,
    ``icfid``)."""
    shown = CRITERIA[source].columns
    if results and all(name in r["metrics"] for r in results for name in _CLASS_COLUMNS):
        shown += _CLASS_COLUMNS
    return shown


def study_hparams(model, source, seed, steps=None, overrides=(), setup=None, budget=None):
    """The shipped hyperparameters of ``model`` on ``source`` for one study run.

    ``setup`` picks the file ``<model>-<source>-<setup>.json`` (``config.default_path``), for a
    source that ships two: the paper's setup and the toolkit's own (``toolkit``).

    The budget rule: ``steps`` gives every model the same number of generator iterations;
    ``budget`` (``30m``) the same time instead, turned into ``train_steps`` by timing each
    run's first iterations when it starts (``plan_length``); None for both keeps each model's
    own shipped ``train_steps`` (after ``overrides``), the length its file was tuned for.
    ``snapshot_every`` becomes the run length, so the final checkpoint is a snapshot (its
    metrics then show in ``generate_img.py --list``); ``eval_every`` gives
    ``HEALTH_EVALUATIONS`` evaluations per run (at least ``MIN_EVAL_EVERY`` iterations apart),
    so the health detectors can say how a run failed, unless ``overrides`` say otherwise.
    The precision is the one ``train.py`` would use on this machine (``_on_this_machine``)
    unless ``overrides`` set it.
    """
    hp = config.resolve(model, source, seed=seed, overrides=list(overrides), setup=setup, missing_hint=None)
    steps = hp.train_steps if steps is None else steps
    study = _follow_length(steps) + ([("budget", budget)] if budget else [])
    hp = config.resolve(model, source, seed=seed, overrides=study + list(overrides), setup=setup, missing_hint=None)
    return hp if any(key == "precision" for key, _ in overrides) else _on_this_machine(hp)


def _on_this_machine(hp):
    """``hp`` in the precision ``train.py`` picks here for a shipped file (``wgan.recipe.on_this_machine``):
    float32 where the file asks for bfloat16 and the CPU would only emulate it (about 5x slower)."""
    import tensorflow as tf

    from wgan import recipe

    return recipe.on_this_machine(hp, gpu=bool(tf.config.list_physical_devices("GPU")))[0]


# The keys a study run derives from its length (``_follow_length``), besides train_steps and eval_every.
_LENGTH_KEYS = ("snapshot_every", "checkpoint_every")


def _follow_length(steps):
    """The study's overrides that follow a run of ``steps`` generator iterations (``study_hparams``)."""
    return [("train_steps", steps), ("snapshot_every", steps), ("checkpoint_every", min(steps, 500)),
            ("eval_every", max(MIN_EVAL_EVERY, steps // HEALTH_EVALUATIONS))]


def plan_length(hp, task, say=print, measure=None):
    """A budget run's hyperparameters and version: ``(hp, None)`` for a new run, whose ``train_steps``
    the timing of its first iterations here fixed (``wgan.train.budget.plan_run``), with the keys
    that follow the length set again (``_follow_length``, except those ``task["overrides"]``
    set), or ``(stored hp, number)`` for the run an earlier start of the same study made.
    ``measure``: how the iterations are timed (``budget.measure_run`` when None).
    """
    import dataclasses

    import tensorflow as tf

    from wgan.train import budget, launch

    hp = launch.with_classes(hp, task["records_dir"])  # a conditional GAN is built with its classes
    hp, version = budget.plan_run(hp, task["checkpoint_dir"], tf.distribute.get_strategy(), task["records_dir"],
                                  measure=measure or budget.measure_run, say=say,
                                  follow_length=_LENGTH_KEYS)
    if version is None:
        given = {key for key, _ in task["overrides"]}
        hp = dataclasses.replace(hp, **{key: value for key, value in _follow_length(hp.train_steps)
                                        if key not in given})
    return hp, version


def budget_rule(steps, budget=None):
    """The study's budget rule in words."""
    if budget:
        return (f"every run trains for a budget of {units.parse_budget(budget).describe()}, turned into train_steps "
                "by timing its first iterations when it starts (wgan.train.budget)")
    if steps is None:
        return "each model trains for its own shipped train_steps"
    return f"every model trains for the same {steps:,} generator iterations"


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_PARENT_PID = None  # the study process, in a pool worker (_init_worker)


def _init_worker(parent_pid):
    """Pool worker initializer: one TensorFlow thread per worker, so ``jobs`` workers use ``jobs``
    cores, and a SIGTERM from the kernel when the study process dies.

    Without the second, a study killed by SIGTERM or SIGKILL (its own process only, as
    ``kill PID`` or a batch scheduler does) left its workers training on, unseen, holding the
    runs' locks and both cores. With it, each worker's run saves a checkpoint and stops at its
    next iteration (training turns SIGTERM into a stop), the worker exits (``run_one``), and the
    same command resumes the run.
    """
    global _PARENT_PID
    _PARENT_PID = parent_pid
    _die_with_parent(parent_pid)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def _die_with_parent(parent_pid):
    """Ask Linux to send this process SIGTERM when ``parent_pid`` exits; elsewhere, do nothing."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):  # no prctl: not Linux
        return
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def in_turn(pool, function, tasks, jobs):
    """Yield ``function(task)`` for each task as it finishes, with at most ``jobs`` handed to
    ``pool`` (a ``concurrent.futures`` executor) at a time.

    Submitted all at once, the queued runs kept starting after one had failed or been
    stopped (Ctrl+C): the executor trains them, unseen, while the study waits to exit with
    the error. Here the first error reaches the caller before another task is submitted.
    """
    import concurrent.futures

    waiting = list(tasks)
    running = {pool.submit(function, waiting.pop(0)) for _ in range(min(jobs, len(waiting)))}
    while running:
        done, running = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
            yield future.result()
            if waiting:
                running.add(pool.submit(function, waiting.pop(0)))


def run_one(task):
    """Train (or finish) one study run and evaluate its final checkpoint; returns a JSON-able dict + picture.

    ``task``: dict with model, seed, source, steps, overrides, setup, budget, checkpoint_dir, records_dir.

    In a pool worker whose study process has died, however the run ended (its parent-death signal
    stopped it, or its folder vanished while it saved), the worker exits: no one waits for a
    result, and an idle worker would otherwise wait for its next task forever, holding memory.
    """
    try:
        return _run_one(task)
    finally:
        if _PARENT_PID is not None and os.getppid() != _PARENT_PID:
            os._exit(1)


def _run_one(task):
    from wgan import generate
    from wgan.metrics import evaluation
    from wgan.train import launch

    hp = study_hparams(task["model"], task["source"], task["seed"], task["steps"], task["overrides"],
                       task.get("setup"), task.get("budget"))
    version = None
    if task.get("budget"):
        hp, version = plan_length(hp, task, say=lambda line: print(f"{hp.model} seed {hp.seed}: {line}", flush=True))
    launched = launch.train_run(task["checkpoint_dir"], hp, launch.until_step(hp.train_steps), version=version,
                                records_root=task["records_dir"], progress=False)
    number, vdir, hp = launched.number, launched.vdir, launched.hp
    reached = runs.latest_step(vdir)
    if reached < hp.train_steps:
        # Stopped by SIGINT/SIGTERM (it saved a checkpoint): a report built now would pass a
        # half-trained run off as finished, and a study or sweep started again would read it back.
        raise RunError(f"study run {os.path.relpath(vdir, task['checkpoint_dir'])} stopped at step {reached} of "
                       f"{hp.train_steps}, so no report was written; start the same command again to finish it")
    time_path = os.path.join(vdir, TIME_FILE)
    if launched.result is not None:
        resumed = launched.iterations < hp.train_steps  # it started from a checkpoint
        timing = {"seconds": launched.seconds, "steps": launched.iterations, "resumed": resumed}
        files.write_atomic(time_path, json.dumps(timing) + "\n")
    timing = {}
    if os.path.exists(time_path):
        with open(time_path, encoding="utf-8") as handle:
            timing = json.load(handle)
    restored = generate.find_checkpoint(runs.run_root(task["checkpoint_dir"], hp), str(number))
    num = CRITERIA[task["source"]].samples
    started = time.perf_counter()
    evaluator = evaluation.make_evaluator(hp, task["records_dir"], num=num)
    generator = generate.load_generator(restored)
    result = evaluator(generator)
    runs.record_evaluation(vdir, restored.step, result.scalars, restored.path)
    scalars = dict(result.scalars)
    if hp.data.is_toy:
        scalars["num_modes"] = len(result.extras["mode_counts"])
    return {"model": hp.model, "seed": hp.seed, "run": os.path.relpath(vdir, task["checkpoint_dir"]),
            "precision": hp.precision, "class_names": list(hp.conditional.class_names or []),
            "health": first_trip(vdir),
            "step": restored.step, "train_seconds": timing.get("seconds"), "resumed": timing.get("resumed", False),
            "eval_seconds": time.perf_counter() - started, "metrics": scalars, "extras": result.extras,
            "picture": _picture(hp, generator, evaluator)}


def first_trip(vdir):
    """The health detector that tripped first in the run ``vdir`` (earliest step), or "none"."""
    trips = [r for r in runs.read_jsonl(os.path.join(vdir, runs.HEALTH_FILE)) if r.get("event") == "trip"]
    return min(trips, key=lambda r: (r["since"], r["step"]))["detector"] if trips else "none"


def _picture(hp, generator, evaluator):
    """uint8 [S, S, 3|1]: real vs generated points (toy) or a 6 x 6 grid of samples (images)."""
    from wgan import images

    samples = evaluator.samples(generator)
    if hp.data.is_toy:
        shown = slice(0, 500)  # enough to see modes, few enough to see gaps
        return images.plot_points(evaluator.real_points[shown], samples[shown], extent=2.0, size=220)
    from wgan.data import float_to_uint8

    return images.zoom(images.make_grid(float_to_uint8(samples[:36]), rows=6, margin=1), 2)


def _prepare(source, model, steps, overrides, records_dir, setup=None):
    """Build records and train the digit classifier once, before workers would race to do it
    (from ``model``'s file: every model of a study reads the same records).

    Returns the real test split's own classifier scores (``cfid``, ``classes``, ``confident``,
    ``class_histogram``, ``images``), the yardstick beside every generated score, or None
    when the source has no test split (digits, the toy sets).
    """
    from wgan.metrics import evaluation

    hp = study_hparams(model, source, 0, steps, overrides, setup)
    if hp.data.is_toy:
        return None
    judge = evaluation.make_evaluator(hp, records_dir, num=IMAGE_SAMPLES).judge
    return judge.info.get("real_test") if judge is not None else None


def mean_std(values):
    """Mean and population standard deviation (divided by N) of the values that are not None."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def summarize(results, source, models):
    """Per model: runs, successes, and mean / standard deviation of each headline metric and of the wall time."""
    rows = []
    for model in models:
        mine = [r for r in results if r["model"] == model]
        row = {"model": model, "runs": len(mine), "successes": sum(r["failure"] is None for r in mine),
               "failed_as": {label: sum(r["failure"] is not None and r.get("health", "none") == name for r in mine)
                             for name, label in FAILURE_LABELS.items()}}
        for name in columns(source, results) + ("train_seconds",):
            values = [r["metrics"].get(name) if name != "train_seconds" else r["train_seconds"] for r in mine]
            row[name] = dict(zip(("mean", "std"), mean_std(values)))
        rows.append(row)
    return rows


# The study's own column beside the metrics' (whose titles and precisions the registry gives).
TIME_COLUMN = "train_seconds"
_TIME_TITLE, _TIME_DIGITS = "train time / run (s)", 0


def column_title(column):
    """A table column's heading: a metric's registry title, or the training time's."""
    return _TIME_TITLE if column == TIME_COLUMN else registry.get(column).title


def format_stat(column, stat):
    """``"9.4 ± 0.9"``: a summary cell ``{"mean", "std"}`` of ``column`` at that column's precision."""
    if stat["mean"] is None:
        return "n/a"
    digits = _TIME_DIGITS if column == TIME_COLUMN else registry.get(column).table_digits
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def format_value(column, value):
    """``"9.4"``: one run's (or the real images') value of ``column`` at that column's precision."""
    return f"{value:.{registry.get(column).digits}f}"


def class_histogram(result):
    """A study run's class shares (``extras.class_histogram``), or None for a source scored without classes."""
    return result.get("extras", {}).get("class_histogram")


def real_label(real):
    """``"real test split (10,000 images)"``: the row name of a report's ``real`` scores."""
    return f"real test split ({real['images']:,} images)"


def markdown(report):
    """The study as markdown: command, criterion, the per-model table and the per-run table."""
    shown = columns(report["source"], report["runs"])
    # Sources scored by a classifier also give each run's class shares: the smallest and the
    # largest over the runs of a model (and of the real test split) stand in their own column.
    shares = any(class_histogram(r) for r in report["runs"])
    headers = ([column_title(c) for c in shown] + (["class shares (smallest - largest, every run)"] if shares else [])
               + [column_title(TIME_COLUMN)])
    title = (f"### Stability study: {report['source']}, {report['seeds']} seeds x {len(report['models'])} models, "
             + (f"a budget of {units.parse_budget(report['budget']).describe()} each" if report.get("budget") else
                f"{report['steps']:,} generator iterations each" if report["steps"] else "shipped lengths"))
    lines = [title, "",
             f"Command: `{report['command']}`", "",
             f"Budget rule: {budget_rule(report['steps'], report.get('budget'))}. Failure criterion: {report['criterion']}.", "",
             *([f"Files: `hyperparameter/<model>-{report['source']}-{report['setup']}.json`.", ""]
               if report.get("setup") else []),
             "| model | successes | iterations | " + " | ".join(headers) + " | "
             + " | ".join(f"failed: {label}" for label in FAILURE_LABELS.values()) + " |",
             "|---|---|---|" + "---|" * (len(headers) + len(FAILURE_LABELS))]
    # Recomputed from the runs, so that a report written before a column existed shows it too.
    for row in summarize(report["runs"], report["source"], report["models"]):
        mine = [r for r in report["runs"] if r["model"] == row["model"]]
        cells = [format_stat(c, row[c]) for c in shown]
        if shares:
            cells.append(class_shares.describe(class_histogram(r) for r in mine))
        cells.append(format_stat("train_seconds", row["train_seconds"]))
        counts = [str(row.get("failed_as", {}).get(label, 0)) for label in FAILURE_LABELS.values()]
        steps = sorted({r["step"] for r in mine})
        lines.append(f"| {row['model']} | {row['successes']} / {row['runs']} | "
                     f"{', '.join(f'{s:,}' for s in steps)} | " + " | ".join(cells + counts) + " |")
    if report.get("real"):
        real = report["real"]
        cells = [format_value(c, real[c]) if c in real else "" for c in shown]
        if shares:
            cells.append(class_shares.describe([real.get("class_histogram")]))
        lines.append(f"| {real_label(real)} | | | " + " | ".join(cells + [""]) + " |"
                     + " |" * len(FAILURE_LABELS))
    lines += ["", "Values are mean ± standard deviation over seeds. A failed run is counted under the health detector "
              "that tripped first during it (docs/health.md), or 'no detector'. Per run:", "",
              "| model | seed | " + " | ".join(shown) + (" | class shares" if shares else "") + " | verdict | train s |",
              "|---|---|" + "---|" * (len(shown) + shares + 2)]
    for r in report["runs"]:
        values = [format_value(c, r["metrics"][c]) for c in shown]
        if shares:
            values.append(class_shares.describe([class_histogram(r)]))
        seconds = f"{r['train_seconds']:.0f}" if r["train_seconds"] is not None else "n/a"
        lines.append(f"| {r['model']} | {r['seed']} | {' | '.join(values)} | {_verdict(r)} | {seconds} |")
    if _CLASS_COLUMNS[0] in shown:
        lines += ["", *per_class_table(report)]
    trained = sum(r["train_seconds"] or 0 for r in report["runs"])
    # A study started again only evaluates the runs it finds complete: its own wall time is then
    # short, and the runs' recorded training time is what they cost.
    total = (f"Wall time of this invocation {report['wall_seconds'] / 60:.1f} min with {report['jobs']} parallel "
             f"run(s); the runs' recorded training time adds up to {trained / 60:.1f} min")
    lines += ["", f"{total}, {report['date']}."]
    return "\n".join(lines) + "\n"


def per_class_table(report):
    """Markdown lines: each class's agreement and intra-class classifier FID, mean ± standard deviation
    over the runs of each model (a conditional study's ``extras.agreement_per_class`` and
    ``icfid_per_class``), under the classifier's accuracy on real images, their ceiling."""
    runs_ = report["runs"]
    count = len(runs_[0]["extras"]["agreement_per_class"])
    names = next((r["class_names"] for r in runs_ if r.get("class_names")), [str(k) for k in range(count)])
    ceilings = sorted({r["extras"]["agreement_ceiling"] for r in runs_})
    lines = [f"Per class, mean ± standard deviation over seeds: class agreement (the classifier's accuracy on real "
             f"images, its ceiling, is {', '.join(f'{c:.3f}' for c in ceilings)}) and intra-class classifier FID.", "",
             "| class | " + " | ".join(f"{m}: agreement | {m}: intra-class cFID" for m in report["models"]) + " |",
             "|---|" + "---|---|" * len(report["models"])]
    for k, name in enumerate(names):
        cells = []
        for model in report["models"]:
            mine = [r["extras"] for r in runs_ if r["model"] == model]
            for key, metric in (("agreement_per_class", "agreement"), ("icfid_per_class", "icfid")):
                mean, std = mean_std([extras[key][k] for extras in mine])
                cells.append(format_stat(metric, {"mean": mean, "std": std}))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _verdict(result):
    """``ok``, or the failure with the first health detector that tripped: ``covers 3 of 8 modes (stalled)``."""
    if result["failure"] is None:
        return "ok"
    return f"{result['failure']} ({FAILURE_LABELS[result.get('health', 'none')]})"


def figure(results, models, seeds, path):
    """One picture per run in a models x seeds grid with its verdict, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    by_key = {(r["model"], r["seed"]): r for r in results}
    # Panels at their own pixel size (100 dpi), plus room for the titles and labels.
    height, width = results[0]["picture"].shape[:2]
    fig, axes = plt.subplots(len(models), len(seeds), squeeze=False,
                             figsize=((width / 100 + 0.1) * len(seeds) + 0.3, (height / 100 + 0.45) * len(models)))
    for i, model in enumerate(models):
        for j, seed in enumerate(seeds):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            r = by_key.get((model, seed))
            if r is None:
                continue
            picture = r["picture"]
            # aspect="equal": a square picture stays square whatever room the layout gives the panel.
            ax.imshow(picture[..., 0] if picture.shape[-1] == 1 else picture, cmap="gray", interpolation="nearest",
                      aspect="equal", vmin=0, vmax=255)
            failed = f"FAILED: {FAILURE_LABELS[r.get('health', 'none')]}"
            ax.set_title(f"seed {seed}: {'ok' if r['failure'] is None else failed}", fontsize=8,
                         color="black" if r["failure"] is None else "red")
            if j == 0:
                ax.set_ylabel(model, fontsize=9)
    fig.tight_layout(pad=0.3)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def finished_report(output, seeds, steps, overrides=(), setup=None, budget=None):
    """``output/study.json`` when it is the report of exactly this study (seeds, steps or budget, overrides,
    files), else
    None.

    A report of other seeds, steps or overrides is another study: read back in its place it
    would be tabulated under the wrong command (``benchmarks/sweep.py``). Running
    ``run_study`` instead costs little, because it evaluates finished runs without training
    them again.
    """
    path = os.path.join(output, "study.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    same = (report.get("seed_values") == list(seeds) and report.get("steps") == steps
            and report.get("overrides") == config.override_texts(overrides) and report.get("setup") == setup
            and report.get("budget") == budget)
    return report if same else None


def run_study(source, models, seeds, steps, output, jobs=1, records_dir="datasets/tfrecords", overrides=(),
              command=None, log=print, setup=None, budget=None):
    """Train ``models`` x ``seeds`` on ``source``; write the report to ``output``.

    ``steps``: generator iterations for every model, or None for each model's shipped
    ``train_steps`` (``budget_rule``). ``setup``: each model's ``<model>-<source>-<setup>.json``
    instead of ``<model>-<source>.json`` (``study_hparams``). ``budget``: a time for every run
    (``30m``) instead of a step count, fixed per run by timing (``plan_length``).

    Returns the report dict (also written as ``output/study.json``; ``study.md`` and
    ``study.png`` beside it). Checkpoints go to ``output/checkpoint``.
    """
    if source not in CRITERIA:
        raise ConfigError(f"--source {source!r}: the study has a failure criterion for {', '.join(SOURCES)} only")
    unknown = [m for m in models if m not in objectives.OBJECTIVES]
    if unknown or not models:
        raise ConfigError(f"--models: {', '.join(unknown) or 'none given'}; choose from {', '.join(objectives.NAMES)}")
    if steps is not None and budget:
        raise ConfigError("give the study --steps or --budget, not both")
    if budget:
        try:
            if units.parse_budget(budget).kind != "seconds":
                raise ValueError(f"{budget!r} is not a time")
        except ValueError as err:
            raise ConfigError(f"--budget: {err}; the study takes a time (30m, 1.5h)") from None
    if (steps is not None and steps < 1) or not seeds:
        raise ConfigError(f"the study needs steps >= 1 and at least one seed (got {steps} steps, {len(seeds)} seeds)")
    for model in models:  # a bad --set or a missing file fails here, before any training
        study_hparams(model, source, seeds[0], steps, overrides, setup, budget)
    os.makedirs(output, exist_ok=True)
    started = time.perf_counter()
    real = _prepare(source, models[0], steps, overrides, records_dir, setup)
    tasks = [{"model": m, "seed": s, "source": source, "steps": steps, "overrides": list(overrides),
              "setup": setup, "budget": budget, "checkpoint_dir": os.path.join(output, "checkpoint"), "records_dir": records_dir}
             for s in seeds for m in models]
    criterion = CRITERIA[source]
    results = []

    def collect(result):
        result["failure"] = criterion.verdict(result["metrics"])
        results.append(result)
        log(f"[{len(results)}/{len(tasks)}] {result['model']} seed {result['seed']}: "
            f"{_verdict(result)}  " + " ".join(f"{k}={result['metrics'][k]:.4g}" for k in columns(source, [result]))
            + (f"  ({result['train_seconds']:.0f} s)" if result["train_seconds"] is not None else ""))

    if jobs <= 1:
        for task in tasks:
            collect(run_one(task))
    else:
        import concurrent.futures
        import multiprocessing

        # spawn: a forked child would inherit TensorFlow's thread pools from the parent.
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                                    initializer=_init_worker, initargs=(os.getpid(),)) as pool:
            for result in in_turn(pool, run_one, tasks, jobs):
                collect(result)
    results.sort(key=lambda r: (models.index(r["model"]), r["seed"]))
    figure(results, models, seeds, os.path.join(output, "study.png"))
    report = {"source": source, "models": list(models), "seeds": len(seeds), "seed_values": list(seeds),
              "steps": steps, "budget": budget, "overrides": config.override_texts(overrides), "setup": setup,
              "jobs": jobs,
              "criterion": criterion.text, "command": command or "", "date": time.strftime("%Y-%m-%d"),
              "wall_seconds": time.perf_counter() - started, "summary": summarize(results, source, models),
              "real": real,
              "runs": [{k: v for k, v in r.items() if k != "picture"} for r in results]}
    files.write_atomic(os.path.join(output, "study.json"), json.dumps(report, indent=1) + "\n")
    files.write_atomic(os.path.join(output, "study.md"), markdown(report))
    return report
