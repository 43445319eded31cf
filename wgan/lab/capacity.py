"""What a weight-clipped critic can learn, against a gradient penalty (WGAN-GP paper, Figure 1).

Gulrajani et al. 2017 (https://arxiv.org/abs/1704.00028, section 3) show that a critic kept
Lipschitz by weight clipping learns too simple a function: trained to optimality against a
fixed "generator" (the real data plus unit Gaussian noise), its value surface misses the
structure of the data, and in a deep critic the gradient norms explode or vanish from layer
to layer with the clip value. With a gradient penalty neither happens.

``fit_critic`` trains one critic that way, with the toolkit's own losses, constraint and
optimizers (WGAN: RMSProp 5e-5 and clipping; WGAN-GP: Adam 1e-4, (0.5, 0.9), lambda
``gp_lambda``; and each other pair of ``PAIRS``: spectral norm with the Wasserstein and the hinge
loss, R1 with the non-saturating loss, R1 + R2 with the relativistic pairing loss, Adam as for
WGAN-GP), and returns its value surface on a grid, the mean norm of its input gradient at the
real and at the fake points, and two per-layer gradient norms:

* at each dense layer's OUTPUT (the backpropagated signal, the quantity that explodes or
  vanishes with depth): with every layer's weights clipped to [-c, c] it scales by about
  c x width per layer, so it grows toward the input for large c and dies for small c;
* at each layer's KERNEL (what training logs as ``c_layer_grad_norm/<layer>`` for every
  run): the product of that signal and the layer's input, whose forward and backward
  scalings cancel, so under clipping these are tiny at every layer rather than sloped.

``benchmarks/critic_capacity.py`` draws the figure of the paper's two critics,
``benchmarks/value_surfaces.py`` one surface per pair of ``PAIRS`` (docs/constraints.md).
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from wgan import config, models
from wgan.gan import losses, objectives, optimizers
from wgan.data.toy import toy_sample

EXTENT = 2.0  # value surfaces on [-EXTENT, EXTENT]^2
GRID = 64
_ADAM = {"name": "adam", "learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.9}


@dataclasses.dataclass(frozen=True)
class Pair:
    """A loss and the constraint that keeps its critic in check: ``objective`` and ``constraint`` are
    registry names, ``optimizer`` the critic's optimizer, ``label`` its name in figures and tables."""

    objective: str
    constraint: str
    optimizer: dict
    label: str


# ``fit_critic``'s ``constraint`` argument: the pairs of issue 39's side-by-side study. The optimizer is
# the one of the paper that uses the constraint: WGAN's RMSProp for clipping, Adam otherwise.
PAIRS = {
    "clip": Pair("wgan", "weight_clipping", {"name": "rmsprop", "learning_rate": 5e-5}, "WGAN, weight clipping"),
    "gp": Pair("wgan-gp", "gradient_penalty", _ADAM, "WGAN-GP, gradient penalty"),
    "sn": Pair("wgan", "spectral_norm", _ADAM, "WGAN, spectral norm"),
    "hinge-sn": Pair("hinge", "spectral_norm", _ADAM, "hinge, spectral norm"),
    "r1": Pair("dcgan", "r1", _ADAM, "NS-GAN, R1"),
    "r1_r2": Pair("rpgan", "r1_r2", _ADAM, "RpGAN, R1 + R2"),
}


@dataclasses.dataclass
class CriticFit:
    """A critic trained against a fixed generator.

    ``surface``: float32 [GRID, GRID] critic values on the square grid (rows: y from
    -EXTENT to EXTENT); ``activation_norms`` and ``kernel_norms``: float64 [depth + 1],
    the mean over the last 100 steps (the last half of fewer) of the norm of the Wasserstein loss's gradient at each
    dense layer's output and kernel, input layer first (a spectrally normalized critic: its output
    alone for the former); ``wasserstein``: the final
    estimate E[f(real)] - E[f(fake)] (for a critic that is not a Wasserstein critic, a gap of scores);
    ``grad_real`` and ``grad_fake``: the mean norm of the critic's input gradient at real and at
    fake points (4,096 each).
    """

    source: str
    constraint: str
    surface: np.ndarray
    activation_norms: np.ndarray
    kernel_norms: np.ndarray
    wasserstein: float
    grad_real: float = float("nan")
    grad_fake: float = float("nan")


def critic_hparams(constraint, depth, width, clip_value=0.01, gp_lambda=0.1, gamma=1.0):
    """HParams of an MLP critic on 2-D points; ``constraint``: a key of ``PAIRS``; ``gamma``: R1 and R2's weight."""
    if constraint not in PAIRS:
        raise ValueError(f"constraint {constraint!r}: one of {', '.join(PAIRS)}")
    pair = PAIRS[constraint]
    return config.from_dict({
        "model": pair.objective, "constraint": pair.constraint,
        "clip_value": clip_value, "gp_lambda": gp_lambda, "constraint_gamma": gamma,
        "data": {"name": "8gaussians", "crop": None, "resize": None, "channels": 0},
        # He initialization, as the reference toy code's ReLU layers (gan_toy.py): the signal starts level.
        "architecture": {"name": "mlp", "base_width": width, "depth": depth, "c_norm": "none", "g_norm": "none",
                         "initializer": "he_normal"},
        "c_optimizer": pair.optimizer,
    })


def fit_critic(source, constraint, depth=3, width=512, steps=2000, batch_size=256, clip_value=0.01,
               gp_lambda=0.1, seed=0, gamma=1.0):
    """Train a critic to (near) optimality on toy set ``source`` against real + N(0, 1) noise; a ``CriticFit``.
    ``constraint``: a key of ``PAIRS`` (the loss and the constraint)."""
    hp = critic_hparams(constraint, depth, width, clip_value, gp_lambda, gamma)
    objective = objectives.of_run(hp)
    entry = objective.constraint_entry
    critic_loss = objective.critic_loss
    tf.keras.utils.set_random_seed(seed)
    raw = models.make_critic(hp)
    critic = entry.prepare_critic(raw, hp)
    opt = optimizers.make_optimizer(hp.c_optimizer)
    variables = critic.trainable_variables
    opt.build(variables)
    kernels = [i for i, v in enumerate(variables) if v.path.endswith("kernel")]
    if critic is raw:
        dense = [layer for layer in critic.layers if isinstance(layer, keras.layers.Dense)]
        tap = keras.Model(critic.inputs, [layer.output for layer in dense])  # shares the critic's layers
    else:  # a wrapped critic (spectral norm) normalizes inside its own call: only its output can be tapped
        def tap(x, training):
            return [critic(x, training=training)]
    rng = np.random.default_rng(seed)

    @tf.function
    def step(real, fake, alpha):
        batch = tf.shape(real)[0]
        with tf.GradientTape(persistent=True) as tape:
            outputs = tap(tf.concat([real, fake], 0), training=True)
            scores = outputs[-1]
            loss = tf.reduce_mean(critic_loss(scores[:batch], scores[batch:]))
            # The signal whose per-layer norms are compared: the Wasserstein loss for every pair.
            wasserstein_loss = tf.reduce_mean(losses.wgan_critic_loss(scores[:batch], scores[batch:]))
            if entry.penalizes:
                penalty, _ = entry.loss_term(critic, real, fake, alpha)
                loss += entry.value(hp) * tf.reduce_mean(penalty)
        grads = tape.gradient(loss, variables)
        signal = tape.gradient(wasserstein_loss, outputs)
        kernel_grads = tape.gradient(wasserstein_loss, [variables[i] for i in kernels])
        del tape
        opt.apply_gradients(zip(grads, variables))
        entry.after_update(variables, hp)
        return tf.stack([tf.norm(g) for g in signal]), tf.stack([tf.norm(g) for g in kernel_grads])

    norms = []
    for _ in range(steps):
        real = toy_sample(source, batch_size, rng)
        fake = real + rng.standard_normal(real.shape).astype(np.float32)
        norms.append([n.numpy() for n in step(real, fake, rng.uniform(size=batch_size).astype(np.float32))])
    axis = np.linspace(-EXTENT, EXTENT, GRID, dtype=np.float32)
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    surface = critic(grid, training=False).numpy().reshape(GRID, GRID)
    real = toy_sample(source, 4096, rng)
    fake = real + rng.standard_normal(real.shape).astype(np.float32)
    estimate = float(np.mean(critic(real, training=False)) - np.mean(critic(fake, training=False)))
    recent = norms[-min(100, max(1, steps // 2)):]
    activation = np.array([r[0] for r in recent], np.float64).mean(0)  # [depth + 1] (spectral norm: [1])
    kernel = np.array([r[1] for r in recent], np.float64).mean(0)  # [depth + 1]
    return CriticFit(source, constraint, surface, activation, kernel, estimate,
                     input_gradient_norm(critic, real), input_gradient_norm(critic, fake))


def input_gradient_norm(critic, points):
    """Mean over float32 points [N, 2] of ||grad_x D(x)||: 1 for a critic with unit slope there, 0 on a plateau."""
    x = tf.convert_to_tensor(points, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = tf.reduce_sum(tf.cast(critic(x, training=False), tf.float32))
    return float(tf.reduce_mean(tf.norm(tape.gradient(scores, x), axis=1)))
