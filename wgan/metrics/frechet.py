"""The Fréchet distance between Gaussians fitted to two feature sets: FID.

Paper: Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a
Local Nash Equilibrium", https://arxiv.org/abs/1706.08500

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2)

The usual implementation computes ``scipy.linalg.sqrtm(S1 @ S2)``. ``S1 @ S2`` is not
symmetric, so its square root can come back complex, and with singular covariances
(fewer samples than feature dimensions, the normal case for 2,048-d Inception features
and a few hundred images) it needs an ``eps * I`` fudge that changes the answer. Here the
trace uses the similar matrix ``S1^1/2 S2 S1^1/2`` instead: it is symmetric positive
semi-definite, so ``numpy.linalg.eigvalsh`` (backward stable) gives real eigenvalues that
are non-negative up to rounding, and the trace of its square root is the sum of their
square roots. No regularisation, no imaginary parts, the same value in exact arithmetic.
"""

import numpy as np

from wgan.metrics.registry import Score

# Eigenvalues below -RELATIVE_TOLERANCE * (largest one) mean the inputs were not covariances;
# anything between that and 0 is rounding and is clipped to 0.
RELATIVE_TOLERANCE = 1e-6


def gaussian_stats(features):
    """Mean [D] and unbiased covariance [D, D] (float64) of ``features`` [N, D], N >= 2."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"need features of shape [N >= 2, D], got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(features.shape[1], features.shape[1])


class MomentAccumulator:
    """``gaussian_stats`` over features fed in batches [B, D], holding O(D^2) memory instead of [N, D].

    Sums are taken around the first batch's mean, so the covariance does not lose digits to
    cancellation when the features' mean is large against their spread (float64 throughout).
    """

    def __init__(self):
        self.count, self.shift, self.sum, self.outer = 0, None, None, None

    def add(self, features):
        features = np.asarray(features, np.float64)
        if features.ndim != 2 or len(features) == 0:
            raise ValueError(f"need a batch of features [B >= 1, D], got {features.shape}")
        if self.shift is None:
            self.shift = features.mean(axis=0)
            self.sum = np.zeros_like(self.shift)
            self.outer = np.zeros((len(self.shift), len(self.shift)))
        centred = features - self.shift
        self.count += len(features)
        self.sum += centred.sum(axis=0)
        self.outer += centred.T @ centred

    def result(self):
        """(mean [D], unbiased covariance [D, D]) of everything added (at least 2 rows)."""
        if self.count < 2:
            raise ValueError(f"need at least 2 feature rows, got {self.count}")
        mean = self.sum / self.count
        covariance = (self.outer - self.count * np.outer(mean, mean)) / (self.count - 1)
        return self.shift + mean, (covariance + covariance.T) / 2


def _check_psd_eigenvalues(values, what):
    """Clip rounding-level negative eigenvalues to 0; refuse clearly negative ones."""
    scale = max(float(np.max(np.abs(values))), 1e-300)
    if values.min() < -RELATIVE_TOLERANCE * scale:
        raise ValueError(f"{what} is not positive semi-definite (eigenvalue {values.min():.3g}, "
                         f"largest {scale:.3g}); pass covariance matrices")
    return np.clip(values, 0.0, None)


def sqrt_psd(matrix):
    """Symmetric square root of a symmetric PSD matrix [D, D] by eigendecomposition."""
    matrix = np.asarray(matrix, np.float64)
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    values = _check_psd_eigenvalues(values, "a covariance")
    return (vectors * np.sqrt(values)) @ vectors.T


def trace_sqrt_product(sigma1, sigma2):
    """tr((S1 S2)^1/2) computed as tr((S1^1/2 S2 S1^1/2)^1/2), for PSD S1, S2 [D, D]."""
    root = sqrt_psd(sigma1)
    middle = root @ np.asarray(sigma2, np.float64) @ root
    values = np.linalg.eigvalsh((middle + middle.T) / 2)  # symmetrise away rounding asymmetry
    return float(np.sqrt(_check_psd_eigenvalues(values, "S1^1/2 S2 S1^1/2")).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2): a float >= 0.

    mu: [D]; sigma: [D, D] symmetric positive semi-definite. This is the FID when the
    Gaussians are fitted to Inception pool features (and "classifier FID" with the features
    of another network).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    dim = mu1.shape[0]
    if mu1.shape != (dim,) or mu2.shape != (dim,) or sigma1.shape != (dim, dim) or sigma2.shape != (dim, dim):
        raise ValueError(f"shapes do not match: mu {mu1.shape} and {mu2.shape}, sigma {sigma1.shape} and "
                         f"{sigma2.shape}")
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    # Identical inputs give a rounding-level negative number; a distance is never below 0.
    return max(float(distance), 0.0)


def fid_from_features(features1, features2):
    """FID between two feature sets [N1, D] and [N2, D]."""
    return frechet_distance(*gaussian_stats(features1), *gaussian_stats(features2))


def fid_score(data):
    """The evaluator's ``fid`` (``registry.FeatureData`` -> ``registry.Score``): the generated moments against
    an imported statistics file when there is one (``n_real`` ``"stats"``), else the reference's."""
    if data.imported is not None:
        return Score(frechet_distance(*data.moments, *data.imported), n_real="stats")
    return Score(frechet_distance(*data.moments, data.reference.mu, data.reference.sigma), n_real=data.reference.count)
