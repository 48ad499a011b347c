"""The load generator: raw HTTP/1.1 keep-alive clients on asyncio + uvloop, run as its own process.

The harness writes a :class:`LoadSpec` as JSON, starts ``python -m bench.load --spec FILE`` and reads one
:class:`LoadResult` as JSON from its stdout. Each concurrent client owns one keep-alive connection and
replays pre-built request bytes round-robin, so the hot loop does no signing, no serialisation and no
HTTP library work: write the bytes, read the Content-Length-framed response, note the latency.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

from bench.histogram import LatencyHistogram

# Bounds that keep every loop finite even against a misbehaving server.
# Connect or transport failures (not orderly `Connection: close`) after which a client stops.
MAX_FAILURES_PER_CLIENT = 100
MAX_REQUESTS_PER_CLIENT = 50_000_000
MAX_ERROR_SAMPLES = 5
# Extra time, after the measured window, for in-flight requests to finish before they count as errors.
GRACE_S = 10.0
_RECONNECT_PAUSE_S = 0.01


class ProtocolError(Exception):
    """The server sent something this client cannot frame (e.g. no Content-Length)."""


@dataclass(frozen=True)
class LoadSpec:
    """What one load process does: ``connections`` clients against ``host:port`` for a fixed window."""

    host: str
    port: int
    requests: tuple[bytes, ...]
    connections: int
    duration_s: float
    warmup_s: float
    # Wall-clock time (epoch seconds) at which warm-up starts, so several processes start together.
    start_at: float

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form written to the spec file."""
        return {
            "host": self.host,
            "port": self.port,
            "requests": [base64.b64encode(raw).decode("ascii") for raw in self.requests],
            "connections": self.connections,
            "duration_s": self.duration_s,
            "warmup_s": self.warmup_s,
            "start_at": self.start_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadSpec:
        """Parse the JSON form.

        Raises:
            ValueError: if a field is missing, has the wrong type, or the spec is unusable.
        """
        try:
            spec = cls(
                host=str(data["host"]),
                port=int(data["port"]),
                requests=tuple(base64.b64decode(item, validate=True) for item in data["requests"]),
                connections=int(data["connections"]),
                duration_s=float(data["duration_s"]),
                warmup_s=float(data["warmup_s"]),
                start_at=float(data["start_at"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"bad load spec: {exc!r}") from exc
        if not spec.requests or spec.connections < 1 or spec.duration_s <= 0 or spec.warmup_s < 0:
            raise ValueError("load spec needs requests, connections >= 1, duration > 0, warmup >= 0")
        if spec.host != "127.0.0.1":
            raise ValueError("the load generator only targets 127.0.0.1")
        return spec


@dataclass
class LoadResult:
    """What one load process measured in its window (only 200 responses feed the histogram)."""

    ok: int
    errors: int
    duration_s: float
    connections: int
    histogram: LatencyHistogram
    error_samples: list[str] = field(default_factory=list)
    # CPU seconds this process used per wall second of the window: near 1.0 means the client, not the
    # server, was the bottleneck.
    cpu_share: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form printed on stdout."""
        return {
            "ok": self.ok,
            "errors": self.errors,
            "duration_s": self.duration_s,
            "connections": self.connections,
            "histogram": self.histogram.to_json(),
            "error_samples": self.error_samples,
            "cpu_share": self.cpu_share,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadResult:
        """Parse the JSON form.

        Raises:
            ValueError: if a field is missing or malformed.
        """
        try:
            return cls(
                ok=int(data["ok"]),
                errors=int(data["errors"]),
                duration_s=float(data["duration_s"]),
                connections=int(data["connections"]),
                histogram=LatencyHistogram.from_json(data["histogram"]),
                error_samples=[str(item) for item in data["error_samples"]],
                cpu_share=float(data["cpu_share"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"bad load result: {exc!r}") from exc


@dataclass
class _Tally:
    """One client's counts; shared by reference so a watchdog cancel does not lose them."""

    ok: int = 0
    errors: int = 0
    failures: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    in_flight_measured: bool = False

    def error(self, description: str) -> None:
        self.errors += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            self.samples.append(description)

    def failure(self, description: str, measured: bool) -> bool:
        """Note a connect or transport failure; return True once the client should give up."""
        self.failures += 1
        if measured:
            self.error(description)
        if self.failures > MAX_FAILURES_PER_CLIENT:
            self.error(f"gave up after {MAX_FAILURES_PER_CLIENT} connect/transport failures")
            return True
        return False


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one Content-Length-framed HTTP/1.x response; return (status, body, keep_alive).

    Raises:
        ProtocolError: if the response has no parsable status line or Content-Length.
        asyncio.IncompleteReadError: if the server closes the connection mid-response.
    """
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or len(head) < 12:
        raise ProtocolError(f"bad status line: {head[:40]!r}")
    status = int(head[9:12])
    lower = head.lower()
    start = lower.find(b"\r\ncontent-length:")
    if start < 0:
        raise ProtocolError(f"response {status} without Content-Length")
    start += len(b"\r\ncontent-length:")
    length = int(lower[start : lower.index(b"\r\n", start)])
    body = await reader.readexactly(length) if length else b""
    if head.startswith(b"HTTP/1.0"):
        keep_alive = b"\r\nconnection: keep-alive" in lower
    else:
        keep_alive = b"\r\nconnection: close" not in lower
    return status, body, keep_alive


async def _client(spec: LoadSpec, offset: int, measure_from: int, stop_at: int, tally: _Tally) -> None:
    """Replay requests on one keep-alive connection until ``stop_at`` (perf_counter_ns)."""
    # One flat loop on purpose: this is the hot path and every call or attribute lookup here is paid
    # per request, inflating the client's share of each latency.
    requests = spec.requests
    pool = len(requests)
    latencies = tally.latencies_ns
    clock = time.perf_counter_ns
    writer: asyncio.StreamWriter | None = None
    index = offset
    try:
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            # Latency starts before a reconnect the server forced with `Connection: close` (moto does
            # this on every response): a real client pays that connect too.
            sent_at = clock()
            if sent_at >= stop_at:
                return
            measured = sent_at >= measure_from
            if writer is None:
                try:
                    reader, writer = await asyncio.open_connection(spec.host, spec.port)
                except OSError as exc:
                    if tally.failure(f"connect: {exc!r}", measured):
                        return
                    await asyncio.sleep(_RECONNECT_PAUSE_S)
                    continue
            tally.in_flight_measured = measured
            writer.write(requests[index % pool])
            index += 1
            try:
                status, body, keep_alive = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError) as exc:
                writer.close()
                writer = None
                if tally.failure(f"transport: {exc!r}", measured):
                    return
                await asyncio.sleep(_RECONNECT_PAUSE_S)
                continue
            finally:
                tally.in_flight_measured = False
            if measured:
                if status == 200:
                    tally.ok += 1
                    latencies.append(clock() - sent_at)
                else:
                    tally.error(f"HTTP {status}: {body[:300]!r}")
            if not keep_alive:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


async def _cpu_share_during(measure_from: int, stop_at: int) -> float:
    """CPU seconds per wall second this process spends between two perf_counter_ns instants."""
    await asyncio.sleep(max(0.0, (measure_from - time.perf_counter_ns()) / 1e9))
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.sleep(max(0.0, (stop_at - time.perf_counter_ns()) / 1e9))
    return (time.process_time() - cpu) / max(time.perf_counter() - wall, 1e-9)


async def run_load_async(spec: LoadSpec) -> LoadResult:
    """Run ``spec.connections`` clients for warm-up plus the measured window and tally the result."""
    delay = spec.start_at - time.time()
    # Bounded: a start time far in the future is a harness bug, not a reason to hang.
    await asyncio.sleep(min(max(delay, 0.0), 30.0))
    start = time.perf_counter_ns()
    measure_from = start + int(spec.warmup_s * 1e9)
    stop_at = measure_from + int(spec.duration_s * 1e9)
    tallies = [_Tally() for _ in range(spec.connections)]
    clients = [
        asyncio.create_task(_client(spec, number, measure_from, stop_at, tally))
        for number, tally in enumerate(tallies)
    ]
    cpu_probe = asyncio.create_task(_cpu_share_during(measure_from, stop_at))
    done, pending = await asyncio.wait(clients, timeout=spec.warmup_s + spec.duration_s + GRACE_S)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    histogram = LatencyHistogram()
    samples: list[str] = []
    errors = 0
    for task, tally in zip(clients, tallies, strict=True):
        if task in pending and tally.in_flight_measured:
            tally.error(f"no response within {GRACE_S} s after the window")
        elif task in done and task.exception() is not None:
            tally.error(f"client crashed: {task.exception()!r}")
        histogram.record_many(tally.latencies_ns)
        errors += tally.errors
        samples.extend(tally.samples[: MAX_ERROR_SAMPLES - len(samples)])
    return LoadResult(
        ok=sum(tally.ok for tally in tallies),
        errors=errors,
        duration_s=spec.duration_s,
        connections=spec.connections,
        histogram=histogram,
        error_samples=samples,
        cpu_share=await cpu_probe,
    )


def run_load(spec: LoadSpec) -> LoadResult:
    """Run a load spec on a fresh uvloop event loop (blocking)."""
    # The collector would otherwise pause the client mid-window and show up as server p99.
    gc.collect()
    gc.disable()
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(run_load_async(spec))
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m bench.load --spec FILE``: print the LoadResult JSON on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, required=True, help="JSON file written by bench.run")
    args = parser.parse_args(argv)
    spec = LoadSpec.from_json(json.loads(args.spec.read_text()))
    result = run_load(spec)
    json.dump(result.to_json(), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
