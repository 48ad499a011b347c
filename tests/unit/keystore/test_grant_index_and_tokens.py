"""The grant index across two nodes sharing one database, grant tokens, and the quota."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from keystead.clock import FixedClock
from keystead.crypto.keyring import Keyring
from keystead.errors import InvalidGrantTokenError, LimitExceededError
from keystead.keystore import grant_service as grant_service_module
from keystead.keystore.grant_index import GrantIndex
from keystead.keystore.grant_service import Created, GrantService
from keystead.keystore.grants import NewGrant
from keystead.storage import Database, KeyRow
from keystead.storage.testing import T0, sample_account, sample_key

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
ALICE = "arn:aws:iam::111122223333:user/alice"
BOB = "arn:aws:iam::111122223333:user/bob"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'k.db'}")
    database.migrate()
    with database.transaction() as tx:
        tx.insert_account(sample_account("111122223333"))
        tx.insert_key(sample_key(KEY_ID))
    yield database
    database.dispose()


@pytest.fixture
def key(db: Database) -> KeyRow:
    with db.reader() as tx:
        row = tx.get_key(KEY_ID)
    assert row is not None
    return row


def node(db: Database, keyring: Keyring, clock: FixedClock, poll: float = 0.0) -> GrantService:
    return GrantService(db, keyring, clock, GrantIndex(db, clock, poll_seconds=poll))


@pytest.fixture
def keyring() -> Keyring:
    return Keyring({1: os.urandom(32)})


def create(
    service: GrantService, db: Database, key: KeyRow, grantee: str = ALICE, name: str | None = None
) -> Created:
    with db.transaction() as tx:
        created = service.create(tx, key, NewGrant(grantee=grantee, operations=("Encrypt",), name=name))
    service.committed_create(created)
    return created


def test_a_change_on_one_node_reaches_the_other_nodes_index(
    db: Database, key: KeyRow, keyring: Keyring
) -> None:
    clock = FixedClock(T0)
    a, b = node(db, keyring, clock), node(db, keyring, clock)
    assert list(asyncio.run(b.grants_of_key(KEY_ID)).held_by(ALICE)) == []
    created = create(a, db, key)
    index_b = asyncio.run(b.grants_of_key(KEY_ID))
    assert [g.grant_id for g in index_b.held_by(ALICE)] == [created.grant.grant_id]
    with db.transaction() as tx:
        version = a.delete(tx, KEY_ID, created.grant.grant_id)
    a.committed_delete(KEY_ID, created.grant.grant_id, version)
    assert list(asyncio.run(a.grants_of_key(KEY_ID)).held_by(ALICE)) == []
    index_b = asyncio.run(b.grants_of_key(KEY_ID))
    assert list(index_b.held_by(ALICE)) == []
    # The retired grant's token no longer counts on the node that saw it go.
    assert not index_b.token_grant_is_live(created.grant.grant_id, clock.now())


def test_this_nodes_changes_apply_in_place_without_waiting_for_a_poll(
    db: Database, key: KeyRow, keyring: Keyring
) -> None:
    clock = FixedClock(T0)
    a = node(db, keyring, clock, poll=3600.0)
    asyncio.run(a.grants_of_key(KEY_ID))
    created = create(a, db, key, grantee=BOB)
    index = asyncio.run(a.grants_of_key(KEY_ID))
    assert index.version == 1 and [g.grant_id for g in index.held_by(BOB)] == [created.grant.grant_id]


def test_a_token_opens_to_its_grant_and_junk_is_refused(db: Database, key: KeyRow, keyring: Keyring) -> None:
    service = node(db, keyring, FixedClock(T0))
    created = create(service, db, key, name="n")
    opened = service.open_token(created.token)
    assert opened.grant.grant_id == created.grant.grant_id and opened.grant.grantee == ALICE
    assert opened.issued_at == T0
    stranger = GrantService(db, Keyring({1: os.urandom(32)}), FixedClock(T0))
    for junk in ("", "junk", created.token[:-4], "A" * 9000, stranger.tokens.issue(created.grant, T0)):
        with pytest.raises(InvalidGrantTokenError):
            service.open_token(junk)


def test_a_token_for_a_grant_the_index_has_not_seen_counts_only_while_fresh(
    db: Database, key: KeyRow, keyring: Keyring
) -> None:
    clock = FixedClock(T0)
    index = asyncio.run(node(db, keyring, clock).grants_of_key(KEY_ID))
    assert index.token_grant_is_live("f" * 64, T0)
    assert not index.token_grant_is_live("f" * 64, T0 - timedelta(minutes=1))


def test_the_same_name_and_parameters_return_the_same_grant(
    db: Database, key: KeyRow, keyring: Keyring
) -> None:
    service = node(db, keyring, FixedClock(T0))
    one, two = create(service, db, key, name="n"), create(service, db, key, name="n")
    assert one.grant.grant_id == two.grant.grant_id and one.token != two.token and two.version is None
    assert create(service, db, key, grantee=BOB, name="n").grant.grant_id != one.grant.grant_id


def test_the_grant_quota_refuses_one_more_and_writes_nothing(
    db: Database, key: KeyRow, keyring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grant_service_module, "MAX_GRANTS_PER_KEY", 2)
    service = node(db, keyring, FixedClock(T0))
    create(service, db, key)
    create(service, db, key)
    with pytest.raises(LimitExceededError):
        create(service, db, key)
    with db.reader() as tx:
        assert tx.count_grants(KEY_ID) == 2
