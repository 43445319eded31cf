"""What every command shares: one-line errors and a non-zero exit instead of tracebacks."""

import sys

from absl import app, logging

from wgan.errors import WganError


def run(main):
    """Run an absl ``main(argv)``; a ``WganError`` becomes one line on stderr and exit code 1."""

    def guarded(argv):
        try:
            return main(argv)
        except WganError as err:
            logging.flush()
            print(f"error: {err}", file=sys.stderr)
            sys.exit(1)

    app.run(guarded)
