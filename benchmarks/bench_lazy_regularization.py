"""Lazy regularization's speed-up: rpgan's R1 + R2 on every critic update against every 4th.

Both GANs live in one process and are timed alternately (medians of 12 rounds of 4
iterations each), so that load from other processes hits both alike:

    python benchmarks/bench_lazy_regularization.py
"""

import os
import statistics
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import keras
import numpy as np
import tensorflow as tf
from conftest import tiny_hparams

from wgan.gan.model import GAN


def make(every):
    """A GAN of rpgan (R1 + R2) on 32x32 grey images, dcgan networks of base width 32, traced and warmed up."""
    hp = tiny_hparams("rpgan", "mnist", data={"name": "mnist", "resize": 32, "channels": 1}, batch_size=32,
                      n_critic=4, constraint_every=every, log_every=1000,
                      architecture={"name": "dcgan", "base_width": 32, "c_norm": "none"})
    keras.utils.set_random_seed(0)
    gan = GAN(hp)
    images = np.random.default_rng(0).uniform(-1, 1, (32, 32, 32, 1)).astype(np.float32)
    it = iter(tf.data.Dataset.from_tensors(images).repeat())
    for _ in range(3):
        gan.train_iteration(it, 4)  # trace and warm up
    return gan, it


def main():
    runs = {1: make(1), 4: make(4)}
    times = {1: [], 4: []}
    for rep in range(12):
        for every in (1, 4) if rep % 2 == 0 else (4, 1):
            gan, it = runs[every]
            t = time.perf_counter()
            for _ in range(4):
                float(gan.train_iteration(it, 4)["critic_loss"])
            times[every].append((time.perf_counter() - t) / 4)
    for every in (1, 4):
        print(f"constraint_every={every}: median {statistics.median(times[every]) * 1000:.1f} ms per iteration "
              f"(4 critic + 1 generator update), trace_count {runs[every][0].trace_count}")
    print("speed-up", statistics.median(times[1]) / statistics.median(times[4]))


if __name__ == "__main__":
    main()
