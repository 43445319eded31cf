"""Generated blocks in Markdown files: the text between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``.

README.md and docs/*.md show tables that come from committed results (a study's
``study.json``, a benchmark's JSON). ``python tools/readme_tables.py`` rewrites every block
from its source, and ``--check`` fails when one is stale, so no table is edited by hand.

A block's NAME says what fills it: ``study-table`` (docs/results.md's table over every study),
``study-summary`` (README.md: each source's best row), ``speed-summary PATHS``, ``recipe-choices``,
``own-data-table PATH``, ``judges-table PATH``,
``benchmark-table PATH``, ``recipe-table PATH``, ``capacity-table PATH``, ``data-table PATH`` or
``faults-table PATH`` (one JSON of a benchmark, PATH relative to the repository root;
``benchmark_report.BLOCKS``),
``sweep-summary GLOB`` (``sweep_report``) and ``study-md PATH`` (``study_readme``); the
renderers are registered in ``tools/readme_tables.py``.
"""

import re

_BLOCK = re.compile(r"<!-- (?P<name>[^\n]*?):begin -->\n.*?<!-- (?P=name):end -->", re.S)


def read_source(path):
    """The text of a block's source file; ValueError naming it when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise ValueError(f"{path}: cannot read it ({error.strerror})") from None


def markers(name):
    """``(begin, end)``: the two comment lines around the block called ``name``."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def names(text, prefix=""):
    """The names of the blocks in ``text`` that start with ``prefix``, in order (each once)."""
    found = [m.group("name") for m in _BLOCK.finditer(text)]
    return [n for i, n in enumerate(found) if n.startswith(prefix) and n not in found[:i]]


def replace_block(text, name, block):
    """``text`` with every block called ``name`` holding ``block``; ValueError when there is none."""
    begin, end = markers(name)
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"no {begin} ... {end} block")
    return pattern.sub(lambda _: f"{begin}\n{block}\n{end}", text)
