"""``python bin/train.py -m wgan``: train DCGAN, WGAN or WGAN-GP and save versioned checkpoints."""

from absl import flags, logging

# TensorFlow loads only when the command runs (wgan.gan.distribute, inputs, launch), so --help and
# a flag error answer at once.
from wgan import config, runs
from wgan.train import run_length
from wgan.gan import strategy_names
from wgan.cli import common
from wgan.cli.flags import define_run_flags, define_version_flag, resolve_with_recipe
from wgan.errors import ConfigError
from wgan.util import units

# The longest a run takes when no flag says how long: a run the recipe chose (an image folder without a
# file of its own) trains for it, and a shipped file's own train_steps are held to it on a machine too slow
# for them (wgan.train.budget.plan_file_length). A default run must never silently take hours on a CPU.
DEFAULT_BUDGET = "30m"

define_run_flags()
flags.DEFINE_float("epoch", None, "Epochs to add (passes of the critic over the data, warm-up included).",
                   short_name="e")
flags.DEFINE_integer("steps", None, "Generator iterations to add, also past train_steps (default: train up to the "
                     "file's train_steps, the run's total length).")
flags.DEFINE_string("budget", None, "How long a new run may take: 30m, 1.5h, 20epochs, 500kimg. Time is measured on "
                    "this machine first and fixes train_steps (stored, so a resume is exact). Default: the file's "
                    f"train_steps, or {DEFAULT_BUDGET} where those would take longer on this machine; {DEFAULT_BUDGET} "
                    "for an image folder trained by the recipe.")
define_version_flag("Resume this version with its stored hyperparameters.")
flags.DEFINE_multi_string("set", [], "Override a hyperparameter: --set c_optimizer.learning_rate=5e-5.")
flags.DEFINE_integer("seed", None, "Seed for weights, noise and data order (default: the file's).")
flags.DEFINE_bool("conditional", False, "Class-conditional generation (conditional.enabled): the generator takes "
                  "(z, class), the critic (image, class); needs labelled records (digits, mnist, fashion_mnist, "
                  "cifar10, or a folder with one subfolder per class). See docs/conditional.md.")
flags.DEFINE_bool("deterministic", False, "Deterministic kernels: two runs with one seed give identical losses.")
flags.DEFINE_bool("progress", True, "Show a progress line.")
flags.DEFINE_enum("strategy", "default", list(strategy_names.STRATEGIES),
                  "tf.distribute strategy: default (one device), mirrored (the GPUs of this machine), multi_worker "
                  "(machines listed in TF_CONFIG), tpu. batch_size is the global batch.")
flags.DEFINE_list("devices", None, "mirrored: devices to use (default: every GPU), e.g. /gpu:0,/gpu:1.")
flags.DEFINE_integer("cpu_replicas", None, "mirrored on a machine without GPUs: split the CPU into this many "
                     "logical devices (for trying distribution out; no faster).")
flags.DEFINE_string("tpu", None, "tpu: TPU name or grpc:// address (default: the TPU of this VM).")
flags.DEFINE_enum("communication", "auto", list(strategy_names.COMMUNICATIONS),
                  "multi_worker: all-reduce implementation (nccl needs GPUs).")
FLAGS = flags.FLAGS


def plan_iterations(hp, vdir, records_root):
    """The ``run_length.Plan`` of this command for the run in ``vdir``."""
    from wgan.data import inputs

    size = inputs.dataset_size(hp, records_root) if FLAGS.epoch is not None and not hp.data.is_toy else None
    return run_length.plan(hp, runs.latest_step(vdir), steps=FLAGS.steps, epochs=FLAGS.epoch, dataset_size=size,
                           how_to_extend=f"--steps N (adds N iterations), e.g. -v {runs.version_number(vdir)} "
                                         "--steps 1000")


def make_strategy():
    """The strategy the flags ask for; --cpu_replicas splits the CPU first (before TF starts)."""
    from wgan.gan import distribute

    if FLAGS.cpu_replicas is not None:
        if FLAGS.strategy != "mirrored" or FLAGS.cpu_replicas < 1:
            raise ConfigError("--cpu_replicas needs --strategy mirrored and a count >= 1")
        distribute.split_cpu(FLAGS.cpu_replicas)
    return distribute.make_strategy(FLAGS.strategy, devices=FLAGS.devices, tpu=FLAGS.tpu,
                                    communication=FLAGS.communication)


def run_flags(hp):
    """The flags that find this run again in generate_img and evaluate: ``-m wgan-gp --data digits``."""
    parts = [f"-m {hp.model}", f"--data {hp.data.name}"]
    parts += [f"{flag} {value}" for flag, value in (("--architecture", FLAGS.architecture), ("-c", FLAGS.crop),
                                                    ("-r", FLAGS.resize), ("--hparams", FLAGS.hparams),
                                                    ("--setup", FLAGS.setup))
              if value is not None]
    if FLAGS["checkpoint_dir"].present:
        parts.append(f"--checkpoint_dir {FLAGS.checkpoint_dir}")
    return " ".join(parts)


def run_budget(recipe):
    """The budget text (``30m``) this command trains a new run for, checked, or None: ``--budget``, else the
    recipe's default when no --steps or --epoch says how long."""
    if FLAGS.budget is not None:
        if FLAGS.steps is not None or FLAGS.epoch is not None:
            raise ConfigError("give --budget, or --steps/--epoch, not both")
        try:
            units.parse_budget(FLAGS.budget)
        except ValueError as err:
            raise ConfigError(f"--budget: {err}") from None
        return FLAGS.budget
    if recipe is not None and FLAGS.steps is None and FLAGS.epoch is None:
        return DEFAULT_BUDGET
    return None


def machine_precision(hp, gpu):
    """``hp`` with the precision this machine runs fastest, for a shipped file (``wgan.recipe.precision``).

    A shipped file's ``mixed_bfloat16`` is emulated, slower than float32, on a CPU without bfloat16
    units; a ``--set precision=...`` or a file of the user's own (``--hparams``) is kept as given.
    """
    from wgan import recipe

    if any(config.parse_override(text)[0] == "precision" for text in FLAGS.set):
        return hp
    chosen, why = recipe.on_this_machine(hp, gpu)
    if why:
        print(f"precision {chosen.precision} instead of the file's {hp.precision}: {why}")
    return chosen


def length_from_file():
    """Whether a new run's length is its hyperparameter file's ``train_steps`` (no flag and no --set says it)."""
    if FLAGS.steps is not None or FLAGS.epoch is not None or FLAGS.budget is not None:
        return False
    return not any(config.parse_override(text)[0] == "train_steps" for text in FLAGS.set)


def main(argv):
    import tensorflow as tf

    from wgan import recipe as recipes
    from wgan.gan import distribute
    from wgan.data import inputs
    from wgan.train import budget, launch

    del argv
    strategy = make_strategy()
    gpu = bool(tf.config.list_physical_devices("GPU"))
    hp, recipe = resolve_with_recipe([config.parse_override(s) for s in FLAGS.set], FLAGS.seed, gpu=gpu)
    if FLAGS.conditional and FLAGS.version is None:
        hp = config.apply_overrides(hp, [("conditional.enabled", True)], source="--conditional")
    if FLAGS.version is not None and (FLAGS.set or FLAGS.hparams or FLAGS.seed is not None or FLAGS.budget):
        logging.warning("-v %d resumes with its stored hyperparameters; --set, --hparams, --seed and --budget are "
                        "ignored", FLAGS.version)
    asked = run_budget(recipe)  # a bad --budget stops here, before anything is printed or built
    if recipe is not None and FLAGS.version is None:
        print(recipes.describe(recipe))
    elif FLAGS.version is None and FLAGS.hparams is None:
        hp = machine_precision(hp, gpu)
    if not hp.data.is_toy:
        # Missing records stop the command before a version exists (built-in sources are built here).
        inputs.records_folder(hp, FLAGS.records_dir)
    if FLAGS.version is None:
        # A conditional run's classes, from the records, before the timing or any folder (one line without labels).
        hp = launch.with_classes(hp, FLAGS.records_dir)
    version = FLAGS.version
    if asked is not None and version is None:
        hp = config.apply_overrides(hp, [("budget", asked)], source="--budget")
        hp, version = budget.plan_run(hp, FLAGS.checkpoint_dir, strategy, FLAGS.records_dir)
    elif version is None and length_from_file():
        # No default run may take hours silently: the file's length, timed here, is said before it starts,
        # and held to the default budget where this machine is too slow for it.
        hp, version = budget.plan_file_length(hp, FLAGS.checkpoint_dir, strategy, FLAGS.records_dir, DEFAULT_BUDGET)
    where = "" if FLAGS.strategy == "default" else f" on {distribute.describe(strategy)}"

    def iterations(vdir, hp, resumed):
        logging.info("%s %s%s", "resuming" if resumed else "starting", vdir, where)
        plan = plan_iterations(hp, vdir, FLAGS.records_dir)
        if plan.iterations == 0:
            print(f"{vdir}: {plan.note}")
        elif plan.note:
            logging.warning("%s", plan.note)
        return plan.iterations

    launched = launch.train_run(FLAGS.checkpoint_dir, hp, iterations, version=version, strategy=strategy,
                                records_root=FLAGS.records_dir, progress=FLAGS.progress,
                                deterministic=FLAGS.deterministic)
    if launched.result is None:
        return
    vdir, hp, result = launched.vdir, launched.hp, launched.result
    m = result["metrics"]
    print(f"{vdir}: step {result['step']}, epoch {result['epoch']:.2f}, critic loss {m.get('critic_loss', 0):.4g}, "
          f"generator loss {m.get('generator_loss', 0):.4g}, Wasserstein estimate {m.get('wasserstein', 0):.4g}")
    if distribute.is_chief(strategy):
        print(f"saved {result['checkpoint']}\nnext: python bin/generate_img.py {run_flags(hp)} "
              f"-v {launched.number} (samples to figures/); "
              f"tensorboard --logdir {FLAGS.checkpoint_dir} (curves)")
    else:
        task_type, task_id = distribute.task(strategy)
        print(f"{task_type} {task_id}: checkpoints are written by the chief")


def run_cli():
    common.run(main)


if __name__ == "__main__":
    run_cli()
