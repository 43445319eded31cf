"""Flags shared by every command that finds a run: model, data, crop, resize, checkpoint folder."""

from absl import flags

from wgan import config


def define_run_flags(model_required=True):
    flags.DEFINE_enum("model", None, list(config.MODELS), "Objective: dcgan, wgan or wgan-gp.", short_name="m")
    flags.DEFINE_string("data", "celeba", "Named source (celeba, digits, mnist, cifar10, 8gaussians, ...) "
                        "or an image folder.")
    flags.DEFINE_integer("crop", None, "Center-crop side of the records (0: none); default from the "
                         "hyperparameter file.", short_name="c")
    flags.DEFINE_integer("resize", None, "Image side of the records; default from the hyperparameter file.",
                         short_name="r")
    flags.DEFINE_string("hparams", None, "A hyperparameter JSON file instead of hyperparameter/<model>-<data>.json.")
    flags.DEFINE_string("checkpoint_dir", "checkpoint", "Where run folders live.")
    flags.DEFINE_string("records_dir", "datasets/tfrecords", "Where built records live.")
    if model_required:
        flags.mark_flag_as_required("model")


# -v of the commands that restore a checkpoint (generate_img, evaluate).
CHECKPOINT_VERSION_HELP = ("RUN[.SNAPSHOT]: 2 is the newest checkpoint of run v2, 2.1 its snapshot 1, 2.best the "
                           "checkpoint of its best evaluation during training.")


def define_version_flag(help_text, as_string=False):
    """``-v/--version``. absl's logging owns ``-v`` (for ``--verbosity``); the toolkit's commands
    give it to the run version instead, as users type it (``--verbosity`` keeps working)."""
    if "v" in flags.FLAGS and flags.FLAGS["v"].name == "verbosity":
        delattr(flags.FLAGS, "v")
    define = flags.DEFINE_string if as_string else flags.DEFINE_integer
    define("version", None, help_text, short_name="v")


def requested_checkpoint(root):
    """The checkpoint ``-v RUN[.SNAPSHOT]`` names under run root ``root`` (generate, evaluate)."""
    from wgan import generate, runs  # TensorFlow-heavy; only the commands that restore need it
    from wgan.errors import RunError

    if flags.FLAGS.version is None:
        raise RunError(f"give -v RUN[.SNAPSHOT]; {runs.describe_versions(root)} (see generate_img.py --list)")
    return generate.find_checkpoint(root, flags.FLAGS.version)


def existing_run_root():
    """The run root ``-m``/``--data``/``-c``/``-r``/``--hparams`` name, for commands that open an
    existing run (generate_img, evaluate): see ``runs.existing_root``."""
    from wgan import runs

    f = flags.FLAGS
    return runs.existing_root(f.checkpoint_dir, f.model, f.data, f.crop, f.resize, f.hparams)


def resolve_hparams(overrides=(), seed=None):
    """HParams from the shared flags (and any --set overrides / --seed)."""
    f = flags.FLAGS
    return config.resolve(f.model, f.data, f.crop, f.resize, f.hparams, overrides, seed)
