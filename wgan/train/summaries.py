"""What a run writes for TensorBoard: scalars, sample grids, critic histograms, hyperparameters.

Every function takes an open ``tf.summary`` writer; the training loop decides when to call.
"""

import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api
from tensorboard.plugins.scalar import metadata as scalar_metadata

from wgan import models, visualize
from wgan.gan.spectral_norm import SpectralNormCritic

HPARAMS_METRICS = ("wasserstein", "critic_loss", "generator_loss")
GRID_ROWS = 4  # 4 x 16 grids of the run's 64 fixed latent vectors (gan.NUM_FIXED_IMAGES)
# A class-conditional run's grid: one row per class, its columns the first fixed latent vectors,
# each held through the classes (so a column differs by the class alone).
CLASS_GRID_COLUMNS = 8


def write_hparams(writer, hp):
    """Hyperparameters as a JSON text panel and through the hparams plugin (flat dotted keys)."""
    with writer.as_default():
        tf.summary.text("hyperparameters", "```\n" + hp.to_json() + "```", step=0)
        flat = {k: (v if isinstance(v, (bool, int, float, str)) else str(v)) for k, v in hp.flat().items()}
        # The experiment config tells the HPARAMS dashboard which scalars to tabulate per run.
        hparams_api.hparams_config(
            hparams=[hparams_api.HParam(k) for k in flat],
            metrics=[hparams_api.Metric(f"train/{m}") for m in HPARAMS_METRICS])
        hparams_api.hparams(flat)


class Scalars:
    """Writes {name: float} dicts as TensorBoard scalars ``<prefix>/<name>`` through one writer.

    Eager ``tf.summary.scalar`` costs about 0.3 ms per value, and training logs some 25
    values every ``log_every`` steps. One compiled function writes a whole dict in a single
    call instead. For each set of names seen (a run logs the same few sets over and over), a
    function with the tags written into its graph and one write op per tag: measured side by
    side on the 2-core Xeon, 0.62 ms a call for 25 values, against 1.55 ms for one function
    that takes the tags as a vector and loops over them in a ``tf.range`` (a while loop runs
    its ops one after another). Past ``MAX_TAG_SETS`` sets, that looping function takes the
    rest, so tracing stays bounded whatever a caller writes. The events are those of
    ``tf.summary.scalar``: the scalar plugin's metadata, float32 values.
    """

    MAX_TAG_SETS = 16

    def __init__(self, writer, prefix):
        self.prefix, self.writer = prefix, writer
        self.metadata = scalar_metadata.create_summary_metadata(display_name=None, description=None)
        self._by_tags = {}  # (tag, ...) -> compiled function(values float32 [n], step int64)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.float32),
                                      tf.TensorSpec([], tf.int64)])
        def write_any(tags, values, step):
            with writer.as_default():
                for i in tf.range(tf.size(tags)):
                    tf.summary.write(tag=tags[i], tensor=values[i], step=step, metadata=self.metadata)

        self._write_any = write_any

    def _for_tags(self, tags):
        """The compiled writer of exactly ``tags`` (a tuple), or None once MAX_TAG_SETS are traced."""
        if tags not in self._by_tags and len(self._by_tags) < self.MAX_TAG_SETS:
            @tf.function(input_signature=[tf.TensorSpec([len(tags)], tf.float32), tf.TensorSpec([], tf.int64)])
            def write(values, step):
                with self.writer.as_default():
                    for i, tag in enumerate(tags):
                        tf.summary.write(tag=tag, tensor=values[i], step=step, metadata=self.metadata)

            self._by_tags[tags] = write
        return self._by_tags.get(tags)

    def write(self, values, step):
        """``values``: {name: float}, all finite; ``step``: the global step."""
        if not values:
            return
        tags = tuple(f"{self.prefix}/{name}" for name in values)
        numbers, step = tf.constant(list(values.values()), tf.float32), tf.constant(step, tf.int64)
        write = self._for_tags(tags)
        if write is None:
            self._write_any(tf.constant(tags), numbers, step)
        else:
            write(numbers, step)


def write_samples(writer, gan, step, real_points=None):
    """A fixed-noise sample grid (images) or a scatter/contour frame (toy 2-D data).

    A class-conditional run's grid has one row per class and ``CLASS_GRID_COLUMNS`` columns of
    fixed latent vectors (``visualize.class_grid``), the same at every step.
    """
    z = gan.fixed_z.numpy()
    if gan.hp.data.is_toy:
        picture = visualize.toy_frame(gan.sampling_generator, gan.critic, z, real_points, title=f"step {step}")
    elif models.takes_labels(gan.hp):
        picture = visualize.class_grid(gan.sampling_generator, z[:CLASS_GRID_COLUMNS],
                                       range(gan.hp.conditional.num_classes))
    else:
        picture = visualize.sample_grid(gan.sampling_generator, z, rows=GRID_ROWS)
    with writer.as_default():
        tf.summary.image("samples", picture[None], step=step)


def write_histograms(writer, critic, step):
    """Histograms of every critic weight (watch clipping pile values at the bounds)."""
    with writer.as_default():
        for var in critic.trainable_variables:
            tf.summary.histogram(f"critic/{var.path}", var, step=step)


def critic_layer_sigmas(critic):
    """``{"c_layer_sigma/<layer>": largest singular value}`` of each kernel a spectrally normalized
    critic applies (about 1 while the power iteration keeps up; ``SpectralNormCritic.layer_sigmas``),
    or {} for any other critic. Cheap enough for every logged step: a few power iterations per layer."""
    if not isinstance(critic, SpectralNormCritic):
        return {}
    return {f"c_layer_sigma/{path.rsplit('/', 1)[0]}": sigma for path, sigma in critic.layer_sigmas().items()}
