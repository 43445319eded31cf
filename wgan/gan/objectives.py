"""The objective registry: ``hp.model`` -> its losses, its default constraint, its description.

One entry per objective. Everything that depends on the objective reads its entry: the
training step (``wgan.gan.model``: which losses, which constraint), the schema
(``wgan.config``: valid names; the batch-norm rule of the run's constraint), the FLOP count
(``wgan.lab.benchmark``) and the commands' flags and help. No module outside this one
compares a model name to a literal.

An objective names its loss pair and its default constraint, an entry of the constraint
registry ``wgan.gan.constraints`` (what keeps the critic near 1-Lipschitz: a penalty, weight
clipping, nothing). ``hp.constraint`` puts any entry of that registry in its place
(``"auto"``: the objective's own); ``of_run`` gives the objective a run trains.

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

from wgan.errors import ConfigError, registry_entry
from wgan.gan import constraints

# ``hp.constraint``: the objective's own constraint, or a name of ``constraints.NAMES`` in its place.
OWN_CONSTRAINT = "auto"


def _function(path):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@dataclasses.dataclass(frozen=True)
class Objective:
    """One objective: ``name`` (the value of ``hp.model``), its loss functions as
    ``"module:function"`` paths, its default ``constraint`` (a name of ``constraints.NAMES``), a one-line
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
    # Whether its generator loss compares the fakes with real examples (a relativistic loss):
    # the generator update then draws a real batch too, and ``generator_loss`` takes
    # ``(fake_scores, real_scores)``.
    generator_needs_real: bool = False

    def __post_init__(self):
        if self.constraint not in constraints.CONSTRAINTS:
            raise ValueError(f"objective {self.name!r}: constraint {self.constraint!r} is not one of "
                             f"{constraints.NAMES}")

    @property
    def critic_loss(self):
        """``critic_loss(real_scores, fake_scores)`` -> per-example float32 [B] (imports TensorFlow)."""
        return _function(self.critic_loss_path)

    @property
    def generator_loss(self):
        """``generator_loss(fake_scores)`` -> per-example float32 [B] (imports TensorFlow);
        ``generator_loss(fake_scores, real_scores)`` for an entry with ``generator_needs_real``."""
        return _function(self.generator_loss_path)

    @property
    def constraint_entry(self):
        """Its constraint's registry entry (``wgan.gan.constraints.Constraint``)."""
        return constraints.get(self.constraint)

    @property
    def penalized(self):
        """Whether its constraint adds a term to the critic loss (the gradient penalty)."""
        return self.constraint_entry.penalizes

    @property
    def clipped(self):
        """Whether its constraint projects the critic's weights after every update (weight clipping)."""
        return self.constraint_entry.projects

    @property
    def critic_batch_norm(self):
        """Whether the critic may use batch norm with its constraint (not with a per-example
        input-gradient penalty: batch norm mixes the examples of a batch)."""
        return self.constraint_entry.batch_norm


_ENTRIES = (
    Objective("dcgan", "wgan.gan.losses:dcgan_critic_loss", "wgan.gan.losses:dcgan_generator_loss", "none",
              "DCGAN (Radford et al. 2015): cross-entropy on logits, non-saturating generator loss."),
    Objective("wgan", "wgan.gan.losses:wgan_critic_loss", "wgan.gan.losses:wgan_generator_loss", "weight_clipping",
              "WGAN (Arjovsky et al. 2017): Wasserstein critic, weights clipped to +-clip_value."),
    Objective("wgan-gp", "wgan.gan.losses:wgan_critic_loss", "wgan.gan.losses:wgan_generator_loss", "gradient_penalty",
              "WGAN-GP (Gulrajani et al. 2017): Wasserstein critic with a gp_lambda gradient penalty."),
    # Neither Lim & Ye nor Miyato et al. add a penalty to the hinge loss (wgan/gan/losses.py).
    Objective("hinge", "wgan.gan.losses:hinge_critic_loss", "wgan.gan.losses:wgan_generator_loss", "none",
              "Hinge (Lim & Ye 2017; Miyato et al. 2018): margin loss for the critic, -D(G(z)) for the generator.",
              compared=False),
    # Huang et al. 2024, R3GAN, https://arxiv.org/abs/2501.05441: the relativistic pairing loss
    # of Jolicoeur-Martineau 2018 with R1 + R2; its generator loss needs the real scores.
    Objective("rpgan", "wgan.gan.losses:rpgan_critic_loss", "wgan.gan.losses:rpgan_generator_loss", "r1_r2",
              "RpGAN (Huang et al. 2024, R3GAN): softplus(D(fake) - D(real)) per pair, with R1 + R2.",
              compared=False, generator_needs_real=True),
)
OBJECTIVES = {objective.name: objective for objective in _ENTRIES}
NAMES = tuple(OBJECTIVES)


def get(name, where="key 'model'"):
    """The registry entry of objective ``name``; a ``ConfigError`` naming ``where`` and the valid names otherwise."""
    return registry_entry(OBJECTIVES, name, where)


def of_run(hp):
    """The objective a run trains: ``hp.model``'s entry, with ``hp.constraint`` in place of its own
    constraint unless that is ``"auto"`` (for example the non-saturating loss with WGAN-GP's
    penalty, "NS-GAN + GP" of Kurach et al. 2019, https://arxiv.org/abs/1807.04720)."""
    objective = get(hp.model)
    if hp.constraint in (OWN_CONSTRAINT, objective.constraint):
        return objective
    return dataclasses.replace(objective, constraint=hp.constraint)


def summary():
    """``"dcgan, wgan (weight clipping) or wgan-gp (gradient penalty)"``: the names for one-line help texts."""
    parts = [f"{o.name} ({o.constraint_entry.label})" if o.constraint_entry.acts else o.name for o in _ENTRIES]
    return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else parts[0]


def constraint_help():
    """The help text of ``hp.constraint``: "auto" (each objective's own) or any registry entry."""
    own = ", ".join(f"{o.constraint_entry.label if o.constraint_entry.acts else 'none'} for {o.name}"
                    for o in _ENTRIES)
    others = ", ".join(f"{c.name} ({c.hyperparameter})" if c.hyperparameter else c.name
                       for c in constraints.CONSTRAINTS.values())
    return (f"What keeps the critic in check: {OWN_CONSTRAINT} (the objective's own: {own}) or one of {others} "
            f"in its place (wgan/gan/constraints.py).")


def check_constraint_settings(hp, where=""):
    """A ``ConfigError`` (one line) for a constraint setting the run's constraint does not read:
    lazy regularization (``constraint_every`` > 1) without a penalty, or a weight schedule
    (``constraint_gamma_end``) for a constraint whose weight has none."""
    entry = of_run(hp).constraint_entry
    if hp.constraint_every > 1 and not entry.penalizes:
        raise ConfigError(f"{where}key 'constraint_every' is {hp.constraint_every}, but {hp.model} with "
                          f"{entry.name} adds no penalty to apply lazily; use 1, or a penalty "
                          f"({', '.join(c.name for c in constraints.CONSTRAINTS.values() if c.penalizes)})")
    if hp.constraint_gamma_end is not None and entry.schedule_end != "constraint_gamma_end":
        raise ConfigError(f"{where}key 'constraint_gamma_end' is set, but {hp.model} with {entry.name} does not "
                          f"read constraint_gamma; set it to null, or use "
                          f"{', '.join(c.name for c in constraints.CONSTRAINTS.values() if c.schedule_end)}")


def check_batch_norm(hp, where=""):
    """A ``ConfigError`` if the run's critic uses batch norm and its constraint forbids it."""
    objective = of_run(hp)
    if hp.architecture.c_norm == "batch" and not objective.critic_batch_norm:
        raise ConfigError(f"{where}key 'architecture.c_norm' is 'batch', but batch norm breaks the per-example "
                          f"{objective.constraint_entry.label} that {hp.model} applies here; use 'none' or 'layer'")
