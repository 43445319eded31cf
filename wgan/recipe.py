"""The recipe: hyperparameters for a folder of images that has no file of its own.

A user's folder gets the toolkit's best knowledge instead of the celeba paper file. The
recipe reads the folder's records (``dataset_info.json``: side, channels, crop, images,
classes) and the machine, and starts from the shipped file tuned on the nearest data:

| image side | starts from | why |
|---|---|---|
| up to 16 | ``<model>-digits.json`` | tuned and studied on digits at 16x16 (WGAN-GP classifier FID 7.4, 5 seeds) |
| 17 to 32 | ``<model>-fashion_mnist.json`` | tuned and studied on Fashion-MNIST at 28x28 (WGAN-GP classifier FID 6.4, 5 seeds); the same file forced onto a folder of 2,000 garment PNGs scored 5.8 where the celeba file scored 62.0 |
| above 32 | ``<model>-celeba.json`` | the DCGAN paper's 64x64 setup: no sweep of the toolkit covers these sides yet |

A model without a file for its side falls back to the next row that has one. Then the
folder's own values replace the file's data block (name, crop, side, channels), and the
machine decides the precision: ``mixed_bfloat16`` only where the processor computes in
bfloat16 (or a GPU is used), else ``float32``, because emulated bfloat16 is slower than
float32. ``describe`` gives the block the run prints, one line per choice with its reason;
everything ends up in the run's ``hyperparameters.json`` as for any other run.

A folder's records are found without ``-r``/``-c`` when the folder has one build
(``wgan.data.folders.builds``); several builds are listed for the user to choose.
"""

import dataclasses
import os

from wgan import config
from wgan.data import folders, sources
from wgan.errors import ConfigError
from wgan.gan import augment
from wgan.util.cpus import bfloat16_units

BFLOAT16 = "mixed_bfloat16"
# Evaluation cadence where the base file turns evaluation off (the celeba file): a best snapshot and
# the health detectors need evaluations, and a 30-minute CPU run of a 64x64 network makes about 2,000
# iterations, so four evaluations.
EVAL_EVERY = 500


@dataclasses.dataclass(frozen=True)
class Base:
    """One row of the recipe: images up to ``max_side`` (None: any) start from the file of
    ``data`` with ``setup`` (``config.default_path``), for the reason ``why``, measured by the
    command ``evidence`` (None: nothing of the toolkit's measures it yet)."""

    max_side: int | None
    data: str
    setup: str | None
    why: str
    evidence: str | None = None


# HOOK (issue 37): folders of at most this many images get adaptive augmentation (AUGMENT_POLICY,
# augment.adaptive) unless --set chooses otherwise. None until the study of
# docs/augment.md ("study: not yet run") measures where it helps; fill both from its numbers.
AUGMENT_MAX_IMAGES = None
AUGMENT_POLICY = "color,translation,cutout"

BASES = (
    Base(16, "digits", None, "tuned and studied on digits at 16x16",
         "python bin/study.py --source digits --seeds 5 --jobs 2 --output study/digits"),
    Base(32, "fashion_mnist", None, "tuned and studied on Fashion-MNIST at 28x28",
         "python bin/study.py --source fashion_mnist --models wgan-gp --seeds 5 --jobs 2 "
         "--output study/fashion_mnist-toolkit"),
    Base(None, "celeba", None, "the DCGAN paper's 64x64 setup; no sweep of the toolkit covers this side yet"),
)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What the recipe chose: the ``hp``, the ``base`` file it started from, the ``records``
    folder and its ``manifest``, and ``choices``: (key, value, reason) lines for ``describe``."""

    hp: config.HParams
    base: str
    records: str
    manifest: dict
    choices: tuple


def applies(data, model, root=None, architecture=None):
    """True when ``data`` is a folder path without a hyperparameter file of its own for ``model``."""
    return (sources.is_folder_path(data) and os.path.isdir(data)
            and not os.path.exists(config.default_path(model, data, root, architecture)))


def _records(data, records_root, crop, resize):
    """``(folder, manifest)`` of the build of ``data`` the flags name, or its only build."""
    found = folders.builds(records_root, data)
    if crop is not None or resize is not None:
        found = [(f, m) for f, m in found
                 if (resize is None or m["resize"] == resize) and (crop is None or (m["crop"] or 0) == (crop or 0))]
    if len(found) == 1:
        return found[0]
    if not found:
        flags = "".join(f" {flag} {value}" for flag, value in (("-c", crop), ("-r", resize)) if value is not None)
        raise ConfigError(f"no records of {data}{flags} under {records_root}; build them first with: "
                          f"python bin/build_tfrecord.py --data {data}{flags}")
    names = ", ".join(os.path.basename(f) for f, _ in found)
    raise ConfigError(f"{data} has {len(found)} builds under {records_root} ({names}); pick one with -r (and -c)")


def _base(model, side, root, architecture):
    for base in BASES:
        if base.max_side is not None and side > base.max_side:
            continue
        path = config.default_path(model, base.data, root, architecture, base.setup)
        if os.path.exists(path):
            return base, path
    raise ConfigError(f"the recipe has no shipped file for {model} at {side}x{side}; pass --hparams FILE")


def precision(file_precision, gpu=False, cpu_bfloat16=None):
    """``(precision, reason)`` for this machine: the file's, except bfloat16 on a CPU without bfloat16 units."""
    if file_precision != BFLOAT16 or gpu:
        return file_precision, "the file's" + (" (a GPU is used)" if gpu and file_precision == BFLOAT16 else "")
    if cpu_bfloat16 is False:
        return "float32", ("this CPU has no bfloat16 units (no avx512_bf16 or amx_bf16 flag): "
                           "mixed_bfloat16 would be emulated, slower than float32")
    return file_precision, "this CPU computes in bfloat16" if cpu_bfloat16 else "the file's (CPU flags unknown)"


def on_this_machine(hp, gpu=False):
    """``(hp, why)``: ``hp`` with the precision this machine runs fastest (``precision``), and the
    reason when it differs from the file's, else ``(hp, None)`` unchanged."""
    chosen, why = precision(hp.precision, gpu, None if gpu else bfloat16_units())
    if chosen == hp.precision:
        return hp, None
    return config.apply_overrides(hp, [("precision", chosen)], source="this machine"), why


def build(model, data, records_root, crop=None, resize=None, root=None, architecture=None, overrides=(),
          seed=None, gpu=False, cpu_bfloat16=None):
    """The ``Recipe`` for ``model`` on the image folder ``data`` (see the module docstring).

    ``cpu_bfloat16``: whether the CPU computes in bfloat16 (``wgan.util.cpus.bfloat16_units``
    when not given); ``gpu``: training runs on a GPU. ``overrides`` (``--set``) apply last.
    """
    if cpu_bfloat16 is None and not gpu:
        cpu_bfloat16 = bfloat16_units()
    records, manifest = _records(data, records_root, crop, resize)
    side, channels = manifest["resize"], manifest["channels"]
    base, path = _base(model, side, root, architecture)
    base_hp = config.load(path)
    chosen_precision, precision_why = precision(base_hp.precision, gpu, cpu_bfloat16)
    values = [("data.crop", manifest["crop"]), ("data.resize", side), ("data.channels", channels),
              ("precision", chosen_precision)]
    turned_on = ""
    if not base_hp.eval_every:
        values.append(("eval_every", EVAL_EVERY))
        turned_on = "; the file has none, so the recipe turns it on for the best snapshot and the health detectors"
    augment_why = "as the file or --set says; the study of docs/augment.md has not yet measured where it helps"
    chosen_by_user = any(key.startswith("augment.") for key, _ in overrides)  # --set augment.* wins
    if AUGMENT_MAX_IMAGES is not None and manifest["count"] <= AUGMENT_MAX_IMAGES and not chosen_by_user:
        values += [("augment.policy", AUGMENT_POLICY), ("augment.adaptive", True)]
        augment_why = f"{manifest['count']:,} images, at most {AUGMENT_MAX_IMAGES:,}: a critic memorises so few"
    hp = config.resolve(model, data, path=path, seed=seed, architecture=architecture,
                        overrides=values + list(overrides))
    images = f"{manifest['count']:,} images"
    classes = f", {manifest['num_classes']} classes" if manifest.get("labels") else ""
    choices = (
        ("records", os.path.basename(records), f"{side}x{side}, {channels} channel{'s' if channels > 1 else ''}, "
                                                f"{images}{classes}"),
        ("starts from", os.path.basename(path), base.why),
        ("architecture", f"{hp.architecture.name} width {hp.architecture.base_width}", "the file's"),
        ("batch, critic steps", f"{hp.batch_size}, {hp.n_critic}", "the file's"),
        ("learning rates", f"{hp.g_optimizer.learning_rate:g} / {hp.c_optimizer.learning_rate:g}", "the file's"),
        ("latent", f"{hp.z_distribution} z of {hp.z_dim}", "the file's"),
        ("generator average", f"decay {hp.ema_decay:g}" if hp.ema_decay > 0 else "off", "the file's"),
        ("precision", hp.precision, precision_why),
        ("augmentation", _augmentation(hp), augment_why),
        ("evaluation", f"every {hp.eval_every} steps" if hp.eval_every else "off",
         _judged_by(manifest) + turned_on if hp.eval_every else "--set eval_every=0"),
    )
    return Recipe(hp, path, records, manifest, choices)


def _augmentation(hp):
    """The run's augmentation in a few words (docs/augment.md)."""
    cfg = hp.augment
    if not augment.ops_of(hp):
        return "off"
    if cfg.adaptive:
        return f"{cfg.policy}, adaptive p from {cfg.signal}"
    return f"{cfg.policy}, p {augment.initial_p(cfg):g}"


def _judged_by(manifest):
    """In words, what will judge a folder's run (``wgan.metrics.evaluation.for_training`` decides)."""
    if manifest.get("labels") and (manifest.get("num_classes") or 0) >= 2:
        return ("classifier FID, confident share and class shares, by a classifier trained once on the folder's "
                "labels; the best snapshot follows the classifier FID")
    return ("FID/KID in Inception features when the 2015 graph or Keras' InceptionV3 weights are on this machine, "
            "else the FID in features a network learns once from the folder's own images (ffid; the best snapshot "
            "follows it), patch statistics against them (swd) and the run's own critic on the held-out images "
            "(held-out W, pixel spread)")


def describe(recipe):
    """The block a recipe run prints before it starts: one line per choice, with its reason."""
    width = max(len(key) for key, _, _ in recipe.choices)
    lines = [f"recipe for {recipe.hp.data.name} (no hyperparameter file of its own):"]
    lines += [f"  {key:<{width}}  {value}: {why}" for key, value, why in recipe.choices]
    return "\n".join(lines)
