"""Turn measured steps into the Markdown report: the table, the Encrypt ratios and the §7 budget checks."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

# DESIGN.md §7 targets for Encrypt through one worker.
MIN_RATIO_TO_BARE = 0.5
MIN_RATIO_TO_MOTO = 20.0
MAX_P99_MS = 10.0
P99_CONCURRENCY = 16

TARGET_ORDER = ("keystead", "bare", "moto")


@dataclass(frozen=True)
class Row:
    """One measured step: a target, an operation and a concurrency level."""

    target: str
    operation: str
    concurrency: int
    requests_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    # Busiest load process's CPU share during the window (1.0 = a full core: client-bound).
    load_cpu: float = 0.0
    error_samples: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class RunInfo:
    """How the run was made, printed above the table so numbers are never quoted without context."""

    date: str
    duration_s: float
    warmup_s: float
    client_processes: int
    keystead_workers: int | None
    pool_size: int
    # 1-minute load average before the servers started: other work on the machine skews every number.
    load_average: float = 0.0

    @staticmethod
    def machine() -> str:
        """Describe the machine: CPU model, core count, OS and Python."""
        model = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
                for line in cpuinfo:
                    if line.startswith("model name"):
                        model = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        return (
            f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}"
        )


def _fmt_ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _find(rows: list[Row], target: str, operation: str, concurrency: int) -> Row | None:
    for row in rows:
        if (row.target, row.operation, row.concurrency) == (target, operation, concurrency):
            return row
    return None


def _ratio(numerator: Row | None, denominator: Row | None) -> float | None:
    if numerator is None or denominator is None or denominator.requests_per_s <= 0:
        return None
    return numerator.requests_per_s / denominator.requests_per_s


def _fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def ratio_lines(rows: list[Row]) -> list[str]:
    """Return the Keystead/bare and Keystead/moto req/s ratios for Encrypt at each concurrency."""
    levels = sorted({row.concurrency for row in rows})
    lines = ["| concurrency | Keystead/bare | Keystead/moto |", "|---:|---:|---:|"]
    for level in levels:
        keystead = _find(rows, "keystead", "encrypt", level)
        bare = _find(rows, "bare", "hello", level)
        moto = _find(rows, "moto", "encrypt", level)
        lines.append(
            f"| {level} | {_fmt_ratio(_ratio(keystead, bare))} | {_fmt_ratio(_ratio(keystead, moto))} |"
        )
    return lines


def budget_lines(rows: list[Row]) -> list[str]:
    """Check the DESIGN.md §7 Encrypt targets against the best measured concurrency."""
    keystead = [row for row in rows if row.target == "keystead" and row.operation == "encrypt"]
    if not keystead:
        return ["- Keystead Encrypt not measured: no budget verdict."]
    best = max(keystead, key=lambda row: row.requests_per_s)
    lines = [f"- Peak Keystead Encrypt: {best.requests_per_s:,.0f} req/s at concurrency {best.concurrency}."]
    for other, operation, minimum in (
        ("bare", "hello", MIN_RATIO_TO_BARE),
        ("moto", "encrypt", MIN_RATIO_TO_MOTO),
    ):
        peers = [row for row in rows if row.target == other and row.operation == operation]
        if not peers:
            lines.append(f"- Keystead/{other}: {other} not measured.")
            continue
        ratio = _ratio(best, max(peers, key=lambda row: row.requests_per_s))
        verdict = "PASS" if ratio is not None and ratio >= minimum else "FAIL"
        lines.append(f"- Peak Keystead/{other} = {_fmt_ratio(ratio)} (target ≥ {minimum:g}×): {verdict}.")
    at_16 = _find(rows, "keystead", "encrypt", P99_CONCURRENCY)
    above = sorted(
        (row for row in keystead if row.concurrency > P99_CONCURRENCY), key=lambda r: r.concurrency
    )
    probe, note = (at_16, "") if at_16 else (above[0] if above else None, " (stricter: 16 not measured)")
    if probe is None or probe.p99_ms is None:
        lines.append(f"- p99 at concurrency {P99_CONCURRENCY}: not measured (add it to --concurrency).")
    else:
        verdict = "PASS" if probe.p99_ms < MAX_P99_MS else "FAIL"
        lines.append(
            f"- p99 at concurrency {probe.concurrency}{note} = {probe.p99_ms:.2f} ms "
            f"(target < {MAX_P99_MS:g} ms at {P99_CONCURRENCY}): {verdict}."
        )
    return lines


def progress_line(row: Row, processes: int) -> str:
    """One line per finished step, printed on stderr while the run goes on."""
    return (
        f"{row.target:>8} {row.operation:>17} c={row.concurrency:<4} {row.requests_per_s:>9,.0f} req/s"
        f"  p50 {row.p50_ms or 0:6.2f} ms  p99 {row.p99_ms or 0:6.2f} ms  errors {row.errors}"
        f"  (load CPU {row.load_cpu:.0%} x {processes} process{'es' if processes > 1 else ''})"
    )


def render(rows: list[Row], info: RunInfo) -> str:
    """Render the whole report as Markdown."""
    workers = info.keystead_workers if info.keystead_workers is not None else "server default"
    out = [
        f"# Keystead benchmark — {info.date}",
        "",
        f"Machine: {RunInfo.machine()}; 1-min load average before the run: {info.load_average:.2f}.  ",
        (
            f"Each step: {info.warmup_s:g} s warm-up, then {info.duration_s:g} s measured; "
            f"{info.client_processes} load process(es), one keep-alive connection per concurrent client; "
            f"pool of {info.pool_size} pre-signed SigV4 requests per step; Keystead workers: {workers}; "
            "bare app: 1 worker. p50/p99 are over 200 responses; errors are non-200 or transport failures."
        ),
        "",
        "| target | operation | concurrency | req/s | p50 ms | p99 ms | errors | load CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    order = {name: index for index, name in enumerate(TARGET_ORDER)}
    # Stable sort: within a target, rows keep the order they were measured in (--ops, --concurrency).
    for row in sorted(rows, key=lambda r: order.get(r.target, len(order))):
        out.append(
            f"| {row.target} | {row.operation} | {row.concurrency} | {row.requests_per_s:,.0f} | "
            f"{_fmt_ms(row.p50_ms)} | {_fmt_ms(row.p99_ms)} | {row.errors} | {row.load_cpu:.0%} |"
        )
    out += [
        "",
        "`bare/hello` receives the same signed 1 KB Encrypt request bytes and answers a small fixed JSON",
        "body.",
        "`load CPU` is the busiest load process's CPU share in the window; near 100 % means the client,",
        "not the server, limited that step (then rerun with `--clients 2`).",
        "",
        "## Encrypt ratios (req/s)",
        "",
        *ratio_lines(rows),
        "",
        "## DESIGN.md §7 budget",
        "",
        *budget_lines(rows),
    ]
    failing = [row for row in rows if row.errors]
    if failing:
        out += ["", "## Error samples", ""]
        for row in failing:
            for sample in row.error_samples[:3]:
                out.append(f"- {row.target}/{row.operation}/c{row.concurrency}: `{sample[:200]}`")
    return "\n".join(out) + "\n"
