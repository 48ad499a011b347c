"""Migration 11: scheduled deletion of multi-Region replica keys.

Frozen DDL: never edited once released. A replica is scheduled for deletion on its own, so it
gets its own deletion date and waiting period (both null unless it is PendingDeletion); the
index serves the deletion sweep's "due before now" scan.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from keystead.storage.schema import UtcDateTime


def apply(conn: Connection) -> None:
    # The column type is compiled for the connection's dialect (timestamptz on PostgreSQL).
    timestamp = UtcDateTime().compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE key_replicas ADD COLUMN deletion_date {timestamp}"))
    conn.execute(text("ALTER TABLE key_replicas ADD COLUMN pending_window_days INTEGER"))
    conn.execute(text("CREATE INDEX ix_key_replicas_deletion_date ON key_replicas (deletion_date)"))
