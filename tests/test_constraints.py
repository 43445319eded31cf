"""The constraint registry (wgan/gan/constraints.py): its entries, how the schema, the training step and the
FLOP count read them, and the math of the gradient penalty and of weight clipping."""

import dataclasses
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import tiny_hparams
from wgan import config
from wgan.errors import ConfigError
from wgan.gan import constraints, losses, objectives
from wgan.gan.constraints import clip_weights, gradient_penalty
from wgan.gan.model import GAN

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----- the registry -------------------------------------------------------------------------
def test_the_registry_holds_the_papers_constraints():
    assert constraints.NAMES[:3] == ("none", "gradient_penalty", "weight_clipping")
    none, gp, clip = (constraints.get(n) for n in constraints.NAMES[:3])
    assert not none.acts and none.batch_norm and none.critic_passes == 0 and none.enters == "nothing"
    assert gp.penalizes and not gp.projects and not gp.batch_norm and gp.hyperparameter == "gp_lambda"
    assert gp.critic_passes == 6 and "interpolates" in gp.differentiates and "critic loss" in gp.enters
    assert clip.projects and not clip.penalizes and clip.batch_norm and clip.hyperparameter == "clip_value"
    assert clip.critic_passes == 0 and "projection" in clip.enters


@pytest.mark.parametrize("name", constraints.NAMES)
def test_every_entry_reads_a_hyperparameter_of_the_schema(name):
    entry = constraints.get(name)
    assert entry.label and entry.description and entry.differentiates
    hp = config.from_dict({"model": "wgan", "constraint": name})
    if entry.acts:
        assert entry.hyperparameter in config.HParams.__dataclass_fields__
        assert isinstance(entry.value(hp), (int, float)) and entry.value(hp) > 0
    else:
        assert entry.value(hp) is None


@pytest.mark.parametrize("name", objectives.NAMES)
def test_every_objectives_default_constraint_is_registered(name):
    objective = objectives.get(name)
    assert objective.constraint in constraints.CONSTRAINTS
    assert objective.constraint_entry is constraints.get(objective.constraint)


def test_an_unknown_constraint_gives_one_error_listing_the_valid_ones():
    with pytest.raises(ConfigError) as err:
        config.from_dict({"model": "wgan-gp", "constraint": "spectral"})
    message = str(err.value)
    assert "\n" not in message and "key 'constraint' is 'spectral'" in message
    assert "valid values: auto, none, gradient_penalty, weight_clipping, spectral_norm, r1, r2, r1_r2" in message
    with pytest.raises(ConfigError, match=r"--constraint is 'r3'; valid values: none, gradient_penalty, weight_clip"):
        constraints.get("r3", where="--constraint")
    with pytest.raises(ValueError, match="needs its hyperparameter"):
        constraints.Constraint("x", "x", "an entry that acts without a setting", project=clip_weights)


def test_batch_norm_with_the_gradient_penalty_is_refused_in_one_line():
    for values in ({"model": "wgan-gp"}, {"model": "dcgan", "constraint": "gradient_penalty"}):
        with pytest.raises(ConfigError) as err:
            config.from_dict({**values, "architecture": {"c_norm": "batch"}})
        message = str(err.value)
        assert "\n" not in message
        assert message == (f"key 'architecture.c_norm' is 'batch', but batch norm breaks the per-example gradient "
                           f"penalty that {values['model']} applies here; use 'none' or 'layer'")
    # The same critic with the objective's own clipping, or with no constraint, may use it.
    for constraint in ("auto", "none"):
        assert config.from_dict({"model": "wgan", "constraint": constraint,
                                 "architecture": {"c_norm": "batch"}}).architecture.c_norm == "batch"


def test_the_registry_and_the_schema_import_without_tensorflow():
    code = ("import sys, wgan.gan.constraints, wgan.gan.objectives, wgan.config; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=REPO))
    assert result.returncode == 0, result.stderr


def test_the_help_texts_come_from_the_registries():
    help_text = config.HParams.__dataclass_fields__["constraint"].metadata["help"]
    for name in constraints.NAMES:
        assert name in help_text
    assert "gradient_penalty (gp_lambda)" in help_text and "weight clipping for wgan" in help_text
    assert objectives.summary().startswith("dcgan, wgan (weight clipping), wgan-gp (gradient penalty)")


# ----- the training step applies the run's entry --------------------------------------------
def _one_critic_update(hp):
    """``(gan, real, fake, alpha, metrics)``: one critic update's metrics on fixed inputs (8 toy points,
    their fakes and interpolation weights), for networks whose weights depend on the seed only."""
    keras.utils.set_random_seed(0)
    gan = GAN(hp)
    real = tf.random.stateless_normal([8, 2], [1, 2])
    z = tf.random.stateless_normal([8, hp.z_dim], [3, 4])
    alpha = tf.random.stateless_uniform([8], [5, 6])
    _, metrics = gan._critic_gradients(real, z, alpha)
    return gan, real, gan.generator(z, training=True), alpha, metrics


def _critic_loss_parts(hp):
    """``(metrics of one critic update's loss, the Wasserstein loss and the mean penalty recomputed
    independently)`` on fixed inputs, for a tiny critic whose weights depend on the seed only."""
    gan, real, fake, alpha, metrics = _one_critic_update(hp)
    wasserstein_loss = tf.reduce_mean(losses.wgan_critic_loss(gan.critic(real), gan.critic(fake)))
    penalty, _ = gradient_penalty(gan.critic, real, fake, alpha=alpha)
    return gan, metrics, float(wasserstein_loss), float(tf.reduce_mean(penalty))


def test_gp_lambda_scales_the_penalty_in_the_critic_loss():
    """critic_loss = Wasserstein loss + gp_lambda * penalty, for two lambdas on the same critic and inputs
    (not only ``gradient_penalty > 0``): dropping gp_lambda from the loss fails here."""
    results = {}
    for gp_lambda in (0.5, 10.0):
        hp = tiny_hparams("wgan-gp", gp_lambda=gp_lambda, architecture={"g_norm": "none"})
        _, metrics, wasserstein_loss, penalty = _critic_loss_parts(hp)
        assert penalty > 0.1  # a penalty large enough for the comparison to mean something
        np.testing.assert_allclose(float(metrics["gradient_penalty"]), penalty, rtol=1e-6)
        np.testing.assert_allclose(float(metrics["critic_loss"]), wasserstein_loss + gp_lambda * penalty,
                                   rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(-float(metrics["wasserstein"]), wasserstein_loss, rtol=1e-6, atol=1e-7)
        results[gp_lambda] = metrics
    # Same weights and inputs: the two losses differ by exactly (10 - 0.5) times the same penalty.
    low, high = results[0.5], results[10.0]
    assert float(low["gradient_penalty"]) == float(high["gradient_penalty"])
    np.testing.assert_allclose(float(high["critic_loss"]) - float(low["critic_loss"]),
                               9.5 * float(low["gradient_penalty"]), rtol=1e-5)


@pytest.mark.parametrize("name", ["none", "weight_clipping"])
def test_a_constraint_without_a_loss_term_leaves_the_loss_alone(name):
    hp = tiny_hparams("wgan", constraint=name, architecture={"g_norm": "none"})
    gan, metrics, wasserstein_loss, _ = _critic_loss_parts(hp)
    assert gan.constraint is constraints.get(name)
    assert float(metrics["gradient_penalty"]) == float(metrics["gp_grad_norm"]) == 0.0
    np.testing.assert_allclose(float(metrics["critic_loss"]), wasserstein_loss, rtol=1e-6, atol=1e-7)


def test_a_penalty_at_real_examples_fits_the_entry_interface():
    """The shape of an R1 entry (Mescheder et al. 2018): a penalty on the input gradient at the real
    examples. The training step calls it as it calls the gradient penalty, with the entry's weight.
    (R1 squares the norm itself; this sketch centres it at 1, as WGAN-GP does, so that a freshly
    initialized critic, whose input gradients are near 0, gives a penalty far from 0.)"""

    def squared_gradient_at_real(critic, real, fake, alpha, loss_scale):
        with tf.GradientTape() as tape:
            tape.watch(real)
            total = tf.reduce_sum(critic(real, training=True))
        norms = tf.norm(tape.gradient(total, real), axis=1)
        return tf.square(norms - 1.0), norms

    entry = constraints.Constraint("r1-sketch", "R1 penalty", "test only", differentiates="input gradient at real",
                                   hyperparameter="gp_lambda", penalty=squared_gradient_at_real, batch_norm=False,
                                   critic_passes=4)
    hp = tiny_hparams("wgan-gp", gp_lambda=3.0, architecture={"g_norm": "none"})
    keras.utils.set_random_seed(0)
    gan = GAN(hp)
    gan.constraint = entry
    real = tf.random.stateless_normal([8, 2], [1, 2])
    z = tf.random.stateless_normal([8, hp.z_dim], [3, 4])
    _, metrics = gan._critic_gradients(real, z, tf.zeros([8]))
    fake = gan.generator(z, training=True)
    wasserstein_loss = float(tf.reduce_mean(losses.wgan_critic_loss(gan.critic(real), gan.critic(fake))))
    penalty = float(tf.reduce_mean(squared_gradient_at_real(gan.critic, real, None, None, None)[0]))
    assert penalty > 0.1
    np.testing.assert_allclose(float(metrics["gradient_penalty"]), penalty, rtol=1e-6)
    np.testing.assert_allclose(float(metrics["critic_loss"]), wasserstein_loss + 3.0 * penalty, rtol=1e-6, atol=1e-7)
    assert entry.update_flops(100) == 400


def test_after_update_projects_only_with_a_projection():
    hp = config.from_dict({"model": "wgan", "clip_value": 0.25})
    variable = tf.Variable([-1.0, 0.1, 2.0])
    constraints.get("none").after_update([variable], hp)
    constraints.get("gradient_penalty").after_update([variable], hp)
    np.testing.assert_array_equal(variable.numpy(), np.float32([-1.0, 0.1, 2.0]))
    constraints.get("weight_clipping").after_update([variable], hp)
    np.testing.assert_array_equal(variable.numpy(), np.float32([-0.25, 0.1, 0.25]))
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    for name in constraints.NAMES:  # only spectral normalization wraps the critic
        wrapped = constraints.get(name).prepare_critic(critic, hp)
        assert (wrapped is critic) == (constraints.get(name).wrap_critic is None)
    with pytest.raises(ValueError, match="adds no term"):
        constraints.get("weight_clipping").loss_term(critic, None, None, None)


def test_a_wrapping_entry_gives_the_critic_the_training_step_uses():
    calls = []

    def wrap(critic, value):
        calls.append(value)
        return critic

    entry = dataclasses.replace(constraints.get("none"), name="wrap-sketch", hyperparameter="clip_value",
                                wrap_critic=wrap)
    hp = config.from_dict({"model": "wgan", "clip_value": 0.5})
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert entry.prepare_critic(critic, hp) is critic and calls == [0.5] and "wrapper" in entry.enters


# ----- gradient penalty -------------------------------------------------------------------
def linear_critic(kernel, dtype="float32"):
    """f(x) = <w, flatten(x)> + 1 for inputs shaped like ``kernel``: the gradient is w everywhere."""
    kernel = np.asarray(kernel, np.float32)
    model = keras.Sequential([keras.Input(kernel.shape), keras.layers.Flatten(),
                              keras.layers.Dense(1, dtype=dtype, bias_initializer="ones")])
    model.layers[-1].kernel.assign(kernel.reshape(-1, 1))
    return model


def quadratic_critic(x, training=True):
    """f(x) = 0.5 * ||x||^2 per example: the gradient is x itself."""
    return 0.5 * tf.reduce_sum(tf.square(x), axis=list(range(1, x.shape.rank)))[:, None]


@pytest.mark.parametrize("alpha", [None, [0.0, 0.3, 1.0, 0.7]])
def test_penalty_of_linear_critic_is_exact(alpha):
    critic = linear_critic([1.0, 2.0, 2.0])  # ||w|| = 3
    real = tf.random.normal([4, 3])
    fake = tf.random.normal([4, 3])
    penalty, norm = gradient_penalty(critic, real, fake, alpha=alpha)
    assert penalty.dtype == norm.dtype == tf.float32 and penalty.shape == norm.shape == (4,)
    np.testing.assert_allclose(norm.numpy(), [3.0] * 4, rtol=1e-6)
    np.testing.assert_allclose(penalty.numpy(), [4.0] * 4, rtol=1e-5)


def test_norm_runs_over_all_non_batch_axes_of_images():
    kernel = np.linspace(-1.0, 1.0, 4 * 4 * 2).reshape(4, 4, 2)
    critic = linear_critic(kernel)
    penalty, norm = gradient_penalty(critic, tf.zeros([3, 4, 4, 2]), tf.ones([3, 4, 4, 2]), seed=[1, 2])
    expected = np.linalg.norm(kernel)
    np.testing.assert_allclose(norm.numpy(), [expected] * 3, rtol=1e-5)
    np.testing.assert_allclose(penalty.numpy(), [(expected - 1.0) ** 2] * 3, rtol=1e-5)


def test_outer_tape_differentiates_penalty_wrt_critic_weights():
    w = np.array([1.0, 2.0, 2.0], np.float32)
    critic = linear_critic(w)
    with tf.GradientTape() as tape:
        penalty, _ = gradient_penalty(critic, tf.random.normal([5, 3]), tf.random.normal([5, 3]))
        loss = tf.reduce_mean(penalty)
    kernel = critic.layers[-1].kernel
    grad = tape.gradient(loss, kernel)
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    np.testing.assert_allclose(grad.numpy().ravel(), 2 * (3.0 - 1.0) * w / 3.0, rtol=1e-5)


def test_outer_gradient_inside_tf_function():
    critic = linear_critic([0.0, 3.0, 4.0])  # ||w|| = 5

    @tf.function
    def step(real, fake):
        with tf.GradientTape() as tape:
            penalty, _ = gradient_penalty(critic, real, fake)
            loss = tf.reduce_mean(penalty)
        return loss, tape.gradient(loss, critic.layers[-1].kernel)

    loss, grad = step(tf.random.normal([2, 3]), tf.random.normal([2, 3]))
    np.testing.assert_allclose(loss.numpy(), 16.0, rtol=1e-5)
    np.testing.assert_allclose(grad.numpy().ravel(), [0.0, 2 * 4 * 3 / 5, 2 * 4 * 4 / 5], rtol=1e-5)


def test_zero_gradient_gives_penalty_one_and_finite_gradients():
    critic = linear_critic([0.0, 0.0, 0.0])
    with tf.GradientTape() as tape:
        penalty, norm = gradient_penalty(critic, tf.random.normal([4, 3]), tf.random.normal([4, 3]))
        loss = tf.reduce_mean(penalty)
    np.testing.assert_allclose(penalty.numpy(), [1.0] * 4, atol=1e-5)
    np.testing.assert_allclose(norm.numpy(), [0.0] * 4, atol=1e-5)
    grad = tape.gradient(loss, critic.layers[-1].kernel).numpy()
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("shape", [(3, 2), (3, 2, 2, 2)])
def test_alpha_is_one_weight_per_example(shape):
    # With f = 0.5 ||x||^2, real = 0 and fake = 1: x_hat = alpha * 1, so the gradient
    # norm is alpha * sqrt(D) for each example's own alpha.
    dim = np.prod(shape[1:])
    alpha = np.array([0.0, 0.5, 1.0], np.float32)
    penalty, norm = gradient_penalty(quadratic_critic, tf.zeros(shape), tf.ones(shape), alpha=alpha)
    np.testing.assert_allclose(norm.numpy(), alpha * np.sqrt(dim), atol=1e-5)
    np.testing.assert_allclose(penalty.numpy(), (alpha * np.sqrt(dim) - 1.0) ** 2, atol=1e-5)


def test_random_alpha_is_uniform_per_example_and_seedable():
    shape = (64, 2, 2, 1)
    real, fake = tf.zeros(shape), tf.ones(shape)
    _, norm = gradient_penalty(quadratic_critic, real, fake)
    alpha = norm.numpy() / 2.0  # sqrt(D) = 2
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0 + 1e-6
    assert np.std(alpha) > 0.1  # drawn per example, not once per batch
    first, _ = gradient_penalty(quadratic_critic, real, fake, seed=[7, 8])
    again, _ = gradient_penalty(quadratic_critic, real, fake, seed=[7, 8])
    other, _ = gradient_penalty(quadratic_critic, real, fake, seed=[7, 9])
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert not np.array_equal(first.numpy(), other.numpy())


def test_penalty_of_mixed_precision_critic_is_float32():
    critic = linear_critic([1.0, 2.0, 2.0], dtype="mixed_bfloat16")  # bfloat16 holds 1 and 2 exactly
    penalty, norm = gradient_penalty(critic, tf.random.normal([4, 3]), tf.random.normal([4, 3]))
    assert penalty.dtype == norm.dtype == tf.float32
    np.testing.assert_allclose(norm.numpy(), [3.0] * 4, rtol=1e-6)
    np.testing.assert_allclose(penalty.numpy(), [4.0] * 4, rtol=1e-5)


def test_epsilon_is_inside_the_square_root():
    assert constraints.GRAD_NORM_EPSILON == 1e-12


# ----- weight clipping -------------------------------------------------------------------
def test_clip_weights_bounds_and_untouched_values():
    variable = tf.Variable([-1.0, -0.01, -0.005, 0.0, 0.003, 0.01, 2.0])
    assert clip_weights([variable], 0.01) is None
    np.testing.assert_array_equal(variable.numpy(), np.float32([-0.01, -0.01, -0.005, 0.0, 0.003, 0.01, 0.01]))


def test_clip_weights_on_keras_variables_inside_tf_function():
    critic = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, kernel_initializer="ones"),
                               keras.layers.Dense(1, kernel_initializer="random_normal")])
    inside = critic.layers[1].kernel.numpy() * 1e-4
    critic.layers[1].kernel.assign(inside)
    tf.function(lambda: clip_weights(critic.trainable_variables, 0.05))()
    assert all(np.all(np.abs(v.numpy()) <= 0.05) for v in critic.trainable_variables)
    np.testing.assert_array_equal(critic.layers[0].kernel.numpy(), np.full((3, 4), 0.05, np.float32))
    np.testing.assert_array_equal(critic.layers[1].kernel.numpy(), inside)


# ----- R1, R2 (Mescheder et al. 2018) ----------------------------------------------------
ZERO_CENTRED = {"r1": lambda real, fake: 0.5 * np.sum(real ** 2, axis=1),
                "r2": lambda real, fake: 0.5 * np.sum(fake ** 2, axis=1),
                "r1_r2": lambda real, fake: 0.5 * np.sum(real ** 2, axis=1) + 0.5 * np.sum(fake ** 2, axis=1)}


def test_r1_and_r2_of_a_linear_critic_are_half_its_squared_weight_norm():
    critic = linear_critic([1.0, 2.0, 2.0])  # the gradient is w everywhere: ||w||^2 = 9
    real, fake = tf.random.normal([4, 3]), tf.random.normal([4, 3])
    for name, expected in (("r1", 4.5), ("r2", 4.5), ("r1_r2", 9.0)):
        penalty, norm = constraints.get(name).loss_term(critic, real, fake, tf.zeros([4]))
        assert penalty.dtype == norm.dtype == tf.float32 and penalty.shape == norm.shape == (4,)
        np.testing.assert_allclose(penalty.numpy(), [expected] * 4, rtol=1e-6)
        np.testing.assert_allclose(norm.numpy(), [3.0] * 4, rtol=1e-6)
    # Its gradient with respect to the weights: d/dw (0.5 ||w||^2) = w.
    with tf.GradientTape() as tape:
        penalty, _ = constraints.zero_centred_penalty(critic, real)
        loss = tf.reduce_mean(penalty)
    np.testing.assert_allclose(tape.gradient(loss, critic.layers[-1].kernel).numpy().ravel(), [1.0, 2.0, 2.0],
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["r1", "r2", "r1_r2"])
def test_r1_and_r2_are_taken_at_the_data_not_at_interpolates(name):
    """f = 0.5 ||x||^2 has the gradient x: R1 = 0.5 ||real||^2 per example, R2 = 0.5 ||fake||^2. A
    penalty at interpolates (alpha 0.5 here) or centred at 1 would give other values."""
    real = tf.constant([[1.0, 2.0], [0.0, 3.0], [-1.0, 0.5]])
    fake = tf.constant([[2.0, -1.0], [0.5, 0.5], [4.0, 0.0]])
    penalty, norm = constraints.get(name).loss_term(quadratic_critic, real, fake, tf.fill([3], 0.5))
    np.testing.assert_allclose(penalty.numpy(), ZERO_CENTRED[name](real.numpy(), fake.numpy()), rtol=1e-6)
    assert np.all(np.isfinite(norm.numpy()))


def test_a_zero_gradient_gives_a_zero_penalty_and_finite_gradients():
    critic = linear_critic([0.0, 0.0, 0.0])
    with tf.GradientTape() as tape:
        penalty, _ = constraints.zero_centred_penalty(critic, tf.random.normal([4, 3]))
        loss = tf.reduce_mean(penalty)
    np.testing.assert_array_equal(penalty.numpy(), np.zeros(4, np.float32))
    assert np.all(np.isfinite(tape.gradient(loss, critic.layers[-1].kernel).numpy()))


def test_the_float16_loss_scale_leaves_r1_unchanged_and_reports_an_overflow_as_zero():
    critic = linear_critic([1e-3, 2e-3, 2e-3])
    x = tf.random.normal([4, 3])
    plain, _ = constraints.zero_centred_penalty(critic, x)
    scaled, norm = constraints.zero_centred_penalty(critic, x, loss_scale=tf.constant(2.0 ** 15))
    np.testing.assert_allclose(scaled.numpy(), plain.numpy(), rtol=1e-5)
    np.testing.assert_allclose(norm.numpy(), [3e-3] * 4, rtol=1e-5)
    overflow = constraints.reported_norms(tf.constant([4.0, np.inf]), 0.0)
    np.testing.assert_array_equal(overflow.numpy(), [2.0, 0.0])


@pytest.mark.parametrize("name", ["r1", "r2", "r1_r2"])
def test_constraint_gamma_weights_the_zero_centred_penalty_in_the_critic_loss(name):
    """critic_loss = the objective's loss + gamma * mean(0.5 ||grad D||^2 at the real and/or generated
    examples), the gradient recomputed here with a tape of its own. Dropping gamma, or taking the
    gradient at interpolates, fails here."""
    results = {}
    for gamma in (0.5, 4.0):
        # He-initialized: the default N(0, 0.02) weights give input gradients of 1e-5, too small to compare.
        hp = tiny_hparams("dcgan", constraint=name, constraint_gamma=gamma,
                          architecture={"g_norm": "none", "initializer": "he_normal"})
        gan, real, fake, _, metrics = _one_critic_update(hp)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([real, fake])
            real_scores, fake_scores = gan.critic(real), gan.critic(fake)
        squared = {"r1": 0.0, "r2": 0.0}
        if name != "r2":
            squared["r1"] = np.sum(tape.gradient(real_scores, real).numpy() ** 2, axis=1)
        if name != "r1":
            squared["r2"] = np.sum(tape.gradient(fake_scores, fake).numpy() ** 2, axis=1)
        penalty = float(np.mean(0.5 * (squared["r1"] + squared["r2"])))
        base = float(tf.reduce_mean(losses.dcgan_critic_loss(real_scores, fake_scores)))
        assert penalty > 1e-6
        np.testing.assert_allclose(float(metrics["gradient_penalty"]), penalty, rtol=1e-4)
        np.testing.assert_allclose(float(metrics["critic_loss"]), base + gamma * penalty, rtol=1e-5)
        results[gamma] = metrics
    np.testing.assert_allclose(float(results[4.0]["critic_loss"]) - float(results[0.5]["critic_loss"]),
                               3.5 * float(results[0.5]["gradient_penalty"]), rtol=1e-4)


def test_gamma_follows_a_cosine_to_its_end_value():
    hp = config.from_dict({"model": "rpgan", "constraint_gamma": 2.0, "constraint_gamma_end": 0.2,
                           "train_steps": 100})
    entry = objectives.of_run(hp).constraint_entry
    weights = [float(entry.weight(hp, tf.constant(step, tf.int64))) for step in (0, 50, 100, 400)]
    np.testing.assert_allclose(weights, [2.0, 1.1, 0.2, 0.2], rtol=1e-6)
    constant = config.from_dict({"model": "rpgan", "constraint_gamma": 2.0})
    assert float(entry.weight(constant, tf.constant(50, tf.int64))) == 2.0


def test_lazy_regularization_applies_k_times_the_penalty_on_every_kth_update():
    entry = constraints.get("r1")
    critic = linear_critic([1.0, 2.0, 2.0])  # 0.5 ||w||^2 = 4.5
    real, fake = tf.random.normal([4, 3]), tf.random.normal([4, 3])
    applied = [float(tf.reduce_mean(entry.loss_term(critic, real, fake, None, update=tf.constant(n, tf.int64),
                                                    every=4)[0])) for n in range(6)]
    assert applied == pytest.approx([18.0, 0.0, 0.0, 0.0, 18.0, 0.0])


# ----- invalid pairs: one line each ------------------------------------------------------
@pytest.mark.parametrize("values, message", [
    ({"model": "rpgan", "architecture": {"c_norm": "batch"}},
     ("key 'architecture.c_norm' is 'batch', but batch norm breaks the per-example R1 + R2 penalty that rpgan "
      "applies here; use 'none' or 'layer'")),
    ({"model": "dcgan", "constraint": "r1", "architecture": {"c_norm": "batch"}},
     ("key 'architecture.c_norm' is 'batch', but batch norm breaks the per-example R1 penalty that dcgan applies "
      "here; use 'none' or 'layer'")),
    ({"model": "wgan", "constraint": "r2", "architecture": {"c_norm": "batch"}},
     ("key 'architecture.c_norm' is 'batch', but batch norm breaks the per-example R2 penalty that wgan applies "
      "here; use 'none' or 'layer'")),
    ({"model": "wgan", "constraint_every": 4},
     ("key 'constraint_every' is 4, but wgan with weight_clipping adds no penalty to apply lazily; use 1, or a "
      "penalty (gradient_penalty, r1, r2, r1_r2)")),
    ({"model": "hinge", "constraint": "spectral_norm", "constraint_every": 2},
     ("key 'constraint_every' is 2, but hinge with spectral_norm adds no penalty to apply lazily; use 1, or a "
      "penalty (gradient_penalty, r1, r2, r1_r2)")),
    ({"model": "wgan-gp", "constraint_gamma_end": 0.1},
     ("key 'constraint_gamma_end' is set, but wgan-gp with gradient_penalty does not read constraint_gamma; set it "
      "to null, or use r1, r2, r1_r2")),
])
def test_an_invalid_pair_is_refused_in_one_line(values, message):
    with pytest.raises(ConfigError) as err:
        config.from_dict(values)
    assert str(err.value) == message


def test_spectral_norm_takes_the_place_of_clipping_and_allows_batch_norm():
    """One constraint a run: WGAN with spectral_norm is not clipped as well (clipping the raw kernels
    under a normalization that rescales them would be pointless), and SN needs no per-example gradient."""
    hp = config.from_dict({"model": "wgan", "constraint": "spectral_norm", "architecture": {"c_norm": "batch"}})
    entry = objectives.of_run(hp).constraint_entry
    assert entry.name == "spectral_norm" and not entry.projects and not entry.penalizes and entry.batch_norm


# ----- every new pair trains, with one trace --------------------------------------------------
NEW_PAIRS = [("wgan", "spectral_norm"), ("hinge", "spectral_norm"), ("dcgan", "r1"), ("wgan", "r2"),
             ("rpgan", "auto"), ("rpgan", "r1")]


@pytest.mark.parametrize("model, constraint", NEW_PAIRS)
def test_one_iteration_of_every_new_pair_with_one_trace(model, constraint):
    hp = tiny_hparams(model, constraint=constraint, n_critic=2, log_every=2)
    keras.utils.set_random_seed(0)
    gan = GAN(hp)
    images = np.random.default_rng(0).normal(size=(hp.batch_size, 2)).astype(np.float32)
    iterator = iter(tf.data.Dataset.from_tensors(images).repeat())
    before = [v.numpy().copy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    runs = [{k: float(v) for k, v in gan.train_iteration(iterator, n).items()} for n in (2, 1)]
    after = [v.numpy() for v in gan.generator.trainable_variables + gan.critic.trainable_variables]
    assert all(np.isfinite(v) for m in runs for v in m.values())
    assert all(not np.array_equal(b, a) for b, a in zip(before, after) if b.size > 1)
    assert gan.trace_count == 1 and int(gan.step) == 2
    entry = gan.constraint
    assert (runs[-1]["gradient_penalty"] > 0) == entry.penalizes
    # The input-gradient probe ran on the logged iteration (step 2 of log_every 2) only.
    probe = [k for k in runs[0] if k.startswith("c_input_grad_norm/")]
    assert len(probe) == 3 and all(runs[0][k] == 0 for k in probe) and all(runs[1][k] > 0 for k in probe)
    # rpgan's generator update drew a real batch of its own.
    draws = 3 + 2 * objectives.get(model).generator_needs_real
    assert int(gan.images_seen) == draws * hp.batch_size


def test_the_probe_measures_the_input_gradient_at_real_fake_and_interpolated_points():
    hp = tiny_hparams("wgan-gp")
    gan = GAN(hp)
    gan.critic = quadratic_critic  # the gradient is x itself
    real = tf.constant([[3.0, 4.0]] * 8)  # norm 5
    fake = tf.constant([[0.0, 1.0]] * 8)  # norm 1
    alpha = tf.fill([8], 0.5)  # interpolates (1.5, 2.5): norm sqrt(8.5)
    values = gan._input_gradient_probe(real, fake, alpha, tf.constant(True))
    np.testing.assert_allclose([float(values[k]) for k in sorted(values)],
                               [np.sqrt(1.0), np.sqrt(8.5), 5.0], rtol=1e-5)  # fake, interpolates, real
    assert all(float(v) == 0 for v in gan._input_gradient_probe(real, fake, alpha, tf.constant(False)).values())
