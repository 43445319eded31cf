"""A run folder written by an earlier version of the toolkit resumes exactly.

``tests/data/run-before-restructuring/`` holds a tiny WGAN-GP 8gaussians run (seed 3, a
generator average, ``--deterministic``) trained to step 4 by the toolkit as it stood before
the package restructuring (commit 7cf6947), and the metrics that the same run, trained
without a break to step 6, logged at steps 5 and 6. Resuming the stored folder must give
those metrics to the last bit: module moves must not change checkpoint keys, the stored
hyperparameters' meaning or the RNG state.

oneDNN picks its kernels by the processor's instruction sets, and its kernels for AVX-512 with
AMX, AVX-512 without it and AVX2 round a few sums differently (a few float32 ulps), so the
earlier version's metrics are stored for each kind of machine this project has run on:
``expected-steps-5-6.json`` from an Intel Xeon with AMX (the uninterrupted run),
``expected-steps-5-6-avx512-no-amx.json`` from an AMD EPYC with AVX-512 and bfloat16 units but
no AMX, and ``expected-steps-5-6-avx2.json`` from an EPYC without AVX-512; on the last two,
commit 7cf6947 resumed this folder's step-4 checkpoint to step 6 (``bin/train.py -m wgan-gp
--data 8gaussians -v 1 --steps 2 --deterministic --checkpoint_dir COPY``). A test against another
processor's numbers would fail on arithmetic, not on the toolkit.
"""

import json
import os
import shutil

from wgan import runs
from wgan.train import launch
from wgan.util import cpus

FIXTURE = os.path.join(os.path.dirname(__file__), "data", "run-before-restructuring")


def expected_file(flags):
    """The expected metrics of a machine with CPU ``flags``: by AMX, else AVX-512, else AVX2 kernels."""
    if "amx_tile" in flags:
        return "expected-steps-5-6.json"
    return "expected-steps-5-6-avx512-no-amx.json" if "avx512f" in flags else "expected-steps-5-6-avx2.json"


def test_a_run_saved_before_the_restructuring_resumes_bit_for_bit(tmp_path):
    checkpoint_dir = str(tmp_path / "checkpoint")
    shutil.copytree(os.path.join(FIXTURE, "wgan-gp-8gaussians"), os.path.join(checkpoint_dir, "wgan-gp-8gaussians"))
    vdir = os.path.join(checkpoint_dir, "wgan-gp-8gaussians", "v1")
    hp = runs.load_hparams(vdir)
    assert runs.latest_step(vdir) == 4

    launched = launch.train_run(checkpoint_dir, hp, launch.until_step(6), version=1, progress=False,
                                deterministic=True)

    assert (launched.number, launched.resumed, launched.iterations) == (1, True, 2)
    with open(os.path.join(FIXTURE, expected_file(cpus.cpu_flags() or ())), encoding="utf-8") as f:
        expected = json.load(f)
    logged = [json.loads(line) for line in open(os.path.join(vdir, "metrics.jsonl"), encoding="utf-8")]
    # Every metric the earlier version logged, to the last bit; later versions may log more.
    resumed = [{k: v for k, v in row.items() if k in old} for row, old in
               zip([row for row in logged if row["step"] in (5, 6)], expected)]
    assert resumed == expected
