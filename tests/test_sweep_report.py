"""Sweep tables: what benchmarks/sweep.py writes reads back, and many sweeps make one summary (sweep-summary block)."""

import json
import os
import subprocess
import sys

import pytest

from wgan.lab import sweep_report


def _stat(mean, std):
    return {"mean": mean, "std": std}


def _row(variant, overrides, steps, cfid):
    return {"variant": variant, "overrides": overrides, "steps": steps,
            "summary": {"successes": 2, "runs": 2, "cfid": _stat(cfid, 0.5), "classes": _stat(10.0, 0.0),
                        "confident": _stat(0.8, 0.01), "train_seconds": _stat(166.0, 3.0)}}


def _write(folder, name, rows, model="wgan-gp"):
    path = folder / f"{name}.md"
    path.write_text(sweep_report.markdown(rows, "digits", model, f"python benchmarks/sweep.py --output {name}"))
    return path


def test_a_written_sweep_table_reads_back_cell_for_cell(tmp_path):
    path = _write(tmp_path, "digits-gp", [_row("shipped", [], 2000, 26.6), _row("lr4", ["lr=0.0004"], 2000, 12.4)])
    sweep = sweep_report.read(str(path))
    assert (sweep["model"], sweep["source"]) == ("wgan-gp", "digits")
    assert sweep["command"] == "python benchmarks/sweep.py --output digits-gp"
    assert sweep["columns"][:4] == list(sweep_report.LEADING) and sweep["columns"][-1] == "train s / run"
    assert [r["variant"] for r in sweep["rows"]] == ["shipped", "lr4"]
    assert sweep["rows"][0]["overrides"] == "(shipped file)" and sweep["rows"][1]["overrides"] == "`lr=0.0004`"
    assert sweep["rows"][1]["classifier FID"] == "12.4 ± 0.5" and sweep["rows"][1]["iterations"] == "2,000"


def test_the_summary_takes_every_file_in_natural_order_and_links_each(tmp_path):
    (tmp_path / "sweeps").mkdir()
    _write(tmp_path / "sweeps", "digits-gp10", [_row("late", [], 6000, 7.7)])
    _write(tmp_path / "sweeps", "digits-gp", [_row("shipped", [], 2000, 26.6)])
    _write(tmp_path / "sweeps", "digits-gp2", [_row("lr2", ["lr=0.0002"], 2000, 17.6)])
    _write(tmp_path / "sweeps", "digits-dcgan", [_row("steps8000", ["train_steps=8000"], 8000, 26.3)], model="dcgan")
    table = sweep_report.render("sweep-summary sweeps/digits-*.md", str(tmp_path), str(tmp_path / "docs"))
    lines = table.splitlines()
    assert lines[0] == ("| model | variant | overrides | successes | seeds | iterations | classifier FID "
                        "| classes ≥ 2.5% | confident share | table |")
    assert [line.split(" | ")[1] for line in lines[2:]] == ["steps8000", "shipped", "lr2", "late"]
    assert lines[3] == ("| wgan-gp | shipped | (shipped file) | 2 / 2 | 0-1 | 2,000 | 26.6 ± 0.5 | 10.0 ± 0.0 "
                        "| 0.800 ± 0.010 | [digits-gp](../sweeps/digits-gp.md) |")


def test_the_seeds_of_a_row_come_from_its_command_or_its_seed_override():
    assert sweep_report.seeds("python benchmarks/sweep.py --source digits", "(shipped file)") == "0-1"
    assert sweep_report.seeds("python benchmarks/sweep.py --seeds 1 --first_seed 1", "`z_dim=8`") == "1"
    assert sweep_report.seeds("python benchmarks/sweep.py --seeds=5", "`lr=0.0004`") == "0-4"
    assert sweep_report.seeds("python benchmarks/sweep.py --seeds 1", "`gp_lambda=1.0`, `seed=1`") == "1"


def test_a_file_that_is_not_a_sweep_table_is_named_with_its_line(tmp_path):
    with pytest.raises(ValueError, match="notes.md: not a sweep table"):
        (tmp_path / "notes.md").write_text("# notes\n\n| a | b |\n")
        sweep_report.read(str(tmp_path / "notes.md"))
    path = _write(tmp_path, "digits-gp", [_row("shipped", [], 2000, 26.6)])
    path.write_text(path.read_text() + "| extra | row |\n")
    with pytest.raises(ValueError, match=r"digits-gp.md, line 8: 2 cells under a header of 8"):
        sweep_report.read(str(path))
    with pytest.raises(ValueError, match="sweep-summary none-\\*.md: no file matches"):
        sweep_report.render("sweep-summary none-*.md", str(tmp_path), str(tmp_path))


def _run_sweep(tmp_path, *variants):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run([sys.executable, os.path.join(root, "benchmarks", "sweep.py"), "--source", "8gaussians",
                           "--model", "wgan-gp", "--seeds", "1", "--steps", "3", "--jobs", "1", "--output", "out",
                           *[a for v in variants for a in ("--variant", v)]],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          env=dict(os.environ, PYTHONPATH=root))


def test_a_sweep_run_as_a_user_would_writes_a_table_that_reads_back_and_a_rerun_trains_nothing(tmp_path):
    small = "batch_size=16,architecture.base_width=8,warmup_iterations=1"
    first = _run_sweep(tmp_path, f"tiny:{small}")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "[tiny] done in" in first.stdout
    sweep = sweep_report.read(str(tmp_path / "out" / "sweep.md"))
    assert (sweep["model"], sweep["source"]) == ("wgan-gp", "8gaussians")
    assert [(r["variant"], r["iterations"]) for r in sweep["rows"]] == [("tiny", "3")]
    saved = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert [row["variant"] for row in saved["rows"]] == ["tiny"] and saved["command"] == sweep["command"]
    assert not [name for name in os.listdir(tmp_path / "out") if name.endswith(".tmp")]

    # The same sweep again: its finished study is read back, nothing trains, the table is the same.
    table = (tmp_path / "out" / "sweep.md").read_text()
    again = _run_sweep(tmp_path, f"tiny:{small}")
    assert again.returncode == 0 and "done in" not in again.stdout
    assert (tmp_path / "out" / "sweep.md").read_text() == table


def test_a_sweep_with_a_misspelt_key_says_which_and_leaves_the_last_table_whole(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sweep.md").write_text("the last table\n")
    result = _run_sweep(tmp_path, "bad:batch_sise=16")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "batch_sise" in result.stderr and result.stderr.strip().count("\n") == 0
    assert (tmp_path / "out" / "sweep.md").read_text() == "the last table\n"
