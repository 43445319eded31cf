"""Figure 1 of the WGAN-GP paper with this toolkit: what a weight-clipped critic learns, against a gradient penalty.

    python benchmarks/critic_capacity.py --output docs/images/critic-capacity.png --json docs/benchmarks/critic_capacity.json

Top: value surfaces of critics trained to optimality (3 x 512 ReLU MLP, --steps critic
updates) against a fixed "generator" = real data + N(0, 1), for 8gaussians, 25gaussians and
swissroll, with weight clipping (c = 0.01, RMSProp 5e-5) and with the penalty (lambda 0.1,
Adam 1e-4). Bottom: the norm of the gradient at every layer's output (the backpropagated
signal) of a 12-layer critic on swissroll for clip values 0.1, 0.01, 0.001 and for the
penalty. Writes the Wasserstein estimates and both per-layer norms (at the outputs and at
the kernels) to --json, whose tables docs/results.md shows (tools/readme_tables.py), and
prints them. See wgan/lab/capacity.py.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

import numpy as np  # noqa: E402

from wgan.lab import benchmark, benchmark_report, capacity  # noqa: E402
from wgan.data.toy import toy_sample  # noqa: E402

SOURCES = ("8gaussians", "25gaussians", "swissroll")
DEEP = (("clip", 0.1), ("clip", 0.01), ("clip", 0.001), ("gp", None))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="critic updates per critic")
    parser.add_argument("--deep_layers", type=int, default=12)
    parser.add_argument("--deep_width", type=int, default=128)
    parser.add_argument("--output", default="docs/images/critic-capacity.png")
    parser.add_argument("--json", default="critic_capacity.json",
                        help="Where to write the numbers (docs tables come from it: tools/readme_tables.py).")
    args = parser.parse_args()

    command = benchmark_report.command_line("benchmarks/critic_capacity.py")
    machine = benchmark.machine_info()
    surfaces, deep = [], []

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig = plt.figure(figsize=(9.6, 7.4))
    rng = np.random.default_rng(0)
    for row, constraint in enumerate(("clip", "gp")):
        for col, source in enumerate(SOURCES):
            fit = capacity.fit_critic(source, constraint, steps=args.steps)
            ax = fig.add_subplot(3, 3, 3 * row + col + 1)
            extent = (-capacity.EXTENT, capacity.EXTENT, -capacity.EXTENT, capacity.EXTENT)
            ax.imshow(fit.surface, origin="lower", extent=extent, cmap="viridis")
            ax.contour(np.linspace(-capacity.EXTENT, capacity.EXTENT, capacity.GRID),
                       np.linspace(-capacity.EXTENT, capacity.EXTENT, capacity.GRID), fit.surface, 12,
                       colors="white", linewidths=0.4)
            points = toy_sample(source, 300, rng)
            ax.scatter(points[:, 0], points[:, 1], s=1.5, c="orange")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal")
            label = "weight clipping (c = 0.01)" if constraint == "clip" else "gradient penalty (λ = 0.1)"
            ax.set_title(f"{source}: {label}\nW estimate {fit.wasserstein:.3f}", fontsize=8)
            surfaces.append({"source": source, "critic": label, "wasserstein": float(fit.wasserstein)})
            print(f"{source} {constraint}: W estimate {fit.wasserstein:.4f}", file=sys.stderr, flush=True)
    ax = fig.add_subplot(3, 1, 3)
    for constraint, clip in DEEP:
        fit = capacity.fit_critic("swissroll", constraint, depth=args.deep_layers, width=args.deep_width,
                                  steps=args.steps, clip_value=clip or 0.01)
        label = f"weight clipping c = {clip}" if constraint == "clip" else "gradient penalty"
        ax.semilogy(np.arange(len(fit.activation_norms)), fit.activation_norms, marker="o", label=label)
        deep.append({"label": label, "activation_norms": [float(v) for v in fit.activation_norms],
                     "kernel_norms": [float(v) for v in fit.kernel_norms]})
        print(f"{label} done", file=sys.stderr, flush=True)
    ax.set_xlabel("critic layer (input first)")
    ax.set_ylabel("gradient norm at the layer's output")
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    fig.savefig(args.output, dpi=100)
    results = {"command": command, "machine": machine, "steps": args.steps, "deep_layers": args.deep_layers,
               "deep_width": args.deep_width, "surfaces": surfaces, "deep": deep}
    benchmark.write_results(args.json, results)
    print(benchmark_report.capacity_table(results))
    print(f"wrote {args.output} and {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
