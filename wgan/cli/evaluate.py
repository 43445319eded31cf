"""``python bin/evaluate.py -m wgan-gp --data digits -v 1.3``: quality metrics of one checkpoint, stored in the run.

The metrics fit the data (toy: modes, hq, w1; digits/mnist/fashion_mnist: cfid, classes, confident; other
images, or any images with --metrics: fid, kid, is; only when asked for: precision, recall); see
wgan/metrics/registry.py, wgan/metrics/evaluation.py and docs/quality.md. FID, KID and IS default
to the papers' protocol: 50,000 generated images against every training image, through the
Inception graph of 2015-12-05. Results are printed
and appended to the run's evaluations.jsonl under the checkpoint's step, so
``bin/generate_img.py --list`` shows them next to that snapshot. ``--reference_only``
computes (or loads from the cache) the records' statistics alone and, with
``--reference_stats``, their FID to a published statistics file.
"""

import json
import os

from absl import flags

from wgan import runs
from wgan.metrics import sample_sizes
from wgan.cli import common
from wgan.cli.flags import (CHECKPOINT_VERSION_HELP, define_run_flags, define_version_flag, existing_run_root,
                            requested_checkpoint, resolve_hparams)
from wgan.errors import RunError
from wgan.metrics import extractors, registry

# evaluation, generate and reference (TensorFlow) are imported by the functions that run the command,
# so that --help stays fast.

# The feature metrics computed by default ("fid/kid/is"), as the help texts name them.
_FEATURES = registry.names(group=registry.FEATURE, by_default=True)
# Those computed from the records' reference ("fid/kid").
_REFERENCED = "/".join(n for n in _FEATURES if registry.get(n).needs & {registry.MOMENTS, registry.ROWS})

define_run_flags(model_required=False)
define_version_flag(CHECKPOINT_VERSION_HELP, as_string=True)
flags.DEFINE_integer("num", None, f"Generated samples (default: {sample_sizes.FINAL_IMAGES:,} images for "
                     f"{'/'.join(_FEATURES)}, "
                     f"{sample_sizes.TOY_SAMPLES:,} toy points, {sample_sizes.IMAGE_SAMPLES:,} images otherwise).",
                     lower_bound=2)
flags.DEFINE_integer("seed", 0, "Seed of the latent vectors (and of the real toy sample).")
# The critic group needs the training run's critic and held-out images: computed during training only.
_TRAINING_ONLY = registry.names(group=registry.CRITIC_SIGNAL)
flags.DEFINE_string("metrics", None, "Comma-separated metrics (default: all cheap ones for the data; "
                    f"{','.join(_FEATURES)} for images without a classifier): "
                    f"{', '.join(n for n in registry.names() if n not in _TRAINING_ONLY)}. "
                    f"({', '.join(_TRAINING_ONLY)}: during training, for images nothing else judges.)")
flags.DEFINE_enum("extractor", extractors.DEFAULT_EXTRACTOR, list(extractors.EXTRACTORS), "Features for "
                  f"{'/'.join(_FEATURES)}. " + "; ".join(f"{k}: {v.description}" for k, v in extractors.EXTRACTORS.items())
                  + ".")
flags.DEFINE_string("inception_graph", None, "inception2015: the classify_image_graph_def.pb (or the "
                    "inception-2015-12-05.tgz holding it), default $WGAN_INCEPTION_GRAPH; inception2015_tfgan: the "
                    "inceptionv1_for_inception_score.pb (or frozen_inception_v1_2015_12_05.tar.gz), default "
                    "$WGAN_TFGAN_INCEPTION_GRAPH; then ~/.cache/wgan ($WGAN_CACHE), then a download into that cache.")
flags.DEFINE_string("inception_weights", None, "keras_inception: a local InceptionV3 no-top weights file instead "
                    "of Keras' download.")
flags.DEFINE_integer("reference_num", None, f"Real images behind the {_REFERENCED} reference statistics "
                     "(default: all "
                     "of the records; cached beside them).", lower_bound=2)
flags.DEFINE_string("reference_stats", None, "A TTUR-format .npz (mu, sigma) to compute the FID against instead "
                    "of the records' statistics (e.g. TTUR's fid_stats_cifar10_train.npz).")
flags.DEFINE_string("export_stats", None, "Also write the statistics (mu, sigma) of the generated images, or with "
                    "--reference_only of the records, to this TTUR-format .npz.")
flags.DEFINE_enum("generator", "sampling", ["sampling", "raw", "ema", "both"],
                  "Which generator of the checkpoint: sampling (the moving average when the run keeps one), raw, ema, "
                  "or both raw and ema. The raw generator's metrics of a run with a moving average are stored as "
                  "raw_<metric>.")
flags.DEFINE_enum("reference_split", "train", ["train", "test"], f"Records behind the {_REFERENCED} "
                  "reference: the "
                  "training split or the test split (mnist, fashion_mnist, cifar10), as in Lucic et al. 2018.")
flags.DEFINE_bool("reference_only", False, "No run: compute the records' reference statistics (and their FID to "
                  "--reference_stats when given).")
flags.DEFINE_bool("store", True, "Store the results in the run (evaluations.jsonl).")
flags.DEFINE_bool("json", False, "Print one JSON object instead of lines.")
FLAGS = flags.FLAGS


def _shown(value):
    """An extra of an evaluation as printed: lists of numbers (class histograms, per-level swd) at 4 digits."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, float) for v in value):
        return "[" + ", ".join(f"{v:.4g}" for v in value) + "]"
    return value


def _comparability(label):
    return ("comparable with published numbers" if extractors.extractor_entry(label).comparable
            else "NOT comparable with published numbers")


def _extractor_options():
    return {"inception_weights": FLAGS.inception_weights, "inception_graph": FLAGS.inception_graph}


def reference_only(hp):
    from wgan.metrics import evaluation
    from wgan.metrics import reference

    built, stats, distance = evaluation.reference_statistics(hp, FLAGS.records_dir, FLAGS.extractor,
                                                             FLAGS.reference_num, FLAGS.reference_stats,
                                                             **_extractor_options())
    if FLAGS.export_stats:
        reference.save_ttur_stats(FLAGS.export_stats, stats.mu, stats.sigma, count=stats.count,
                                  extractor=built.name)
    result = {"records": hp.data.name, "extractor": built.name, "count": stats.count}
    if distance is not None:
        result["fid_to_file"] = distance
    if stats.inception_score is not None:
        result["is_real"], result["is_real_std"] = stats.inception_score
    if FLAGS.json:
        print(json.dumps(result))
        return
    print(f"{hp.data.name}: statistics of {stats.count:,} real images, extractor {built.name} "
          f"({_comparability(built.label)})")
    if stats.inception_score is not None:
        print(f"  Inception Score of these real images: {stats.inception_score[0]:.4g} ± "
              f"{stats.inception_score[1]:.2g} (10 splits)")
    if distance is not None:
        print(f"  FID between them and {FLAGS.reference_stats}: {distance:.6g}")
    if FLAGS.export_stats:
        print(f"written to {FLAGS.export_stats}")


def main(argv):
    del argv
    from wgan import generate
    from wgan.metrics import evaluation
    from wgan.metrics import reference

    if FLAGS.reference_only:
        return reference_only(resolve_hparams())
    root = existing_run_root()
    restored = requested_checkpoint(root)
    hp = restored.hp
    names = evaluation.parse_metrics(FLAGS.metrics, hp, FLAGS.extractor, FLAGS.records_dir) if FLAGS.metrics else None
    evaluator = evaluation.make_evaluator(hp, FLAGS.records_dir, names, FLAGS.num, FLAGS.seed, FLAGS.extractor,
                                          reference_images=FLAGS.reference_num, reference_split=FLAGS.reference_split,
                                          reference_stats=FLAGS.reference_stats, final=True, **_extractor_options())
    if evaluator is None:
        raise RunError(f"no default metric for {hp.data.name}: ask for --metrics {','.join(_FEATURES)}")
    if FLAGS.export_stats and registry.MOMENTS not in evaluator.needs:
        moments = ",".join(registry.names(needs=registry.MOMENTS))
        raise RunError(f"--export_stats writes the generated images' FID statistics: add {moments} to --metrics")
    real = evaluator.judge.info.get("real_test") if evaluator.judge is not None else None
    which = ["raw", "ema"] if FLAGS.generator == "both" else [FLAGS.generator]
    for generator in which:
        result = evaluator(generate.load_generator(restored, generator))
        # A run's series is its sampling generator's; the raw one of a run with an average gets names of its own.
        prefix = "raw_" if generator == "raw" and hp.ema_decay > 0 else ""
        scalars = {prefix + k: v for k, v in result.scalars.items()}
        about = {prefix + k: v for k, v in result.about.items()}
        if FLAGS.export_stats:
            folder, base = os.path.split(FLAGS.export_stats)
            path = FLAGS.export_stats if len(which) == 1 else os.path.join(folder, f"{generator}-{base}")
            reference.save_ttur_stats(path, *evaluator.generated_stats, count=evaluator.num,
                                      extractor=evaluator.extractor.name)
        if FLAGS.store:
            runs.record_evaluation(restored.vdir, restored.step, scalars, restored.path, about)
        if FLAGS.json:
            print(json.dumps({"checkpoint": restored.label, "step": restored.step, "generator": generator, **scalars,
                              **result.extras, **({"real_test": real} if real else {}), "about": about}))
            continue
        print(f"{hp.run_name} {restored.label} (step {restored.step}), {generator} generator, "
              f"{evaluator.num:,} samples:")
        if evaluator.extractor is not None:
            print(f"  features: {evaluator.extractor.name} ({_comparability(evaluator.extractor.label)})")
        width = max([10, *(len(name) for name in scalars)])
        for name, value in scalars.items():
            print(f"  {name:<{width}} {value:.6g}")
        for name, value in result.extras.items():
            print(f"  {name:<{width}} {_shown(value)}")
        if FLAGS.export_stats:
            print(f"generated-image statistics written to {path}")
    if real and not FLAGS.json:
        shown = ", ".join(f"{k} {real[k]:.4g}" for k in registry.names(group=registry.CLASSIFIER))
        print(f"the real test split ({real['images']} images) scores {shown} with this classifier "
              f"(accuracy {evaluator.judge.info['accuracy']:.1%} on {evaluator.judge.info['evaluated_on']})")
    if FLAGS.store and not FLAGS.json:
        print(f"stored in {restored.vdir}/{runs.EVALUATIONS_FILE} under step {restored.step} "
              "(shown by generate_img.py --list)")


def run_cli():
    common.run(main)


if __name__ == "__main__":
    run_cli()
