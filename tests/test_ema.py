"""The generator's moving average: its ramped decay, batch-norm statistics of its own, and that it earns its place."""

import numpy as np
import pytest
import tensorflow as tf

from wgan import config, generate, runs
from wgan.gan import model as gan_module
from wgan.data import inputs
from wgan.train import loop
from wgan.data.toy import toy_sample
from wgan.gan.model import GAN
from wgan.metrics import toy


def _hp(**values):
    base = {"model": "wgan-gp", "batch_size": 16, "z_dim": 4, "n_critic": 1, "seed": 1, "ema_decay": 0.999,
            "data": {"name": "8gaussians", "crop": None, "resize": None, "channels": 0},
            "architecture": {"name": "mlp", "base_width": 8, "depth": 2, "g_norm": "batch"}}
    base.update(values)
    return config.from_dict(base)


def test_the_decay_ramps_up_to_ema_decay():
    hp = _hp(ema_decay=0.999, ema_rampup=0.05)
    half_life = np.log(0.5) / np.log(0.999)  # 692.8 updates
    assert float(gan_module.ema_decay(hp, 1)) < 1e-5  # a half-life of 0.05 updates: a copy
    assert float(gan_module.ema_decay(hp, 2000)) == pytest.approx(0.5 ** (1 / 100), rel=1e-5)  # 5% of 2,000
    assert float(gan_module.ema_decay(hp, int(half_life / 0.05) + 100)) == pytest.approx(0.999, rel=1e-6)
    assert float(gan_module.ema_decay(_hp(ema_rampup=0.0), 1)) == pytest.approx(0.999)


def _norm_inputs(generator, z):
    """Inputs of the generator's first batch-norm layer for latent ``z``."""
    layer = next(x for x in gan_module._all_layers(generator) if isinstance(x, tf.keras.layers.BatchNormalization))
    tap = tf.keras.Model(generator.inputs, layer.input)
    return layer, tap(z, training=False).numpy()


def test_the_average_gets_batch_norm_statistics_of_its_own_weights():
    hp = _hp()
    model = GAN(hp)
    iterator = iter(inputs.training_data(hp, None, seed=0).dataset)
    for _ in range(30):
        model.train_iteration(iterator, 1)
    ema = model.sampling_generator  # refreshes the statistics for the current step
    # Exactly the statistics of the refresh's own latents ...
    used = model.stateless_latent(gan_module.NUM_STATISTICS_SAMPLES,
                                  tf.constant([hp.seed, 30], tf.int64) + [0, 2**40])
    layer, pre = _norm_inputs(ema, used)
    np.testing.assert_allclose(layer.moving_mean.numpy(), pre.mean(axis=0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), pre.var(axis=0), rtol=1e-3)
    # ... which are those of the averaged weights on any latents, up to sampling error.
    layer, pre = _norm_inputs(ema, model.stateless_latent(4096, tf.constant([5, 5], tf.int64)))
    np.testing.assert_allclose(layer.moving_mean.numpy(), pre.mean(axis=0), atol=0.1 * pre.std(axis=0).max())
    np.testing.assert_allclose(layer.moving_variance.numpy(), pre.var(axis=0), rtol=0.3)
    live = next(x for x in gan_module._all_layers(model.generator)
                if isinstance(x, tf.keras.layers.BatchNormalization))
    assert not np.allclose(live.moving_mean.numpy(), layer.moving_mean.numpy())


def test_a_checkpoint_keeps_the_statistics_of_its_average(tmp_path):
    hp = _hp(train_steps=6, checkpoint_every=3, snapshot_every=3, log_every=1, sample_every=100,
             histogram_every=100)
    _, vdir, hp, lock, _ = runs.open_run(str(tmp_path), hp)
    with lock:
        loop.train(hp, vdir, 6, progress=False)
    restored = generate.find_checkpoint(runs.run_root(str(tmp_path), hp), "1")
    ema = generate.load_generator(restored, "ema")
    layer, pre = _norm_inputs(ema, generate.latent(hp, 4096, 0))
    np.testing.assert_allclose(layer.moving_mean.numpy(), pre.mean(axis=0), atol=0.1 * pre.std(axis=0).max())
    raw = generate.load_generator(restored, "raw")
    assert any(not np.array_equal(a, b) for a, b in zip(ema.get_weights(), raw.get_weights()))


def test_the_average_of_a_converged_toy_run_is_at_least_as_good_as_the_generator(tmp_path):
    """8gaussians at a high constant learning rate: after 600 iterations the generator jitters around the
    solution from update to update, and its average must be at least as close to the data (here: far closer)."""
    adam = {"name": "adam", "learning_rate": 2e-3, "beta_1": 0.5, "beta_2": 0.9}
    hp = _hp(batch_size=256, z_dim=2, n_critic=5, gp_lambda=0.1, ema_decay=0.999, train_steps=600,
             g_optimizer=adam, c_optimizer=adam, log_every=600, sample_every=600, histogram_every=600,
             checkpoint_every=600, snapshot_every=600,
             architecture={"name": "mlp", "base_width": 256, "depth": 3, "g_norm": "none"})
    _, vdir, hp, lock, _ = runs.open_run(str(tmp_path), hp)
    with lock:
        loop.seed_everything(hp.seed)
        loop.train(hp, vdir, hp.train_steps, progress=False)
    restored = generate.find_checkpoint(runs.run_root(str(tmp_path), hp), "1")
    real = toy_sample("8gaussians", 1000, np.random.default_rng(0))
    z = generate.latent(hp, 1000, 1)
    scores = {}
    for which in ("raw", "ema"):
        points = generate.load_generator(restored, which)(z, training=False).numpy()
        scores[which] = (toy.wasserstein1(points, real)[1], toy.mode_metrics(points, "8gaussians")["modes"])
    assert scores["ema"][1] >= max(scores["raw"][1], 4), scores
    assert scores["ema"][0] <= scores["raw"][0], scores
