"""Atomic writes, file digests and the CPU count (wgan.util.files, wgan.util.cpus)."""

import hashlib
import os

import pytest

from wgan.util import cpus, files


def test_write_atomic_replaces_the_whole_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "state.json"
    files.write_atomic(str(path), "old\n")
    files.write_atomic(str(path), "new\n")
    assert path.read_text() == "new\n"
    files.write_atomic(str(path), b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert os.listdir(tmp_path) == ["state.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    path = tmp_path / "stats.npz"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        with files.atomic_path(str(path)) as temp:
            with open(temp, "wb") as handle:
                handle.write(b"half")
            raise RuntimeError("disk full")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["stats.npz"]


def test_temporary_names_are_hidden_siblings_that_can_keep_the_extension(tmp_path):
    temp = files.temp_name(str(tmp_path / "model.keras"), keep_extension=True)
    assert os.path.dirname(temp) == str(tmp_path)
    assert os.path.basename(temp).startswith(".model.keras.tmp-") and temp.endswith(".keras")
    assert not files.temp_name(str(tmp_path / "model.keras")).endswith(".keras")


def test_file_digest_is_the_sha256_of_the_bytes_across_chunks(tmp_path):
    content = os.urandom((1 << 20) + 7)  # more than one 1 MiB read
    path = tmp_path / "blob"
    path.write_bytes(content)
    assert files.file_digest(str(path)) == (len(content), hashlib.sha256(content).hexdigest())
    assert files.short_digest(str(path)) == hashlib.sha256(content).hexdigest()[:8]
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert files.file_digest(str(empty)) == (0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_available_cpus_follows_the_affinity_mask(monkeypatch):
    if hasattr(os, "sched_getaffinity"):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
        assert cpus.available_cpus() == 1
        monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert cpus.available_cpus() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert cpus.available_cpus() == 6
