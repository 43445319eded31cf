#!/usr/bin/env python
"""Stability study: ``python bin/study.py --source 8gaussians --seeds 5 --steps 2000``."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a clone too

from wgan.cli.study import run_cli  # noqa: E402

if __name__ == "__main__":
    run_cli()
