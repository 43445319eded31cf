"""Benchmark plumbing: the analytic iteration FLOPs, the input-cost measurement, the command's table and JSON.

These tests check what the benchmark computes and reports, never how fast anything runs.
"""

import json
import os
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import merged, tiny_hparams
from wgan.lab import benchmark
from wgan.gan.model import GAN
from wgan.models.flops import count_flops

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")


def toy_hp(model="wgan-gp", **values):
    return tiny_hparams(model, "8gaussians", **merged({"batch_size": 16, "z_dim": 4, "n_critic": 3, "g_steps": 2,
                                                       "architecture": {"base_width": 8, "g_norm": "none"}}, values))


def test_iteration_flops_follow_the_stated_conventions():
    hp = toy_hp()
    gan = GAN(hp)
    g, c = count_flops(gan.generator), count_flops(gan.critic)
    assert g == 2 * (4 * 8 + 8 * 8 + 8 * 2) and c == 2 * (2 * 8 + 8 * 8 + 8 * 1)
    critic, generator = benchmark.update_flops(hp, g, c)
    assert critic == g + 12 * c and generator == 3 * g + 2 * c
    assert benchmark.iteration_flops(hp, g, c) == 16 * (3 * (g + 12 * c) + 2 * (3 * g + 2 * c))
    plain = toy_hp("wgan")
    assert benchmark.update_flops(plain, g, c)[0] == g + 6 * c  # no gradient penalty
    assert benchmark.iteration_flops(plain, g, c, n_critic=100) == 16 * (100 * (g + 6 * c) + 2 * (3 * g + 2 * c))


def test_the_flop_count_counts_a_wrapped_layer_as_the_layer_it_wraps():
    """A constraint that wraps the critic's layers (spectral normalization) keeps the FLOP count working."""
    def critic(wrap):
        return keras.Sequential([keras.Input((8, 8, 2)), wrap(keras.layers.Conv2D(3, 3, padding="same")),
                                 keras.layers.Flatten(), wrap(keras.layers.Dense(5))])

    plain = count_flops(critic(lambda layer: layer))
    assert plain == 2 * (8 * 8 * 3 * 3 * 2 * 3 + 8 * 8 * 3 * 5)
    assert count_flops(critic(keras.layers.SpectralNormalization)) == plain


def test_in_memory_gan_builds_seeded_and_times_the_first_iteration():
    hp = toy_hp(n_critic=1, g_steps=1)
    gan, iterator, first = benchmark.in_memory_gan(hp)
    again, _, _ = benchmark.in_memory_gan(hp)
    assert first > 0 and int(gan.step) == 1 and int(again.step) == 1
    for a, b in zip(gan.critic.get_weights(), again.critic.get_weights()):  # same seed, same update
        np.testing.assert_array_equal(a, b)
    assert next(iterator).shape == (16, 2)
    rows = benchmark.alternate({"a": (gan, iterator, first)}, hp, rounds=2)
    assert len(rows["a"]["times"]) == 2 and rows["a"]["first"] == first


def test_benchmark_model_reports_consistent_rates():
    hp = toy_hp()
    row = benchmark.benchmark_model(hp, iterations=2, label="toy")
    assert row["label"] == "toy" and len(row["iteration_s"]) == 2
    assert row["real_images_per_s"] == pytest.approx(row["iterations_per_s"] * 3 * 16)
    assert row["gflops"] == pytest.approx(row["gflop_per_iteration"] * row["iterations_per_s"])
    assert row["first_iteration_s"] > 0 and row["side"] is None and row["precision"] == "float32"


def test_benchmark_model_times_calls_of_several_iterations():
    hp = toy_hp(steps_per_call=4)
    row = benchmark.benchmark_model(hp, iterations=2, label="toy k4")
    assert row["steps_per_call"] == 4 and len(row["iteration_s"]) == 2
    # every timed call ran 4 iterations: 1 untimed + 2 timed calls
    assert row["iterations_per_s"] == pytest.approx(1.0 / np.median(row["iteration_s"]))


def test_matmul_gflops_is_a_positive_rate():
    rate = benchmark.matmul_gflops(tf.float32, n=128, min_seconds=0.05, repeats=1)
    assert np.isfinite(rate) and rate > 0


def test_input_overhead_tells_a_starving_pipeline_from_a_fast_one():
    hp = toy_hp(n_critic=1, g_steps=1)
    points = np.zeros((16, 2), np.float32)

    def slow(_):
        time.sleep(0.1)  # far longer than the tiny model's iteration, even on a loaded machine
        return points

    starving = tf.data.Dataset.range(10**6).map(
        lambda i: tf.ensure_shape(tf.numpy_function(slow, [i], tf.float32), [16, 2]))
    fast = tf.data.Dataset.from_tensors(points).repeat()
    slow_cost = benchmark.input_overhead(hp, starving, rounds=2, iterations=4)
    fast_cost = benchmark.input_overhead(hp, fast, rounds=2, iterations=4)
    assert slow_cost["fraction"] > 0.6, slow_cost
    # A loaded machine inflates the fast pipeline's share (0.45 seen beside five other test runs).
    assert slow_cost["fraction"] - fast_cost["fraction"] > 0.3, (slow_cost, fast_cost)
    assert len(slow_cost["rounds"]["records"]) == len(slow_cost["rounds"]["memory"]) == 2


def test_generated_records_feed_the_pipeline(tmp_path):
    folder = benchmark.build_benchmark_records(str(tmp_path), count=64, side=16, crop=108)
    rate = benchmark.input_throughput(folder, batch_size=16, batches=5, warmup=1)
    assert rate["images_per_s"] == pytest.approx(16 * rate["batches_per_s"]) and rate["batches_per_s"] > 0


def test_benchmark_command_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, "bin", "benchmark.py"), "--models", "wgan-gp", "--sizes", "16",
         "--notoy", "--precision", "float32,mixed_bfloat16", "--iterations", "1", "--matmul_n", "256",
         "--input_images", "128", "--input_rounds", "1", "--json", str(out)],
        capture_output=True, text=True, env=ENV, cwd=str(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert [r["precision"] for r in results["models"]] == ["float32", "mixed_bfloat16"]
    assert set(results["matmul"]["gflops"]) == {"float32", "mixed_bfloat16"}
    assert all(r["side"] == 16 and r["gflops"] > 0 for r in results["models"])
    assert results["input"]["alone"]["batches_per_s"] > 0 and results["input"]["overhead"][0]["model"] == "wgan-gp"
    assert results["machine"]["cores"] >= 1 and len(results["machine"]["load_average"]) == 3
    assert "GFLOP/s" in proc.stdout and "speed-up over float32" in proc.stdout and "input costs" in proc.stdout

    again = subprocess.run(
        [sys.executable, os.path.join(REPO, "bin", "benchmark.py"), "--models", "wgan-gp", "--sizes", "16",
         "--notoy", "--precision", "bogus", "--json", str(tmp_path / "x.json")],
        capture_output=True, text=True, env=ENV, cwd=str(tmp_path), timeout=300)
    assert again.returncode == 1 and "--precision 'bogus'" in again.stderr and "Traceback" not in again.stderr
    bad_calls = subprocess.run(
        [sys.executable, os.path.join(REPO, "bin", "benchmark.py"), "--models", "wgan-gp", "--sizes", "16",
         "--notoy", "--steps_per_call", "1,0", "--json", str(tmp_path / "x.json")],
        capture_output=True, text=True, env=ENV, cwd=str(tmp_path), timeout=300)
    assert bad_calls.returncode == 1 and "--steps_per_call '0'" in bad_calls.stderr
    assert "Traceback" not in bad_calls.stderr


def test_the_closing_load_average_is_noted_once_so_the_printed_table_and_the_json_agree(tmp_path):
    results = {"machine": {"load_average": [0.5, 0.5, 0.5]}}
    noted = benchmark.note_load_after(results)["machine"]["load_average_after"]
    assert len(noted) == 3
    results["machine"]["load_average_after"] = [9.0, 9.0, 9.0]  # as a table printed it
    benchmark.note_load_after(results)
    benchmark.write_results(str(tmp_path / "r.json"), results)
    assert json.loads((tmp_path / "r.json").read_text())["machine"]["load_average_after"] == [9.0, 9.0, 9.0]
    fresh = {"machine": {"load_average": [0.5, 0.5, 0.5]}}
    benchmark.write_results(str(tmp_path / "s.json"), fresh)  # a script that printed nothing: noted on writing
    assert len(json.loads((tmp_path / "s.json").read_text())["machine"]["load_average_after"]) == 3
