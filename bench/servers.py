"""Start, probe and stop the servers under test, each in its own process group on 127.0.0.1.

Every server is started with ``start_new_session=True`` so that stopping it can signal the whole group
(uvicorn with ``--workers N`` forks children) by the id of the process we started, and so that Ctrl-C in
the terminal reaches only the harness, which then stops them in order.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 120.0
REPO_ROOT = Path(__file__).resolve().parent.parent


class ServerError(Exception):
    """A server or a CLI step it needs failed; the message carries the tail of its log."""


@dataclass(frozen=True)
class Credentials:
    """Access key pair and region used to sign requests to one target."""

    access_key_id: str
    secret_access_key: str = ""
    region: str = "us-east-1"

    def __repr__(self) -> str:  # Never print the secret key.
        return f"Credentials(access_key_id={self.access_key_id!r}, region={self.region!r})"


class ServerProcess:
    """One server process we started; :meth:`stop` signals its process group."""

    def __init__(self, name: str, command: list[str], log_path: Path, env: dict[str, str] | None = None):
        self.name = name
        self.port = free_port()
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )

    @property
    def endpoint(self) -> str:
        """Base URL of the server."""
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        """Return the last lines of the server's log, for error messages."""
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Poll until the server answers an HTTP request.

        Raises:
            ServerError: if the process exits or does not answer within ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if _answers_http(self.port):
                return
            time.sleep(0.1)
        raise ServerError(
            f"{self.name} not ready on port {self.port} after {timeout_s} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after a bounded wait."""
        try:
            if self.process.poll() is None:
                _signal_group(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    _signal_group(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=STOP_TIMEOUT_S)
            # Workers forked by the server may outlive a parent that exited on its own.
            _signal_group(self.process.pid, signal.SIGKILL)
        finally:
            self._log.close()


def _signal_group(pgid: int, signum: int) -> None:
    """Signal the process group led by a process we started (its pid is the group id)."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _answers_http(port: int) -> bool:
    """True if something on the port answers a GET with an HTTP status line."""
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as sock:
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
            return sock.recv(16).startswith(b"HTTP/")
    except OSError:
        return False


def start_bare(log_dir: Path) -> ServerProcess:
    """Start the bare ASGI hello app (bench/bare_app.py) under uvicorn."""
    command = [sys.executable, "-m", "bench.bare_app", "--port", "{port}"]
    return ServerProcess("bare", command, log_dir / "bare.log")


def start_moto(log_dir: Path) -> ServerProcess:
    """Start moto's server (it accepts any credentials)."""
    command = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", "{port}"]
    return ServerProcess("moto", command, log_dir / "moto.log")


def keystead_binary() -> str:
    """Path of the `keystead` CLI next to this interpreter (the project venv), else on PATH."""
    candidate = Path(sys.executable).parent / "keystead"
    return str(candidate) if candidate.exists() else "keystead"


def keystead_cli_works() -> bool:
    """True if `keystead init --help` runs, i.e. the CLI exists in this checkout."""
    try:
        done = subprocess.run(
            [keystead_binary(), "init", "--help"], check=False, capture_output=True, timeout=60, cwd=REPO_ROOT
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _run_cli(args: list[str]) -> str:
    """Run a keystead CLI command to completion and return its stdout.

    Raises:
        ServerError: if the command fails or times out.
    """
    try:
        done = subprocess.run(
            [keystead_binary(), *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            cwd=REPO_ROOT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerError(f"keystead {args[0]}: {exc}") from exc
    if done.returncode != 0:
        raise ServerError(f"keystead {' '.join(args[:2])} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


def prepare_keystead(data_dir: Path, password: str) -> Credentials:
    """Run `keystead init` and `keystead account create --json`; return the account's root credentials.

    Raises:
        ServerError: if either command fails or the JSON lacks the access key pair.
    """
    _run_cli(["init", "--data-dir", str(data_dir)])
    out = _run_cli(
        [
            "account",
            "create",
            "--data-dir",
            str(data_dir),
            "--name",
            "bench",
            "--email",
            "b@example.com",
            "--password",
            password,
            "--json",
        ]
    )
    # The contract prints one JSON object; tolerate log lines before it.
    lines = [line for line in out.splitlines() if line.strip().startswith("{")]
    try:
        account = json.loads(lines[-1])
        return Credentials(account["AccessKeyId"], account["SecretAccessKey"])
    except (IndexError, ValueError, KeyError) as exc:
        raise ServerError(f"unexpected `account create --json` output: {out[:500]!r}") from exc


def start_keystead(data_dir: Path, log_dir: Path, workers: int | None) -> ServerProcess:
    """Start `keystead serve` on a free 127.0.0.1 port."""
    command = [keystead_binary(), "serve", "--data-dir", str(data_dir), "--host", HOST, "--port", "{port}"]
    if workers is not None:
        command += ["--workers", str(workers)]
    return ServerProcess("keystead", command, log_dir / "keystead.log")
