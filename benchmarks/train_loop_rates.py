"""``bin/train.py``'s own speed on the shipped 8gaussians WGAN-GP file, beside a PyTorch loop of the same toy
and beside an older checkout's train.py, in one run.

    python benchmarks/train_loop_rates.py --torch_python /path/to/venv-with-torch/bin/python --steps_per_call 1,10
    python benchmarks/train_loop_rates.py --network negligible --baseline /path/to/old/checkout --steps_per_call 1,10

Each round runs, one after the other:

* with ``--torch_python`` (an interpreter that has torch; PyTorch is not a dependency of the
  toolkit): ``benchmarks/torch_toy.py``, the same MLP, batch 256, 5 critic + 1 generator
  Adam steps, penalty weight 0.1, float32, ``--torch_iterations`` timed iterations;
* with ``--baseline DIR``: that checkout's ``bin/train.py`` (an older commit of the toolkit,
  which knows no ``steps_per_call``), as below;
* this checkout's ``bin/train.py -m wgan-gp --data 8gaussians`` itself, as a user runs it, for
  ``--steps`` iterations with evaluation off, in float32, once per ``--steps_per_call``.

A train.py's speed is read from its run's TensorBoard scalars: the median over its logging
windows (10 iterations each) of iterations per wall second, so the windows holding the first
call's tracing or a sample picture (every 250 iterations) do not count, as in issue 40's
figures. ``--network negligible`` cuts both MLPs to 1 unit in 1 hidden layer: the arithmetic
costs next to nothing, so what is left is the loop's and the graph's fixed cost per iteration.
With it, the table also gives each loop's host time: its seconds per iteration minus the
compiled graph's alone (calls of 64 iterations of this checkout's ``GAN.train_block``, fed
from memory, waited for). Figures are medians over the rounds; "relative" is to the first row.
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run from a checkout
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

# --set overrides of each network, applied to both train.py checkouts and to the graph timing.
NETWORKS = {"toy": [], "negligible": ["architecture.base_width=1", "architecture.depth=1"]}


def torch_rate(python, iterations):
    """``{"iterations_per_s", "threads", "torch"}`` of ``benchmarks/torch_toy.py`` run by ``python``."""
    out = subprocess.run([python, os.path.join(ROOT, "benchmarks", "torch_toy.py"), "--iterations", str(iterations)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def logged_wall_times(run_dir):
    """``{step: wall seconds}`` of the critic loss written at each logged step of a run's events."""
    from tensorboard.backend.event_processing import event_accumulator

    times = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "**", "events.out.tfevents.*"), recursive=True)):
        events = event_accumulator.EventAccumulator(path, size_guidance={"tensors": 0, "scalars": 0})
        events.Reload()
        tags = events.Tags()
        for kind, read in (("tensors", events.Tensors), ("scalars", events.Scalars)):
            for tag in tags.get(kind, []):
                if tag.endswith("critic_loss"):
                    for event in read(tag):
                        times.setdefault(event.step, event.wall_time)
    return times


def train_rate(root, steps, sets, folder):
    """The median iterations/s over its logging windows (the first two, holding the tracing, left
    out) of ``root``'s ``bin/train.py`` on the 8gaussians WGAN-GP file, evaluation off, float32,
    with ``--set`` ``sets``."""
    command = [sys.executable, os.path.join(root, "bin", "train.py"), "-m", "wgan-gp", "--data", "8gaussians",
               "--checkpoint_dir", folder, "--steps", str(steps), "--noprogress"]
    for override in ["eval_every=0", "precision=float32"] + sets:
        command += ["--set", override]
    os.makedirs(folder, exist_ok=True)
    result = subprocess.run(command, capture_output=True, text=True, cwd=folder)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    times = logged_wall_times(folder)
    logged = sorted(times)
    rates = [(b - a) / (times[b] - times[a]) for a, b in zip(logged[1:], logged[2:])]
    if not rates:
        raise RuntimeError(f"{folder}: no logged training steps found")
    return statistics.median(rates)


def graph_seconds(sets, calls=5, steps=64):
    """Seconds per iteration of this checkout's compiled graph alone (float32, ``sets`` applied),
    fed from memory (``benchmark.block_seconds``)."""
    from wgan import config
    from wgan.lab import benchmark

    hp = config.load(config.default_path("wgan-gp", "8gaussians"))
    hp = config.apply_overrides(hp, [config.parse_override(text) for text in ["precision=float32"] + sets],
                                source="--network")
    return benchmark.block_seconds(hp, calls=calls, steps=steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch_python", default=None, help="a Python interpreter with torch installed")
    parser.add_argument("--baseline", default=None, help="an older checkout of the toolkit whose train.py to time too")
    parser.add_argument("--network", default="toy", choices=sorted(NETWORKS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=600, help="train.py iterations per run")
    parser.add_argument("--torch_iterations", type=int, default=300)
    parser.add_argument("--steps_per_call", default="1", help="this checkout's steps_per_call values, e.g. 1,10")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from wgan.lab import benchmark, benchmark_report

    sets = NETWORKS[args.network]
    loops = ([("pytorch", None)] if args.torch_python else []) + ([("baseline", None)] if args.baseline else [])
    loops += [(f"K={k}", int(k)) for k in args.steps_per_call.split(",")]
    runs, graph, torch_info = {name: [] for name, _ in loops}, [], {}
    with tempfile.TemporaryDirectory() as work:
        for round_index in range(args.rounds):
            for name, k in loops:
                folder = os.path.join(work, f"{round_index}-{name}")
                if name == "pytorch":
                    torch_info = torch_rate(args.torch_python, args.torch_iterations)
                    rate = torch_info["iterations_per_s"]
                elif name == "baseline":
                    rate = train_rate(args.baseline, args.steps, sets, folder)
                else:
                    rate = train_rate(ROOT, args.steps, sets + [f"steps_per_call={k}"], folder)
                runs[name].append(rate)
                print(f"round {round_index + 1}: {name} {rate:.2f} it/s", flush=True)
            if args.network == "negligible":
                graph.append(graph_seconds(sets))
                print(f"round {round_index + 1}: graph alone {1 / graph[-1]:.2f} it/s", flush=True)
    results = {"command": benchmark_report.command_line("benchmarks/train_loop_rates.py"),
               "machine": benchmark.machine_info(), "network": args.network,
               "graph_s": statistics.median(graph) if graph else None, "rows": []}
    if torch_info:
        results.update(torch=torch_info["torch"], torch_threads=torch_info["threads"])
    if args.baseline:
        results["baseline_commit"] = subprocess.run(["git", "-C", args.baseline, "rev-parse", "--short", "HEAD"],
                                                    capture_output=True, text=True).stdout.strip()
    for name, _ in loops:
        rate = statistics.median(runs[name])
        row = {"loop": name, "iterations_per_s": rate, "rounds": runs[name]}
        if graph and name != "pytorch":
            row["host_s"] = 1 / rate - results["graph_s"]
        results["rows"].append(row)
    benchmark.publish(results, table, args.json)


def table(results):
    """Markdown: one row per loop, its speed relative to the first row and, with the graph timed, host time."""
    from wgan.lab import benchmark_report

    lines = benchmark_report.command_and_machine(
        results, f"wgan-gp-8gaussians.json, {results['network']} network, float32, batch 256, 5 critic steps, "
                 "medians of the rounds, on ")
    names = {"pytorch": f"PyTorch {results.get('torch')} loop ({results.get('torch_threads')} threads)",
             "baseline": f"bin/train.py at {results.get('baseline_commit')}"}
    hosted = results.get("graph_s") is not None
    lines += ["| loop | iterations/s | relative | host ms/it | host relative |" if hosted else
              "| loop | iterations/s | relative |", "|---|---:|---:|---:|---:|" if hosted else "|---|---:|---:|"]
    first = results["rows"][0]
    for r in results["rows"]:
        name = names.get(r["loop"], f"bin/train.py, steps_per_call {r['loop'][2:]}")
        line = f"| {name} | {r['iterations_per_s']:.2f} | {r['iterations_per_s'] / first['iterations_per_s']:.2f} |"
        if hosted:
            host = r.get("host_s")
            line += f" {1e3 * host:.2f} | {host / first['host_s']:.2f} |" if host and first.get("host_s") else " | |"
        lines.append(line)
    if hosted:
        lines += ["", f"The compiled graph alone (calls of 64 iterations, from memory): {1 / results['graph_s']:.2f} it/s."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
