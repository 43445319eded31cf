"""Benchmark of an exact resume's cost: the time to the first batch after skipping k batches.

    python benchmarks/bench_resume.py --json docs/benchmarks/resume.json   # 60,000 images of 28x28, batch 64
    python benchmarks/bench_resume.py --images 2000 --skips 0,100 --repeats 1

A resumed run continues its data order exactly by skipping the batches its critic already
drew (``wgan.data.inputs.training_data(..., skip_batches=k)``): for records the skipped records
are read and shuffled but not decoded, for toy data the skipped points are drawn and thrown
away. This script measures what that costs at the start of a resume, against ``--skips``
of 0 (a new run), for records of generated grey 28x28 images (Fashion-MNIST's size and
count by default) and for the 8gaussians toy set. The largest default skip, 15,625 batches,
is a resume just before the end of a Fashion-MNIST run at Lucic et al.'s budget
(3,125 iterations x 5 critic batches).
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
import numpy as np

from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/


def first_batch_seconds(hp, root, skip):
    """Seconds from asking for the training data, ``skip`` batches in, to holding its first batch."""
    from wgan.data import inputs

    start = time.perf_counter()
    next(iter(inputs.training_data(hp, root, seed=0, skip_batches=skip).dataset))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60000, help="generated 28x28 grey images in the records")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--skips", default="0,938,9375,15625", help="batches skipped, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="timings per skip (the median is reported)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    skips = [int(s) for s in args.skips.split(",") if s.strip()]

    from wgan import config
    from wgan.lab import benchmark, benchmark_report
    from wgan.data import build_records

    machine = benchmark.machine_info()
    rows = []
    with tempfile.TemporaryDirectory() as root:
        rng = np.random.default_rng(0)
        images = (rng.random((args.images, 28, 28)) * 255).astype(np.uint8)
        build_records("mnist", resize=28, crop=None, output_dir=root, workers=1, progress=False,
                      arrays=(images, np.arange(args.images) % 10))
        cases = {"records 28x28": config.resolve("wgan-gp", "mnist", overrides=[("batch_size", args.batch)]),
                 "toy 8gaussians": config.resolve("wgan-gp", "8gaussians", overrides=[("batch_size", args.batch)])}
        for name, hp in cases.items():
            first_batch_seconds(hp, root, 0)  # warm up: imports, graph building, file cache
            for skip in skips:
                seconds = float(np.median([first_batch_seconds(hp, root, skip) for _ in range(args.repeats)]))
                rows.append({"data": name, "skip_batches": skip, "epochs": skip * args.batch / args.images
                             if name.startswith("records") else None, "seconds": seconds})
                print(f"{name}: skip {skip:,} batches -> first batch in {seconds:.2f} s", file=sys.stderr, flush=True)
    results = {"command": benchmark_report.command_line("benchmarks/bench_resume.py"), "machine": machine,
               "images": args.images, "batch": args.batch, "repeats": args.repeats, "rows": rows}
    benchmark.publish(results, benchmark_report.resume_table, args.json)


if __name__ == "__main__":
    main()
