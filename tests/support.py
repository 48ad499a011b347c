"""Shared test support: a real Keystead server in a subprocess, driven through its CLI."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[1]
KEYSTEAD = str(Path(sys.executable).with_name("keystead"))
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Account:
    account_id: str
    arn: str
    access_key_id: str
    secret_access_key: str = field(repr=False)


@dataclass
class Server:
    data_dir: Path
    port: int
    database_url: str | None
    process: subprocess.Popen[bytes] | None = None
    accounts: list[Account] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        if self.database_url:
            env["KEYSTEAD_DATABASE_URL"] = self.database_url
        return subprocess.run(
            [KEYSTEAD, *args], capture_output=True, text=True, env=env, check=check, timeout=60
        )

    def create_account(self, name: str = "test") -> Account:
        out = self.cli(
            "account", "create", "--data-dir", str(self.data_dir), "--name", name,
            "--email", f"{name}-{uuid.uuid4().hex[:8]}@example.com", "--password", "correct horse battery", "--json",
        )
        data = json.loads(out.stdout)
        account = Account(data["AccountId"], data["Arn"], data["AccessKeyId"], data["SecretAccessKey"])
        self.accounts.append(account)
        return account

    def client(self, service: str, account: Account | None = None, region: str = "us-east-1", **kw: object):
        account = account or self.accounts[0]
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=kw.pop("access_key_id", account.access_key_id),  # type: ignore[arg-type]
            aws_secret_access_key=kw.pop("secret_access_key", account.secret_access_key),  # type: ignore[arg-type]
            aws_session_token=kw.pop("session_token", None),  # type: ignore[arg-type]
            config=Config(retries={"max_attempts": 1}),
        )

    def start(self, *extra: str) -> None:
        env = dict(os.environ)
        if self.database_url:
            env["KEYSTEAD_DATABASE_URL"] = self.database_url
        log_path = self.data_dir.parent / f"server-{self.port}.log"
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [KEYSTEAD, "serve", "--data-dir", str(self.data_dir), "--port", str(self.port), *extra],
                env=env, stdout=log, stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throw-away PostgreSQL database, dropped afterwards."""
    import psycopg

    name = f"keystead_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_server(tmp: Path, database_url: str | None = None, *extra: str) -> Iterator[Server]:
    server = Server(data_dir=tmp / "data", port=free_port(), database_url=database_url)
    server.cli("init", "--data-dir", str(server.data_dir))
    server.create_account("first")
    server.start(*extra)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(tmp / "data", ignore_errors=True)


def signed_request(
    server: Server,
    account: Account,
    *,
    service: str,
    body: bytes,
    headers: dict[str, str],
    at: datetime | None = None,
    region: str = "us-east-1",
    method: str = "POST",
    url_suffix: str = "/",
) -> Any:
    """Send a request signed by botocore's SigV4 signer, optionally as if signed at time `at`."""
    from unittest import mock

    import botocore.auth
    import httpx
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=server.endpoint + url_suffix, data=body, headers=headers)
    signer = botocore.auth.SigV4Auth(Credentials(account.access_key_id, account.secret_access_key), service, region)
    if at is None:
        signer.add_auth(request)
    else:
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=at):
            signer.add_auth(request)
    prepared = request.prepare()
    return httpx.request(method, prepared.url, headers=dict(prepared.headers), content=body, timeout=10)


def kms_request(server: Server, account: Account, operation: str, payload: dict | bytes, **kw: object):
    import json as _json

    body = payload if isinstance(payload, bytes) else _json.dumps(payload).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"TrentService.{operation}"}
    return signed_request(server, account, service="kms", body=body, headers=headers, **kw)  # type: ignore[arg-type]
