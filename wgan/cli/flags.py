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


def resolve_hparams(overrides=(), seed=None):
    """HParams from the shared flags (and any --set overrides / --seed)."""
    f = flags.FLAGS
    return config.resolve(f.model, f.data, f.crop, f.resize, f.hparams, overrides, seed)
