"""What the training loop costs outside the compiled call, per generator iteration, for K iterations per call.

    python benchmarks/host_overhead.py                                  # K = 1, 4, 16; 3 rounds
    python benchmarks/host_overhead.py --steps_per_call 1,8 --rounds 5 --json host.json

A CPU-measurable stand-in for what a GPU loses to the host (docs/scale.md). Two networks of
the shipped ``wgan-gp-8gaussians.json`` (its batch 256, 5 critic steps and toy input; the
precision this machine runs fastest, ``wgan.recipe.precision``, unless ``--precision``):
``toy``, the file's MLP, and ``negligible``, that MLP cut to 1 unit in 1 hidden layer, whose
arithmetic costs next to nothing, so that what is left is the host's and the graph's fixed
cost. Each runs ``wgan.train.loop.train`` itself (evaluation off; samples, histograms and
checkpoints past the run, so only the logs every ``log_every`` and their health checks
remain) for ``--iterations`` iterations with each ``--steps_per_call``. Per iteration:

* ``loop_s``: wall seconds of the loop from the end of the first call (tracing) to the end
  of the last, what train.py's iterations/s shows;
* ``graph_s``: the compiled graph alone, from the run's own input: calls of 64 iterations
  (16 for the toy network; the call's Python dispatch spread over them), waited for;
* ``host_s`` = loop_s - graph_s: what the loop adds (the call's dispatch, host reads, step
  bookkeeping, progress line, logs), and its ``share`` of loop_s;
* ``in_call_s``: the seconds inside the loop's calls, dispatch included (on a CPU a call
  returns when its work is done), for comparison;
* ``alone_s``: one iteration alone, fed from memory and waited for, as ``bin/benchmark.py``
  times it (``wgan.lab.benchmark.benchmark_model``).

Runs go in turn (toy K=1, K=4, ..., negligible K=1, ...) for ``--rounds`` rounds, so a change
of load on a shared machine hits all alike; the table gives medians over the rounds.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
from wgan.util import quiet

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

FAR = 10 ** 9  # an event period no run reaches


def parse_steps(text):
    """``"1,4,16"`` -> [1, 4, 16]; argparse.ArgumentTypeError saying what is wrong."""
    try:
        steps = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected whole numbers separated by commas, e.g. 1,4,16") from None
    if not steps or min(steps) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every value must be at least 1")
    return steps


def networks(hp):
    """``{name: hp}``: the shipped toy file, and its network cut to 1 unit in 1 hidden layer."""
    from wgan import config

    quiet_events = [("eval_every", 0), ("sample_every", FAR), ("histogram_every", FAR), ("checkpoint_every", FAR),
                    ("snapshot_every", FAR)]
    toy = config.apply_overrides(hp, quiet_events, source="host_overhead")
    negligible = config.apply_overrides(toy, [("architecture.base_width", 1), ("architecture.depth", 1)],
                                        source="host_overhead")
    return {"toy": toy, "negligible": negligible}


def timed_run(hp, iterations, work):
    """Train a fresh run of ``hp`` for ``iterations`` in ``work``; returns seconds per iteration
    ``{"loop_s", "compiled_s", "host_s", "share"}`` from the end of the first call on."""
    from wgan import runs
    from wgan.gan.model import GAN
    from wgan.train import loop

    calls = []  # (iterations, start, end) of every compiled call
    block = GAN.train_block

    def timed(self, iterator, steps, n_critic):
        start = time.perf_counter()
        out = block(self, iterator, steps, n_critic)
        calls.append((steps, start, time.perf_counter()))
        return out

    GAN.train_block = timed
    try:
        _, vdir, hp, lock, _ = runs.open_run(work, hp)
        lock.release()
        loop.seed_everything(hp.seed)
        loop.train(hp, vdir, iterations, progress=False)
    finally:
        GAN.train_block = block
    counted = calls[1:]  # the first call traces the graph
    done = sum(steps for steps, _, _ in counted)
    return {"loop_s": (counted[-1][2] - calls[0][2]) / done,
            "in_call_s": sum(end - start for _, start, end in counted) / done}


def graph_seconds(hp, calls=3, steps=64):
    """Seconds per iteration of the compiled graph alone on the run's own input
    (``benchmark.block_seconds`` fed by ``inputs.training_data``)."""
    from wgan.data import inputs
    from wgan.lab import benchmark

    return benchmark.block_seconds(hp, inputs.training_data(hp, None, seed=hp.seed).dataset, calls=calls, steps=steps)


def calls_side_by_side(hp, steps_per_call, rounds=15, block=16):
    """Seconds per iteration of the bare calls, interleaved in one process on one GAN fed from memory:
    ``"per-iteration reads"``, the loop before steps_per_call (one ``train_iteration`` per iteration,
    every metric converted to a float and the step read), and ``"K=k"``, calls of k iterations with
    one read per call (``train_block``). ``block`` iterations per timing, median of ``rounds``. No
    logs, no input pipeline: the call's own fixed cost, which a GPU pays per synchronization."""
    import keras

    from wgan.gan.model import GAN
    from wgan.lab import benchmark

    keras.utils.set_random_seed(hp.seed)
    gan = GAN(hp)
    iterator = iter(benchmark.in_memory_batches(hp))
    n_critic = hp.n_critic

    def reads():
        for _ in range(block):
            values = gan.train_iteration(iterator, n_critic)
            {k: float(v) for k, v in values.items()}, int(gan.step)

    def calls(k):
        def run():
            for _ in range(block // k):
                out = gan.train_block(iterator, k, n_critic)
            float(out["critic_loss"])
        return run

    variants = {"per-iteration reads": reads, **{f"K={k}": calls(k) for k in steps_per_call if block % k == 0}}
    for run in variants.values():
        run()  # trace
    times = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) / block)
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps_per_call", type=parse_steps, default=[1, 4, 16])
    parser.add_argument("--iterations", type=int, default=160, help="iterations per run (toy; negligible: 4x)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per network and K, in turn")
    parser.add_argument("--alone", type=int, default=20, help="iterations of the compiled-alone timing per round")
    parser.add_argument("--precision", default=None, choices=("float32", "mixed_bfloat16", "mixed_float16"),
                        help="default: the file's, or float32 on a CPU without bfloat16 units (wgan.recipe)")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--calls_only", action="store_true", help="only the bare calls side by side (seconds)")
    args = parser.parse_args()

    from wgan import config, recipe
    from wgan.lab import benchmark, benchmark_report
    from wgan.util.cpus import bfloat16_units

    shipped = config.load(config.default_path("wgan-gp", "8gaussians"))
    precision = args.precision or recipe.precision(shipped.precision, cpu_bfloat16=bfloat16_units())[0]
    variants = networks(config.apply_overrides(shipped, [("precision", precision)], source="--precision"))
    results = {"command": benchmark_report.command_line("benchmarks/host_overhead.py"),
               "machine": benchmark.machine_info(), "precision": precision, "batch_size": shipped.batch_size,
               "n_critic": shipped.n_critic, "log_every": shipped.log_every, "rows": []}
    results["calls"] = {name: calls_side_by_side(hp, args.steps_per_call) for name, hp in variants.items()
                        if name == "negligible" or not args.calls_only}
    for name, figures in results["calls"].items():
        print(f"{name}: " + ", ".join(f"{k} {1e3 * v:.2f} ms/it" for k, v in figures.items()), flush=True)
    if args.calls_only:
        benchmark.publish(results, table, args.json)
        return
    measured = {(name, k): [] for name in variants for k in args.steps_per_call}
    alone = {name: [] for name in variants}
    graph = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as work:
        for round_index in range(args.rounds):
            for name, hp in variants.items():
                iterations = args.iterations * (4 if name == "negligible" else 1)
                alone[name].append(1.0 / benchmark.benchmark_model(hp, args.alone)["iterations_per_s"])
                graph[name].append(graph_seconds(hp, steps=64 if name == "negligible" else 16))
                for k in args.steps_per_call:
                    run_hp = config.apply_overrides(hp, [("steps_per_call", k)], source="host_overhead")
                    folder = os.path.join(work, f"{name}-k{k}-{round_index}")
                    figures = timed_run(run_hp, iterations, folder)
                    figures["host_s"] = figures["loop_s"] - graph[name][-1]
                    measured[name, k].append(figures)
                    print(f"round {round_index + 1}: {name:<10} K={k:<3} {1 / figures['loop_s']:8.2f} it/s, host "
                          f"{1e3 * figures['host_s']:.2f} ms/it", flush=True)
    for (name, k), runs_ in measured.items():
        med = {key: statistics.median(r[key] for r in runs_) for key in ("loop_s", "in_call_s", "host_s")}
        results["rows"].append({"network": name, "steps_per_call": k, "alone_s": statistics.median(alone[name]),
                                "graph_s": statistics.median(graph[name]), "share": med["host_s"] / med["loop_s"],
                                "rounds": runs_, **med})
    benchmark.publish(results, table, args.json)


def table(results):
    """Markdown: the bare calls side by side, then one row per network and K, host time relative to K = 1's."""
    from wgan.lab import benchmark_report

    lines = benchmark_report.command_and_machine(
        results, f"wgan-gp-8gaussians.json ({results['precision']}, batch {results['batch_size']}, "
                 f"{results['n_critic']} critic steps, a log every {results['log_every']}), medians of the rounds, on ")
    for name, figures in results.get("calls", {}).items():
        base = figures["per-iteration reads"]
        lines += [f"Bare calls, {name} network, from memory, interleaved: " + ", ".join(
            f"{k} {1e3 * v:.2f} ms/it ({v / base:.2f})" for k, v in figures.items()) + ".", ""]
    if not results["rows"]:
        return "\n".join(lines)
    lines += [("| network | steps/call | train loop it/s | graph alone it/s | benchmark.py it/s | loop / benchmark.py "
               "| host ms/it | host / K=1's | outside the graph |"),
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    single = {r["network"]: r["host_s"] for r in results["rows"] if r["steps_per_call"] == 1}
    for r in results["rows"]:
        relative = f"{r['host_s'] / single[r['network']]:.2f}" if r["network"] in single else ""
        lines.append(f"| {r['network']} | {r['steps_per_call']} | {1 / r['loop_s']:.2f} | {1 / r['graph_s']:.2f} "
                     f"| {1 / r['alone_s']:.2f} | {r['alone_s'] / r['loop_s']:.3f} | {1e3 * r['host_s']:.2f} "
                     f"| {relative} | {100 * r['share']:.1f}% |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
