"""``python bin/benchmark.py``: training throughput per model, precision and XLA, against matmul peak.

    python bin/benchmark.py                                    # the README table
    python bin/benchmark.py --sizes 64 --models wgan-gp --jit off,on --iterations 5
    python bin/benchmark.py --compare benchmark-old.json       # ratios against an earlier run
    python bin/benchmark.py --architectures resnet --source cifar10 --sizes 32 --models wgan-gp
    python bin/benchmark.py --steps_per_call 1,8,32 --models wgan-gp --noinput   # host cost per call (a GPU)

For every model (by default each objective with shipped celeba hyperparameters: dcgan, wgan,
wgan-gp) with every ``--architectures`` (default dcgan) at each ``--sizes`` (the shipped
``<model>-<source>[-<architecture>].json`` files, celeba by default: batch 64, base width 64)
and the toy MLP (the shipped 8gaussians hyperparameters), for every ``--precision`` and
``--jit`` setting: generator
iterations/s, real images/s through the critic, time to the first iteration, and achieved
GFLOP/s (``wgan.lab.benchmark.iteration_flops``) with its ratio to the GFLOP/s of an n x n
matrix product in the same compute dtype, measured in the same run. Then the input
pipeline alone (records built from generated JPEGs) and the fraction of the 64x64
iteration spent waiting for it. Prints tables and writes everything to ``--json``.
"""

import json
import sys
import tempfile

from absl import flags, logging

from wgan import config
from wgan.lab import benchmark_report
from wgan.gan import objectives
from wgan.cli import common
from wgan.errors import ConfigError

flags.DEFINE_list("models", config.shipped_models("celeba"), "Objectives to time.")
flags.DEFINE_list("sizes", ["32", "64"], "Image sides of the image architectures.")
flags.DEFINE_list("architectures", ["dcgan"], "Image architectures to time (resnet: the WGAN-GP paper's "
                  "residual networks, far slower).")
flags.DEFINE_string("source", "celeba", "The image rows start from hyperparameter/<model>-<source>[-<architecture>].json "
                    "resized to each --sizes.")
flags.DEFINE_list("setups", ["default"], "Which of a source's files to time: default is <model>-<source>.json, any "
                  "other name <model>-<source>-<name>.json (fashion_mnist and mnist: --setups default,lucic2018).")
flags.DEFINE_bool("toy", True, "Also time the toy MLP on 8gaussians.")
flags.DEFINE_list("precision", ["float32", "mixed_bfloat16"], "Precision policies to time.")
flags.DEFINE_list("jit", ["off"], "XLA settings to time: off, on, or off,on.")
flags.DEFINE_list("steps_per_call", ["1"], "Generator iterations per compiled call to time (hyperparameter "
                  "steps_per_call), e.g. 1,8,32: each call is waited for once, as training waits at a log, so the "
                  "rows show what the host's per-call work costs (docs/scale.md).")
flags.DEFINE_integer("iterations", 3, "Timed generator iterations per configuration (after one untimed).",
                     lower_bound=1)
flags.DEFINE_integer("matmul_n", 2048, "Side of the reference matrix product.", lower_bound=64)
flags.DEFINE_bool("input", True, "Also time the input pipeline and the input wait at the largest size.")
flags.DEFINE_integer("input_images", 1024, "Generated JPEGs for the input-pipeline records.", lower_bound=64)
flags.DEFINE_integer("input_rounds", 3, "Alternating rounds (records, memory) of the input-cost measurement.",
                     lower_bound=1)
flags.DEFINE_string("json", "benchmark.json", "Where to write the results.")
flags.DEFINE_string("compare", None, "An earlier --json file: print this run's iterations/s relative to it.")
FLAGS = flags.FLAGS

JIT_VALUES = {"off": False, "on": True}


def configurations():
    """``[(label, hp, file)]`` in the order they are timed; ``file``: the row's ``setup`` and the file's own
    ``file_side``."""
    from wgan.lab import benchmark

    for precision in FLAGS.precision:
        if precision not in benchmark.COMPUTE_DTYPES:
            raise ConfigError(f"--precision {precision!r}; valid values: {', '.join(benchmark.COMPUTE_DTYPES)}")
    for value in FLAGS.jit:
        if value not in JIT_VALUES:
            raise ConfigError(f"--jit {value!r}; valid values: off, on")
    for model in FLAGS.models:
        objectives.get(model, where="--models")
    calls = []
    for value in FLAGS.steps_per_call:
        if not value.strip().isdigit() or int(value) < 1:
            raise ConfigError(f"--steps_per_call {value!r}: expected whole numbers >= 1, e.g. 1,8,32")
        calls.append(int(value))
    from wgan.models import ARCHITECTURES

    for architecture in FLAGS.architectures:
        if architecture not in ARCHITECTURES:
            raise ConfigError(f"--architectures {architecture!r}; valid values: {', '.join(ARCHITECTURES)}")
    # (side, source, architecture, setup); the toy rows take the architecture of their file (mlp).
    setups = [None if name == "default" else name for name in FLAGS.setups]
    shapes = [(int(side), FLAGS.source, architecture, setup) for setup in setups
              for architecture in FLAGS.architectures for side in FLAGS.sizes]
    shapes += [(None, "8gaussians", None, None)] if FLAGS.toy else []
    out = []
    for side, source, architecture, setup in shapes:
        for model in FLAGS.models:
            # The file's own side: at another side a row times a resized copy, not a run of the file.
            file_side = config.load(config.default_path(model, source, architecture=architecture,
                                                        setup=setup)).data.resize
            for jit in FLAGS.jit:
                for precision in FLAGS.precision:
                    for steps in calls:
                        hp = benchmark.shipped_hparams(model, source, side, precision, JIT_VALUES[jit], architecture,
                                                       setup)
                        hp = config.apply_overrides(hp, [("steps_per_call", steps)], source="--steps_per_call")
                        # Labels as before architectures were a flag, so --compare matches older JSON.
                        where = f"{hp.architecture.name} {side}x{side}" if side else f"{hp.architecture.name} toy"
                        label = f"{model:<7} {where:<11} {precision:<14} {'xla' if JIT_VALUES[jit] else '-'}"
                        label += (f" {setup}" if setup else "") + (f" k{steps}" if steps != 1 else "")
                        out.append((label, hp, {"setup": setup, "file_side": file_side}))
    return out


def print_models(rows, peaks):
    print(f"\n{'model   architecture   precision      xla  [kK: K it/call]':<44}{'it/s':>8}{'real img/s':>12}{'first it (s)':>14}"
          f"{'GFLOP/it':>10}{'GFLOP/s':>9}{'matmul GFLOP/s':>16}{'ratio':>7}")
    for row in rows:
        peak = peaks[row["precision"]]
        print(f"{row['label']:<44}{row['iterations_per_s']:>8.3f}{row['real_images_per_s']:>12.1f}"
              f"{row['first_iteration_s']:>14.1f}{row['gflop_per_iteration']:>10.1f}{row['gflops']:>9.1f}"
              f"{peak:>16.1f}{row['gflops'] / peak:>7.2f}")


def print_speedups(rows):
    found = benchmark_report.precision_speedups(rows)
    if found:
        print("\nspeed-up over float32 (same model, network, size and XLA setting):")
        for (model, architecture, side, jit, precision), ratio in found.items():
            print(f"  {model:<7} {architecture:<7} {side or 'toy'!s:>4} {'xla ' if jit else ''}{precision}: {ratio:.2f}x")
    xla = benchmark_report.xla_speedups(rows)
    if xla:
        print("\nXLA (jit_compile) speed-up over the same configuration without it:")
        for (model, architecture, side, precision), ratio in xla.items():
            print(f"  {model:<7} {architecture:<7} {side or 'toy'!s:>4} {precision}: {ratio:.2f}x")
    calls = benchmark_report.steps_per_call_speedups(rows)
    if calls:
        print("\nspeed-up of K iterations per call over 1 (same model, network, size, XLA setting and precision):")
        for (model, architecture, side, jit, precision, steps), ratio in calls.items():
            print(f"  {model:<7} {architecture:<7} {side or 'toy'!s:>4} {'xla ' if jit else ''}{precision} "
                  f"K={steps}: {ratio:.2f}x")


def print_comparison(rows, path):
    with open(path, encoding="utf-8") as f:
        old = json.load(f)
    before = {r["label"]: r["iterations_per_s"] for r in old.get("models", [])}
    print(f"\nagainst {path} (commit {old.get('machine', {}).get('commit')}, "
          f"load {old.get('machine', {}).get('load_average')}):")
    for row in rows:
        if row["label"] in before:
            print(f"  {row['label']:<44}{row['iterations_per_s'] / before[row['label']]:>7.2f}x")


def measure_input(results, rows):
    """Input pipeline alone, and its cost to each model at the largest size and fastest setting."""
    from wgan import data
    from wgan.lab import benchmark

    side = max(int(s) for s in FLAGS.sizes)
    timed = [r for r in rows if r["side"] == side]
    with tempfile.TemporaryDirectory() as work:
        folder = benchmark.build_benchmark_records(work, FLAGS.input_images, side=side)
        alone = benchmark.input_throughput(folder)
        print(f"\ninput pipeline alone ({side}x{side} records -> float batches of 64): "
              f"{alone['batches_per_s']:.1f} batches/s = {alone['images_per_s']:.0f} images/s")
        overheads = []
        for model in FLAGS.models:
            candidates = [r for r in timed if r["model"] == model]
            if not candidates:
                continue
            fastest = max(candidates, key=lambda r: r["iterations_per_s"])
            hp = benchmark.shipped_hparams(model, FLAGS.source, side, fastest["precision"], fastest["jit_compile"],
                                           fastest["architecture"])
            dataset = data.make_dataset(folder, hp.batch_size, seed=0, shuffle_buffer=hp.data.shuffle_buffer)
            cost = benchmark.input_overhead(hp, dataset, FLAGS.input_rounds)
            cost["step_batches_per_s"] = hp.n_critic / cost["records_s"]
            overheads.append(cost)
            spread = ", ".join(f"{min(v):.3f}-{max(v):.3f}" for v in cost["rounds"].values())
            print(f"  {model:<7} {fastest['precision']:<14} consumes {cost['step_batches_per_s']:5.1f} batches/s; "
                  f"s/iteration from records {cost['records_s']:.3f}, from memory {cost['memory_s']:.3f} "
                  f"(ranges {spread}): input costs {100 * cost['fraction']:+.1f}% of iteration time")
    results["input"] = {"side": side, "alone": alone, "overhead": overheads}


def main(argv):
    del argv
    from wgan.lab import benchmark

    # The command line, so that a table made from this JSON (docs, tools/readme_tables.py) can print it.
    command = benchmark_report.command_line("bin/benchmark.py")
    results = {"command": command, "machine": benchmark.machine_info(), "models": []}
    print(f"{results['machine']['cpu']}, {results['machine']['cores']} cores, TF {results['machine']['tensorflow']}, "
          f"commit {results['machine']['commit']}, load average {results['machine']['load_average']}")
    import keras

    configs = configurations()  # checks the flags before anything is timed
    peaks = {}
    for precision in FLAGS.precision:
        peaks[precision] = benchmark.matmul_gflops(benchmark.COMPUTE_DTYPES[precision], FLAGS.matmul_n)
        print(f"matmul {FLAGS.matmul_n}x{FLAGS.matmul_n} {benchmark.COMPUTE_DTYPES[precision].name}: "
              f"{peaks[precision]:.1f} GFLOP/s", flush=True)
    results["matmul"] = {"n": FLAGS.matmul_n, "gflops": peaks}
    for label, hp, file in configs:
        row = dict(benchmark.benchmark_model(hp, FLAGS.iterations, label=label), **file)
        row["matmul_ratio"] = row["gflops"] / peaks[hp.precision]
        results["models"].append(row)
        logging.info("%s: %.3f it/s", label, row["iterations_per_s"])
        print(f"  {label}: {row['iterations_per_s']:.3f} it/s", flush=True)
        keras.backend.clear_session()  # drop the finished models' graphs
    print_models(results["models"], peaks)
    print_speedups(results["models"])
    if FLAGS.input and FLAGS.sizes:
        measure_input(results, results["models"])
    benchmark.note_load_after(results)
    print(f"\nload average before {results['machine']['load_average']}, after {results['machine']['load_average_after']}")
    benchmark.write_results(FLAGS.json, results)  # atomic: an interrupted write keeps the old table's JSON whole
    print(f"wrote {FLAGS.json}")
    if FLAGS.compare:
        print_comparison(results["models"], FLAGS.compare)
    sys.stdout.flush()


def run_cli():
    common.run(main)


if __name__ == "__main__":
    run_cli()
