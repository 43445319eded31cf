"""What Grappler's ``remapper failed`` costs the WGAN-GP ResNet critic, measured side by side.

    python benchmarks/remapper_resnet.py                          # CIFAR file at base width 64, batch 32
    python benchmarks/remapper_resnet.py --width 128 --batch 64 --rounds 4

The 32x32 ResNet critic without normalization (the paper's CIFAR-10 setting) feeds residual
sums straight into ReLUs. Grappler's remapper fuses Conv2D + BiasAdd + Add + Relu; under the
gradient penalty the sum is still wanted by the next convolution's gradient, and the remapper
gives up on the whole function (``fanout ... exist for missing node ...Add``). Two critics are
built in ONE process and their iterations alternate (A B A B ...), so a change in the load of
this shared machine hits both alike:

* ``keras-relu``: those ReLUs are ``keras.layers.ReLU`` (the remapper fails);
* ``shipped``: they are ``wgan.models.activations.MaxReLU`` (``tf.maximum``), which the
  remapper does not try to fuse.

A second process builds only the shipped critic and counts the error lines (at
TF_CPP_MIN_LOG_LEVEL=2). Prints the median seconds per iteration, the spread and the speed
relative to ``keras-relu``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from unittest import mock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(mode, width, batch, rounds):
    sys.path.insert(0, ROOT)
    import keras

    from wgan import config
    from wgan.lab import benchmark
    from wgan.models import activations, resnet

    hp = benchmark.shipped_hparams("wgan-gp", "cifar10", architecture="resnet")
    hp = config.apply_overrides(hp, [("architecture.base_width", width), ("batch_size", batch)], source="benchmark")

    def build(activation):
        # The critic's layers read the module attribute when they are made; it is restored on
        # leaving, so the next variant is built with its own value in this same process.
        with mock.patch.object(resnet, "CRITIC_SUM_ACTIVATION", activation):
            return benchmark.in_memory_gan(hp)

    if mode == "shipped-alone":
        variants = {"shipped": build(activations.MaxReLU)}
    else:
        variants = {"keras-relu": build(keras.layers.ReLU), "shipped": build(activations.MaxReLU)}
    print(json.dumps(benchmark.alternate(variants, hp, rounds)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=64, help="architecture.base_width (the paper: 128)")
    parser.add_argument("--batch", type=int, default=32, help="batch_size (the paper: 64)")
    parser.add_argument("--rounds", type=int, default=8, help="timed iterations of each variant, alternating")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.width, args.batch, args.rounds)
        return
    print(f"load average before: {os.getloadavg()}", flush=True)
    results = {}
    for mode, rounds in (("paired", args.rounds), ("shipped-alone", 1)):
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--width", str(args.width), "--batch",
                              str(args.batch), "--rounds", str(rounds)], capture_output=True, text=True, check=True,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # keep Grappler's error line
        results[mode] = (json.loads(out.stdout.strip().splitlines()[-1]), out.stderr.count("remapper failed"))
    print(f"load average after: {os.getloadavg()}")
    paired, errors = results["paired"]
    print(f"'remapper failed' lines: {errors} in the paired process, {results['shipped-alone'][1]} with the shipped "
          "critic alone")
    base = statistics.median(paired["keras-relu"]["times"])
    print(f"\nwidth {args.width}, batch {args.batch}, {args.rounds} rounds\n"
          "| variant | s / iteration (median) | min-max | first iteration s | speed vs keras-relu |\n"
          "|---|---:|---|---:|---:|")
    for name, row in paired.items():
        median = statistics.median(row["times"])
        print(f"| {name} | {median:.3f} | {min(row['times']):.3f}-{max(row['times']):.3f} | {row['first']:.1f} | "
              f"{base / median:.2f}x |")


if __name__ == "__main__":
    main()
