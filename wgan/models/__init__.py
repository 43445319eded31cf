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
  initialisation is reproducible after ``keras.utils.set_random_seed``;
* with ``hp.conditional.enabled`` (``wgan.models.conditional``) the generator takes two inputs
  ``[z, labels]`` and the critic ``[x, labels]``, labels int32 [B] in [0, num_classes), with
  the same outputs; unconditional networks keep their single input.

Callers build those inputs with ``generator_inputs`` and ``critic_inputs`` below, so that no
call site asks whether the run is conditional.
"""

import importlib
from dataclasses import dataclass

from wgan.errors import registry_entry
from wgan.models import prior


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


# ----- the networks' inputs (no TensorFlow: numpy or tensors pass through) ------------------
def takes_labels(hp):
    """Whether ``hp``'s networks take class labels as their second input."""
    return bool(hp.conditional.enabled)


def generator_inputs(hp, z, labels=None, seed=0):
    """What ``hp``'s generator is called on for latent ``z`` [N, z_dim]: z itself, or ``[z, labels]``
    for a conditional generator, labels int32 [N] given or drawn at the training set's class
    frequencies by ``prior.labels(hp, N, seed)``."""
    if not takes_labels(hp):
        return z
    if labels is None:
        labels = prior.labels(hp, int(z.shape[0]), seed)
    return [z, labels]


def critic_inputs(hp, x, labels=None, seed=0):
    """What ``hp``'s critic is called on for samples ``x`` [N, ...]: x itself, or ``[x, labels]``
    for a conditional critic (labels int32 [N]: the images' own; drawn with ``prior.labels`` when
    None, which suits generated samples only when the generator drew the same ones)."""
    return generator_inputs(hp, x, labels, seed)


def input_rows(inputs, start, stop):
    """Rows ``start:stop`` of network inputs: one array/tensor, or each of a ``[x, labels]`` list."""
    if isinstance(inputs, (list, tuple)):
        return [part[start:stop] for part in inputs]
    return inputs[start:stop]


def input_labels(inputs):
    """The labels of ``[x, labels]`` network inputs, or None for inputs without labels."""
    return inputs[1] if isinstance(inputs, (list, tuple)) else None


def input_count(inputs):
    """The number of examples in network inputs (one array/tensor or a ``[x, labels]`` list)."""
    first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    return int(first.shape[0])
