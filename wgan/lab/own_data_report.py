"""Doc blocks for training on your own images: the recipe's choices and the measured own-data runs.

* ``recipe-choices``: one row per row of ``wgan.recipe.BASES`` (image sides, the shipped file a
  folder starts from, and why), so docs/own-data.md says what the code does;
* ``own-data-table PATH``: the runs ``benchmarks/own_data.py score --json PATH`` scored, one row
  each, beside the real test split's own scores;
* ``judges-table PATH``: every snapshot of the runs ``benchmarks/own_data.py judges --json PATH``
  scored, by the classifier and by the run's own judges, with their rank correlations and picks.
"""

import json
import os

from wgan import recipe
from wgan.lab import class_shares, doc_blocks
from wgan.lab.scored_samples import classifier_judged

RECIPE_BLOCK = "recipe-choices"
OWN_DATA_BLOCK = "own-data-table "
JUDGES_BLOCK = "judges-table "


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
    """Markdown: every scored own-data run of the JSON at the block's PATH (relative to ``root``), one
    row each, and for a folder scored over several seeds (``benchmarks/own_data.py study``) a row of
    their mean scores and the class shares' range over all of them."""
    path = os.path.join(root, name[len(OWN_DATA_BLOCK):])
    rows = json.loads(doc_blocks.read_source(path))
    if not rows:
        raise ValueError(f"{path}: no scored run")
    lines = ["| folder | seed | budget | iterations | precision | samples scored | classifier FID | confident share "
             "| class shares |", "|---|---:|---|---:|---|---:|---:|---:|---|"]
    by_folder = {}
    for row in rows:  # a mean only over rows scored on as many samples: FID's bias depends on the count
        judged = classifier_judged(row.get("judged"), row["num"])
        by_folder.setdefault((row["data"], row["budget"], judged), []).append(row)
    for (data, budget, judged), group in by_folder.items():
        for row in group:
            scores = row["scores"]
            lines.append(f"| {os.path.basename(data)} | {row.get('seed', '')} | {budget or 'none'} | "
                         f"{row['step']:,} | {row['precision']} | {judged:,} | {scores['cfid']:.1f} | "
                         f"{scores['confident']:.3f} | {class_shares.describe([scores['class_histogram']])} |")
        if len(group) > 1:
            cfid = sum(r["scores"]["cfid"] for r in group) / len(group)
            confident = sum(r["scores"]["confident"] for r in group) / len(group)
            shares = class_shares.describe([r["scores"]["class_histogram"] for r in group])
            lines.append(f"| **mean of {len(group)} seeds** | | | | | {judged:,} | **{cfid:.1f}** | **{confident:.3f}** | "
                         f"{shares} |")
    real = rows[-1].get("real_test")
    if real:
        images = f"{real['images']:,}" if real.get("images") else ""
        lines.append(f"| real test images | | | | | {images} | {real['cfid']:.1f} | {real['confident']:.3f} | "
                     f"{class_shares.describe([real.get('class_histogram')])} |")
    lines += ["", f"Scored by the toolkit's Fashion-MNIST classifier (test accuracy "
                  f"{rows[-1]['classifier_accuracy']:.3f}) against the statistics of the 60,000 training images."]
    return "\n".join(lines)


# A judge's column: its key in a snapshot row, its header and its digits.
_JUDGE_COLUMNS = {"swd": ("swd", "swd", 1), "w_heldout": ("w_heldout_logged", "w_heldout (logged)", 3)}


def _judge_column(judge):
    """(row key, header, digits) of ``judge``: ``swd``, ``w_heldout``, or ``fid_<features>`` (a candidate of
    ``benchmarks/own_data.py judges --features``)."""
    if judge in _JUDGE_COLUMNS:
        return _JUDGE_COLUMNS[judge]
    return judge, f"FID in {judge[len('fid_'):]} features", 3


def judges_table(name, root, doc_dir):
    """Markdown: per run of the JSON at the block's PATH, each snapshot's classifier scores beside every
    judge's value (each judge's pick in bold), then the rank correlations."""
    path = os.path.join(root, name[len(JUDGES_BLOCK):])
    results = json.loads(doc_blocks.read_source(path))
    if not results:
        raise ValueError(f"{path}: no judged run")
    parts = []
    for result in results:
        picked = result["picked_step"]
        rows = result["snapshots"]
        judges = list(result["spearman_with_cfid"])
        if "w_heldout" not in judges:  # logged at evaluation steps only: shown, not ranked
            judges.append("w_heldout")
        columns = [_judge_column(judge) + (judge,) for judge in judges]

        def cell(row, key, judge, digits):
            value = row.get(key)
            if value is None:
                return ""
            text = f"{value:.{digits}f}"
            return f"**{text}**" if picked.get(judge) == row["step"] else text

        last = max(row["step"] for row in rows)
        length = (f"{last:,} iterations" if last >= result["train_steps"] else
                  f"the first {last:,} of its {result['train_steps']:,} iterations")
        lines = [f"{os.path.basename(result['data'])}, seed {result['seed']}, {length} ({result['precision']}):", "",
                 "| step | checkpoint | classifier FID | confident share | "
                 + " | ".join(header for _, header, _, _ in columns) + " |",
                 "|---:|---|---:|---:|" + "---:|" * len(columns)]
        for row in rows:
            lines.append(f"| {row['step']:,} | {row['checkpoint']} | {cell(row, 'cfid', 'cfid', 1)} | "
                         f"{row['confident']:.3f} | "
                         + " | ".join(cell(row, key, judge, digits) for key, _, digits, judge in columns) + " |")
        correlation = ", ".join(f"{judge} {value:+.2f}" for judge, value in result["spearman_with_cfid"].items())
        lines += ["", f"Spearman rank correlation with classifier FID over the {len(rows)} checkpoints: {correlation}. "
                      f"Classifier FID on {result['num']:,} samples (classifier accuracy "
                      f"{result['classifier_accuracy']:.3f}); the other judges on {result['swd_samples']:,} samples "
                      f"against the {result['reference_images']:,} training images; the lowest of each column in bold "
                      "(w_heldout is logged only at evaluation steps)."]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
