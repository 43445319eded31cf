"""Sweep tables: the Markdown ``benchmarks/sweep.py`` writes, read back, and a summary of many sweeps.

A sweep's ``sweep.md`` (committed as ``docs/sweeps/<name>.md``) is one table: per variant
its overrides, successes, iterations, the study's metrics and the train seconds, under the
command that made it. ``summary(paths)`` puts the rows of several such files in one table
(the ``sweep-summary GLOB`` block of ``tools/readme_tables.py``), so a doc can show every
sweep toward a target without a hand-pasted number: the files are the sweep's own output.

No TensorFlow here: the tool that checks the docs must stay fast.
"""

import glob
import os
import re

from wgan.lab import doc_blocks, study

_TITLE = re.compile(r"^#### Sweep: (?P<model>\S+) on (?P<source>\S+)$")
_COMMAND = re.compile(r"^Command: `(?P<command>.+)`$")
# The columns of every sweep table around the study's metric columns (``study.column_title``).
LEADING = ("variant", "overrides", "successes", "iterations")
TRAILING = ("train s / run",)


def markdown(rows, source, model, command):
    """The ``sweep.md`` of one sweep: ``rows`` are ``{"variant", "overrides", "steps", "summary"}`` dicts."""
    columns = study.CRITERIA[source].columns
    lines = [f"#### Sweep: {model} on {source}", "", f"Command: `{command}`", "",
             "| " + " | ".join(LEADING + tuple(study.column_title(c) for c in columns) + TRAILING) + " |",
             "|---|---|---|---|" + "---|" * (len(columns) + 1)]
    for row in rows:
        summary = row["summary"]
        cells = [study.format_stat(c, summary[c]) for c in columns]
        overrides = ", ".join(f"`{o}`" for o in row["overrides"]) or "(shipped file)"
        seconds = study.format_stat("train_seconds", summary["train_seconds"])
        lines.append(f"| {row['variant']} | {overrides} | {summary['successes']} / {summary['runs']} | "
                     f"{row['steps']:,} | " + " | ".join(cells) + f" | {seconds} |")
    return "\n".join(lines) + "\n"


def _cells(line):
    return [cell.strip() for cell in line.strip()[1:-1].split(" | ")]


def read(path):
    """One ``sweep.md``: ``{"model", "source", "command", "columns", "rows"}``, each row a dict by column title.

    ValueError naming the file and line when it is not a sweep table.
    """
    lines = doc_blocks.read_source(path).splitlines()
    title = _TITLE.match(lines[0]) if lines else None
    command = next((m for m in map(_COMMAND.match, lines[1:4]) if m), None)
    header = next((i for i, line in enumerate(lines) if line.startswith("| variant |")), None)
    if not title or not command or header is None:
        raise ValueError(f"{path}: not a sweep table of benchmarks/sweep.py (no '#### Sweep:' title, command "
                         "and '| variant |' header)")
    columns = _cells(lines[header])
    rows = []
    for number, line in enumerate(lines[header + 2:], start=header + 3):
        if not line.startswith("|"):
            break
        cells = _cells(line)
        if len(cells) != len(columns):
            raise ValueError(f"{path}, line {number}: {len(cells)} cells under a header of {len(columns)}")
        rows.append(dict(zip(columns, cells)))
    return {"model": title["model"], "source": title["source"], "command": command["command"], "columns": columns,
            "rows": rows}


def _flag(command, name, default):
    match = re.search(rf"--{name}[= ](\d+)", command)
    return int(match.group(1)) if match else default


def seeds(command, overrides):
    """The seeds a row ran with, as text ("0-1", "1"): its command's ``--first_seed`` and ``--seeds``
    (``benchmarks/sweep.py``'s defaults 0 and 2), unless its overrides cell sets ``seed``."""
    override = re.search(r"`seed=(\d+)`", overrides)
    if override:
        return override.group(1)
    first, count = _flag(command, "first_seed", 0), _flag(command, "seeds", 2)
    return str(first) if count == 1 else f"{first}-{first + count - 1}"


def summary(paths, doc_dir):
    """One table of every variant in the sweep files ``paths``, each row linking its file (relative to ``doc_dir``).

    ``paths`` is not empty. The metric columns are those of the first file; every file must
    share them (one source). A ``seeds`` column (``seeds``) says which seeds each row is.
    """
    sweeps = [(path, read(path)) for path in paths]
    metrics = [c for c in sweeps[0][1]["columns"] if c not in LEADING + TRAILING]
    lines = ["| model | " + " | ".join(LEADING[:3] + ("seeds",) + LEADING[3:] + tuple(metrics)) + " | table |",
             "|---|---|---|---|---|---:|" + "---:|" * len(metrics) + "---|"]
    for path, sweep in sweeps:
        missing = [c for c in metrics if c not in sweep["columns"]]
        if missing:
            raise ValueError(f"{path}: no {', '.join(missing)} column, unlike {sweeps[0][0]}")
        name = os.path.splitext(os.path.basename(path))[0]
        link = f"[{name}]({os.path.relpath(path, doc_dir)})"
        for row in sweep["rows"]:
            cells = [row[c] for c in LEADING[:3]] + [seeds(sweep["command"], row["overrides"])]
            cells += [row[c] for c in LEADING[3:] + tuple(metrics)]
            lines.append(f"| {sweep['model']} | " + " | ".join(cells) + f" | {link} |")
    return "\n".join(lines)


BLOCK = "sweep-summary "


def render(name, root, doc_dir):
    """The ``sweep-summary GLOB`` block: the summary of the files matching GLOB (relative to ``root``), by name."""
    pattern = name[len(BLOCK):]
    paths = sorted(glob.glob(os.path.join(root, pattern)), key=_natural)
    if not paths:
        raise ValueError(f"{BLOCK.strip()} {pattern}: no file matches")
    return summary(paths, doc_dir)


def _natural(path):
    """``digits-gp`` < ``digits-gp2`` < ``digits-gp10``: the numbers in a name compare as numbers."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", stem)]
