#!/usr/bin/env python
"""Train DCGAN, WGAN or WGAN-GP: ``python bin/train.py -m wgan-gp --data digits``."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a clone too

from wgan.cli.train import run_cli  # noqa: E402

if __name__ == "__main__":
    run_cli()
