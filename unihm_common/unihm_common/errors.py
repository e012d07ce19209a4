"""Typed errors shared by every UniHM package. Each names what is wrong and how to fix it."""


class UnihmError(Exception):
    """Base class of every error UniHM raises on purpose."""


class ConfigError(UnihmError, ValueError):
    """A configuration file or parameter set is malformed (names the file and the key)."""


class UnknownHandError(UnihmError, KeyError):
    """A hand name is not in the registry (the message lists the known hands)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InputError(UnihmError, ValueError):
    """Run-time input (a trajectory, a cloud, a goal) is unusable: NaN, empty, wrong shape."""


class MissingDependencyError(UnihmError, ImportError):
    """An optional SDK, model file or device is missing; the message says what to install or pass."""
