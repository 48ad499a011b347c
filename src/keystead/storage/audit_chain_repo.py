"""The audit trail's hash chain, extended by every append, and its signed digests.

One global chain covers every event of every account, in commit order. Each link is

    link_hash(n) = SHA-256("keystead-audit-chain/v1\\n" || link_hash(n-1) || "\\n" || n || "\\n"
                           || event_id || "\\n" || account_id or "" || "\\n" || payload)

as lowercase hex, with link_hash(0) = 64 zeros. `audit_chain_head` holds the last link. Every
append locks that row first (SQLite: the writer's BEGIN IMMEDIATE already excludes other
writers; PostgreSQL: SELECT ... FOR UPDATE), so links are assigned one batch at a time, across
worker processes and nodes, and `chain_seq` is gapless in commit order. A group-commit batch
pays for one head update however many events it carries.

Why global rather than per account: one lock row and one sequence make removal of any event
(including an account's whole history) visible as a gap or a broken link, and a digest signs
everything at once. The lock is held only from the append to the commit of a transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from keystead.storage._txbase import check_limit, row_values, to_row
from keystead.storage.aliases_audit_repo import AuditRepository
from keystead.storage.rows import (
    AuditChainHeadRow,
    AuditDigestRow,
    AuditEventRow,
    AuditLinkRow,
    AuditSigningKeyRow,
)
from keystead.storage.schema import (
    audit_chain,
    audit_chain_head,
    audit_digests,
    audit_events,
    audit_signing_keys,
)

GENESIS_HASH = "0" * 64
_HEAD = select(
    audit_chain_head.c.chain_seq, audit_chain_head.c.link_hash, audit_chain_head.c.legacy_max_seq
).where(audit_chain_head.c.id == 1)
_LINK_LABEL = b"keystead-audit-chain/v1\n"
# Every group-commit batch runs the statements below. Built once, they skip SQLAlchemy's
# per-call construction and argument coercion (most of the writer's CPU besides the commit).
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_PRESENT = select(audit_events.c.event_id).where(
    audit_events.c.event_id.in_(bindparam("event_ids", expanding=True))
)
_INSERT_LINKS = audit_chain.insert()
_MOVE_HEAD = (
    update(audit_chain_head)
    .where(audit_chain_head.c.id == 1)
    .values(chain_seq=bindparam("new_seq"), link_hash=bindparam("new_link_hash"))
)


def link_hash(previous: str, chain_seq: int, event_id: str, account_id: str | None, payload: str) -> str:
    """The chain link of one event (the format in this module's docstring)."""
    digest = hashlib.sha256(_LINK_LABEL)
    for part in (previous, str(chain_seq), event_id, account_id or ""):
        digest.update(part.encode("utf-8") + b"\n")
    digest.update(payload.encode("utf-8"))
    return digest.hexdigest()


class AuditChainRepository(AuditRepository):
    """`append_audit_events` that also extends the chain; chain, key and digest queries."""

    __slots__ = ()

    def append_audit_events(self, rows: Sequence[AuditEventRow]) -> None:
        """Append events and link each newly stored one into the chain, in batch order.

        Event ids already stored are skipped (a retried batch), and get no second link.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        conn = self._writer()
        if not rows:
            return
        head = self.lock_audit_chain_head()
        wanted = [row.event_id for row in rows]
        present = set(conn.execute(_PRESENT, {"event_ids": wanted}).scalars())
        fresh: dict[str, AuditEventRow] = {}
        for row in rows:
            if row.event_id not in present:
                fresh.setdefault(row.event_id, row)
        if not fresh:
            return
        super().append_audit_events(list(fresh.values()))
        seq, previous = head.chain_seq, head.link_hash
        links = []
        for row in fresh.values():
            seq += 1
            previous = link_hash(previous, seq, row.event_id, row.account_id, row.payload)
            links.append({"chain_seq": seq, "event_id": row.event_id, "link_hash": previous})
        conn.execute(_INSERT_LINKS, links)
        conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_link_hash": previous})

    def lock_audit_chain_head(self) -> AuditChainHeadRow:
        """The chain head, locked until this transaction ends (a no-op lock on SQLite, see above).

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        query = _HEAD_FOR_UPDATE
        found = self._writer().execute(query).mappings().first()
        if found is None:
            # Migration 6 creates the row; it is only missing from a database emptied wholesale
            # (test fixtures truncate every table). Start a fresh chain then; should events exist,
            # `verify` reports the head as wrong.
            self._insert_unless_exists(
                audit_chain_head, {"id": 1, "chain_seq": 0, "link_hash": GENESIS_HASH, "legacy_max_seq": 0}
            )
            found = self._conn.execute(query).mappings().one()
        return to_row(AuditChainHeadRow, found)

    def audit_chain_head(self) -> AuditChainHeadRow:
        """The chain head as of this transaction's snapshot."""
        found = self._conn.execute(_HEAD).mappings().first()
        return AuditChainHeadRow(0, GENESIS_HASH, 0) if found is None else to_row(AuditChainHeadRow, found)

    def list_chained_audit_events(
        self, *, after_chain_seq: int, limit: int
    ) -> list[tuple[AuditLinkRow, AuditEventRow | None]]:
        """One page of chain links in order, each with its event (None when the event row is gone).

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = (
            select(audit_chain, audit_events)
            .select_from(
                audit_chain.outerjoin(audit_events, audit_events.c.event_id == audit_chain.c.event_id)
            )
            .where(audit_chain.c.chain_seq > after_chain_seq)
            .order_by(audit_chain.c.chain_seq)
            .limit(limit)
        )
        page = []
        for m in self._conn.execute(query).mappings():
            link = AuditLinkRow(m["chain_seq"], m[audit_chain.c.event_id], m["link_hash"])
            event = None
            if m["seq"] is not None:
                event = AuditEventRow(
                    event_id=m[audit_events.c.event_id], account_id=m["account_id"],
                    event_time=m["event_time"], event_source=m["event_source"],
                    event_name=m["event_name"], payload=m["payload"], seq=m["seq"],
                )
            page.append((link, event))
        return page

    def list_unchained_audit_events(self, *, above_seq: int, limit: int) -> list[AuditEventRow]:
        """Events with no chain link whose `seq` is above `above_seq` (insertions, for verification).

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = (
            select(audit_events)
            .outerjoin(audit_chain, audit_chain.c.event_id == audit_events.c.event_id)
            .where(audit_chain.c.chain_seq.is_(None), audit_events.c.seq > above_seq)
            .order_by(audit_events.c.seq)
            .limit(limit)
        )
        return [to_row(AuditEventRow, m) for m in self._conn.execute(query).mappings()]

    def count_audit_events(self) -> int:
        """How many event rows are stored (all accounts)."""
        return int(self._conn.execute(select(func.count()).select_from(audit_events)).scalar_one())

    def insert_audit_signing_key(self, row: AuditSigningKeyRow) -> bool:
        """Store a digest signing key; False when its id is taken.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(audit_signing_keys, row_values(row))

    def audit_signing_keys(self) -> list[AuditSigningKeyRow]:
        """Every digest signing key, oldest first."""
        query = select(audit_signing_keys).order_by(audit_signing_keys.c.key_id)
        return [to_row(AuditSigningKeyRow, m) for m in self._conn.execute(query).mappings()]

    def insert_audit_digest(self, row: AuditDigestRow) -> bool:
        """Store a signed digest; False when its `digest_seq` is taken.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(audit_digests, row_values(row))

    def latest_audit_digest(self) -> AuditDigestRow | None:
        """The digest with the highest `digest_seq`, or None."""
        query = select(audit_digests).order_by(audit_digests.c.digest_seq.desc()).limit(1)
        mapping = self._conn.execute(query).mappings().first()
        return None if mapping is None else to_row(AuditDigestRow, mapping)

    def list_audit_digests(self, *, after_digest_seq: int, limit: int) -> list[AuditDigestRow]:
        """One page of digests in order.

        Raises:
            ValueError: limit is below 1.
        """
        check_limit(limit)
        query = (
            select(audit_digests)
            .where(audit_digests.c.digest_seq > after_digest_seq)
            .order_by(audit_digests.c.digest_seq)
            .limit(limit)
        )
        return [to_row(AuditDigestRow, m) for m in self._conn.execute(query).mappings()]

    def lookup_audit_events(
        self,
        account_id: str | None,
        *,
        before_seq: int | None,
        limit: int,
        columns: dict[str, str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[AuditEventRow]:
        """One page of an account's events, newest first (by `seq`), before `before_seq`.

        `columns` filters on equality of indexed columns: event_id, event_name, event_source.
        `start`/`end` bound event_time inclusively. Every account's events when account_id is None.

        Raises:
            ValueError: limit is below 1, or `columns` names another column.
        """
        check_limit(limit)
        query = select(audit_events)
        if account_id is not None:
            query = query.where(audit_events.c.account_id == account_id)
        for name, value in (columns or {}).items():
            if name not in ("event_id", "event_name", "event_source"):
                raise ValueError(f"cannot filter audit events on {name}")
            query = query.where(audit_events.c[name] == value)
        if before_seq is not None:
            query = query.where(audit_events.c.seq < before_seq)
        if start is not None:
            query = query.where(audit_events.c.event_time >= start)
        if end is not None:
            query = query.where(audit_events.c.event_time <= end)
        found = self._conn.execute(query.order_by(audit_events.c.seq.desc()).limit(limit))
        return [to_row(AuditEventRow, m) for m in found.mappings()]
