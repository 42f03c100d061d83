"""Errors by layer. Every message names the setting, file or parameter at fault and the fix."""


class PicsiftError(Exception):
    """Base of every error picsift raises on purpose (the CLI prints it without a trace)."""


class ConfigError(PicsiftError):
    """A setting is missing or invalid; raised at start, before any work is done."""


class StoreError(PicsiftError):
    """The vector store cannot be opened or used as asked."""


class StoreLockedError(StoreError):
    """Another process holds the embedded store."""


class ModelMismatchError(StoreError):
    """The store was built with a different embedding model than the one requested."""


class InputError(PicsiftError):
    """Bad user input (a file, field or parameter)."""


class NotFoundError(InputError):
    """The thing asked for (an image id, a topic, a saved selection) does not exist."""


class ModelUnavailableError(PicsiftError):
    """A model cannot be loaded (not on disk, and the hub cannot be reached)."""
