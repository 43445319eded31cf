"""Recipes side by side: a toolkit file trained for a fixed wall clock, and any generator scored by the
toolkit's classifier. The shared half of ``benchmarks/keras_io_wgan_gp.py`` and
``benchmarks/keras_io_conditional.py``; each script adds its tutorial's recipe, rewritten.

Both sides count their first call (tracing) in the budget. Scores are those of
``wgan.metrics.evaluation`` on the training records: classifier FID, the confident share and the
class shares, and for a class-conditional generator also class agreement and intra-class
classifier FID (``wgan.metrics.class_agreement``), with the classifier's accuracy on real test
images as the agreement's ceiling.
"""

import time

from wgan import models


def add_arguments(parser, seconds, json_name):
    """The flags every comparison takes: ``--seconds`` of training per recipe (default ``seconds``),
    ``--num`` samples scored, ``--records_dir``, ``--seed`` and ``--json`` (default ``json_name``)."""
    parser.add_argument("--seconds", type=float, default=seconds, help="Training wall-clock budget per recipe.")
    parser.add_argument("--num", type=int, default=10000, help="Generated samples scored per recipe.")
    parser.add_argument("--records_dir", default="datasets/tfrecords")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=json_name,
                        help="Where to write the results (docs tables come from it: tools/readme_tables.py).")


def machine_precision(hp):
    """``hp`` with the precision a user's ``train.py`` picks on this CPU for a shipped file
    (``wgan.recipe.on_this_machine``: float32 instead of emulated bfloat16)."""
    from wgan import recipe

    return recipe.on_this_machine(hp)[0]


def train_for_seconds(hp, records_root, seconds):
    """Train ``hp`` through ``wgan.gan.model.GAN`` for ``seconds`` of wall clock.

    Returns (the sampling generator (the average when ``hp.ema_decay`` is set), generator
    iterations, real images the critic saw).
    """
    from wgan.data import inputs
    from wgan.gan.model import GAN
    from wgan.train import loop as training

    training.seed_everything(hp.seed)
    gan = GAN(hp)
    iterator = iter(inputs.training_data(hp, records_root, seed=hp.seed).dataset)
    steps, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        gan.train_iteration(iterator, hp.critic_steps(steps))
        steps += 1
    generator = gan.sampling_generator
    generator.trainable = False
    return generator, steps, int(gan.images_seen)


def classifier_scores(generator, hp, train_folder, test_folder, num, seed):
    """The classifier's scores of ``num`` samples of ``generator``, whose inputs follow ``hp``
    (``z_dim``, ``z_distribution``; with ``hp.conditional`` enabled also labels int32 [num] drawn at
    the training class frequencies). Returns (scores, the classifier's info)."""
    from wgan.metrics import evaluation

    conditional = models.takes_labels(hp)
    metrics = evaluation.CLASSIFIER_METRICS + (("agreement", "icfid") if conditional else ())
    evaluator = evaluation.Evaluator(hp, metrics, num, seed, train_folder, test_folder=test_folder)
    result = evaluator(generator)
    scores = {**result.scalars, "class_histogram": result.extras["class_histogram"],
              "judged": result.about["cfid"]["n_fake"]}
    if conditional:
        scores.update({key: result.extras[key] for key in ("agreement_per_class", "icfid_per_class",
                                                            "agreement_ceiling")})
    return scores, evaluator.judge.info


SCORE_KEYS = ("cfid", "confident", "classes", "class_histogram", "judged", "agreement", "icfid", "agreement_per_class",
              "icfid_per_class", "agreement_ceiling")


def entry(name, steps, seconds, images, train_images, scores):
    """One row of a comparison as JSON: the recipe, how far it got in ``seconds``, and its scores."""
    return {"recipe": name, "steps": steps, "seconds": seconds, "images": images, "train_images": train_images,
            "scores": {k: scores[k] for k in SCORE_KEYS if k in scores}}
