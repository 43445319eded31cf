"""Yardsticks for the digits classifier metrics: cfid, classes and confident of real, damaged and partial digits.

    python benchmarks/yardsticks.py --json docs/benchmarks/yardsticks.json
    python benchmarks/yardsticks.py --records /tmp/records --seed 1

What does a classifier FID of 30 mean? This scores real digits, and real digits damaged in
known ways, exactly as a training run scores its generator (the judge of
``wgan.metrics.evaluation.make_evaluator`` for the shipped digits hyperparameters: the classifier
cached beside the records, trained there first when missing, and the statistics of every
training record): the first ``--num`` records (1,000, the count a run's evaluation uses),
the other records, the first ones with Gaussian pixel noise or a 2x2 box blur, only some
classes (the first ``--num`` records of those classes), and uniform noise. The noise is
drawn from ``--seed``, so a rerun on the same records and classifier gives the same numbers.

Each row of the ``--json`` file says how its images were made (``kind``, the image count,
the noise's std, the classes kept), so the table docs/quality.md shows (a
``yardstick-table`` block, ``wgan.lab.benchmark_report.yardstick_table``, printed here too) takes
its labels from the data. The records are those of ``--records`` (default datasets/tfrecords,
as the commands use): digits-r16 is built there the usual way when missing, but the folder
itself must exist.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

import numpy as np  # noqa: E402

from wgan.data import float_to_uint8, uint8_to_float  # noqa: E402
from wgan.errors import ConfigError, WganError  # noqa: E402
from wgan.metrics.sample_sizes import IMAGE_SAMPLES  # noqa: E402

# The damages, in table order after the two real rows. Noise std is in units of the [-1, 1] pixel range.
NOISE_STDS = (0.3, 0.5)
BLUR_SIZE = 2
CLASS_SUBSETS = (tuple(range(8)), tuple(range(5)), tuple(range(3)))


# ----- row builders: uint8 images in, uint8 images out (what the judge scores) ----------------
def add_noise(images, std, rng):
    """uint8 [N, H, W, C] -> the same images plus N(0, std^2) per pixel in the [-1, 1] range, clipped; uint8.

    ``std`` is in units of the [-1, 1] range (0.3 is 38 grey levels); ``rng`` a numpy Generator.
    """
    x = uint8_to_float(images)
    return float_to_uint8(x + rng.normal(0.0, std, x.shape).astype(np.float32))


def box_blur(images, size=BLUR_SIZE):
    """uint8 [N, H, W, C] -> each pixel the mean of the ``size`` x ``size`` block starting at it; uint8, same shape.

    The last rows and columns repeat the edge (no dark border), so a constant image stays as it is.
    """
    x = uint8_to_float(images)
    padded = np.pad(x, ((0, 0), (0, size - 1), (0, size - 1), (0, 0)), mode="edge")
    height, width = x.shape[1:3]
    total = sum(padded[:, i:i + height, j:j + width] for i in range(size) for j in range(size))
    return float_to_uint8(total / size ** 2)


def only_classes(images, labels, classes, limit):
    """The first ``limit`` images [<= limit, H, W, C] (build order) whose label [N] is in ``classes``."""
    return images[np.isin(labels, classes)][:limit]


def uniform_noise(count, shape, rng):
    """``count`` images [count, *shape] of pixels uniform in [-1, 1]; uint8 (about flat over 0..255)."""
    return float_to_uint8(rng.uniform(-1.0, 1.0, (count, *shape)).astype(np.float32))


def row_images(images, labels, num, seed):
    """``[(how, uint8 images)]``: every table row's images and how they were made (the JSON's row fields).

    ``images`` uint8 [N, H, W, C] and ``labels`` [N] are the whole records in build order,
    N >= ``num`` + 2. Each random row draws from its own generator, seeded by (``seed``, its place
    among the random rows), so no row's noise depends on how much another one drew.
    """
    first, rest = images[:num], images[num:]
    rows = [({"kind": "real", "first": 0}, first), ({"kind": "real", "first": num}, rest)]
    rows += [({"kind": "noise", "std": std}, add_noise(first, std, np.random.default_rng([seed, i])))
             for i, std in enumerate(NOISE_STDS)]
    rows.append(({"kind": "blur", "size": BLUR_SIZE}, box_blur(first, BLUR_SIZE)))
    rows += [({"kind": "classes", "only_classes": list(kept)}, only_classes(images, labels, kept, num))
             for kept in CLASS_SUBSETS]
    rng = np.random.default_rng([seed, len(NOISE_STDS)])
    rows.append(({"kind": "uniform", "low": -1.0, "high": 1.0}, uniform_noise(num, images.shape[1:], rng)))
    return rows


# ----- the run --------------------------------------------------------------------------------
def digits_records(records_root):
    """``(hp, folder)``: the shipped digits hyperparameters (wgan-gp's, as the study's) and their records folder.

    The folder is built the usual way when missing, but a missing ``records_root`` is a
    DataError naming the build command, not a new folder tree.
    """
    from wgan import config
    from wgan.data import inputs

    hp = config.resolve("wgan-gp", "digits")
    return hp, inputs.records_folder(hp, records_root, build_missing=os.path.isdir(records_root))


def digits_judge(hp, records_root):
    """The classifier metrics a digits training run computes (``ClassifierJudge``: cached or trained classifier,
    statistics of every record): the same ``make_evaluator`` call ``evaluation.for_training`` makes for digits,
    whose default metrics are the classifier's, so the numbers are comparable with the study's."""
    from wgan.metrics import evaluation, registry

    return evaluation.make_evaluator(hp, records_root, metrics=registry.names(group=registry.CLASSIFIER)).judge


def score_rows(judge, rows):
    """Each ``(how, images)`` scored: ``how`` plus ``images`` (count), cfid, classes, confident, class_histogram."""
    scored = []
    for how, images in rows:
        scalars, extras = judge.evaluate(images)
        scored.append({**how, "images": len(images), **scalars, **extras})
    return scored


def measure(records_root, num, seed):
    """The results dict (without command and machine): the rows, the classifier, the records and the seconds."""
    from wgan.metrics import reference

    start = time.perf_counter()
    hp, folder = digits_records(records_root)
    images, labels = reference.read_images(folder, with_labels=True)
    if not 2 <= num <= len(images) - 2:  # the other records are a row too, and a covariance needs 2 images
        raise ConfigError(f"--num {num}: the records hold {len(images):,} images; give 2 to {len(images) - 2:,}")
    judge = digits_judge(hp, records_root)
    rows = score_rows(judge, row_images(images, labels, num, seed))
    classifier = {key: judge.info[key] for key in ("accuracy", "evaluated_on", "held_out", "trained_on", "seed")}
    return {"records": len(images), "records_folder": folder, "records_digest": reference.records_digest(folder),
            "num": num, "seed": seed, "classifier": {**classifier, "name": judge.name}, "rows": rows,
            "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="datasets/tfrecords", help="folder holding (or to hold) digits-r16")
    parser.add_argument("--num", type=int, default=IMAGE_SAMPLES, help="images per row (a run's evaluation count)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise rows")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    from wgan.lab import benchmark, benchmark_report

    command, machine = benchmark_report.command_line("benchmarks/yardsticks.py"), benchmark.machine_info()
    try:
        results = {"command": command, "machine": machine, **measure(args.records, args.num, args.seed)}
    except WganError as err:  # a missing or damaged records folder, a weak classifier: one line, as bin/ does
        sys.exit(f"error: {err}")
    print(f"{results['seconds']:.1f} s", file=sys.stderr)
    benchmark.publish(results, benchmark_report.yardstick_table, args.json)


if __name__ == "__main__":
    main()
