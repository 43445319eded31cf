"""Architecture registry: ``hp.architecture.name`` -> module building the two networks.

The registry holds module paths, not modules, so that importing it (the hyperparameter
validator in ``wgan.config`` does) does not import TensorFlow; the module is imported
only when a network is built.

Every architecture module defines ``make_generator(hp)`` and ``make_critic(hp)`` with this
contract (B = batch, (H, W, C) = ``hp.data.sample_shape``):

* generator ``"generator"``: z float32 [B, z_dim] -> float32 [B, H, W, C] in [-1, 1] (tanh),
  or float32 [B, 2] (linear, unbounded) for toy 2-D data;
* critic ``"critic"``: float32 [B, H, W, C] or [B, 2] -> float32 [B, 1], an unbounded
  linear score (no sigmoid: the DCGAN loss applies it to the logit);
* layers compute in ``hp.precision`` (a per-layer Keras dtype policy; the global policy is
  left alone) while the output layer runs in float32, so outputs are float32 always;
* the models are built on construction, so their variables exist at once, and weight
  initialisation is reproducible after ``keras.utils.set_random_seed``.
"""

import importlib

from wgan.errors import ConfigError

ARCHITECTURES = {
    "dcgan": "wgan.models.dcgan",
    "infogan": "wgan.models.infogan",
    "mlp": "wgan.models.mlp",
}


def _module(hp):
    name = hp.architecture.name
    if name not in ARCHITECTURES:
        raise ConfigError(f"key 'architecture.name' is {name!r}; valid values: {', '.join(ARCHITECTURES)}")
    return importlib.import_module(ARCHITECTURES[name])


def make_generator(hp):
    """The generator ``keras.Model`` of architecture ``hp.architecture.name`` (see module docstring)."""
    return _module(hp).make_generator(hp)


def make_critic(hp):
    """The critic ``keras.Model`` of architecture ``hp.architecture.name`` (see module docstring)."""
    return _module(hp).make_critic(hp)
