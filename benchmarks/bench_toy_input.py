"""What the toy input costs a training iteration: batches per crossing into Python, side by side.

    python benchmarks/bench_toy_input.py                         # 25gaussians file, chunks 1 and 40
    python benchmarks/bench_toy_input.py --data 8gaussians --chunks 1,8,40 --rounds 8

One GAN of the shipped ``wgan-gp-<data>.json`` (its precision, batch and critic steps) trains
from iterators over ``wgan.data.toy_dataset`` with each ``--chunks`` value (batches the
Python generator hands to TensorFlow at a time; 1 is the toolkit before round five) and over
one batch held in memory (``none``: no input cost at all). Blocks of ``--block`` iterations
run in turn (A B C A B C ...), so a change of load on a shared CPU hits all alike; the table
gives each variant's median iterations/s over ``--rounds`` blocks and its ratio to ``none``.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/


def parse_chunks(text):
    """``"1,40"`` -> [1, 40]; argparse.ArgumentTypeError saying what is wrong."""
    try:
        chunks = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected whole numbers separated by commas, e.g. 1,40") from None
    if not chunks or min(chunks) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every chunk must be at least 1")
    return chunks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="25gaussians", choices=("8gaussians", "25gaussians", "swissroll"))
    parser.add_argument("--chunks", type=parse_chunks, default=[1, 40])
    parser.add_argument("--block", type=int, default=200, help="iterations per timed block")
    parser.add_argument("--rounds", type=int, default=8, help="timed blocks per variant")
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from wgan import config
    from wgan.util import malloc
    from wgan.data.toy import toy_dataset, toy_sample
    from wgan.gan.model import GAN

    hp = config.load(config.default_path("wgan-gp", args.data))
    keras.utils.set_random_seed(hp.seed)
    gan = GAN(hp)
    held = toy_sample(args.data, hp.batch_size, np.random.default_rng(0))
    datasets = {f"chunk {c}": toy_dataset(args.data, hp.batch_size, seed=0, chunk=c) for c in args.chunks}
    datasets["none (one batch in memory)"] = tf.data.Dataset.from_tensors(held).repeat()
    iterators = {name: iter(dataset) for name, dataset in datasets.items()}
    for iterator in iterators.values():  # trace, and fill each prefetch buffer, outside the timing
        for _ in range(5):
            float(gan.train_iteration(iterator, hp.n_critic)["critic_loss"])
    malloc.raise_thresholds()  # as training does after the first toy batch

    rates = {name: [] for name in iterators}
    for _ in range(args.rounds):
        for name, iterator in iterators.items():
            start = time.perf_counter()
            for _ in range(args.block):
                values = gan.train_iteration(iterator, hp.n_critic)
                float(values["critic_loss"])  # training pulls every iteration's scalars too
            rates[name].append(args.block / (time.perf_counter() - start))

    baseline = statistics.median(rates["none (one batch in memory)"])
    print(f"wgan-gp on {args.data} ({hp.precision}, batch {hp.batch_size}, {hp.n_critic} critic steps), "
          f"median of {args.rounds} blocks of {args.block} iterations, load {os.getloadavg()[0]:.2f}:")
    print("| input | iterations/s | min | max | / none |")
    print("|---|---:|---:|---:|---:|")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {min(values):.2f} | {max(values):.2f} | {median / baseline:.3f} |")


if __name__ == "__main__":
    main()
