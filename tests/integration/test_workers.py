"""Several worker processes on one SQLite data directory serve one consistent KMS."""

from __future__ import annotations

from pathlib import Path

from tests.support import running_server


def test_two_workers_share_keys_and_audit(tmp_path: Path) -> None:
    with running_server(tmp_path, None, "--workers", "2") as server:
        created = []
        for _ in range(6):
            # New connections land on either worker; each must see what the other wrote.
            kms = server.client("kms")
            key_id = kms.create_key()["KeyMetadata"]["KeyId"]
            blob = kms.encrypt(KeyId=key_id, Plaintext=b"w")["CiphertextBlob"]
            assert server.client("kms").decrypt(CiphertextBlob=blob)["Plaintext"] == b"w"
            created.append(key_id)
        listed = {k["KeyId"] for k in server.client("kms").list_keys()["Keys"]}
        assert set(created) <= listed
