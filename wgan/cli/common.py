"""What every command shares: one-line errors and a non-zero exit instead of tracebacks,
``--help`` that lists the command's own flags, and a quiet console (``wgan.util.quiet``)."""

import os
import sys

from absl import app, flags, logging

from wgan.util import quiet
from wgan.cli import help as command_help
from wgan.errors import WganError


def run(main, argv=None):
    """Run an absl ``main(argv)``; a ``WganError`` becomes one line on stderr and exit code 1.

    ``--help`` (``-h``, ``-?``, ``--helpshort``) prints the flags of ``main``'s command and
    ``--helpfull`` every flag, both exiting 0 (absl's own exit 1 and list nothing useful).
    """
    argv = sys.argv if argv is None else argv
    try:
        _run(main, argv)
    except BrokenPipeError:
        # Whoever read stdout stopped (``--help | head``): end quietly, as ``cat`` does, and point
        # stdout at /dev/null so that Python's flush at exit does not raise the same error again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def _run(main, argv):
    kind = command_help.asked(argv)
    if kind:
        command_help.show(sys.modules[main.__module__], kind)
        sys.exit(0)

    def guarded(argv):
        quiet.configure_python_logging(flags.FLAGS.verbosity)
        try:
            return main(argv)
        except WganError as err:
            logging.flush()
            print(f"error: {err}", file=sys.stderr)
            sys.exit(1)
        except KeyboardInterrupt:
            # Ctrl+C outside a training loop (which stops cleanly by itself): before a run starts, while
            # its iterations are timed, or while a command that writes atomically runs. One line, no traceback.
            logging.flush()
            print("interrupted", file=sys.stderr)
            sys.exit(130)

    app.run(guarded, argv=argv)
