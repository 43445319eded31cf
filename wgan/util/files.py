"""Files written whole or not at all, and the sha256 of a file.

A reader (another command, a resumed run, a worker process) must see either the old file
or the complete new one, never a half-written one, and a killed writer must not leave a
damaged file under the real name. Every such write goes through ``atomic_path``: the
content goes to a hidden temporary sibling (``.<name>.tmp-<pid>``, in the same folder so
the rename stays on one file system), is synced to disk, and is then renamed over the
target with ``os.replace`` (atomic on POSIX and Windows). This module imports nothing of
the toolkit, so every layer can use it.
"""

import contextlib
import hashlib
import os


def temp_name(path, keep_extension=False):
    """The temporary sibling of ``path`` a write goes to first: ``<folder>/.<name>.tmp-<pid>``.

    ``keep_extension`` appends the extension again (``.model.keras.tmp-7.keras``), for writers
    that insist on it (Keras' ``model.save``).
    """
    folder, name = os.path.split(path)
    extension = os.path.splitext(name)[1] if keep_extension else ""
    return os.path.join(folder, f".{name}.tmp-{os.getpid()}{extension}")


def commit(temp, path):
    """Sync the closed file ``temp`` to disk and rename it to ``path`` (replacing any old file).

    The sync comes first: after a crash a rename may otherwise survive while the data does
    not, leaving an empty file under the real name.
    """
    fd = os.open(temp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)


@contextlib.contextmanager
def atomic_path(path, keep_extension=False):
    """A temporary path to write ``path``'s new content to; committed when the block ends.

    On an exception the temporary file is removed and ``path`` is left as it was::

        with files.atomic_path("stats.npz") as temp:
            with open(temp, "wb") as handle:
                np.savez(handle, mu=mu)
    """
    temp = temp_name(path, keep_extension)
    try:
        yield temp
        commit(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)
        raise


def write_atomic(path, content):
    """Write ``content`` (str, as UTF-8, or bytes) to ``path``: readers see the old file or the whole new one."""
    with atomic_path(path) as temp:
        if isinstance(content, bytes):
            with open(temp, "wb") as handle:
                handle.write(content)
        else:
            with open(temp, "w", encoding="utf-8") as handle:
                handle.write(content)


def file_digest(path):
    """``(size in bytes, hex sha256)`` of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def short_digest(path, length=8):
    """The first ``length`` hex digits of the file's sha256 (names local weights and graphs in metric labels)."""
    return file_digest(path)[1][:length]
