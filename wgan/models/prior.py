"""The latent prior, drawn in NumPy for sampling, evaluation and health probes.

Training draws the same prior in TensorFlow (``GAN.latent``, ``GAN.stateless_latent``):
N(0, 1), U[-1, 1] with ``z_distribution: uniform``, or with ``z_distribution: mixture`` a
mixture of ``z_components`` Gaussians of standard deviation ``z_component_std`` around
fixed centres (``mixture_centres``). This module imports nothing of the toolkit, so every
layer that samples (generate, evaluation, health) can use it.

Why a mixture: a generator is continuous, so from a connected prior such as N(0, I) it
cannot reach separate classes (digits, garments) without also making the images between
them, blends the classifier cannot name. Latent components that lie apart let it map each
one to one class without a path in between (Ben-Yosef & Weinshall 2018, "Gaussian Mixture
Generative Adversarial Networks for Diverse Datasets", https://arxiv.org/abs/1808.10356,
their static GM-GAN; Khayatkhoei et al. 2018, "Disconnected Manifold Learning for
Generative Adversarial Networks", https://arxiv.org/abs/1806.00880).
"""

import numpy as np

DISTRIBUTIONS = ("normal", "uniform", "mixture")
# The centres depend on (z_dim, z_components) alone, not on the run's seed, so the prior is a
# property of the hyperparameters: hyperparameters.json alone rebuilds it.
MIXTURE_SEED = 1808_10356


def mixture_centres(z_dim, components):
    """The mixture's centres float32 [components, z_dim]: N(0, I) draws from a fixed seed.

    In z_dim dimensions two such centres lie about sqrt(2 z_dim) apart (8 at z_dim 32),
    so components of standard deviation s (radius about s sqrt(z_dim)) stay apart for s
    well below 1.
    """
    return np.random.default_rng(MIXTURE_SEED).standard_normal((components, z_dim)).astype(np.float32)


def latent(hp, n, seed):
    """Latent vectors float32 [n, z_dim] from the run's prior, fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    if hp.z_distribution == "uniform":
        return rng.uniform(-1.0, 1.0, (n, hp.z_dim)).astype(np.float32)
    if hp.z_distribution == "mixture":
        component = rng.integers(0, hp.z_components, n)
        noise = rng.standard_normal((n, hp.z_dim))
        centres = mixture_centres(hp.z_dim, hp.z_components)
        return (centres[component] + hp.z_component_std * noise).astype(np.float32)
    return rng.standard_normal((n, hp.z_dim)).astype(np.float32)


def labels(hp, n, seed):
    """Class labels int32 [n] in [0, num_classes), drawn at the training set's class frequencies
    (``hp.conditional.class_frequencies``; uniform when they are missing), fixed by ``seed``."""
    classes = hp.conditional.num_classes
    if classes < 1:
        raise ValueError("labels() needs hp.conditional.class_names")
    freq = hp.conditional.class_frequencies
    p = None if not freq else np.asarray(freq, np.float64) / np.sum(freq)
    return np.random.default_rng([seed, 1]).choice(classes, size=n, p=p).astype(np.int32)
