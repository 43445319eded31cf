"""What Grappler's ``remapper failed`` error costs WGAN-GP, measured side by side.

    python benchmarks/remapper.py                       # 16x16 (digits file) and 32x32 (celeba file), 8 rounds
    python benchmarks/remapper.py --sides 64 --rounds 4

With a gradient penalty the critic runs on the interpolates inside a gradient tape, and the
penalty differentiates that tape again. The inner gradient of Keras' LeakyReLU
(``LeakyReluGrad``) reads the LeakyReLU's input, the BiasAdd output. Grappler's remapper
fuses Conv2D + BiasAdd + LeakyRelu into one op anyway, finds that BiasAdd output still
wanted, and gives up on the whole function (``Mutation::Apply error: fanout ... exist for
missing node ...BiasAdd``): none of its rewrites apply to that function, not only this one.

Two critics are built in ONE process and their iterations alternate (A B A B ...), so a
change in the machine's load (this machine is shared) hits both alike:

* ``keras-leaky-relu``: the critic with ``keras.layers.LeakyReLU`` (the graph before the fix);
* ``shipped``: the critic as shipped, with ``wgan.models.activations.LeakyReLU``, whose
  gradient reads its output (same values), so the remapper succeeds.

A third process times ``remapper-off`` (``tf.config.optimizer.set_experimental_options(
{"remapping": False})`` with the old critic): silencing the error that way, for comparison.
Each process is also checked for the error text (at TF_CPP_MIN_LOG_LEVEL=2).
Prints a markdown table: median s/iteration over the rounds, the interquartile range, the
time to the first iteration (tracing and Grappler included; in the paired process the
critic built first, keras-leaky-relu, also pays the process's one-time start-up, so that
column is not a fair comparison between the two) and the speed relative to
``keras-leaky-relu``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from unittest import mock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _hparams(side):
    from wgan.lab import benchmark

    return benchmark.shipped_hparams("wgan-gp", "digits") if side == 16 else \
        benchmark.shipped_hparams("wgan-gp", "celeba", side)


def child(mode, side, rounds):
    """Time in this process; print one JSON line {variant: {"times": [...], "first": s}}."""
    sys.path.insert(0, ROOT)
    import keras
    import tensorflow as tf

    from wgan.lab import benchmark
    from wgan.models import activations, dcgan

    hp = _hparams(side)

    def build(activation):
        # The critic's layers read the module attribute when they are made; it is restored on
        # leaving, so the next variant is built with its own value in this same process.
        with mock.patch.object(dcgan, "CRITIC_ACTIVATION", activation):
            return benchmark.in_memory_gan(hp)

    if mode == "remapper-off":
        tf.config.optimizer.set_experimental_options({"remapping": False})
        variants = {"remapper-off": build(keras.layers.LeakyReLU)}
    else:
        variants = {"keras-leaky-relu": build(keras.layers.LeakyReLU), "shipped": build(activations.LeakyReLU)}
    print(json.dumps(benchmark.alternate(variants, hp, rounds)))


def _quartiles(values):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return q[0], q[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sides", default="16,32", help="image sides (16: the digits file; else celeba resized)")
    parser.add_argument("--rounds", type=int, default=8, help="timed iterations of each variant, alternating")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.rounds)
        return
    print(f"load average before: {os.getloadavg()}", flush=True)
    rows = []
    for side in (int(s) for s in args.sides.split(",")):
        for mode in ("paired", "remapper-off"):
            out = subprocess.run([sys.executable, __file__, "--child", mode, str(side), "--rounds", str(args.rounds)],
                                 capture_output=True, text=True, check=True,
                                 env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # keep Grappler's error line
            failed = out.stderr.count("remapper failed")
            for name, result in json.loads(out.stdout.strip().splitlines()[-1]).items():
                rows.append({"side": side, "variant": name, "process": mode, "remapper_errors_in_process": failed,
                             **result})
                print(f"{side:>4} {name:<17} median {statistics.median(result['times']):.4f} s/it  "
                      f"first {result['first']:.1f} s  ('remapper failed' lines in its process: {failed})", flush=True)
    print(f"load average after: {os.getloadavg()}")
    print("\n| side | variant | process | 'remapper failed' in process | s / iteration (median) | IQR | "
          "first iteration s | speed vs keras-leaky-relu |\n|---:|---|---|---:|---:|---|---:|---:|")
    for row in rows:
        base = next(r for r in rows if r["side"] == row["side"] and r["variant"] == "keras-leaky-relu")
        low, high = _quartiles(row["times"])
        print(f"| {row['side']} | {row['variant']} | {row['process']} | {row['remapper_errors_in_process']} | "
              f"{statistics.median(row['times']):.4f} | {low:.4f}-{high:.4f} | {row['first']:.1f} | "
              f"{statistics.median(base['times']) / statistics.median(row['times']):.2f}x |")


if __name__ == "__main__":
    main()
