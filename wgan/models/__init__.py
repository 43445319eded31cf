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
from dataclasses import dataclass

from wgan.errors import registry_entry


@dataclass(frozen=True)
class Architecture:
    """One registry entry.

    ``module``: the module path holding ``make_generator`` / ``make_critic``.
    ``named``: whether run folders and default hyperparameter files carry the name
    (``wgan-gp-cifar10-resnet-r32``, ``hyperparameter/wgan-gp-cifar10-resnet.json``). The
    architectures the shipped ``<model>-<data>.json`` files choose are not named, so their
    run folders keep the names they had before architectures were part of names.
    ``sides``: the only image sides it is defined for (checked by the hyperparameter
    validator, before TensorFlow builds anything); None: the module decides.
    """

    module: str
    named: bool = True
    sides: tuple | None = None


ARCHITECTURES = {
    "dcgan": Architecture("wgan.models.dcgan", named=False),
    "infogan": Architecture("wgan.models.infogan", named=False),
    "mlp": Architecture("wgan.models.mlp", named=False),
    "resnet": Architecture("wgan.models.resnet", sides=(32, 64)),
}


def entry(name):
    """The ``Architecture`` registered as ``name``; an unknown name raises a ConfigError listing the valid ones."""
    return registry_entry(ARCHITECTURES, name, "key 'architecture.name'")


def name_part(name):
    """The architecture's part of run and hyperparameter file names: ``name`` or None (not named)."""
    return name if entry(name).named else None


def check_side(name, side):
    """A ConfigError message when architecture ``name`` is not defined for image side ``side``, else None."""
    sides = entry(name).sides
    if sides is None or side is None or side in sides:
        return None
    return (f"key 'data.resize' is {side}; the {name} architecture is defined for image sides "
            f"{', '.join(str(s) for s in sides)} only")


def _module(hp):
    return importlib.import_module(entry(hp.architecture.name).module)


def make_generator(hp):
    """The generator ``keras.Model`` of architecture ``hp.architecture.name`` (see module docstring)."""
    return _module(hp).make_generator(hp)


def make_critic(hp):
    """The critic ``keras.Model`` of architecture ``hp.architecture.name`` (see module docstring)."""
    return _module(hp).make_critic(hp)
