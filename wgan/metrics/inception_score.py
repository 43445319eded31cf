"""Inception Score (Salimans et al. 2016, https://arxiv.org/abs/1606.03498), as improved-gan computes it.

    IS = exp( E_x KL( p(y|x) || p(y) ) )

over the softmax p(y|x) [N, K] of the 2015 Inception graph (``wgan.metrics.inception2015``).
Following improved-gan's ``get_inception_score``: the N rows are cut into ``SPLITS`` = 10
contiguous parts, part i being rows [i N // 10, (i + 1) N // 10); in each part p(y) is the
mean of its rows and the score is exp of the mean KL; the result is the mean and the
(population, numpy's default) standard deviation of the 10 part scores. This is the metric
of the WGAN-GP paper's CIFAR-10 table (50,000 samples).

The KL of a part is computed from two running sums, E[sum_y p log p] - sum_y p(y) log p(y),
which equals the reference's mean of sum_y p (log p - log p(y)) exactly in real arithmetic,
so 50,000 rows never have to be held at once. One difference is deliberate: 0 log 0 counts
as 0, where the reference's ``np.log(0)`` makes the score NaN (a float32 softmax can
underflow to 0 for a confident class).
"""

import numpy as np

from wgan.metrics.registry import Score

SPLITS = 10


def _xlogx(p):
    p = np.asarray(p, np.float64)
    return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)


class ScoreAccumulator:
    """Feeds softmax rows in order (any batch sizes) for ``total`` rows; ``result()`` gives (mean, std)."""

    def __init__(self, total, splits=SPLITS):
        if total < splits:
            raise ValueError(f"the Inception Score needs at least {splits} images ({splits} splits), got {total}")
        self.total, self.splits, self.seen = total, splits, 0
        self.bounds = [i * total // splits for i in range(splits + 1)]
        self.sum_p = [None] * splits
        self.sum_plogp = np.zeros(splits)

    def add(self, probabilities):
        """Rows [B, K] (each summing to 1) following those added before."""
        probabilities = np.asarray(probabilities, np.float64)
        if self.seen + len(probabilities) > self.total:
            raise ValueError(f"more than the announced {self.total} rows")
        start = self.seen
        for i in range(self.splits):
            low, high = max(self.bounds[i], start), min(self.bounds[i + 1], start + len(probabilities))
            if low >= high:
                continue
            part = probabilities[low - start:high - start]
            self.sum_p[i] = part.sum(axis=0) + (0 if self.sum_p[i] is None else self.sum_p[i])
            self.sum_plogp[i] += _xlogx(part).sum()
        self.seen += len(probabilities)

    def result(self):
        if self.seen != self.total:
            raise ValueError(f"{self.seen} of the announced {self.total} rows were added")
        sizes = np.diff(self.bounds)
        scores = [np.exp(self.sum_plogp[i] / sizes[i] - _xlogx(self.sum_p[i] / sizes[i]).sum())
                  for i in range(self.splits)]
        return float(np.mean(scores)), float(np.std(scores))


def inception_score(probabilities, splits=SPLITS):
    """(mean, std) over ``splits`` parts of softmax rows [N, K] (N >= splits)."""
    accumulator = ScoreAccumulator(len(probabilities), splits)
    accumulator.add(probabilities)
    return accumulator.result()


def is_score(data):
    """The evaluator's ``is`` (``registry.FeatureData`` -> ``registry.Score``): from the accumulated class
    probabilities; no real side."""
    value, spread = data.scores.result()
    return Score(value, spread)
