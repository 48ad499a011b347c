"""Restarting the server keeps accounts, keys and the ability to decrypt (SQLite here;
tests/integration runs the same on PostgreSQL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support import Server, running_server


def exercise_restart(server: Server) -> None:
    kms = server.client("kms")
    key = kms.create_key(Description="survivor")["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"persist me", EncryptionContext={"a": "b"})["CiphertextBlob"]
    kms.disable_key(KeyId=key["KeyId"])
    server.restart()
    kms = server.client("kms")
    meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert meta["Description"] == "survivor" and meta["KeyState"] == "Disabled"
    kms.enable_key(KeyId=key["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})["Plaintext"] == b"persist me"
    assert server.client("sts").get_caller_identity()["Account"] == server.accounts[0].account_id


def test_restart_keeps_keys_and_ciphertexts_on_sqlite(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        exercise_restart(server)


def test_secrets_are_stored_only_wrapped(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        kms = server.client("kms")
        out = kms.generate_data_key(KeyId=kms.create_key()["KeyMetadata"]["KeyId"], KeySpec="AES_256")
        database = (server.data_dir / "keystead.db").read_bytes()
        for extra in server.data_dir.glob("keystead.db-wal"):
            database += extra.read_bytes()
        assert server.accounts[0].secret_access_key.encode() not in database
        assert out["Plaintext"] not in database
        assert oct((server.data_dir / "root.key").stat().st_mode & 0o777) == "0o600"


def test_every_request_leaves_an_audit_event_without_secrets(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        kms = server.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.encrypt(KeyId=key_id, Plaintext=b"top-secret-plaintext", EncryptionContext={"dept": "x"})
        try:
            kms.describe_key(KeyId="alias/missing")
        except Exception:
            pass
        with sqlite3.connect(server.data_dir / "keystead.db") as conn:
            rows = conn.execute("select event_name, payload from audit_events").fetchall()
    names = [name for name, _ in rows]
    assert names.count("CreateKey") == 1 and names.count("Encrypt") == 1 and names.count("DescribeKey") == 1
    payloads = "\n".join(payload for _, payload in rows)
    assert "top-secret-plaintext" not in payloads and "dG9wLXNlY3JldC1wbGFpbnRleHQ" not in payloads
    assert '"errorCode":"NotFoundException"' in payloads
    assert '"encryptionContext":{"dept":"x"}' in payloads
