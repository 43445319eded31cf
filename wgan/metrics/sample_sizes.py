"""How many samples each metric is computed on by default: part of every number's recipe.

No TensorFlow here, so that ``bin/evaluate.py --help`` can state the defaults without loading
it (nor scipy: it sits outside ``wgan.metrics``); ``wgan.metrics.evaluation`` and ``wgan.lab.study`` use them (and
every stored metric names its own sample size).
"""

# Generated points behind the toy metrics (modes, hq) during training and in bin/evaluate.py.
TOY_SAMPLES = 2000
# Generated images behind the in-training image metrics (classifier FID and its companions).
IMAGE_SAMPLES = 1000
# Real images behind the in-training reference statistics (cached beside the records).
REFERENCE_IMAGES = 10000
# bin/evaluate.py's default for fid/kid/is: the sample size of the papers' tables.
FINAL_IMAGES = 50000
