"""``python bin/study.py --source 8gaussians --seeds 5 --steps 2000``: how often does each model fail?

Trains every model with seeds 0..N-1 from the shipped hyperparameter files, evaluates the
final checkpoints, applies the source's stated failure criterion and writes study.md,
study.json and study.png to --output (checkpoints under --output/checkpoint). See
wgan/lab/study.py and docs/quality.md.

Stopped by Ctrl+C or SIGTERM, every run in training saves a checkpoint and no further run
starts; with --jobs 2 or more the worker processes do so too when this process alone is
killed, even by SIGKILL (Linux). The same command again resumes where they stopped.
"""

import os

from absl import flags

from wgan import config
from wgan.lab import benchmark_report, study
from wgan.util.cpus import available_cpus
from wgan.errors import ConfigError
from wgan.cli import common

flags.DEFINE_enum("source", "8gaussians", list(study.SOURCES), "Data to train on.")
flags.DEFINE_integer("seeds", 5, "Runs per model, with seeds first_seed .. first_seed + seeds - 1.", lower_bound=1)
flags.DEFINE_integer("first_seed", 0, "First seed.", lower_bound=0)
flags.DEFINE_list("models", None, "Models to compare (default: every objective with a shipped "
                  "hyperparameter/<model>-<source>.json).")
flags.DEFINE_integer("steps", None, "Generator iterations per run, the same for every model (default: each "
                     "model's own shipped train_steps).", lower_bound=1)
flags.DEFINE_string("budget", None, "Time each run trains for (30m, 1.5h), instead of a step count: each run "
                    "times its first iterations when it starts and fixes its train_steps from them, as train.py "
                    "--budget does.")
flags.DEFINE_string("setup", None, "Train each model from hyperparameter/<model>-<source>-<setup>.json instead of "
                    "<model>-<source>.json: mnist and fashion_mnist ship the paper's setup and the toolkit's own "
                    "(--setup lucic2018).")
flags.DEFINE_string("output", None, "Folder for the report and the runs (default: study/<source>[-<setup>]).")
flags.DEFINE_integer("jobs", None, "Runs trained at once, one core each (default: available cores).", lower_bound=1)
flags.DEFINE_string("records_dir", "datasets/tfrecords", "Where built records live (digits are built on demand).")
flags.DEFINE_multi_string("set", [], "Override a hyperparameter for every model: --set batch_size=128.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    jobs = FLAGS.jobs or available_cpus()
    output = FLAGS.output or os.path.join("study", FLAGS.source + (f"-{FLAGS.setup}" if FLAGS.setup else ""))
    command = benchmark_report.command_line("bin/study.py")
    models = FLAGS.models if FLAGS.models is not None else config.shipped_models(FLAGS.source, setup=FLAGS.setup)
    if not models and FLAGS.setup:
        raise ConfigError(f"--setup {FLAGS.setup}: no hyperparameter/<model>-{FLAGS.source}-{FLAGS.setup}.json is "
                          f"shipped (fashion_mnist and mnist ship --setup lucic2018)")
    report = study.run_study(FLAGS.source, models, list(range(FLAGS.first_seed, FLAGS.first_seed + FLAGS.seeds)),
                             FLAGS.steps, output, jobs=jobs, records_dir=FLAGS.records_dir,
                             overrides=[config.parse_override(s) for s in FLAGS.set], command=command,
                             log=lambda line: print(line, flush=True), setup=FLAGS.setup,
                             budget=FLAGS.budget)
    print(study.markdown(report))
    print(f"wrote {output}/study.md, study.json, study.png")


def run_cli():
    common.run(main)


if __name__ == "__main__":
    run_cli()
