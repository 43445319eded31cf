#!/usr/bin/env python
"""Quality metrics of a checkpoint: ``python bin/evaluate.py -m wgan-gp --data digits -v 1``."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a clone too

from wgan.cli.evaluate import run_cli  # noqa: E402

if __name__ == "__main__":
    run_cli()
