"""How fast hyperparameter variants of one shipped file train, side by side, and how long their runs take.

    python benchmarks/bench_variants.py --source 25gaussians --model wgan-gp \\
        --variant shipped: --variant nc4:n_critic=4 --variant w384:architecture.base_width=384
    python benchmarks/bench_variants.py --source digits --model wgan-gp --setup toolkit \\
        --variant shipped: --variant f32:precision=float32 --rounds 4 --block 20

A sweep (benchmarks/sweep.py) says what a variant scores; this says what it costs before
you spend the runs. Variants are written as in the sweep (``name:key=value,...``, dotted
keys, JSON values; ``name:`` alone is the file as shipped). One GAN per variant is built in
ONE process, each training from one real-shaped batch held in memory (no input cost, the
same for all: on the toy sets the real input costs about 1%, docs/results.md), and blocks
of ``--block`` iterations run in turn (A B C A B C ...), so a change of load on a shared
CPU hits every variant alike. Each iteration is the variant's own: its critic steps, batch,
networks and precision.

The table gives each variant's median iterations/s over ``--rounds`` blocks, the slowest
and fastest block, the ratio to the first variant, and the minutes its ``train_steps``
take at the median. Those minutes are iterations only: a run's evaluations, sample frames,
checkpoints and start-up come on top (about 30 s for the 25gaussians file).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
from wgan import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

from wgan import benchmark_report, config, study  # noqa: E402
from wgan.errors import WganError  # noqa: E402


def positive(text):
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return value


def resolve_variants(model, source, texts, setup=None):
    """``[(name, hp), ...]`` for the ``--variant`` texts, every override validated before anything is built.

    ConfigError (one line naming the variant and key) for a bad text, an unknown key or a bad value.
    """
    variants = [config.parse_variant(text) for text in texts]
    names = [name for name, _ in variants]
    if len(set(names)) != len(names):
        raise config.ConfigError(f"--variant: each variant needs its own name, got {', '.join(names)}")
    return [(name, config.resolve(model, source, setup=setup, overrides=overrides, missing_hint=None,
                                  overrides_from=f"--variant {name}"))
            for name, overrides in variants]


def time_variants(variants, block, rounds, warmup=5):
    """Train each ``(name, hp)`` in turn, ``rounds`` blocks of ``block`` iterations, from an in-memory batch.

    Returns ``[{"variant", "iterations_per_s": [one per block], "train_steps", "n_critic",
    "batch_size", "precision"}, ...]`` in the order given. The first ``warmup`` iterations of
    each (tracing and graph optimization) are not timed.
    """
    import keras

    from wgan import benchmark
    from wgan.gan import GAN

    built = []
    for name, hp in variants:
        keras.utils.set_random_seed(hp.seed)
        gan = GAN(hp)
        iterator = iter(benchmark.in_memory_batches(hp))
        for _ in range(warmup):
            float(gan.train_iteration(iterator, hp.n_critic)["critic_loss"])
        built.append((name, hp, gan, iterator))
    rates = {name: [] for name, *_ in built}
    for _ in range(rounds):
        for name, hp, gan, iterator in built:
            start = time.perf_counter()
            for _ in range(block):
                # Training pulls every iteration's scalars back to Python too.
                float(gan.train_iteration(iterator, hp.n_critic)["critic_loss"])
            rates[name].append(block / (time.perf_counter() - start))
    return [{"variant": name, "iterations_per_s": rates[name], "train_steps": hp.train_steps,
             "n_critic": hp.n_critic, "batch_size": hp.batch_size, "precision": hp.precision}
            for name, hp, *_ in built]


def markdown(rows, overrides, block, rounds):
    """The table: one line per variant (see the module docstring), the first variant the reference."""
    reference = statistics.median(rows[0]["iterations_per_s"])
    lines = [f"Median of {rounds} blocks of {block} iterations per variant, in turn, from one batch in memory:", "",
             "| variant | overrides | critic steps | batch | precision | iterations/s | slowest | fastest "
             "| / first | train_steps | min / run (iterations only) |",
             "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for row, texts in zip(rows, overrides):
        median = statistics.median(row["iterations_per_s"])
        shown = ", ".join(f"`{t}`" for t in texts) or "(shipped file)"
        lines.append(f"| {row['variant']} | {shown} | {row['n_critic']} | {row['batch_size']} | {row['precision']} "
                     f"| {median:.2f} | {min(row['iterations_per_s']):.2f} | {max(row['iterations_per_s']):.2f} "
                     f"| {median / reference:.3f} | {row['train_steps']:,} | {row['train_steps'] / median / 60:.1f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, choices=study.SOURCES + ("celeba", "cifar10"))
    parser.add_argument("--model", required=True)
    parser.add_argument("--setup", default=None,
                        help="start from hyperparameter/<model>-<source>-<setup>.json (e.g. toolkit)")
    parser.add_argument("--variant", action="append", required=True, help="name:key=value,... (name: alone = shipped)")
    parser.add_argument("--block", type=positive, default=100, help="iterations per timed block")
    parser.add_argument("--rounds", type=positive, default=6, help="timed blocks per variant")
    args = parser.parse_args()
    variants = resolve_variants(args.model, args.source, args.variant, args.setup)
    from wgan import benchmark  # TensorFlow: after the arguments are known to be good

    results = {"command": benchmark_report.command_line("benchmarks/bench_variants.py"),
               "machine": benchmark.machine_info()}
    rows = time_variants(variants, args.block, args.rounds)
    benchmark.note_load_after(results)
    overrides = [config.override_texts(config.parse_variant(text)[1]) for text in args.variant]
    print("\n".join(benchmark_report.command_and_machine(results)))
    print(markdown(rows, overrides, args.block, args.rounds))


if __name__ == "__main__":
    try:
        main()
    except WganError as err:  # a bad --variant, an unknown key or a missing file: one line, as bin/ does
        sys.exit(f"error: {err}")
