"""benchmarks/yardsticks.py: its row builders do what the table's labels say, on tiny generated images.

No classifier is trained or loaded here: the builders are pure numpy on uint8 images [N, H, W, C].
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import load_script

from wgan.data import uint8_to_float

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "yardsticks.py")


@pytest.fixture(scope="module")
def yardsticks():
    return load_script("benchmarks/yardsticks.py")


def test_noise_has_the_std_it_says_in_the_pixel_range_and_follows_the_seed(yardsticks):
    grey = np.full((50, 8, 8, 1), 128, np.uint8)  # mid-grey: the noise is almost never clipped at 0.3
    noisy = yardsticks.add_noise(grey, 0.3, np.random.default_rng(0))
    assert noisy.dtype == np.uint8 and noisy.shape == grey.shape
    difference = uint8_to_float(noisy) - uint8_to_float(grey)
    assert abs(difference.std() - 0.3) < 0.02 and abs(difference.mean()) < 0.02
    assert np.array_equal(noisy, yardsticks.add_noise(grey, 0.3, np.random.default_rng(0)))
    assert not np.array_equal(noisy, yardsticks.add_noise(grey, 0.3, np.random.default_rng(1)))


def test_the_box_blur_averages_each_2x2_block_and_keeps_flat_images(yardsticks):
    flat = np.full((2, 6, 6, 1), 77, np.uint8)
    assert np.array_equal(yardsticks.box_blur(flat, 2), flat)
    dot = np.zeros((1, 6, 6, 1), np.uint8)
    dot[0, 2, 2, 0] = 255
    blurred = yardsticks.box_blur(dot, 2)[0, :, :, 0]
    # Each of the four blocks holding the white pixel is a quarter white: (-1 - 1 - 1 + 1) / 4 = -0.5 -> 64.
    expected = np.zeros((6, 6), np.uint8)
    expected[1:3, 1:3] = 64
    assert np.array_equal(blurred, expected)


def test_a_class_subset_keeps_only_those_classes_in_build_order_up_to_the_limit(yardsticks):
    labels = np.tile(np.arange(10), 3)
    images = (labels * 10).astype(np.uint8).reshape(-1, 1, 1, 1)  # each image says its label
    kept = yardsticks.only_classes(images, labels, (0, 1, 2), limit=5)
    assert kept.ravel().tolist() == [0, 10, 20, 0, 10]
    assert len(yardsticks.only_classes(images, labels, (0, 1, 2), limit=100)) == 9


def test_uniform_noise_covers_the_pixel_range(yardsticks):
    noise = yardsticks.uniform_noise(20, (8, 8, 1), np.random.default_rng(0))
    assert noise.dtype == np.uint8 and noise.shape == (20, 8, 8, 1)
    assert noise.min() < 5 and noise.max() > 250 and abs(noise.mean() - 127.5) < 5


def test_the_rows_say_how_they_were_made_and_repeat_with_the_seed(yardsticks):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 4, 4, 1), dtype=np.uint8)
    labels = np.arange(40) % 10
    rows = yardsticks.row_images(images, labels, num=12, seed=3)
    hows = [how for how, _ in rows]
    assert [h["kind"] for h in hows] == ["real", "real", "noise", "noise", "blur", "classes", "classes", "classes",
                                         "uniform"]
    assert [h["std"] for h in hows if h["kind"] == "noise"] == list(yardsticks.NOISE_STDS)
    assert [h["only_classes"] for h in hows if h["kind"] == "classes"] == [list(c) for c in yardsticks.CLASS_SUBSETS]
    assert [len(x) for _, x in rows] == [12, 28, 12, 12, 12, 12, 12, 12, 12]
    assert np.array_equal(rows[0][1], images[:12]) and np.array_equal(rows[1][1], images[12:])
    assert set(labels[np.isin(labels, yardsticks.CLASS_SUBSETS[2])][:12]) == {0, 1, 2}
    again = yardsticks.row_images(images, labels, num=12, seed=3)
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(rows, again))
    assert not np.array_equal(rows[2][1], yardsticks.row_images(images, labels, num=12, seed=4)[2][1])


def test_a_missing_records_folder_is_one_line_and_exit_1(tmp_path):
    result = subprocess.run([sys.executable, SCRIPT, "--records", str(tmp_path / "nowhere")], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    line = (f"error: no records at {tmp_path / 'nowhere' / 'digits-r16'}; build them first with: "
            "python bin/build_tfrecord.py --data digits -r 16")
    assert result.stderr.strip().splitlines() == [line]
    assert not (tmp_path / "nowhere").exists()
