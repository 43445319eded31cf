"""Toy 2-D distributions of the WGAN-GP paper, sampled as in its code.

Reference: gulrajani/improved_wgan_training, ``gan_toy.py`` (``inf_train_gen``):

* ``8gaussians``: centres 2 * (the 8 unit directions at multiples of 45 degrees);
  point = N(0, 0.02^2) noise + a uniformly chosen centre; then divided by 1.414.
* ``25gaussians``: centres 2 * (x, y) for x, y in -2..2; noise std 0.05; divided
  by 2.828. The reference draws 100,000 points per centre once, shuffles them and
  cycles through that fixed set; here every point draws a uniform centre on the
  fly, which is the same distribution without the 2.5-million-point buffer.
* ``swissroll``: scikit-learn ``make_swiss_roll(n, noise=0.25)``, columns 0 and 2,
  divided by 7.5.

Sampling uses a numpy ``Generator`` inside ``tf.data.Dataset.from_generator``:
the formulas (and scikit-learn's swiss roll) stay literally those of the
reference, and a seed fixes the whole stream whatever TensorFlow's global seed.
A [batch, 2] draw costs microseconds, but each crossing from TensorFlow's thread
into Python costs far more on a busy 2-core machine, so the generator hands over
``_CHUNK`` batches at a time, drawn one by one as before (the stream is the
same). ``python benchmarks/bench_toy_input.py`` times it on the 25gaussians file
(docs/results.md, round five).
"""

import numpy as np

from wgan.data.sources import TOY_SETS
from wgan.errors import DataError

_SQRT_HALF = 1.0 / np.sqrt(2.0)
_EIGHT_DIRECTIONS = np.array([
    (1, 0), (-1, 0), (0, 1), (0, -1),
    (_SQRT_HALF, _SQRT_HALF), (_SQRT_HALF, -_SQRT_HALF),
    (-_SQRT_HALF, _SQRT_HALF), (-_SQRT_HALF, -_SQRT_HALF),
])
_GRID = np.array([(x, y) for x in range(-2, 3) for y in range(-2, 3)], dtype=np.float64)

# name -> (centres before division, noise std, divisor); the divisors are the
# reference's approximate standard deviations, kept to its written precision.
_MIXTURES = {
    "8gaussians": (2.0 * _EIGHT_DIRECTIONS, 0.02, 1.414),
    "25gaussians": (2.0 * _GRID, 0.05, 2.828),
}
_SWISSROLL_NOISE = 0.25
_SWISSROLL_DIVISOR = 7.5
# Batches per crossing into Python (toy_dataset); 40 is 8 iterations of 5 critic steps.
_CHUNK = 40


def _check(name: str) -> None:
    if name not in TOY_SETS:
        raise DataError(f"unknown toy set {name!r}; choose one of {', '.join(TOY_SETS)}")


def toy_modes(name: str) -> np.ndarray | None:
    """The mode centres of a toy set as float64 [K, 2] (after the division), None for swissroll.

    K is 8 for 8gaussians (radius 2 / 1.414) and 25 for 25gaussians.
    """
    _check(name)
    if name not in _MIXTURES:
        return None
    centres, _, divisor = _MIXTURES[name]
    return centres / divisor


def toy_sample(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of a toy set as float32 [n, 2], drawn with ``rng``.

    Values lie within about +-1.5 (8gaussians), +-1.5 (25gaussians) and +-2
    (swissroll).
    """
    _check(name)
    if name in _MIXTURES:
        centres, std, divisor = _MIXTURES[name]
        points = rng.standard_normal((n, 2)) * std + centres[rng.integers(0, len(centres), size=n)]
        return (points / divisor).astype(np.float32)
    from sklearn.datasets import make_swiss_roll

    # scikit-learn wants a RandomState; derive one from rng so the stream stays seeded.
    state = np.random.RandomState(rng.integers(0, 2**32, dtype=np.uint64))
    roll, _ = make_swiss_roll(n_samples=n, noise=_SWISSROLL_NOISE, random_state=state)
    return (roll[:, [0, 2]] / _SWISSROLL_DIVISOR).astype(np.float32)


def toy_dataset(name: str, batch_size: int, seed: int | None = None, skip_batches: int = 0, chunk: int = _CHUNK):
    """An infinite ``tf.data.Dataset`` of float32 [batch_size, 2] batches of toy set ``name``.

    The same ``seed`` gives the same batches (every new iterator restarts the
    stream); ``seed=None`` draws fresh entropy. ``skip_batches`` starts the stream
    after that many batches (a resumed run continues it exactly). ``chunk``: batches
    per crossing into Python; it changes the speed only, never the stream
    (benchmarks/bench_toy_input.py times it).
    """
    _check(name)
    if batch_size < 1:
        raise DataError(f"batch_size must be positive, got {batch_size}")
    if chunk < 1:
        raise DataError(f"chunk must be positive, got {chunk}")

    def chunks():
        rng = np.random.default_rng(seed)
        for _ in range(skip_batches):
            toy_sample(name, batch_size, rng)
        while True:
            yield np.stack([toy_sample(name, batch_size, rng) for _ in range(chunk)])

    import tensorflow as tf  # here, not above: the toy metrics need only the sampler (no TensorFlow for --help)

    return tf.data.Dataset.from_generator(
        chunks, output_signature=tf.TensorSpec([chunk, batch_size, 2], tf.float32)
    ).unbatch().prefetch(tf.data.AUTOTUNE)
