"""Value surfaces of every way to keep the critic in check, on the same toy data (issue 39; the WGAN-GP
paper's Figure 1 shows two of them).

    python benchmarks/value_surfaces.py --output docs/images/value-surfaces.png --json docs/benchmarks/value_surfaces.json

Each pair of ``wgan.lab.capacity.PAIRS`` (a loss and its constraint: WGAN with clipping, WGAN-GP,
WGAN and hinge with spectral norm, NS-GAN with R1, RpGAN with R1 + R2) trains one critic (3 x 512
ReLU MLP, ``--steps`` updates, batch 256) against a fixed "generator" = real data + N(0, 1), as
the paper's figure does, on each ``--sources`` set. One panel per pair and set: the critic's
values on [-2, 2]^2 with the real points. The JSON holds, per panel, the critic's score gap
E[D(real)] - E[D(fake)] and the mean norm of its input gradient at the real and at the fake
points, which docs/constraints.md shows (``surfaces-table``, tools/readme_tables.py).
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="critic updates per critic")
    parser.add_argument("--sources", default="8gaussians", help="toy sets, comma-separated")
    parser.add_argument("--pairs", default=",".join(capacity.PAIRS), help="keys of wgan.lab.capacity.PAIRS")
    parser.add_argument("--gamma", type=float, default=1.0, help="R1 and R2's weight")
    parser.add_argument("--output", default="docs/images/value-surfaces.png")
    parser.add_argument("--json", default="value_surfaces.json")
    args = parser.parse_args()
    sources = [s for s in args.sources.split(",") if s]
    pairs = [p for p in args.pairs.split(",") if p]
    unknown = [p for p in pairs if p not in capacity.PAIRS]
    if unknown:
        raise SystemExit(f"--pairs: {', '.join(unknown)} unknown; choose from {', '.join(capacity.PAIRS)}")

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    command = benchmark_report.command_line("benchmarks/value_surfaces.py")
    machine = benchmark.machine_info()
    fig, axes = plt.subplots(len(sources), len(pairs), figsize=(2.3 * len(pairs), 2.6 * len(sources)), squeeze=False)
    axis = np.linspace(-capacity.EXTENT, capacity.EXTENT, capacity.GRID)
    rng = np.random.default_rng(0)
    rows = []
    for r, source in enumerate(sources):
        points = toy_sample(source, 300, rng)
        for c, key in enumerate(pairs):
            pair = capacity.PAIRS[key]
            fit = capacity.fit_critic(source, key, steps=args.steps, gamma=args.gamma)
            ax = axes[r][c]
            ax.imshow(fit.surface, origin="lower", extent=(-capacity.EXTENT, capacity.EXTENT) * 2, cmap="viridis")
            ax.contour(axis, axis, fit.surface, 12, colors="white", linewidths=0.4)
            ax.scatter(points[:, 0], points[:, 1], s=1.5, c="orange")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal")
            ax.set_title(pair.label, fontsize=8)
            if c == 0:
                ax.set_ylabel(source, fontsize=8)
            rows.append({"source": source, "pair": key, "label": pair.label, "objective": pair.objective,
                         "constraint": pair.constraint, "score_gap": fit.wasserstein, "grad_real": fit.grad_real,
                         "grad_fake": fit.grad_fake})
            print(f"{source} {key}: score gap {fit.wasserstein:.4f}, |grad| at real {fit.grad_real:.3f}, "
                  f"at fake {fit.grad_fake:.3f}", file=sys.stderr, flush=True)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    fig.savefig(args.output, dpi=100)
    results = {"command": command, "machine": machine, "steps": args.steps, "gamma": args.gamma, "rows": rows}
    benchmark.write_results(args.json, results)
    print(benchmark_report.surfaces_table(results))
    print(f"wrote {args.output} and {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
