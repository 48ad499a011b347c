"""`Tx`: one database transaction, with every repository method on it.

The methods are grouped by subject in mixins (identity, keys, aliases and audit) so that each
module stays small; `Tx` is the one type the services see. Obtain one from
`Database.transaction()` (read-write) or `Database.reader()` (read-only snapshot).
"""

from __future__ import annotations

from keystead.storage.aliases_audit_repo import AliasRepository, AuditRepository
from keystead.storage.identity_repo import IdentityRepository
from keystead.storage.keys_repo import KeyRepository


class Tx(IdentityRepository, KeyRepository, AliasRepository, AuditRepository):
    """A transaction. Unique-key clashes are a False from `insert_*`; lost races raise ConflictError.

    A database failure inside the block aborts the transaction; it reaches the caller as a
    `StorageError` once it leaves the `with` block (code inside the block should not catch it).
    """

    __slots__ = ()
