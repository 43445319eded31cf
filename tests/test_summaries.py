"""summaries.Scalars: one compiled write per set of names (bounded), the events of tf.summary.scalar."""

import glob
import os

import tensorflow as tf

from wgan.train import summaries


def read_scalars(logdir):
    """[(step, tag, value)] of every scalar in ``logdir``'s event files."""
    rows = []
    for path in glob.glob(os.path.join(logdir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                rows.append((event.step, value.tag, float(tf.make_ndarray(value.tensor))))
    return sorted(rows)


def test_scalars_write_every_value_at_its_step_and_trace_once_per_set_of_names(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    scalars = summaries.Scalars(writer, "train")
    scalars.write({"critic_loss": 0.5, "wasserstein": -1.25}, 10)
    scalars.write({"critic_loss": 0.25, "wasserstein": 2.0}, 20)
    scalars.write({"images_per_sec": 512.0}, 20)
    scalars.write({}, 30)  # nothing to write: no event, no error
    writer.flush()
    assert read_scalars(tmp_path) == [(10, "train/critic_loss", 0.5), (10, "train/wasserstein", -1.25),
                                      (20, "train/critic_loss", 0.25), (20, "train/images_per_sec", 512.0),
                                      (20, "train/wasserstein", 2.0)]
    # New values and steps reuse their set's one trace (no retracing warning on the console).
    traces = {tags: write.experimental_get_tracing_count() for tags, write in scalars._by_tags.items()}
    assert traces == {("train/critic_loss", "train/wasserstein"): 1, ("train/images_per_sec",): 1}


def test_scalars_past_the_traced_sets_still_write_every_value(tmp_path, monkeypatch):
    # A caller that writes ever new names must not trace without end: past MAX_TAG_SETS sets,
    # the one function that takes tags as a vector writes them, with the same events.
    monkeypatch.setattr(summaries.Scalars, "MAX_TAG_SETS", 2)
    writer = tf.summary.create_file_writer(str(tmp_path))
    scalars = summaries.Scalars(writer, "health")
    for index in range(5):
        scalars.write({f"signal{index}": float(index), "ratio": 0.5}, index)
    writer.flush()
    assert len(scalars._by_tags) == 2
    assert scalars._write_any.experimental_get_tracing_count() == 1
    assert read_scalars(tmp_path) == sorted([(i, f"health/signal{i}", float(i)) for i in range(5)]
                                            + [(i, "health/ratio", 0.5) for i in range(5)])


def test_scalars_events_are_those_of_tf_summary_scalar(tmp_path):
    # TensorBoard's scalar dashboard shows a tag only with the scalar plugin's metadata.
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    writer = tf.summary.create_file_writer(str(ours))
    summaries.Scalars(writer, "train").write({"wasserstein": 0.75}, 3)
    writer.flush()
    reference = tf.summary.create_file_writer(str(theirs))
    with reference.as_default():
        tf.summary.scalar("train/wasserstein", 0.75, step=3)
    reference.flush()

    def values(logdir):
        return [(event.step, value) for path in glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
                for event in tf.compat.v1.train.summary_iterator(path) for value in event.summary.value]

    assert values(ours) == values(theirs)


def test_a_conditional_runs_sample_grid_has_one_row_per_class(tmp_path):
    import types

    import keras
    import numpy as np

    from conftest import tiny_hparams

    hp = tiny_hparams("wgan-gp", "digits", conditional={"enabled": True, "class_names": ["a", "b", "c"]})
    z = keras.Input((hp.z_dim,))
    labels = keras.Input((), dtype="int32")
    # The image is the label's brightness: row k of the grid must be all of class k.
    level = keras.layers.Lambda(lambda t: tf.cast(t, tf.float32)[:, None, None, None] - 1.0)(labels)
    image = keras.layers.Lambda(lambda pair: tf.zeros([tf.shape(pair[0])[0], 16, 16, 1]) + pair[1])([z, level])
    gan = types.SimpleNamespace(hp=hp, fixed_z=tf.random.normal([64, hp.z_dim]), critic=None,
                                sampling_generator=keras.Model([z, labels], image))
    writer = tf.summary.create_file_writer(str(tmp_path))
    summaries.write_samples(writer, gan, step=5)
    writer.flush()
    pictures = [tf.image.decode_png(value.tensor.string_val[2]).numpy()
                for path in glob.glob(os.path.join(str(tmp_path), "events.out.tfevents.*"))
                for event in tf.compat.v1.train.summary_iterator(path) for value in event.summary.value]
    assert len(pictures) == 1
    grid = pictures[0]
    columns = summaries.CLASS_GRID_COLUMNS
    assert grid.shape[:2] == (3 * 16 + 4 * 2, columns * 16 + (columns + 1) * 2)
    for k, expected in enumerate((0, 128, 255)):  # labels 0, 1, 2 -> -1, 0, 1 -> 0, 128 (127.5 to even), 255
        assert np.all(grid[2 + k * 18:2 + k * 18 + 16, 2:2 + 16] == expected)
