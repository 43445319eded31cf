"""Each optimizer against its reference update rule, written out here in float64 (see wgan/gan/optimizers.py)."""

import numpy as np
import pytest
import tensorflow as tf

from wgan import config
from wgan.gan import optimizers

GRADIENT_SCALES = [1e-8, 1e-6, 1e-4, 1e-2, 1e-1]
STEPS = 5


def _gradients(scale, steps=STEPS, size=4, seed=0):
    """float64 [steps, size]: gradients of magnitude ~scale with varying signs and sizes."""
    rng = np.random.default_rng(seed)
    return scale * rng.uniform(0.5, 1.5, (steps, size)) * rng.choice([-1.0, 1.0], (steps, size))


def _run(opt, grads, w0):
    var = tf.Variable(w0.astype(np.float32))
    opt.build([var])
    out = []
    for g in grads:
        opt.apply_gradients([(tf.constant(g, tf.float32), var)])
        out.append(var.numpy().astype(np.float64))
    return np.array(out)


def torch_rmsprop(grads, w0, lr, alpha, eps, momentum=0.0):
    """torch.optim.RMSprop, centered=False (torch/optim/rmsprop.py, _single_tensor_rmsprop)."""
    w, v, buf, out = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), []
    for g in grads:
        v = alpha * v + (1 - alpha) * g * g
        avg = np.sqrt(v) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            w = w - lr * buf
        else:
            w = w - lr * g / avg
        out.append(w.copy())
    return np.array(out)


def tf1_adam(grads, w0, lr, b1, b2, eps):
    """tf.train.AdamOptimizer (TensorFlow 1, the WGAN-GP reference code's optimizer).

    ``b2``: a constant, or one value per step: then the bias correction takes the current b2 to the
    power t, which is PyTorch's Adam when the training loop sets its betas every iteration (R3GAN's code).
    """
    w, m, v, out = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), []
    betas_2 = b2 if np.ndim(b2) else [b2] * len(grads)
    for t, (g, b2) in enumerate(zip(grads, betas_2), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - lr_t * m / (np.sqrt(v) + eps)
        out.append(w.copy())
    return np.array(out)


def torch_adam(grads, w0, lr, b1, b2, eps):
    """torch.optim.Adam: epsilon added after the bias correction."""
    w, m, v, out = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr / (1 - b1 ** t) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)
        out.append(w.copy())
    return np.array(out)


def _relative_update_error(got, want, w0):
    """Largest relative error of one step's weight change (each step's update, not the weight, is compared)."""
    got_steps, want_steps = np.diff(np.vstack([w0, got]), axis=0), np.diff(np.vstack([w0, want]), axis=0)
    return np.max(np.abs(got_steps - want_steps) / np.abs(want_steps))


def _cfg(**values):
    return config.from_dict({"c_optimizer": values}).c_optimizer


@pytest.mark.parametrize("scale", GRADIENT_SCALES)
@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_follows_pytorch(scale, momentum):
    cfg = _cfg(name="rmsprop", learning_rate=5e-5, momentum=momentum)
    assert (cfg.rho, cfg.epsilon) == (0.99, 1e-8)  # PyTorch's defaults, the WGAN code's optimizer
    grads, w0 = _gradients(scale), np.zeros(4)
    got = _run(optimizers.make_optimizer(cfg), grads, w0)
    want = torch_rmsprop(grads, w0, 5e-5, alpha=0.99, eps=1e-8, momentum=momentum)
    assert _relative_update_error(got, want, w0) < 1e-3


def test_keras_rmsprop_is_not_the_reference():
    """The defect this module fixes: Keras' stock RMSprop moves a clipped critic's weights far too little."""
    grads, w0 = _gradients(1e-5), np.zeros(4)
    stock = _run(tf.keras.optimizers.RMSprop(5e-5, rho=0.99, epsilon=1e-7), grads, w0)
    want = torch_rmsprop(grads, w0, 5e-5, alpha=0.99, eps=1e-8)
    assert np.max(np.abs(stock)) < np.max(np.abs(want)) / 10


@pytest.mark.parametrize("scale", GRADIENT_SCALES)
def test_adam_follows_tensorflow1(scale):
    cfg = _cfg(name="adam", learning_rate=1e-4, beta_1=0.5, beta_2=0.9)
    grads, w0 = _gradients(scale), np.zeros(4)
    got = _run(optimizers.make_optimizer(cfg), grads, w0)
    want = tf1_adam(grads, w0, 1e-4, 0.5, 0.9, cfg.epsilon)
    assert _relative_update_error(got, want, w0) < 1e-3


@pytest.mark.parametrize("scale", [1e-4, 1e-2, 1e-1])
def test_adam_agrees_with_pytorch_above_1e4(scale):
    grads, w0 = _gradients(scale), np.zeros(4)
    got = _run(optimizers.make_optimizer(_cfg(name="adam", beta_1=0.5, beta_2=0.9)), grads, w0)
    assert _relative_update_error(got, torch_adam(grads, w0, 1e-4, 0.5, 0.9, 1e-8), w0) < 1e-3


def test_adam_differs_from_pytorch_for_tiny_gradients():
    grads, w0 = _gradients(1e-8), np.zeros(4)
    got = _run(optimizers.make_optimizer(_cfg(name="adam", beta_1=0.5, beta_2=0.9)), grads, w0)
    assert _relative_update_error(got, torch_adam(grads, w0, 1e-4, 0.5, 0.9, 1e-8), w0) > 1e-2


def test_linear_decay_horizon_is_the_run_length():
    cfg = _cfg(name="adam", learning_rate=1e-4, decay="linear")
    assert float(optimizers.scheduled_learning_rate(cfg, tf.constant(0), 200)) == pytest.approx(1e-4)
    assert float(optimizers.scheduled_learning_rate(cfg, tf.constant(100), 200)) == pytest.approx(5e-5)
    assert float(optimizers.scheduled_learning_rate(cfg, tf.constant(300), 200)) == 0.0
    explicit = _cfg(name="adam", learning_rate=1e-4, decay="linear", decay_steps=400)
    assert float(optimizers.scheduled_learning_rate(explicit, tf.constant(100), 200)) == pytest.approx(7.5e-5)


def test_beta_2_follows_a_cosine_from_beta_2_to_beta_2_end_over_the_decay_horizon():
    cfg = _cfg(name="adam", beta_2=0.9, beta_2_end=0.99)
    values = [float(optimizers.scheduled_beta_2(cfg, tf.constant(step), 200)) for step in (0, 100, 200, 300)]
    assert values == pytest.approx([0.9, 0.945, 0.99, 0.99], abs=1e-6)
    assert float(optimizers.scheduled_beta_2(_cfg(name="adam", beta_2=0.9, beta_2_end=0.99, decay_steps=400),
                                             tf.constant(200), 200)) == pytest.approx(0.945, abs=1e-6)
    assert float(optimizers.scheduled_beta_2(_cfg(name="adam", beta_2=0.9), tf.constant(100), 200)) == \
        pytest.approx(0.9)


@pytest.mark.parametrize("scale", [1e-4, 1e-2])
def test_a_scheduled_beta_2_updates_as_written_out_with_the_beta_2_of_each_step(scale):
    cfg = _cfg(name="adam", learning_rate=1e-3, beta_1=0.5, beta_2=0.9, beta_2_end=0.99)
    grads, w0 = _gradients(scale), np.zeros(4)
    betas_2 = [0.9, 0.93, 0.96, 0.98, 0.99]
    opt = optimizers.make_optimizer(cfg)
    var = tf.Variable(w0.astype(np.float32))
    opt.build([var])
    got = []
    for g, b2 in zip(grads, betas_2):
        opt.beta_2_now.assign(b2)
        opt.apply_gradients([(tf.constant(g, tf.float32), var)])
        got.append(var.numpy().astype(np.float64))
    want = tf1_adam(grads, w0, 1e-3, 0.5, betas_2, cfg.epsilon)
    assert _relative_update_error(np.array(got), want, w0) < 1e-3
    # The constant-beta_2 reference differs once beta_2 has moved: the test sees the schedule.
    assert _relative_update_error(np.array(got), tf1_adam(grads, w0, 1e-3, 0.5, 0.9, cfg.epsilon), w0) > 1e-2


def test_only_a_scheduled_adam_has_a_beta_2_variable_and_only_adam_takes_beta_2_end():
    assert optimizers.make_optimizer(_cfg(name="adam")).beta_2_now is None  # Keras' checkpoint layout
    with pytest.raises(config.ConfigError, match="key 'c_optimizer.beta_2_end' is set, but 'c_optimizer.name' is "
                                                 "'rmsprop': only Adam has a beta_2"):
        config.from_dict({"c_optimizer": {"name": "rmsprop", "beta_2_end": 0.99}})
