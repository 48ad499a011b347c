"""The trail is tamper-evident: `keystead audit verify` passes on what the server recorded and
fails, with a one-line reason, when a record is changed, removed or inserted behind its back,
even when the forger recomputes the hash chain (the signed digests catch that)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from keystead.storage.audit_chain_repo import link_hash
from tests.support import Server, running_server


@pytest.fixture
def trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A server with some history, and a digest signing all of it (the server writes digests
    every half second here)."""
    monkeypatch.setenv("KEYSTEAD_AUDIT_DIGEST_INTERVAL", "0.5")
    with running_server(tmp_path) as server:
        kms = server.client("kms")
        key_id = kms.create_key(Description="history")["KeyMetadata"]["KeyId"]
        for _ in range(5):
            kms.encrypt(KeyId=key_id, Plaintext=b"x")
        deadline = time.monotonic() + 10
        while "0 events after the newest digest" not in verify(server)[1]:
            assert time.monotonic() < deadline, "the server wrote no digest"
            time.sleep(0.2)
            kms.list_keys()  # keeps the trail moving; the loop waits for a digest covering all of it
            time.sleep(0.8)
        server.stop()
        yield server


def verify(server: Server) -> tuple[int, str]:
    out = server.cli("audit", "verify", "--data-dir", str(server.data_dir), check=False)
    return out.returncode, (out.stdout + out.stderr).strip()


def database(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(server.data_dir / "keystead.db")


def encrypt_event(conn: sqlite3.Connection) -> tuple[str, str]:
    return conn.execute(
        "select event_id, payload from audit_events where event_name = 'Encrypt' order by seq limit 1"
    ).fetchone()


def test_verify_passes_on_the_trail_the_server_recorded(trail: Server) -> None:
    code, output = verify(trail)
    assert code == 0, output
    assert output.startswith("audit trail intact: ") and " signed digests" in output


def test_verify_fails_when_a_record_is_changed(trail: Server) -> None:
    with database(trail) as conn:
        event_id, payload = encrypt_event(conn)
        forged = payload.replace('"sourceIPAddress":"127.0.0.1"', '"sourceIPAddress":"10.9.9.9"')
        conn.execute("update audit_events set payload = ? where event_id = ?", (forged, event_id))
        (position,) = conn.execute("select chain_seq from audit_chain where event_id = ?", (event_id,)).fetchone()
    code, output = verify(trail)
    assert code == 1 and output.count("\n") == 0
    assert output.endswith(f"event {event_id} at chain position {position} was changed")


def test_verify_fails_when_a_record_is_removed(trail: Server) -> None:
    with database(trail) as conn:
        event_id, _ = encrypt_event(conn)
        conn.execute("delete from audit_chain where event_id = ?", (event_id,))
        conn.execute("delete from audit_events where event_id = ?", (event_id,))
    code, output = verify(trail)
    assert code == 1 and "were removed" in output


def test_verify_fails_when_a_record_is_inserted(trail: Server) -> None:
    with database(trail) as conn:
        _, payload = encrypt_event(conn)
        record = dict(json.loads(payload), eventID="00000000-0000-0000-0000-000000000000")
        conn.execute(
            "insert into audit_events (event_id, account_id, event_time, event_source, event_name, payload) "
            "select ?, account_id, event_time, event_source, event_name, ? from audit_events limit 1",
            (record["eventID"], json.dumps(record)),
        )
    code, output = verify(trail)
    assert code == 1 and output.endswith("event 00000000-0000-0000-0000-000000000000 is not in the chain (inserted)")


def test_verify_fails_when_a_forger_rewrites_a_record_and_recomputes_the_whole_chain(trail: Server) -> None:
    with database(trail) as conn:
        event_id, payload = encrypt_event(conn)
        conn.execute(
            "update audit_events set payload = ? where event_id = ?", (payload.replace("127.0.0.1", "10.9.9.9"), event_id)
        )
        rows = conn.execute(
            "select c.chain_seq, e.event_id, e.account_id, e.payload from audit_chain c "
            "join audit_events e on e.event_id = c.event_id order by c.chain_seq"
        ).fetchall()
        previous = "0" * 64
        for chain_seq, eid, account, text in rows:
            previous = link_hash(previous, chain_seq, eid, account, text)
            conn.execute("update audit_chain set link_hash = ? where chain_seq = ?", (previous, chain_seq))
        conn.execute("update audit_chain_head set link_hash = ?", (previous,))
    code, output = verify(trail)
    assert code == 1 and "differ from those signed by digest" in output


def test_verify_fails_when_the_signing_key_is_replaced(trail: Server) -> None:
    with database(trail) as conn:
        conn.execute("update audit_signing_keys set public_key = ?", (b"\x00" * 32,))
    code, output = verify(trail)
    assert code == 1 and output.endswith("audit signing key 1 was replaced or does not open")


def test_verify_fails_when_the_newest_events_and_the_head_are_cut_off(trail: Server) -> None:
    with database(trail) as conn:
        (last,) = conn.execute("select max(chain_seq) from audit_chain").fetchone()
        (event_id, previous) = conn.execute(
            "select event_id, (select link_hash from audit_chain where chain_seq = ?) from audit_chain where chain_seq = ?",
            (last - 1, last),
        ).fetchone()
        conn.execute("delete from audit_chain where chain_seq = ?", (last,))
        conn.execute("delete from audit_events where event_id = ?", (event_id,))
        conn.execute("update audit_chain_head set chain_seq = ?, link_hash = ?", (last - 1, previous))
    code, output = verify(trail)
    assert code == 1 and "were signed but the chain ends at" in output


def test_export_and_tail_print_the_records_as_json_lines(trail: Server) -> None:
    account = trail.accounts[0].account_id
    args = ("--data-dir", str(trail.data_dir), "--account", account, "--format", "jsonl")
    exported = [json.loads(line) for line in trail.cli("audit", "export", *args).stdout.splitlines()]
    tailed = [json.loads(line) for line in trail.cli("audit", "tail", *args, "--lines", "3").stdout.splitlines()]
    assert [e["eventName"] for e in exported][:6] == ["CreateKey"] + ["Encrypt"] * 5
    assert all(e["recipientAccountId"] == account for e in exported)
    assert tailed == exported[-3:]


def test_a_background_action_is_recorded_as_a_chained_aws_service_event(trail: Server) -> None:
    from keystead.audit.service_events import kms_service_event_row
    from keystead.config import Settings
    from keystead.server.runtime import open_runtime

    account = trail.accounts[0].account_id
    key_arn = f"arn:aws:kms:us-east-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    runtime = open_runtime(Settings(data_dir=trail.data_dir))
    try:
        with runtime.db.transaction() as tx:
            tx.append_audit_events([kms_service_event_row("RotateKey", key_arn, account, "us-east-1", runtime.clock.now())])
    finally:
        runtime.db.dispose()
    assert verify(trail)[0] == 0
    tail = trail.cli("audit", "tail", "--data-dir", str(trail.data_dir), "--account", account, "--lines", "1")
    event = json.loads(tail.stdout)
    assert event["eventType"] == "AwsServiceEvent" and event["eventName"] == "RotateKey"
    assert event["userIdentity"] == {"accountId": account, "invokedBy": "kms.amazonaws.com"}
    assert event["resources"] == [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}]
    assert event["recipientAccountId"] == account and event["readOnly"] is False
