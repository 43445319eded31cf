"""Generated Markdown blocks, and the benchmark tables made from bin/benchmark.py's JSON (tools/readme_tables.py)."""

import json
import os
import subprocess
import sys

import pytest

from wgan.lab import benchmark_report, doc_blocks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "tools", "readme_tables.py")


def test_replace_block_keeps_the_rest_and_refuses_text_without_the_block():
    begin, end = doc_blocks.markers("study-table")
    text = f"intro\n{begin}\nold\n{end}\nmiddle\n{begin}\nolder\n{end}\noutro\n"
    new = doc_blocks.replace_block(text, "study-table", "NEW")
    assert new == f"intro\n{begin}\nNEW\n{end}\nmiddle\n{begin}\nNEW\n{end}\noutro\n"
    assert doc_blocks.names(new) == ["study-table"]
    with pytest.raises(ValueError, match="study-table"):
        doc_blocks.replace_block("no markers", "study-table", "NEW")


def test_names_finds_each_block_with_its_prefix():
    one, two = "benchmark-table docs/a.json", "benchmark-table docs/b.json"
    text = "".join(f"{doc_blocks.markers(n)[0]}\nx\n{doc_blocks.markers(n)[1]}\n" for n in (one, "study-table", two))
    assert doc_blocks.names(text, "benchmark-table ") == [one, two]
    assert doc_blocks.names("<!-- a:begin -->\nno end\n") == []


def _row(model, side, precision, jit, its):
    return {"label": f"{model} {side} {precision} {jit}", "model": model, "architecture": "dcgan" if side else "mlp",
            "side": side, "precision": precision, "jit_compile": jit, "iterations_per_s": its,
            "real_images_per_s": its * 320, "first_iteration_s": 2.25, "gflop_per_iteration": 90.4,
            "gflops": its * 90.4}


def _results():
    rows = [_row("wgan", 32, "float32", False, 2.0), _row("wgan", 32, "mixed_bfloat16", False, 3.0),
            _row("wgan", 32, "float32", True, 1.0), _row("wgan-gp", 32, "float32", False, 1.0),
            _row("wgan-gp", 32, "mixed_bfloat16", False, 1.7), _row("wgan", None, "float32", False, 18.0)]
    return {"command": "python bin/benchmark.py --jit off,on", "models": rows,
            "machine": {"cpu": "AMD EPYC", "cores": 2, "tensorflow": "2.21.0", "keras": "3.15.1", "commit": "abc1234",
                        "date": "2026-12-02 15:00:00", "load_average": [0.5, 0.4, 0.3],
                        "load_average_after": [1.25, 0.9, 0.5]},
            "matmul": {"n": 2048, "gflops": {"float32": 215.0, "mixed_bfloat16": 1574.0}},
            "input": {"side": 32, "alone": {"batches_per_s": 709.4, "images_per_s": 45401.6},
                      "overhead": [{"model": "wgan", "precision": "mixed_bfloat16", "fraction": -0.009}]}}


def test_the_table_has_the_command_the_machine_every_row_and_the_speedups():
    table = benchmark_report.table(_results())
    lines = table.splitlines()
    assert lines[:3] == ["```sh", "python bin/benchmark.py --jit off,on", "```"]
    assert "AMD EPYC, 2 cores, TensorFlow 2.21.0, Keras 3.15.1, commit abc1234" in table
    assert "load average 0.50 before and 1.25 after" in table
    assert "| wgan | dcgan 32x32 | mixed_bfloat16 | off | 3.000 | 960 | 2.2 | 90.4 | 271 | 1574 | 0.17 |" in lines
    assert "| wgan | mlp toy | float32 | off | 18.000 | 5760 | 2.2 | 90.4 | 1627 | 215 | 7.57 |" in lines
    assert len([line for line in lines if line.startswith("| wgan")]) == 6
    # bfloat16 over float32: 1.5x (wgan) and 1.7x (wgan-gp); XLA halves wgan's float32 speed.
    assert "- mixed_bfloat16 over float32, dcgan 32x32: 1.50-1.70x" in lines
    assert "- XLA over no XLA, float32, dcgan 32x32: 0.50x" in lines
    assert "709 batches/s (45,402 images/s)" in table and "wgan -0.9% (mixed_bfloat16)" in table


def test_rows_that_say_their_files_length_get_minutes_a_run():
    results = _results()
    results["models"] = [dict(row, architecture="infogan", side=28, source="fashion_mnist", train_steps=3125)
                         for row in results["models"][3:5]]
    lines = [line for line in benchmark_report.table(results).splitlines() if line.startswith("| ")]
    assert lines[0].endswith("| ratio | file | train_steps | min / run |")
    # 3,125 iterations at 1.0 it/s: 52 min; at 1.7 it/s: 31 min
    assert lines[1].startswith("| wgan-gp | infogan 28x28 | float32 | off | 1.000 |")
    assert lines[1].endswith("| `wgan-gp-fashion_mnist.json` | 3,125 | 52 |")
    assert lines[2].endswith("| `wgan-gp-fashion_mnist.json` | 3,125 | 31 |")
    assert "min / run" not in benchmark_report.table(_results())  # an older JSON: no lengths, no column
    results["models"][0]["file_side"] = 64  # a 64x64 file timed at 28x28: not a run of the file, no minutes
    line = [line for line in benchmark_report.table(results).splitlines() if line.startswith("| wgan-gp")][0]
    assert line.endswith("| `wgan-gp-fashion_mnist.json` at 64x64 | 3,125 | |")


def test_rows_timed_with_several_iterations_per_call_get_a_column_and_their_own_speedups():
    results = _results()
    assert "steps/call" not in benchmark_report.table(results)  # older JSON, or only 1: the table as before
    results["models"] += [dict(_row("wgan", 32, "float32", False, 2.5), steps_per_call=8),
                          dict(_row("wgan", 32, "mixed_bfloat16", False, 3.3), steps_per_call=8)]
    lines = benchmark_report.table(results).splitlines()
    assert "| model | network | precision | XLA | steps/call | it/s |" in lines[6]
    assert "| wgan | dcgan 32x32 | float32 | off | 8 | 2.500 | 800 |" in "\n".join(lines)
    assert "| wgan | dcgan 32x32 | float32 | off | 1 | 2.000 | 640 |" in "\n".join(lines)
    # 2.5 / 2.0 and 3.3 / 3.0; the precision speed-ups still compare rows of one iteration per call
    assert "- 8 iterations per call over 1, float32, dcgan 32x32: 1.25x" in lines
    assert "- 8 iterations per call over 1, mixed_bfloat16, dcgan 32x32: 1.10x" in lines
    assert "- mixed_bfloat16 over float32, dcgan 32x32: 1.50-1.70x" in lines


def test_the_inception_cost_table_gives_minutes_for_ten_and_fifty_thousand_images(tmp_path):
    results = {k: v for k, v in _results().items() if k in ("command", "machine")}
    results["rows"] = [{"network": "stand-in", "run": run, "cores": 2, "batch": 50, "batches": 6, "images_per_s": rate}
                       for run, rate in ((1, 5.3), (2, 9.5))]
    (tmp_path / "inception.json").write_text(json.dumps(results))
    table = benchmark_report.render("inception-cost-table inception.json", str(tmp_path))
    assert "6 timed batches of images a run, after one untimed, on AMD EPYC" in table
    # 10,000 / 5.3 / 60 = 31.4 and 50,000 / 5.3 / 60 = 157.2 minutes
    assert "| stand-in, run 1 | 2 | 50 | 5.3 | 31 | 157 |" in table.splitlines()
    assert "| stand-in, run 2 | 2 | 50 | 9.5 | 18 | 88 |" in table.splitlines()


def test_load_names_the_file_that_is_not_a_benchmark(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{\n  \"models\": [\n")
    with pytest.raises(ValueError, match=r"bad.json: not JSON \(line 3"):
        benchmark_report.render("benchmark-table bad.json", str(tmp_path))
    bad.write_text(json.dumps({"models": []}))
    with pytest.raises(ValueError, match="bad.json: not the result this block shows .no machine, matmul"):
        benchmark_report.render("benchmark-table bad.json", str(tmp_path))
    with pytest.raises(ValueError, match="missing.json: cannot read it"):
        benchmark_report.render("recipe-table missing.json", str(tmp_path))


def test_the_recipe_table_has_every_recipe_and_the_real_test_split():
    scores = {"cfid": 39.04, "confident": 0.2312, "classes": 10, "class_histogram": [0.05, 0.15] + [0.1] * 8}
    results = {"command": "python benchmarks/keras_io_wgan_gp.py --seconds 720", "seconds": 720.0, "num": 10000,
               "machine": _results()["machine"], "classifier": {"accuracy": 0.914, "evaluated_on": "the test split"},
               "rows": [{"recipe": "keras-io recipe", "steps": 63, "seconds": 720.0, "images": 32256,
                         "train_images": 60000, "scores": {**scores, "judged": 10000}}],
               "real_test": {**scores, "cfid": 0.2, "images": 10000}}
    # Results from before the judged count was kept were scored on the first 1,000 samples.
    results["rows"][0]["scores"].pop("judged")
    assert "scored on 1,000 samples" in benchmark_report.recipe_table(results)
    results["rows"][0]["scores"]["judged"] = 10000
    lines = benchmark_report.recipe_table(results).splitlines()
    assert lines[:3] == ["```sh", "python benchmarks/keras_io_wgan_gp.py --seconds 720", "```"]
    assert lines[4].startswith("Same wall clock (720 s of training each), scored on 10,000 samples by the "
                               "Fashion-MNIST classifier (91.4% accuracy on the test split); AMD EPYC, 2 cores")
    assert "| keras-io recipe | 63 | 0.0875 | 0.54 | 39.04 | 0.231 | 10 | 5.0% - 15.0% |" in lines
    assert lines[-1] == "| real test split (10,000 images) |  |  |  | 0.20 | 0.231 | 10 | 5.0% - 15.0% |"


def test_conditional_recipes_add_class_agreement_with_the_classifiers_accuracy_as_the_real_rows():
    scores = {"cfid": 9.5, "confident": 0.6, "classes": 10, "class_histogram": [0.1] * 10}
    results = {"command": "python benchmarks/keras_io_conditional.py", "seconds": 900.0, "num": 10000,
               "machine": _results()["machine"], "classifier": {"accuracy": 0.914, "evaluated_on": "the test split"},
               "rows": [{"recipe": "keras-io conditional GAN", "steps": 900, "seconds": 900.0, "images": 57600,
                         "train_images": 60000, "scores": {**scores, "agreement": 0.7012, "icfid": 21.456}},
                        {"recipe": "toolkit", "steps": 1800, "seconds": 900.0, "images": 230400,
                         "train_images": 60000, "scores": {**scores, "agreement": 0.88, "icfid": 12.0}}],
               "real_test": {**scores, "cfid": 0.2, "images": 10000}}
    lines = benchmark_report.recipe_table(results).splitlines()
    header = [line for line in lines if line.startswith("| recipe")][0]
    assert "| class agreement | intra-class cFID | classifier FID |" in header
    assert lines[lines.index(header) + 1].count("|") == header.count("|")
    assert "| keras-io conditional GAN | 900 | 1 | 0.96 | 0.701 | 21.46 | 9.50 | 0.600 | 10 | 10.0% - 10.0% |" in lines
    # Real test images of each class are judged right as often as the classifier is accurate.
    assert lines[-1] == "| real test split (10,000 images) |  |  |  | 0.914 |  | 0.20 | 0.600 | 10 | 10.0% - 10.0% |"


def test_the_capacity_table_has_each_critics_estimate_and_its_per_layer_norms():
    surfaces = [{"source": source, "critic": critic, "wasserstein": w}
                for source, ws in (("8gaussians", (0.1164, 3.8786)), ("swissroll", (0.1375, 2.5213)))
                for critic, w in zip(("weight clipping (c = 0.01)", "gradient penalty (λ = 0.1)"), ws)]
    deep = [{"label": "weight clipping c = 0.01", "activation_norms": [2.5e-15, 4.9e-3, 8.8e-2],
             "kernel_norms": [7.3e-15, 2.4e-12, 7.0e-10]},
            {"label": "gradient penalty", "activation_norms": [0.26, 0.084, 0.088], "kernel_norms": [0.89, 12.0, 13.0]}]
    results = {"command": "python benchmarks/critic_capacity.py --steps 2000", "machine": _results()["machine"],
               "steps": 2000, "deep_layers": 2, "deep_width": 128, "surfaces": surfaces, "deep": deep}
    lines = benchmark_report.capacity_table(results).splitlines()
    assert lines[:3] == ["```sh", "python benchmarks/critic_capacity.py --steps 2000", "```"]
    assert lines[6] == "| data | W estimate, weight clipping (c = 0.01) | W estimate, gradient penalty (λ = 0.1) |"
    assert "| 8gaussians | 0.116 | 3.879 |" in lines and "| swissroll | 0.138 | 2.521 |" in lines
    assert "| critic | layer 0 | layer 1 | layer 2 |" in lines
    assert "| weight clipping c = 0.01 | 2.5e-15 | 4.9e-03 | 8.8e-02 |" in lines
    assert lines[-1] == "| gradient penalty | 8.9e-01 | 1.2e+01 | 1.3e+01 |"
    assert "2 x 128 ReLU critic, swissroll, 2,000 updates" in benchmark_report.capacity_table(results)


def test_the_surfaces_table_has_each_pair_with_its_score_gap_and_slopes():
    rows = [{"source": "8gaussians", "label": "WGAN, weight clipping", "score_gap": 0.0123, "grad_real": 0.0051,
             "grad_fake": 0.0049},
            {"source": "8gaussians", "label": "NS-GAN, R1", "score_gap": 2.5, "grad_real": 0.021, "grad_fake": 1.75}]
    results = {"command": "python benchmarks/value_surfaces.py", "machine": _results()["machine"], "steps": 2000,
               "gamma": 1.0, "rows": rows}
    lines = benchmark_report.surfaces_table(results).splitlines()
    assert lines[:3] == ["```sh", "python benchmarks/value_surfaces.py", "```"]
    assert "trained for 2,000 updates" in lines[4] and "R1 and R2 at γ = 1;" in lines[4]
    assert "| 8gaussians | WGAN, weight clipping | 0.012 | 0.005 | 0.005 |" in lines
    assert lines[-1] == "| 8gaussians | NS-GAN, R1 | 2.500 | 0.021 | 1.750 |"


def test_the_data_table_has_each_compression_with_build_read_and_size():
    rows = [{"compression": "none", "build_1": 1403.2, "build_all": 2005.0, "read": 35600.4, "megabytes": 24.64},
            {"compression": "gzip", "build_1": 1058.0, "build_all": 1511.0, "read": 11400.0, "megabytes": 19.92}]
    results = {"command": "python benchmarks/bench_data.py --json d.json", "machine": _results()["machine"],
               "images": 2000, "jpeg_size": "178x218", "crop": 108, "resize": 64, "batch": 64, "workers": 2,
               "rows": rows}
    lines = benchmark_report.data_table(results).splitlines()
    assert lines[:3] == ["```sh", "python benchmarks/bench_data.py --json d.json", "```"]
    assert lines[4].startswith("2,000 generated 178x218 JPEGs, crop 108, resize 64; AMD EPYC, 2 cores")
    assert "| compression | build, 1 worker | build, 2 workers | read, batches of 64 | size |" in lines
    assert lines[-2:] == ["| none | 1,403 img/s | 2,005 img/s | 35,600 img/s | 24.6 MB |",
                          "| gzip | 1,058 img/s | 1,511 img/s | 11,400 img/s | 19.9 MB |"]


def test_the_faults_table_has_every_fault_and_lists_the_failures():
    rows = [{"fault": "SIGKILL during a build, then rerun", "injected": 3, "survived": 3, "lost": "none"},
            {"fault": "flip: hyperparameters.json", "injected": 3, "survived": 2, "lost": "10 iterations"}]
    results = {"command": "python tools/inject_faults.py --repeats 3", "machine": _results()["machine"],
               "repeats": 3, "seed": 0, "seconds": 815.6, "checkpoint_every": 10, "rows": rows,
               "failures": ["flip: hyperparameters.json #2: accepted silently"]}
    lines = benchmark_report.faults_table(results).splitlines()
    assert lines[4].startswith("816 s, seed 0, a checkpoint every 10 iterations; AMD EPYC, 2 cores")
    assert "| SIGKILL during a build, then rerun | 3 | 3 | none |" in lines
    assert "| flip: hyperparameters.json | 3 | 2 | 10 iterations |" in lines
    assert lines[-2:] == ["", "- flip: hyperparameters.json #2: accepted silently"]
    results["failures"] = []
    assert benchmark_report.faults_table(results).splitlines()[-1] == "| flip: hyperparameters.json | 3 | 2 | 10 iterations |"


def test_the_resume_table_has_each_skip_with_its_epochs_and_seconds():
    rows = [{"data": "records 28x28", "skip_batches": 938, "epochs": 1.0005, "seconds": 1.512},
            {"data": "toy 8gaussians", "skip_batches": 15625, "epochs": None, "seconds": 0.371}]
    results = {"command": "python benchmarks/bench_resume.py --json r.json", "machine": _results()["machine"],
               "images": 60000, "batch": 64, "repeats": 3, "rows": rows}
    lines = benchmark_report.resume_table(results).splitlines()
    assert lines[4].startswith("records of 60,000 generated 28x28 grey images and the 8gaussians toy set, "
                               "batches of 64, median of 3; AMD EPYC, 2 cores")
    assert lines[-2:] == ["| records 28x28 | 938 | 1.0 | 1.51 |", "| toy 8gaussians | 15,625 |  | 0.37 |"]


def _yardstick_results():
    """A small yardsticks.json: one row of each kind, two with fewer images than ``num``."""
    scores = {"classes": 10, "confident": 0.994, "class_histogram": [0.1] * 10}
    rows = [{"kind": "real", "first": 0, "images": 1000, **scores, "cfid": 2.96},
            {"kind": "real", "first": 1000, "images": 718, **scores, "cfid": 5.71},
            {"kind": "noise", "std": 0.3, "images": 1000, **scores, "cfid": 12.04},
            {"kind": "blur", "size": 2, "images": 1000, **scores, "cfid": 34.4},
            {"kind": "classes", "only_classes": [0, 1, 2, 3, 4], "images": 860, **scores, "cfid": 143.0,
             "classes": 5},
            {"kind": "classes", "only_classes": [1, 7], "images": 1000, **scores, "cfid": 80.31, "classes": 2},
            {"kind": "uniform", "low": -1.0, "high": 1.0, "images": 1000, **scores, "cfid": 402.33,
             "confident": 0.059, "classes": 9}]
    return {"command": "python benchmarks/yardsticks.py --json y.json", "machine": _results()["machine"],
            "records": 1718, "num": 1000, "seed": 0, "seconds": 3.8, "rows": rows,
            "classifier": {"accuracy": 0.9913, "evaluated_on": "20% of the training records, held out"}}


def test_the_yardstick_table_labels_each_row_from_how_it_was_made(tmp_path):
    (tmp_path / "y.json").write_text(json.dumps(_yardstick_results()))
    lines = benchmark_report.render("yardstick-table y.json", str(tmp_path)).splitlines()
    assert lines[:3] == ["```sh", "python benchmarks/yardsticks.py --json y.json", "```"]
    assert lines[4].startswith("1,000 images a row unless said, scored like a training run's samples against all "
                               "1,718 digits records by their classifier (99.1% accuracy on 20% of the training "
                               "records, held out), noise seed 0, 4 s to load and score; AMD EPYC, 2 cores")
    assert lines[6:] == ["| images | cfid | classes | confident |", "|---|---:|---:|---:|",
                         "| real digits (first 1,000) | 3.0 | 10 | 0.994 |",
                         "| real digits (the other 718) | 5.7 | 10 | 0.994 |",
                         "| real + Gaussian pixel noise, std 0.3 (of the [−1, 1] range) | 12.0 | 10 | 0.994 |",
                         "| real, 2x2 box blur | 34.4 | 10 | 0.994 |",
                         "| real, only classes 0–4 (860 images) | 143.0 | 5 | 0.994 |",
                         "| real, only classes 1, 7 | 80.3 | 2 | 0.994 |",
                         "| uniform pixel noise over [−1, 1] | 402.3 | 9 | 0.059 |"]
    broken = {k: v for k, v in _yardstick_results().items() if k != "classifier"}
    (tmp_path / "y.json").write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="y.json: not the result this block shows .no classifier"):
        benchmark_report.render("yardstick-table y.json", str(tmp_path))


def test_the_health_cost_table_has_each_run_on_and_off_and_the_monitors_share(tmp_path):
    rows = [{"model": "wgan-gp", "data": "digits", "architecture": "dcgan", "steps": 300, "eval_every": 100,
             "evaluations": 3, "seconds_on": 46.5, "monitor_seconds": 1.07, "seconds_off": 45.2, "tripped": []},
            {"model": "wgan-gp", "data": "fashion_mnist", "architecture": "infogan", "steps": 200, "eval_every": 50,
             "evaluations": 4, "seconds_on": 144.9, "monitor_seconds": 1.63, "seconds_off": 154.1,
             "tripped": ["stalled"]}]
    results = {"command": "python benchmarks/bench_health.py --json h.json", "machine": _results()["machine"],
               "rows": rows}
    (tmp_path / "h.json").write_text(json.dumps(results))
    lines = benchmark_report.render("health-cost-table h.json", str(tmp_path)).splitlines()
    assert lines[:3] == ["```sh", "python benchmarks/bench_health.py --json h.json", "```"]
    assert lines[4].startswith("each run trained twice from scratch, with the monitor on and off, on AMD EPYC, 2 cores")
    assert lines[-2:] == [
        "| wgan-gp digits (dcgan networks), 300 iterations, 3 evaluations | 46.5 s | 1.07 s (2.3%) | 45.2 s "
        "| nothing |",
        "| wgan-gp fashion_mnist (infogan networks), 200 iterations, 4 evaluations | 144.9 s | 1.63 s (1.1%) "
        "| 154.1 s | stalled |"]


def _repo(tmp_path, results):
    """A README with an empty study table and a doc with a stale benchmark table over docs/benchmarks/run.json."""
    (tmp_path / "docs" / "benchmarks").mkdir(parents=True)
    (tmp_path / "docs" / "benchmarks" / "run.json").write_text(results)
    study_begin, study_end = doc_blocks.markers("study-table")
    (tmp_path / "README.md").write_text(f"a\n{study_begin}\n{study_end}\n")
    begin, end = doc_blocks.markers("benchmark-table docs/benchmarks/run.json")
    (tmp_path / "docs" / "scale.md").write_text(f"intro\n{begin}\nstale\n{end}\noutro\n")
    return ["--readme", str(tmp_path / "README.md"), "--studies", os.path.join(ROOT, "docs", "study")]


def test_the_tool_rewrites_a_stale_benchmark_table_from_its_json(tmp_path):
    args = _repo(tmp_path, json.dumps(_results()))
    check = subprocess.run([sys.executable, TOOL, *args, "--check"], capture_output=True, text=True)
    assert check.returncode == 1 and "docs/scale.md" in check.stderr and "README.md" in check.stderr
    assert subprocess.run([sys.executable, TOOL, *args], capture_output=True).returncode == 0
    text = (tmp_path / "docs" / "scale.md").read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "| 3.000 | 960 |" in text
    assert subprocess.run([sys.executable, TOOL, *args, "--check"], capture_output=True).returncode == 0


def test_the_tool_names_a_broken_benchmark_json_and_writes_nothing(tmp_path):
    args = _repo(tmp_path, "{ not json")
    before = (tmp_path / "docs" / "scale.md").read_text()
    result = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "docs/scale.md" in result.stderr and "run.json: not JSON (line 1" in result.stderr
    assert (tmp_path / "docs" / "scale.md").read_text() == before


def test_the_benchmark_times_a_sources_second_files_and_says_which(tmp_path):
    """bin/benchmark.py --setups default,lucic2018, run as a user would: one row per file, each named in the table."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = tmp_path / "fashion.json"
    result = subprocess.run([sys.executable, os.path.join(root, "bin", "benchmark.py"), "--source", "fashion_mnist",
                             "--architectures", "infogan", "--sizes", "28", "--setups", "default,lucic2018",
                             "--models", "dcgan", "--precision", "float32", "--notoy", "--noinput", "--iterations",
                             "1", "--matmul_n", "64", "--json", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["models"]
    assert [(row["architecture"], row["setup"], row["train_steps"], row["file_side"]) for row in rows] == \
        [("dcgan", None, 20_000, 28), ("infogan", "lucic2018", 15_625, 28)]
    table = benchmark_report.table(json.loads(out.read_text()))
    assert "`dcgan-fashion_mnist.json` | 20,000 |" in table and "`dcgan-fashion_mnist-lucic2018.json` | 15,625 |" in table
