"""The same server on PostgreSQL: restart durability and two nodes sharing one database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.test_durability import exercise_restart
from tests.support import Server, free_port, postgres_database, running_server

pytestmark = pytest.mark.postgres


def test_restart_keeps_keys_and_ciphertexts_on_postgres(tmp_path: Path) -> None:
    with postgres_database() as url, running_server(tmp_path, url) as server:
        exercise_restart(server)


def test_two_nodes_share_keys_through_postgres(tmp_path: Path) -> None:
    with postgres_database() as url, running_server(tmp_path, url) as first:
        second = Server(data_dir=first.data_dir, port=free_port(), database_url=url, accounts=first.accounts)
        second.start()
        try:
            key_id = first.client("kms").create_key()["KeyMetadata"]["KeyId"]
            blob = first.client("kms").encrypt(KeyId=key_id, Plaintext=b"shared")["CiphertextBlob"]
            assert second.client("kms").decrypt(CiphertextBlob=blob)["Plaintext"] == b"shared"
        finally:
            second.stop()
