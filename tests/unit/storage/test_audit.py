"""Contract: the audit trail (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses

import pytest

from keystead.storage import Database
from keystead.storage.testing import sample_audit_event


def test_appended_events_get_increasing_seq_in_batch_order(db: Database) -> None:
    batch = [sample_audit_event(f"event-{i}", event_name=f"Op{i}") for i in range(5)]
    with db.transaction() as tx:
        tx.append_audit_events(batch)
    with db.reader() as tx:
        stored = tx.list_audit_events(None, after_seq=None, limit=10)
    assert [e.event_id for e in stored] == [f"event-{i}" for i in range(5)]
    seqs = [e.seq for e in stored]
    assert all(isinstance(s, int) for s in seqs) and seqs == sorted(set(seqs))  # type: ignore[type-var]
    assert [dataclasses.replace(e, seq=None) for e in stored] == batch


def test_audit_events_page_by_seq_and_filter_by_account(db: Database) -> None:
    with db.transaction() as tx:
        tx.append_audit_events([sample_audit_event(f"a-{i}", account_id="111122223333") for i in range(3)])
        tx.append_audit_events([sample_audit_event("b-0", account_id="444455556666")])
        tx.append_audit_events([sample_audit_event("none-0", account_id=None)])
        tx.append_audit_events([sample_audit_event("a-3", account_id="111122223333")])
    with db.reader() as tx:
        first = tx.list_audit_events("111122223333", after_seq=None, limit=2)
        rest = tx.list_audit_events("111122223333", after_seq=first[-1].seq, limit=10)
        everything = tx.list_audit_events(None, after_seq=None, limit=100)
    assert [e.event_id for e in first] == ["a-0", "a-1"]
    assert [e.event_id for e in rest] == ["a-2", "a-3"]
    assert [e.event_id for e in everything] == ["a-0", "a-1", "a-2", "b-0", "none-0", "a-3"]


def test_re_appending_a_stored_event_id_is_skipped_not_duplicated(db: Database) -> None:
    with db.transaction() as tx:
        tx.append_audit_events([sample_audit_event("event-1"), sample_audit_event("event-2")])
    with db.transaction() as tx:
        tx.append_audit_events([sample_audit_event("event-2"), sample_audit_event("event-3")])
        tx.append_audit_events([])
    with db.reader() as tx:
        ids = [e.event_id for e in tx.list_audit_events(None, after_seq=None, limit=10)]
    assert ids == ["event-1", "event-2", "event-3"]


def test_list_audit_events_refuses_a_limit_below_one(db: Database) -> None:
    with db.reader() as tx, pytest.raises(ValueError):
        tx.list_audit_events(None, after_seq=None, limit=0)
