"""Differentiable augmentation (wgan/gan/augment.py): every op's shape, range, identity at p = 0,
gradient and determinism; the adaptive controller; training with each policy in one trace; exact
resume; the schema's refusals; and that augmentation does not leak into the generated images."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from conftest import logged_metrics, tiny_hparams

from wgan import config, runs
from wgan.errors import ConfigError
from wgan.gan import augment
from wgan.gan.model import GAN
from wgan.train import health, launch, loop

SIDE = 8


def images(channels=3, n=6, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).uniform(-1, 1, (n, SIDE, SIDE, channels)).astype(dtype)


def drawn(op, x, p=1.0, seed=(1, 2)):
    return augment.draw((op,), tf.constant(seed, tf.int64), x.shape[0], x.shape[1:], p)


@pytest.mark.parametrize("name", augment.NAMES)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_op_keeps_shape_and_dtype_and_its_range(name, channels):
    op = augment.get(name)
    x = images(channels, n=32)
    out = augment.apply((op,), tf.constant(x), drawn(op, x)).numpy()
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.isfinite(out).all()
    bound = 1.0 if op.geometric else 9.0  # colour: |x| <= 1.5 after brightness, 4.5 after saturation, 9 after contrast
    assert np.abs(out).max() <= bound + 1e-6
    if name != "flip" and name != "rotate90":  # those two draw the identity for some examples by design
        assert not np.array_equal(out, x) or (name == "saturation" and channels == 1)


@pytest.mark.parametrize("name", augment.NAMES)
def test_p_zero_is_the_identity_bit_for_bit(name):
    op = augment.get(name)
    x = images(3, n=16)
    out = augment.apply((op,), tf.constant(x), drawn(op, x, p=0.0)).numpy()
    assert np.array_equal(out, x)


def test_a_policy_applies_each_op_to_a_share_p_of_the_examples():
    op = augment.get("translation")
    x = images(1, n=400)
    draws = drawn(op, x, p=0.3)
    share = float(np.mean(draws["translation"]["apply"].numpy()))
    assert 0.22 < share < 0.38
    out = augment.apply((op,), tf.constant(x), draws).numpy()
    untouched = ~draws["translation"]["apply"].numpy()
    assert np.array_equal(out[untouched], x[untouched])


@pytest.mark.parametrize("name", augment.NAMES)
def test_gradients_match_finite_differences(name):
    op = augment.get(name)
    x = images(3, n=2, seed=1, dtype=np.float64)
    draws = drawn(op, x, seed=(5, 6))
    weights = tf.constant(np.random.default_rng(2).normal(size=x.shape))

    def f(value):
        return tf.reduce_sum(weights * augment.apply((op,), value, draws))

    value = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(value)
        y = f(value)
    grad = tape.gradient(y, value).numpy()
    assert np.abs(grad).sum() > 0
    rng = np.random.default_rng(3)
    for _ in range(12):
        index = tuple(rng.integers(0, s) for s in x.shape)
        step = np.zeros_like(x)
        step[index] = 1e-4
        numeric = (float(f(tf.constant(x + step))) - float(f(tf.constant(x - step)))) / 2e-4
        assert numeric == pytest.approx(grad[index], abs=1e-6)


@pytest.mark.parametrize("name", augment.NAMES)
def test_draws_are_determined_by_the_seed(name):
    op = augment.get(name)
    x = tf.constant(images(3, n=16))
    first = augment.apply((op,), x, drawn(op, x, seed=(3, 4))).numpy()
    assert np.array_equal(first, augment.apply((op,), x, drawn(op, x, seed=(3, 4))).numpy())
    if name != "saturation":  # every other op changes most of 16 examples
        assert not np.array_equal(first, augment.apply((op,), x, drawn(op, x, seed=(9, 9))).numpy())


def test_the_geometric_ops_move_pixels_where_they_say():
    x = images(1, n=1)
    one = {"apply": tf.constant([True])}
    rotate = augment.get("rotate90").transform
    for turns in range(4):
        out = rotate(tf.constant(x), {"turns": tf.constant([turns])}).numpy()
        assert np.array_equal(out[0, :, :, 0], np.rot90(x[0, :, :, 0], turns))
    mirrored = augment.apply((augment.get("flip"),), tf.constant(x), {"flip": {**one, "mirror": tf.constant([1])}})
    assert np.array_equal(mirrored.numpy()[0], x[0, :, ::-1])
    shift = {"shift": tf.constant([[2, -1]])}
    zero = augment.get("translation").transform(tf.constant(x), shift).numpy()[0, :, :, 0]
    assert np.array_equal(zero[2:, :-1], x[0, :-2, 1:, 0]) and not zero[:2].any() and not zero[:, -1].any()
    reflect = augment.get("translation_reflect").transform(tf.constant(x), shift).numpy()[0, :, :, 0]
    assert np.array_equal(reflect[2:, :-1], x[0, :-2, 1:, 0]) and np.array_equal(reflect[0], reflect[4])
    same = augment.get("scale").transform(tf.constant(x), {"scale": tf.constant([1.0])}).numpy()
    np.testing.assert_allclose(same, x, atol=1e-6)
    cut = augment.get("cutout").transform(tf.constant(x), {"centre": tf.constant([[4, 4]])}).numpy()[0, :, :, 0]
    assert not cut[2:6, 2:6].any() and np.array_equal(cut[:2], x[0, :2, :, 0])


# ----- the schema -------------------------------------------------------------------------------
def test_the_schema_validates_the_policy_in_one_line():
    hp = tiny_hparams("wgan-gp", "digits", augment={"policy": "color, translation,cutout", "adaptive": True})
    assert [op.name for op in augment.ops_of(hp)] == ["color", "translation", "cutout"]
    assert augment.initial_p(hp.augment) == 0.0 and augment.target(hp.augment) == 0.6
    assert augment.initial_p(tiny_hparams("wgan-gp", "digits", augment={"policy": "color"}).augment) == 1.0
    with pytest.raises(ConfigError, match=r"augment.policy': the op is 'colour'; valid values: translation,"):
        tiny_hparams("wgan-gp", "digits", augment={"policy": "colour"})
    assert augment.parse_policy("color+cutout") == (augment.get("color"), augment.get("cutout"))
    with pytest.raises(ConfigError, match=r"'cutout' appears twice"):
        tiny_hparams("wgan-gp", "digits", augment={"policy": "cutout,cutout"})
    with pytest.raises(ConfigError, match=r"toy 2-D data \(8gaussians\) has no images to augment"):
        tiny_hparams("wgan-gp", "8gaussians", augment={"policy": "color"})
    with pytest.raises(ConfigError, match=r"needs eval_every > 0"):
        tiny_hparams("wgan-gp", "digits", augment={"policy": "color", "adaptive": True, "signal": "heldout_gap"})
    with pytest.raises(ConfigError, match=r"valid values: rt, heldout_gap"):
        tiny_hparams("wgan-gp", "digits", augment={"signal": "gap"})
    # An old file without the section loads with augmentation off.
    assert config.from_dict({k: v for k, v in hp.to_dict().items() if k != "augment"}).augment.policy == "none"


# ----- the adaptive controller --------------------------------------------------------------------
def test_the_rule_moves_p_toward_the_target_within_its_bounds():
    assert float(augment.next_p(0.5, 0.9, 0.6, 1000, 10000, 1.0)) == pytest.approx(0.6)
    assert float(augment.next_p(0.5, 0.1, 0.6, 1000, 10000, 1.0)) == pytest.approx(0.4)
    assert float(augment.next_p(0.05, 0.1, 0.6, 1000, 10000, 1.0)) == 0.0
    assert float(augment.next_p(0.75, 0.9, 0.6, 1000, 10000, 0.8)) == pytest.approx(0.8)


def noise_iterator(channels=1, n=64, seed=0, batch=8):
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 16, 16, channels)).astype(np.float32)
    return iter(tf.data.Dataset.from_tensor_slices(x).repeat().batch(batch))


def adaptive_hp(target, **values):
    return tiny_hparams("wgan-gp", "digits", n_critic=2, augment={
        "policy": "translation,cutout", "adaptive": True, "target": target, "interval": 2, "speed_images": 320,
        "p": 0.5, "p_max": 0.9, **values})


@pytest.mark.parametrize("target, expected", [(-2.0, [0.5, 0.6, 0.6, 0.7, 0.7, 0.8, 0.8, 0.9, 0.9]),
                                              (2.0, [0.5, 0.4, 0.4, 0.3, 0.3, 0.2, 0.2, 0.1, 0.1])])
def test_the_controller_moves_p_every_interval_and_its_state_survives_a_checkpoint(tmp_path, target, expected):
    hp = adaptive_hp(target)
    gan = GAN(hp)
    iterator = noise_iterator()
    # r_t is in [-1, 1]: a target of -2 is always below it (p rises), 2 always above (p falls), by
    # 2 iterations x 2 critic steps x 8 images / 320 = 0.1 every second iteration, within [0, 0.9].
    seen = []
    for _ in range(9):
        metrics = gan.train_iteration(iterator, hp.n_critic)
        seen.append(float(metrics["augment/p"]))
    assert seen == pytest.approx(expected)
    assert -1.0 <= float(metrics["augment/signal"]) <= 1.0 and gan.trace_count == 1
    path = gan.checkpoint().save(str(tmp_path / "ckpt"))
    restored = GAN(hp)
    restored.checkpoint().restore(path).assert_existing_objects_matched()
    for name, variable in gan.augmenter.trackables().items():
        assert float(restored.augmenter.trackables()[name]) == float(variable), name
    assert float(restored.augmenter.rt_steps) == 2.0  # mid-interval: one iteration's two critic steps kept


def test_the_heldout_gap_moves_p_at_evaluations():
    hp = tiny_hparams("wgan-gp", "digits", eval_every=5, augment={
        "policy": "color", "adaptive": True, "signal": "heldout_gap", "speed_images": 1000})
    augmenter = augment.Augmenter(hp)
    assert augmenter.after_evaluation({"gap_ratio": 0.6}, 200) is None
    assert float(augmenter.p) == pytest.approx(0.2) and float(augmenter.signal) == pytest.approx(0.6)
    augmenter.after_evaluation({"gap_ratio": 0.1}, 300)  # below the target 0.25: down by 100 / 1000
    assert float(augmenter.p) == pytest.approx(0.1)
    assert "no held-out split" in augmenter.after_evaluation({}, 400) and float(augmenter.p) == pytest.approx(0.1)


def test_critic_overfit_names_augmentation_first_only_when_it_is_off():
    detector = health.CriticOverfit(tiny_hparams("wgan-gp", "digits").health)
    off = detector.advice_for(tiny_hparams("wgan-gp", "digits"))
    assert off.startswith("try adaptive augmentation first") and "fewer critic steps" in off
    assert "augmentation" not in detector.advice_for(tiny_hparams("wgan-gp", "digits", augment={"policy": "color"}))
    fixed_at_zero = tiny_hparams("wgan-gp", "digits", augment={"policy": "color", "p": 0.0})
    assert detector.advice_for(fixed_at_zero).startswith("try adaptive augmentation first")


# ----- training ----------------------------------------------------------------------------------
POLICIES = {"diffaugment": {"policy": "color,translation,cutout"},
            "ada-geometric": {"policy": "translation_reflect,flip,rotate90,scale", "p": 0.5},
            "adaptive-colour": {"policy": "brightness,saturation,contrast", "adaptive": True, "interval": 2}}


@pytest.mark.parametrize("name", POLICIES)
def test_thirty_iterations_with_each_policy_in_one_trace(name):
    hp = tiny_hparams("wgan-gp", "digits", augment=POLICIES[name], data={"channels": 3})
    gan = GAN(hp)
    iterator = noise_iterator(channels=3)
    for _ in range(30):
        metrics = {k: float(v) for k, v in gan.train_iteration(iterator, hp.n_critic).items()}
    assert all(np.isfinite(v) for v in metrics.values()), metrics
    assert metrics["gradient_penalty"] > 0 and "augment/p" in metrics and "augment/rt" in metrics
    assert gan.trace_count == 1


def test_every_constraint_and_rpgan_take_augmented_inputs_in_one_trace():
    """Issue 39's penalties and relativistic loss see the augmented images, as the gradient penalty does."""
    for model, constraint in (("rpgan", "r1_r2"), ("hinge", "spectral_norm")):
        hp = tiny_hparams(model, "digits", constraint=constraint, augment={"policy": "translation,cutout", "p": 1.0})
        loop.seed_everything(0)
        gan = GAN(hp)
        iterator = noise_iterator()
        metrics = [{k: float(v) for k, v in gan.train_iteration(iterator, hp.n_critic).items()} for _ in range(2)]
        assert all(np.isfinite(v) for row in metrics for v in row.values()), (model, metrics)
        assert gan.trace_count == 1
        plain = tiny_hparams(model, "digits", constraint=constraint)
        loop.seed_everything(0)
        unaugmented = GAN(plain)
        first = {k: float(v) for k, v in unaugmented.train_iteration(noise_iterator(), plain.n_critic).items()}
        assert first["critic_loss"] != metrics[0]["critic_loss"]  # the augmentation reached the critic


def iterations(hp, count):
    loop.seed_everything(hp.seed)  # the same initial weights for every run
    gan = GAN(hp)
    iterator = noise_iterator()
    return gan, [{k: float(v) for k, v in gan.train_iteration(iterator, hp.n_critic).items()} for _ in range(count)]


def test_p_zero_trains_exactly_as_no_augmentation_and_p_one_reaches_the_generator():
    _, plain = iterations(tiny_hparams("wgan-gp", "digits", n_critic=2), 3)
    _, zero = iterations(tiny_hparams("wgan-gp", "digits", n_critic=2,
                                      augment={"policy": "color,translation,cutout", "p": 0.0}), 3)
    assert [{k: v for k, v in row.items() if not k.startswith("augment/")} for row in zero] == plain
    _, one = iterations(tiny_hparams("wgan-gp", "digits", n_critic=2,
                                     augment={"policy": "color,translation,cutout", "p": 1.0}), 3)
    assert one[0]["critic_loss"] != plain[0]["critic_loss"]
    assert one[0]["g_grad_norm"] > 0 and one[0]["g_grad_norm"] != plain[0]["g_grad_norm"]


def test_the_xla_compiled_update_augments_as_the_plain_one():
    # The ops XLA could treat differently: batched gathers, per-example matrices, the skipping tf.cond.
    values = {"augment": {"policy": "translation_reflect,cutout,rotate90,scale", "p": 0.5}}
    _, compiled = iterations(tiny_hparams("wgan-gp", "digits", jit_compile=True, **values), 1)
    _, plain = iterations(tiny_hparams("wgan-gp", "digits", **values), 1)
    for one, two in zip(compiled, plain):
        for key in ("critic_loss", "generator_loss", "gradient_penalty", "augment/rt"):
            assert one[key] == pytest.approx(two[key], rel=1e-5, abs=1e-7), key


@pytest.fixture(scope="module")
def digits_root(tmp_path_factory):
    """Records of the first 40 of scikit-learn's digits at 16x16 (as tests/test_resume_image.py)."""
    from sklearn.datasets import load_digits

    from wgan import data

    digits = load_digits()
    pictures = np.round(digits.images[:40] * (255.0 / 16.0)).astype(np.uint8)
    root = tmp_path_factory.mktemp("digits")
    data.build_records("digits", resize=16, crop=None, output_dir=str(root), workers=1, progress=False,
                       arrays=(pictures, digits.target[:40]))
    return str(root)


def test_a_resumed_adaptive_run_logs_what_the_uninterrupted_run_logged(tmp_path, digits_root):
    # Adaptive p from r_t, adjusted every 2 iterations: the stop at 3 falls inside an interval.
    # A target below any r_t makes p rise, so that every op is drawn.
    hp = tiny_hparams("wgan-gp", "digits", n_critic=2, seed=5, augment={
        "policy": "color,translation,cutout,rotate90", "adaptive": True, "target": -2.0, "interval": 2,
        "speed_images": 200})

    def train(folder, step):
        return launch.train_run(str(tmp_path / folder), hp, launch.until_step(step), records_root=digits_root,
                                progress=False, deterministic=True)

    whole = train("whole", 6)
    train("parts", 3)
    second = train("parts", 6)
    assert second.resumed
    expected = logged_metrics(whole.vdir)
    assert len({row["augment/p"] for row in expected}) > 1  # p moved
    assert logged_metrics(second.vdir) == expected


def test_augmentation_does_not_leak_the_orientation_into_the_samples():
    """Data with a known orientation (bright on the right, dark on the left) and adaptive p with
    flip and rotate90: the critic still sees the data's own orientation more often than any
    other, so the samples keep it."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(-1, 1, 16)[None, None, :, None] * np.ones((48, 16, 1, 1))
    x = np.clip(ramp + rng.normal(0, 0.2, ramp.shape), -1, 1).astype(np.float32)
    iterator = iter(tf.data.Dataset.from_tensor_slices(x).repeat().shuffle(48, seed=0).batch(16))
    hp = tiny_hparams("wgan-gp", "digits", batch_size=16, n_critic=2, architecture={"base_width": 8},
                      g_optimizer={"learning_rate": 1e-3}, c_optimizer={"learning_rate": 1e-3},
                      augment={"policy": "flip,rotate90", "adaptive": True, "target": 0.0, "interval": 1,
                               "speed_images": 2000, "p_max": 0.8})
    gan = GAN(hp)
    for _ in range(120):
        metrics = gan.train_iteration(iterator, hp.n_critic)
    assert float(metrics["augment/p"]) > 0.5  # the augmentation was strong, not idle
    samples = gan.sample(gan.latent(tf.random.Generator.from_seed(1), 64)).numpy()[..., 0]
    right_minus_left = samples[:, :, 8:].mean(axis=(1, 2)) - samples[:, :, :8].mean(axis=(1, 2))
    bottom_minus_top = samples[:, 8:].mean(axis=(1, 2)) - samples[:, :8].mean(axis=(1, 2))
    assert np.mean(right_minus_left > 0.2) > 0.9, right_minus_left
    assert np.mean(np.abs(bottom_minus_top) < np.abs(right_minus_left)) > 0.9


def test_the_training_loop_feeds_the_heldout_gap_to_adaptive_p(tmp_path):
    """A folder run with a held-out split: at every evaluation the probe's gap moves p (a target
    below any gap makes it rise), and augment/p and augment/signal reach metrics.jsonl."""
    from PIL import Image

    from wgan import data

    folder = tmp_path / "pictures"
    folder.mkdir()
    for i, picture in enumerate(np.random.default_rng(0).integers(0, 256, (32, 16, 16), dtype=np.uint8)):
        Image.fromarray(picture).save(folder / f"{i:02d}.png")
    records_root = str(tmp_path / "records")
    data.build_records(str(folder), resize=16, crop=None, output_dir=records_root, workers=1, progress=False,
                       heldout_per_mille=500)
    hp = config.from_dict({
        "model": "wgan-gp", "data": {"name": str(folder), "crop": None, "resize": 16, "channels": 1,
                                     "shuffle_buffer": 64},
        "architecture": {"name": "dcgan", "base_width": 4}, "batch_size": 8, "z_dim": 8, "n_critic": 1,
        "log_every": 1, "eval_every": 2, "health": {"samples": 8}, "sample_every": 100, "histogram_every": 100,
        "augment": {"policy": "translation,cutout", "adaptive": True, "signal": "heldout_gap", "target": -100.0,
                    "speed_images": 160}})
    _, vdir, hp, lock, _ = runs.open_run(str(tmp_path / "checkpoint"), hp)
    lock.release()
    loop.train(hp, vdir, 4, records_root=records_root, progress=False)
    logged = {row["step"]: row["augment/p"] for row in runs.read_jsonl(f"{vdir}/{runs.METRICS_FILE}")
              if "augment/p" in row}
    # Evaluations at 2 and 4, after the step's scalars were logged: 2 x 8 critic images / 160 each time.
    assert logged == pytest.approx({1: 0.0, 2: 0.0, 3: 0.1, 4: 0.1})
    assert any("health/gap_ratio" in row for row in runs.read_jsonl(f"{vdir}/{runs.METRICS_FILE}"))


MIRRORED_SCRIPT = r'''
import json
from wgan.gan import distribute
distribute.split_cpu(2)
import keras, numpy as np, tensorflow as tf
from wgan import config
from wgan.data import inputs
from wgan.gan.model import GAN
hp = config.from_dict({
    "model": "wgan-gp", "batch_size": 8, "z_dim": 8, "n_critic": 2, "seed": 1,
    "data": {"name": "mnist", "crop": None, "resize": 16, "channels": 1},
    "architecture": {"name": "dcgan", "base_width": 4, "g_norm": "none"},  # per-replica batch norm would differ
    "augment": {"policy": "color,translation,cutout,rotate90", "p": 0.5}})
images = np.random.default_rng(0).uniform(-1, 1, (32, 16, 16, 1)).astype(np.float32)
source = inputs.TrainingData(tf.data.Dataset.from_tensor_slices(images).batch(8).repeat(), 32)
out = {}
for name in ("default", "mirrored"):
    strategy = distribute.make_strategy(name)
    keras.utils.set_random_seed(0)
    gan = GAN(hp, strategy)
    iterator = iter(inputs.distribute(strategy, source))
    out[name] = [{k: float(v) for k, v in gan.train_iteration(iterator, 2).items()} for _ in range(3)]
    out[name + "_traces"] = gan.trace_count
print("RESULT " + json.dumps(out))
'''


def test_two_replicas_augment_as_one_device_does():
    """The draws are made for the global batch and each replica keeps its rows, so 2 mirrored
    CPU replicas see the augmentation one device sees (losses equal up to summation order)."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], check=False, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, PYTHONPATH=repo, TF_CPP_MIN_LOG_LEVEL="2"))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, proc.stderr[-2000:]
    result = json.loads(lines[0][len("RESULT "):])
    assert result["default_traces"] == result["mirrored_traces"] == 1
    for one, two in zip(result["default"], result["mirrored"]):
        # Not augment/rt: each replica takes the sign about its own batch's midpoint (augment.Augmenter.rt).
        for key in ("critic_loss", "generator_loss", "wasserstein", "gradient_penalty", "d_real", "d_fake"):
            assert two[key] == pytest.approx(one[key], rel=1e-4, abs=1e-6), key
