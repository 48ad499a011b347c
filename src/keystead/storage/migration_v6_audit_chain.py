"""Migration 6: the audit trail's hash chain, its head, the digest signing keys and the digests.

Frozen DDL (see migrations.py): released migrations are never edited. The chain lives beside
`audit_events` rather than in new columns of it, so the event rows keep their v1 shape.
Events stored before this migration stay outside the chain; `legacy_max_seq` records where they
end, so that an unchained event above it is recognisably an insertion.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    table,
    column,
)

from keystead.storage import schema
from keystead.storage.schema import Blob, Identifier, UtcDateTime

GENESIS_HASH = "0" * 64


def apply(conn: Connection) -> None:
    """Create the chain tables and the single chain-head row."""
    md = MetaData(naming_convention=schema.NAMING_CONVENTION)
    # Only the referenced column of the existing v1 table, so the foreign key can be declared.
    Table("audit_events", md, Column("event_id", Identifier, unique=True))
    chain = Table(
        "audit_chain",
        md,
        Column("chain_seq", BigInteger, primary_key=True, autoincrement=False),
        Column("event_id", Identifier, ForeignKey("audit_events.event_id"), nullable=False, unique=True),
        Column("link_hash", String, nullable=False),
    )
    head = Table(
        "audit_chain_head",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("chain_seq", BigInteger, nullable=False),
        Column("link_hash", String, nullable=False),
        Column("legacy_max_seq", BigInteger, nullable=False),
    )
    keys = Table(
        "audit_signing_keys",
        md,
        Column("key_id", Integer, primary_key=True, autoincrement=False),
        Column("public_key", Blob, nullable=False),
        Column("private_wrapped", Blob, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
    )
    digests = Table(
        "audit_digests",
        md,
        Column("digest_seq", BigInteger, primary_key=True, autoincrement=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("last_chain_seq", BigInteger, nullable=False),
        Column("signing_key_id", Integer, ForeignKey("audit_signing_keys.key_id"), nullable=False),
        Column("body", Text, nullable=False),
        Column("signature", Blob, nullable=False),
    )
    md.create_all(conn, tables=[chain, head, keys, digests])
    events = table("audit_events", column("seq"))
    legacy = conn.execute(select(func.max(events.c.seq))).scalar()
    conn.execute(
        head.insert().values(id=1, chain_seq=0, link_hash=GENESIS_HASH, legacy_max_seq=int(legacy or 0))
    )
