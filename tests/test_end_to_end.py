"""The CelebA path as a user types it: build 64x64 records, train a few steps, generate, resume.

Uses generated 178x218 JPEGs laid out like CelebA's img_align_celeba and the shipped
celeba hyperparameters, shrunk only in width and batch so a few steps take seconds.
"""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
SMALL = ["--set", "architecture.base_width=8", "--set", "batch_size=4", "--set", "data.shuffle_buffer=16",
         "--set", "log_every=1", "--set", "checkpoint_every=2", "--set", "snapshot_every=2"]


def command(tmp_path, script, *args):
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bin", script), *args], capture_output=True,
                          text=True, env=ENV, cwd=str(tmp_path), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_celeba_build_train_generate_resume(tmp_path):
    faces = tmp_path / "datasets" / "celeba" / "img" / "img_align_celeba"
    faces.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(24):
        Image.fromarray((rng.random((218, 178, 3)) * 255).astype(np.uint8)).save(faces / f"{i + 1:06d}.jpg")

    command(tmp_path, "build_tfrecord.py", "-r", "64", "-c", "108", "--workers", "1")
    info = json.loads((tmp_path / "datasets" / "tfrecords" / "celeba-c108-r64" / "dataset_info.json").read_text())
    # Every image is in the training records or (by its content digest, 5% by default) held out.
    assert (info["count"] + info["heldout"]["count"], info["height"], info["width"], info["channels"]) == (24, 64, 64, 3)

    command(tmp_path, "train.py", "-m", "wgan-gp", "--steps", "2", "--noprogress", *SMALL)
    vdir = tmp_path / "checkpoint" / "wgan-gp-celeba-c108-r64" / "v1"
    stored = json.loads((vdir / "hyperparameters.json").read_text())
    assert stored["data"] == {"name": "celeba", "crop": 108, "resize": 64, "channels": 3, "shuffle_buffer": 16}
    assert stored["c_optimizer"]["beta_1"] == 0.0 and stored["gp_lambda"] == 10.0

    # The same command resumes the same version (identical hyperparameters) and continues the step.
    command(tmp_path, "train.py", "-m", "wgan-gp", "--steps", "2", "--noprogress", *SMALL)
    steps = [json.loads(line)["step"] for line in (vdir / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    assert not (vdir.parent / "v2").exists()

    out = command(tmp_path, "generate_img.py", "-m", "wgan-gp", "-v", "1.1", "--num", "8", "--rows", "2")
    assert "v1.1 (step 4)" in out.stdout
    grid = Image.open(tmp_path / "figures" / "wgan-gp-celeba-c108-r64-v1.1-samples.png")
    assert grid.size == (4 * 64 + 5 * 2, 2 * 64 + 3 * 2) and grid.mode == "RGB"
