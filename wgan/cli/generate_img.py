"""``python bin/generate_img.py -m wgan -v 2.1``: sample grids, interpolations, progress GIFs, exports."""

import os

from absl import flags

from wgan import images  # and wgan.generate in main: TensorFlow loads only when the command runs
from wgan.cli import common
from wgan.cli.flags import (CHECKPOINT_VERSION_HELP, candidate_run_roots, define_run_flags, define_version_flag,
                            existing_run_root, requested_checkpoint)
from wgan.errors import RunError

define_run_flags(model_required=False)
define_version_flag(CHECKPOINT_VERSION_HELP, as_string=True)
flags.DEFINE_bool("list", False, "List every run of this model and data with its snapshots, then exit.")
flags.DEFINE_string("output", "figures", "Folder for the pictures.")
flags.DEFINE_integer("num", 64, "Samples in the grid (points for toy data).", lower_bound=1)
flags.DEFINE_integer("rows", 4, "Rows of the grid.", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors: the same seed writes the same bytes.")
flags.DEFINE_integer("margin", 2, "Pixels between grid cells.", lower_bound=0)
flags.DEFINE_integer("zoom", 1, "Enlarge grids by this factor (nearest neighbour), for small images.",
                     lower_bound=1)
flags.DEFINE_bool("individual", False, "Also write every sample as its own PNG.")
flags.DEFINE_string("class", None, "Class-conditional runs: generate this class, by name (any case: sneaker) or "
                    "label (7); several separated by commas, or all: one row per class, a column's z held fixed "
                    "(docs/conditional.md). Without it a conditional run draws labels at the training frequencies.")
flags.DEFINE_bool("interpolate", False, "Also write spherical interpolations between random latent pairs "
                  "(with --class: the class held fixed; with several classes: one row per class along the same "
                  "path).")
flags.DEFINE_integer("steps", 10, "Images per interpolation row.", lower_bound=2)
flags.DEFINE_bool("gif", False, "Also write a GIF of the same samples across every snapshot of the run.")
flags.DEFINE_string("export", None, "Also save the generator here as a SavedModel and a .keras file.")
FLAGS = flags.FLAGS


def main(argv):
    from wgan import generate

    del argv
    if FLAGS.list:
        roots, asked = candidate_run_roots()
        if not roots:
            raise RunError(f"no run under {FLAGS.checkpoint_dir} matches {asked}; train one first with bin/train.py")
        print("\n\n".join(f"{root}:\n{generate.describe_runs(root)}" for root in roots))
        pick = "" if len(roots) == 1 else " -m MODEL --data DATA"
        print(f"sample one with: python bin/generate_img.py{pick} -v RUN[.SNAPSHOT]")
        return
    root = existing_run_root()
    restored = requested_checkpoint(root)
    hp = restored.hp
    asked = FLAGS["class"].value
    classes = None if asked is None else generate.resolve_classes(hp, asked)  # before any picture is written
    frames = None
    if FLAGS.gif:  # first: a run without snapshots fails before any picture is written
        frames = generate.progress_frames(root, generate.parse_version(FLAGS.version)[0], FLAGS.num, FLAGS.rows,
                                          FLAGS.seed, classes)
    os.makedirs(FLAGS.output, exist_ok=True)
    stem = os.path.join(FLAGS.output, f"{hp.run_name}-{restored.label}{_class_part(hp, classes)}")
    written = []

    if hp.data.is_toy:
        written.append(_png(generate.toy_frame(restored, FLAGS.num, FLAGS.seed), f"{stem}-samples.png"))
    else:
        generator = generate.load_generator(restored)
        pictures, rows = generate.figure_samples(generator, hp, FLAGS.num, FLAGS.rows, FLAGS.seed, classes)
        written.append(_png(images.make_grid(pictures, rows, FLAGS.margin), f"{stem}-samples.png"))
        if FLAGS.individual:
            folder = f"{stem}-samples"
            os.makedirs(folder, exist_ok=True)
            for i, picture in enumerate(pictures):
                images.save_png(picture, os.path.join(folder, f"{i:04d}.png"))
            written.append(folder + os.sep)
        if FLAGS.interpolate:
            z, labels = generate.interpolation_inputs(hp, FLAGS.rows, FLAGS.steps, FLAGS.seed, classes)
            grid = images.make_grid(generate.samples_from(generator, z, labels), len(z) // FLAGS.steps, FLAGS.margin)
            written.append(_png(grid, f"{stem}-interpolation.png"))
    if frames is not None:
        run = generate.parse_version(FLAGS.version)[0]
        path = os.path.join(FLAGS.output, f"{hp.run_name}-v{run}-progress.gif")
        images.save_gif(frames, path)
        written.append(path)
    if FLAGS.export:
        written.append(generate.export(generate.load_generator(restored), hp, FLAGS.export))
    print(f"{restored.label} (step {restored.step}) -> " + ", ".join(written))


def _class_part(hp, classes):
    """``-class7``, ``-class7-5``, ``-classall`` (every class in label order) in file names, or nothing."""
    if classes is None:
        return ""
    every = classes == list(range(hp.conditional.num_classes))
    return "-classall" if every else "-class" + "-".join(str(c) for c in classes)


def _png(array, path):
    images.save_png(images.zoom(array, FLAGS.zoom), path)
    return path


def run_cli():
    common.run(main)


if __name__ == "__main__":
    run_cli()
