"""Storage: repositories over SQLAlchemy Core, on SQLite (WAL, the default) or PostgreSQL.

Storage is untrusted: it holds wrapped secrets as opaque bytes plus metadata, never a plaintext
secret. Use it as:

    db = Database("sqlite:///var/lib/keystead/keystead.db")
    db.migrate()
    with db.transaction() as tx:        # commits on exit, rolls back on an exception
        tx.insert_key(row)
    with db.reader() as tx:             # read-only snapshot
        tx.get_key(key_id)
"""

from keystead.storage.database import Database
from keystead.storage.engine import default_database_url
from keystead.storage.errors import ReadOnlyTransactionError, SchemaVersionError, StorageError
from keystead.storage.migrations import LATEST_VERSION
from keystead.storage.rows import (
    AccessKeyRow,
    AccountRow,
    AliasRow,
    AuditEventRow,
    KeyMaterialRow,
    KeyReplicaRow,
    KeyRow,
)
from keystead.storage.tx import Tx

__all__ = [
    "LATEST_VERSION",
    "AccessKeyRow",
    "AccountRow",
    "AliasRow",
    "AuditEventRow",
    "Database",
    "KeyMaterialRow",
    "KeyReplicaRow",
    "KeyRow",
    "ReadOnlyTransactionError",
    "SchemaVersionError",
    "StorageError",
    "Tx",
    "default_database_url",
]
