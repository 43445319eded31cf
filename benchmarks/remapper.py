"""What Grappler's ``remapper failed`` error costs WGAN-GP, measured side by side.

    python benchmarks/remapper.py                       # 16x16 (digits) and 32x32, 5 timed iterations
    python benchmarks/remapper.py --sides 64 --iterations 3

With a gradient penalty, the critic runs on the interpolates inside a gradient tape, and
the penalty differentiates that tape again. The inner gradient of each LeakyReLU
(``LeakyReluGrad``) reads the LeakyReLU's input, the BiasAdd output. Grappler's remapper
fuses Conv2D + BiasAdd + LeakyRelu into one op anyway, finds the BiasAdd output still
wanted by the LeakyReluGrad, and gives up on the whole function (``Mutation::Apply error:
fanout ... exist for missing node ...BiasAdd``): none of its fusions are applied to the
iteration, not only that one.

Each variant runs in its own process (Grappler options are process-wide):

* ``keras-leaky-relu``: the critic with ``keras.layers.LeakyReLU`` (the graph before the fix),
  remapper on and failing;
* ``remapper-off``: the same graph with ``tf.config.optimizer.set_experimental_options(
  {"remapping": False})``, which only silences the error;
* ``shipped``: the critic as shipped, with ``wgan.models.activations.LeakyReLU``, whose
  gradient reads its output (same values), so the remapper succeeds.

Prints one table row per (side, variant): the median over rounds of each process's median
s/iteration, every round's value, and the time to the first iteration (Grappler included).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = ("keras-leaky-relu", "remapper-off", "shipped")


def child(variant, side, iterations):
    """Time one variant in this process; print one JSON line."""
    sys.path.insert(0, ROOT)
    import tensorflow as tf

    from wgan import benchmark

    if variant in ("keras-leaky-relu", "remapper-off"):
        import keras

        from wgan.models import dcgan

        dcgan.CRITIC_ACTIVATION = keras.layers.LeakyReLU  # the graph before the fix
    if variant == "remapper-off":
        tf.config.optimizer.set_experimental_options({"remapping": False})
    source = "digits" if side == 16 else "celeba"
    hp = benchmark.shipped_hparams("wgan-gp", source, None if side == 16 else side)
    row = benchmark.benchmark_model(hp, iterations)
    print(json.dumps({"variant": variant, "side": side, "s_per_iteration": statistics.median(row["iteration_s"]),
                      "iterations_per_s": row["iterations_per_s"], "first_iteration_s": row["first_iteration_s"]}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sides", default="16,32", help="image sides (16: the digits file; else celeba resized)")
    parser.add_argument("--iterations", type=int, default=5, help="timed iterations per variant")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of all variants")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.iterations)
        return
    rows = []
    for side in (int(s) for s in args.sides.split(",")):
        for round_ in range(args.rounds):  # interleaved, so a change in the machine's load hits every variant
            for variant in VARIANTS:
                out = subprocess.run([sys.executable, __file__, "--child", variant, str(side),
                                      "--iterations", str(args.iterations)], capture_output=True, text=True,
                                     check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # keep its error
                row = json.loads(out.stdout.strip().splitlines()[-1])
                row["remapper_failed"] = "remapper failed" in out.stderr
                rows.append(row)
                print(f"{side:>4} round {round_} {variant:<17} {row['s_per_iteration']:.3f} s/it  "
                      f"first {row['first_iteration_s']:.1f} s{'  (remapper failed)' if row['remapper_failed'] else ''}",
                      flush=True)
    print(f"load average after: {os.getloadavg()}")
    table = []
    for side in dict.fromkeys(r["side"] for r in rows):
        for variant in VARIANTS:
            mine = [r for r in rows if r["side"] == side and r["variant"] == variant]
            table.append({"side": side, "variant": variant, "s_per_iteration": statistics.median(
                r["s_per_iteration"] for r in mine), "first_iteration_s": statistics.median(
                r["first_iteration_s"] for r in mine), "remapper_failed": any(r["remapper_failed"] for r in mine),
                "rounds": [round(r["s_per_iteration"], 4) for r in mine]})
    print("\n| side | variant | remapper failed | s / iteration (median of rounds) | rounds | first iteration s | "
          "speed vs keras-leaky-relu |\n|---:|---|---|---:|---|---:|---:|")
    for row in table:
        base = next(r for r in table if r["side"] == row["side"] and r["variant"] == VARIANTS[0])
        print(f"| {row['side']} | {row['variant']} | {'yes' if row['remapper_failed'] else 'no'} | "
              f"{row['s_per_iteration']:.3f} | {', '.join(f'{t:.3f}' for t in row['rounds'])} | "
              f"{row['first_iteration_s']:.1f} | {base['s_per_iteration'] / row['s_per_iteration']:.2f}x |")


if __name__ == "__main__":
    main()
