"""Wasserstein GAN toolkit for TensorFlow 2: DCGAN, WGAN (weight clipping) and WGAN-GP."""

__version__ = "0.1.0"
