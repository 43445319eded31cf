"""TensorFlow's own console lines: hidden by default in every command, shown on request.

TensorFlow 2.21 logs from C++ through absl. Its lines reach the terminal two ways:

* while its shared libraries load (``port.cc``'s oneDNN notice, ``cudart_stub.cc``'s
  "Could not find cuda drivers"), before anything has called ``absl::InitializeLog()``.
  absl writes those to stderr at every severity, so ``TF_CPP_MIN_LOG_LEVEL`` does not hide
  them (they come after "WARNING: All log messages before absl::InitializeLog() is called
  are written to STDERR"); absl has no environment variable for its levels either;
* later (``cpu_feature_guard``, ``failed call to cuInit``, Grappler's ``remapper failed``):
  those obey ``TF_CPP_MIN_LOG_LEVEL`` (0 everything, 1 no INFO, 2 no WARNING, 3 no ERROR).

``install(argv)`` runs before TensorFlow is imported (``wgan/cli/__init__.py``, so for the
console scripts, ``bin/`` and ``python -m wgan.cli.X`` alike, and for their spawned worker
processes, which re-import the command). It sets ``TF_CPP_MIN_LOG_LEVEL`` and makes the
first ``import tensorflow`` run with file descriptor 2 redirected to a temporary file, then
writes back every line except absl C++ log lines below that level. TensorFlow's Python
INFO lines (``functional_saver.py] Sharding callback duration`` at every checkpoint) are
hidden through the ``tensorflow`` Python logger.

The default level is 3: a C++ error that matters reaches the user as a Python exception
carrying the same status text, and the ones that do not (``cuInit`` on a machine without a
GPU, the remapper's, explained in ``benchmarks/remapper.py``) would read like failures.
The way back: ``--verbosity 1`` (absl's flag, on every command) shows everything, or set
``TF_CPP_MIN_LOG_LEVEL`` yourself (0-3), which is then used as given.
"""

import contextlib
import importlib.util
import logging
import os
import re
import sys
import tempfile

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
QUIET_LEVEL = 3
# absl C++ line prefix: severity, MMDD, time, thread id, file:line]  (e.g. "I0000 00:00:1796148591.321763 4996 port.cc:153]")
_CPP_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:[\d.]+\s+\d+ [^\s\]]+:\d+\] ")
_PRE_INIT_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}


def requested_verbosity(argv):
    """absl's ``--verbosity`` (int) as typed in ``argv``, read before the flags are parsed; 0 if absent."""
    value = None
    for i, arg in enumerate(argv[1:], start=1):
        if arg == "--":
            break
        if arg.startswith("--verbosity="):
            value = arg.split("=", 1)[1]
        elif arg == "--verbosity" and i + 1 < len(argv):
            value = argv[i + 1]
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0  # absl rejects it with a usage line once the flags are parsed


def cpp_level(argv, environ=None):
    """The ``TF_CPP_MIN_LOG_LEVEL`` (0-3) a command runs with: the user's value when set, else
    0 for ``--verbosity`` >= 1, else ``QUIET_LEVEL``."""
    environ = os.environ if environ is None else environ
    given = environ.get(LEVEL_VARIABLE, "").strip()
    if given.isdigit():
        return min(int(given), 3)
    return 0 if requested_verbosity(argv) >= 1 else QUIET_LEVEL


def is_hidden(line, level):
    """Whether ``line`` (one stderr line) is TensorFlow C++ output below ``level``."""
    if level <= 0:
        return False
    if line.rstrip("\r\n") == _PRE_INIT_NOTICE:
        return True
    match = _CPP_LINE.match(line)
    return bool(match) and _SEVERITY[match.group(1)] < level


@contextlib.contextmanager
def filtered_stderr(level):
    """Collect what is written to file descriptor 2 (C++ included); on exit write it back without hidden lines."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable fd 2: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            kept = "".join(line for line in text.splitlines(keepends=True) if not is_hidden(line, level))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


class _FilteredLoader:
    """Runs the real loader of the ``tensorflow`` package inside ``filtered_stderr``."""

    def __init__(self, loader, level):
        self._loader = loader
        self._level = level

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        with filtered_stderr(self._level):
            self._loader.exec_module(module)
        _set_python_level(self._level)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _TensorFlowFinder:
    """A ``sys.meta_path`` entry that hands the first ``import tensorflow`` to ``_FilteredLoader``."""

    def __init__(self, level):
        self.level = level

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _FilteredLoader(spec.loader, self.level)
        return spec


def _set_python_level(level):
    # INFO lines of TensorFlow's Python code (the checkpoint saver's "Sharding callback
    # duration") show only when the C++ INFO lines do.
    logging.getLogger("tensorflow").setLevel(logging.INFO if level == 0 else logging.WARNING)


class _PlainFormatter(logging.Formatter):
    """The toolkit's own log lines as a user reads them: ``message``, ``warning: message``, ``error: message``."""

    def format(self, record):
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            text = f"{logging.getLevelName(record.levelno).lower()}: {text}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _from_toolkit(record):
    return os.path.abspath(record.pathname).startswith(_PACKAGE_DIR)


# The wgan package (this file is wgan/util/quiet.py).
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def configure_python_logging(verbosity):
    """After absl parsed the flags: at ``verbosity`` <= 0, the toolkit's INFO lines print plainly and
    other libraries' INFO lines (TensorFlow's ``functional_saver.py`` logs one per checkpoint
    through absl) are dropped; warnings and errors of every library stay, without absl's
    ``W1201 18:09:54.607795 140568273746816 file.py:85]`` prefix. At >= 1 absl's own format
    and every line come back."""
    from absl import logging as absl_logging

    handler = absl_logging.get_absl_handler()
    for old in [f for f in handler.filters if getattr(f, "_wgan_quiet", False)]:
        handler.removeFilter(old)
    if verbosity >= 1:
        handler.setFormatter(absl_logging.PythonFormatter())
        return

    def keep(record):
        return record.levelno >= logging.WARNING or _from_toolkit(record)

    keep._wgan_quiet = True
    handler.addFilter(keep)
    handler.setFormatter(_PlainFormatter())


def install(argv=None):
    """Quiet TensorFlow for this process and the processes it starts; call before TensorFlow is imported.

    ``argv`` (default ``sys.argv``) is read for ``--verbosity``. Returns the C++ level set.
    Calling it again, or after TensorFlow was imported, only updates the levels.
    """
    level = cpp_level(sys.argv if argv is None else argv)
    # Exported, so spawned workers (the study's, the build's) inherit it.
    os.environ[LEVEL_VARIABLE] = str(level)
    if "tensorflow" in sys.modules:
        _set_python_level(level)
    elif not any(isinstance(finder, _TensorFlowFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _TensorFlowFinder(level))
    return level
