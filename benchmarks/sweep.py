"""Sweep hyperparameter variants through the stability study and tabulate them side by side.

Every variant is one ``wgan.lab.study.run_study`` (the shipped file of ``--model`` on
``--source``, or its ``--setup`` file, plus the variant's overrides, ``--seeds`` seeds), so a sweep's numbers are
the study's numbers, with its metrics and failure criterion. Variants run one after
the other; the seeds of one variant run ``--jobs`` at a time, one core each.

    python benchmarks/sweep.py --source 8gaussians --model wgan-gp --seeds 2 --output sweeps/8g \\
        --variant shipped: \\
        --variant decay:g_optimizer.decay=linear,c_optimizer.decay=linear

A variant is ``name:key=value,key=value`` (dotted hyperparameter keys, JSON values; an
empty list is the shipped file). Writes ``<output>/sweep.md`` (``wgan.lab.sweep_report``; commit it as
``docs/sweeps/<name>.md``, where a ``sweep-summary`` block reads it) and ``sweep.json``, and
each variant's study under ``<output>/<name>/``. A variant whose study already finished with
the same seeds, steps and overrides is read back (``study.finished_report``); otherwise its
study runs, evaluating the runs it finds complete instead of retraining them, so an
interrupted sweep continues where it stopped.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

from wgan import config  # noqa: E402
from wgan.lab import benchmark_report, study, sweep_report  # noqa: E402
from wgan.util import files  # noqa: E402
from wgan.errors import WganError  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, choices=study.SOURCES)
    parser.add_argument("--model", required=True)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first_seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="iterations (default: the file's train_steps)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--records_dir", default="datasets/tfrecords")
    parser.add_argument("--setup", default=None,
                        help="start from hyperparameter/<model>-<source>-<setup>.json (e.g. toolkit)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--variant", action="append", required=True)
    args = parser.parse_args()
    command = benchmark_report.command_line("benchmarks/sweep.py")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    rows = []
    for name, overrides in [config.parse_variant(v) for v in args.variant]:
        folder = os.path.join(args.output, name)
        report = study.finished_report(folder, seeds, args.steps, overrides, args.setup)
        if report is None:  # not run yet, or run with other seeds, steps or overrides
            started = time.perf_counter()
            report = study.run_study(args.source, [args.model], seeds, args.steps, folder, jobs=args.jobs,
                                     records_dir=args.records_dir, overrides=overrides, command=command,
                                     log=lambda line, n=name: print(f"[{n}] {line}", flush=True), setup=args.setup)
            print(f"[{name}] done in {time.perf_counter() - started:.0f} s", flush=True)
        steps = sorted({r["step"] for r in report["runs"]})
        rows.append({"variant": name, "overrides": report["overrides"], "steps": steps[-1],
                     "summary": report["summary"][0], "runs": report["runs"]})
        text = sweep_report.markdown(rows, args.source, args.model, command)
        os.makedirs(args.output, exist_ok=True)
        # Atomic: an interrupted sweep leaves the previous table whole, never half of a new one.
        files.write_atomic(os.path.join(args.output, "sweep.md"), text)
        files.write_atomic(os.path.join(args.output, "sweep.json"), json.dumps({"command": command, "rows": rows},
                                                                               indent=1))
    print(text)


if __name__ == "__main__":
    try:
        main()
    except WganError as err:  # a bad --variant key, an interrupted run: one line, as bin/ does
        sys.exit(f"error: {err}")
