#!/usr/bin/env python
"""Build TFRecord shards from a raw image source; see wgan/cli/build_tfrecord.py or --help."""

import os
import sys

# Let the script run from a checkout without pip install: put the repository root on the path.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Imports stay under the guard: the build's spawned worker processes re-run this file.
if __name__ == "__main__":
    from wgan.cli.build_tfrecord import main
    from wgan.cli.common import run

    run(main)
