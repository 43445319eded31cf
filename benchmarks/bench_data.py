"""Benchmark of the records data path: build and read speed, uncompressed vs GZIP.

    python benchmarks/bench_data.py --json docs/benchmarks/data.json   # 2,000 CelebA-sized JPEGs
    python benchmarks/bench_data.py --images 500 --read_batches 100

Generates JPEGs of 178x218 pixels (random crops of the two photos bundled with
scikit-learn, so they compress like photos, unlike noise), builds records with
crop 108 and resize 64 using 1 worker and all workers, for each compression, and
reads batches of 64 through ``make_dataset``. This is how the default
compression was chosen (see docs/data.md, whose table is a ``data-table`` block read from
the ``--json`` file: ``wgan.lab.benchmark_report.data_table`` prints it here too).
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
import numpy as np
from PIL import Image

from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/


def make_jpegs(folder: str, count: int, seed: int = 0) -> None:
    """``count`` 178x218 JPEGs cut from scikit-learn's sample photos, with random flips."""
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images  # two [427, 640, 3] uint8 photos
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for index in range(count):
        photo = photos[index % len(photos)]
        top = rng.integers(0, photo.shape[0] - 218 + 1)
        left = rng.integers(0, photo.shape[1] - 178 + 1)
        patch = photo[top:top + 218, left:left + 178]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        Image.fromarray(np.ascontiguousarray(patch)).save(os.path.join(folder, f"{index:06d}.jpg"), quality=95)


def folder_bytes(folder: str) -> int:
    return sum(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder))


def time_build(raw: str, out: str, workers: int, compression: str, args) -> tuple[float, str]:
    from wgan.data import build_records

    start = time.perf_counter()
    folder = build_records(raw, args.resize, args.crop, out, workers=workers, overwrite=True,
                           progress=False, compression=compression)
    return args.images / (time.perf_counter() - start), folder


def time_read(folder: str, args) -> float:
    from wgan.data import make_dataset

    batches = iter(make_dataset(folder, args.batch, seed=0))
    for _ in range(5):  # warm up: open shards, fill the shuffle buffer, trace the map
        next(batches)
    start = time.perf_counter()
    for _ in range(args.read_batches):
        next(batches)
    return args.read_batches * args.batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--crop", type=int, default=108)
    parser.add_argument("--resize", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--read_batches", type=int, default=300)
    parser.add_argument("--json", default="bench_data.json", help="where to write the results")
    args = parser.parse_args()

    from wgan.lab import benchmark, benchmark_report
    from wgan.util.cpus import available_cpus
    from wgan.data import build, records  # noqa: F401  (import TensorFlow before timing)

    command, machine = benchmark_report.command_line("benchmarks/bench_data.py"), benchmark.machine_info()
    all_workers = available_cpus()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        raw = os.path.join(work, "raw")
        start = time.perf_counter()
        make_jpegs(raw, args.images)
        print(f"generated {args.images} JPEGs 178x218 in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        for compression in ("none", "gzip"):
            out = os.path.join(work, compression)
            single, _ = time_build(raw, out, 1, compression, args)
            parallel, folder = time_build(raw, out, all_workers, compression, args)
            rows.append({"compression": compression, "build_1": single, "build_all": parallel,
                         "read": time_read(folder, args), "megabytes": folder_bytes(folder) / 1e6})
            print(f"{compression} done", file=sys.stderr, flush=True)
    results = {"command": command, "machine": machine, "images": args.images, "jpeg_size": "178x218",
               "crop": args.crop, "resize": args.resize, "batch": args.batch, "workers": all_workers, "rows": rows}
    benchmark.publish(results, benchmark_report.data_table, args.json)


if __name__ == "__main__":
    main()
