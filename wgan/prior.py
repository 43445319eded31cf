"""The latent prior, drawn in NumPy for sampling, evaluation and health probes.

Training draws the same prior in TensorFlow (``GAN.latent``, ``GAN.stateless_latent``):
N(0, 1), or U[-1, 1] with ``z_distribution: uniform``. This module imports nothing of
the toolkit, so every layer that samples (generate, evaluation, health) can use it.
"""

import numpy as np


def latent(hp, n, seed):
    """Latent vectors float32 [n, z_dim] from the run's prior, fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    if hp.z_distribution == "uniform":
        return rng.uniform(-1.0, 1.0, (n, hp.z_dim)).astype(np.float32)
    return rng.standard_normal((n, hp.z_dim)).astype(np.float32)
