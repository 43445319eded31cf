"""Differentiable augmentation of every critic input: the op registry, the policy and adaptive p.

A critic trained on a few hundred images memorises them. Showing it augmented images, real
and generated alike, differentiably (so the generator is taught through the augmentation,
not to produce augmented images) is the cure of:

* DiffAugment, Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
  Training", https://arxiv.org/abs/2006.10738: ``color``, ``translation`` and ``cutout`` on
  every critic input with probability 1;
* ADA, Karras et al. 2020, "Training Generative Adversarial Networks with Limited Data",
  https://arxiv.org/abs/2006.06676: each op applied to each example with probability p,
  and p adjusted during training from an overfitting signal held near a target.

``hp.augment.policy`` names ops of the registry below, comma-separated (``"none"``: off).
Every op takes images float [b, H, W, C] (values in [-1, 1]) and per-example parameters
drawn from a stateless seed, and returns images of the same shape and dtype; each op is
applied to each example with probability p, independently per op and example, in the
policy's order. Geometric ops keep values in [-1, 1] (their fills are 0, mid-grey, as in
DiffAugment); colour ops may leave it (see each op).

Randomness: every draw is stateless, from seeds the compiled iteration takes from the
GAN's ``rng`` (``wgan.gan.model``), drawn for the whole global batch outside the XLA
cluster, so augmentation keeps determinism and exact resume and is the same under any
number of replicas. p = 0 is the identity bit for bit: an op that no example draws is
skipped by a ``tf.cond`` (no work), and an op's output replaces only the examples that drew it.

This module imports TensorFlow only inside the functions that compute, so that
``wgan.config`` can validate a policy before TensorFlow starts.
"""

import dataclasses
import math
from collections.abc import Callable

from wgan.errors import ConfigError, registry_entry

OFF = "none"  # the policy that turns augmentation off

# DiffAugment's magnitudes: shifts up to 1/8 of the side, a cutout square of half the side.
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5
# ADA's isotropic scaling: log2(s) ~ N(0, 0.2^2), clipped here to s in [0.5, 2] so that one
# reflection of the sampling coordinate stays inside the image.
SCALE_STD = 0.2
SCALE_LIMIT = 2.0


# ----- helpers --------------------------------------------------------------------------------
def _shape(images):
    """(H, W, C) of images [b, H, W, C], as Python ints (the shapes are static in the compiled step)."""
    return tuple(int(d) for d in images.shape[1:])


def _reflect(index, size):
    """Reflect integer or real coordinates ``index`` once at the borders into [0, size - 1]
    (edge pixel not repeated: -1 -> 1, size -> size - 2), as ADA's reflect padding."""
    import tensorflow as tf

    last = tf.cast(size - 1, index.dtype)
    index = tf.abs(index)
    return last - tf.abs(last - index)


def _shift_indices(shift, size, reflect):
    """(source index int32 [b, size], valid float mask [b, size]) of a shift int32 [b]: output
    pixel i reads source pixel i - shift; outside the image it reads the reflected pixel
    (``reflect``) or nothing (mask 0, the zero fill)."""
    import tensorflow as tf

    index = tf.range(size, dtype=tf.int32)[None, :] - shift[:, None]
    if reflect:
        return _reflect(index, size), tf.ones_like(index, tf.float32)
    valid = tf.logical_and(index >= 0, index < size)
    return tf.clip_by_value(index, 0, size - 1), tf.cast(valid, tf.float32)


# ----- the ops: draw(seed, n, shape) -> params; transform(images, params) -> images -------------
def _draw_shift(seed, n, shape):
    import tensorflow as tf

    limit = int(shape[0] * TRANSLATION_RATIO + 0.5)
    return {"shift": tf.random.stateless_uniform([n, 2], seed, -limit, limit + 1, dtype=tf.int32)}


def _translate(images, params, reflect):
    """Shift each example by (dy, dx) = params["shift"] int32 [b, 2] whole pixels."""
    import tensorflow as tf

    height, width, _ = _shape(images)
    rows, row_valid = _shift_indices(params["shift"][:, 0], height, reflect)
    cols, col_valid = _shift_indices(params["shift"][:, 1], width, reflect)
    out = tf.gather(images, rows, axis=1, batch_dims=1)
    out = tf.gather(out, cols, axis=2, batch_dims=1)
    if reflect:
        return out
    mask = row_valid[:, :, None, None] * col_valid[:, None, :, None]
    return out * tf.cast(mask, images.dtype)


def _draw_cutout(seed, n, shape):
    import tensorflow as tf

    size = int(shape[0] * CUTOUT_RATIO + 0.5)
    # DiffAugment's centres: 0 .. side - 1 + (1 - size % 2), so the square may hang over any border.
    return {"centre": tf.random.stateless_uniform([n, 2], seed, 0, shape[0] + (1 - size % 2), dtype=tf.int32)}


def _cutout(images, params):
    """Zero (mid-grey) a square of ``CUTOUT_RATIO`` times the side centred at params["centre"] [b, 2]."""
    import tensorflow as tf

    height, width, _ = _shape(images)
    size = int(height * CUTOUT_RATIO + 0.5)
    low = params["centre"] - size // 2

    def inside(extent, start):
        index = tf.range(extent, dtype=tf.int32)[None, :]
        return tf.logical_and(index >= start[:, None], index < start[:, None] + size)

    cut = tf.logical_and(inside(height, low[:, 0])[:, :, None], inside(width, low[:, 1])[:, None, :])
    return images * tf.cast(tf.logical_not(cut), images.dtype)[..., None]


def _draw_uniform(low, high):
    def draw(seed, n, shape):
        import tensorflow as tf

        return {"factor": tf.random.stateless_uniform([n], seed, low, high)}

    return draw


def _per_example(params, images):
    """params["factor"] [b] as [b, 1, 1, 1] in the images' dtype."""
    import tensorflow as tf

    return tf.cast(params["factor"], images.dtype)[:, None, None, None]


def _brightness(images, params):
    """Add one value in [-0.5, 0.5) to every pixel: range [-1.5, 1.5]."""
    return images + _per_example(params, images)


def _saturation(images, params):
    """Scale each pixel's distance from its channel mean by [0, 2); grey images are left alone
    (one channel has no colour). Range: a pixel moves at most twice its channel spread."""
    import tensorflow as tf

    if _shape(images)[2] == 1:
        return images
    mean = tf.reduce_mean(images, axis=3, keepdims=True)
    return (images - mean) * _per_example(params, images) + mean


def _contrast(images, params):
    """Scale each image's distance from its mean pixel by [0.5, 1.5)."""
    import tensorflow as tf

    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return (images - mean) * _per_example(params, images) + mean


def _draw_color(seed, n, shape):
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, 3)
    return {"brightness": _draw_uniform(-0.5, 0.5)(seeds[0], n, shape),
            "saturation": _draw_uniform(0.0, 2.0)(seeds[1], n, shape),
            "contrast": _draw_uniform(0.5, 1.5)(seeds[2], n, shape)}


def _color(images, params):
    """DiffAugment's colour: brightness, saturation (not on grey images), contrast, in that order.
    From [-1, 1] the range is at most [-9, 9] (|x| <= 1.5, then 4.5, then 9); typical images stay near [-2, 2]."""
    images = _brightness(images, params["brightness"])
    images = _saturation(images, params["saturation"])
    return _contrast(images, params["contrast"])


# flip and rotate90 draw the identity among their outcomes, as ADA's xflip and rotate90 do: the
# augmented data then shows every orientation equally often only at p = 1, so below 1 the
# critic still tells the data's orientation from the others and the generator cannot drift to
# them (ADA's "non-leaking" condition).
def _draw_mirror(seed, n, shape):
    import tensorflow as tf

    return {"mirror": tf.random.stateless_uniform([n], seed, 0, 2, dtype=tf.int32)}


def _flip(images, params):
    """Mirror left to right the examples whose params["mirror"] int32 [b] is 1 (drawn with probability 1/2)."""
    import tensorflow as tf

    return tf.where(params["mirror"][:, None, None, None] == 1, tf.reverse(images, axis=[2]), images)


def _draw_quarter_turns(seed, n, shape):
    import tensorflow as tf

    return {"turns": tf.random.stateless_uniform([n], seed, 0, 4, dtype=tf.int32)}


def _rotate90(images, params):
    """Rotate square images by params["turns"] int32 [b] in {0, 1, 2, 3} quarter turns counter-clockwise."""
    import tensorflow as tf

    turns = params["turns"][:, None, None, None]
    once = tf.reverse(tf.transpose(images, [0, 2, 1, 3]), axis=[1])  # 90 degrees counter-clockwise
    twice = tf.reverse(images, axis=[1, 2])
    thrice = tf.reverse(tf.transpose(images, [0, 2, 1, 3]), axis=[2])
    return tf.where(turns == 1, once, tf.where(turns == 2, twice, tf.where(turns == 3, thrice, images)))


def _draw_scale(seed, n, shape):
    import tensorflow as tf

    log2 = tf.clip_by_value(SCALE_STD * tf.random.stateless_normal([n], seed), -math.log2(SCALE_LIMIT),
                            math.log2(SCALE_LIMIT))
    return {"scale": tf.pow(2.0, log2)}


def _scale(images, params):
    """Zoom each example by params["scale"] [b] in [0.5, 2] about the centre: bilinear
    resampling with reflect padding, as one [side, side] interpolation matrix per example
    applied to rows and columns (separable). Convex weights: the range stays in [-1, 1].
    No anti-aliasing filter (ADA uses one); cheap, and aliasing at zooms of 1/2 to 2 is mild."""
    import tensorflow as tf

    side, width, _ = _shape(images)
    if side != width:
        raise ValueError(f"scale needs square images, got {side}x{width}")
    centre = (side - 1) / 2.0
    out_index = tf.range(side, dtype=tf.float32)[None, :]
    source = _reflect((out_index - centre) / params["scale"][:, None] + centre, side)  # [b, side]
    weights = tf.nn.relu(1.0 - tf.abs(source[:, :, None] - tf.range(side, dtype=tf.float32)[None, None, :]))
    weights = tf.cast(weights, images.dtype)  # [b, out, in]: the tent (bilinear) kernel
    rows = tf.einsum("bij,bjwc->biwc", weights, images)
    return tf.einsum("bkw,biwc->bikc", weights, rows)


# ----- the registry ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Op:
    """One augmentation.

    ``name``: its name in ``augment.policy``; ``description``: one line with its source;
    ``draw(seed, n, shape)``: its random parameters for n examples of shape (H, W, C) from an
    int seed [2], a dict of tensors with a leading axis n (empty for an op without any);
    ``transform(images, params)``: the op applied to every example of images [b, H, W, C],
    differentiable in the images; ``geometric``: it moves pixels (keeps the range [-1, 1]).
    """

    name: str
    description: str
    draw: Callable
    transform: Callable
    geometric: bool = True


_ENTRIES = (
    Op("translation", "DiffAugment: shift by up to 1/8 of the side in each axis, whole pixels, zero (mid-grey) fill.",
       _draw_shift, lambda x, p: _translate(x, p, reflect=False)),
    Op("translation_reflect", "ADA's integer translation: shift by up to 1/8 of the side, whole pixels, "
       "reflect padding.", _draw_shift, lambda x, p: _translate(x, p, reflect=True)),
    Op("cutout", "DiffAugment: a square of half the side set to zero (mid-grey) at a random centre.",
       _draw_cutout, _cutout),
    Op("color", "DiffAugment: brightness, saturation (skipped on grey images), contrast.", _draw_color, _color,
       geometric=False),
    Op("brightness", "ADA/DiffAugment: add U[-0.5, 0.5) to every pixel.", _draw_uniform(-0.5, 0.5), _brightness,
       geometric=False),
    Op("saturation", "DiffAugment: scale the distance from the channel mean by U[0, 2) (identity on grey images).",
       _draw_uniform(0.0, 2.0), _saturation, geometric=False),
    Op("contrast", "DiffAugment: scale the distance from the image mean by U[0.5, 1.5).", _draw_uniform(0.5, 1.5),
       _contrast, geometric=False),
    Op("flip", "ADA's xflip: mirror left to right with probability 1/2 (leaks the orientation only at p = 1).",
       _draw_mirror, _flip),
    Op("rotate90", "ADA: rotate by 0, 90, 180 or 270 degrees, equally likely (leaks only at p = 1).",
       _draw_quarter_turns, _rotate90),
    Op("scale", "ADA: isotropic zoom, log2 s ~ N(0, 0.2^2) within [1/2, 2], bilinear, reflect padding.",
       _draw_scale, _scale),
)
OPS = {op.name: op for op in _ENTRIES}
NAMES = tuple(OPS)


def get(name, where="key 'augment.policy'"):
    """The op ``name``; a ``ConfigError`` naming ``where`` and the valid names otherwise."""
    return registry_entry(OPS, name, where)


def parse_policy(text, where="key 'augment.policy'"):
    """The ops of a policy string ``"color,translation,cutout"`` in order (``"none"``: ()); ``+``
    separates as well as a comma (``color+translation+cutout``), for command lines that split
    on commas (benchmarks/bench_variants.py, the sweep). ConfigError naming ``where`` on an
    unknown or repeated name."""
    if text.strip() == OFF:
        return ()
    names = [part.strip() for part in text.replace("+", ",").split(",")]
    if any(not name for name in names):
        raise ConfigError(f"{where} is {text!r}: an empty name; write ops separated by commas "
                          f"({', '.join(NAMES)}) or {OFF!r}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"{where} is {text!r}: {repeated[0]!r} appears twice")
    return tuple(get(name, f"{where}: the op") for name in names)


# ----- a policy applied with probability p ------------------------------------------------------
def draw(ops, seed, n, shape, p):
    """Everything the ops of a policy need for n examples of ``shape`` (H, W, C) from an int
    seed [2] at probability ``p`` (float32 scalar in [0, 1]): {op name: {"apply": bool [n],
    **params}}. Call it outside XLA (XLA's stateless generators may differ from TensorFlow's)."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, 2 * len(ops))
    out = {}
    for index, op in enumerate(ops):
        # u < p: never at p = 0, always at p = 1 (u is in [0, 1)).
        applies = tf.random.stateless_uniform([n], seeds[2 * index]) < tf.cast(p, tf.float32)
        out[op.name] = {"apply": applies, **op.draw(seeds[2 * index + 1], n, shape)}
    return out


def apply(ops, images, draws):
    """Images [b, H, W, C] with each op applied to the examples that drew it (``draw``).

    An op no example drew is skipped (``tf.cond``: no work, the images pass through bit for
    bit); otherwise ``tf.where`` keeps the other examples untouched. Differentiable in images.
    """
    import tensorflow as tf

    for op in ops:
        params = draws[op.name]
        applies = params["apply"]
        rest = {k: v for k, v in params.items() if k != "apply"}

        def augmented(images=images, op=op, applies=applies, rest=rest):
            return tf.where(applies[:, None, None, None], op.transform(images, rest), images)

        images = tf.cond(tf.reduce_any(applies), augmented, lambda images=images: images)
    return images


# ----- adaptive p: the signals and the controller ------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Signal:
    """An overfitting signal that drives adaptive p.

    ``name``: its value of ``augment.signal``; ``target``: its default target (p rises while
    the signal is above it); ``in_graph``: measured inside the compiled iteration from the
    critic's scores (else at evaluations, by the health probe); ``description``: one line.
    """

    name: str
    target: float
    in_graph: bool
    description: str


SIGNALS = {s.name: s for s in (
    Signal("rt", 0.6, True,
           "ADA's r_t = E[sign(D(real) - m)] over the critic's training batches, m the midpoint of the batch's mean "
           "real and fake scores (a WGAN critic's scores have no fixed zero); 0: reals and fakes mixed, 1: every "
           "real above every fake mean; measured every critic step, averaged over augment.interval iterations."),
    Signal("heldout_gap", 0.25, False,
           "The health probe's (W_train - W_heldout) / |W_train| (docs/health.md): how much higher the critic "
           "scores its training images than held-out ones; measured at every evaluation (needs eval_every > 0, "
           "the health detectors on and a held-out split)."),
)}
SIGNAL_NAMES = tuple(SIGNALS)


def ops_of(hp):
    """The ops of ``hp.augment.policy`` (() when off)."""
    return parse_policy(hp.augment.policy)


def active(hp):
    """Whether the run augments at all: a policy with ops, and p above 0 or adaptive (p may rise)."""
    return bool(ops_of(hp)) and (hp.augment.adaptive or initial_p(hp.augment) > 0)


def check(hp, where=""):
    """The rules of the ``augment`` section that span other fields; ConfigError naming the key."""
    ops = parse_policy(hp.augment.policy, f"{where}key 'augment.policy'")
    if not ops:
        return
    if hp.data.is_toy:
        raise ConfigError(f"{where}key 'augment.policy' is {hp.augment.policy!r}, but toy 2-D data "
                          f"({hp.data.name}) has no images to augment; use {OFF!r}")
    cfg = hp.augment
    if cfg.adaptive and not SIGNALS[cfg.signal].in_graph and not (hp.eval_every > 0 and hp.health.enabled):
        raise ConfigError(f"{where}key 'augment.signal' is {cfg.signal!r}, which is measured at evaluations: it needs "
                          f"eval_every > 0 and health.enabled (or use signal 'rt')")
    if cfg.p is not None and cfg.p > cfg.p_max:
        raise ConfigError(f"{where}key 'augment.p' is {cfg.p!r}, above augment.p_max {cfg.p_max!r}")


def initial_p(cfg):
    """p at the start of a run: ``cfg.p``, else 0 when adaptive (ADA), 1 when fixed (DiffAugment)."""
    if cfg.p is not None:
        return cfg.p
    return 0.0 if cfg.adaptive else 1.0


def target(cfg):
    """The adaptive target: ``cfg.target``, else its signal's default."""
    return SIGNALS[cfg.signal].target if cfg.target is None else cfg.target


def next_p(p, signal, target, images, speed, p_max):
    """ADA's rule: p moves by sign(signal - target) * images / speed, clipped to [0, p_max].

    ``images``: critic images since the last adjustment; ``speed``: critic images over which p
    can cross [0, 1]. Works on Python floats and float32 tensors alike."""
    import tensorflow as tf

    step = tf.sign(tf.cast(signal, tf.float32) - target) * tf.cast(images, tf.float32) / float(speed)
    return tf.clip_by_value(tf.cast(p, tf.float32) + step, 0.0, p_max)


class Augmenter:
    """A run's augmentation: its ops and the state of p (in the GAN's checkpoint).

    Built only when the policy names ops. Its variables are plain (outside any strategy),
    like the GAN's step: only cross-replica code (the iteration, the training loop) updates them.
    """

    def __init__(self, hp):
        import tensorflow as tf

        self.hp, self.cfg, self.ops = hp, hp.augment, ops_of(hp)
        self.shape = hp.data.sample_shape
        self.signal_entry = SIGNALS[self.cfg.signal]
        self.target = target(self.cfg)
        self.p = tf.Variable(initial_p(self.cfg), dtype=tf.float32, trainable=False, name="augment_p")
        self.signal = tf.Variable(0.0, dtype=tf.float32, trainable=False, name="augment_signal")
        # r_t summed over the critic steps since the last adjustment, and their count.
        self.rt_sum = tf.Variable(0.0, dtype=tf.float32, trainable=False, name="augment_rt_sum")
        self.rt_steps = tf.Variable(0.0, dtype=tf.float32, trainable=False, name="augment_rt_steps")
        # The held-out gap: critic images seen at the last adjustment.
        self.adjusted_at = tf.Variable(0, dtype=tf.int64, trainable=False, name="augment_adjusted_at")

    def trackables(self):
        """{name: variable} for the GAN's checkpoint: everything an exact resume needs."""
        return {"augment_p": self.p, "augment_signal": self.signal, "augment_rt_sum": self.rt_sum,
                "augment_rt_steps": self.rt_steps, "augment_adjusted_at": self.adjusted_at}

    @property
    def adapts_in_graph(self):
        return self.cfg.adaptive and self.signal_entry.in_graph

    @property
    def adapts_at_evaluation(self):
        return self.cfg.adaptive and not self.signal_entry.in_graph

    # ----- draws and application (see ``draw`` and ``apply``) ----------------------------------
    def draw(self, seed, n, salt):
        """Draws for n examples from the int seed [2] folded with ``salt`` (int: which critic input)."""
        import tensorflow as tf

        return draw(self.ops, tf.random.experimental.stateless_fold_in(seed, salt), n, self.shape, self.p)

    def __call__(self, images, draws):
        return apply(self.ops, images, draws)

    # ----- the adaptive controller ----------------------------------------------------------------
    @staticmethod
    def rt(real_scores, fake_scores):
        """Per-example sign(D(real) - m), float32 [b], m the midpoint of the mean real and fake score
        of this replica's rows (under a strategy each replica takes its own midpoint: a global one
        would need a cross-replica sum inside the XLA-compiled update)."""
        import tensorflow as tf

        midpoint = 0.5 * (tf.reduce_mean(real_scores) + tf.reduce_mean(fake_scores))
        return tf.sign(real_scores - midpoint)

    def after_critic_step(self, rt):
        """Accumulate one critic step's global-batch r_t (float32 scalar)."""
        self.rt_sum.assign_add(rt)
        self.rt_steps.assign_add(1.0)

    def after_iteration(self, step):
        """At the end of the iteration that makes ``step`` (int64 tensor, from 1) iterations:
        with adaptive rt, every ``interval`` iterations move p by ADA's rule from the mean
        r_t since the last adjustment. Returns the scalars to log."""
        import tensorflow as tf

        if self.adapts_in_graph:
            due = tf.equal(step % self.cfg.interval, 0)
            steps = tf.maximum(self.rt_steps, 1.0)
            signal = self.rt_sum / steps
            moved = next_p(self.p, signal, self.target, self.rt_steps * self.hp.batch_size, self.cfg.speed_images,
                           self.cfg.p_max)
            self.p.assign(tf.where(due, moved, self.p))
            self.signal.assign(tf.where(due, signal, self.signal))
            self.rt_sum.assign(tf.where(due, 0.0, self.rt_sum))
            self.rt_steps.assign(tf.where(due, 0.0, self.rt_steps))
        out = {"augment/p": tf.identity(self.p)}
        if self.cfg.adaptive:
            out["augment/signal"] = tf.identity(self.signal)
        return out

    @property
    def logged_names(self):
        """The names ``after_iteration`` returns, in its order."""
        return ("augment/p",) + (("augment/signal",) if self.cfg.adaptive else ())

    def after_evaluation(self, signals, images_seen):
        """With adaptive heldout_gap: move p by ADA's rule from the probe's ``signals`` ({name:
        float}, ``wgan.train.health.Probe.signals``) over the ``images_seen`` (int) critic images
        since the last adjustment. Returns None, or one line saying why p could not move."""
        if not self.adapts_at_evaluation:
            return None
        gap = signals.get("gap_ratio")
        if gap is None:
            return (f"augment: p stays at {float(self.p):.3g}: the heldout_gap signal needs the critic_overfit probe, "
                    "which has no held-out split here")
        images = images_seen - int(self.adjusted_at)
        self.p.assign(next_p(self.p, gap, self.target, images, self.cfg.speed_images, self.cfg.p_max))
        self.signal.assign(gap)
        self.adjusted_at.assign(images_seen)
        return None
