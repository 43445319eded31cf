"""Regenerate the README's study table from docs/study/<source>/study.json (never edit it by hand).

    python tools/readme_tables.py            # rewrites the block between the study-table markers in README.md
    python tools/readme_tables.py --check    # exit 1 when README.md is not what the studies say

The studies themselves come from the commands the table prints (``bin/study.py``); copy
their ``--output`` folder's study.json, study.md and study.png to docs/study/<source>/.
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from wgan import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/

from wgan import study, study_readme  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    parser.add_argument("--studies", default=os.path.join(ROOT, "docs", "study"))
    parser.add_argument("--check", action="store_true", help="only check that the README is up to date")
    args = parser.parse_args()
    reports = study_readme.load_reports(args.studies, study.SOURCES)
    if not reports:
        sys.exit(f"error: no study.json under {args.studies}/<source>/")
    with open(args.readme, encoding="utf-8") as handle:
        text = handle.read()
    try:
        new = study_readme.replace_block(text, study_readme.table(reports))
    except ValueError as error:
        sys.exit(f"error: {args.readme}: {error}")
    if args.check:
        sys.exit(0 if new == text else f"error: {args.readme}: the study table is stale; run python tools/readme_tables.py")
    if new != text:
        with open(args.readme + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(new)
        os.replace(args.readme + ".tmp", args.readme)
    print(f"{args.readme}: study table from {', '.join(r['source'] for r in reports)}")


if __name__ == "__main__":
    main()
