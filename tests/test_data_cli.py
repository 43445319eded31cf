"""bin/build_tfrecord.py end to end, in subprocesses (absl flags are process-global)."""

import os
import subprocess
import sys

import numpy as np
from PIL import Image

from wgan.data.manifest import MANIFEST_NAME

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "bin", "build_tfrecord.py")


def _run(*args, cwd):
    # PYTHONPATH makes `import wgan` work before the package is pip-installed.
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.run([sys.executable, SCRIPT, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_missing_folder_is_one_line_error(tmp_path):
    missing = str(tmp_path / "no_such_folder")
    result = _run("--data", missing, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and missing in errors[0]


def test_missing_celeba_says_where_it_belongs(tmp_path):
    result = _run(cwd=tmp_path)  # --data celeba by default, raw data under ./datasets
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "expected datasets/celeba/img/img_align_celeba" in result.stderr


def test_folder_build_with_two_workers_then_rerun(tmp_path):
    # Two workers: spawned processes re-run bin/build_tfrecord.py as their main module.
    faces = tmp_path / "faces"
    faces.mkdir()
    rng = np.random.default_rng(0)
    for index in range(6):
        Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(faces / f"{index}.png")
    first = _run("--data", "faces", "-r", "16", "--workers", "2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    folder = os.path.join("datasets", "tfrecords", "faces-r16")
    assert first.stdout.strip() == folder
    assert os.path.isfile(tmp_path / folder / MANIFEST_NAME)
    assert "with 2 workers" in first.stderr and "img/s" in first.stderr
    again = _run("--data", "faces", "-r", "16", "--workers", "2", cwd=tmp_path)
    assert again.returncode == 0 and "already complete" in again.stderr


def test_toy_set_has_nothing_to_build(tmp_path):
    result = _run("--data", "8gaussians", cwd=tmp_path)
    assert result.returncode == 1 and "nothing to build" in result.stderr
