"""``python bin/train.py -m wgan``: train DCGAN, WGAN or WGAN-GP and save versioned checkpoints."""

from absl import flags, logging

from wgan import config, inputs, runs, training
from wgan.cli import common
from wgan.cli.flags import define_run_flags, define_version_flag, resolve_hparams
from wgan.errors import ConfigError

define_run_flags()
flags.DEFINE_float("epoch", None, "Epochs to add (passes of the critic over the data).", short_name="e")
flags.DEFINE_integer("steps", None, "Generator iterations to add (default: the file's train_steps).")
define_version_flag("Resume this version with its stored hyperparameters.")
flags.DEFINE_multi_string("set", [], "Override a hyperparameter: --set c_optimizer.learning_rate=5e-5.")
flags.DEFINE_integer("seed", None, "Seed for weights, noise and data order (default: the file's).")
flags.DEFINE_bool("deterministic", False, "Deterministic kernels: two runs with one seed give identical losses.")
flags.DEFINE_bool("progress", True, "Show a progress line.")
FLAGS = flags.FLAGS


def iterations_to_add(hp, records_root):
    if FLAGS.steps is not None and FLAGS.epoch is not None:
        raise ConfigError("give --steps or --epoch, not both")
    if FLAGS.steps is not None:
        if FLAGS.steps < 1:
            raise ConfigError(f"--steps must be >= 1, got {FLAGS.steps}")
        return FLAGS.steps
    if FLAGS.epoch is not None:
        if hp.data.is_toy:
            raise ConfigError(f"{hp.data.name} is sampled on the fly and has no epochs; use --steps")
        return training.iterations_for_epochs(hp, FLAGS.epoch, inputs.dataset_size(hp, records_root))
    return hp.train_steps


def main(argv):
    del argv
    hp = resolve_hparams([config.parse_override(s) for s in FLAGS.set], FLAGS.seed)
    if FLAGS.version is not None and (FLAGS.set or FLAGS.hparams or FLAGS.seed is not None):
        logging.warning("-v %d resumes with its stored hyperparameters; --set, --hparams and --seed are ignored",
                        FLAGS.version)
    number, vdir, hp, lock, resumed = runs.open_run(FLAGS.checkpoint_dir, hp, FLAGS.version)
    with lock:
        logging.info("%s %s", "resuming" if resumed else "starting", vdir)
        iterations = iterations_to_add(hp, FLAGS.records_dir)
        training.seed_everything(hp.seed, FLAGS.deterministic)
        result = training.train(hp, vdir, iterations, records_root=FLAGS.records_dir, progress=FLAGS.progress)
    m = result["metrics"]
    print(f"{vdir}: step {result['step']}, epoch {result['epoch']:.2f}, critic loss {m.get('critic_loss', 0):.4g}, "
          f"generator loss {m.get('generator_loss', 0):.4g}, Wasserstein estimate {m.get('wasserstein', 0):.4g}")
    print(f"checkpoint {result['checkpoint']}; watch with: tensorboard --logdir {FLAGS.checkpoint_dir}")


def run_cli():
    common.run(main)
