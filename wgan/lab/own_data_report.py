"""Doc blocks for training on your own images: the recipe's choices and the measured own-data runs.

* ``recipe-choices``: one row per row of ``wgan.recipe.BASES`` (image sides, the shipped file a
  folder starts from, and why), so docs/own-data.md says what the code does;
* ``own-data-table PATH``: the runs ``benchmarks/own_data.py score --json PATH`` scored, one row
  each, beside the real test split's own scores.
"""

import json
import os

from wgan import recipe
from wgan.lab import class_shares, doc_blocks

RECIPE_BLOCK = "recipe-choices"
OWN_DATA_BLOCK = "own-data-table "


def recipe_table(name, root, doc_dir):
    """Markdown: the recipe's rows, smallest sides first."""
    lines = ["| image side | starts from | why | measured by |", "|---|---|---|---|"]
    low = 1
    for base in recipe.BASES:
        sides = f"{low} and above" if base.max_side is None else f"{low} to {base.max_side}"
        file = f"`<model>-{base.data}{'-' + base.setup if base.setup else ''}.json`"
        evidence = f"`{base.evidence}`" if base.evidence else "nothing yet"
        lines.append(f"| {sides} | {file} | {base.why} | {evidence} |")
        low = (base.max_side or 0) + 1
    return "\n".join(lines)


def own_data_table(name, root, doc_dir):
    """Markdown: every scored own-data run of the JSON at the block's PATH (relative to ``root``)."""
    path = os.path.join(root, name[len(OWN_DATA_BLOCK):])
    rows = json.loads(doc_blocks.read_source(path))
    if not rows:
        raise ValueError(f"{path}: no scored run")
    lines = ["| folder | budget | iterations | precision | classifier FID | confident share | class shares |",
             "|---|---|---:|---|---:|---:|---|"]
    for row in rows:
        scores = row["scores"]
        span = class_shares.share_range([scores["class_histogram"]])
        lines.append(f"| {os.path.basename(row['data'])} | {row['budget'] or 'none'} | {row['step']:,} | "
                     f"{row['precision']} | {scores['cfid']:.1f} | {scores['confident']:.3f} | "
                     f"{class_shares.format_range(span)} |")
    real = rows[-1].get("real_test")
    if real:
        span = class_shares.share_range([real.get("class_histogram")])
        lines.append(f"| real test images | | | | {real['cfid']:.1f} | {real['confident']:.3f} | "
                     f"{class_shares.format_range(span) if span else ''} |")
    lines += ["", f"Scored on {rows[-1]['num']:,} samples by the toolkit's Fashion-MNIST classifier (test accuracy "
                  f"{rows[-1]['classifier_accuracy']:.3f})."]
    return "\n".join(lines)
