"""Run length: train_steps is the run's total, reruns change nothing, --steps extends, --epoch counts warm-up,
and a resumed run gives, bit for bit, the losses of the uninterrupted run (separate processes)."""

import json
import os
import subprocess
import sys

import pytest

from conftest import build_mnist_records
from wgan import config, runs
from wgan.train import run_length
from wgan.errors import ConfigError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")


def hp_dict(toy=True, **values):
    """Tiny hyperparameters as a JSON object: an MLP on 8gaussians, or a small DCGAN on 16x16 mnist records."""
    base = {
        "model": "wgan-gp", "batch_size": 16, "z_dim": 4, "n_critic": 2, "seed": 7, "train_steps": 8,
        "log_every": 1, "sample_every": 1000, "histogram_every": 1000, "checkpoint_every": 1000,
        "snapshot_every": 1000,
        "data": ({"name": "8gaussians", "crop": None, "resize": None, "channels": 0} if toy
                 else {"name": "mnist", "crop": None, "resize": 16, "channels": 1, "shuffle_buffer": 32}),
        "architecture": {"name": "mlp" if toy else "dcgan", "base_width": 8, "depth": 2, "g_norm": "batch"},
    }
    base.update(values)
    return base


def hp_of(**values):
    return config.from_dict(hp_dict(**values))


# ----- the plan, as a function --------------------------------------------------------------
def test_without_flags_a_run_trains_up_to_train_steps():
    hp = hp_of(train_steps=100)
    assert run_length.plan(hp, 0).iterations == 100
    assert run_length.plan(hp, 60).iterations == 40


def test_a_complete_run_plans_nothing_and_says_how_to_extend():
    plan = run_length.plan(hp_of(train_steps=100), 100)
    assert plan.iterations == 0
    assert "complete at step 100" in plan.note and "--steps" in plan.note


def test_steps_extend_past_train_steps_with_a_constant_rate():
    assert run_length.plan(hp_of(train_steps=100), 100, steps=50) == run_length.Plan(100, 50)


def test_steps_past_a_linear_decay_are_refused_or_announced():
    decaying = {"decay": "linear"}
    hp = hp_of(train_steps=100, g_optimizer=decaying, c_optimizer=decaying)
    with pytest.raises(ConfigError, match=r"decayed linearly to 0 at step 100.*--set train_steps=150"):
        run_length.plan(hp, 100, steps=50)
    partly = run_length.plan(hp, 80, steps=50)
    assert partly.iterations == 50 and "last 30 of these 50 iterations will not change the weights" in partly.note


def test_epochs_count_the_warmup_critic_batches():
    # 64 images, batch 16: 4 critic batches an epoch.
    plain = hp_of(toy=False, n_critic=2)
    assert run_length.iterations_for_epochs(plain, 1, 64) == 2
    assert run_length.iterations_for_epochs(plain, 0.5, 1000) == 16  # 32 batches / 2
    warm = hp_of(toy=False, n_critic=2, warmup=True, warmup_critic_steps=10, warmup_iterations=2, warmup_every=500)
    assert run_length.iterations_for_epochs(warm, 1, 64) == 1  # iteration 0 alone draws 10 batches
    assert run_length.iterations_for_epochs(warm, 10, 64) == 12  # 40 batches: 10 + 10 + 10 iterations x 2
    assert run_length.iterations_for_epochs(warm, 1, 64, start=500) == 1  # step 500 is a warm-up step again


def test_epochs_need_images_and_steps_or_epochs_not_both():
    with pytest.raises(ConfigError, match="no epochs"):
        run_length.plan(hp_of(), 0, epochs=1)
    with pytest.raises(ConfigError, match="not both"):
        run_length.plan(hp_of(toy=False), 0, steps=3, epochs=1, dataset_size=64)


# ----- as a user meets it: the command line, in separate processes ------------------------------
def train(tmp_path, name, values, *args):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(values))
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bin", "train.py"), "--noprogress", "-m", "wgan-gp",
                           "--data", values["data"]["name"], "--hparams", str(path), "--deterministic",
                           "--checkpoint_dir", str(tmp_path / name), "--records_dir", str(tmp_path / "records"),
                           *args], capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def losses(tmp_path, name, run):
    rows = runs.read_jsonl(str(tmp_path / name / run / "v1" / runs.METRICS_FILE))
    return [(r["step"], r["critic_loss"], r["generator_loss"], r["wasserstein"]) for r in rows]


def test_rerunning_a_finished_run_changes_nothing(tmp_path):
    values = hp_dict(train_steps=3)
    train(tmp_path, "a", values)
    ckpt = tmp_path / "a" / "wgan-gp-8gaussians" / "v1" / "ckpt"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in ckpt.iterdir())
    again = train(tmp_path, "a", values)
    assert "complete at step 3" in again.stdout and "--steps" in again.stdout
    assert sorted((p.name, p.stat().st_mtime_ns) for p in ckpt.iterdir()) == before
    assert len(losses(tmp_path, "a", "wgan-gp-8gaussians")) == 3
    assert not (tmp_path / "a" / "wgan-gp-8gaussians" / "v2").exists()
    train(tmp_path, "a", values, "--steps", "2")  # an extension on purpose
    assert [row[0] for row in losses(tmp_path, "a", "wgan-gp-8gaussians")] == [1, 2, 3, 4, 5]


@pytest.fixture(scope="module")
def mnist_records(tmp_path_factory):
    """Records of 48 generated 28x28 'mnist' images at 16x16, in a folder the tests copy in."""
    root = tmp_path_factory.mktemp("mnist") / "records"
    build_mnist_records(root, count=48)
    return root


@pytest.mark.parametrize("toy", [True, False], ids=["toy", "images"])
def test_a_resumed_run_repeats_the_uninterrupted_run_bit_for_bit(tmp_path, toy, request):
    if not toy:
        import shutil

        shutil.copytree(request.getfixturevalue("mnist_records"), tmp_path / "records")
    # 48 images, batch 16, 2 critic batches an iteration: the 8 iterations cross 5 epochs.
    values = hp_dict(toy=toy)
    run = "wgan-gp-8gaussians" if toy else "wgan-gp-mnist-r16"
    train(tmp_path, "whole", values)
    train(tmp_path, "parts", values, "--steps", "3")
    train(tmp_path, "parts", values)  # resumes at step 3 and trains to train_steps
    whole, parts = losses(tmp_path, "whole", run), losses(tmp_path, "parts", run)
    assert [row[0] for row in whole] == list(range(1, 9))
    assert parts == whole
