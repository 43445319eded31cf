"""The clipped critic against the penalized one (WGAN-GP paper, Figure 1), and per-layer gradient norms in every run."""

import numpy as np
import pytest

from wgan import config
from wgan.lab import capacity
from wgan.data import inputs
from wgan.gan.model import GAN


def test_a_fit_returns_a_surface_and_one_norm_per_layer():
    fit = capacity.fit_critic("8gaussians", "gp", depth=2, width=16, steps=20, batch_size=32)
    assert fit.surface.shape == (capacity.GRID, capacity.GRID) and np.isfinite(fit.surface).all()
    assert fit.activation_norms.shape == fit.kernel_norms.shape == (3,)
    assert (fit.activation_norms > 0).all() and (fit.kernel_norms > 0).all()


def test_clipping_makes_deep_critic_gradients_vanish_layer_by_layer():
    """A 6-layer critic of width 32 clipped at 0.001 (its initial weights are clipped at once) scales the
    backpropagated gradient by about 0.03 per layer: it vanishes toward the input (Figure 1b). The penalty keeps it
    level. (The exploding side, c = 0.1, needs the weights to reach the bounds first: thousands of updates.)"""
    small = capacity.fit_critic("swissroll", "clip", depth=6, width=32, steps=30, batch_size=32, clip_value=1e-3)
    penalized = capacity.fit_critic("swissroll", "gp", depth=6, width=32, steps=30, batch_size=32)
    assert small.activation_norms[-1] / small.activation_norms[0] > 1e4  # output layer >> input layer
    ratio = penalized.activation_norms[0] / penalized.activation_norms[-1]
    assert 1e-2 < ratio < 1e2


def test_every_run_logs_per_layer_critic_gradient_norms():
    hp = config.from_dict({"model": "wgan", "batch_size": 8, "z_dim": 2, "n_critic": 1,
                           "data": {"name": "8gaussians", "crop": None, "resize": None, "channels": 0},
                           "architecture": {"name": "mlp", "base_width": 8, "depth": 2, "g_norm": "none"}})
    gan = GAN(hp)
    metrics = gan.train_iteration(iter(inputs.training_data(hp, None, seed=0).dataset), 1)
    layers = sorted(k for k in metrics if k.startswith("c_layer_grad_norm/"))
    assert len(layers) == 3  # hidden1, hidden2, score
    assert all(float(metrics[k]) > 0 for k in layers)


@pytest.mark.parametrize("pair", sorted(capacity.PAIRS))
def test_every_pair_trains_a_critic_with_its_own_loss_and_constraint(pair):
    fit = capacity.fit_critic("8gaussians", pair, depth=2, width=16, steps=10, batch_size=32)
    assert np.isfinite(fit.surface).all() and np.isfinite([fit.grad_real, fit.grad_fake]).all()
    hp = capacity.critic_hparams(pair, 2, 16)
    assert (hp.model, hp.constraint) == (capacity.PAIRS[pair].objective, capacity.PAIRS[pair].constraint)


def test_a_spectrally_normalized_critic_has_slope_at_most_one_where_the_same_critic_unnormalized_is_steeper():
    """Every layer of a ReLU MLP divided by its largest singular value: the critic is 1-Lipschitz, so its input
    gradient is at most 1 everywhere. The same network (same seed, He initialization) with the gradient penalty,
    ten updates in, is still as steep as its initialization: above 1."""
    normalized = capacity.fit_critic("8gaussians", "sn", depth=3, width=128, steps=10, batch_size=64)
    penalized = capacity.fit_critic("8gaussians", "gp", depth=3, width=128, steps=10, batch_size=64)
    assert 0 < normalized.grad_real <= 1.0 + 1e-3 and 0 < normalized.grad_fake <= 1.0 + 1e-3
    assert penalized.grad_real > 1.0 and penalized.grad_fake > 1.0
