"""Benchmark Keystead against a bare ASGI app and moto's server in one run (DESIGN.md §7).

``python -m bench.run`` starts the three servers on free 127.0.0.1 ports, creates a key on Keystead and on
moto, pre-signs pools of real SigV4 requests, drives each target × operation × concurrency step from
separate load processes (``bench/load.py``), prints the Markdown report and writes it to
``bench/results/latest.md``. Every server it starts is stopped on exit, Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from bench import servers
from bench.histogram import LatencyHistogram
from bench.load import GRACE_S, LoadResult, LoadSpec
from bench.report import Row, RunInfo, progress_line, render
from bench.servers import Credentials, ServerProcess
from bench.signing import BARE_CREDENTIALS, OPERATIONS, RequestPools, TargetKeys, prepare_target

TARGETS = ("keystead", "bare", "moto")
# A pool is re-signed before a step once it is 60 s old, so a step may replay it for at most this long
# and still stay inside SigV4's five-minute clock-skew window.
MAX_DURATION_S = 200.0
# Time for the load processes to start and connect before the common start instant.
START_LEAD_S = 1.5
CIPHERTEXTS_PER_TARGET = 16
DEFAULT_OUTPUT = servers.REPO_ROOT / "bench" / "results" / "latest.md"


@dataclass(frozen=True)
class Target:
    """A running server under test, with what is needed to sign requests for it."""

    name: str
    server: ServerProcess
    credentials: Credentials
    keys: TargetKeys

    def operations(self, requested: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        """Return (label, signed operation) pairs; the bare app gets one `hello` step fed Encrypt bytes."""
        if self.name == "bare":
            return (("hello", "encrypt"),)
        return tuple((operation, operation) for operation in requested)


def _csv(choices: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    def parse(text: str) -> tuple[str, ...]:
        items = tuple(item.strip() for item in text.split(",") if item.strip())
        unknown = [item for item in items if item not in choices]
        if not items or unknown:
            raise argparse.ArgumentTypeError(f"choose from {','.join(choices)}; got {text!r}")
        return items

    return parse


def _concurrency(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(item) for item in text.split(",") if item.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"comma-separated integers expected, got {text!r}") from exc
    if not levels or any(level < 1 or level > 1024 for level in levels):
        raise argparse.ArgumentTypeError("each concurrency must be between 1 and 1024")
    return levels


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the harness flags.

    Raises:
        SystemExit: on invalid flags (argparse's behaviour).
    """
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per step (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each step")
    parser.add_argument("--concurrency", type=_concurrency, default=(1, 8, 32), help="e.g. 1,8,32")
    parser.add_argument("--workers", type=int, default=None, help="Keystead `serve --workers N`")
    parser.add_argument("--targets", type=_csv(TARGETS), default=TARGETS, help="keystead,bare,moto")
    parser.add_argument(
        "--ops",
        type=_csv(tuple(OPERATIONS)),
        default=tuple(OPERATIONS),
        help="encrypt,decrypt,generate_data_key",
    )
    parser.add_argument("--clients", type=int, default=1, help="load-generator processes per step")
    parser.add_argument("--pool", type=int, default=16, help="pre-signed requests per step")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the report")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be in (0, {MAX_DURATION_S:g}] s (SigV4 replay window)")
    if not 0 <= args.warmup <= 60:
        parser.error("--warmup must be in [0, 60] s")
    if not 1 <= args.clients <= 8 or not 1 <= args.pool <= 1000:
        parser.error("--clients must be in [1, 8] and --pool in [1, 1000]")
    if args.workers is not None and not 1 <= args.workers <= 64:
        parser.error("--workers must be in [1, 64]")
    return args


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so the `finally` blocks that stop servers still run."""
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def start_targets(
    names: tuple[str, ...], workers: int | None, work_dir: Path, stack: contextlib.ExitStack
) -> dict[str, tuple[ServerProcess, Credentials]]:
    """Start the requested servers (each stopped by ``stack``) and wait until each answers HTTP.

    Raises:
        servers.ServerError: if a server or a Keystead CLI step fails.
    """
    started: dict[str, tuple[ServerProcess, Credentials]] = {}
    for name in names:
        if name == "keystead":
            data_dir = work_dir / "keystead-data"
            credentials = servers.prepare_keystead(data_dir, secrets.token_urlsafe(18))
            server = servers.start_keystead(data_dir, work_dir, workers)
        elif name == "bare":
            server, credentials = servers.start_bare(work_dir), BARE_CREDENTIALS
        else:
            # moto accepts any credentials; these are only there to be signed with.
            server, credentials = servers.start_moto(work_dir), Credentials("AKIABENCHMOTO0000000", "moto")
        stack.callback(server.stop)
        started[name] = (server, credentials)
    for server, _ in started.values():
        server.wait_ready()
    return started


def run_step(
    port: int, requests: tuple[bytes, ...], concurrency: int, args: argparse.Namespace, work_dir: Path
) -> tuple[LoadResult, int]:
    """Drive one step from ``args.clients`` load processes and merge their results.

    Raises:
        RuntimeError: if a load process fails or prints no result.
    """
    processes = min(args.clients, concurrency)
    shares = [
        concurrency // processes + (1 if index < concurrency % processes else 0) for index in range(processes)
    ]
    start_at = time.time() + START_LEAD_S
    children: list[subprocess.Popen[bytes]] = []
    try:
        for index, connections in enumerate(shares):
            spec = LoadSpec("127.0.0.1", port, requests, connections, args.duration, args.warmup, start_at)
            spec_path = work_dir / f"load-{index}.json"
            spec_path.write_text(json.dumps(spec.to_json()))
            command = [sys.executable, "-m", "bench.load", "--spec", str(spec_path)]
            children.append(
                subprocess.Popen(
                    command,
                    cwd=servers.REPO_ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        timeout = START_LEAD_S + args.warmup + args.duration + GRACE_S + 30
        results = []
        for child in children:
            out, err = child.communicate(timeout=timeout)
            if child.returncode != 0:
                raise RuntimeError(
                    f"load process exited {child.returncode}: {err.decode(errors='replace')[-2000:]}"
                )
            results.append(LoadResult.from_json(json.loads(out)))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=10)
    merged = LatencyHistogram()
    for result in results:
        merged.merge(result.histogram)
    samples = [sample for result in results for sample in result.error_samples]
    total = LoadResult(
        ok=sum(r.ok for r in results),
        errors=sum(r.errors for r in results),
        duration_s=args.duration,
        connections=concurrency,
        histogram=merged,
        error_samples=samples,
        cpu_share=max(r.cpu_share for r in results),
    )
    return total, processes


def to_row(target: str, label: str, concurrency: int, result: LoadResult) -> Row:
    """Summarise one merged step as a report row."""
    empty = result.histogram.count == 0
    return Row(
        target=target,
        operation=label,
        concurrency=concurrency,
        requests_per_s=result.ok / result.duration_s,
        p50_ms=None if empty else result.histogram.percentile_ms(50),
        p99_ms=None if empty else result.histogram.percentile_ms(99),
        errors=result.errors,
        load_cpu=result.cpu_share,
        error_samples=tuple(result.error_samples),
    )


def benchmark(args: argparse.Namespace, work_dir: Path) -> list[Row]:
    """Start the servers, prepare keys, run every step and return the rows (servers stopped on return).

    Raises:
        servers.ServerError: if a server fails to start; RuntimeError if a load process fails.
    """
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        started = start_targets(args.targets, args.workers, work_dir, stack)
        targets = []
        for name, (server, credentials) in started.items():
            keys = (
                TargetKeys("alias/bench", ())
                if name == "bare"
                else prepare_target(server.endpoint, credentials, CIPHERTEXTS_PER_TARGET)
            )
            targets.append(Target(name, server, credentials, keys))
        pools = RequestPools(size=args.pool)
        for target in targets:
            for label, operation in target.operations(args.ops):
                for concurrency in args.concurrency:
                    requests = pools.get(
                        target.name, target.server.endpoint, target.credentials, operation, target.keys
                    )
                    result, processes = run_step(target.server.port, requests, concurrency, args, work_dir)
                    row = to_row(target.name, label, concurrency, result)
                    rows.append(row)
                    print(progress_line(row, processes), file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the Markdown report and write it to ``--output``."""
    args = parse_args(argv)
    if "keystead" in args.targets and not servers.keystead_cli_works():
        print(
            "keystead CLI not available (`keystead init --help` fails); use --targets bare,moto",
            file=sys.stderr,
        )
        return 2
    info = RunInfo(
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        duration_s=args.duration,
        warmup_s=args.warmup,
        client_processes=args.clients,
        keystead_workers=args.workers,
        pool_size=args.pool,
        load_average=os.getloadavg()[0],
    )
    with _sigterm_unwinds(), tempfile.TemporaryDirectory(prefix="keystead-bench-") as tmp:
        try:
            rows = benchmark(args, Path(tmp))
        except servers.ServerError as exc:
            print(f"benchmark aborted: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("benchmark interrupted; every server it started has been stopped", file=sys.stderr)
            return 130
    report = render(rows, info)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
