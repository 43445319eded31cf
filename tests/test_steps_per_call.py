"""Several generator iterations per compiled call (``steps_per_call``) change nothing a run logs or saves.

The loop runs blocks of up to K iterations (``GAN.train_block``), cut at every event
(``loop.block_end``); these tests hold it to the results of one iteration per call.
"""

import os

import numpy as np
import pytest
import tensorflow as tf
from conftest import logged_metrics, tiny_hparams

from wgan import config, runs
from wgan.data import inputs
from wgan.errors import ConfigError, TrainingError
from wgan.gan.model import GAN
from wgan.metrics import evaluation
from wgan.runs import checkpoints
from wgan.train import health, launch, loop, summaries

# The WGAN warm-up makes n_critic change inside what would be one block (3 critic steps for
# iterations 0-2 and every 7th), and the linear decay makes every step's learning rate differ.
WARMUP = {"warmup": True, "warmup_critic_steps": 3, "warmup_iterations": 3, "warmup_every": 7}
DECAY = {"decay": "linear"}


def toy_hp(**values):
    base = {"n_critic": 1, "seed": 4, "log_every": 5, "checkpoint_every": 100, "snapshot_every": 100,
            "g_optimizer": DECAY, "c_optimizer": DECAY, "train_steps": 40, **WARMUP}
    return tiny_hparams("wgan-gp", "8gaussians", **{**base, **values})


def test_steps_per_call_is_validated():
    assert toy_hp().steps_per_call == 16  # the default (docs/scale.md: measured)
    with pytest.raises(ConfigError, match="steps_per_call.*>= 1"):
        toy_hp(steps_per_call=0)


def test_block_end_stops_at_every_event_and_critic_count_change():
    hp = toy_hp(steps_per_call=8, warmup=False, log_every=10, sample_every=12, eval_every=0)
    assert [loop.block_end(hp, s, 100) for s in (0, 8, 10, 12, 20)] == [8, 10, 12, 20, 24]
    assert loop.block_end(hp, 0, 3) == 3  # the run's end
    assert loop.block_end(hp, 0, 100, stop_at_step=5) == 5 and loop.block_end(hp, 6, 100, stop_at_step=5) == 7
    warm = toy_hp(steps_per_call=8, log_every=100, sample_every=100, histogram_every=100)
    # iterations 0-2 warm up, 3-6 not, 7 warms up again
    assert [loop.block_end(warm, s, 100) for s in (0, 3, 7, 8)] == [3, 7, 8, 14]


def test_a_block_equals_its_iterations_one_call_each_with_one_trace():
    hp = toy_hp(n_critic=2)
    single, block = (loop.seed_everything(hp.seed) or GAN(hp) for _ in range(2))
    data = [iter(inputs.training_data(hp, None, seed=0).dataset) for _ in range(2)]
    for _ in range(3):
        expected = single.train_iteration(data[0], 2)
    for _ in range(3):
        expected = single.train_iteration(data[0], 1)
    block.train_block(data[1], 3, 2)
    got = block.train_block(data[1], 3, 1)
    assert {k: float(v) for k, v in got.items()} == {k: float(v) for k, v in expected.items()}
    for a, b in zip(single.generator.variables + single.critic.variables, block.generator.variables
                    + block.critic.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    block.train_block(data[1], 8, 3)
    assert block.trace_count == 1 and int(block.step) == 14 and block.first_bad() is None


def _train(tmp_path, name, hp, step, **kwargs):
    hp = config.apply_overrides(hp, list(kwargs.items()))
    return launch.train_run(str(tmp_path / name), hp, launch.until_step(step), progress=False, deterministic=True)


def test_k8_logs_the_losses_of_k1_bit_for_bit_and_resumes_inside_a_block(tmp_path):
    hp = toy_hp()
    one = _train(tmp_path, "k1", hp, 20)
    eight = _train(tmp_path, "k8", hp, 20, steps_per_call=8)
    assert [r["step"] for r in logged_metrics(one.vdir)] == [5, 10, 15, 20]
    assert logged_metrics(eight.vdir) == logged_metrics(one.vdir)
    # A run of 20 interrupted at step 6, inside the block 5-10 that K = 8 would run, then resumed to 20.
    _, vdir, stored, lock, _ = runs.open_run(str(tmp_path / "resumed"), config.apply_overrides(hp, [("steps_per_call",
                                                                                                  8)]))
    lock.release()
    loop.seed_everything(stored.seed, deterministic=True)
    interrupted = loop.train(stored, vdir, 20, progress=False, stop_at_step=6)
    assert interrupted["step"] == 6 and runs.latest_step(vdir) == 6
    resumed = launch.train_run(str(tmp_path / "resumed"), runs.load_hparams(vdir), launch.until_step(20),
                               version=1, progress=False, deterministic=True)
    assert resumed.resumed and resumed.result["step"] == 20
    assert ([r for r in logged_metrics(resumed.vdir) if r["step"] > 6]
            == [r for r in logged_metrics(one.vdir) if r["step"] > 6])


def test_a_nan_in_the_fifth_iteration_of_a_block_names_that_step_and_saves_nothing_after(tmp_path, records_root,
                                                                                         monkeypatch):
    hp = tiny_hparams("wgan-gp", "mnist", steps_per_call=8, log_every=24, checkpoint_every=8, snapshot_every=8,
                      sample_every=100, histogram_every=100)
    _, vdir, hp, lock, _ = runs.open_run(str(tmp_path / "checkpoint"), hp)
    lock.release()
    good = iter(inputs.training_data(hp, records_root, seed=0).dataset)
    drawn = []

    def batches():
        for i in range(100):
            drawn.append(i)
            yield next(good).numpy() if i < 12 else np.full((8, 16, 16, 1), np.nan, np.float32)

    poisoned = tf.data.Dataset.from_generator(batches, output_signature=tf.TensorSpec((8, 16, 16, 1), tf.float32))
    monkeypatch.setattr(inputs, "training_data", lambda *a, **k: inputs.TrainingData(poisoned, 64))
    # Batch 12 (from 0) feeds iteration 13, the 5th of the block 8-16: the weights go NaN there. Step 16
    # saves a checkpoint but logs nothing: the flag is read there too, before the save.
    with pytest.raises(TrainingError, match=r"became nan at step 13 .*ckpt-8 is untouched"):
        loop.train(hp, vdir, 24, records_root=records_root, progress=False)
    assert tf.train.latest_checkpoint(os.path.join(vdir, "ckpt")).endswith("ckpt-8")
    assert [s["step"] for s in runs.list_snapshots(vdir)] == [8]
    assert len(drawn) <= 13 + 2  # nothing ran past the bad step (tf.data may prefetch a batch or two)


def test_events_land_on_the_same_steps_for_k_1_3_and_8(tmp_path, monkeypatch):
    events = []
    monkeypatch.setattr(summaries, "write_samples", lambda writer, gan, step, *a: events.append(("sample", step)))
    monkeypatch.setattr(summaries, "write_histograms", lambda writer, critic, step: events.append(("histogram", step)))
    monkeypatch.setattr(evaluation, "for_training", lambda hp, records_root, critic=None: None)  # no metrics: only when
    monkeypatch.setattr(health.Monitor, "after_log", lambda self, step, metrics: events.append(("log", step)))
    monkeypatch.setattr(health.Monitor, "after_evaluation",
                        lambda self, step, epoch, scalars: events.append(("eval", step)))
    save = checkpoints.Rotation.save

    def saving(self, checkpoint_number):
        events.append((self.name, checkpoint_number))  # ckpt or snapshot
        return save(self, checkpoint_number=checkpoint_number)

    monkeypatch.setattr(checkpoints.Rotation, "save", saving)
    seen = {}
    for k in (1, 3, 8):
        events.clear()
        hp = toy_hp(steps_per_call=k, log_every=4, sample_every=6, histogram_every=9, eval_every=10,
                    checkpoint_every=7, snapshot_every=14, keep_checkpoints=10)
        _, vdir, hp, lock, _ = runs.open_run(str(tmp_path / f"k{k}"), hp)
        lock.release()
        loop.train(hp, vdir, 23, progress=False)
        seen[k] = sorted(events, key=lambda e: (e[1], e[0]))
    kinds = {kind: [s for what, s in seen[1] if what == kind] for kind, _ in seen[1]}
    assert kinds["log"] == [4, 8, 12, 16, 20, 23] and kinds["histogram"] == [9, 18]
    assert kinds["eval"] == [10, 20] and kinds["sample"] == [6, 12, 18, 23]  # and the final picture
    assert kinds["ckpt"] == [7, 14, 21, 23] and kinds["snapshot"] == [14]
    assert seen[3] == seen[1] and seen[8] == seen[1]
