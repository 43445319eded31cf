"""``build_tfrecord``: turn a raw image source into TFRecord shards for training.

    python bin/build_tfrecord.py -r 64 -c 108            # CelebA, 108 center crop, 64x64
    python bin/build_tfrecord.py --data digits           # offline, scikit-learn's digits, 16x16
    python bin/build_tfrecord.py --data ~/pics/faces -r 128 --workers 4
    python bin/build_tfrecord.py --data digits --verify  # check every shard's sha256

Records go to ``<records_dir>/<data>-c<crop>-r<resize>/`` (see ``wgan.data.records_dir``).
"""

import sys

from absl import app, flags

from wgan.cli import common
from wgan.data.split import DEFAULT_HELDOUT_PER_MILLE  # no TensorFlow: safe for the spawned workers

flags.DEFINE_string("data", "celeba", "A named source (celeba, lsun, anime, digits, mnist, "
                    "fashion_mnist, cifar10, svhn) or a folder of images, read recursively.")
flags.DEFINE_integer("resize", None, "Side of the square output images; default per source "
                     "(64 for celeba, lsun, anime, 32 cifar10/svhn, 28 mnist, 16 digits); a folder: the side "
                     "its images share, at most 64 (mixed sides: 64).", short_name="r", lower_bound=1)
flags.DEFINE_enum("channels", None, ["1", "3"], "Output channels, 1 (grey) or 3 (colour); default: the "
                  "source's, and for a folder 1 exactly when every image is grey.")
flags.DEFINE_integer("crop", None, "Side of the center crop applied before the resize; "
                     "default 108 for celeba, none otherwise; 0 = no crop (center square of the "
                     "short side).", short_name="c", lower_bound=0)
flags.DEFINE_string("records_dir", "datasets/tfrecords", "Parent folder of the records folder: the --records_dir "
                    "that train.py, generate_img.py and evaluate.py read from.")
# The flag's name before it matched the other commands'; scripts that pass it keep working.
flags.DEFINE_alias("output_dir", "records_dir")
flags.DEFINE_string("raw_root", "datasets", "Folder holding the named sources' raw data.")
flags.DEFINE_integer("shards", None, "Number of shards; default: shards of about --shard_mb.",
                     lower_bound=1)
flags.DEFINE_float("shard_mb", 64.0, "Target shard size in MB when --shards is not given.",
                   lower_bound=0.001)
flags.DEFINE_integer("workers", None, "Decoding processes; default: all available cores.",
                     lower_bound=1)
flags.DEFINE_bool("overwrite", False, "Rebuild even if the records folder is complete or was "
                  "built with other arguments.")
flags.DEFINE_enum("split", "train", ["train", "test"], "Which split to build: test (mnist, "
                  "fashion_mnist, cifar10) goes to <name>-r<side>-test, e.g. as the evaluation reference.")
flags.DEFINE_bool("verify", False, "Build nothing: check every shard of the records folder these "
                  "arguments name against its dataset_info.json (size and sha256) and name the bad ones.")
flags.DEFINE_integer("heldout", DEFAULT_HELDOUT_PER_MILLE, "Images per 1,000 held out of training (chosen by content digest, the "
                     "same on every build) in <records>/heldout/; 0 for none. Sources with a test split hold none out: "
                     "the test split is their held-out part.", lower_bound=0, upper_bound=999)
flags.DEFINE_enum("compression", "none", ["none", "gzip"], "Shard compression (none reads "
                  "fastest; see docs/data.md).")

FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # Imported here so that a process spawned by the build's worker pool, which
    # re-imports the main script, does not pull in the data package with it.
    from wgan import data
    from wgan.errors import DataError

    if data.is_toy(FLAGS.data):
        raise DataError(f"toy set {FLAGS.data!r} is sampled during training; there is nothing to build")
    from wgan.data.build import plan

    channels = int(FLAGS.channels) if FLAGS.channels else None
    crop = data.default_crop(FLAGS.data) if FLAGS.crop is None else FLAGS.crop
    if FLAGS.verify:
        resize, _, _ = plan(FLAGS.data, FLAGS.resize, channels, FLAGS.raw_root, split=FLAGS.split)
        print(data.verify_folder(data.records_dir(FLAGS.records_dir, FLAGS.data, crop or None, resize, FLAGS.split)))
        return
    folder = data.build_records(
        FLAGS.data, FLAGS.resize, crop or None, FLAGS.records_dir, channels=channels,
        shards=FLAGS.shards, workers=FLAGS.workers, overwrite=FLAGS.overwrite,
        compression=FLAGS.compression, shard_mb=FLAGS.shard_mb, raw_root=FLAGS.raw_root,
        split=FLAGS.split,
        heldout_per_mille=FLAGS.heldout,
    )
    print(folder, file=sys.stdout)


def run_cli():
    """Console-script entry point (``wgan-build-tfrecord``)."""
    common.run(main)


if __name__ == "__main__":
    run_cli()
