"""A source's classifier recipe, tried at several lengths: test accuracy and time to train; and the real test split's scores.

    python benchmarks/bench_classifier.py --data fashion_mnist --epochs 5,7 --json docs/benchmarks/classifier.json

For each ``--epochs`` value it trains the source's recipe (``CLASSIFIERS`` in
``wgan/metrics/classifier.py``) with that many epochs on the training records and measures
its accuracy on the test split, with the seconds it took (training and scoring the test
split). Nothing is cached: the shipped classifier is not touched. Then it loads (or trains
once) the shipped, cached classifier and gives the real test split's own scores, the
yardstick printed under every generated score. The records are built from the IDX files
when missing (Debian's ``dataset-fashion-mnist``; nothing is downloaded). ``--json`` feeds
the ``classifier-table`` block (``tools/readme_tables.py``).
"""

import argparse
import dataclasses
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion_mnist", help="a source with a test split and a classifier recipe")
    parser.add_argument("--epochs", default="5,7", help="comma-separated epoch counts to try")
    parser.add_argument("--records_root", default="datasets/tfrecords")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    from wgan import config
    from wgan.lab import benchmark, benchmark_report
    from wgan.data import inputs
    from wgan.errors import WganError
    from wgan.metrics import classifier

    try:
        epochs = [int(e) for e in args.epochs.split(",")]
    except ValueError:
        epochs = []
    if not epochs or min(epochs) < 1:
        sys.exit(f"error: --epochs {args.epochs!r}: give whole numbers of at least 1, separated by commas")
    try:
        hp = config.resolve("wgan-gp", args.data)
        folder = inputs.records_folder(hp, args.records_root)
        test_folder = inputs.test_records_folder(hp, args.records_root)
        if test_folder is None:
            raise WganError(f"{args.data}: no test split without a download; this benchmark measures on it")
        shipped = classifier.spec_for(folder)
    except WganError as error:
        sys.exit(f"error: {error}")
    results = {"command": benchmark_report.command_line("benchmarks/bench_classifier.py"),
               "machine": benchmark.machine_info(), "data": args.data, "shipped_epochs": shipped.epochs, "rows": []}
    for count in epochs:
        started = time.perf_counter()
        _, info = classifier.train_classifier(folder, test_folder=test_folder,
                                              spec=dataclasses.replace(shipped, epochs=count, min_accuracy=0.0))
        row = {"epochs": info["epochs"], "accuracy": info["accuracy"], "seconds": time.perf_counter() - started,
               "trained_on": info["trained_on"], "evaluated_on": info["evaluated_on"], "held_out": info["held_out"]}
        results["rows"].append(row)
        print(f"{count} epochs: {row['accuracy']:.2%} on {row['evaluated_on']} in {row['seconds']:.0f} s", flush=True)
    try:  # the cached classifier, trained first when missing: below its recipe's accuracy that is an error
        judge = classifier.ClassifierJudge(folder, test_folder=test_folder)
    except WganError as error:
        sys.exit(f"error: {error}")
    results["shipped"] = {"accuracy": judge.info["accuracy"], "real_test": judge.info["real_test"]}
    benchmark.publish(results, benchmark_report.classifier_table, args.json)


if __name__ == "__main__":
    main()
