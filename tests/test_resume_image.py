"""A run on image records interrupted in the MIDDLE of an epoch resumes bit for bit.

``tests/test_run_length.py`` resumes an image run at an epoch boundary, where the data
order restarts anyway. Here the run stops part way through its second epoch, with the shard
order, the shuffle buffer and the batches of that epoch half used: the resumed run must skip
exactly the batches its critic drew and then see, and log, what the uninterrupted run saw,
across the next epoch boundary too (``--deterministic``, as ``launch.train_run`` runs it).
"""

import numpy as np
import pytest
import tensorflow as tf

from conftest import logged_metrics, tiny_hparams
from wgan import data
from wgan.train import launch

IMAGES, BATCH, N_CRITIC = 40, 8, 2  # 5 batches an epoch, 2 of them an iteration
STOP, END = 3, 6  # the interruption after 6 batches (epoch 1.2), the end after 12 (epoch 2.4)


@pytest.fixture(scope="module")
def digits_root(tmp_path_factory):
    """Records of the first 40 of scikit-learn's bundled digits at 16x16, in 3 shards (read-only)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images[:IMAGES] * (255.0 / 16.0)).astype(np.uint8)  # as wgan.data.raw builds them
    root = tmp_path_factory.mktemp("digits")
    data.build_records("digits", resize=16, crop=None, output_dir=str(root), shards=3, workers=1, progress=False,
                       arrays=(images, digits.target[:IMAGES]))
    return str(root)


def hparams():
    # A shuffle buffer smaller than the data, so that mid-epoch its contents matter.
    return tiny_hparams("wgan-gp", "digits", n_critic=N_CRITIC, seed=7, data={"shuffle_buffer": 16})


def train(checkpoint_dir, step, records_root):
    return launch.train_run(str(checkpoint_dir), hparams(), launch.until_step(step), records_root=records_root,
                            progress=False, deterministic=True)


def variables(prefix):
    """{name: value} of every variable in a checkpoint but its save counter (how often it was saved)
    and the serialized object graph (whose Keras names count the optimizers built in the process)."""
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if not name.startswith(("save_counter", "_CHECKPOINTABLE_OBJECT_GRAPH"))}


def test_an_image_run_stopped_mid_epoch_resumes_bit_for_bit(tmp_path, digits_root):
    assert hparams().batch_size == BATCH and hparams().data.shuffle_buffer < IMAGES
    whole = train(tmp_path / "whole", END, digits_root)
    first = train(tmp_path / "parts", STOP, digits_root)
    # The stop falls inside an epoch: 6 batches of 8 are 48 images, 1.2 epochs of 40.
    images_seen = STOP * N_CRITIC * BATCH
    assert images_seen % IMAGES != 0
    assert (first.result["step"], first.result["epoch"]) == (STOP, images_seen / IMAGES)
    assert first.result["checkpoint"].endswith(f"ckpt-{STOP}")
    second = train(tmp_path / "parts", END, digits_root)
    assert (second.resumed, second.iterations, second.vdir) == (True, END - STOP, first.vdir)
    assert whole.result["epoch"] == second.result["epoch"] == END * N_CRITIC * BATCH / IMAGES  # a boundary crossed

    expected = logged_metrics(whole.vdir)
    assert [row["step"] for row in expected] == list(range(1, END + 1))
    assert [row["epoch"] for row in expected] == [round(s * N_CRITIC * BATCH / IMAGES, 4) for s in range(1, END + 1)]
    assert logged_metrics(second.vdir) == expected  # every metric of every step, to the last bit
    resumed, uninterrupted = variables(second.result["checkpoint"]), variables(whole.result["checkpoint"])
    assert sorted(resumed) == sorted(uninterrupted) and len(resumed) > 10
    different = [name for name in resumed if not np.array_equal(resumed[name], uninterrupted[name])]
    assert different == []
