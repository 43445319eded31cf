"""benchmarks/bench_variants.py: variants read as the sweep reads them, each timed with its own iteration."""

import os
import subprocess
import sys

import pytest
from conftest import load_script

from wgan import config
from wgan.lab import benchmark_report
from wgan.errors import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = "batch_size=16,architecture.base_width=8,precision=float32"


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/bench_variants.py")


def test_a_variant_is_a_name_and_overrides_and_reads_back_the_way_reports_write_it():
    assert config.parse_variant("shipped:") == ("shipped", [])
    name, overrides = config.parse_variant('nc4:n_critic=4,g_optimizer.decay="linear",z_dim=8')
    assert (name, overrides) == ("nc4", [("n_critic", 4), ("g_optimizer.decay", "linear"), ("z_dim", 8)])
    assert config.override_texts(overrides) == ["n_critic=4", 'g_optimizer.decay="linear"', "z_dim=8"]
    assert [config.parse_override(t) for t in config.override_texts(overrides)] == overrides
    for text, says in ((":n_critic=2", "expected name:key=value"), ("a:n_critic", "'n_critic' is not key=value")):
        with pytest.raises(ConfigError, match=says):
            config.parse_variant(text)


def test_bad_variants_are_refused_before_anything_is_built(bench):
    with pytest.raises(ConfigError, match="--variant a: unknown key 'n_critics'; did you mean 'n_critic'"):
        bench.resolve_variants("wgan-gp", "8gaussians", ["a:n_critics=2"])
    with pytest.raises(ConfigError, match="each variant needs its own name"):
        bench.resolve_variants("wgan-gp", "8gaussians", ["a:", "a:n_critic=1"])
    [(_, no_texts, shipped), (_, texts, nc2)] = bench.resolve_variants("wgan-gp", "8gaussians",
                                                                       ["shipped:", "nc2:n_critic=2"])
    assert (no_texts, texts) == ([], ["n_critic=2"])
    assert nc2.n_critic == 2 and shipped.n_critic == config.load(config.default_path("wgan-gp", "8gaussians")).n_critic


def test_each_variant_trains_with_its_own_critic_steps_and_the_table_gives_its_run_length(bench):
    variants = bench.resolve_variants("wgan-gp", "8gaussians", [f"one:{TINY},n_critic=1,train_steps=600",
                                                                f"three:{TINY},n_critic=3"])
    rows = bench.time_variants(variants, block=3, rounds=2, warmup=1)
    assert [(r["variant"], r["n_critic"], r["batch_size"], len(r["iterations_per_s"])) for r in rows] == \
        [("one", 1, 16, 2), ("three", 3, 16, 2)]
    assert rows[0]["overrides"][-2:] == ["n_critic=1", "train_steps=600"]
    assert all(rate > 0 for r in rows for rate in r["iterations_per_s"])
    rows[0]["iterations_per_s"], rows[1]["iterations_per_s"] = [10.0, 12.0], [4.0, 6.0]  # the table's arithmetic
    rows[0]["overrides"], rows[1]["overrides"] = ["n_critic=1"], []
    machine = {"cpu": "AMD EPYC", "cores": 2, "tensorflow": "2.21.0", "keras": "3.15.1", "commit": "abc1234",
               "date": "2026-12-05 11:00:00", "load_average": [0.5, 0.5, 0.5], "load_average_after": [1.0, 1, 1]}
    table = benchmark_report.variants_table({"command": "python benchmarks/bench_variants.py", "machine": machine,
                                             "block": 3, "rounds": 2, "rows": rows}).splitlines()
    assert table[4].startswith("median of 2 blocks of 3 iterations per variant, in turn, from one batch in memory, "
                               "on AMD EPYC, 2 cores")
    assert "| one | `n_critic=1` | 1 | 16 | float32 | 11.00 | 10.00 | 12.00 | 1.000 | 600 | 0.9 |" in table
    assert table[-1].startswith("| three | (shipped file) | 3 | 16 | float32 | 5.00 | 4.00 | 6.00 | 0.455 |")


def test_run_as_a_user_would_it_prints_the_command_the_machine_and_one_row_per_variant(tmp_path):
    script = os.path.join(ROOT, "benchmarks", "bench_variants.py")
    result = subprocess.run([sys.executable, script, "--source", "8gaussians", "--model", "wgan-gp",
                             "--variant", f"a:{TINY}", "--variant", f"b:{TINY},n_critic=2", "--block", "2",
                             "--rounds", "1", "--json", "out.json"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "python benchmarks/bench_variants.py --source 8gaussians" in result.stdout
    assert "load average" in result.stdout and result.stdout.count("\n| a |") == result.stdout.count("\n| b |") == 1
    # The JSON a docs block reads renders the table the run printed.
    assert result.stdout.strip() == benchmark_report.render("variants-table out.json", str(tmp_path))
    bad = subprocess.run([sys.executable, script, "--source", "8gaussians", "--model", "wgan-gp", "--variant",
                          "a:batch_sise=8"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == "error: --variant a: unknown key 'batch_sise'; did you mean 'batch_size'?"
