"""The objective registry: every entry's losses, its constraint, and what reads it."""

import re

import numpy as np
import pytest
import tensorflow as tf

from wgan import config
from wgan.lab import benchmark
from wgan.gan import constraints, losses, objectives
from wgan.errors import ConfigError


@pytest.mark.parametrize("name", objectives.NAMES)
def test_every_entry_has_losses_of_the_loss_contract(name):
    objective = objectives.get(name)
    assert objective.constraint in constraints.NAMES and objective.description
    real, fake = tf.constant([[1.0], [2.0], [-3.0]]), tf.constant([0.5, -1.0, 4.0], tf.bfloat16)
    generator_loss = objective.generator_loss(fake, real) if objective.generator_needs_real else \
        objective.generator_loss(fake)
    for loss in (objective.critic_loss(real, fake), generator_loss):
        assert loss.dtype == tf.float32 and loss.shape == (3,)
        assert np.all(np.isfinite(loss.numpy()))


def test_the_paper_objectives_and_their_constraints():
    assert objectives.NAMES[:3] == ("dcgan", "wgan", "wgan-gp")
    dcgan, wgan, gp = (objectives.get(n) for n in ("dcgan", "wgan", "wgan-gp"))
    assert (dcgan.critic_loss, dcgan.generator_loss) == (losses.dcgan_critic_loss, losses.dcgan_generator_loss)
    assert wgan.critic_loss is gp.critic_loss is losses.wgan_critic_loss
    assert wgan.generator_loss is gp.generator_loss is losses.wgan_generator_loss
    assert (dcgan.constraint, wgan.constraint, gp.constraint) == ("none", "weight_clipping", "gradient_penalty")
    assert gp.penalized and not gp.clipped and not gp.critic_batch_norm
    assert wgan.clipped and not wgan.penalized and wgan.critic_batch_norm
    assert not (dcgan.clipped or dcgan.penalized)


def test_an_unknown_name_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"--models is 'gan'; valid values: dcgan, wgan, wgan-gp"):
        objectives.get("gan", where="--models")
    with pytest.raises(ValueError, match="constraint"):
        objectives.Objective("x", "a:b", "a:b", "spectral", "no such constraint")


@pytest.mark.parametrize("name", objectives.NAMES)
def test_the_schema_reads_the_constraint(name):
    objective = objectives.get(name)
    values = {"model": name, "architecture": {"c_norm": "batch"}}
    if objective.critic_batch_norm:
        assert config.from_dict(values).architecture.c_norm == "batch"
    else:
        with pytest.raises(ConfigError, match=re.escape(f"{objective.constraint_entry.label} that {name} applies")):
            config.from_dict(values)
    assert name in config.HParams.__dataclass_fields__["model"].metadata["choices"]


@pytest.mark.parametrize("name", objectives.NAMES)
@pytest.mark.parametrize("constraint", ("auto",) + constraints.NAMES)
def test_the_flop_count_reads_the_constraint(name, constraint):
    hp = config.from_dict({"model": name, "constraint": constraint, "architecture": {"c_norm": "none"}})
    critic, generator = benchmark.update_flops(hp, 10, 100)
    entry = objectives.of_run(hp).constraint_entry
    assert critic == 10 + 600 + 100 * entry.critic_passes
    # 6C for a penalty at one set of points (GP, R1, R2), 12C at two (R1 + R2), nothing otherwise.
    assert critic == 10 + 600 + {"gradient_penalty": 600, "r1": 600, "r2": 600, "r1_r2": 1200}.get(entry.name, 0)
    # A relativistic generator loss scores a real batch too (C more).
    assert generator == 30 + 200 + (100 if objectives.get(name).generator_needs_real else 0)


def test_lazy_regularization_divides_the_penaltys_flops():
    hp = config.from_dict({"model": "rpgan", "constraint_every": 4})
    critic, _ = benchmark.update_flops(hp, 10, 100)
    assert critic == 10 + 600 + 1200 / 4
    hp = config.from_dict({"model": "wgan", "constraint": "spectral_norm"})
    assert benchmark.update_flops(hp, 10, 100)[0] == 10 + 600  # the power iteration is per weight, not per example


@pytest.mark.parametrize("name", objectives.NAMES)
@pytest.mark.parametrize("constraint", constraints.NAMES)
def test_a_run_can_put_another_constraint_in_place_of_its_objectives(name, constraint):
    c_norm = "batch" if constraints.get(constraint).batch_norm else "none"
    hp = config.from_dict({"model": name, "constraint": constraint, "architecture": {"c_norm": c_norm}})
    objective = objectives.of_run(hp)
    assert objective.constraint == constraint and objective.constraint_entry is constraints.get(constraint)
    assert (objective.name, objective.critic_loss_path) == (name, objectives.get(name).critic_loss_path)
    assert objectives.of_run(config.from_dict({"model": name})) is objectives.get(name)  # "auto"


def test_a_penalized_dcgan_refuses_batch_norm_in_its_critic():
    with pytest.raises(ConfigError, match="gradient penalty that dcgan applies"):
        config.from_dict({"model": "dcgan", "constraint": "gradient_penalty", "architecture": {"c_norm": "batch"}})
    with pytest.raises(ConfigError, match="key 'constraint' is 'spectral'"):
        config.from_dict({"model": "dcgan", "constraint": "spectral"})
