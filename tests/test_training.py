"""Training: every model x architecture steps, one trace, clipping, resume, NaN stop, signals, events."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import logged_metrics, merged, tiny_hparams
from wgan import config, models, runs
from wgan.data import inputs
from wgan.gan import objectives
from wgan.train import loop
from wgan.errors import TrainingError
from wgan.gan.model import GAN

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")


def tiny_hp(model, architecture="dcgan", **values):
    """A model small enough to train a few steps in well under a second; its critic uses batch
    norm wherever the objective allows it, so that batch norm is trained too."""
    toy = architecture == "mlp" and values.pop("toy", True)
    c_norm = "batch" if objectives.get(model).critic_batch_norm else "none"
    width = 4 if architecture == "dcgan" else 16
    base = {"n_critic": 2, "seed": 3, "sample_every": 2, "histogram_every": 2,
            "architecture": {"name": architecture, "base_width": width, "c_norm": c_norm}}
    return tiny_hparams(model, "8gaussians" if toy else "mnist", **merged(base, values))


def real_iterator(hp, records_root):
    return iter(inputs.training_data(hp, records_root, seed=0).dataset)


# dcgan of every objective: the registry matrix below; here the toy mlp, and the records pipeline.
CASES = [(m, "mlp") for m in objectives.NAMES] + [("wgan-gp", "dcgan"), ("wgan-gp", "mlp-images")]


@pytest.mark.parametrize("model, architecture", CASES)
def test_every_model_and_architecture_trains(model, architecture, records_root):
    hp = (tiny_hp(model, "mlp", toy=False) if architecture == "mlp-images" else tiny_hp(model, architecture))
    gan = GAN(hp)
    iterator = real_iterator(hp, records_root)
    before = [v.numpy().copy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    for _ in range(3):
        metrics = {k: float(v) for k, v in gan.train_iteration(iterator, hp.n_critic).items()}
        assert all(np.isfinite(v) for v in metrics.values()), metrics
        if objectives.get(model).clipped:  # bounds hold after every critic update (n_critic=1 would show each one)
            assert all(np.abs(v.numpy()).max() <= hp.clip_value + 1e-7 for v in gan.critic.trainable_variables)
    after = [v.numpy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    assert all(not np.array_equal(b, a) for b, a in zip(before, after) if b.size > 1)
    assert int(gan.step) == 3
    assert (metrics["gradient_penalty"] > 0) == objectives.get(model).penalized


@pytest.mark.parametrize("constraint", ["gradient_penalty", "weight_clipping"])
def test_dcgan_trains_with_another_constraint_in_place_of_its_own(constraint):
    hp = tiny_hparams("dcgan", constraint=constraint, n_critic=2)  # the toy mlp critic, no batch norm
    gan = GAN(hp)
    iterator = real_iterator(hp, None)
    for _ in range(2):
        metrics = {k: float(v) for k, v in gan.train_iteration(iterator, hp.n_critic).items()}
    assert (metrics["gradient_penalty"] > 0) == (constraint == "gradient_penalty")
    if constraint == "weight_clipping":
        assert all(np.abs(v.numpy()).max() <= hp.clip_value + 1e-7 for v in gan.critic.trainable_variables)
    assert gan.trace_count == 1


def matrix_hp(model, architecture):
    """Tiny hyperparameters any architecture can express: 32x32 RGB images (the smallest side of
    the WGAN-GP paper's networks), 4 base channels, 2 layers; batch norm in the critic where
    the objective allows it."""
    c_norm = "batch" if objectives.get(model).critic_batch_norm else "none"
    return tiny_hparams(model, "mnist", data={"name": "cifar10", "resize": 32, "channels": 3}, n_critic=2,
                        architecture={"name": architecture, "base_width": 4, "c_norm": c_norm})


# Every objective of the registry x every architecture of the registry: a new entry in
# either is covered without touching this file.
MATRIX = [(m, a) for m in objectives.NAMES for a in models.ARCHITECTURES]


@pytest.mark.parametrize("model, architecture", MATRIX)
def test_one_iteration_of_every_objective_and_architecture_with_one_trace(model, architecture):
    hp = matrix_hp(model, architecture)
    objective = objectives.get(model)
    # Seeded: at 4 channels an unlucky draw can leave the ResNet critic's output constant for
    # every image (one seed in eight), so the generator's gradient is 0 and nothing moves.
    keras.utils.set_random_seed(0)
    gan = GAN(hp)
    images = np.random.default_rng(0).uniform(-1, 1, (hp.batch_size, 32, 32, 3)).astype(np.float32)
    iterator = iter(tf.data.Dataset.from_tensors(images).repeat())
    before = [v.numpy().copy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    for n_critic in (hp.n_critic, 1):  # another critic count reuses the trace
        metrics = {k: float(v) for k, v in gan.train_iteration(iterator, n_critic).items()}
        assert all(np.isfinite(v) for v in metrics.values()), metrics
    after = [v.numpy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    assert all(not np.array_equal(b, a) for b, a in zip(before, after) if b.size > 1)
    assert gan.trace_count == 1 and int(gan.step) == 2
    assert (metrics["gradient_penalty"] > 0) == objective.penalized
    if objective.clipped:
        assert all(np.abs(v.numpy()).max() <= hp.clip_value + 1e-7 for v in gan.critic.trainable_variables)


# float32 on images of every objective is the matrix above; here mixed precision, the
# paper's uniform latent and real 28x28 records.
@pytest.mark.parametrize("model", config.MODELS)
def test_infogan_trains_every_objective_in_mixed_precision_with_one_trace(model, records_root):
    hp = tiny_hp(model, "infogan", precision="mixed_bfloat16", z_distribution="uniform")
    hp.architecture.base_width = 4  # dense layers of 64 units
    gan = GAN(hp)
    iterator = real_iterator(hp, records_root)
    before = [v.numpy().copy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    for _ in range(2):
        metrics = {k: float(v) for k, v in gan.train_iteration(iterator, hp.n_critic).items()}
        assert all(np.isfinite(v) for v in metrics.values()), metrics
    after = [v.numpy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    assert all(not np.array_equal(b, a) for b, a in zip(before, after) if b.size > 1)
    assert gan.trace_count == 1
    if objectives.get(model).clipped:
        assert all(np.abs(v.numpy()).max() <= hp.clip_value + 1e-7 for v in gan.critic.trainable_variables)


def test_clip_bounds_hold_after_each_single_critic_step(records_root):
    hp = tiny_hp("wgan", n_critic=1, c_optimizer={"learning_rate": 0.5})  # big steps push weights past the bound
    gan = GAN(hp)
    iterator = real_iterator(hp, records_root)
    for _ in range(4):
        gan.train_iteration(iterator, 1)
        largest = max(np.abs(v.numpy()).max() for v in gan.critic.trainable_variables)
        assert largest <= hp.clip_value + 1e-7
    assert largest == pytest.approx(hp.clip_value)  # the clip was actually needed


def test_iteration_traces_once_and_warmup_changes_critic_count_without_retracing(records_root):
    hp = tiny_hp("wgan", warmup=True, warmup_critic_steps=4, warmup_iterations=1, warmup_every=3)
    gan = GAN(hp)
    iterator = real_iterator(hp, records_root)
    seen = []
    for i in range(4):
        before = int(gan.images_seen)
        gan.train_iteration(iterator, hp.critic_steps(i))
        seen.append((int(gan.images_seen) - before) // hp.batch_size)
    assert seen == [4, 2, 2, 4]
    assert gan.trace_count == 1


def test_linear_decay_reaches_zero(records_root):
    hp = tiny_hp("wgan-gp", g_optimizer={"decay": "linear", "decay_steps": 4},
                 c_optimizer={"decay": "linear", "decay_steps": 4})
    gan = GAN(hp)
    iterator = real_iterator(hp, records_root)
    rates = [float(gan.train_iteration(iterator, 1)["lr_generator"]) for _ in range(5)]
    assert rates == pytest.approx([1e-4, 0.75e-4, 0.5e-4, 0.25e-4, 0.0])


def test_ema_generator_tracks_the_generator(records_root):
    hp = tiny_hp("wgan-gp", ema_decay=0.5, ema_rampup=0.0)  # the plain decay from the first update
    gan = GAN(hp)
    start = [v.numpy().copy() for v in gan.generator.trainable_variables]
    gan.train_iteration(real_iterator(hp, records_root), 1)
    for s, g, e in zip(start, gan.generator.trainable_variables, gan.ema_generator.trainable_variables):
        np.testing.assert_allclose(e.numpy(), 0.5 * s + 0.5 * g.numpy(), rtol=1e-5, atol=1e-7)
    assert gan.sampling_generator is gan.ema_generator


def open_version(tmp_path, hp):
    number, vdir, hp, lock, resumed = runs.open_run(str(tmp_path / "checkpoint"), hp)
    lock.release()
    return vdir, resumed


def test_resume_continues_step_optimizer_and_rng(tmp_path, records_root):
    hp = tiny_hp("wgan-gp")
    vdir, resumed = open_version(tmp_path, hp)
    assert not resumed
    first = loop.train(hp, vdir, 3, records_root=records_root, progress=False)
    assert first["step"] == 3 and first["checkpoint"].endswith("ckpt-3")

    vdir2, resumed = open_version(tmp_path, hp)
    assert (vdir2, resumed) == (vdir, True)
    gan = GAN(hp)
    gan.checkpoint().restore(first["checkpoint"]).assert_existing_objects_matched()
    assert int(gan.c_opt.iterations) == 3 * hp.n_critic and int(gan.g_opt.iterations) == 3
    rng_state = gan.rng.state.numpy().copy()

    second = loop.train(hp, vdir, 2, records_root=records_root, progress=False)
    assert second["step"] == 5
    gan2 = GAN(hp)
    gan2.checkpoint().restore(second["checkpoint"]).assert_existing_objects_matched()
    assert int(gan2.c_opt.iterations) == 5 * hp.n_critic
    assert not np.array_equal(gan2.rng.state.numpy(), rng_state)
    steps = [r["step"] for r in runs.read_jsonl(os.path.join(vdir, runs.METRICS_FILE))]
    assert steps == [1, 2, 3, 4, 5]
    assert [s["step"] for s in runs.list_snapshots(vdir)] == [4]

    changed, resumed = open_version(tmp_path, tiny_hp("wgan-gp", n_critic=3))
    assert not resumed and changed.endswith("v2")


def test_events_hold_scalars_images_histograms_and_hparams(tmp_path, records_root):
    hp = tiny_hp("wgan-gp")
    vdir, _ = open_version(tmp_path, hp)
    loop.train(hp, vdir, 2, records_root=records_root, progress=False)
    tags = set()
    for path in glob.glob(os.path.join(vdir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(v.tag for v in event.summary.value)
    expected = {"train/critic_loss", "train/generator_loss", "train/wasserstein", "train/gradient_penalty",
                "train/d_real", "train/d_fake", "train/c_grad_norm", "train/g_grad_norm", "train/lr_critic",
                "train/lr_generator", "train/images_per_sec", "samples", "hyperparameters", "_hparams_/experiment",
                "_hparams_/session_start_info"}
    assert expected <= tags, expected - tags
    assert any(t.startswith("critic/") for t in tags)


def test_toy_run_writes_scatter_frames(tmp_path):
    hp = tiny_hp("wgan-gp", "mlp")
    vdir, _ = open_version(tmp_path, hp)
    result = loop.train(hp, vdir, 2, progress=False)
    assert result["epoch"] == 0.0 and np.isfinite(result["metrics"]["critic_loss"])


def test_nan_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path, records_root, monkeypatch):
    hp = tiny_hp("wgan-gp", n_critic=1)
    vdir, _ = open_version(tmp_path, hp)
    good = iter(inputs.training_data(hp, records_root, seed=0).dataset)
    poisoned = tf.data.Dataset.from_generator(
        lambda: (next(good).numpy() if i < 3 else np.full((8, 16, 16, 1), np.nan, np.float32) for i in range(100)),
        output_signature=tf.TensorSpec((8, 16, 16, 1), tf.float32))
    monkeypatch.setattr(inputs, "training_data", lambda *a, **k: inputs.TrainingData(poisoned, 64))
    with pytest.raises(TrainingError, match=r"became nan at step 4 .*ckpt-2 is untouched"):
        loop.train(hp, vdir, 10, records_root=records_root, progress=False)
    assert tf.train.latest_checkpoint(os.path.join(vdir, "ckpt")).endswith("ckpt-2")


def run_train(args, **kwargs):
    return subprocess.run([sys.executable, os.path.join(REPO, "bin", "train.py"), "--noprogress", *args],
                          capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300, **kwargs)


def test_sigterm_saves_a_checkpoint_and_resume_continues(tmp_path):
    args = ["-m", "wgan-gp", "--data", "8gaussians", "--steps", "100000", "--seed", "5", "--set", "batch_size=32",
            "--set", "architecture.base_width=16", "--set", "log_every=1", "--checkpoint_dir", str(tmp_path)]
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "bin", "train.py"), "--noprogress", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=REPO)
    metrics = tmp_path / "wgan-gp-8gaussians" / "v1" / runs.METRICS_FILE
    deadline = time.time() + 120
    while time.time() < deadline and not (metrics.exists() and len(runs.read_jsonl(str(metrics))) >= 3):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    saved = tf.train.latest_checkpoint(str(tmp_path / "wgan-gp-8gaussians" / "v1" / "ckpt"))
    step = int(saved.rsplit("-", 1)[1])
    assert step >= 3 and step == runs.read_jsonl(str(metrics))[-1]["step"]
    stored = json.loads((tmp_path / "wgan-gp-8gaussians" / "v1" / "hyperparameters.json").read_text())
    assert stored["seed"] == 5 and stored["batch_size"] == 32  # --seed and --set reach the run

    resumed = run_train(["-m", "wgan-gp", "-v", "1", "--steps", "2", "--data", "8gaussians",
                         "--checkpoint_dir", str(tmp_path)])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert runs.read_jsonl(str(metrics))[-1]["step"] == step + 2


def test_folder_source_without_records_prints_the_build_command(tmp_path):
    proc = run_train(["-m", "wgan", "--data", str(tmp_path), "--checkpoint_dir", str(tmp_path / "ck"),
                      "--records_dir", str(tmp_path / "records")])
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    # The recipe finds a folder's build without -r; the build picks the side from the images.
    assert f"build them first with: python bin/build_tfrecord.py --data {tmp_path}\n" in proc.stderr


def test_hyperparameters_are_plain_json():
    json.dumps(tiny_hp("wgan-gp").to_dict())


def test_a_scheduled_adam_beta_2_is_set_before_every_iteration_inside_the_one_trace():
    adam = {"name": "adam", "beta_2": 0.9, "beta_2_end": 0.99}
    hp = tiny_hparams("rpgan", c_optimizer=adam, g_optimizer=adam, train_steps=4)
    gan = GAN(hp)
    iterator = real_iterator(hp, None)
    seen = []
    for _ in range(3):
        gan.train_iteration(iterator, hp.n_critic)
        seen.append((float(gan.c_opt.beta_2_now), float(gan.g_opt.beta_2_now)))
    # Iterations 0, 1, 2 of 4: 0.9 + 0.09 * (1 - cos(pi * step / 4)) / 2
    want = [0.9 + 0.09 * (1 - np.cos(np.pi * step / 4)) / 2 for step in range(3)]
    assert [c for c, _ in seen] == pytest.approx(want, abs=1e-6) and [g for _, g in seen] == pytest.approx(want, abs=1e-6)
    assert gan.trace_count == 1


def test_a_run_with_a_scheduled_beta_2_resumes_bit_for_bit(tmp_path):
    from wgan.train import launch

    adam = {"name": "adam", "beta_2": 0.9, "beta_2_end": 0.99}
    hp = tiny_hparams("rpgan", c_optimizer=adam, g_optimizer=adam, log_every=1, checkpoint_every=100,
                      snapshot_every=100)
    whole = launch.train_run(str(tmp_path / "whole"), hp, launch.until_step(4), progress=False, deterministic=True)
    _, vdir, stored, lock, _ = runs.open_run(str(tmp_path / "parts"), hp)
    lock.release()
    loop.seed_everything(stored.seed, deterministic=True)
    assert loop.train(stored, vdir, 4, progress=False, stop_at_step=2)["step"] == 2
    resumed = launch.train_run(str(tmp_path / "parts"), runs.load_hparams(vdir), launch.until_step(4), version=1,
                               progress=False, deterministic=True)
    assert resumed.resumed and resumed.result["step"] == 4
    assert logged_metrics(resumed.vdir) == logged_metrics(whole.vdir)
