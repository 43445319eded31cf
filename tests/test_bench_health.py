"""benchmarks/bench_health.py: its --run argument, read the way a user writes it (nothing is trained here)."""

import argparse
import os
import subprocess
import sys

import pytest
from conftest import load_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "bench_health.py")


@pytest.fixture(scope="module")
def bench_health():
    return load_script("benchmarks/bench_health.py")


def test_a_run_names_model_data_steps_and_evaluation_interval(bench_health):
    assert bench_health.parse_run("wgan-gp:digits:300:100") == {"model": "wgan-gp", "data": "digits", "steps": 300,
                                                                "eval_every": 100}
    assert [bench_health.parse_run(r)["data"] for r in bench_health.DEFAULT_RUNS] == ["digits", "fashion_mnist"]
    for text, says in (("wgan-gp:digits:300", "expected MODEL:DATA:STEPS:EVAL_EVERY"),
                       ("wgan-gp:digits:many:100", "whole numbers"), ("wgan-gp:digits:0:100", "positive")):
        with pytest.raises(argparse.ArgumentTypeError, match=says):
            bench_health.parse_run(text)


def test_a_malformed_run_is_one_usage_line_and_exit_2():
    done = subprocess.run([sys.executable, SCRIPT, "--run", "wgan-gp:digits"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "expected MODEL:DATA:STEPS:EVAL_EVERY" in done.stderr.splitlines()[-1]
