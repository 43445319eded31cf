"""The README's short tables come from the same results as the full ones: the best study row of each
source, WGAN-GP's speed per network, and the recipe's choices from the recipe's own table."""

import copy
import json
import os

from wgan import recipe
from wgan.lab import benchmark_report, own_data_report, study_readme

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _digits_report():
    with open(os.path.join(ROOT, "docs", "study", "digits", "study.json"), encoding="utf-8") as f:
        return dict(json.load(f), folder="digits")


def test_the_summary_keeps_the_best_row_of_each_source():
    report = _digits_report()
    rows = {row["model"]: row for row in report["summary"]}
    assert rows["wgan-gp"]["cfid"]["mean"] < rows["dcgan"]["cfid"]["mean"]  # the committed study's order
    text = study_readme.summary([report])
    assert text.count("\n| digits |") == 1 and "| digits | wgan-gp | 5/5 | classifier FID 7.4" in text

    # A better primary metric wins among rows that pass as often; fewer passing runs lose first.
    better = copy.deepcopy(report)
    for row in better["summary"]:
        if row["model"] == "dcgan":
            row["cfid"]["mean"] = 1.0
    assert "| digits | dcgan | 5/5 | classifier FID 1.0" in study_readme.summary([better])
    failing = copy.deepcopy(better)
    for row in failing["summary"]:
        if row["model"] == "dcgan":
            row["successes"] = 4
    assert "| digits | wgan-gp |" in study_readme.summary([failing])


def test_the_speed_summary_shows_wgan_gp_without_xla_per_network():
    text = benchmark_report.speed_summary("speed-summary docs/benchmarks/dcgan.json", ROOT)
    with open(os.path.join(ROOT, "docs", "benchmarks", "dcgan.json"), encoding="utf-8") as f:
        rows = json.load(f)["models"]
    want = next(r for r in rows if (r["model"], r["side"], r["precision"], r["jit_compile"]) ==
                ("wgan-gp", 64, "float32", False))
    assert f"| dcgan 64x64 | {benchmark_report._speed(want['iterations_per_s'])} |" in text
    assert len(text.splitlines()) == 2 + len({(r["architecture"], r["side"]) for r in rows})


def test_the_recipe_block_is_the_recipes_table():
    text = own_data_report.recipe_table(own_data_report.RECIPE_BLOCK, ROOT, ROOT)
    assert len(text.splitlines()) == 2 + len(recipe.BASES)
    for base in recipe.BASES:
        assert base.why in text and (base.evidence or "nothing yet") in text
