"""summaries.Scalars: one compiled write for any names, the events of tf.summary.scalar."""

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


def test_scalars_write_every_value_at_its_step_and_trace_once_whatever_the_names(tmp_path):
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
    # New names, values and steps reuse the one trace (no retracing warning on the console).
    assert scalars._write.experimental_get_tracing_count() == 1


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
