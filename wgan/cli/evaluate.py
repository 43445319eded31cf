"""``python bin/evaluate.py -m wgan-gp --data digits -v 1.3``: quality metrics of one checkpoint, stored in the run.

The metrics fit the data (toy: modes, hq, w1; digits/mnist/fashion_mnist: cfid, classes, confident; any
images with --metrics: fid, kid); see wgan/evaluation.py and docs/quality.md. Results are
printed and appended to the run's evaluations.jsonl under the checkpoint's step, so
``bin/generate_img.py --list`` shows them next to that snapshot.
"""

import json

from absl import flags

from wgan import evaluation, generate, runs
from wgan.cli import common
from wgan.cli.flags import define_run_flags, define_version_flag, existing_run_root, requested_checkpoint
from wgan.errors import RunError

define_run_flags()
define_version_flag("RUN[.SNAPSHOT]: 2 is the newest checkpoint of run v2, 2.1 its snapshot 1.", as_string=True)
flags.DEFINE_integer("num", None, "Generated samples (default: 2000 toy points, 1000 images).", lower_bound=2)
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors (and of the real toy sample).")
flags.DEFINE_string("metrics", None, "Comma-separated metrics (default: all cheap ones for the data): "
                    "modes, hq, w1, cfid, classes, confident, fid, kid.")
flags.DEFINE_enum("extractor", "inception", ["inception", "random"], "Features for fid/kid: InceptionV3 "
                  "(ImageNet weights, downloaded once by Keras, or --inception_weights) or a small random "
                  "network (offline smoke checks only; not comparable with published FIDs).")
flags.DEFINE_string("inception_weights", None, "Local InceptionV3 no-top weights file instead of the download.")
flags.DEFINE_integer("reference_num", evaluation.REFERENCE_IMAGES, "Real images behind the fid/kid reference "
                     "statistics (cached beside the records).", lower_bound=2)
flags.DEFINE_enum("generator", "sampling", ["sampling", "raw", "ema", "both"],
                  "Which generator of the checkpoint: sampling (the moving average when the run keeps one), raw, ema, "
                  "or both raw and ema. The raw generator's metrics of a run with a moving average are stored as "
                  "raw_<metric>.")
flags.DEFINE_enum("reference_split", "train", ["train", "test"], "Records behind the fid/kid reference: the "
                  "training split or the test split (mnist, fashion_mnist, cifar10), as in Lucic et al. 2018.")
flags.DEFINE_bool("store", True, "Store the results in the run (evaluations.jsonl).")
flags.DEFINE_bool("json", False, "Print one JSON object instead of lines.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    root = existing_run_root()
    restored = requested_checkpoint(root)
    hp = restored.hp
    names = evaluation.parse_metrics(FLAGS.metrics, hp) if FLAGS.metrics else None
    evaluator = evaluation.make_evaluator(hp, FLAGS.records_dir, names, FLAGS.num, FLAGS.seed, FLAGS.extractor,
                                          FLAGS.inception_weights, FLAGS.reference_num, FLAGS.reference_split)
    if evaluator is None:
        raise RunError(f"no default metric for {hp.data.name}: ask for --metrics fid,kid (InceptionV3 features)")
    real = evaluator.judge.info.get("real_test") if evaluator.judge is not None else None
    which = ["raw", "ema"] if FLAGS.generator == "both" else [FLAGS.generator]
    for generator in which:
        result = evaluator(generate.load_generator(restored, generator))
        # A run's series is its sampling generator's; the raw one of a run with an average gets names of its own.
        prefix = "raw_" if generator == "raw" and hp.ema_decay > 0 else ""
        scalars = {prefix + k: v for k, v in result.scalars.items()}
        if FLAGS.store:
            runs.record_evaluation(restored.vdir, restored.step, scalars, restored.path)
        if FLAGS.json:
            print(json.dumps({"checkpoint": restored.label, "step": restored.step, "generator": generator, **scalars,
                              **result.extras, **({"real_test": real} if real else {})}))
            continue
        print(f"{hp.run_name} {restored.label} (step {restored.step}), {generator} generator, "
              f"{evaluator.num} samples:")
        for name, value in scalars.items():
            print(f"  {name:<10} {value:.6g}")
        for name, value in result.extras.items():
            print(f"  {name:<10} {value}")
    if real and not FLAGS.json:
        shown = ", ".join(f"{k} {real[k]:.4g}" for k in ("cfid", "classes", "confident"))
        print(f"the real test split ({real['images']} images) scores {shown} with this classifier "
              f"(accuracy {evaluator.judge.info['accuracy']:.1%} on {evaluator.judge.info['evaluated_on']})")
    if FLAGS.store and not FLAGS.json:
        print(f"stored in {restored.vdir}/{runs.EVALUATIONS_FILE} under step {restored.step} "
              "(shown by generate_img.py --list)")


def run_cli():
    common.run(main)
