"""The objective registry: ``hp.model`` -> its losses, its Lipschitz constraint, its description.

One entry per objective. Everything that depends on the objective reads its entry: the
training step (``wgan.gan.model``: which losses, whether to add the gradient penalty or clip the
critic's weights), the schema (``wgan.config``: valid names, no batch norm in a
gradient-penalty critic), the FLOP count (``wgan.lab.benchmark``) and the commands' flags and
help. No module outside this one compares a model name to a literal.

Entries hold the loss functions as ``"module:function"`` paths, as ``wgan.models`` holds
architecture modules, so that importing the registry (the validator in ``wgan.config``
does, before TensorFlow starts) does not import TensorFlow. A loss function takes critic
outputs float32 [B, 1] or [B] and returns per-example float32 [B] (``wgan.gan.losses``).

Adding an objective: a loss module (or functions in ``wgan/gan/losses.py``), one entry below,
its tests, and its ``hyperparameter/<name>-<data>.json`` files (docs/models.md, "Adding an
objective").
"""

import dataclasses
import importlib

from wgan.errors import ConfigError

# What keeps the critic (near) 1-Lipschitz, applied by the training step.
NO_CONSTRAINT = "none"
GRADIENT_PENALTY = "gradient_penalty"  # + gp_lambda * (||grad f(x_hat)|| - 1)^2 in the critic loss
WEIGHT_CLIPPING = "weight_clipping"  # critic weights clipped to [-clip_value, clip_value] after each update
CONSTRAINTS = (NO_CONSTRAINT, GRADIENT_PENALTY, WEIGHT_CLIPPING)
# ``hp.constraint``: the objective's own constraint, or one of CONSTRAINTS in its place.
OWN_CONSTRAINT = "auto"


def _function(path):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@dataclasses.dataclass(frozen=True)
class Objective:
    """One objective: ``name`` (the value of ``hp.model``), its loss functions as
    ``"module:function"`` paths, its ``constraint`` (one of ``CONSTRAINTS``), a one-line
    ``description`` for ``--help``, and whether the comparing commands (study, benchmark)
    include it when no ``--models`` is given (``compared``)."""

    name: str
    critic_loss_path: str
    generator_loss_path: str
    constraint: str
    description: str
    # The README's study tables compare the three models of the WGAN papers and are regenerated
    # by the commands they print, so an objective joins the default comparison only once its
    # files are swept and the tables rerun; until then ``--models`` names it.
    compared: bool = True

    def __post_init__(self):
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"objective {self.name!r}: constraint {self.constraint!r} is not one of {CONSTRAINTS}")

    @property
    def critic_loss(self):
        """``critic_loss(real_scores, fake_scores)`` -> per-example float32 [B] (imports TensorFlow)."""
        return _function(self.critic_loss_path)

    @property
    def generator_loss(self):
        """``generator_loss(fake_scores)`` -> per-example float32 [B] (imports TensorFlow)."""
        return _function(self.generator_loss_path)

    @property
    def penalized(self):
        """Whether the critic loss adds ``gp_lambda`` times the gradient penalty."""
        return self.constraint == GRADIENT_PENALTY

    @property
    def clipped(self):
        """Whether the critic's weights are clipped to [-clip_value, clip_value] after every update."""
        return self.constraint == WEIGHT_CLIPPING

    @property
    def critic_batch_norm(self):
        """Whether the critic may use batch norm: not with a gradient penalty, which needs each
        example's own input gradient (batch norm mixes the examples of a batch)."""
        return not self.penalized


_ENTRIES = (
    Objective("dcgan", "wgan.gan.losses:dcgan_critic_loss", "wgan.gan.losses:dcgan_generator_loss", NO_CONSTRAINT,
              "DCGAN (Radford et al. 2015): cross-entropy on logits, non-saturating generator loss."),
    Objective("wgan", "wgan.gan.losses:wgan_critic_loss", "wgan.gan.losses:wgan_generator_loss", WEIGHT_CLIPPING,
              "WGAN (Arjovsky et al. 2017): Wasserstein critic, weights clipped to +-clip_value."),
    Objective("wgan-gp", "wgan.gan.losses:wgan_critic_loss", "wgan.gan.losses:wgan_generator_loss", GRADIENT_PENALTY,
              "WGAN-GP (Gulrajani et al. 2017): Wasserstein critic with a gp_lambda gradient penalty."),
    # Neither Lim & Ye nor Miyato et al. add a penalty to the hinge loss (wgan/gan/losses.py).
    Objective("hinge", "wgan.gan.losses:hinge_critic_loss", "wgan.gan.losses:wgan_generator_loss", NO_CONSTRAINT,
              "Hinge (Lim & Ye 2017; Miyato et al. 2018): margin loss for the critic, -D(G(z)) for the generator.",
              compared=False),
)
OBJECTIVES = {objective.name: objective for objective in _ENTRIES}
NAMES = tuple(OBJECTIVES)


def get(name, where="key 'model'"):
    """The registry entry of objective ``name``; a ``ConfigError`` naming ``where`` and the valid names otherwise."""
    if name not in OBJECTIVES:
        raise ConfigError(f"{where} is {name!r}; valid values: {', '.join(NAMES)}")
    return OBJECTIVES[name]


def of_run(hp):
    """The objective a run trains: ``hp.model``'s entry, with ``hp.constraint`` in place of its own
    constraint unless that is ``"auto"`` (for example the non-saturating loss with WGAN-GP's
    penalty, "NS-GAN + GP" of Kurach et al. 2019, https://arxiv.org/abs/1807.04720)."""
    objective = get(hp.model)
    if hp.constraint in (OWN_CONSTRAINT, objective.constraint):
        return objective
    return dataclasses.replace(objective, constraint=hp.constraint)


def with_constraint(constraint):
    """The first entry (in registry order) whose constraint is ``constraint``."""
    return next(o for o in _ENTRIES if o.constraint == constraint)


def summary():
    """``"dcgan, wgan (weight clipping) or wgan-gp (gradient penalty)"``: the names for one-line help texts."""
    parts = [o.name if o.constraint == NO_CONSTRAINT else f"{o.name} ({o.constraint.replace('_', ' ')})"
             for o in _ENTRIES]
    return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else parts[0]
