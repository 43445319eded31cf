"""Open a run, seed, train it (wgan.train.launch): the path bin/train.py and the study share."""

import os

import pytest

from conftest import tiny_hparams
from wgan import runs
from wgan.train import launch


def test_train_run_trains_to_the_step_and_then_has_nothing_left(tmp_path):
    hp = tiny_hparams("wgan-gp", "8gaussians")
    checkpoint_dir = str(tmp_path / "checkpoint")
    first = launch.train_run(checkpoint_dir, hp, launch.until_step(4), progress=False)
    assert (first.number, first.resumed, first.iterations) == (1, False, 4)
    assert first.result["step"] == 4 and first.seconds > 0
    assert runs.latest_step(first.vdir) == 4 and first.vdir == runs.version_dir(runs.run_root(checkpoint_dir, hp), 1)
    again = launch.train_run(checkpoint_dir, hp, launch.until_step(4), progress=False)
    assert (again.number, again.resumed, again.iterations, again.result) == (1, True, 0, None)
    more = launch.train_run(checkpoint_dir, hp, launch.until_step(6), progress=False)
    assert (more.iterations, more.result["step"]) == (2, 6)


def test_the_same_seed_gives_the_same_run(tmp_path):
    hp = tiny_hparams("dcgan", "8gaussians", seed=4)
    one = launch.train_run(str(tmp_path / "a"), hp, launch.until_step(3), progress=False, deterministic=True)
    two = launch.train_run(str(tmp_path / "b"), hp, launch.until_step(3), progress=False, deterministic=True)
    timing = {"images_per_sec"}  # wall-clock, the one value a seed does not fix
    assert {k: v for k, v in one.result["metrics"].items() if k not in timing} == \
        {k: v for k, v in two.result["metrics"].items() if k not in timing}
    assert set(one.result["metrics"]) - timing >= {"critic_loss", "generator_loss", "wasserstein"}


def test_a_start_that_fails_before_saving_leaves_no_version(tmp_path):
    def refuse(vdir, hp, resumed):
        assert os.path.isdir(vdir) and not resumed  # asked with the version open and locked
        raise RuntimeError("bad plan")

    with pytest.raises(RuntimeError, match="bad plan"):
        launch.train_run(str(tmp_path), tiny_hparams(), refuse, progress=False)
    assert os.listdir(tmp_path) == []
