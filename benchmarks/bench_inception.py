"""Cost of the Inception forward pass behind FID, KID and IS: images per second, minutes for 10k and 50k.

    python benchmarks/bench_inception.py                  # 6 timed batches of 50, all cores
    python benchmarks/bench_inception.py --graph classify_image_graph_def.pb
    python benchmarks/bench_inception.py --runs 2 --json docs/benchmarks/inception.json   # the table in docs/quality.md

With ``--graph`` (or ``$WGAN_INCEPTION_GRAPH``) it times the 2015 Inception graph itself
through ``wgan.metrics.inception2015``. Without it, it times a stand-in of equal cost:
``keras.applications.InceptionV3`` (the same Inception-v3 architecture, 299 x 299 input,
2048-d pool) with **random** weights, so nothing is downloaded; its numbers are speed
only. Inputs are 32x32 uint8 images resized to 299 x 299 in the network's input, like a
CIFAR-10 evaluation. One untimed batch warms up first. Prints one markdown table row per
run; ``--json`` also writes them with the machine, for the ``inception-cost-table`` block
(``tools/readme_tables.py``).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
import numpy as np

from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/


def stand_in(batch_size):
    """Keras InceptionV3, random weights, with the graph's resize and scaling: uint8 -> [N, 2048]."""
    import keras
    import tensorflow as tf

    model = keras.applications.InceptionV3(include_top=False, pooling="avg", weights=None,
                                           input_shape=(299, 299, 3))

    @tf.function(reduce_retracing=True)
    def forward(images):
        resized = tf.image.resize(tf.cast(images, tf.float32), (299, 299), method="bilinear")
        return model((resized - 128.0) / 128.0, training=False)

    return lambda images: forward(images).numpy(), "Keras InceptionV3 architecture, random weights (stand-in)"


def real_graph(path, batch_size):
    from wgan.metrics.inception2015 import Inception2015

    extractor = Inception2015(path, download=False, batch_size=batch_size)
    return extractor.features_and_probabilities, f"2015 Inception graph ({extractor.name})"


def main():
    from wgan.util.cpus import available_cpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default=os.environ.get("WGAN_INCEPTION_GRAPH"),
                        help="the 2015 graph's .pb; default: the random-weight stand-in")
    parser.add_argument("--batch", type=int, default=50, help="images per forward pass (TTUR's 50)")
    parser.add_argument("--batches", type=int, default=6, help="timed batches")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all cores)")
    parser.add_argument("--runs", type=int, default=1, help="timed runs of --batches each, one row each")
    parser.add_argument("--json", default=None, help="also write the rows and the machine here")
    args = parser.parse_args()
    import tensorflow as tf

    from wgan.lab import benchmark, benchmark_report

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    results = {"command": benchmark_report.command_line("benchmarks/bench_inception.py"),
               "machine": benchmark.machine_info(), "rows": []}
    forward, what = real_graph(args.graph, args.batch) if args.graph else stand_in(args.batch)
    images = (np.random.default_rng(0).random((args.batch, 32, 32, 3)) * 255).astype(np.uint8)
    forward(images)  # warm-up: tracing and first-call allocation
    for run in range(args.runs):
        started = time.perf_counter()
        for _ in range(args.batches):
            forward(images)
        rate = args.batch * args.batches / (time.perf_counter() - started)
        row = {"network": what, "run": run + 1, "cores": available_cpus(), "batch": args.batch,
               "batches": args.batches, "images_per_s": rate}
        results["rows"].append(row)
        print(benchmark_report.inception_cost_row(row), flush=True)
    if args.json:
        benchmark.write_results(args.json, results)
        print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
