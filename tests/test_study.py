"""The stability study: criteria, tables, and bin/study.py end to end (2 seeds x 3 models, a few steps)."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from conftest import tf_lines
from wgan import config, runs
from wgan.lab import study
from wgan.errors import ConfigError, RunError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")


def test_toy_criterion_needs_every_mode():
    criterion = study.CRITERIA["8gaussians"]
    assert "fewer than all 8 modes" in criterion.text and "3 standard deviations" in criterion.text
    assert criterion.verdict({"modes": 8, "num_modes": 8, "hq": 0.2, "w1": 0.1}) is None
    assert criterion.verdict({"modes": 7, "num_modes": 8, "hq": 0.9, "w1": 0.1}) == "covers 7 of 8 modes"


def test_digit_criterion_needs_every_class_and_a_low_classifier_fid():
    criterion = study.CRITERIA["digits"]
    limit = study.DIGITS_CFID_MAX
    assert f"above {limit:g}" in criterion.text and "10 classes" in criterion.text
    assert criterion.verdict({"classes": 10, "cfid": limit - 1, "confident": 0.9}) is None
    assert criterion.verdict({"classes": 6, "cfid": limit - 1, "confident": 0.9}) == "6 of 10 classes"
    assert "cfid" in criterion.verdict({"classes": 10, "cfid": limit + 1, "confident": 0.9})


def fake_result(model, seed, modes, seconds):
    metrics = {"modes": modes, "num_modes": 8, "hq": modes / 10, "w1": 1.0 / (1 + modes)}
    return {"model": model, "seed": seed, "metrics": metrics, "train_seconds": seconds,
            "failure": study.CRITERIA["8gaussians"].verdict(metrics)}


def test_summary_counts_successes_and_averages():
    results = [fake_result("dcgan", 0, 8, 10.0), fake_result("dcgan", 1, 4, 20.0), fake_result("wgan-gp", 0, 8, 30.0)]
    rows = {r["model"]: r for r in study.summarize(results, "8gaussians", ["dcgan", "wgan-gp"])}
    assert (rows["dcgan"]["runs"], rows["dcgan"]["successes"]) == (2, 1)
    assert rows["dcgan"]["modes"] == {"mean": 6.0, "std": 2.0}
    assert rows["dcgan"]["train_seconds"] == {"mean": 15.0, "std": 5.0}
    assert rows["wgan-gp"]["successes"] == 1


def test_bad_study_arguments_fail_before_training(tmp_path):
    with pytest.raises(ConfigError, match="failure criterion for 8gaussians, 25gaussians, digits, mnist"):
        study.run_study("swissroll", ["wgan"], [0], 5, str(tmp_path))
    with pytest.raises(ConfigError, match="--models: gan"):
        study.run_study("8gaussians", ["gan"], [0], 5, str(tmp_path))
    with pytest.raises(ConfigError, match="unknown key 'batch_sise'"):
        study.run_study("8gaussians", ["wgan"], [0], 5, str(tmp_path), overrides=[("batch_sise", 8)])
    assert not os.listdir(tmp_path)


def run_study_cli(*args, cwd):
    """bin/study.py as a user starts it: TF_CPP_MIN_LOG_LEVEL unset, so TensorFlow lines would show."""
    env = {k: v for k, v in ENV.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, os.path.join(REPO, "bin", "study.py"), *args], capture_output=True,
                          text=True, env=env, cwd=str(cwd), timeout=600)


def test_study_end_to_end_two_seeds_three_models(tmp_path):
    small = ["--set", "batch_size=32", "--set", "architecture.base_width=16", "--set", "warmup_iterations=2"]
    proc = run_study_cli("--source", "8gaussians", "--seeds", "2", "--steps", "4", "--jobs", "2",
                         "--models", "dcgan,wgan,wgan-gp", "--output", "out", *small, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert tf_lines(proc) == []  # nor from the spawned pool workers (--jobs 2 always uses the pool)
    out = tmp_path / "out"
    report = json.loads((out / "study.json").read_text())
    assert [(r["model"], r["seed"]) for r in report["runs"]] == [(m, s) for m in ("dcgan", "wgan", "wgan-gp")
                                                                  for s in (0, 1)]
    assert all(r["step"] == 4 and set(r["metrics"]) >= {"modes", "hq", "w1"} for r in report["runs"])
    assert all(r["failure"] == f"covers {r['metrics']['modes']} of 8 modes" for r in report["runs"]
               if r["metrics"]["modes"] < 8)
    assert [row["runs"] for row in report["summary"]] == [2, 2, 2]
    assert report["criterion"] == study.CRITERIA["8gaussians"].text and report["steps"] == 4

    table = (out / "study.md").read_text()
    assert "Command: `python bin/study.py --source 8gaussians --seeds 2 --steps 4" in table
    assert report["criterion"] in table
    assert table.count("| dcgan |") == 3 and table.count("| wgan-gp |") == 3  # summary row + 2 runs
    assert table in proc.stdout

    picture = Image.open(out / "study.png")
    assert picture.size[1] > picture.size[0] > 2 * 220  # 3 models x 2 seeds of 220-pixel panels
    assert os.path.getsize(out / "study.png") < 300_000

    # The runs live in the study's own checkpoint folder, with their evaluation stored.
    vdir = out / "checkpoint" / "wgan-gp-8gaussians" / "v2"
    assert json.loads((vdir / "hyperparameters.json").read_text())["seed"] == 1
    assert runs.list_snapshots(str(vdir))[-1]["metrics"]["w1"] == pytest.approx(report["runs"][-1]["metrics"]["w1"])
    assert not (tmp_path / "checkpoint").exists()

    # Started again: every run is complete, so nothing is retrained and the numbers repeat.
    again = study.run_study("8gaussians", ["wgan-gp"], [1], 4, str(out), overrides=_overrides(small), log=lambda _: 0)
    assert again["runs"][0]["metrics"] == report["runs"][-1]["metrics"]
    assert again["runs"][0]["train_seconds"] == report["runs"][-1]["train_seconds"]
    assert sorted(os.listdir(out / "checkpoint" / "wgan-gp-8gaussians")) == ["v1", "v2"]


def test_an_interrupted_run_writes_no_report_and_the_rerun_finishes_it(tmp_path, monkeypatch):
    from wgan.train import launch

    out, small = str(tmp_path / "out"), [("batch_size", 32), ("architecture.base_width", 16)]
    until_step = launch.until_step
    monkeypatch.setattr(launch, "until_step", lambda step: until_step(2))  # as if SIGTERM came after step 2
    with pytest.raises(RunError, match=r"wgan-gp-8gaussians/v1 stopped at step 2 of 4, so no report was written"):
        study.run_study("8gaussians", ["wgan-gp"], [0], 4, out, overrides=small, log=lambda _: 0)
    assert not os.path.exists(os.path.join(out, "study.json")) and not os.path.exists(os.path.join(out, "study.md"))
    monkeypatch.setattr(launch, "until_step", until_step)
    report = study.run_study("8gaussians", ["wgan-gp"], [0], 4, out, overrides=small, log=lambda _: 0)
    assert [(r["step"], r["resumed"]) for r in report["runs"]] == [(4, True)]


def _children(pid):
    """PIDs of the multiprocessing workers that ``pid`` started (Linux /proc)."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            found += [int(child) for child in f.read().split()]
    workers = []
    for child in found:
        with open(f"/proc/{child}/cmdline", "rb") as f:
            if b"spawn_main" in f.read():
                workers.append(child)
    return workers


def _running(pid):
    """False once ``pid`` has exited (a zombie nobody reaped counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the workers die with the study through Linux's prctl")
def test_killing_the_study_process_stops_its_workers_at_a_checkpoint(tmp_path):
    # A study killed alone (kill -9 PID, a scheduler's SIGTERM) once left its workers training
    # on, unseen. Now each worker gets SIGTERM, saves its run and exits; the same command resumes.
    out = tmp_path / "out"
    script = (f"from wgan.lab import study\n"
              f"study.run_study('8gaussians', ['wgan-gp'], [0, 1], 100000, {str(out)!r}, jobs=2, log=print,\n"
              f"                overrides=[('batch_size', 32), ('architecture.base_width', 16), ('eval_every', 0)])\n")
    parent = subprocess.Popen([sys.executable, "-c", script], env=ENV, cwd=str(tmp_path),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    vdirs = [out / "checkpoint" / "wgan-gp-8gaussians" / v for v in ("v1", "v2")]
    deadline = time.time() + 240
    while not all((vdir / runs.METRICS_FILE).exists() for vdir in vdirs):  # both runs are training
        assert parent.poll() is None and time.time() < deadline, "the study did not start both runs"
        time.sleep(0.5)
    workers = _children(parent.pid)
    assert len(workers) == 2
    parent.kill()
    parent.wait()
    deadline = time.time() + 120
    while any(_running(pid) for pid in workers):
        assert time.time() < deadline, "the workers kept training after the study process died"
        time.sleep(0.5)
    steps = [runs.latest_step(str(vdir)) for vdir in vdirs]
    assert all(0 < step < 100000 for step in steps), steps  # each saved where it stopped


def test_after_a_failed_run_no_further_run_starts():
    import concurrent.futures
    import threading

    started, release = [], threading.Event()

    def run(task):
        started.append(task)
        if task == 0:
            raise RunError("run 0 stopped at step 2 of 4")
        release.wait(5)  # the other run is still training when run 0 fails
        return task

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        with pytest.raises(RunError, match="run 0 stopped"):
            list(study.in_turn(pool, run, [0, 1, 2, 3], jobs=2))
        release.set()
    assert sorted(started) == [0, 1]  # runs 2 and 3 never started

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert sorted(study.in_turn(pool, lambda task: task * 10, [1, 2, 3], jobs=2)) == [10, 20, 30]


def test_a_report_is_read_back_only_for_the_same_study(tmp_path):
    (tmp_path / "study.json").write_text(json.dumps({"seed_values": [0, 1], "steps": None,
                                                     "overrides": ["gp_lambda=1"]}))
    assert study.finished_report(str(tmp_path), [0, 1], None, [("gp_lambda", 1)]) is not None
    # Another seed list, length or override is another study (benchmarks/sweep.py then runs it).
    assert study.finished_report(str(tmp_path), [0], None, [("gp_lambda", 1)]) is None
    assert study.finished_report(str(tmp_path), [0, 1], 500, [("gp_lambda", 1)]) is None
    assert study.finished_report(str(tmp_path), [0, 1], None, [("gp_lambda", 10)]) is None
    assert study.finished_report(str(tmp_path / "elsewhere"), [0, 1], None, []) is None
    # ... and so is a study of the other files (--setup toolkit).
    assert study.finished_report(str(tmp_path), [0, 1], None, [("gp_lambda", 1)], setup="toolkit") is None


def _overrides(args):
    from wgan import config

    return [config.parse_override(v) for v in args[1::2]]


def test_the_figure_keeps_each_picture_square(tmp_path):
    """A square picture (a black square in a white frame) renders as a square in study.png."""
    import matplotlib.image

    picture = np.full((60, 60, 1), 255, np.uint8)
    picture[10:50, 10:50] = 0
    results = [{"model": m, "seed": s, "failure": None, "picture": picture} for m in ("dcgan", "wgan") for s in (0, 1, 2)]
    path = str(tmp_path / "study.png")
    study.figure(results, ["dcgan", "wgan"], [0, 1, 2], path)
    grey = matplotlib.image.imread(path)[..., :3].mean(axis=-1)
    dark = grey < 0.2
    # The first panel's black square: its bounding box in the top-left quarter of the figure.
    quarter = dark[: dark.shape[0] // 2, : dark.shape[1] // 3]
    # Rows and columns that cross the square (text strokes are far shorter than its side).
    height, width = int((quarter.sum(axis=1) > 20).sum()), int((quarter.sum(axis=0) > 20).sum())
    assert height > 20
    assert abs(height - width) <= 2, (height, width)


def test_without_steps_each_model_keeps_its_files_budget():
    shipped = config.shipped_models("fashion_mnist", setup="lucic2018")
    budgets = {m: study.study_hparams(m, "fashion_mnist", 0, None, setup="lucic2018").train_steps for m in shipped}
    assert budgets == {"dcgan": 15_625, "wgan": 3_125, "wgan-gp": 3_125}  # the paper's 15,625 critic steps each
    hp = study.study_hparams("wgan", "fashion_mnist", 0, None, setup="lucic2018")
    assert hp.snapshot_every == 3_125 and hp.architecture.name == "infogan"
    # The toolkit's own files keep theirs too.
    assert study.study_hparams("wgan-gp", "fashion_mnist", 0, None).train_steps == 6_500
    assert "fashion_mnist" in study.SOURCES


def test_a_setup_trains_each_model_from_its_second_file():
    """--setup lucic2018: hyperparameter/<model>-fashion_mnist-lucic2018.json, with the study's own settings on top."""
    assert config.shipped_models("fashion_mnist", setup="lucic2018") == ["dcgan", "wgan", "wgan-gp"]
    assert config.shipped_models("digits", setup="lucic2018") == []
    hp = study.study_hparams("wgan-gp", "fashion_mnist", 3, None, setup="lucic2018")
    paper = config.load(config.default_path("wgan-gp", "fashion_mnist", setup="lucic2018"))
    assert os.path.basename(config.default_path("wgan-gp", "fashion_mnist", setup="lucic2018")) == \
        "wgan-gp-fashion_mnist-lucic2018.json"
    toolkit = config.load(config.default_path("wgan-gp", "fashion_mnist"))
    assert hp.g_optimizer == paper.g_optimizer != toolkit.g_optimizer  # not the toolkit's own file
    assert (hp.train_steps, hp.snapshot_every, hp.seed) == (paper.train_steps, paper.train_steps, 3)
    with pytest.raises(ConfigError, match="wgan-gp-digits-lucic2018.json") as missing:
        study.study_hparams("wgan-gp", "digits", 0, None, setup="lucic2018")
    assert "--hparams" not in str(missing.value)  # the study has no such flag to offer


def test_failed_runs_are_counted_under_the_detector_that_tripped_first(tmp_path):
    vdir = str(tmp_path)
    assert study.first_trip(vdir) == "none"
    for record in ({"step": 40, "since": 30, "detector": "stalled", "event": "trip"},
                   {"step": 25, "since": 20, "detector": "mode_collapse", "event": "trip"},
                   {"step": 10, "since": 5, "detector": "diverging", "event": "clear"}):
        runs.append_jsonl(os.path.join(vdir, runs.HEALTH_FILE), record)
    assert study.first_trip(vdir) == "mode_collapse"

    results = [dict(fake_result("wgan", 0, 3, 1.0), health="mode_collapse", step=10),
               dict(fake_result("wgan", 1, 2, 1.0), health="none", step=10),
               dict(fake_result("wgan", 2, 8, 1.0), health="stalled", step=10)]  # a success: not counted
    (row,) = study.summarize(results, "8gaussians", ["wgan"])
    assert row["failed_as"] == {"collapsed": 1, "stalled": 0, "overfit": 0, "diverged": 0, "no detector": 1}
    table = study.markdown({"source": "8gaussians", "seeds": 3, "models": ["wgan"], "steps": 10, "command": "c",
                            "criterion": "x", "summary": [row], "runs": results, "wall_seconds": 1, "jobs": 1,
                            "date": "today"})
    assert "| failed: collapsed | failed: stalled | failed: overfit | failed: diverged | failed: no detector |" in table
    assert "| 1 | 0 | 0 | 0 | 1 |" in table and "covers 3 of 8 modes (collapsed)" in table
    assert "covers 2 of 8 modes (no detector)" in table


def _budget_task(tmp_path, overrides=()):
    return {"checkpoint_dir": str(tmp_path / "checkpoint"), "records_dir": "unused", "overrides": list(overrides)}


def test_a_budget_study_run_is_timed_once_and_its_length_keys_follow_the_timed_length(tmp_path):
    """--budget 1m: each run's train_steps come from timing it, snapshot_every and checkpoint_every
    follow them, and the same study started again finds the run instead of timing it anew."""
    from wgan.train import launch

    hp = study.study_hparams("wgan-gp", "8gaussians", 0, None, budget="1m")
    assert hp.budget == "1m" and hp.snapshot_every == hp.train_steps > 1000  # the file's length until timed
    lines = []
    planned, version = study.plan_length(hp, _budget_task(tmp_path), say=lines.append,
                                         measure=lambda *args: (4.0, 2.0))
    assert version is None and planned.train_steps == 13  # (60 s - 2 s) * 0.9 / 4 s
    assert (planned.snapshot_every, planned.checkpoint_every) == (13, 13)
    assert planned.eval_every == study.MIN_EVAL_EVERY
    assert lines[0].startswith("budget 1 min: train_steps 13")
    launch.train_run(str(tmp_path / "checkpoint"), planned, launch.until_step(2), progress=False)

    again, version = study.plan_length(hp, _budget_task(tmp_path), say=lines.append,
                                       measure=lambda *args: (0.5, 2.0))
    assert (version, again.train_steps, again.snapshot_every) == (1, 13, 13)
    # A key the study's --set gave stays as given.
    kept, _ = study.plan_length(study.study_hparams("wgan-gp", "8gaussians", 1, None, [("eval_every", 2)], budget="1m"),
                               _budget_task(tmp_path, [("eval_every", 2)]), say=lines.append,
                               measure=lambda *args: (4.0, 2.0))
    assert (kept.train_steps, kept.eval_every) == (13, 2)


def test_a_budget_is_a_time_and_excludes_a_step_count(tmp_path):
    with pytest.raises(ConfigError, match="--steps or --budget, not both"):
        study.run_study("8gaussians", ["wgan"], [0], 5, str(tmp_path), budget="1m")
    with pytest.raises(ConfigError, match="takes a time"):
        study.run_study("8gaussians", ["wgan"], [0], None, str(tmp_path), budget="3epochs")
    assert "budget of 30 min" in study.budget_rule(None, "30m")
    assert not os.listdir(tmp_path)


def test_study_runs_in_the_precision_train_py_picks_on_this_machine(monkeypatch):
    """A bfloat16 file on a CPU without bfloat16 units trains in float32, as train.py does (emulated
    bfloat16 ran the Fashion-MNIST file about 5x slower); a --set precision wins."""
    from wgan import recipe

    assert config.load(config.default_path("wgan-gp", "fashion_mnist")).precision == "mixed_bfloat16"
    monkeypatch.setattr(recipe, "bfloat16_units", lambda: False)
    assert study.study_hparams("wgan-gp", "fashion_mnist", 0, None).precision == "float32"
    assert study.study_hparams("wgan-gp", "fashion_mnist", 0, None,
                               [("precision", "mixed_bfloat16")]).precision == "mixed_bfloat16"
    monkeypatch.setattr(recipe, "bfloat16_units", lambda: True)
    assert study.study_hparams("wgan-gp", "fashion_mnist", 0, None).precision == "mixed_bfloat16"


def _conditional_result(seed, agreement, per_class):
    metrics = {"cfid": 5.0 + seed, "classes": 3, "confident": 0.8, "agreement": agreement, "icfid": 9.0 + seed}
    extras = {"agreement_per_class": per_class, "icfid_per_class": [8.0 + seed, 9.0, 10.0 + seed],
              "agreement_ceiling": 0.91, "class_histogram": [0.3, 0.3, 0.4]}
    return {"model": "wgan-gp", "seed": seed, "step": 100, "metrics": metrics, "extras": extras,
            "train_seconds": 60.0, "failure": None, "health": "none", "class_names": ["T-shirt", "Trouser", "Bag"]}


def _report(results):
    return {"source": "fashion_mnist", "models": ["wgan-gp"], "seeds": len(results), "steps": None, "budget": "30m",
            "command": "python bin/study.py", "criterion": "c", "setup": "conditional", "jobs": 2, "date": "d",
            "wall_seconds": 60.0, "runs": results, "summary": [], "real": None}


def test_a_conditional_study_shows_class_agreement_overall_and_per_class():
    results = [_conditional_result(0, 0.90, [0.8, 1.0, 0.9]), _conditional_result(1, 0.86, [0.6, 1.0, 0.98])]
    text = study.markdown(_report(results))
    assert "| class agreement | intra-class cFID |" in text
    assert "0.880 ± 0.020" in text and "9.5 ± 0.5" in text  # overall, over the two seeds
    assert "its ceiling, is 0.910" in text
    assert "| T-shirt | 0.700 ± 0.100 | 8.5 ± 0.5 |" in text and "| Bag | 0.940 ± 0.040 | 10.5 ± 0.5 |" in text
    assert "budget of 30 min" in text and "a budget of 30 min each" in text.splitlines()[0]
    # An unconditional study has neither column nor table.
    for r in results:
        del r["metrics"]["agreement"], r["metrics"]["icfid"]
    assert "class agreement" not in study.markdown(_report(results))


def test_a_worker_whose_study_died_exits_however_its_run_ended(monkeypatch):
    """A run that fails while its study process is gone (its folder deleted under it, say) must not
    leave the pool worker waiting for a next task forever; with the study alive the error goes back."""
    exits = []

    def broken(task):
        raise OSError("the run folder vanished")

    monkeypatch.setattr(study, "_run_one", broken)
    monkeypatch.setattr(study.os, "_exit", exits.append)
    monkeypatch.setattr(study, "_PARENT_PID", os.getppid())
    with pytest.raises(OSError):
        study.run_one({})
    assert exits == []
    monkeypatch.setattr(study, "_PARENT_PID", os.getppid() + 100_000)  # not this worker's parent any more
    with pytest.raises(OSError):
        study.run_one({})
    assert exits == [1]
