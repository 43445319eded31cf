"""The README's study table comes from the studies' study.json (tools/readme_tables.py)."""

import json
import os
import subprocess
import sys

import pytest

from wgan.lab import class_shares, doc_blocks, study, study_readme

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _report(source, model_metrics, steps=None):
    runs = []
    for model, metrics in model_metrics.items():
        for seed, (m, failure, health) in enumerate(metrics):
            runs.append({"model": model, "seed": seed, "step": 100, "train_seconds": 10.0 + seed,
                         "metrics": m, "failure": failure, "health": health})
    models = list(model_metrics)
    return {"source": source, "models": models, "steps": steps, "date": "2026-12-01",
            "command": f"python bin/study.py --source {source} --seeds 2", "criterion": study.CRITERIA[source].text,
            "seeds": max(len(metrics) for metrics in model_metrics.values()), "jobs": 1, "wall_seconds": 60.0,
            "summary": study.summarize(runs, source, models), "runs": runs}


def test_table_rows_metrics_and_failure_labels():
    toy = {"modes": 8, "hq": 0.9, "w1": 0.1, "num_modes": 8}
    report = _report("8gaussians", {"wgan-gp": [(toy, None, "none"), (dict(toy, modes=6), "covers 6", "mode_collapse")]})
    table = study_readme.table([report])
    assert "python bin/study.py --source 8gaussians --seeds 2" in table
    row = [line for line in table.splitlines() if line.startswith("| 8gaussians | wgan-gp")][0]
    assert "| 1/2 |" in row and "modes 7.0 ± 1.0 of 8" in row and "1 collapsed" in row and row.endswith("| 10 |")
    assert "8gaussians: each model trains for its own shipped train_steps" in table


def test_the_shipped_readme_is_what_its_studies_say():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "readme_tables.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _stale_then_rewritten(tmp_path):
    """tools/readme_tables.py over a README with a stale study table and the studies in
    ``tmp_path/study``: ``--check`` fails, a run rewrites, ``--check`` then passes. Returns the README's path."""
    readme = tmp_path / "README.md"
    begin, end = doc_blocks.markers(study_readme.NAME)
    readme.write_text(f"a\n{begin}\nstale\n{end}\n")
    tool = os.path.join(ROOT, "tools", "readme_tables.py")
    args = ["--readme", str(readme), "--studies", str(tmp_path / "study")]
    assert subprocess.run([sys.executable, tool, *args, "--check"], capture_output=True).returncode == 1
    assert subprocess.run([sys.executable, tool, *args], capture_output=True).returncode == 0
    assert subprocess.run([sys.executable, tool, *args, "--check"], capture_output=True).returncode == 0
    return readme


def test_tool_rewrites_a_stale_table(tmp_path):
    digits = {"cfid": 9.0, "classes": 10, "confident": 0.8}
    folder = tmp_path / "study" / "digits"
    folder.mkdir(parents=True)
    (folder / "study.json").write_text(json.dumps(_report("digits", {"dcgan": [(digits, None, "none")]})))
    readme = _stale_then_rewritten(tmp_path)
    assert "classifier FID 9.0 ± 0.0" in readme.read_text()


def test_the_real_test_split_stands_beside_the_generated_scores():
    generated = {"cfid": 9.0, "classes": 10, "confident": 0.6}
    report = _report("fashion_mnist", {"wgan-gp": [(generated, None, "none")]})
    report.update(wall_seconds=60.0, seeds=1, jobs=1, criterion=study.CRITERIA["fashion_mnist"].text,
                  real={"cfid": 0.2, "classes": 10, "confident": 0.797, "class_histogram": [0.1] * 10, "images": 10000})
    row = [line for line in study_readme.table([report]).splitlines() if "real test split" in line][0]
    assert row.startswith("| fashion_mnist | real test split (10,000 images) |")
    assert "classifier FID 0.2, confident share 0.797" in row
    lines = study.markdown(report).splitlines()
    study_row = [line for line in lines if "real test split" in line][0]
    header = [line for line in lines if line.startswith("| model | successes |")][0]
    assert "| 0.2 | 10 | 0.797 |" in study_row
    assert study_row.count("|") == header.count("|")  # as many cells as the header


def test_a_later_study_of_other_models_adds_its_rows_to_its_source(tmp_path):
    generated = {"cfid": 9.0, "classes": 10, "confident": 0.6}
    real = {"cfid": 0.2, "classes": 10, "confident": 0.797, "class_histogram": [0.1] * 10, "images": 10000}
    first = dict(_report("fashion_mnist", {"wgan-gp": [(generated, None, "none")]}), real=real)
    later = dict(_report("fashion_mnist", {"wgan": [(dict(generated, cfid=20.0), None, "none")]}),
                 command="python bin/study.py --source fashion_mnist --models wgan --seeds 1")
    for name, report in [("fashion_mnist", first), ("fashion_mnist-wgan", later),
                         ("8gaussians-wgan", _report("digits", {"dcgan": [(generated, None, "none")]}))]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "study.json").write_text(json.dumps(report))
    reports = study_readme.load_reports(str(tmp_path), study.SOURCES)
    assert [r["models"] for r in reports] == [["wgan-gp"], ["wgan"]]  # a folder's prefix alone names no source
    lines = study_readme.table(reports).splitlines()
    rows = [line.split(" | ")[1] for line in lines if line.startswith("| fashion_mnist |")]
    assert rows == ["wgan-gp", "wgan", "real test split (10,000 images)"]  # the real row once, after both
    assert "--models wgan --seeds 1" in "\n".join(lines)
    assert lines[-1].count("fashion_mnist: each model") == 1


def test_a_later_study_of_a_model_replaces_that_models_row_in_place():
    digits = {"cfid": 10.0, "classes": 10, "confident": 0.9}
    first = _report("digits", {"dcgan": [(digits, None, "none")], "wgan-gp": [(dict(digits, cfid=7.0), None, "none")]})
    later = dict(_report("digits", {"dcgan": [(dict(digits, cfid=8.0), None, "none")]}),
                 command="python bin/study.py --source digits --models dcgan --seeds 1")
    lines = study_readme.table([first, later]).splitlines()
    rows = [line for line in lines if line.startswith("| digits |")]
    assert [row.split(" | ")[1] for row in rows] == ["dcgan", "wgan-gp"]  # once each, in the first study's order
    assert "classifier FID 8.0 ± 0.0" in rows[0] and "classifier FID 7.0" in rows[1]
    assert "python bin/study.py --source digits --seeds 2" in lines  # the first study still made the other row
    assert lines[-1].startswith("Rows from a later study") and "digits dcgan: `python bin/study.py --source " \
        "digits --models dcgan --seeds 1`" in lines[-1]


def test_a_study_md_block_is_the_committed_file_with_its_headings_one_level_down(tmp_path):
    (tmp_path / "study.md").write_text("### Stability study: digits, 2 seeds\n\nCommand: `x`\n\n| a |\n|---|\n")
    assert study_readme.study_md("study-md study.md", str(tmp_path)) == (
        "#### Stability study: digits, 2 seeds\n\nCommand: `x`\n\n| a |\n|---|")
    (tmp_path / "notes.md").write_text("# notes\n")
    with pytest.raises(ValueError, match="notes.md: not a study.md"):
        study_readme.study_md("study-md notes.md", str(tmp_path))
    with pytest.raises(ValueError, match="gone.md: cannot read it"):
        study_readme.study_md("study-md gone.md", str(tmp_path))


def test_a_command_shows_the_docs_folder_its_study_was_copied_to_not_the_machines_path(tmp_path):
    digits = {"cfid": 9.0, "classes": 10, "confident": 0.9}
    ran = dict(_report("digits", {"dcgan": [(digits, None, "none")]}),
               command="python bin/study.py --source digits --seeds 1 --output /work/studies/digits --jobs 2")
    (tmp_path / "digits-dcgan").mkdir()
    (tmp_path / "digits-dcgan" / "study.json").write_text(json.dumps(ran))
    table = study_readme.table(study_readme.load_reports(str(tmp_path), study.SOURCES))
    assert "python bin/study.py --source digits --seeds 1 --output study/digits-dcgan --jobs 2" in table
    assert "/work/studies" not in table
    assert study_readme.shown_command(ran) == ran["command"]  # not loaded from a folder: as it was run


def test_a_study_of_the_papers_files_adds_rows_beside_the_toolkits():
    generated = {"cfid": 9.0, "classes": 10, "confident": 0.6}
    paper = dict(_report("fashion_mnist", {"wgan-gp": [(dict(generated, cfid=33.0), None, "none")]}),
                 setup="lucic2018", command="python bin/study.py --source fashion_mnist --setup lucic2018 --seeds 1")
    toolkit = _report("fashion_mnist", {"wgan-gp": [(generated, None, "none")]})
    lines = study_readme.table([paper, toolkit]).splitlines()
    rows = [line for line in lines if line.startswith("| fashion_mnist |")]
    assert [row.split(" | ")[1] for row in rows] == ["wgan-gp (`lucic2018` files)", "wgan-gp"]  # not a replacement
    assert "classifier FID 33.0" in rows[0] and "classifier FID 9.0" in rows[1]
    assert not any(line.startswith("Rows from a later study") for line in lines)


def test_class_shares_stand_in_the_study_and_the_readme_row():
    """The issue's "every class between 5% and 15%" reads off the tables: each run's smallest and
    largest class share, the range over a model's runs, and the real test split's own."""
    generated = {"cfid": 9.0, "classes": 10, "confident": 0.6}
    report = _report("fashion_mnist", {"wgan-gp": [(generated, None, "none"), (generated, None, "none")]})
    report["runs"][0]["extras"] = {"class_histogram": [0.07] + [0.93 / 9] * 9}
    report["runs"][1]["extras"] = {"class_histogram": [0.132] + [0.868 / 9] * 9}
    report["real"] = {"cfid": 0.2, "classes": 10, "confident": 0.797, "images": 10000,
                      "class_histogram": [0.094, 0.103] + [0.803 / 8] * 8}
    assert class_shares.share_range(r["extras"]["class_histogram"] for r in report["runs"]) == pytest.approx((0.07, 0.132))
    assert class_shares.share_range([None]) is None and class_shares.format_range(None) == ""
    row = [line for line in study_readme.table([report]).splitlines() if line.startswith("| fashion_mnist | wgan-gp")][0]
    assert "every class within 7.0% - 13.2% (all runs)" in row
    real = [line for line in study_readme.table([report]).splitlines() if "real test split" in line][0]
    assert "every class within 9.4% - 10.3%" in real
    lines = study.markdown(report).splitlines()
    header = [line for line in lines if line.startswith("| model | successes |")][0]
    summary = [line for line in lines if line.startswith("| wgan-gp | 2 / 2 |")][0]
    real_row = [line for line in lines if "real test split" in line][0]
    per_run = [line for line in lines if line.startswith("| wgan-gp | 0 |")][0]
    per_run_header = [line for line in lines if line.startswith("| model | seed |")][0]
    assert "| 7.0% - 13.2% | 10 ± 0 |" in summary and "| 9.4% - 10.3% |" in real_row
    assert "| 7.0% - 10.3% | ok |" in per_run
    assert summary.count("|") == real_row.count("|") == header.count("|")  # every row as many cells as its header
    assert per_run.count("|") == per_run_header.count("|")


def test_the_tool_writes_each_study_md_from_its_study_json(tmp_path):
    """A study.md copied from an older checkout is written up as the study code writes it today."""
    digits = {"cfid": 9.0, "classes": 10, "confident": 0.8}
    folder = tmp_path / "study" / "digits"
    folder.mkdir(parents=True)
    report = _report("digits", {"dcgan": [(digits, None, "none")]})
    (folder / "study.json").write_text(json.dumps(report))
    (folder / "study.md").write_text("an older write-up\n")
    _stale_then_rewritten(tmp_path)
    assert (folder / "study.md").read_text() == study.markdown(dict(report, folder="digits"))


def test_the_study_table_may_live_in_a_docs_page_but_must_live_somewhere(tmp_path):
    """The full table sits in docs/results.md, the README keeps a summary: the tool fills it there,
    and refuses a tree with no study-table block at all."""
    digits = {"cfid": 9.0, "classes": 10, "confident": 0.8}
    (tmp_path / "study" / "digits").mkdir(parents=True)
    (tmp_path / "study" / "digits" / "study.json").write_text(json.dumps(_report("digits", {"dcgan": [(digits, None, "none")]})))
    (tmp_path / "docs").mkdir()
    readme, results = tmp_path / "README.md", tmp_path / "docs" / "results.md"
    readme.write_text("a summary, no block\n")
    tool = os.path.join(ROOT, "tools", "readme_tables.py")
    args = ["--readme", str(readme), "--studies", str(tmp_path / "study")]
    missing = subprocess.run([sys.executable, tool, *args], capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and "no <!-- study-table:begin -->" in missing.stderr
    begin, end = doc_blocks.markers(study_readme.NAME)
    results.write_text(f"b\n{begin}\nstale\n{end}\n")
    assert subprocess.run([sys.executable, tool, *args], capture_output=True, check=False).returncode == 0
    assert "classifier FID 9.0 ± 0.0" in results.read_text() and readme.read_text() == "a summary, no block\n"


def test_a_conditional_studys_row_says_how_well_its_classes_were_obeyed():
    generated = [({"cfid": 6.0, "classes": 10, "confident": 0.9, "agreement": 0.97, "icfid": 20.0}, None, "none"),
                 ({"cfid": 8.0, "classes": 10, "confident": 0.9, "agreement": 0.99, "icfid": 22.0}, None, "none")]
    report = dict(_report("digits", {"wgan-gp": generated}), setup="conditional")
    row = [line for line in study_readme.table([report]).splitlines() if line.startswith("| digits | wgan-gp")][0]
    assert "(`conditional` files)" in row
    assert "classifier FID 7.0 ± 1.0" in row and "class agreement 0.980 ± 0.010" in row
    assert "intra-class cFID 21.0 ± 1.0" in row
    plain = _report("digits", {"wgan-gp": [({"cfid": 6.0, "classes": 10, "confident": 0.9}, None, "none")]})
    assert "class agreement" not in study_readme.table([plain])


def test_the_readmes_best_row_per_source_leaves_conditional_studies_out():
    """A generator told the class is not ranked against unconditional ones, however low its classifier FID."""
    plain = _report("digits", {"wgan-gp": [({"cfid": 7.4, "classes": 10, "confident": 0.9}, None, "none")]})
    told = dict(_report("digits", {"wgan-gp": [({"cfid": 4.5, "classes": 10, "confident": 0.98, "agreement": 0.99,
                                                  "icfid": 12.0}, None, "none")]}), setup="conditional")
    best = study_readme.summary([plain, told])
    assert "classifier FID 7.4" in best and "conditional" not in best


def test_a_study_with_another_budget_rule_names_its_setup_in_the_rule_line():
    generated = {"cfid": 9.0, "classes": 10, "confident": 0.6}
    plain = _report("fashion_mnist", {"wgan-gp": [(generated, None, "none")]})
    timed = dict(_report("fashion_mnist", {"wgan-gp": [(dict(generated, agreement=0.9, icfid=5.0), None, "none")]}),
                 setup="conditional", budget="30m")
    same = dict(_report("fashion_mnist", {"dcgan": [(generated, None, "none")]}), setup="lucic2018")
    line = [line for line in study_readme.table([plain, timed, same]).splitlines()
            if line.startswith("Budget rule")][0]
    assert ("fashion_mnist: each model trains for its own shipped train_steps; fashion_mnist conditional: every run "
            "trains for a budget of 30 min") in line
    assert line.count("fashion_mnist: each model trains") == 1 and "lucic2018" not in line
