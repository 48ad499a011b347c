"""The Markdown report: table rows, Encrypt ratios and the DESIGN.md §7 verdicts."""

from __future__ import annotations

from bench.report import Row, RunInfo, budget_lines, ratio_lines, render

INFO = RunInfo(
    date="2026-12-03 16:00 UTC",
    duration_s=5,
    warmup_s=1,
    client_processes=1,
    keystead_workers=None,
    pool_size=16,
)


def _row(target: str, operation: str, concurrency: int, rps: float, p99: float = 2.0) -> Row:
    return Row(target, operation, concurrency, rps, 1.0, p99, 0)


def test_ratios_compare_keystead_encrypt_with_bare_hello_and_moto_encrypt_per_concurrency() -> None:
    rows = [
        _row("keystead", "encrypt", 8, 6000),
        _row("bare", "hello", 8, 10000),
        _row("moto", "encrypt", 8, 200),
    ]
    assert ratio_lines(rows)[2] == "| 8 | 0.60× | 30.00× |"


def test_a_missing_peer_shows_a_dash_instead_of_a_ratio() -> None:
    rows = [_row("keystead", "encrypt", 1, 100), _row("bare", "hello", 1, 1000)]
    assert ratio_lines(rows)[2] == "| 1 | 0.10× | — |"


def test_budget_passes_when_peak_keystead_meets_every_target() -> None:
    rows = [
        _row("keystead", "encrypt", 16, 6000, p99=4.0),
        _row("keystead", "encrypt", 32, 6500, p99=12.0),
        _row("bare", "hello", 32, 12000),
        _row("moto", "encrypt", 8, 300),
    ]
    text = "\n".join(budget_lines(rows))
    assert "Peak Keystead/bare = 0.54× (target ≥ 0.5×): PASS" in text
    assert "Peak Keystead/moto = 21.67× (target ≥ 20×): PASS" in text
    assert "p99 at concurrency 16 = 4.00 ms (target < 10 ms at 16): PASS" in text


def test_budget_uses_the_next_higher_concurrency_as_a_stricter_p99_probe_when_16_is_absent() -> None:
    rows = [_row("keystead", "encrypt", 8, 100, p99=3.0), _row("keystead", "encrypt", 32, 100, p99=11.0)]
    text = "\n".join(budget_lines(rows))
    assert "p99 at concurrency 32 (stricter: 16 not measured) = 11.00 ms" in text
    assert "FAIL" in text
    assert "bare not measured" in text


def test_render_orders_targets_and_lists_error_samples() -> None:
    failing = Row("moto", "encrypt", 1, 0.0, None, None, 2, error_samples=("HTTP 500: b'boom'",))
    text = render([failing, _row("bare", "hello", 1, 9000), _row("keystead", "encrypt", 1, 5000)], INFO)
    table = [line for line in text.splitlines() if line.startswith("| ") and "|---" not in line]
    assert [line.split("|")[1].strip() for line in table[1:4]] == ["keystead", "bare", "moto"]
    assert "| moto | encrypt | 1 | 0 | — | — | 2 | 0% |" in text
    assert "- moto/encrypt/c1: `HTTP 500: b'boom'`" in text
    assert "2026-12-03 16:00 UTC" in text and "cores" in text
