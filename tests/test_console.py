"""What the commands print: no TensorFlow C++ lines by default, --help per command, final scalars, run lookup.

Every command runs as a subprocess, as a user starts it, with TF_CPP_MIN_LOG_LEVEL unset.
"""

import json
import os
import re
import subprocess
import sys

import pytest
import tensorflow as tf

from conftest import tf_lines
from wgan import config, runs
from wgan.util import files, quiet
from wgan.gan import objectives
from wgan.train import loop as training

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {k: v for k, v in os.environ.items() if k != quiet.LEVEL_VARIABLE}
ENV["PYTHONPATH"] = REPO
TOY = ["--data", "8gaussians", "--set", "log_every=10", "--set", "batch_size=32", "--set", "sample_every=1000",
       "--set", "architecture.base_width=16"]


def command(script, *args, cwd, check=True):
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bin", script), *args], capture_output=True, text=True,
                          env=ENV, cwd=str(cwd), timeout=600)
    if check:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 3-step wgan-gp run on 8gaussians (log_every 10) through bin/train.py; (cwd, process)."""
    cwd = tmp_path_factory.mktemp("console")
    proc = command("train.py", "-m", "wgan-gp", "--steps", "3", "--noprogress", *TOY, cwd=cwd)
    return cwd, proc


def test_train_prints_no_tensorflow_lines_and_says_what_next(trained):
    cwd, proc = trained
    assert tf_lines(proc) == []
    assert "Sharding callback" not in proc.stderr
    assert "next: python bin/generate_img.py -m wgan-gp --data 8gaussians -v 1" in proc.stdout


def test_a_run_shorter_than_log_every_logs_its_final_step(trained):
    cwd, _ = trained
    vdir = cwd / "checkpoint" / "wgan-gp-8gaussians" / "v1"
    records = runs.read_jsonl(str(vdir / runs.METRICS_FILE))
    assert [r["step"] for r in records] == [3]
    assert {"critic_loss", "generator_loss", "wasserstein", "images_per_sec"} <= set(records[0])
    scalars = set()
    for path in vdir.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            scalars.update((v.tag, event.step) for v in event.summary.value)
    assert ("train/critic_loss", 3) in scalars and ("train/wasserstein", 3) in scalars


def test_generate_and_evaluate_find_the_only_run_without_model(trained):
    cwd, _ = trained
    out = command("generate_img.py", "-v", "1", "--num", "64", cwd=cwd)
    assert tf_lines(out) == []
    assert (cwd / "figures" / "wgan-gp-8gaussians-v1-samples.png").exists()
    assert "using checkpoint/wgan-gp-8gaussians" in out.stderr
    listed = command("generate_img.py", "--list", cwd=cwd)
    assert "checkpoint/wgan-gp-8gaussians:" in listed.stdout and "v1" in listed.stdout
    evaluated = command("evaluate.py", "-v", "1", "--num", "256", "--json", "--nostore", cwd=cwd)
    assert tf_lines(evaluated) == []
    assert json.loads(evaluated.stdout.strip().splitlines()[-1])["step"] == 3


def test_verbosity_1_brings_tensorflow_lines_back(trained):
    cwd, _ = trained
    proc = command("generate_img.py", "-v", "1", "--num", "64", "--verbosity", "1", cwd=cwd)
    assert tf_lines(proc), "--verbosity 1 should show TensorFlow's own log lines"


def test_build_prints_no_tensorflow_lines_from_its_workers(tmp_path):
    # Spawned workers (the build's decoders) too; the study's pool workers are checked by
    # tests/test_study.py's end-to-end run, which starts the command the same way.
    built = command("build_tfrecord.py", "--data", "digits", "--records_dir", "records", "--workers", "2", cwd=tmp_path)
    assert tf_lines(built) == [] and (tmp_path / "records" / "digits-r16" / "dataset_info.json").exists()


def test_benchmark_prints_no_tensorflow_lines(tmp_path):
    timed = command("benchmark.py", "--sizes=", "--models", "wgan-gp", "--precision", "float32", "--iterations", "1",
                    "--noinput", "--matmul_n", "64", "--json", "bench.json", cwd=tmp_path)
    assert tf_lines(timed) == [] and (tmp_path / "bench.json").exists()


def test_a_start_that_fails_leaves_no_empty_version(tmp_path):
    proc = command("train.py", "-m", "wgan", "--records_dir", "nowhere", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "build_tfrecord.py" in errors[0]
    assert tf_lines(proc) == []
    root = tmp_path / "checkpoint" / "wgan-celeba-c108-r64"
    assert not (root / "v1").exists() and not root.exists()  # the records are checked before a version exists


def test_train_without_model_is_one_line(tmp_path):
    proc = command("train.py", "--data", "digits", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    names = ", ".join(objectives.NAMES)
    assert proc.stderr.strip().splitlines() == [f"error: give -m/--model: {names} (--help lists every flag)"]


HELP = {
    "build_tfrecord": ("data", "resize", "crop", "records_dir", "raw_root", "shards", "shard_mb", "workers",
                       "overwrite", "compression"),
    "train": ("model", "data", "crop", "resize", "hparams", "checkpoint_dir", "records_dir", "version", "epoch",
              "steps", "set", "seed", "deterministic", "progress", "strategy", "devices", "cpu_replicas"),
    "generate_img": ("model", "data", "checkpoint_dir", "version", "list", "output", "num", "rows", "seed", "margin",
                     "zoom", "individual", "interpolate", "steps", "gif", "export"),
    "evaluate": ("model", "data", "checkpoint_dir", "version", "num", "seed", "metrics", "extractor",
                 "inception_weights", "reference_num", "store", "json"),
    "study": ("source", "seeds", "first_seed", "models", "steps", "output", "jobs", "records_dir", "set"),
    "benchmark": ("models", "sizes", "toy", "precision", "jit", "iterations", "matmul_n", "input", "json", "compare"),
}


def _flag_listed(text, name):
    return re.search(rf"^  (-\S+, )?--(\[no\])?{name}$", text, re.MULTILINE) is not None


@pytest.mark.parametrize("name", sorted(HELP))
def test_help_lists_the_commands_own_flags_and_exits_0(tmp_path, name):
    proc = command(f"{name}.py", "--help", cwd=tmp_path)
    missing = [flag for flag in HELP[name] + ("verbosity",) if not _flag_listed(proc.stdout, flag)]
    assert missing == [], proc.stdout
    assert "Try --helpfull" not in proc.stdout and tf_lines(proc) == []
    # Meanings and defaults, not only names; and nothing from other libraries.
    assert "(default: " in proc.stdout and not _flag_listed(proc.stdout, "only_check_flags")


def test_help_works_for_python_m_and_helpfull_lists_everything(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "wgan.cli.train", "-h"], capture_output=True, text=True, env=ENV,
                          cwd=str(tmp_path), timeout=300)
    assert proc.returncode == 0 and _flag_listed(proc.stdout, "steps") and _flag_listed(proc.stdout, "model")
    full = command("generate_img.py", "--helpfull", cwd=tmp_path)
    assert "\nabsl.logging:\n" in full.stdout and "--zoom" in full.stdout  # other libraries' flags too


def test_help_of_every_command_does_not_load_tensorflow(tmp_path):
    # TensorFlow takes seconds to import; a command's --help and flag errors should not wait for it.
    for name in ("train", "generate_img", "evaluate", "study", "benchmark", "build_tfrecord"):  # one process each
        code = f"import sys, wgan.cli.{name}; print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV,
                              cwd=str(tmp_path), timeout=120)
        assert proc.returncode == 0 and proc.stdout.strip() == "[]", (name, proc.stdout + proc.stderr)


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    # `python bin/study.py --help | head -0`: the reader has gone before the help is written.
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "bin", "study.py"), "--help"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, cwd=str(tmp_path))
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1 and "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


def test_find_runs_matches_the_stored_hyperparameters(tmp_path):
    for model, source in (("wgan-gp", "8gaussians"), ("dcgan", "8gaussians"), ("wgan-gp", "digits")):
        hp = config.resolve(model, source)
        os.makedirs(runs.version_dir(runs.run_root(str(tmp_path), hp), 1))
        files.write_atomic(os.path.join(runs.version_dir(runs.run_root(str(tmp_path), hp), 1), runs.HPARAMS_FILE),
                          hp.to_json())
    names = lambda found: [os.path.basename(r) for r in found]  # noqa: E731
    assert names(runs.find_runs(str(tmp_path))) == ["dcgan-8gaussians", "wgan-gp-8gaussians", "wgan-gp-digits-r16"]
    assert names(runs.find_runs(str(tmp_path), model="wgan-gp", data="digits")) == ["wgan-gp-digits-r16"]
    assert names(runs.find_runs(str(tmp_path), data="8gaussians", version=1)) == ["dcgan-8gaussians",
                                                                                  "wgan-gp-8gaussians"]
    assert runs.find_runs(str(tmp_path), version=2) == [] and runs.find_runs(str(tmp_path / "none")) == []
    proc = command("generate_img.py", "--data", "8gaussians", "-v", "1", "--checkpoint_dir", str(tmp_path),
                   cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: --data 8gaussians -v 1 could mean 2 runs under {tmp_path} (each has v1): dcgan-8gaussians, "
        "wgan-gp-8gaussians; pick one with -m and --data")


def test_removed_if_unsaved_keeps_versions_that_saved(tmp_path):
    fresh, saved = tmp_path / "v1", tmp_path / "v2"
    for vdir in (fresh, saved):
        vdir.mkdir()
        (vdir / runs.HPARAMS_FILE).write_text("{}")
    (saved / training.CKPT_DIR).mkdir()
    for vdir, created in ((fresh, True), (saved, True), (tmp_path / "v3", False)):
        with pytest.raises(RuntimeError):
            with runs.removed_if_unsaved(str(vdir), created):
                raise RuntimeError("records missing")
    assert not fresh.exists() and saved.exists()


def test_quiet_hides_only_tensorflow_lines_below_the_level():
    startup = "I0000 00:00:1796148591.321763    4996 port.cc:153] oneDNN custom operations are on."
    error = "E0000 00:00:1796148594.604961    4996 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)"
    assert quiet.is_hidden(startup + "\n", 1) and quiet.is_hidden(error, 3) and not quiet.is_hidden(error, 2)
    assert quiet.is_hidden(quiet._PRE_INIT_NOTICE + "\n", 3) and not quiet.is_hidden(startup, 0)
    assert not quiet.is_hidden("warning: -v 1 resumes with its stored hyperparameters\n", 3)
    assert not quiet.is_hidden("UserWarning: something real\n", 3)
    assert quiet.cpp_level(["train.py"], {}) == 3
    assert quiet.cpp_level(["train.py", "--verbosity", "1"], {}) == 0
    assert quiet.cpp_level(["train.py", "--verbosity=1"], {quiet.LEVEL_VARIABLE: "2"}) == 2
