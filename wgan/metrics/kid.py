"""Kernel Inception Distance: an unbiased MMD^2 with a cubic polynomial kernel.

Paper: Binkowski et al. 2018, "Demystifying MMD GANs", https://arxiv.org/abs/1801.01401

    k(x, y) = (x . y / d + 1)^3

Unlike FID, the estimator is unbiased, so small sample sets do not inflate it (it can be
slightly negative when the two sets come from one distribution), and it assumes no
Gaussian form. It is averaged over random subsets, as in the paper, which also gives a
standard deviation.
"""

import numpy as np

from wgan.metrics.registry import Score

DEFAULT_SUBSETS = 100
DEFAULT_SUBSET_SIZE = 1000


def polynomial_kernel(x, y):
    """(x y^T / d + 1)^3 for x [N, D], y [M, D] -> [N, M] (float64)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y):
    """Unbiased MMD^2 between samples x [m, D] and y [n, D] (m, n >= 2) with the cubic kernel."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"MMD needs at least 2 samples per set, got {m} and {n}")
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    # The diagonals k(x_i, x_i) are left out: that is what makes the estimate unbiased.
    within_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * kxy.mean())


def kernel_distance(features1, features2, subsets=DEFAULT_SUBSETS, subset_size=DEFAULT_SUBSET_SIZE, seed=0):
    """KID between feature sets [N1, D] and [N2, D]: (mean, standard deviation) over subsets.

    Each of ``subsets`` draws ``min(subset_size, N1, N2)`` rows of each set without
    replacement; ``seed`` fixes the draws.
    """
    features1, features2 = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    if features1.ndim != 2 or features2.ndim != 2 or features1.shape[1] != features2.shape[1]:
        raise ValueError(f"need feature sets [N, D] of one D, got {features1.shape} and {features2.shape}")
    size = min(subset_size, len(features1), len(features2))
    rng = np.random.default_rng(seed)
    values = [mmd2_unbiased(features1[rng.choice(len(features1), size, replace=False)],
                            features2[rng.choice(len(features2), size, replace=False)]) for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))


def kid_score(data):
    """The evaluator's ``kid`` (``registry.FeatureData`` -> ``registry.Score``): the generated feature rows
    against the reference's kept real rows, with its spread over subsets."""
    value, spread = kernel_distance(data.rows, data.reference.features, seed=data.seed)
    return Score(value, spread, n_real=data.reference.count)
