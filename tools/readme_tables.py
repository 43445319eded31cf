"""Regenerate the tables in README.md and docs/*.md from the committed results (never edit them by hand).

    python tools/readme_tables.py            # rewrites every generated block
    python tools/readme_tables.py --check    # exit 1 when a block is not what its results say

Blocks (``wgan/lab/doc_blocks.py``):
- ``study-table``, in README.md or a docs/*.md file (docs/results.md holds it): from
  docs/study/<source>/study.json. The studies come from
  the commands the table prints (``bin/study.py``); copy their ``--output`` folder's
  study.json, study.md and study.png to docs/study/<source>/ (a later study of further models
  on that source, to docs/study/<source>-<models>/: its rows follow the first study's, and a
  model both trained keeps its place with the later study's numbers). Each command is shown with
  ``--output study/<folder>``, that folder's name: where a study wrote does not change it.
- ``benchmark-table PATH``, anywhere: from the JSON that ``bin/benchmark.py --json PATH``
  wrote; ``recipe-table PATH`` from ``benchmarks/keras_io_wgan_gp.py --json PATH``;
  ``capacity-table PATH`` from ``benchmarks/critic_capacity.py --json PATH``; ``surfaces-table PATH`` from
  ``benchmarks/value_surfaces.py --json PATH``; ``data-table PATH``
  from ``benchmarks/bench_data.py --json PATH``; ``faults-table PATH`` from
  ``tools/inject_faults.py --json PATH``; ``resume-table PATH`` from ``benchmarks/bench_resume.py --json PATH``;
  ``yardstick-table PATH`` from ``benchmarks/yardsticks.py --json PATH``; ``health-cost-table PATH`` from
  ``benchmarks/bench_health.py --json PATH``; ``inception-cost-table PATH`` from
  ``benchmarks/bench_inception.py --json PATH``; ``classifier-table PATH`` from
  ``benchmarks/bench_classifier.py --json PATH``; ``variants-table PATH`` from
  ``benchmarks/bench_variants.py --json PATH``; ``speed-summary PATH,PATH`` (README.md: WGAN-GP it/s per network) from ``bin/benchmark.py --json PATH``;
  ``own-data-table PATH`` from ``benchmarks/own_data.py score
  --json PATH``; ``judges-table PATH`` from ``benchmarks/own_data.py judges --json PATH``; ``recipe-choices`` from the recipe's own table (``wgan.recipe.BASES``);
  ``sweep-summary GLOB`` from the sweep tables ``benchmarks/sweep.py`` wrote, copied to
  docs/sweeps/ (``wgan/lab/sweep_report.py``); ``study-md PATH`` shows a committed study.md whole.
  PATH and GLOB are relative to the folder of README.md (the repository root).

Each study's study.md beside its study.json (docs/study/<folder>/, not archive/) is rewritten
too, from the study.json (``wgan.lab.study.markdown``), so a study copied from an older checkout
is written up like one run today.
"""

import argparse
import glob
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

from wgan.lab import benchmark_report, doc_blocks, own_data_report, study, study_readme, sweep_report  # noqa: E402


# Block name prefix -> render(name, root, doc_dir): the text of that block (the study table is apart:
# it reads every study at once).
RENDERERS = {
    **{prefix: lambda name, root, doc_dir: benchmark_report.render(name, root) for prefix in benchmark_report.BLOCKS},
    sweep_report.BLOCK: sweep_report.render,
    study_readme.STUDY_MD: lambda name, root, doc_dir: study_readme.study_md(name, root),
    benchmark_report.SPEED_SUMMARY: benchmark_report.speed_summary,
    own_data_report.RECIPE_BLOCK: own_data_report.recipe_table,
    own_data_report.OWN_DATA_BLOCK: own_data_report.own_data_table,
    own_data_report.JUDGES_BLOCK: own_data_report.judges_table,
}


def regenerate(text, root, reports, doc_dir=None):
    """``text`` (a file in ``doc_dir``, default ``root``) with each of its blocks rebuilt; ValueError naming
    the block's source when it fails."""
    for name in doc_blocks.names(text):
        prefix = next((p for p in RENDERERS if name.startswith(p)), None)
        if prefix is not None:
            text = doc_blocks.replace_block(text, name, RENDERERS[prefix](name, root, doc_dir or root))
    for name, render in ((study_readme.NAME, study_readme.table), (study_readme.SUMMARY, study_readme.summary)):
        if doc_blocks.names(text, name):
            if not reports:
                raise ValueError(f"a {name} block, but no study.json under the studies folder")
            text = doc_blocks.replace_block(text, name, render(reports))
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    parser.add_argument("--docs", default=None, help="folder of the other Markdown files (default: docs/ beside --readme)")
    parser.add_argument("--studies", default=os.path.join(ROOT, "docs", "study"))
    parser.add_argument("--check", action="store_true", help="only check that every block is up to date")
    args = parser.parse_args()
    root = os.path.dirname(os.path.abspath(args.readme))
    docs = args.docs or os.path.join(root, "docs")
    reports = study_readme.load_reports(args.studies, study.SOURCES)
    paths = [args.readme] + sorted(glob.glob(os.path.join(docs, "*.md")))
    stale = []

    def update(path, new, text):
        if new == text:
            return
        stale.append(os.path.relpath(path, root))
        if not args.check:
            with open(path + ".tmp", "w", encoding="utf-8") as handle:
                handle.write(new)
            os.replace(path + ".tmp", path)

    for report in reports:
        path = os.path.join(args.studies, report["folder"], "study.md")
        text = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        try:
            new = study.markdown(report)
        except KeyError as error:
            sys.exit(f"error: {os.path.join(args.studies, report['folder'], 'study.json')}: no key {error}; "
                     "is it a study.json that bin/study.py wrote?")
        update(path, new, text)
    texts = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            texts[path] = handle.read()
    if not any(doc_blocks.names(text, study_readme.NAME) for text in texts.values()):
        sys.exit(f"error: no {' ... '.join(doc_blocks.markers(study_readme.NAME))} block in {args.readme} "
                 f"or {os.path.join(docs, '*.md')}")
    for path, text in texts.items():
        try:
            new = regenerate(text, root, reports, os.path.dirname(os.path.abspath(path)))
        except ValueError as error:
            sys.exit(f"error: {path}: {error}")
        update(path, new, text)
    if args.check:
        sys.exit(f"error: stale tables in {', '.join(stale)}; run python tools/readme_tables.py" if stale else 0)
    print(f"rewrote {', '.join(stale)}" if stale else "every table is up to date")


if __name__ == "__main__":
    main()
