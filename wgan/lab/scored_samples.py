"""How many generated images stand behind stored classifier scores (benchmark, study and own-data JSON).

No TensorFlow or scipy here: the doc tables read it.
"""

# Until 2026-12-07 the classifier metrics (cfid, confident, classes, agreement, icfid) judged at
# most this many generated images, whatever sample count an evaluator was asked for: results of
# that time state num=10,000 but were scored on the first 1,000 (benchmarks, studies, own data).
CLASSIFIER_CAP_BEFORE = 1000


def classifier_judged(recorded, num):
    """Generated images behind stored classifier scores: ``recorded``, the count the evaluation
    reported (its ``about[...]["n_fake"]``), or for a result written before that was recorded,
    the first ``CLASSIFIER_CAP_BEFORE`` of its ``num``."""
    return int(recorded) if recorded is not None else min(int(num), CLASSIFIER_CAP_BEFORE)
