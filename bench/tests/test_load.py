"""The load generator against a scripted local server: counting, framing, reconnects, spec checks."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.load import LoadResult, LoadSpec, ProtocolError, read_response, run_load
from bench.servers import REPO_ROOT
from bench.tests.fake_http import fake_http_server

REQUEST = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}"


def _spec(port: int, connections: int = 2, duration_s: float = 0.3) -> LoadSpec:
    return LoadSpec("127.0.0.1", port, (REQUEST,), connections, duration_s, 0.1, time.time())


def test_keep_alive_200_responses_are_all_counted_as_ok_on_one_connection_per_client() -> None:
    with fake_http_server("ok") as server:
        result = run_load(_spec(server.port, connections=3))
    assert result.errors == 0
    assert result.ok > 50
    assert result.histogram.count == result.ok
    assert server.connections == 3
    assert 0.0 < result.cpu_share < 2.0


def test_non_200_responses_are_errors_with_a_sample_of_the_body() -> None:
    with fake_http_server("error") as server:
        result = run_load(_spec(server.port))
    assert result.ok == 0
    assert result.errors > 10
    assert result.histogram.count == 0
    assert result.error_samples[0] == "HTTP 503: b'slow down'"


def test_connection_close_responses_are_followed_by_a_reconnect_not_an_error() -> None:
    with fake_http_server("close") as server:
        result = run_load(_spec(server.port, connections=1))
    assert result.errors == 0
    assert result.ok > 10
    assert server.connections >= result.ok


def test_responses_without_content_length_are_transport_errors_and_the_client_gives_up() -> None:
    with fake_http_server("no_length") as server:
        result = run_load(_spec(server.port, connections=1, duration_s=5.0))
    assert result.ok == 0
    assert result.errors > 0
    assert any("without Content-Length" in sample for sample in result.error_samples)


def test_a_refused_connection_is_counted_and_bounded() -> None:
    with fake_http_server("ok") as server:
        port = server.port
    result = run_load(_spec(port, connections=1))
    assert result.ok == 0
    assert result.errors > 0
    assert result.error_samples[0].startswith("connect:")


def test_read_response_frames_by_content_length_and_reads_keep_alive() -> None:
    async def parse(raw: bytes) -> tuple[int, bytes, bool]:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        return await read_response(reader)

    ok = asyncio.run(parse(b"HTTP/1.1 200 OK\r\nContent-LENGTH: 5\r\n\r\nhello trailing"))
    assert ok == (200, b"hello", True)
    closing = asyncio.run(parse(b"HTTP/1.0 400 Bad\r\nContent-Length: 0\r\n\r\n"))
    assert closing == (400, b"", False)
    with pytest.raises(ProtocolError):
        asyncio.run(parse(b"garbage\r\n\r\n"))


def test_a_spec_for_any_host_other_than_loopback_is_rejected() -> None:
    data = _spec(80).to_json() | {"host": "10.0.0.1"}
    with pytest.raises(ValueError, match="127.0.0.1"):
        LoadSpec.from_json(data)


def test_spec_and_result_survive_their_json_round_trip() -> None:
    spec = _spec(1234)
    assert LoadSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    with fake_http_server("ok") as server:
        result = run_load(_spec(server.port, connections=1, duration_s=0.1))
    again = LoadResult.from_json(json.loads(json.dumps(result.to_json())))
    assert (again.ok, again.errors, again.histogram.to_json()) == (
        result.ok,
        result.errors,
        result.histogram.to_json(),
    )


def test_the_module_runs_as_a_separate_process_and_prints_its_result(tmp_path: Path) -> None:
    with fake_http_server("ok") as server:
        spec_path = tmp_path / "spec.json"
        spec_path.write_text(json.dumps(_spec(server.port).to_json()))
        done = subprocess.run(
            [sys.executable, "-m", "bench.load", "--spec", str(spec_path)],
            cwd=REPO_ROOT,
            capture_output=True,
            timeout=60,
            check=True,
        )
    result = LoadResult.from_json(json.loads(done.stdout))
    assert result.ok > 0 and result.errors == 0
