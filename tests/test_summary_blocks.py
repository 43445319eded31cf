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


def test_the_own_data_table_gives_each_seed_a_row_and_a_folder_of_several_seeds_their_mean(tmp_path):
    def row(data, seed, cfid, confident, histogram):
        return {"data": data, "seed": seed, "budget": "30m", "step": 3000, "precision": "float32", "num": 10000,
                "scores": {"cfid": cfid, "confident": confident, "class_histogram": histogram},
                "classifier_accuracy": 0.914, "real_test": {"cfid": 0.2, "confident": 0.8,
                                                            "class_histogram": [0.5, 0.5]}}

    rows = [row("/f/classes", 0, 6.0, 0.70, [0.4, 0.6]), row("/f/classes", 1, 8.0, 0.74, [0.45, 0.55]),
            row("/f/flat", 0, 9.0, 0.60, [0.3, 0.7]),
            {**row("/f/classes", 0, 5.0, 0.72, [0.5, 0.5]), "judged": 10000}]
    (tmp_path / "s.json").write_text(json.dumps(rows))
    text = own_data_report.own_data_table(own_data_report.OWN_DATA_BLOCK + "s.json", str(tmp_path), str(tmp_path))
    lines = text.splitlines()
    # Rows that do not say how many samples were judged come from before the count was kept: 1,000.
    assert "| classes | 1 | 30m | 3,000 | float32 | 1,000 | 8.0 | 0.740 | 45.0% - 55.0% |" in lines
    assert "| classes | 0 | 30m | 3,000 | float32 | 10,000 | 5.0 | 0.720 | 50.0% - 50.0% |" in lines
    # The mean covers one folder's seeds scored on as many samples, and its share range spans them all.
    assert "| **mean of 2 seeds** | | | | | 1,000 | **7.0** | **0.720** | 40.0% - 60.0% |" in lines
    assert sum("mean of" in line for line in lines) == 1
    assert lines[-3].startswith("| real test images |")


def test_the_judges_table_bolds_each_judges_pick_and_gives_its_rank_correlation(tmp_path):
    def snapshot(step, cfid, swd, w_heldout):
        return {"checkpoint": f"snapshot {step // 100}", "step": step, "cfid": cfid, "confident": 0.5, "swd": swd,
                "swd_levels": [swd, swd], "swd_logged": swd, "w_heldout_logged": w_heldout}

    result = {"data": "/f/fashion_mnist-2000-flat", "seed": 0, "train_steps": 300, "precision": "float32",
              "num": 5000, "swd_samples": 1000, "reference_images": 1920, "classifier_accuracy": 0.914,
              "snapshots": [snapshot(100, 40.0, 90.0, 0.2), snapshot(200, 20.0, 60.0, 0.5),
                            snapshot(300, 10.0, 70.0, 0.9)],
              "spearman_with_cfid": {"swd": 0.5, "w_heldout": -1.0}, "picked_step": {"cfid": 300, "swd": 200,
                                                                                      "w_heldout": 100}}
    (tmp_path / "j.json").write_text(json.dumps([result]))
    text = own_data_report.judges_table(own_data_report.JUDGES_BLOCK + "j.json", str(tmp_path), str(tmp_path))
    lines = text.splitlines()
    assert "| 100 | snapshot 1 | 40.0 | 0.500 | 90.0 | **0.200** |" in lines
    assert "| 200 | snapshot 2 | 20.0 | 0.500 | **60.0** | 0.500 |" in lines
    assert "| 300 | snapshot 3 | **10.0** | 0.500 | 70.0 | 0.900 |" in lines
    assert "over the 3 checkpoints: swd +0.50, w_heldout -1.00." in text


def test_the_judges_table_gives_each_candidate_feature_fid_a_column_of_its_own(tmp_path):
    rows = [{"checkpoint": f"snapshot {i}", "step": step, "cfid": cfid, "confident": 0.5, "swd": 10.0 + i,
             "w_heldout_logged": None, "fid_rotation": rotation, "fid_random": random}
            for i, (step, cfid, rotation, random) in enumerate([(100, 30.0, 9.0, 0.02), (200, 10.0, 3.0, 0.01)])]
    result = {"data": "/f/flat", "seed": 1, "train_steps": 6500, "precision": "float32", "num": 5000,
              "swd_samples": 1000, "reference_images": 1897, "classifier_accuracy": 0.914, "snapshots": rows,
              "spearman_with_cfid": {"swd": -1.0, "fid_rotation": 1.0, "fid_random": 1.0},
              "picked_step": {"cfid": 200, "swd": 100, "fid_rotation": 200, "fid_random": 200}}
    (tmp_path / "j.json").write_text(json.dumps([result]))
    lines = own_data_report.judges_table(own_data_report.JUDGES_BLOCK + "j.json", str(tmp_path),
                                         str(tmp_path)).splitlines()
    assert ("| step | checkpoint | classifier FID | confident share | swd | FID in rotation features | "
            "FID in random features | w_heldout (logged) |") in lines
    assert "| 200 | snapshot 1 | **10.0** | 0.500 | 11.0 | **3.000** | **0.010** |  |" in lines
    assert lines[0] == "flat, seed 1, the first 200 of its 6,500 iterations (float32):"  # --steps 200 of the file's
