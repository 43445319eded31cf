"""Quality metrics for generated samples.

* ``frechet``: FID math (Fréchet distance of Gaussians, careful matrix square root);
* ``kid``: Kernel Inception Distance (unbiased MMD^2, cubic kernel, over subsets);
* ``inception_score``: the Inception Score (Salimans et al. 2016, improved-gan's arithmetic);
* ``extractors``: the registry of feature extractors: ``inception2015`` (the 2015 graph of
  ``inception2015``, comparable with papers), ``keras_inception``, ``random`` (tests);
* ``inception2015``: finding, loading and running the 2015 Inception graph;
* ``reference``: real images of a records folder and their cached feature statistics;
* ``classifier``: a small digit classifier for digits/mnist (classifier FID, class
  histogram, confident share);
* ``toy``: toy 2-D sets (modes covered, high-quality share, Wasserstein-1);
* ``precision_recall``: improved precision and recall (k-NN manifolds in feature space);
* ``registry``: one entry per metric (group, direction, primary rank, needs, series name),
  without TensorFlow.

``wgan.metrics.evaluation`` picks the metrics that fit a run's data (from the registry) and computes them.
"""

from wgan.metrics.frechet import fid_from_features, frechet_distance, gaussian_stats
from wgan.metrics.kid import kernel_distance, mmd2_unbiased
from wgan.metrics.toy import mode_metrics, sliced_wasserstein1, wasserstein1, wasserstein1_exact

__all__ = ["fid_from_features", "frechet_distance", "gaussian_stats", "kernel_distance", "mmd2_unbiased",
           "mode_metrics", "sliced_wasserstein1", "wasserstein1", "wasserstein1_exact"]
