"""The patch SWD (wgan.metrics.swd): its pyramid, its distance on known answers, and that it orders
distorted images the way their distortion says."""

import numpy as np
import pytest

from wgan.metrics import swd


def _bars(count, side=28, channels=1, seed=0):
    """uint8 [count, side, side, channels]: a bright bar of random position and width on a dark noisy ground."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, (count, side, side, channels)).astype(np.uint8)
    for image in images:
        width = int(rng.integers(3, 8))
        column = int(rng.integers(0, side - width))
        image[:, column:column + width, :] = rng.integers(180, 255)
    return images


def test_the_pyramid_has_a_level_per_halving_down_to_below_twice_the_minimum_side():
    for side, shapes in ((28, [28, 14]), (16, [16, 8]), (64, [64, 32, 16, 8]), (12, [12])):
        levels = swd.pyramid(np.zeros((2, side, side, 3), np.float32))
        assert [level.shape[1] for level in levels] == shapes and all(level.shape[3] == 3 for level in levels)


def test_a_constant_image_has_no_detail_and_keeps_its_value_in_the_last_level():
    levels = swd.pyramid(np.full((1, 28, 28, 1), 0.25, np.float32))
    assert np.allclose(levels[0], 0.0, atol=1e-6)  # the Laplacian level of a flat image: nothing
    assert np.allclose(levels[-1], 0.25, atol=1e-6)


def test_sliced_wasserstein_of_shifted_one_dimensional_sets_is_the_shift():
    a = np.random.default_rng(0).standard_normal((500, 1)).astype(np.float32)
    rng = np.random.default_rng(1)
    assert swd.sliced_wasserstein(a, a, rng) == 0.0
    assert swd.sliced_wasserstein(a, a + 3.0, rng) == pytest.approx(3.0, rel=1e-5)  # every direction is +-1


def test_patches_are_normalised_per_channel_and_sized_by_the_patch():
    level = np.random.default_rng(2).normal(5.0, 3.0, (10, 16, 16, 3)).astype(np.float32)
    rows = swd.patches(level, np.random.default_rng(0), per_image=4)
    assert rows.shape == (40, swd.PATCH * swd.PATCH * 3)
    by_channel = rows.reshape(40, 3, -1)
    assert np.allclose(by_channel.mean(axis=(0, 2)), 0.0, atol=1e-4)
    assert np.allclose(by_channel.std(axis=(0, 2)), 1.0, atol=1e-3)


def test_more_distortion_scores_worse_and_the_data_itself_best():
    real = _bars(600, seed=0)
    reference = swd.PatchReference(real[:400])
    rng = np.random.default_rng(3)

    def noisy(images, sigma):
        return np.clip(images + rng.normal(0, sigma, images.shape), 0, 255).astype(np.uint8)

    same, _ = reference.distance(real[400:])
    light, _ = reference.distance(noisy(real[400:], 10))
    heavy, _ = reference.distance(noisy(real[400:], 40))
    blurred, _ = reference.distance(np.clip(swd._blur(real[400:].astype(np.float32)), 0, 255).astype(np.uint8))
    one_bar, _ = reference.distance(np.repeat(real[400:401], 200, axis=0))  # a collapse onto one image
    assert same < light < heavy, (same, light, heavy)
    assert same < blurred and same < one_bar, (same, blurred, one_bar)
    assert reference.distance(real[400:]) == (same, reference.distance(real[400:])[1])  # the same draws each time


def test_colour_images_are_compared_too_and_a_wrong_shape_is_refused():
    reference = swd.PatchReference(_bars(100, side=16, channels=3))
    value, per_level = reference.distance(_bars(100, side=16, channels=3, seed=1))
    assert value > 0 and len(per_level) == 2
    with pytest.raises(ValueError, match=r"generated images of shape \(16, 16, 1\), the reference's are \(16, 16, 3\)"):
        reference.distance(_bars(10, side=16, channels=1))
    with pytest.raises(ValueError, match="smaller than a 7x7 patch"):
        swd.PatchReference(np.zeros((4, 5, 5, 1), np.uint8))
