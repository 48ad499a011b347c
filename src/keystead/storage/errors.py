"""Storage failures that are not domain conflicts: all are our fault (5xx) to a client.

    InternalError                      (keystead.errors)
    └── StorageError                   the database failed or refused a statement
        ├── SchemaVersionError         the schema is not the version this code expects
        └── ReadOnlyTransactionError   a write was attempted through `Database.reader()`

Domain conflicts are not here: an optimistic-check failure raises `keystead.errors.ConflictError`,
and a unique-key clash is a `False` from the `insert_*` method, for the service to word.
"""

from __future__ import annotations

from keystead.errors import InternalError


class StorageError(InternalError):
    """The database failed (unreachable, locked past the busy timeout, a constraint we did not expect).

    The client sees only the generic internal-error message; the driver's exception is chained
    as `__cause__` for the log.
    """


class SchemaVersionError(StorageError):
    """The database schema is older (run `keystead migrate`) or newer than this code."""


class ReadOnlyTransactionError(StorageError):
    """A write method was called on a transaction opened with `Database.reader()`."""
