"""Own data out of the box: Fashion-MNIST written out as a user's folder of PNG files, trained as a user would.

    python benchmarks/own_data.py folders --out owndata --images 2000           # the folders, once
    python bin/build_tfrecord.py --data owndata/fashion_mnist-2000-classes      # then, as the README says
    python bin/train.py -m wgan-gp --data owndata/fashion_mnist-2000-classes --budget 30m
    python benchmarks/own_data.py score -m wgan-gp --data owndata/fashion_mnist-2000-classes -v 1 \\
        --json docs/benchmarks/own_data.json

``folders`` writes a random part of the Fashion-MNIST training split (the IDX files of
Debian's ``dataset-fashion-mnist`` package, or ``datasets/fashion_mnist/``) as 28x28 grey PNG
files, once with one subfolder per class (``<out>/fashion_mnist-<N>-classes/<class>/``) and once
flat (``<out>/fashion_mnist-<N>-flat/``): the same images, chosen by ``--seed``. ``score`` scores
a trained run's generator the way the Fashion-MNIST study rows are scored: the toolkit's
Fashion-MNIST classifier (trained on the full training split, checked on the test split) on
``--num`` samples, classifier FID against the full training split, the confident share and
every class's share, beside the real test split's own scores; ``--json`` appends the row.

``study`` does both for several seeds, one run at a time so that each budget is timed on an
idle machine, exactly as a user runs it (``train.py -m MODEL --data FOLDER --budget B --seed S``,
each seed in ``<out>/seed-<S>`` as its checkpoint folder), and appends one row per seed to
``--json``; a seed already there is not trained again, so a stopped study resumes:

    python benchmarks/own_data.py study --data owndata/fashion_mnist-2000-classes --seeds 0,1,2,3,4 \\
        --budget 30m --out study/own_data-classes --json docs/benchmarks/own_data_study.json

``--data`` may also name a source (``fashion_mnist``), and ``--budget default`` gives ``train.py``
no length flag at all: the command a user types first, ``train.py -m wgan-gp --data
fashion_mnist --seed S``, whatever length its default gives on this machine.

``judges`` asks whether a run's own judge picks the snapshots the classifier would: it scores
every snapshot of a run on a flat folder with the Fashion-MNIST classifier (classifier FID,
confident share) and with the judges the run had in training (``swd`` against the folder's
records, recomputed exactly as in training; ``w_heldout`` as logged), and writes their rank
correlations and the snapshot each would keep (docs/own-data.md, ``judges-table PATH``):

    python bin/train.py -m wgan-gp --data owndata/fashion_mnist-2000-flat --budget 15m --set snapshot_every=200
    python benchmarks/own_data.py judges --run checkpoint/wgan-gp-fashion_mnist-2000-flat-r28/v1 \
        --json docs/benchmarks/own_data_judges.json
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout


# ``study --budget default``: train.py gets no length flag (its default: the file's length, or 30 minutes).
DEFAULT_LENGTH = "default"


def _safe(name):
    """A class name as a folder name: ``T-shirt/top`` -> ``T-shirt_top``."""
    return name.replace("/", "_").replace(" ", "_")


def write_folders(out, count, seed, raw_root="datasets"):
    """Write ``count`` random training images twice (class subfolders, flat); returns both paths."""
    from PIL import Image

    from wgan.data import idx, sources

    images, labels, _ = idx.load_split("fashion_mnist", "train", raw_root)
    chosen = np.sort(np.random.default_rng(seed).choice(len(images), size=count, replace=False))
    names = sources.FASHION_MNIST_NAMES
    classes = os.path.join(out, f"fashion_mnist-{count}-classes")
    flat = os.path.join(out, f"fashion_mnist-{count}-flat")
    for index in chosen:
        image = Image.fromarray(images[index], mode="L")
        folder = os.path.join(classes, _safe(names[labels[index]]))
        os.makedirs(folder, exist_ok=True)
        image.save(os.path.join(folder, f"{index:05d}.png"))
        os.makedirs(flat, exist_ok=True)
        image.save(os.path.join(flat, f"{index:05d}.png"))
    return classes, flat


def write_emoji(out, side, count=None, font="/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"):
    """Write the colour emoji bitmaps of ``font`` (Debian's ``fonts-noto-color-emoji``; its CBDT table holds
    PNG files) as ``side`` x ``side`` RGB PNG files on white in ``<out>/emoji-<side>/``; returns the folder."""
    import io

    from fontTools.ttLib import TTFont
    from PIL import Image

    if not os.path.isfile(font):
        raise SystemExit(f"no {font}: apt-get install fonts-noto-color-emoji")
    strikes = TTFont(font)["CBDT"].strikeData
    folder = os.path.join(out, f"emoji-{side}")
    os.makedirs(folder, exist_ok=True)
    written = 0
    for name, bitmap in sorted(strikes[0].items()):
        data = getattr(bitmap, "imageData", None)
        if not data or (count is not None and written >= count):
            continue
        image = Image.open(io.BytesIO(data)).convert("RGBA")
        canvas = Image.new("RGBA", image.size, (255, 255, 255, 255))
        canvas.alpha_composite(image)
        square = max(canvas.size)
        padded = Image.new("RGB", (square, square), (255, 255, 255))
        padded.paste(canvas.convert("RGB"), ((square - canvas.width) // 2, (square - canvas.height) // 2))
        padded.resize((side, side), Image.LANCZOS).save(os.path.join(folder, f"{_safe(name)}.png"))
        written += 1
    return folder


def fashion_evaluator(hp, num, seed, records_root):
    """The evaluator of the Fashion-MNIST classifier's metrics for a run of ``hp`` (a folder of Fashion-MNIST
    images) on ``num`` samples, against Fashion-MNIST's full splits."""
    from wgan import config
    from wgan.data import inputs
    from wgan.metrics import evaluation

    reference = config.apply_overrides(hp, [("data.name", "fashion_mnist"), ("data.crop", None),
                                            ("data.resize", 28), ("data.channels", 1)])
    train_folder = inputs.records_folder(reference, records_root)
    test_folder = inputs.test_records_folder(reference, records_root)
    return evaluation.Evaluator(reference, evaluation.CLASSIFIER_METRICS, num, seed, train_folder,
                                test_folder=test_folder)


def score_run(vdir, num, seed, records_root, checkpoint=None, evaluator=None):
    """Classifier scores of the run in ``vdir`` (its sampling generator; ``checkpoint``: a ``-v`` text such
    as ``1.best``, default its newest checkpoint) against Fashion-MNIST's full splits; ``evaluator``: one
    ``fashion_evaluator`` made before for the run, to score several of its checkpoints."""
    from wgan import generate, runs

    hp = runs.load_hparams(vdir)
    restored = generate.find_checkpoint(os.path.dirname(os.path.abspath(vdir)),
                                        checkpoint or str(runs.version_number(vdir)))
    evaluator = evaluator or fashion_evaluator(hp, num, seed, records_root)
    result = evaluator(generate.load_generator(restored))
    info = evaluator.judge.info
    return hp, {**result.scalars, "class_histogram": result.extras["class_histogram"],
                "judged": result.about["cfid"]["n_fake"]}, info


def score_row(vdir, num, seed, records_root, checkpoint=None, asked=None):
    """The JSON row ``score`` prints and appends for the run in ``vdir``; ``asked``: the ``--budget``
    the study gave train.py (``default``: none)."""
    hp, scores, info = score_run(vdir, num, seed, records_root, checkpoint)
    with open(os.path.join(vdir, "metrics.jsonl"), encoding="utf-8") as f:
        last = [json.loads(line) for line in f][-1]
    return {"run": vdir, "data": hp.data.name, "model": hp.model, "seed": hp.seed, "budget": hp.budget,
            "asked": asked,
            "train_steps": hp.train_steps, "step": last["step"], "checkpoint": checkpoint,
            "precision": hp.precision, "num": num, "judged": scores["judged"],
            "scores": {k: scores[k] for k in ("cfid", "confident", "classes", "class_histogram")},
            "classifier_accuracy": info["accuracy"], "real_test": info.get("real_test")}


def judge_snapshots(vdir, num, records_root, features=()):
    """Every snapshot of the run in ``vdir``, its best checkpoint and its newest (where their steps are not
    snapshots') scored by the Fashion-MNIST classifier (``num`` samples) and by ``swd`` against the run's own
    records (as in training: ``swd.SAMPLES`` samples, the evaluator's seed 0), beside the values its training
    logged; with the rank correlations and each judge's pick. ``features``: names of
    ``wgan.metrics.folder_features.RECIPES`` (or ``random``) whose FID against the run's records, on the
    samples of a training evaluation, is a candidate judge too (``fid_<name>``)."""
    from scipy import stats

    from wgan import generate, runs
    from wgan.data import inputs
    from wgan.errors import RunError
    from wgan.metrics import evaluation, extractors, folder_features, sample_sizes, swd

    hp = runs.load_hparams(vdir)
    records = inputs.records_folder(hp, records_root)
    patches = evaluation.Evaluator(hp, ("swd",), swd.SAMPLES, 0, records)
    learned = {name: evaluation.Evaluator(hp, ("fid",), sample_sizes.IMAGE_SAMPLES, 0, records, reference_images=None,
                                          extractor=(extractors.RandomFeatures() if name == "random" else
                                                     folder_features.FolderFeatures(records, name)))
               for name in features}
    classifier = fashion_evaluator(hp, num, 0, records_root)
    logged = {row["step"]: row for row in runs.read_jsonl(os.path.join(vdir, runs.METRICS_FILE))
              if any(key.startswith("eval/") for key in row)}
    root, number = os.path.dirname(os.path.abspath(vdir)), runs.version_number(vdir)
    checkpoints = {f"{number}.{index}": f"snapshot {index}" for index in range(len(runs.list_snapshots(vdir)))}
    checkpoints.update({f"{number}.best": "best", f"{number}": "newest"})
    rows, steps = [], set()
    for checkpoint, which in checkpoints.items():
        try:
            restored = generate.find_checkpoint(root, checkpoint)
        except RunError:  # no best checkpoint: the run had no evaluation
            continue
        if restored.step in steps:
            continue
        steps.add(restored.step)
        _, scores, info = score_run(vdir, num, 0, records_root, checkpoint, evaluator=classifier)
        generator = generate.load_generator(restored)
        patch = patches(generator)
        seen = logged.get(restored.step, {})
        rows.append({"checkpoint": which, "step": restored.step, "cfid": scores["cfid"],
                     "confident": scores["confident"], "swd": patch.scalars["swd"],
                     "swd_levels": patch.extras["swd_levels"], "swd_logged": seen.get("eval/swd"),
                     "w_heldout_logged": seen.get("eval/w_heldout"),
                     **{f"fid_{name}": next(iter(judge(generator).scalars.values())) for name, judge in learned.items()}})
        print(json.dumps({k: rows[-1][k] for k in ("step", "cfid", "confident", "swd", "w_heldout_logged",
                                                   *(f"fid_{name}" for name in learned))}), flush=True)
    rows.sort(key=lambda row: row["step"])
    cfid = [row["cfid"] for row in rows]
    judged = {"swd": [row["swd"] for row in rows], **{f"fid_{name}": [row[f"fid_{name}"] for row in rows]
                                                      for name in features}}
    if all(row["w_heldout_logged"] is not None for row in rows):
        judged["w_heldout"] = [row["w_heldout_logged"] for row in rows]
    agreement = {name: float(stats.spearmanr(values, cfid).statistic) for name, values in judged.items()}
    picks = {name: rows[int(np.argmin(values))]["step"] for name, values in {"cfid": cfid, **judged}.items()}
    return {"run": vdir, "data": hp.data.name, "model": hp.model, "seed": hp.seed, "train_steps": hp.train_steps,
            "precision": hp.precision, "num": num, "swd_samples": swd.SAMPLES,
            "reference_images": patches.patch_reference.count, "classifier_accuracy": info["accuracy"],
            "snapshots": rows, "spearman_with_cfid": agreement, "picked_step": picks}


def append_row(path, row):
    """Append ``row`` to the JSON list at ``path`` (created if missing), atomically."""
    from wgan.util import files

    rows = read_rows(path)
    rows.append(row)
    files.write_atomic(path, json.dumps(rows, indent=1) + "\n")


def read_rows(path):
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def run_study(args):
    """Train and score each seed of ``args.seeds`` not yet in ``args.json``, one after another."""
    import subprocess

    from wgan import runs

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    data = os.path.abspath(args.data) if os.path.isdir(args.data) else args.data  # a folder, or a source's name
    done = {(row.get("model"), row.get("seed")) for row in read_rows(args.json)
            if row["data"] == data and row.get("asked", row["budget"]) == args.budget}
    length = [] if args.budget == DEFAULT_LENGTH else ["--budget", args.budget]
    for seed in args.seeds:
        if (args.model, seed) in done:
            print(f"seed {seed}: scored already in {args.json}")
            continue
        checkpoints = os.path.join(args.out, f"seed-{seed}")
        command = [sys.executable, os.path.join(repo, "bin", "train.py"), "-m", args.model, "--data", data,
                   *length, "--seed", str(seed), "--checkpoint_dir", checkpoints,
                   "--records_dir", args.records_dir, "--noprogress"]
        print("$", " ".join(command), flush=True)
        subprocess.run(command, check=True)
        versions = [runs.version_dir(root, number) for root in (os.path.join(checkpoints, name)
                                                                for name in sorted(os.listdir(checkpoints)))
                    for number in runs.list_versions(root)]
        if len(versions) != 1:
            raise SystemExit(f"{checkpoints}: expected one run version, found {versions or 'none'}")
        row = score_row(versions[0], args.num, 0, args.records_dir, asked=args.budget)
        print(json.dumps({k: row[k] for k in ("seed", "step", "scores")}), flush=True)
        append_row(args.json, row)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("folders", help="write the PNG folders")
    make.add_argument("--out", default="owndata")
    make.add_argument("--images", type=int, default=2000)
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--raw_root", default="datasets")
    emoji = sub.add_parser("emoji", help="write the colour emoji of fonts-noto-color-emoji as a PNG folder")
    emoji.add_argument("--out", default="owndata")
    emoji.add_argument("--side", type=int, default=32)
    emoji.add_argument("--images", type=int, default=None, help="at most this many (default: all)")
    score = sub.add_parser("score", help="score a trained run with the Fashion-MNIST classifier")
    score.add_argument("--run", required=True, help="the run's version folder, checkpoint/<run>/v<N>")
    score.add_argument("--num", type=int, default=10000)
    score.add_argument("--seed", type=int, default=0)
    score.add_argument("--records_dir", default="datasets/tfrecords")
    score.add_argument("--json", default=None, help="append the row to this JSON file")
    score.add_argument("--checkpoint", default=None, help="a -v text such as 1.best or 1.4 (default: the newest)")
    judges = sub.add_parser("judges", help="score every snapshot of a run by the classifier and by the run's judges")
    judges.add_argument("--run", required=True, help="the run's version folder, checkpoint/<run>/v<N>")
    judges.add_argument("--num", type=int, default=5000)
    judges.add_argument("--records_dir", default="datasets/tfrecords")
    judges.add_argument("--json", default=None, help="append the result to this JSON file")
    judges.add_argument("--features", type=lambda text: [n for n in text.split(",") if n], default=[],
                        help="candidate judges: FID in these learned features (rotation, clusters, contrastive) "
                             "or random ones (random), comma-separated")
    study = sub.add_parser("study", help="train and score several seeds, one at a time, as a user would")
    study.add_argument("--data", required=True, help="the built folder, or a source (fashion_mnist)")
    study.add_argument("-m", "--model", default="wgan-gp")
    study.add_argument("--seeds", type=lambda text: [int(s) for s in text.split(",")], default=[0, 1, 2, 3, 4])
    study.add_argument("--budget", default="30m", help=f"train.py's --budget; {DEFAULT_LENGTH}: no length flag")
    study.add_argument("--out", required=True, help="one checkpoint folder per seed goes here")
    study.add_argument("--num", type=int, default=10000)
    study.add_argument("--records_dir", default="datasets/tfrecords")
    study.add_argument("--json", required=True, help="append each seed's row to this JSON file")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    if args.command == "folders":
        for path in write_folders(args.out, args.images, args.seed, args.raw_root):
            print(path)
        return
    if args.command == "emoji":
        print(write_emoji(args.out, args.side, args.images))
        return
    if args.command == "study":
        run_study(args)
        return
    if args.command == "judges":
        result = judge_snapshots(args.run, args.num, args.records_dir, args.features)
        print(json.dumps({k: result[k] for k in ("spearman_with_cfid", "picked_step")}))
        if args.json:
            append_row(args.json, result)
        return
    row = score_row(args.run, args.num, args.seed, args.records_dir, args.checkpoint)
    print(json.dumps(row, indent=1))
    if args.json:
        append_row(args.json, row)


if __name__ == "__main__":
    main()
