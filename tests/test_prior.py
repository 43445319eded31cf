"""The latent prior: N(0, 1), U[-1, 1] and the Gaussian mixture, in NumPy and in TensorFlow."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import tiny_hparams
from wgan.gan import model as gan_module
from wgan.models import prior
from wgan.gan.model import GAN


def mixture_hp(**values):
    return tiny_hparams("wgan-gp", **{"z_dim": 16, "z_distribution": "mixture", "z_components": 5,
                                      "z_component_std": 0.1, **values})


def nearest_centre(z, centres):
    """(index [N], distance [N]) of each latent's nearest centre."""
    distances = np.linalg.norm(z[:, None, :] - centres[None], axis=-1)
    return distances.argmin(axis=1), distances.min(axis=1)


def test_mixture_centres_depend_on_the_shape_alone():
    a, b = prior.mixture_centres(16, 5), prior.mixture_centres(16, 5)
    assert a.shape == (5, 16) and a.dtype == np.float32 and np.array_equal(a, b)
    np.testing.assert_array_equal(prior.mixture_centres(16, 6)[:5], a)  # more components keep the first ones


@pytest.mark.parametrize("draw", ["numpy", "tensorflow"])
def test_mixture_latents_sit_around_centres_chosen_uniformly(draw):
    hp = mixture_hp()
    n = 5000
    if draw == "numpy":
        z = prior.latent(hp, n, seed=3)
        assert np.array_equal(z, prior.latent(hp, n, seed=3))
    else:
        z = gan_module.stateless_latent(hp, n, tf.constant([3, 4], tf.int64), gan_module.mixture_centres(hp)).numpy()
    centres = prior.mixture_centres(hp.z_dim, hp.z_components)
    component, distance = nearest_centre(z, centres)
    assert z.shape == (n, 16) and z.dtype == np.float32
    # Each latent lies at about std * sqrt(z_dim) = 0.4 from its centre; centres are about 5.7 apart.
    assert abs(distance.mean() - 0.1 * np.sqrt(16)) < 0.02 and distance.max() < 1.0
    shares = np.bincount(component, minlength=5) / n
    assert np.all(np.abs(shares - 0.2) < 0.03), shares


def test_the_other_priors_are_unchanged():
    hp = tiny_hparams("wgan-gp", z_dim=4)
    z = prior.latent(hp, 3, seed=1)
    np.testing.assert_array_equal(z, np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32))
    uniform = prior.latent(tiny_hparams("wgan-gp", z_dim=4, z_distribution="uniform"), 1000, seed=1)
    assert uniform.min() >= -1 and uniform.max() <= 1


def test_a_mixture_run_trains_and_its_fixed_grid_comes_from_the_mixture():
    hp = mixture_hp()
    gan = GAN(hp)
    from wgan.data import toy
    iterator = iter(toy.toy_dataset(hp.data.name, hp.batch_size, seed=0))
    for _ in range(2):
        metrics = gan.train_iteration(iterator, hp.n_critic)
    assert all(np.isfinite(float(v)) for v in metrics.values()) and gan.trace_count == 1
    _, distance = nearest_centre(gan.fixed_z.numpy(), prior.mixture_centres(hp.z_dim, hp.z_components))
    assert distance.max() < 1.0
