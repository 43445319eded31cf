"""What a run writes for TensorBoard: scalars, sample grids, critic histograms, hyperparameters.

Every function takes an open ``tf.summary`` writer; the training loop decides when to call.
"""

import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api
from tensorboard.plugins.scalar import metadata as scalar_metadata

from wgan import visualize
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

    Eager ``tf.summary.scalar`` costs about 0.3 ms per value, and training logs some 16
    values every ``log_every`` steps (8 ms a call in a toy run, 6 s of a 25gaussians run).
    One compiled function writes a whole dict in a single call instead (16 values, side by
    side on the EPYC: 0.64 ms against 5.5 ms eager). Tags and values enter it as vectors,
    so it is traced once per writer whatever the names (the health monitor's change from
    call to call), and the events are those of ``tf.summary.scalar``: the scalar plugin's
    metadata, float32 values.
    """

    def __init__(self, writer, prefix):
        self.prefix = prefix
        metadata = scalar_metadata.create_summary_metadata(display_name=None, description=None)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.float32),
                                      tf.TensorSpec([], tf.int64)])
        def write(tags, values, step):
            with writer.as_default():
                for i in tf.range(tf.size(tags)):
                    tf.summary.write(tag=tags[i], tensor=values[i], step=step, metadata=metadata)

        self._write = write

    def write(self, values, step):
        """``values``: {name: float}, all finite; ``step``: the global step."""
        if values:
            self._write(tf.constant([f"{self.prefix}/{name}" for name in values]),
                        tf.constant(list(values.values()), tf.float32), tf.constant(step, tf.int64))


def write_samples(writer, gan, step, real_points=None):
    """A fixed-noise sample grid (images) or a scatter/contour frame (toy 2-D data).

    A class-conditional run's grid has one row per class and ``CLASS_GRID_COLUMNS`` columns of
    fixed latent vectors (``visualize.class_grid``), the same at every step.
    """
    z = gan.fixed_z.numpy()
    if gan.hp.data.is_toy:
        picture = visualize.toy_frame(gan.sampling_generator, gan.critic, z, real_points, title=f"step {step}")
    elif gan.hp.conditional.enabled:
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
