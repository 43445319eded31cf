"""Plot the health curves of runs that tripped a detector: one panel per run folder.

    python -m pytest -q tests/test_health.py -k fires --basetemp /tmp/health-runs
    python benchmarks/health_figure.py /tmp/health-runs/*0/checkpoint/*/v1 --output docs/images/health-examples.png

The first command builds one run per failure mode (the tests of wgan/train/health.py: zero
learning rates, critic scores doubled every step, a generator collapsed to one output, a
critic memorising 53 images of a fixed generator; about a minute of CPU). Each panel shows
the signal of the detector that tripped first in that run (read from its metrics.jsonl and
health.jsonl), the trip's threshold where it is a line, and the trip step.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/


def _read(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _series(records, key, transform=lambda v: v):
    points = [(r["step"], transform(r[key])) for r in records if key in r]
    return [p[0] for p in points], [p[1] for p in points]


def panel(ax, vdir):
    """Draw the first trip of the run ``vdir`` into the matplotlib axes ``ax``; False if nothing tripped."""
    metrics = _read(os.path.join(vdir, "metrics.jsonl"))
    trips = [r for r in _read(os.path.join(vdir, "health.jsonl")) if r["event"] == "trip"]
    if not trips:
        return False
    trip = min(trips, key=lambda r: (r["since"], r["step"]))
    name = trip["detector"]
    if name == "critic_overfit":
        for key, label in (("health/wasserstein_train", "W on training images"),
                           ("health/wasserstein_heldout", "W on held-out images")):
            ax.plot(*_series(metrics, key), marker="o", label=label)
        ax.set_ylabel("Wasserstein estimate")
    elif name == "mode_collapse":
        ax.plot(*_series(metrics, "health/spread_ratio"), marker="o", label="generated / real spread")
        ax.set_yscale("log")
        ax.set_ylabel("spread ratio")
    elif name == "stalled":
        metric = trip["values"]["metric"]
        ax.plot(*_series(metrics, f"eval/{metric}"), marker="o", label=metric)
        if trip["values"].get("real_score") is not None:
            ax.axhline(trip["values"]["real_score"], color="grey", linestyle=":", label="real data's own score")
        ax.set_ylabel(metric)
    else:  # diverging
        signal = trip["values"]["signal"]
        ax.plot(*_series(metrics, signal, abs), label=f"|{signal}|")
        limit = trip["values"]["early_median"] * trip["threshold"]["diverge_factor"]
        ax.axhline(limit, color="grey", linestyle=":", label=f"{trip['threshold']['diverge_factor']:g} x early median")
        ax.set_yscale("log")
    ax.axvline(trip["step"], color="red", linestyle="--", label=f"tripped (step {trip['step']})")
    ax.set_title(f"{name} since step {trip['since']}", fontsize=9)
    ax.set_xlabel("generator iteration")
    ax.legend(fontsize=7)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders (checkpoint/<run>/v<N>)")
    parser.add_argument("--output", default="docs/images/health-examples.png")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    tripped = [v for v in args.runs if any(r["event"] == "trip" for r in _read(os.path.join(v, "health.jsonl")))]
    if not tripped:
        sys.exit("error: none of the run folders has a trip in its health.jsonl")
    fig, axes = plt.subplots(1, len(tripped), figsize=(3.6 * len(tripped), 3.0), squeeze=False)
    for ax, vdir in zip(axes[0], tripped):
        panel(ax, vdir)
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    fig.savefig(args.output, dpi=100)
    print(f"{len(tripped)} runs -> {args.output}")


if __name__ == "__main__":
    main()
