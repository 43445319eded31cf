"""Metric math on known distributions: FID (closed form, singular cases), KID, toy modes and W1, extractors."""

import os

import numpy as np
import pytest
import scipy.linalg

from conftest import build_mnist_records
from wgan import data
from wgan.errors import ConfigError
from wgan.metrics import extractors, frechet, kid, reference, toy


def random_covariance(rng, dim, rank=None):
    a = rng.standard_normal((dim, rank or dim))
    return a @ a.T / (rank or dim) + (0 if rank else 0.1 * np.eye(dim))


# ----- FID ---------------------------------------------------------------------------------
def test_fid_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).standard_normal((500, 32)) * 3 + 1
    assert frechet.fid_from_features(features, features) == pytest.approx(0.0, abs=1e-8)


def test_fid_matches_the_closed_form_for_diagonal_gaussians():
    # Commuting covariances: d^2 = |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2.
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0])
    expected = 1.0 + 9.0 + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 0.5) ** 2
    assert frechet.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_fid_matches_the_sqrtm_formula_for_general_covariances():
    rng = np.random.default_rng(1)
    s1, s2 = random_covariance(rng, 20), random_covariance(rng, 20)
    mu1, mu2 = rng.standard_normal(20), rng.standard_normal(20)
    root = scipy.linalg.sqrtm(s1 @ s2)  # the textbook route, well conditioned here
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * np.real(root))
    assert frechet.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    assert frechet.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-9)  # symmetric


def test_fid_of_samples_approaches_the_closed_form():
    rng = np.random.default_rng(2)
    s1, s2 = random_covariance(rng, 4), random_covariance(rng, 4)
    mu1, mu2 = np.zeros(4), np.full(4, 0.5)
    x = rng.multivariate_normal(mu1, s1, 40000)
    y = rng.multivariate_normal(mu2, s2, 40000)
    expected = frechet.frechet_distance(mu1, s1, mu2, s2)
    assert expected > 1.0
    assert frechet.fid_from_features(x, y) == pytest.approx(expected, rel=0.03)


def test_fid_is_finite_and_real_with_singular_covariances():
    # Fewer samples than dimensions: both covariances have rank 9 of 64.
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((10, 64)), rng.standard_normal((10, 64)) + 0.1
    value = frechet.fid_from_features(x, y)
    assert np.isfinite(value) and value > 0 and isinstance(value, float)
    assert frechet.fid_from_features(x, x) == pytest.approx(0.0, abs=1e-8)
    # Rank-deficient and mutually orthogonal supports: the cross term is exactly 0.
    s1, s2 = np.diag([1.0, 0.0]), np.diag([0.0, 4.0])
    assert frechet.frechet_distance(np.zeros(2), s1, np.zeros(2), s2) == pytest.approx(5.0)


def test_fid_rejects_non_covariances_and_mismatched_shapes():
    with pytest.raises(ValueError, match="not positive semi-definite"):
        frechet.frechet_distance(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="shapes do not match"):
        frechet.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="N >= 2"):
        frechet.gaussian_stats(np.zeros((1, 4)))


# ----- KID ---------------------------------------------------------------------------------
def test_polynomial_kernel_by_hand():
    x, y = np.array([[1.0, 2.0]]), np.array([[3.0, -1.0]])
    assert kid.polynomial_kernel(x, y)[0, 0] == pytest.approx(((1 * 3 - 2 * 1) / 2 + 1) ** 3)  # (x.y / d + 1)^3


def test_mmd_estimate_is_unbiased_for_one_distribution():
    rng = np.random.default_rng(4)
    # Small sets, many repeats: the mean of the unbiased estimator is 0 (a biased one is clearly positive).
    values = [kid.mmd2_unbiased(rng.standard_normal((10, 3)), rng.standard_normal((10, 3))) for _ in range(2000)]
    spread = np.std(values) / np.sqrt(len(values))
    assert abs(np.mean(values)) < 4 * spread


def test_kid_separates_distributions_and_reports_a_spread():
    rng = np.random.default_rng(5)
    x, same, shifted = (rng.standard_normal((600, 8)), rng.standard_normal((600, 8)),
                        rng.standard_normal((600, 8)) + 0.5)
    near, near_std = kid.kernel_distance(x, same, subsets=20, subset_size=200)
    far, far_std = kid.kernel_distance(x, shifted, subsets=20, subset_size=200)
    assert abs(near) < 3 * near_std + 1e-3
    assert far > 5 * max(abs(near), far_std)
    assert kid.kernel_distance(x, shifted, subsets=20, subset_size=200) == (far, far_std)  # seeded


# ----- toy sets ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, k", [("8gaussians", 8), ("25gaussians", 25)])
def test_real_toy_data_covers_every_mode_with_989_percent_high_quality(name, k):
    points = data.toy_sample(name, 20000, np.random.default_rng(6))
    result = toy.mode_metrics(points, name)
    assert result["modes"] == result["num_modes"] == k
    assert result["hq"] == pytest.approx(1 - np.exp(-4.5), abs=0.005)  # mass of a 2-D Gaussian within 3 std
    assert result["min_share"] == pytest.approx(0.25 / k)


def test_collapsed_and_scattered_generators():
    modes = data.toy_modes("8gaussians")
    rng = np.random.default_rng(7)
    collapsed = modes[rng.integers(0, 3, 2000)] + rng.standard_normal((2000, 2)) * toy.MODE_STD["8gaussians"]
    result = toy.mode_metrics(collapsed, "8gaussians")
    assert result["modes"] == 3 and result["hq"] > 0.97
    scattered = rng.uniform(-1.5, 1.5, (2000, 2))
    result = toy.mode_metrics(scattered, "8gaussians")
    assert result["hq"] < 0.02 and result["modes"] == 0


def test_a_mode_counts_only_above_its_share():
    modes = data.toy_modes("8gaussians")
    # 1000 points: 7 modes get 140 each, the last gets 20 (2%, below the 3.125% threshold).
    points = np.concatenate([np.repeat(modes[:7], 140, axis=0), np.repeat(modes[7:], 20, axis=0)])
    assert toy.mode_metrics(points, "8gaussians")["modes"] == 7
    assert toy.mode_metrics(points, "8gaussians", min_share=0.01)["modes"] == 8
    assert toy.mode_metrics(points, "8gaussians")["mode_counts"] == [140] * 7 + [20]


def test_swissroll_has_no_modes():
    assert data.toy_modes("swissroll") is None and not toy.has_modes("swissroll")
    with pytest.raises(ValueError, match="no modes"):
        toy.mode_metrics(np.zeros((4, 2)), "swissroll")


def test_exact_w1_of_a_translation_is_its_length():
    x = np.random.default_rng(8).standard_normal((300, 2))
    shift = np.array([0.3, -0.4])
    assert toy.wasserstein1_exact(x, x + shift) == pytest.approx(0.5, rel=1e-9)
    assert toy.wasserstein1_exact(x, x) == 0.0


def test_exact_w1_in_one_dimension_is_the_sorted_difference():
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((200, 1)), rng.exponential(size=(200, 1))
    assert toy.wasserstein1_exact(x, y) == pytest.approx(np.abs(np.sort(x[:, 0]) - np.sort(y[:, 0])).mean())


def test_sliced_w1_of_a_translation():
    # A 2-D translation by c projects to |c . theta|, whose mean over directions is |c| 2 / pi.
    x = np.random.default_rng(10).standard_normal((500, 2))
    value = toy.sliced_wasserstein1(x, x + np.array([1.0, 0.0]), projections=2000)
    assert value == pytest.approx(2 / np.pi, rel=0.04)
    assert toy.sliced_wasserstein1(x, x[:250]) < 0.1  # unequal sizes work


def test_w1_picks_exact_or_sliced_by_size():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((50, 2))
    assert toy.wasserstein1(x, x + 1)[0] == "w1"
    assert toy.wasserstein1(x, x[:40])[0] == "sliced_w1"
    assert toy.wasserstein1(x, x + 1, exact_max=10)[0] == "sliced_w1"


# ----- extractors and reference statistics ---------------------------------------------------
def test_random_features_are_seeded_and_tile_grey_to_rgb():
    rng = np.random.default_rng(12)
    grey = (rng.random((6, 16, 16, 1)) * 255).astype(np.uint8)
    a, b = extractors.RandomFeatures(seed=1), extractors.RandomFeatures(seed=1)
    assert a.name == b.name and a(grey).shape == (6, 64)
    np.testing.assert_allclose(a(grey), b(grey), rtol=1e-6)
    np.testing.assert_allclose(a(grey), a(np.repeat(grey, 3, axis=-1)), rtol=1e-6)
    assert not np.allclose(a(grey), extractors.RandomFeatures(seed=2)(grey))
    with pytest.raises(TypeError, match="uint8"):
        a(grey.astype(np.float32))


def test_inception_input_is_299_rgb_scaled_to_unit_range(monkeypatch):
    """The real network is swapped for a probe: nothing is downloaded."""
    import keras

    seen = {}

    def fake_inception(include_top, pooling, weights, input_shape):
        assert (include_top, pooling, input_shape) == (False, "avg", (299, 299, 3))
        seen["weights"] = weights
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Concatenate()([keras.ops.min(inputs, axis=(1, 2)),
                                                                keras.ops.max(inputs, axis=(1, 2))]))

    monkeypatch.setattr(keras.applications, "InceptionV3", fake_inception)
    images = np.zeros((3, 16, 16, 1), np.uint8)
    images[:, :8] = 255
    extractor = extractors.InceptionFeatures()
    features = extractor(images)
    assert seen["weights"] == "imagenet" and extractor.name == "keras_inception" and not extractor.comparable
    np.testing.assert_allclose(features, [[-1, -1, -1, 1, 1, 1]] * 3, atol=1e-6)


def test_inception_local_weights_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        extractors.InceptionFeatures(str(tmp_path / "missing.h5"))
    with pytest.raises(ConfigError, match="unknown feature extractor"):
        extractors.make_extractor("vgg")


@pytest.fixture(scope="module")
def mnist_records(tmp_path_factory):
    """mnist-r16 records of 300 generated images with labels (nothing is downloaded)."""
    return build_mnist_records(tmp_path_factory.mktemp("records"), count=300, shards=2)


def test_read_images_returns_every_image_in_build_order(mnist_records):
    images, labels = reference.read_images(mnist_records, with_labels=True)
    assert images.shape == (300, 16, 16, 1) and images.dtype == np.uint8
    assert labels.tolist() == [i % 10 for i in range(300)]
    np.testing.assert_array_equal(reference.read_images(mnist_records, limit=7), images[:7])


def test_reference_stats_are_cached_beside_the_records(mnist_records, monkeypatch):
    extractor = extractors.RandomFeatures()
    calls = []
    original = extractors.RandomFeatures.__call__
    monkeypatch.setattr(extractors.RandomFeatures, "__call__", lambda self, x: calls.append(len(x)) or original(self, x))
    first = reference.reference_stats(mnist_records, extractor)
    path = os.path.join(mnist_records, f"fid_stats_{extractor.name}_n300.npz")
    assert os.path.isfile(path) and calls == [300]
    again = reference.reference_stats(mnist_records, extractor)
    assert calls == [300]  # served from the cache
    np.testing.assert_array_equal(first.mu, again.mu)
    assert first.count == 300 and first.features.shape == (300, 64) and first.sigma.shape == (64, 64)
    assert reference.reference_stats(mnist_records, extractor, limit=100).count == 100
    assert calls == [300, 100]  # another count: recomputed
    assert not [f for f in os.listdir(mnist_records) if ".tmp" in f]
