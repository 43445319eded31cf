"""Faults: a damaged file costs one clear line and at most one save interval, never the run.

One test per fault class of issue 13 (deterministic bytes, damaged records, damaged
checkpoints, damaged run files, a full disk, concurrent builds and readers), on tiny data.
Each asserts the message and that the earlier good state is untouched or restored.
"""

import errno
import glob
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from absl import logging as absl_logging

from conftest import build_mnist_records, merged, tiny_hparams
from wgan import data, generate, runs
from wgan.runs import checkpoints
from wgan.data import inputs
from wgan.train import loop as training
from wgan.data import build, integrity, locks, manifest as manifest_io
from wgan.errors import ConfigError, DataError, RunError, TrainingError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")


def tiny_hp(**values):
    return tiny_hparams("wgan-gp", "mnist", **merged({"seed": 3, "keep_checkpoints": 3}, values))


def build_mnist(root, shards=4):
    """mnist-r16 records from 64 generated images (nothing downloaded)."""
    return build_mnist_records(root, shards=shards, overwrite=True)


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def run_files(vdir):
    """{relative path: sha256} of every checkpoint file in a run (to show it is untouched)."""
    found = glob.glob(os.path.join(vdir, "ckpt", "ckpt-*")) + glob.glob(os.path.join(vdir, "snapshots", "*"))
    return {os.path.relpath(p, vdir): digest(p) for p in found if os.path.isfile(p)}


def flip_byte(path, offset):
    with open(path, "r+b") as handle:
        handle.seek(offset)
        value = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([value ^ 0x40]))


def record_offset(path, index):
    """Byte offset of record ``index`` in an uncompressed TFRecord file (8-byte length, 4 crc, data, 4 crc)."""
    offset = 0
    with open(path, "rb") as handle:
        for _ in range(index):
            handle.seek(offset)
            offset += 16 + int.from_bytes(handle.read(8), "little")
    return offset


def truncate_half(path):
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) // 2)


def new_run(tmp_path, hp):
    _, vdir, hp, lock, _ = runs.open_run(str(tmp_path / "checkpoint"), hp)
    lock.release()
    return vdir


@pytest.fixture
def warnings_seen(monkeypatch):
    """Messages passed to absl's logging.warning, anywhere in wgan."""
    seen = []
    original = absl_logging.warning

    def record(message, *args, **kwargs):
        seen.append(message % args if args else message)
        original(message, *args, **kwargs)

    monkeypatch.setattr(absl_logging, "warning", record)
    return seen


# ----- 1. deterministic bytes ------------------------------------------------------------------
_BUILD = """
import sys
from wgan.data import build_records

if __name__ == "__main__":  # the build's spawned workers import this file again
    folder, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    build_records(folder, 8, None, out, shards=2, workers=workers, progress=False)
    build_records("digits", 8, None, out, shards=2, workers=workers, progress=False)  # labels: three features
"""


def test_record_bytes_do_not_depend_on_the_process_or_the_worker_count(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "pics").mkdir()
    from PIL import Image

    for index in range(6):
        Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)).save(tmp_path / "pics" / f"{index}.png")
    script = tmp_path / "build.py"
    script.write_text(_BUILD)
    outputs = []
    for hash_seed, workers in (("0", 1), ("1", 2), ("2", 1), ("3", 2)):
        out = tmp_path / f"out-{hash_seed}"
        proc = subprocess.run([sys.executable, str(script), str(tmp_path / "pics"), str(out), str(workers)],
                              env={**ENV, "PYTHONHASHSEED": hash_seed}, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        files = {}
        for folder in sorted(os.listdir(out)):
            if folder.startswith("."):
                continue  # lock files beside the records folders
            for name in sorted(os.listdir(out / folder)):
                files[f"{folder}/{name}"] = (out / folder / name).read_bytes()
            shards = manifest_io.read_manifest(str(out / folder))["shards"]
            files[f"{folder}/digests"] = [shard["sha256"] for shard in shards]
        outputs.append(files)
    assert len([name for name in outputs[0] if "shard-" in name]) == 4
    for other in outputs[1:]:
        assert other == outputs[0]


# ----- 2. damaged records ----------------------------------------------------------------------
def test_flipped_byte_in_a_shard_stops_training_with_shard_record_and_rebuild_command(tmp_path, monkeypatch):
    root = tmp_path / "records"
    folder = build_mnist(root)
    hp = tiny_hp()
    vdir = new_run(tmp_path, hp)
    training.train(hp, vdir, 2, records_root=str(root), progress=False)
    good = run_files(vdir)
    shard = os.path.join(folder, "shard-00001.tfrecord")
    offset = record_offset(shard, 5)
    flip_byte(shard, offset + 40)  # inside record 5's data

    with pytest.raises(DataError) as start:
        training.train(hp, vdir, 4, records_root=str(root), progress=False)
    message = str(start.value)
    assert "\n" not in message
    assert f"shard-00001.tfrecord does not match its sha256; record 5 (byte offset {offset}) is damaged" in message
    assert "--data mnist -c 0 -r 16 --shards 4 --records_dir" in message and message.endswith("--overwrite")

    # The same damage met in the middle of training (digests not checked at start).
    monkeypatch.setattr(integrity, "verify", lambda folder, manifest=None: manifest)
    with pytest.raises(DataError) as mid:
        training.train(hp, vdir, 40, records_root=str(root), progress=False)
    message = str(mid.value)
    assert "\n" not in message
    assert f"damaged records in {folder}: shard-00001.tfrecord does not match its sha256; record 5" in message
    assert "--overwrite; the last good checkpoint " in message and "is untouched" in message
    # Checkpoints saved before the damaged record was read stay, the newest one readable and named.
    kept = message.split("the last good checkpoint ")[1].split(" is untouched")[0]
    assert kept == checkpoints.checkpoints_in(os.path.join(vdir, "ckpt"))[-1].prefix
    assert checkpoints.problem(kept) is None
    # The shuffle buffer (64) holds all 64 images, so the first batch after the resume reads every
    # record: the damage stops the run before it saves anything, and its files are those of step 2.
    assert kept.endswith(os.path.join("ckpt", "ckpt-2")), kept
    assert run_files(vdir) == good


def test_verify_names_every_bad_shard_and_passes_an_intact_folder(tmp_path):
    folder = build_mnist(tmp_path)
    assert "all 4 shards match" in integrity.verify_folder(folder)
    flip_byte(os.path.join(folder, "shard-00000.tfrecord"), 100)
    truncate_half(os.path.join(folder, "shard-00002.tfrecord"))
    os.remove(os.path.join(folder, "shard-00003.tfrecord"))
    with pytest.raises(DataError) as err:
        integrity.verify_folder(folder)
    message = str(err.value)
    assert message.startswith(f"3 of 4 shards in {folder} are damaged: shard-00000.tfrecord does not match its "
                              "sha256; record 0 (byte offset 0) is damaged")
    assert "shard-00002.tfrecord has" in message and "shard-00003.tfrecord is missing" in message
    assert "shard-00001" not in message and message.endswith("--overwrite")


def test_verify_command_prints_one_line_and_exits_1(tmp_path):
    folder = build_mnist(tmp_path)
    command = [sys.executable, os.path.join(REPO, "bin", "build_tfrecord.py"), "--data", "mnist", "-r", "16",
               "--records_dir", str(tmp_path), "--verify"]
    ok = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=300)
    assert ok.returncode == 0 and "all 4 shards match dataset_info.json (64 images" in ok.stdout
    flip_byte(os.path.join(folder, "shard-00001.tfrecord"), 30)
    bad = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=300)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    lines = [line for line in bad.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "1 of 4 shards" in lines[0] and "shard-00001.tfrecord" in lines[0]


def test_damaged_manifest_values_are_refused_in_one_line(tmp_path):
    folder = build_mnist(tmp_path)
    path = os.path.join(folder, manifest_io.MANIFEST_NAME)
    text = open(path).read()
    open(path, "w").write(text.replace('"compression": "none"', '"compression": "nond"'))
    with pytest.raises(DataError, match="invalid height, width, channels, compression or labels"):
        data.make_dataset(folder, 8)


# ----- 3. damaged checkpoints ------------------------------------------------------------------
@pytest.fixture
def trained_run(tmp_path):
    """A run at step 6 with ckpt-2, ckpt-4, ckpt-6 and snapshot-4."""
    root = tmp_path / "records"
    build_mnist(root)
    hp = tiny_hp()
    vdir = new_run(tmp_path, hp)
    training.train(hp, vdir, 6, records_root=str(root), progress=False)
    assert [c.step for c in checkpoints.checkpoints_in(os.path.join(vdir, "ckpt"))] == [2, 4, 6]
    return hp, vdir, str(root)


def data_file(prefix):
    return glob.glob(prefix + ".data-*")[0]


def test_truncated_newest_checkpoint_falls_back_with_a_warning(trained_run, warnings_seen):
    hp, vdir, root = trained_run
    newest = os.path.join(vdir, "ckpt", "ckpt-6")
    truncate_half(data_file(newest))
    older = digest(data_file(os.path.join(vdir, "ckpt", "ckpt-4")))

    # generate_img: the newest readable checkpoint, with the damaged one named.
    restored = generate.find_checkpoint(os.path.dirname(vdir), "1")
    assert restored.step == 4 and restored.path.endswith("ckpt-4")
    assert any(newest in w and "cannot be read" in w for w in warnings_seen)
    listing = generate.describe_runs(os.path.dirname(vdir))
    assert "newest checkpoint at step 4; ckpt/ckpt-6 at step 6 UNREADABLE (IndexError" in listing

    # training resumes from step 4, its new ckpt-6 replaces the damaged one, and the command
    # still ends where it was planned to (2 iterations after the newest checkpoint, step 6).
    result = training.train(hp, vdir, 2, records_root=root, progress=False)
    assert result["step"] == 8 and checkpoints.problem(newest) is None
    assert digest(data_file(os.path.join(vdir, "ckpt", "ckpt-4"))) == older


def test_flipped_byte_in_a_snapshot_is_marked_and_refused_by_name(trained_run):
    hp, vdir, root = trained_run
    snapshot = os.path.join(vdir, "snapshots", "snapshot-4")
    flip_byte(data_file(snapshot), 20)
    listing = generate.describe_runs(os.path.dirname(vdir))
    assert "1.0    step       4" in listing and "UNREADABLE (" in listing.splitlines()[1]
    with pytest.raises(RunError, match=r"snapshot 1.0 \(.*snapshot-4\) cannot be read: .*Checksum"):
        generate.find_checkpoint(os.path.dirname(vdir), "1.0")


def test_no_readable_checkpoint_restores_nothing_and_deletes_nothing(trained_run):
    hp, vdir, root = trained_run
    for prefix in glob.glob(os.path.join(vdir, "*", "*.index")):
        truncate_half(prefix)
    before = run_files(vdir)
    with pytest.raises(RunError, match=r"no readable checkpoint in .*ckpt/ckpt-6 \(.*Nothing was restored"):
        training.train(hp, vdir, 2, records_root=root, progress=False)
    assert run_files(vdir) == before


def test_rotation_keeps_the_last_readable_checkpoint_when_saves_break(tmp_path, monkeypatch):
    variable = tf.Variable(tf.range(100.0))
    checkpoint = tf.train.Checkpoint(v=variable)
    rotation = checkpoints.Rotation(checkpoint, str(tmp_path / "ckpt"), keep=1)
    first = rotation.save(checkpoint_number=2)
    original = tf.train.Checkpoint.write

    def write_then_lose_half(self, prefix, options=None):
        path = original(self, prefix, options)
        truncate_half(data_file(prefix))  # what a full disk or a crash mid-write leaves
        return path

    monkeypatch.setattr(tf.train.Checkpoint, "write", write_then_lose_half)
    with pytest.raises(TrainingError, match=r"saving checkpoint .*ckpt-4 failed \(IndexError.*ckpt-2 is untouched"):
        rotation.save(checkpoint_number=4)

    def no_space(self, prefix, options=None):
        raise tf.errors.ResourceExhaustedError(None, None, f"{prefix}.data-00000-of-00001; No space left on device")

    monkeypatch.setattr(tf.train.Checkpoint, "write", no_space)
    with pytest.raises(TrainingError, match=r"ckpt-6 failed \(.*No space left on device\).*ckpt-2 is untouched"):
        rotation.save(checkpoint_number=6)
    assert [c.step for c in checkpoints.checkpoints_in(str(tmp_path / "ckpt"))] == [2]
    assert checkpoints.problem(first) is None
    assert tf.train.latest_checkpoint(str(tmp_path / "ckpt")) == first


# ----- damaged run files -----------------------------------------------------------------------
def test_damaged_snapshot_index_and_metrics_lines_lose_nothing(trained_run):
    hp, vdir, root = trained_run
    path = os.path.join(vdir, runs.SNAPSHOTS_FILE)
    with open(path, "wb") as handle:
        handle.write(b'{"path": "snapshots/snapsh\xff\xfe')  # truncated and no longer UTF-8
    snapshots = runs.list_snapshots(vdir)
    assert [(s["step"], s["path"], s["recovered"]) for s in snapshots] == [(4, "snapshots/snapshot-4", True)]
    assert generate.find_checkpoint(os.path.dirname(vdir), "1.0").step == 4

    metrics = os.path.join(vdir, runs.METRICS_FILE)
    with open(metrics, "ab") as handle:
        handle.write(b'{"step": 7, "crit')  # a crash mid-append
    runs.append_jsonl(metrics, {"step": 8})
    assert [r["step"] for r in runs.read_jsonl(metrics)][-2:] == [6, 8]


def test_full_disk_on_a_metrics_append_is_one_line(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    with pytest.raises(RunError, match=r"cannot append to /dev/full: No space left on device; its earlier lines"):
        runs.append_jsonl("/dev/full", {"step": 1})


def test_damaged_hyperparameters_are_named_and_never_resumed_silently(tmp_path, warnings_seen):
    hp = tiny_hp()
    vdir = new_run(tmp_path, hp)
    path = os.path.join(vdir, runs.HPARAMS_FILE)
    with open(path, "r+b") as handle:
        handle.truncate(40)
    number, other, _, lock, resumed = runs.open_run(str(tmp_path / "checkpoint"), hp)
    lock.release()
    assert (number, resumed) == (2, False)
    assert any("not resuming v1" in w and path in w for w in warnings_seen)
    with pytest.raises(ConfigError, match=r"hyperparameters.json"):
        runs.open_run(str(tmp_path / "checkpoint"), hp, version=1)
    os.remove(os.path.join(vdir, runs.HPARAMS_DIGEST))  # the file's own checks, without the digest
    with open(path, "wb") as handle:
        handle.write(b'{"model": "wgan\xa2gp"}')  # a flipped bit that breaks UTF-8
    with pytest.raises(ConfigError, match=r"hyperparameters.json: not UTF-8 text \(byte 15 is 0xa2\)"):
        runs.load_hparams(vdir)


def test_a_changed_value_in_hyperparameters_is_refused_by_its_digest(tmp_path):
    vdir = new_run(tmp_path, tiny_hp())
    path = os.path.join(vdir, runs.HPARAMS_FILE)
    text = open(path).read()
    assert '"batch_size": 8' in text
    open(path, "w").write(text.replace('"batch_size": 8', '"batch_size": 9'))  # valid JSON, valid value
    with pytest.raises(ConfigError, match=r"differs from the sha256 written with it .*damaged or edited"):
        runs.load_hparams(vdir)
    with pytest.raises(ConfigError, match="differs from the sha256"):
        runs.open_run(str(tmp_path / "checkpoint"), tiny_hp(), version=1)


# ----- full disk during a shard write ------------------------------------------------------------
def test_full_disk_during_a_shard_write_leaves_nothing_readable_and_rerun_completes(tmp_path, monkeypatch):
    folder = build_mnist(tmp_path)
    original = build.ShardWriter.write

    def fill_up(self, record):
        if self.shards:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        original(self, record)

    monkeypatch.setattr(build.ShardWriter, "write", fill_up)
    with pytest.raises(DataError, match=r"writing the shards of .* failed \(\[Errno 28\] No space left on device\)"):
        build_mnist(tmp_path)
    assert os.listdir(folder) == []
    with pytest.raises(DataError, match="not a finished records folder"):
        data.make_dataset(folder, 8)
    monkeypatch.undo()
    assert integrity.verify_folder(build_mnist(tmp_path))


# ----- records rebuilt while a run reads them ----------------------------------------------------
def test_a_build_refuses_to_clear_records_a_run_is_reading(tmp_path):
    folder = build_mnist(tmp_path)
    before = {name: digest(os.path.join(folder, name)) for name in os.listdir(folder)}
    dataset = data.make_dataset(folder, 8)
    with pytest.raises(DataError, match="is being read by a training that is running now"):
        build_mnist(tmp_path)
    assert {name: digest(os.path.join(folder, name)) for name in os.listdir(folder)} == before
    del dataset
    import gc

    gc.collect()
    assert build_mnist(tmp_path) == folder  # the reader is gone: rebuilding works


def test_a_run_refuses_records_being_rebuilt(tmp_path):
    folder = build_mnist(tmp_path)
    with locks.exclusive_readers_lock(folder):
        with pytest.raises(DataError, match="is being rebuilt right now"):
            inputs.training_data(tiny_hp(), str(tmp_path), seed=0)
