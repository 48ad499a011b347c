"""The harness end to end against the bare app, its flags, and that it stops what it starts."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from bench import run, servers


def test_defaults_follow_the_documented_cli() -> None:
    args = run.parse_args([])
    assert args.duration == 5.0
    assert args.concurrency == (1, 8, 32)
    assert args.targets == ("keystead", "bare", "moto")
    assert args.ops == ("encrypt", "decrypt", "generate_data_key")
    assert args.workers is None


def test_flags_parse_comma_separated_lists() -> None:
    args = run.parse_args(
        ["--targets", "bare,moto", "--ops", "decrypt", "--concurrency", "2,16", "--workers", "2"]
    )
    assert (args.targets, args.ops, args.concurrency, args.workers) == (
        ("bare", "moto"),
        ("decrypt",),
        (2, 16),
        2,
    )


@pytest.mark.parametrize(
    "flags",
    [
        ["--duration", "500"],
        ["--targets", "aws"],
        ["--ops", "sign"],
        ["--concurrency", "0"],
        ["--clients", "0"],
    ],
)
def test_out_of_range_or_unknown_flags_are_refused(flags: list[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(flags)


def test_a_bare_only_run_measures_every_concurrency_and_leaves_no_process_behind(tmp_path: Path) -> None:
    # Other tests in the same session (a shared live server) may have children of their own.
    before = set(_live_children())
    args = run.parse_args(
        ["--targets", "bare", "--concurrency", "1,4", "--duration", "0.5", "--warmup", "0.2"]
    )
    rows = run.benchmark(args, tmp_path)
    assert [(row.target, row.operation, row.concurrency) for row in rows] == [
        ("bare", "hello", 1),
        ("bare", "hello", 4),
    ]
    assert all(row.requests_per_s > 100 and row.errors == 0 for row in rows)
    assert set(_live_children()) - before == set()


def _live_children() -> list[int]:
    """Pids of this process's children that are still running (zombies excluded)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                children.append(int(entry))
    return children


def test_stopping_a_server_also_ends_the_children_it_forked(tmp_path: Path) -> None:
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    server = servers.ServerProcess("forker", [sys.executable, "-c", script], tmp_path / "forker.log")
    deadline = time.monotonic() + 30
    while not (tmp_path / "forker.log").read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    child_pid = int((tmp_path / "forker.log").read_text().split()[0])
    server.stop()
    assert server.process.poll() is not None
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_server_that_exits_at_start_is_reported_with_its_log(tmp_path: Path) -> None:
    server = servers.ServerProcess(
        "broken", [sys.executable, "-c", "print('cannot bind'); raise SystemExit(3)"], tmp_path / "broken.log"
    )
    try:
        with pytest.raises(servers.ServerError, match="cannot bind"):
            server.wait_ready(timeout_s=20)
    finally:
        server.stop()
    assert os.path.exists(tmp_path / "broken.log")
