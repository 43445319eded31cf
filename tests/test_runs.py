"""Run folders: version matching, creation races, locking, snapshots."""

import multiprocessing
import os

import pytest

from wgan import config, runs
from wgan.errors import RunError


def hparams(**values):
    return config.from_dict({"model": "wgan-gp", "data": {"name": "8gaussians", "crop": None, "resize": None,
                                                          "channels": 0},
                             "architecture": {"name": "mlp"}, **values})


def test_identical_hparams_resume_and_changed_ones_get_a_new_version(tmp_path):
    number, vdir, _, lock, resumed = runs.open_run(str(tmp_path), hparams())
    lock.release()
    assert (number, resumed) == (1, False)
    assert vdir == os.path.join(str(tmp_path), "wgan-gp-8gaussians", "v1")
    assert config.load(os.path.join(vdir, "hyperparameters.json")) == hparams()

    number, _, _, lock, resumed = runs.open_run(str(tmp_path), hparams())
    lock.release()
    assert (number, resumed) == (1, True)

    number, _, _, lock, resumed = runs.open_run(str(tmp_path), hparams(n_critic=3))
    lock.release()
    assert (number, resumed) == (2, False)


def test_explicit_version_uses_its_stored_hparams(tmp_path):
    *_, lock, _ = runs.open_run(str(tmp_path), hparams(n_critic=3))
    lock.release()
    number, _, stored, lock, resumed = runs.open_run(str(tmp_path), hparams(), version=1)
    lock.release()
    assert (number, stored.n_critic, resumed) == (1, 3, True)


def test_missing_version_lists_the_existing_ones(tmp_path):
    runs.open_run(str(tmp_path), hparams())[3].release()
    with pytest.raises(RunError, match=r"no run v7 in .*wgan-gp-8gaussians; existing: v1"):
        runs.open_run(str(tmp_path), hparams(), version=7)


def test_a_locked_version_is_not_shared(tmp_path):
    _, _, _, lock, _ = runs.open_run(str(tmp_path), hparams())
    try:
        number, _, _, other, resumed = runs.open_run(str(tmp_path), hparams())
        other.release()
        assert (number, resumed) == (2, False)
        with pytest.raises(RunError, match="being trained by another process"):
            runs.open_run(str(tmp_path), hparams(), version=1)
    finally:
        lock.release()


def _open(args):
    root, barrier, seed = args
    barrier.wait()
    number, _, _, lock, _ = runs.open_run(root, hparams(seed=seed))
    barrier.wait()  # hold the lock until every process has picked its version
    return number


@pytest.mark.parametrize("same_hparams", [True, False])
def test_simultaneous_starts_never_share_a_version(tmp_path, same_hparams):
    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(6)
        with ctx.Pool(6) as pool:
            numbers = pool.map(_open, [(str(tmp_path), barrier, 0 if same_hparams else i) for i in range(6)])
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]


def test_snapshots_are_numbered_in_order_and_torn_lines_ignored(tmp_path):
    vdir = str(tmp_path)
    for step in (10, 20):
        prefix = os.path.join(vdir, "snapshots", f"snapshot-{step}")
        os.makedirs(os.path.dirname(prefix), exist_ok=True)
        open(prefix + ".index", "w").close()
        runs.record_snapshot(vdir, prefix, step, epoch=step / 10)
    with open(os.path.join(vdir, runs.SNAPSHOTS_FILE), "a") as f:
        f.write('{"path": "snap')  # a crash mid-append
    snaps = runs.list_snapshots(vdir)
    assert [(s["index"], s["step"], s["epoch"]) for s in snaps] == [(0, 10, 1.0), (1, 20, 2.0)]
