"""Toy 2-D sets: shape, scale, modes, seeding."""

import numpy as np
import pytest
import tensorflow as tf

from wgan.data import toy
from wgan.data.toy import toy_dataset, toy_modes, toy_sample
from wgan.errors import DataError


def _nearest_distance(points, modes):
    return np.min(np.linalg.norm(points[:, None, :] - modes[None, :, :], axis=-1), axis=1)


def test_8gaussians_modes_and_points():
    modes = toy_modes("8gaussians")
    assert modes.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 2 / 1.414)
    assert any(np.allclose(mode, [2 / 1.414, 0]) for mode in modes)
    assert any(np.allclose(mode, [-np.sqrt(2) / 1.414, np.sqrt(2) / 1.414]) for mode in modes)
    points = toy_sample("8gaussians", 4000, np.random.default_rng(0))
    assert points.shape == (4000, 2) and points.dtype == np.float32
    # Noise std 0.02 / 1.414 per axis: 6 sigma covers every point.
    assert _nearest_distance(points, modes).max() < 6 * 0.02 / 1.414 * np.sqrt(2)
    used = np.argmin(np.linalg.norm(points[:, None] - modes[None], axis=-1), axis=1)
    assert np.bincount(used, minlength=8).min() > 350  # every mode, roughly uniformly


def test_25gaussians_modes_and_points():
    modes = toy_modes("25gaussians")
    assert modes.shape == (25, 2)
    np.testing.assert_allclose(sorted(set(np.round(modes[:, 0], 6))), np.array([-4, -2, 0, 2, 4]) / 2.828,
                               atol=1e-6)
    points = toy_sample("25gaussians", 5000, np.random.default_rng(1))
    assert _nearest_distance(points, modes).max() < 6 * 0.05 / 2.828 * np.sqrt(2)
    assert np.abs(points).max() < 1.6


def test_swissroll_scale():
    assert toy_modes("swissroll") is None
    points = toy_sample("swissroll", 3000, np.random.default_rng(2))
    assert points.shape == (3000, 2)
    radius = np.linalg.norm(points, axis=1)
    # t in [1.5 pi, 4.5 pi] and radius t / 7.5, plus noise 0.25 / 7.5 per axis.
    assert radius.min() > 1.5 * np.pi / 7.5 - 0.15 and radius.max() < 4.5 * np.pi / 7.5 + 0.15


@pytest.mark.parametrize("name", ["8gaussians", "25gaussians", "swissroll"])
def test_toy_dataset_is_infinite_seeded_batches(name):
    dataset = toy_dataset(name, 64, seed=3)
    assert dataset.element_spec == tf.TensorSpec([64, 2], tf.float32)
    first = np.stack([batch.numpy() for batch in dataset.take(3)])
    again = np.stack([batch.numpy() for batch in toy_dataset(name, 64, seed=3).take(3)])
    other = np.stack([batch.numpy() for batch in toy_dataset(name, 64, seed=4).take(3)])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize("name", ["25gaussians", "swissroll"])
def test_toy_dataset_is_the_sampler_stream_across_chunks_and_resumes_exactly(name):
    # Batches cross into TensorFlow in chunks (toy._CHUNK); the stream must stay one
    # toy_sample call per batch, in order, and skip_batches must land mid-chunk exactly.
    count = toy._CHUNK + 7
    rng = np.random.default_rng(5)
    expected = np.stack([toy_sample(name, 16, rng) for _ in range(count)])
    for chunk in (1, 3, toy._CHUNK):
        got = np.stack([batch.numpy() for batch in toy_dataset(name, 16, seed=5, chunk=chunk).take(count)])
        np.testing.assert_array_equal(got, expected)
    skip = toy._CHUNK - 2
    resumed = np.stack([batch.numpy() for batch in toy_dataset(name, 16, seed=5, skip_batches=skip).take(5)])
    np.testing.assert_array_equal(resumed, expected[skip:skip + 5])


def test_unknown_toy_set():
    with pytest.raises(DataError, match="unknown toy set 'moons'"):
        toy_sample("moons", 4, np.random.default_rng(0))
