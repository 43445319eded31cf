"""Shared builders and fixtures: tiny hyperparameters and records made from generated data.

Test modules import the builders (``from conftest import tiny_hparams``; pytest puts this
folder on ``sys.path``) and ask for the fixtures by name. Nothing here downloads anything.
"""

import copy
import importlib.util
import os
import re

# One core's worth of TensorFlow threads per xdist worker (set before TensorFlow starts; the tests'
# subprocesses inherit it): with one worker per core, two threads each oversubscribe the cores. Timed
# on the 2-core Xeon, 61 tests of training subprocesses took 171 s this way and 203 s without.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import numpy as np
import pytest

from wgan import config, data
from wgan.util.cpus import available_cpus


def pytest_xdist_auto_num_workers():
    """``-n auto`` (pyproject.toml): one worker per core this process may use, not per core of the machine."""
    return available_cpus()

# The data groups of the tiny runs: the toy 2-D mixture, 16x16 grey images named mnist
# (built from generated pixels) and scikit-learn's bundled digits at 16x16.
DATA = {
    "8gaussians": {"name": "8gaussians", "crop": None, "resize": None, "channels": 0},
    "mnist": {"name": "mnist", "crop": None, "resize": 16, "channels": 1, "shuffle_buffer": 64},
    "digits": {"name": "digits", "crop": None, "resize": 16, "channels": 1, "shuffle_buffer": 64},
}


# What TensorFlow's C++ logging looks like (absl prefix, or the notices it is known to print):
# the commands hide these unless TF_CPP_MIN_LOG_LEVEL or --verbosity 1 asks for them.
TF_LINE = re.compile(r"^[IWEF]\d{4} |I0000|W0000|E0000|cpu_feature_guard|cuda|absl::InitializeLog", re.IGNORECASE)


def tf_lines(proc):
    """The lines of a finished subprocess's stdout and stderr that came from TensorFlow's C++ logging."""
    return [line for line in (proc.stdout + proc.stderr).splitlines() if TF_LINE.search(line)]


def merged(base, values):
    """``base`` with ``values`` applied; a dict value updates the group of the same key instead of replacing it."""
    out = copy.deepcopy(base)
    for key, value in values.items():
        out[key] = {**out.get(key, {}), **value} if isinstance(value, dict) else value
    return out


def tiny_hparams(model="wgan-gp", data_name="8gaussians", **values):
    """Validated ``HParams`` of a run small enough to train a few iterations in about a second.

    ``data_name``: a key of ``DATA``. Toy data gets the mlp networks (16 units, 2 layers),
    images the dcgan networks with base width 4; ``values`` override any key (dict values
    update their group: ``architecture={"c_norm": "layer"}``).
    """
    toy = DATA[data_name]["resize"] is None
    base = {"model": model, "batch_size": 8, "z_dim": 8, "n_critic": 1, "seed": 0, "data": DATA[data_name],
            "architecture": {"name": "mlp" if toy else "dcgan", "base_width": 16 if toy else 4, "depth": 2},
            "log_every": 1, "sample_every": 100, "histogram_every": 100, "checkpoint_every": 2, "snapshot_every": 4}
    return config.from_dict(merged(base, values))


def logged_metrics(vdir):
    """The rows of a run's metrics.jsonl without the wall-clock ``images_per_sec``: what two runs that
    must agree bit for bit (straight and resumed, K = 1 and K = 8) log alike."""
    from wgan import runs

    return [{k: v for k, v in row.items() if k != "images_per_sec"}
            for row in runs.read_jsonl(os.path.join(vdir, runs.METRICS_FILE))]


def generated_mnist(count, seed=0):
    """``(images uint8 [count, 28, 28], labels int [count])``: random pixels, labels i % 10."""
    images = (np.random.default_rng(seed).random((count, 28, 28)) * 255).astype(np.uint8)
    return images, np.arange(count) % 10


def build_mnist_records(root, count=64, **build):
    """Records folder ``<root>/mnist-r16`` of ``generated_mnist(count)``; ``build``: more
    ``data.build_records`` arguments (``shards``, ``overwrite``). Returns the folder."""
    return data.build_records("mnist", resize=16, crop=None, output_dir=str(root), workers=1, progress=False,
                              arrays=generated_mnist(count), **build)


@pytest.fixture(scope="module")
def records_root(tmp_path_factory):
    """A records root holding mnist-r16 built from 64 generated 28x28 images (read-only for the tests)."""
    root = tmp_path_factory.mktemp("records")
    build_mnist_records(root)
    return str(root)


def load_script(path):
    """A script of the repository (e.g. ``benchmarks/yardsticks.py``; benchmarks/ is not a package) as a module."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], os.path.join(root, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
