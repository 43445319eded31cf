"""What a run writes for TensorBoard: scalars, sample grids, critic histograms, hyperparameters.

Every function takes an open ``tf.summary`` writer; the training loop decides when to call.
"""

import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api

from wgan import visualize

HPARAMS_METRICS = ("wasserstein", "critic_loss", "generator_loss")
GRID_ROWS = 4  # 4 x 16 grids of the run's 64 fixed latent vectors (gan.NUM_FIXED_IMAGES)


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


def write_scalars(writer, metrics, step):
    """``metrics``: {name: float}; written under ``train/<name>``."""
    with writer.as_default():
        for name, value in metrics.items():
            tf.summary.scalar(f"train/{name}", value, step=step)


def write_samples(writer, gan, step, real_points=None):
    """A fixed-noise sample grid (images) or a scatter/contour frame (toy 2-D data)."""
    z = gan.fixed_z.numpy()
    if gan.hp.data.is_toy:
        picture = visualize.toy_frame(gan.sampling_generator, gan.critic, z, real_points, title=f"step {step}")
    else:
        picture = visualize.sample_grid(gan.sampling_generator, z, rows=GRID_ROWS)
    with writer.as_default():
        tf.summary.image("samples", picture[None], step=step)


def write_histograms(writer, critic, step):
    """Histograms of every critic weight (watch clipping pile values at the bounds)."""
    with writer.as_default():
        for var in critic.trainable_variables:
            tf.summary.histogram(f"critic/{var.path}", var, step=step)
