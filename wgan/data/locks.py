"""Locks that keep a build and the readers of one records folder apart.

Two ``flock`` files sit beside every records folder, in its parent (``.<folder>.build.lock``
and ``.<folder>.readers.lock``, so the folder itself holds only records); both are
released when their process dies, however it dies:

* the build lock, exclusive among builds: a second build of the same folder (two
  trainings that both build a built-in source on first use) waits for the first and
  then finds the folder complete, instead of clearing the shards the first is writing;
* the readers lock, shared by every reader (training) and taken exclusively by a build
  before it clears anything: a build refuses to delete records a run is reading, and a
  run refuses to start on a folder that is being rebuilt.

No TensorFlow here: the build's worker processes import the data package.
"""

import fcntl
import os

from wgan.errors import DataError

BUILD_LOCK = "build.lock"
READERS_LOCK = "readers.lock"


def lock_path(folder, kind):
    """``<parent>/.<folder name>.<kind>`` for the records folder ``folder``."""
    folder = os.path.abspath(folder)
    return os.path.join(os.path.dirname(folder), f".{os.path.basename(folder)}.{kind}")


class FileLock:
    """An ``flock`` on ``path``, held until ``release`` or until the object is garbage collected."""

    def __init__(self, path, mode, blocking):
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, mode | (0 if blocking else fcntl.LOCK_NB))
        except BaseException:
            os.close(self._fd)
            self._fd = None
            raise

    def release(self):
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __del__(self):
        self.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def build_lock(folder):
    """Exclusive build lock of ``folder``; waits while another build holds it."""
    return FileLock(lock_path(folder, BUILD_LOCK), fcntl.LOCK_EX, blocking=True)


def exclusive_readers_lock(folder):
    """Taken by a build before it clears ``folder``.

    Raises:
        DataError: a training (or another reader) has the folder open.
    """
    try:
        return FileLock(lock_path(folder, READERS_LOCK), fcntl.LOCK_EX, blocking=False)
    except BlockingIOError:
        raise DataError(f"{folder} is being read by a training that is running now; stop it before rebuilding "
                        "these records, or build into another --records_dir") from None


def read_lock(folder):
    """A shared lock held while a run reads ``folder``; None when the folder is read-only to us.

    Raises:
        DataError: the folder is being rebuilt right now.
    """
    try:
        return FileLock(lock_path(folder, READERS_LOCK), fcntl.LOCK_SH, blocking=False)
    except BlockingIOError:
        raise DataError(f"{folder} is being rebuilt right now; wait for bin/build_tfrecord.py to finish, "
                        "then start training again") from None
    except OSError:
        return None  # no lock file possible (a read-only share): nobody can rebuild the records there either
