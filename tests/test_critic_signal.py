"""The critic signal: the held-out Wasserstein estimate and the pixel spread, against hand-computed values."""

import numpy as np
import pytest

from wgan.metrics import critic_signal, registry


class _SumCritic:
    """D(x) = sum of the pixels: a linear critic whose scores are known by hand."""

    def __call__(self, x, training=False):
        import tensorflow as tf

        return tf.reduce_sum(tf.reshape(x, [tf.shape(x)[0], -1]), axis=1, keepdims=True)


def test_w_heldout_is_mean_critic_score_of_held_out_minus_generated():
    rng = np.random.default_rng(0)
    heldout = rng.uniform(-1, 1, (6, 2, 2, 1)).astype(np.float32)
    fake = rng.uniform(-1, 1, (5, 2, 2, 1)).astype(np.float32)
    values = critic_signal.CriticSignal(_SumCritic(), heldout)(fake)
    expected = heldout.reshape(6, -1).sum(1).mean() - fake.reshape(5, -1).sum(1).mean()
    assert values["w_heldout"] == pytest.approx(expected, rel=1e-6)
    # The sign matters: samples the critic scores lower than real images give a positive W.
    assert critic_signal.CriticSignal(_SumCritic(), heldout)(fake - 1.0)["w_heldout"] > values["w_heldout"]


def test_spread_is_one_for_the_held_out_images_and_zero_for_a_collapse():
    rng = np.random.default_rng(1)
    heldout = rng.uniform(-1, 1, (8, 3, 3, 1)).astype(np.float32)
    signal = critic_signal.CriticSignal(_SumCritic(), heldout)
    assert signal(heldout)["spread"] == pytest.approx(1.0)
    assert signal(np.repeat(heldout[:1], 8, axis=0))["spread"] == 0.0
    assert signal(heldout * 0.5)["spread"] == pytest.approx(0.25)


def test_the_critic_signal_is_never_primary_and_series_names_count_as_their_metric():
    # Each evaluation's critic is another judge: its values must not pick a best snapshot.
    assert "w_heldout" not in registry.primary_metrics() and "spread" not in registry.primary_metrics()
    assert registry.primary_metric({"w_heldout": 1.0, "spread": 0.9}) is None
    assert registry.primary_metric({"w_heldout": 1.0, "spread": 0.9, "cfid": 3.0}) == "cfid"
    assert registry.primary_metric({"kid_inception2015_n1k_r10k": 0.1, "fid_inception2015_n1k_r10k": 20.0,
                                    "w_heldout": 1.0}) == "fid_inception2015_n1k_r10k"
    assert registry.primary_metric({"spread": 1.0}) is None
    assert not registry.higher_is_better("w_heldout") and registry.is_better("w_heldout", 0.5, 0.7)
