"""Improved precision and recall of a generator: k-nearest-neighbour manifolds in feature space.

Paper: Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing
Generative Models", https://arxiv.org/abs/1904.06991

Each feature set stands for a manifold: the union of balls around its rows, each ball's
radius the distance from that row to its k-th nearest neighbour in the same set (the row
itself not counted; k = ``DEFAULT_K`` = 3 as in the paper).

* precision: the share of generated rows inside the real manifold (are the samples
  realistic?);
* recall: the share of real rows inside the generated manifold (do the samples cover the
  data?).

Both lie in [0, 1] and higher is better. A collapsed generator keeps its precision and
loses recall; a blurry one that spreads over everything keeps recall and loses precision,
which FID folds into one number.

Features are those of FID (the evaluation's extractor, ``wgan.metrics.extractors``). Cost:
the distances between every pair of rows, O(N^2 D) time, computed ``BATCH`` rows at a time
so memory stays O(BATCH N). In an evaluation both sets are cut to ``SAMPLES`` = 2,000 rows,
the first generated rows and the real rows the reference cache keeps for KID
(``reference.KID_FEATURES``): equal counts, because a manifold's radii shrink as its set
grows, so unequal counts would favour one side. The paper used 50,000 against 50,000; the
values at 2,000 are comparable only with values at 2,000, which the series name says
(``precision_inception2015_n2k_r2k``).
"""

import numpy as np

from wgan.metrics.registry import Score

DEFAULT_K = 3
# Rows of each side in an evaluation (and the kept real rows of the reference cache).
SAMPLES = 2000
# Query rows whose distances to a whole set are held at once: BATCH x N float64.
BATCH = 500
# Relative slack for rounding in |a|^2 + |b|^2 - 2 a.b: a row equal to a set's row lies inside its ball.
_ROUNDING = 1e-10


def _squared_norms(x):
    return np.einsum("ij,ij->i", x, x)


def _squared_distances(queries, support, support_norms):
    """Squared distances [B, N] from queries [B, D] to support [N, D] (``support_norms``: [N])."""
    d2 = _squared_norms(queries)[:, None] + support_norms[None, :] - 2.0 * queries @ support.T
    return np.maximum(d2, 0.0)


def _as_features(x, what):
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise ValueError(f"{what}: need features [N, D], got shape {x.shape}")
    return x


def knn_radii(features, k=DEFAULT_K, batch=BATCH):
    """Distance from each row of ``features`` [N, D] to its k-th nearest other row: float64 [N].

    The row itself (distance 0) is not a neighbour; duplicates of it are. Needs N > k.
    """
    features = _as_features(features, "knn_radii")
    if k < 1 or len(features) <= k:
        raise ValueError(f"a k-NN radius with k={k} needs more than {k} rows, got {len(features)}")
    norms = _squared_norms(features)
    radii = np.empty(len(features))
    for start in range(0, len(features), batch):
        d2 = _squared_distances(features[start:start + batch], features, norms)
        # Sorted, each row's own distance (0) comes first: the k-th neighbour is at index k.
        radii[start:start + batch] = np.partition(d2, k, axis=1)[:, k]
    return np.sqrt(radii)


def manifold_share(queries, support, k=DEFAULT_K, batch=BATCH):
    """Share of rows of ``queries`` [M, D] inside the k-NN manifold of ``support`` [N, D] (N > k): in [0, 1]."""
    queries, support = _as_features(queries, "queries"), _as_features(support, "support")
    if queries.shape[1] != support.shape[1]:
        raise ValueError(f"features of different sizes: {queries.shape} and {support.shape}")
    if len(queries) == 0:
        raise ValueError("no query rows")
    radii2 = knn_radii(support, k, batch) ** 2
    norms = _squared_norms(support)
    slack = _ROUNDING * max(1.0, float(norms.max()), float(_squared_norms(queries).max()))
    inside = np.empty(len(queries), bool)
    for start in range(0, len(queries), batch):
        d2 = _squared_distances(queries[start:start + batch], support, norms)
        inside[start:start + batch] = (d2 <= radii2[None, :] + slack).any(axis=1)
    return float(inside.mean())


def precision_recall(real, fake, k=DEFAULT_K, batch=BATCH):
    """(precision, recall) of generated features ``fake`` [M, D] against real features ``real`` [N, D].

    precision: share of ``fake`` rows inside the k-NN manifold of ``real``; recall: share of
    ``real`` rows inside the k-NN manifold of ``fake``. Both sets need more than k rows.
    """
    return manifold_share(fake, real, k, batch), manifold_share(real, fake, k, batch)


def _sides(data, samples=SAMPLES):
    """The first ``n`` generated and real rows of an evaluation (``FeatureData``), n equal on both sides."""
    n = min(samples, len(data.rows), len(data.reference.features))
    return data.rows[:n], data.reference.features[:n], n


def precision_score(data):
    """The evaluator's ``precision`` (``registry.FeatureData`` -> ``registry.Score``)."""
    fake, real, n = _sides(data)
    return Score(manifold_share(fake, real), n_real=n, n_fake=n)


def recall_score(data):
    """The evaluator's ``recall`` (``registry.FeatureData`` -> ``registry.Score``)."""
    fake, real, n = _sides(data)
    return Score(manifold_share(real, fake), n_real=n, n_fake=n)
