"""Whole-process cost of TensorFlow's from_generator malloc setting on toy training (wgan.util.malloc).

    python benchmarks/bench_malloc.py                      # 25gaussians file, 600 iterations, 3 pairs

Runs ``bin/train.py`` on the shipped toy file in turn with the thresholds raised (the
toolkit's default) and with TensorFlow's setting kept (``WGAN_TF_MALLOC=1``), each in a new
process and a new temporary run folder, and prints per variant the median over ``--pairs``
of wall seconds, user and system CPU seconds and minor page faults (the operating system's
own accounting of the finished child), and the median of the pairwise wall ratios.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run from a checkout
from wgan.util.malloc import KEEP_VARIABLE  # noqa: E402 (no TensorFlow: the timed children import it)


def run(data, steps, keep_tf_setting):
    """One training process: {wall, user, sys, faults}."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop(KEEP_VARIABLE, None)
    if keep_tf_setting:
        env[KEEP_VARIABLE] = "1"
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        command = [sys.executable, os.path.join(ROOT, "bin", "train.py"), "-m", "wgan-gp", "--data", data,
                   "--checkpoint_dir", checkpoint_dir, "--noprogress", "--set", f"train_steps={steps}",
                   "--set", "eval_every=0"]
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            sys.exit(f"error: {' '.join(command)} failed ({child.returncode}): {child.stderr.read().decode()[-500:]}")
        return {"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime, "faults": usage.ru_minflt}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="25gaussians", choices=("8gaussians", "25gaussians"))
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    raised_name, kept_name = "raised (default)", f"TensorFlow's ({KEEP_VARIABLE}=1)"
    runs = {raised_name: [], kept_name: []}
    ratios = []
    for _ in range(args.pairs):
        raised, kept = run(args.data, args.steps, False), run(args.data, args.steps, True)
        runs[raised_name].append(raised)
        runs[kept_name].append(kept)
        ratios.append(raised["wall"] / kept["wall"])
    print(f"wgan-gp on {args.data}, {args.steps} iterations, median of {args.pairs} paired runs, whole process:")
    print("| malloc thresholds | wall s | user s | sys s | minor page faults |")
    print("|---|---:|---:|---:|---:|")
    for name, rows in runs.items():
        median = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        print(f"| {name} | {median['wall']:.1f} | {median['user']:.1f} | {median['sys']:.1f} "
              f"| {median['faults']:,.0f} |")
    print(f"wall ratio raised / TensorFlow's, pair by pair: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main()
