"""Typed errors whose messages a user can act on.

Library code raises these; the command-line entry points (``wgan/cli``) print the
message as one line and exit non-zero instead of showing a traceback.
"""


class WganError(Exception):
    """Base class for every error the toolkit reports to a user."""


class ConfigError(WganError):
    """A hyperparameter file, key or value is wrong (the message names file and key)."""


class DataError(WganError):
    """Raw data or a records folder is missing, corrupt or inconsistent."""


class RunError(WganError):
    """A run folder, version or snapshot does not exist or cannot be used."""


class TrainingError(WganError):
    """Training cannot go on (for example a loss became NaN or Inf)."""
