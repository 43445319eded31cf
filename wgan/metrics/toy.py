"""Quality of generated toy 2-D points: modes covered, high-quality share, Wasserstein-1.

The mode metrics follow the mixture-of-Gaussians evaluation of the unrolled-GAN, VEEGAN and
PacGAN papers (e.g. Lin et al. 2018, https://arxiv.org/abs/1712.04086): a generated point is
*high quality* when it lies within 3 standard deviations of some mode centre, and a mode is
*covered* when at least ``min_share`` of all generated points are high-quality points of that
mode. The standard deviation is the noise of ``wgan.data.toy`` after the reference code's
division: 0.02 / 1.414 for 8gaussians and 0.05 / 2.828 for 25gaussians. A 2-D isotropic
Gaussian puts 1 - exp(-9/2) = 98.9% of its mass within 3 standard deviations, so real data
scores a high-quality share of about 0.989 and covers every mode.

``min_share`` defaults to a quarter of a mode's fair share, 1 / (4 K): 3.1% for 8 modes,
1% for 25. With the 2,000 points used in evaluation a perfect generator puts 250 +- 15 points
on each of 8 modes (80 +- 9 of 25), so a healthy mode is many standard deviations above the
threshold, while a mode the generator only crosses on its way elsewhere stays below it. For
25 modes this is close to PacGAN's rule of 20 points out of 2,500.

swissroll has no modes; it gets only the Wasserstein-1 estimate.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from wgan.data.toy import toy_modes

# Noise standard deviation of each mixture after the reference code's division (see wgan.data.toy).
MODE_STD = {"8gaussians": 0.02 / 1.414, "25gaussians": 0.05 / 2.828}
RADIUS_IN_STDS = 3.0
# The default share: a quarter of 1 / K (see the module docstring).
FAIR_SHARE_FRACTION = 0.25
# Samples up to this size get the exact W1. The assignment is O(N^3) and slowest for a
# collapsed generator (many tied costs): 1,000 points take up to about 1 s, 2,000 up to 10 s.
EXACT_W1_MAX = 1000
SLICED_PROJECTIONS = 256


def has_modes(name):
    """True for the mixtures (8gaussians, 25gaussians); False for swissroll."""
    return name in MODE_STD


def default_min_share(num_modes):
    """1 / (4 K): the share of points a mode needs to count as covered."""
    return FAIR_SHARE_FRACTION / num_modes


def nearest_modes(points, modes):
    """For points [N, 2] and mode centres [K, 2]: the nearest mode's index [N] and distance [N]."""
    distances = cdist(np.asarray(points, np.float64), np.asarray(modes, np.float64))
    index = distances.argmin(axis=1)
    return index, distances[np.arange(len(points)), index]


def mode_metrics(points, name, min_share=None):
    """Mode coverage of generated ``points`` [N, 2] for toy set ``name`` (8gaussians or 25gaussians).

    Returns a dict: ``modes`` (modes covered, 0..K), ``num_modes`` (K), ``hq`` (share of
    points within 3 standard deviations of a mode, 0..1), ``min_share`` (the threshold
    used) and ``mode_counts`` (list of K high-quality point counts per mode).
    """
    if not has_modes(name):
        raise ValueError(f"{name} has no modes; only the Wasserstein-1 estimate applies")
    points = np.asarray(points, np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"need points of shape [N >= 1, 2], got {points.shape}")
    modes = toy_modes(name)
    min_share = default_min_share(len(modes)) if min_share is None else min_share
    index, distance = nearest_modes(points, modes)
    close = distance <= RADIUS_IN_STDS * MODE_STD[name]
    counts = np.bincount(index[close], minlength=len(modes))
    return {"modes": _holding(counts, len(points), min_share), "num_modes": len(modes),
            "hq": float(close.mean()), "min_share": float(min_share), "mode_counts": counts.tolist()}


def modes_reached(points, name):
    """Modes of toy set ``name`` that are the nearest mode of at least 1 / (4 K) of ``points`` [N, 2].

    The counterpart of the classes a classifier assigns: every point counts, sharp or
    blurred, so a generator that puts its mass near every mode loses none (``mode_metrics``
    counts only the points within 3 standard deviations).
    """
    modes = toy_modes(name)
    index, _ = nearest_modes(np.asarray(points, np.float64), modes)
    return _holding(np.bincount(index, minlength=len(modes)), len(points), default_min_share(len(modes)))


def _holding(counts, total, min_share):
    """How many of the per-mode ``counts`` reach ``min_share`` of ``total`` points."""
    return int((counts >= min_share * total).sum())


def wasserstein1_exact(x, y):
    """Exact W1 between two equal-size samples [N, D] (Euclidean cost): the optimal matching's mean cost.

    Between empirical measures with equal weights the optimal transport plan is a
    permutation (Birkhoff), so the linear assignment solves it; O(N^3), fine up to a few
    thousand points
    (slowest when one sample is collapsed: many tied costs).
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"exact W1 needs two samples of one shape [N, D], got {x.shape} and {y.shape}")
    cost = cdist(x, y)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def sliced_wasserstein1(x, y, projections=SLICED_PROJECTIONS, seed=0):
    """Sliced W1: the mean over random unit directions of the 1-D W1 of the projected samples.

    x [N, D], y [M, D]. The 1-D W1 is the integral of |F^-1 - G^-1| over quantile levels,
    here on max(N, M) levels. It is a different (smaller) distance than W1: compare sliced
    values only with sliced values.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"need samples [N, D] and [M, D] of one D, got {x.shape} and {y.shape}")
    directions = np.random.default_rng(seed).standard_normal((x.shape[1], projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    levels = (np.arange(max(len(x), len(y))) + 0.5) / max(len(x), len(y))
    qx = np.quantile(x @ directions, levels, axis=0, method="inverted_cdf")
    qy = np.quantile(y @ directions, levels, axis=0, method="inverted_cdf")
    return float(np.abs(qx - qy).mean())


def wasserstein1(x, y, exact_max=EXACT_W1_MAX, seed=0):
    """W1 estimate between samples [N, D] and [M, D]: ``("w1", exact)`` when N == M <= ``exact_max``,
    else ``("sliced_w1", sliced)``. The name travels with the value so the two are never mixed up.
    """
    if len(x) == len(y) <= exact_max:
        return "w1", wasserstein1_exact(x, y)
    return "sliced_w1", sliced_wasserstein1(x, y, seed=seed)
