"""The study tables of README.md and docs/results.md, made from the studies' own ``study.json`` files.

The README shows one table over several studies (toy and digits), each row a model on a
source. It is never edited by hand: ``python tools/readme_tables.py`` reads
``docs/study/<source>/study.json`` and rewrites the ``study-table`` block (``doc_blocks``)
with the commands that produced the studies and one row per (source, model). A
``study-md PATH`` block shows one committed ``study.md`` whole, as the study wrote it.
"""

import itertools
import json
import os
import re

from wgan.lab import class_shares, doc_blocks, study
from wgan.metrics import registry

NAME = "study-table"  # the block's name: <!-- study-table:begin --> ... <!-- study-table:end -->
# The README's short table: the best row of each source (``summary``).
SUMMARY = "study-summary"
# ``<!-- study-md PATH:begin -->``: the study.md that bin/study.py wrote, committed at PATH.
STUDY_MD = "study-md "

# The headline metrics of a row, in order, for each kind of source.
_HEADLINE = {"modes": "modes {} of {num_modes}", "hq": "high-quality share {}", "w1": "W1 {}",
             "cfid": "classifier FID {}", "confident": "confident share {}",
             "agreement": "class agreement {}", "icfid": "intra-class cFID {}"}


def _headline(report, row):
    mine = [r for r in report["runs"] if r["model"] == row["model"]]
    columns = [c for c in study.columns(report["source"], mine) if c in _HEADLINE]
    num_modes = {r["metrics"].get("num_modes") for r in mine}
    parts = []
    for name in columns:
        # The summary row's, or from the runs for a column added after the report was written.
        stat = row.get(name) or dict(zip(("mean", "std"), study.mean_std([r["metrics"].get(name) for r in mine])))
        cell = study.format_stat(name, stat)
        parts.append(_HEADLINE[name].format(cell, num_modes=max(num_modes - {None}, default="?")))
    span = class_shares.share_range(study.class_histogram(r) for r in report["runs"] if r["model"] == row["model"])
    if span:
        parts.append(f"every class within {class_shares.format_range(span)} (all runs)")
    return ", ".join(parts)


def _real_headline(report):
    """The real test split's own scores in the row's words: what a perfect generator would get."""
    real = report["real"]
    columns = [c for c in study.CRITERIA[report["source"]].columns if c in _HEADLINE and c in real]
    parts = [_HEADLINE[c].format(study.format_value(c, real[c])) for c in columns]
    span = class_shares.share_range([real.get("class_histogram")])
    if span:
        parts.append(f"every class within {class_shares.format_range(span)}")
    return ", ".join(parts)


def _failures(row):
    if row["successes"] == row["runs"]:
        return "none"
    if "failed_as" not in row:
        return "not labelled (study predates the health detectors)"
    labelled = [(label, n) for label, n in row.get("failed_as", {}).items() if n]
    return ", ".join(f"{n} {label}" for label, n in labelled) or "none"


def shown_command(report):
    """The study's command with its ``--output`` as ``study/<folder>``, the docs/study/ folder it was copied to.

    Where a study wrote its files does not change its numbers, and an absolute path of the
    machine it ran on (``/work/studies/...``) means nothing to a reader; ``load_reports`` records
    the folder. A report without one (not loaded from a folder) keeps its command as run.
    """
    folder = report.get("folder")
    if not folder:
        return report["command"]
    return re.sub(r"--output(=|\s+)\S+", f"--output study/{folder}", report["command"])


def table(reports):
    """Markdown: the studies' commands, then one row per (source, model) of ``reports`` (study.json dicts)."""
    lines = ["```sh"] + [shown_command(report) for report in reports] + ["```", ""]
    lines += ["| source | model | successes | iterations | headline metrics (mean ± std over seeds) "
              "| failures, by the first health detector | train s / run |",
              "|---|---|---|---|---|---|---|"]
    superseded = []
    # load_reports keeps a source's studies together, so each group ends with that source's real row
    for source, group in itertools.groupby(reports, key=lambda report: report["source"]):
        group = list(group)
        for (model, setup), (report, row, replaced) in _latest_rows(group).items():
            label = f"{model} (`{setup}` files)" if setup else model
            if replaced:
                superseded.append(f"{source} {label}: `{shown_command(report)}`")
            steps = sorted({r["step"] for r in report["runs"] if r["model"] == model})
            seconds = row["train_seconds"]["mean"]
            lines.append(f"| {source} | {label} | {row['successes']}/{row['runs']} | "
                         f"{', '.join(f'{s:,}' for s in steps)} | {_headline(report, row)} | {_failures(row)} | "
                         f"{'n/a' if seconds is None else f'{seconds:.0f}'} |")
        scored = [report for report in group if report.get("real")]
        if scored:  # once per source, from whichever of its studies scored the real data
            lines.append(f"| {source} | {study.real_label(scored[-1]['real'])} | | | {_real_headline(scored[-1])} | | |")
    # One clause per source and rule; a study whose rule differs from its source's first names its setup.
    first_rule, clauses = {}, []
    for report in reports:
        rule = study.budget_rule(report["steps"], report.get("budget"))
        first_rule.setdefault(report["source"], rule)
        setup = report.get("setup")
        label = report["source"] if rule == first_rule[report["source"]] or not setup else f"{report['source']} {setup}"
        clauses.append(f"{label}: {rule}")
    rules = "; ".join(dict.fromkeys(clauses))
    dates = sorted({report["date"] for report in reports})
    lines += ["", f"Budget rule, {rules}. Measured {', '.join(dates)}; per-run tables and figures: "
              "docs/study/<source>/study.md."]
    if superseded:
        lines += ["", "Rows from a later study of a model that an earlier study of the same source also "
                  "trained (its shipped file changed since): " + "; ".join(superseded) + "."]
    return "\n".join(lines)


def _rank(report, row):
    """Sort key of a summary row, best first: the larger share of successful runs, then the better
    mean of the source's primary metric (the registry's, among the study's columns)."""
    columns = study.CRITERIA[report["source"]].columns
    primary = registry.primary_metric(columns)
    mean = row[primary]["mean"]
    return (-row["successes"] / row["runs"], -mean if registry.higher_is_better(primary) else mean)


def summary(reports):
    """Markdown: one row per source, its best (model, files) by ``_rank``, with the headline metrics.

    Class-conditional studies stay out: their generators are told the class, so their scores do
    not rank against unconditional ones (the full table shows them with their class agreement)."""
    lines = ["| data | model | runs passing | score (mean ± std over seeds) |", "|---|---|---|---|"]
    unconditional = [report for report in reports if not _conditional(report)]
    for source, group in itertools.groupby(unconditional, key=lambda report: report["source"]):
        rows = _latest_rows(list(group))
        (model, setup), (report, row, _) = min(rows.items(), key=lambda item: _rank(item[1][0], item[1][1]))
        label = f"{model} (`{setup}` files)" if setup else model
        lines.append(f"| {source} | {label} | {row['successes']}/{row['runs']} | {_headline(report, row)} |")
    return "\n".join(lines)


def _conditional(report):
    """Whether a study's runs are class-conditional (their scores include the class-agreement metrics)."""
    return "agreement" in study.columns(report["source"], report["runs"])


def _latest_rows(group):
    """{(model, setup): (report, summary row, replaced)} over one source's studies, in the order they first appear;
    a later study's row of a model from the same files replaces an earlier one's (a rerun after its shipped file
    changed), and ``replaced`` says it did. A study of other files (``--setup lucic2018``) adds rows of its own."""
    rows = {}
    for report in group:
        for row in report["summary"]:
            key = (row["model"], report.get("setup"))
            rows[key] = (report, row, key in rows)
    return rows


def load_reports(folder, sources):
    """The ``study.json`` of each study folder under ``folder``, grouped by source in ``sources`` order.

    A source's study lives in ``folder/<source>/``; a study of further models on the same
    source, run later with its own command (``--models wgan``), lives beside it in
    ``folder/<source>-<anything>/`` and adds its rows after the first study's (or replaces the
    row of a model the first one trained too: ``table``). Other folders
    (``archive``) are not read.
    """
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    reports = []
    for source in sources:
        for name in [source] + [n for n in names if n.startswith(source + "-")]:
            path = os.path.join(folder, name, "study.json")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as handle:
                    report = json.load(handle)
                if report.get("source") == source:  # 8gaussians-x is not a 25gaussians study, nor the reverse
                    reports.append(dict(report, folder=name))
    return reports


def study_md(name, root):
    """The ``study-md PATH`` block: the study.md at PATH (relative to ``root``), its headings one level down.

    A study's own title is ``###``; inside a doc's section it sits one level lower.
    """
    path = os.path.join(root, name[len(STUDY_MD):])
    lines = doc_blocks.read_source(path).rstrip("\n").splitlines()
    if not lines or not lines[0].startswith("### Stability study:"):
        raise ValueError(f"{path}: not a study.md of bin/study.py (no '### Stability study:' title)")
    return "\n".join("#" + line if line.startswith("#") else line for line in lines)
