"""Cost of the training-health detectors (wgan.health): the same training with them on and off.

    python benchmarks/bench_health.py                                  # the digits quick start, 300 iterations
    python benchmarks/bench_health.py --model wgan-gp --data digits --steps 300 --eval_every 100

Trains the shipped hyperparameters twice from scratch in temporary run folders (records and
the digit classifier are prepared first, outside the timing), once with ``health.enabled``
true and once false, and prints the wall time of each, the time spent inside the health
monitor (its probes, best-checkpoint saves and console/JSON/TensorBoard writes) and that
time as a share of the training time. The monitor's own clock is the number to compare
with the 5% budget; the on/off difference also contains the run-to-run noise of a shared CPU.
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
from wgan import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="wgan-gp")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--eval_every", type=int, default=100)
    parser.add_argument("--records_dir", default="datasets/tfrecords")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from wgan import config, evaluation, runs, training

    base = config.resolve(args.model, args.data, overrides=[("eval_every", args.eval_every)])
    evaluation.for_training(base, args.records_dir)  # builds records and trains the classifier, untimed
    results = {}
    for enabled in (True, False):
        hp = config.apply_overrides(base, [("health.enabled", enabled)])
        with tempfile.TemporaryDirectory() as checkpoint_dir:
            _, vdir, hp, lock, _ = runs.open_run(checkpoint_dir, hp)
            with lock:
                training.seed_everything(hp.seed)
                started = time.perf_counter()
                out = training.train(hp, vdir, args.steps, records_root=args.records_dir, progress=False)
                results[enabled] = (time.perf_counter() - started, out["health_seconds"], out["health"])
    (on, monitor, tripped), (off, _, _) = results[True], results[False]
    print(f"{args.model} on {args.data}, {args.steps} iterations, eval_every {args.eval_every}:")
    print(f"  health on : {on:7.1f} s, of which {monitor:.2f} s in the health monitor "
          f"({100 * monitor / on:.1f}% of training); tripped: {', '.join(tripped) or 'nothing'}")
    print(f"  health off: {off:7.1f} s (difference {on - off:+.1f} s, {100 * (on - off) / off:+.1f}%)")


if __name__ == "__main__":
    main()
