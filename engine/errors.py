"""Errors that reach a person as one clear sentence (never a traceback)."""


class RecscopeError(Exception):
    """Base class: the message is one sentence meant for a person."""


class DataError(RecscopeError):
    """Bad input: a missing file, a missing column, an unparsable value..."""


class StoreBusy(RecscopeError):
    """The DuckDB file stayed locked by another process for too long."""


class NotFound(RecscopeError):
    """An unknown dataset, run, user, model or experiment."""
