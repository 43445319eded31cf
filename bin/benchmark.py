#!/usr/bin/env python
"""Training throughput, XLA and precision comparison, input pipeline: ``python bin/benchmark.py``."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a clone too

from wgan.cli.benchmark import run_cli  # noqa: E402

if __name__ == "__main__":
    run_cli()
