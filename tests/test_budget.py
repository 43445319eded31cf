"""--budget: the text a user writes, the train_steps it buys, and a run that keeps them across resumes."""

import json
import os

import pytest

from conftest import logged_metrics, tiny_hparams
from wgan import config, runs
from wgan.train import budget, launch
from wgan.util.units import Budget, parse_budget


@pytest.mark.parametrize("text, kind, amount", [
    ("30m", "seconds", 1800.0), ("1.5h", "seconds", 5400.0), ("90s", "seconds", 90.0), ("2 min", "seconds", 120.0),
    ("20epochs", "epochs", 20.0), ("3ep", "epochs", 3.0), ("500kimg", "images", 500_000.0),
    ("2Mimg", "images", 2_000_000.0), ("1000 images", "images", 1000.0),
])
def test_budget_texts(text, kind, amount):
    assert parse_budget(text) == Budget(kind, amount)


@pytest.mark.parametrize("text", ["30", "m30", "0m", "-5m", "30 parsecs", "", "1e3s"])
def test_a_bad_budget_says_the_forms_it_takes(text):
    with pytest.raises(ValueError, match="is not a positive amount with a unit .*30m, 1.5h"):
        parse_budget(text)


def test_a_time_budget_buys_what_the_measured_speed_allows():
    hp = tiny_hparams("wgan-gp", n_critic=5)
    # 10 minutes, 20 s spent timing, 10 % reserve, 0.05 s an iteration: 580 * 0.9 / 0.05 = 10,440.
    assert budget.steps_for(hp, Budget("seconds", 600), per_iteration=0.05, spent=20) == 10_440
    assert budget.steps_for(hp, Budget("seconds", 10), per_iteration=0.05, spent=20) == 1  # spent it all timing


def test_the_wgan_warm_up_costs_its_extra_critic_steps():
    # WGAN's warm-up: 100 critic steps in the first 25 iterations and every 500th (Arjovsky et al.).
    hp = tiny_hparams("wgan", n_critic=5, warmup=True)
    plain = tiny_hparams("wgan", n_critic=5, warmup=False)
    with_warmup = budget.steps_for(hp, Budget("seconds", 3600), per_iteration=0.1)
    without = budget.steps_for(plain, Budget("seconds", 3600), per_iteration=0.1)
    assert without == 32_400
    cost = sum(budget._relative_cost(hp, s) for s in range(with_warmup))
    assert cost <= 32_400 < cost + budget._relative_cost(hp, with_warmup)  # the last step that fits
    assert with_warmup < without - 25 * 15


def test_an_epoch_or_image_budget_counts_critic_batches():
    hp = tiny_hparams("wgan-gp", n_critic=2, batch_size=8)
    # 3 passes over 40 images = 15 batches of 8, 2 per iteration: 8 iterations.
    assert budget.steps_for(hp, Budget("epochs", 3), dataset_size=40) == 8
    assert budget.steps_for(hp, Budget("images", 120)) == 8


def _plan(hp, checkpoint_dir, lines, seconds=0.01):
    hp = config.apply_overrides(hp, [("budget", "1m")])
    return budget.plan_run(hp, checkpoint_dir, None, "unused", measure=lambda *args: (seconds, 2.0),
                           say=lines.append)


def test_a_budget_run_stores_its_steps_and_a_rerun_resumes_it_without_timing_again(tmp_path):
    checkpoint_dir, lines = str(tmp_path / "checkpoint"), []
    hp, version = _plan(tiny_hparams("wgan-gp", "8gaussians", n_critic=1), checkpoint_dir, lines, seconds=4.0)
    assert version is None and hp.train_steps == 13  # (60 - 2) * 0.9 / 4
    assert lines == ["budget 1 min: train_steps 13, about 60 s on this machine (0.25 iterations/s measured over "
                     "the first iterations; 10% kept for evaluations and checkpoints)"]
    first = launch.train_run(checkpoint_dir, hp, launch.until_step(5), progress=False)  # stopped early
    with open(os.path.join(first.vdir, runs.HPARAMS_FILE), encoding="utf-8") as f:
        assert json.load(f)["train_steps"] == 13

    # The same command again: another timing would give another length, so it must not time at all.
    again, version = _plan(tiny_hparams("wgan-gp", "8gaussians", n_critic=1), checkpoint_dir, lines, seconds=0.5)
    assert (version, again.train_steps) == (1, 13)
    assert lines[-1] == "budget 1 min: resuming v1, whose budget fixed train_steps at 13"


def test_an_interrupted_budget_run_resumed_is_the_uninterrupted_run(tmp_path):
    hp, _ = _plan(tiny_hparams("wgan-gp", "8gaussians", n_critic=1, seed=5), str(tmp_path / "x"), [], seconds=5.0)
    assert hp.train_steps == 10

    whole = launch.train_run(str(tmp_path / "whole"), hp, launch.until_step(hp.train_steps), progress=False,
                             deterministic=True)
    broken = str(tmp_path / "broken")
    launch.train_run(broken, hp, launch.until_step(4), progress=False, deterministic=True)
    stored, version = _plan(tiny_hparams("wgan-gp", "8gaussians", n_critic=1, seed=5), broken, [], seconds=0.1)
    resumed = launch.train_run(broken, stored, launch.until_step(stored.train_steps), version=version,
                               progress=False, deterministic=True)
    assert resumed.result["step"] == whole.result["step"] == 10
    assert logged_metrics(resumed.vdir) == logged_metrics(whole.vdir)


def test_a_files_own_length_is_timed_and_said_before_a_new_run_only(tmp_path):
    checkpoint_dir, lines, timed = str(tmp_path / "checkpoint"), [], []

    def measure(*args):
        timed.append(args)
        return 0.09, 1.0

    short = tiny_hparams("wgan-gp", "8gaussians", n_critic=1, train_steps=500)
    assert budget.plan_file_length(short, checkpoint_dir, None, "unused", "30m", measure=measure,
                                   say=lines.append) == (short, None)
    assert lines == ["train_steps 500 (the file's): about 50 s on this machine (11.11 iterations/s measured over the "
                     "first iterations)"]
    # A run that exists is resumed by the command: nothing is timed and nothing said.
    launch.train_run(checkpoint_dir, short, launch.until_step(1), progress=False)
    assert budget.plan_file_length(short, checkpoint_dir, None, "unused", "30m", measure=measure,
                                   say=lines.append) == (short, None)
    assert len(lines) == 1 and len(timed) == 1
    # A trial of a few iterations is not timed: the timing would cost about as much as the run.
    trial = tiny_hparams("wgan-gp", "8gaussians", n_critic=1, train_steps=budget.ESTIMATE_MIN_STEPS - 1)
    assert budget.plan_file_length(trial, str(tmp_path / "other"), None, "unused", "30m", measure=measure,
                                   say=lines.append) == (trial, None)
    assert len(lines) == 1 and len(timed) == 1


def test_a_budget_too_short_for_the_files_evaluations_evaluates_more_often_and_a_rerun_still_resumes(tmp_path):
    checkpoint_dir, lines = str(tmp_path / "checkpoint"), []
    hp = tiny_hparams("wgan-gp", "8gaussians", n_critic=1, eval_every=650)
    planned, version = _plan(hp, checkpoint_dir, lines, seconds=4.0)  # 13 steps: 650 would never evaluate
    assert version is None and (planned.train_steps, planned.eval_every) == (13, 3)
    assert lines[-1] == ("evaluation every 3 steps, so that the run has 4 evaluations (for the best snapshot and "
                         "the health detectors)")
    launch.train_run(checkpoint_dir, planned, launch.until_step(2), progress=False)
    again, version = _plan(hp, checkpoint_dir, lines, seconds=0.5)
    assert (version, again.train_steps, again.eval_every) == (1, 13, 3)
    # Long enough for the file's cadence: it stays.
    assert _plan(tiny_hparams("wgan-gp", "8gaussians", n_critic=1, eval_every=2, seed=3), str(tmp_path / "y"),
                 [], seconds=4.0)[0].eval_every == 2


def test_a_budget_of_fewer_steps_than_evaluations_says_how_many_it_has(tmp_path):
    # Seen on a loaded machine: a 64x64 folder whose timing used the budget got 1 step, and the
    # line promised 4 evaluations.
    lines = []
    planned, _ = _plan(tiny_hparams("wgan-gp", "8gaussians", n_critic=1, eval_every=650), str(tmp_path / "c"),
                       lines, seconds=20.0)  # (60 - 2) * 0.9 / 20: 2 steps
    assert (planned.train_steps, planned.eval_every) == (2, 1)
    assert lines[-1] == ("evaluation every step, the run's 2 steps allow no more than 2 evaluations; a longer "
                         "--budget gives 4 (for the best snapshot and the health detectors)")


def test_train_py_on_a_shipped_file_says_its_length_and_this_machines_precision_before_it_starts(tmp_path):
    """As a user meets it: ``train.py -m wgan-gp --data 8gaussians``, no flag saying how long."""
    import signal
    import subprocess
    import sys

    from wgan import recipe
    from wgan.util.cpus import bfloat16_units

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shipped = config.load(os.path.join(repo, "hyperparameter", "wgan-gp-8gaussians.json"))
    expected, _ = recipe.precision(shipped.precision, cpu_bfloat16=bfloat16_units())
    proc = subprocess.Popen([sys.executable, os.path.join(repo, "bin", "train.py"), "-m", "wgan-gp", "--data",
                             "8gaussians", "--noprogress"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": repo},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # As from a terminal: a pytest-xdist worker ignores SIGINT, and a child
                            # inherits that, so Ctrl+C before the loop would be ignored and the run go on.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in proc.stdout:  # the estimate comes before the first iteration: stop the run there
        lines.append(line)
        if line.lstrip("warning: ").startswith("train_steps"):
            proc.send_signal(signal.SIGINT)
            break
    rest, err = proc.communicate(timeout=300)
    out = "".join(lines) + rest
    # Stopped before its first iteration (one line, exit 130) or inside the loop (a clean stop, exit 0).
    assert proc.returncode in (0, 130) and "Traceback" not in err, err[-3000:]
    assert proc.returncode == 0 or err.strip().splitlines()[-1] == "interrupted"
    assert f"train_steps {shipped.train_steps:,} (the file's): about " in out and " on this machine (" in out
    said = f"precision {expected} instead of the file's {shipped.precision}: "
    assert (said in out) == (expected != shipped.precision)


def test_a_files_length_too_long_for_this_machine_is_held_to_the_default_budget(tmp_path):
    """No flag: a shipped file's train_steps that would take longer than the default budget here train
    for that budget instead (timed once), the same command resumes that run without timing again,
    and a file that fits keeps its own length."""
    checkpoint_dir, lines, timed = str(tmp_path / "checkpoint"), [], []

    def measure(*args):
        timed.append(args)
        return 0.36, 3.0

    long_run = tiny_hparams("wgan-gp", "8gaussians", n_critic=1, train_steps=100_000)
    hp, version = budget.plan_file_length(long_run, checkpoint_dir, None, "unused", "30m", measure=measure,
                                          say=lines.append)
    assert version is None and hp.budget == "30m" and len(timed) == 1
    assert hp.train_steps == int((1800 - 3.0) * 0.9 / 0.36)  # what 30 minutes buy, as --budget 30m
    assert lines[0].startswith("train_steps 100,000 (the file's): about 11.1 h on this machine")
    assert "longer than the default budget of 30 min" in lines[0] and "--steps 100000" in lines[0]
    assert lines[1].startswith(f"budget 30 min: train_steps {hp.train_steps:,}")
    launch.train_run(checkpoint_dir, hp, launch.until_step(1), progress=False)

    again, version = budget.plan_file_length(long_run, checkpoint_dir, None, "unused", "30m", measure=measure,
                                             say=lines.append)
    assert (version, again.train_steps, len(timed)) == (1, hp.train_steps, 1)

    fits = tiny_hparams("wgan-gp", "8gaussians", n_critic=1, train_steps=1_000)
    kept, version = budget.plan_file_length(fits, str(tmp_path / "other"), None, "unused", "30m", measure=measure,
                                            say=lines.append)
    assert (kept, version) == (fits, None)
    assert lines[-1] == ("train_steps 1,000 (the file's): about 7 min on this machine (2.78 iterations/s measured "
                         "over the first iterations)")


def test_what_the_first_evaluation_trains_is_trained_before_the_timing_and_counted_as_spent(monkeypatch):
    from wgan.metrics import evaluation

    now, order = [0.0], []

    def prepare(hp, records_root):
        order.append("prepare")
        now[0] += 60.0  # a minute of classifier or rotation-network training

    def timed(hp, strategy, records_root, clock):
        order.append("time")
        return 0.05, 5.0

    monkeypatch.setattr(evaluation, "prepare_for_training", prepare)
    monkeypatch.setattr(budget, "seconds_per_iteration", timed)
    assert budget.measure_run(tiny_hparams("wgan-gp"), None, "unused", clock=lambda: now[0]) == (0.05, 65.0)
    assert order == ["prepare", "time"]  # the timing runs on a machine no longer busy training it
    # 10 minutes: (600 - 65) * 0.9 / 0.05 iterations.
    assert budget.steps_for(tiny_hparams("wgan-gp"), Budget("seconds", 600), 0.05, 65.0) == 9630
