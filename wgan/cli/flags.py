"""Flags shared by every command that finds a run: model, data, crop, resize, checkpoint folder."""

import os

from absl import flags, logging

from wgan import config, models, runs
from wgan.gan import objectives
from wgan.errors import ConfigError


def define_run_flags(model_required=True):
    """The flags that name a run. ``model_required``: train needs -m; generate_img and evaluate
    find the run without it when the other flags leave one candidate (``existing_run_root``)."""
    model_help = (f"Objective: {objectives.summary()}; required." if model_required else
                  f"Objective: {objectives.summary()}; default: the one run under --checkpoint_dir that "
                  "matches the other flags and holds -v.")
    flags.DEFINE_enum("model", None, list(config.MODELS), model_help, short_name="m")
    flags.DEFINE_string("data", "celeba", "Named source (celeba, digits, mnist, cifar10, 8gaussians, ...) "
                        "or an image folder." + ("" if model_required else " Not given, without -m: runs of any data are searched."))
    flags.DEFINE_integer("crop", None, "Center-crop side of the records (0: none); default from the "
                         "hyperparameter file.", short_name="c")
    flags.DEFINE_integer("resize", None, "Image side of the records; default from the hyperparameter file.",
                         short_name="r")
    flags.DEFINE_enum("architecture", None, list(models.ARCHITECTURES),
                      "Networks (architecture.name); default: the hyperparameter file's. An architecture that "
                      "is part of names (resnet) reads hyperparameter/<model>-<data>-<architecture>.json and "
                      "names runs <model>-<data>-<architecture>-...")
    flags.DEFINE_string("hparams", None, "A hyperparameter JSON file instead of "
                        "hyperparameter/<model>-<data>[-<architecture>].json.")
    flags.DEFINE_string("setup", None, "A named setup: hyperparameter/<model>-<data>-<setup>.json instead of the "
                        "toolkit's own file (lucic2018: Lucic et al.'s setup for mnist and fashion_mnist; conditional: the "
                        "class-conditional files for digits and fashion_mnist, docs/conditional.md).")
    flags.DEFINE_string("checkpoint_dir", "checkpoint", "Where run folders live.")
    flags.DEFINE_string("records_dir", "datasets/tfrecords", "Where built records live.")
    # Not flags.mark_flag_as_required: absl's two-line FATAL message; resolve_hparams says it in one.


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


def _named_by_file():
    """-m with --data or --hparams: the hyperparameter file names the run, as for train."""
    f = flags.FLAGS
    return f.model is not None and (f["data"].present or f.hparams is not None)


def candidate_run_roots():
    """``(run roots, what was asked)`` the flags may mean (generate_img, evaluate).

    With -m and --data (or --hparams): the one root ``runs.existing_root`` finds (the
    hyperparameter file's, or the one run of that model and data). Otherwise the runs under
    --checkpoint_dir whose stored hyperparameters match the flags given (and that hold the
    run number of -v), possibly none or several.
    """
    from wgan import generate  # TensorFlow-heavy; only the commands that restore need it

    f = flags.FLAGS
    asked = " ".join(f"{flag} {value}" for flag, value in
                     (("-m", f.model), ("--data", f.data if f["data"].present else None),
                      ("--architecture", f.architecture), ("-c", f.crop), ("-r", f.resize), ("-v", f.version)) if value is not None) or "the flags"
    if _named_by_file():
        return [runs.existing_root(f.checkpoint_dir, f.model, f.data, f.crop, f.resize, f.hparams,
                                   f.architecture)], asked
    run = generate.parse_version(f.version)[0] if f.version is not None else None
    return runs.find_runs(f.checkpoint_dir, f.model, f.data if f["data"].present else None, f.crop, f.resize,
                          run, f.architecture), asked


def existing_run_root():
    """The one run root the flags name (generate_img, evaluate); none or several raise a RunError
    naming what exists. Without -m (or --data) the match is said on the log."""
    from wgan.errors import RunError

    f = flags.FLAGS
    matches, asked = candidate_run_roots()
    if len(matches) == 1:
        if not _named_by_file():
            logging.info("using %s: the only run under %s that matches %s", matches[0], f.checkpoint_dir, asked)
        return matches[0]
    if not matches:
        everything = [os.path.basename(r) for r in runs.find_runs(f.checkpoint_dir)]
        existing = f"existing runs: {', '.join(everything)}" if everything else "train one first with bin/train.py"
        raise RunError(f"no run under {f.checkpoint_dir} matches {asked}; {existing}")
    run = f" (each has v{f.version.split('.')[0]})" if f.version is not None else ""
    raise RunError(f"{asked} could mean {len(matches)} runs under {f.checkpoint_dir}{run}: "
                   f"{', '.join(os.path.basename(r) for r in matches)}; pick one with -m and --data")


def resolve_hparams(overrides=(), seed=None):
    """HParams from the shared flags (and any --set overrides / --seed); an image folder without a
    file of its own gets the recipe's (``resolve_with_recipe``)."""
    return resolve_with_recipe(overrides, seed)[0]


def resolve_with_recipe(overrides=(), seed=None, gpu=False):
    """``(hp, recipe)``: ``resolve_hparams``' HParams and the ``wgan.recipe.Recipe`` that chose them for an
    image folder without a file of its own (else None). ``gpu``: the run trains on a GPU (the recipe's
    precision)."""
    from wgan import recipe

    f = flags.FLAGS
    if f.model is None:
        raise ConfigError(f"give -m/--model: {', '.join(config.MODELS)} (--help lists every flag)")
    if f.hparams is None and f.setup is None and recipe.applies(f.data, f.model, architecture=f.architecture):
        chosen = recipe.build(f.model, f.data, f.records_dir, f.crop, f.resize, architecture=f.architecture,
                              overrides=overrides, seed=seed, gpu=gpu)
        return chosen.hp, chosen
    return config.resolve(f.model, f.data, f.crop, f.resize, f.hparams, overrides, seed,
                          architecture=f.architecture, setup=f.setup), None
