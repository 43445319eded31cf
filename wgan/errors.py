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


def registry_entry(table, name, where):
    """``table[name]`` for a registry ``table`` ({name: entry}); a ``ConfigError`` naming ``where``
    (``"key 'model'"``) and every valid name otherwise. Shared by the registries that a
    hyperparameter or a flag names (objectives, constraints, architectures)."""
    if name not in table:
        raise ConfigError(f"{where} is {name!r}; valid values: {', '.join(table)}")
    return table[name]
