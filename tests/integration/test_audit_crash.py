"""Nothing acknowledged is lost: SIGKILL the server while clients fire requests, restart it, and
every request that got a 200 has its record (and the chain still verifies)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.support import Server, free_port, postgres_database, running_server

CLIENTS = 8


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (the server may run worker processes)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            found.extend(process_tree(int(child)))
    return found


def fire(server: Server, key_id: str, acknowledged: list[str], stop: threading.Event, index: int) -> None:
    kms = server.client("kms")
    while not stop.is_set():
        try:
            if index == 0:
                response = kms.create_key(Description="crash")  # a mutation: its own transaction
            else:
                response = kms.encrypt(KeyId=key_id, Plaintext=b"x")  # group commit
        except (BotoCoreError, ClientError):
            return  # the server is gone
        acknowledged.append(response["ResponseMetadata"]["RequestId"])


def test_every_acknowledged_request_survives_a_sigkill_with_its_record(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        key_id = server.client("kms").create_key()["KeyMetadata"]["KeyId"]
        acknowledged: list[str] = []
        stop = threading.Event()
        threads = [
            threading.Thread(target=fire, args=(server, key_id, acknowledged, stop, i)) for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(2.0)
        assert server.process is not None
        for pid in reversed(process_tree(server.process.pid)):
            os.kill(pid, signal.SIGKILL)
        server.process.wait()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        server.process = None
        server.start()
        assert len(acknowledged) > 50, "the clients barely ran; the test proves nothing"
        exported = server.cli("audit", "export", "--data-dir", str(server.data_dir), "--format", "jsonl").stdout
        recorded = {json.loads(line)["requestID"] for line in exported.splitlines()}
        missing = [rid for rid in acknowledged if rid not in recorded]
        assert missing == []
        verified = server.cli("audit", "verify", "--data-dir", str(server.data_dir), check=False)
        assert verified.returncode == 0, verified.stderr


@pytest.mark.postgres
def test_two_postgres_nodes_extend_one_chain_that_verifies(tmp_path: Path) -> None:
    with postgres_database() as url, running_server(tmp_path, url) as first:
        second = Server(data_dir=first.data_dir, port=free_port(), database_url=url, accounts=first.accounts)
        second.start()
        try:
            key_id = first.client("kms").create_key()["KeyMetadata"]["KeyId"]
            acknowledged: list[str] = []
            stop = threading.Event()
            nodes = [first, second] * (CLIENTS // 2)
            threads = [
                threading.Thread(target=fire, args=(node, key_id, acknowledged, stop, i + 1))
                for i, node in enumerate(nodes)
            ]
            for thread in threads:
                thread.start()
            time.sleep(2.0)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        finally:
            second.stop()
        exported = first.cli("audit", "export", "--data-dir", str(first.data_dir), "--format", "jsonl").stdout
        recorded = {json.loads(line)["requestID"] for line in exported.splitlines()}
        assert len(acknowledged) > 50 and set(acknowledged) <= recorded
        verified = first.cli("audit", "verify", "--data-dir", str(first.data_dir), check=False)
        assert verified.returncode == 0, verified.stderr
