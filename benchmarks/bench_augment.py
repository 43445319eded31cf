"""What the augmentation ops cost alone: one batch through a policy, at 28x28 grey and 64x64 RGB.

    python benchmarks/bench_augment.py [--batch 64] [--rounds 7] [--calls 10]

The policies are timed in turn in one process (``--rounds`` rounds of ``--calls`` calls each,
medians), so a change of load on a shared CPU hits each alike: DiffAugment's
``color,translation,cutout`` at p = 1, ADA's geometric ops at p = 1, and DiffAugment's at
p = 0 (the draws and the skipping ``tf.cond`` only). Forward only; one iteration augments
2 x n_critic + g_steps batches. Whole iterations with and without augmentation:
benchmarks/bench_variants.py (docs/augment.md gives both commands).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
from wgan.util import quiet

quiet.install()  # before TensorFlow is imported

POLICIES = (("diffaugment", "color,translation,cutout", 1.0),
            ("ada-geometric", "translation_reflect,flip,rotate90,scale", 1.0),
            ("p0", "color,translation,cutout", 0.0))
SHAPES = ((28, 28, 1), (64, 64, 3))


def time_policies(batch, rounds, calls):
    """{shape: {policy name: median milliseconds per batch}}."""
    import tensorflow as tf

    from wgan.gan import augment

    out = {}
    for shape in SHAPES:
        images = tf.random.stateless_uniform((batch, *shape), [0, 1], -1.0, 1.0)
        seed = tf.constant([1, 2], tf.int64)
        functions = {}
        for name, policy, p in POLICIES:
            ops = augment.parse_policy(policy)
            functions[name] = tf.function(
                lambda x, s, ops=ops, p=p, shape=shape: augment.apply(ops, x, augment.draw(ops, s, batch, shape, p)))
            functions[name](images, seed).numpy()  # trace
        times = {name: [] for name in functions}
        for _ in range(rounds):
            for name, function in functions.items():
                start = time.perf_counter()
                for _ in range(calls):
                    function(images, seed).numpy()
                times[name].append((time.perf_counter() - start) / calls * 1000.0)
        out["x".join(map(str, shape))] = {name: statistics.median(values) for name, values in times.items()}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    for shape, times in time_policies(args.batch, args.rounds, args.calls).items():
        print(f"{shape}: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in times.items())
              + f" per batch of {args.batch}")


if __name__ == "__main__":
    main()
