"""What checking every shard's sha256 at training start costs: MB/s here, seconds per dataset.

    python benchmarks/bench_digests.py               # a 256 MB test file
    python benchmarks/bench_digests.py --mb 64

Writes a file of ``--mb`` MB into a temporary folder and times ``wgan.util.files.file_digest``
(the function training and ``build_tfrecord.py --verify`` use) on it, from the page cache
(warm: the common case right after a build or an earlier run) and after evicting the
file's pages with ``posix_fadvise(DONTNEED)`` (cold: read from the disk; only this file's
pages are evicted). Then the size of each dataset's records, from the exact bytes of one
serialized record (``records.serialize`` plus TFRecord framing), and the seconds a check
takes at both rates. This is how the default (check at every training start) was chosen.
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

# name, images, side, channels, labels: the records training reads (CelebA: img_align_celeba).
DATASETS = [
    ("celeba-c108-r64", 202_599, 64, 3, False),
    ("cifar10-r32", 50_000, 32, 3, True),
    ("mnist-r28", 60_000, 28, 1, True),
    ("fashion_mnist-r28", 60_000, 28, 1, True),
    ("digits-r16", 1_797, 16, 1, True),
]
_FRAMING = 16  # TFRecord: 8-byte length, 4-byte length crc, 4-byte data crc


def record_bytes(side, channels, labels):
    from wgan.data import records

    pixels = bytes(side * side * channels)
    return len(records.serialize(pixels, (side, side, channels), 9 if labels else None)) + _FRAMING


def time_digest(path, cold):
    from wgan.util import files

    if cold:
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
    start = time.perf_counter()
    files.file_digest(path)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=256, help="size of the test file in MB")
    parser.add_argument("--repeats", type=int, default=3, help="timings per case; the best is kept")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as folder:
        path = os.path.join(folder, "shard.bin")
        with open(path, "wb") as handle:
            for _ in range(args.mb):
                handle.write(os.urandom(1 << 20))
        warm = min(time_digest(path, cold=False) for _ in range(args.repeats))
        cold = min(time_digest(path, cold=True) for _ in range(args.repeats))
    rates = {"warm": args.mb / warm, "cold": args.mb / cold}
    print(f"sha256 over a {args.mb} MB file: {rates['warm']:.0f} MB/s from the page cache, "
          f"{rates['cold']:.0f} MB/s from disk (load average {os.getloadavg()[0]:.2f})")
    print()
    print("| records | images | bytes/record | size (MB) | check, page cache (s) | check, disk (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, images, side, channels, labels in DATASETS:
        per_record = record_bytes(side, channels, labels)
        megabytes = images * per_record / 2**20
        print(f"| {name} | {images:,} | {per_record:,} | {megabytes:,.1f} | {megabytes / rates['warm']:.2f} | "
              f"{megabytes / rates['cold']:.2f} |")


if __name__ == "__main__":
    main()
