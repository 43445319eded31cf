"""Cost of the training-health detectors (wgan.train.health): the same training with them on and off.

    python benchmarks/bench_health.py                     # the two rows of docs/health.md
    python benchmarks/bench_health.py --run wgan-gp:digits:300:100 --json docs/benchmarks/health.json

Each ``--run MODEL:DATA:STEPS:EVAL_EVERY`` trains the shipped hyperparameters of MODEL on DATA
twice from scratch in temporary run folders (records and the classifier are prepared first,
outside the timing), once with ``health.enabled`` true and once false, and reports the wall
time of each, the time spent inside the health monitor (its probes, best-checkpoint saves and
console/JSON/TensorBoard writes) and that time as a share of the training time. The
monitor's own clock is the number to compare with the 5% budget; the on/off difference also
contains the run-to-run noise of a shared CPU. ``--json`` feeds the ``health-cost-table``
block of docs/health.md (``python tools/readme_tables.py``).
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

from wgan.errors import WganError  # noqa: E402

DEFAULT_RUNS = ("wgan-gp:digits:300:100", "wgan-gp:fashion_mnist:200:50")


def parse_run(text):
    """``MODEL:DATA:STEPS:EVAL_EVERY`` -> dict; argparse.ArgumentTypeError saying what is wrong."""
    parts = text.split(":")
    if len(parts) != 4 or not all(parts):
        raise argparse.ArgumentTypeError(f"{text!r}: expected MODEL:DATA:STEPS:EVAL_EVERY, e.g. wgan-gp:digits:300:100")
    try:
        steps, eval_every = int(parts[2]), int(parts[3])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: STEPS and EVAL_EVERY must be whole numbers") from None
    if steps < 1 or eval_every < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: STEPS and EVAL_EVERY must be positive")
    return {"model": parts[0], "data": parts[1], "steps": steps, "eval_every": eval_every}


def measure(run, records_dir):
    """One row: the run trained with the monitor on and off (seconds), the monitor's own seconds, what tripped."""
    from wgan import config, runs
    from wgan.metrics import evaluation
    from wgan.train import loop as training

    base = config.resolve(run["model"], run["data"], overrides=[("eval_every", run["eval_every"])])
    evaluation.for_training(base, records_dir)  # builds records and trains the classifier, untimed
    timed = {}
    for enabled in (True, False):
        hp = config.apply_overrides(base, [("health.enabled", enabled)])
        with tempfile.TemporaryDirectory() as checkpoint_dir:
            _, vdir, hp, lock, _ = runs.open_run(checkpoint_dir, hp)
            with lock:
                training.seed_everything(hp.seed)
                started = time.perf_counter()
                out = training.train(hp, vdir, run["steps"], records_root=records_dir, progress=False)
                timed[enabled] = (time.perf_counter() - started, out["health_seconds"], out["health"])
    (on, monitor, tripped), (off, _, _) = timed[True], timed[False]
    return {**run, "architecture": base.architecture.name, "evaluations": run["steps"] // run["eval_every"],
            "seconds_on": on, "monitor_seconds": monitor, "seconds_off": off, "tripped": list(tripped)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=parse_run, action="append", default=None,
                        help=f"MODEL:DATA:STEPS:EVAL_EVERY, repeatable (default: {' and '.join(DEFAULT_RUNS)})")
    parser.add_argument("--records_dir", default="datasets/tfrecords")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from wgan.lab import benchmark, benchmark_report

    results = {"command": benchmark_report.command_line("benchmarks/bench_health.py"),
               "machine": benchmark.machine_info(), "rows": []}
    for run in args.run or [parse_run(text) for text in DEFAULT_RUNS]:
        try:
            results["rows"].append(measure(run, args.records_dir))
        except WganError as err:  # missing records, an unknown model or source: one line, as bin/ does
            sys.exit(f"error: {err}")
    benchmark.publish(results, benchmark_report.health_cost_table, args.json)


if __name__ == "__main__":
    main()
