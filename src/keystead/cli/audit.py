"""`keystead audit`: verify, read and export the audit trail from the data directory.

    keystead audit verify --data-dir DIR [--database-url URL]
    keystead audit tail   --data-dir DIR [--account ID] [--lines N] [--follow] --format jsonl
    keystead audit export --data-dir DIR [--account ID] --format jsonl [--output FILE]
    keystead audit digest --data-dir DIR        # sign the chain now (e.g. before a backup)

`verify` exits 0 with a summary when the trail is intact, 1 with a one-line reason otherwise.
Records are printed exactly as stored (CloudTrail JSON, one per line).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO

import click

from keystead.audit.digest import DigestWriter
from keystead.audit.verify import AuditTamperedError, verify_trail
from keystead.config import Settings
from keystead.server.runtime import Runtime, open_runtime
from keystead.storage import AuditEventRow

PAGE = 1000
DATA_DIR = click.option(
    "--data-dir", envvar="KEYSTEAD_DATA_DIR", required=True, type=click.Path(path_type=Path),
    help="Directory holding the root key and the embedded database.",
)
DATABASE_URL = click.option(
    "--database-url", envvar="KEYSTEAD_DATABASE_URL", default=None,
    help="postgresql://... when the deployment shares a PostgreSQL database.",
)
ACCOUNT = click.option("--account", "account_id", default=None, help="Only this account's records.")
FORMAT = click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)


def _open(data_dir: Path, database_url: str | None) -> Runtime:
    return open_runtime(Settings(data_dir=data_dir, database_url=database_url))


@click.group()
def audit() -> None:
    """Verify, read and export the audit trail."""


@audit.command()
@DATA_DIR
@DATABASE_URL
def verify(data_dir: Path, database_url: str | None) -> None:
    """Prove no record was changed, removed or inserted (exit 1 with the reason otherwise)."""
    runtime = _open(data_dir, database_url)
    try:
        report = verify_trail(runtime.db, runtime.keyring)
    except AuditTamperedError as exc:
        click.echo(f"keystead: audit verify failed: {exc}", err=True)
        sys.exit(1)
    finally:
        runtime.db.dispose()
    click.echo(
        f"audit trail intact: {report.events} events, {report.digests} signed digests, "
        f"{report.unsigned_tail} events after the newest digest"
    )


@audit.command()
@DATA_DIR
@DATABASE_URL
def digest(data_dir: Path, database_url: str | None) -> None:
    """Sign a digest of the chain now, if it grew since the last one."""
    runtime = _open(data_dir, database_url)
    try:
        with runtime.db.transaction() as tx:
            row = DigestWriter(runtime.keyring).write(tx, runtime.clock.now())
    finally:
        runtime.db.dispose()
    if row is None:
        click.echo("nothing new to sign")
    else:
        click.echo(f"digest {row.digest_seq} signs events up to {row.last_chain_seq}")


def _pages(runtime: Runtime, account_id: str | None, after: int | None) -> list[AuditEventRow]:
    with runtime.db.reader() as tx:
        return tx.list_audit_events(account_id, after_seq=after, limit=PAGE)


def _write_all(runtime: Runtime, account_id: str | None, after: int | None, out: IO[str]) -> int | None:
    """Write every record after `after` in append order; the last seq written (or `after`)."""
    while page := _pages(runtime, account_id, after):
        for row in page:
            out.write(row.payload + "\n")
        after = page[-1].seq
    out.flush()
    return after


@audit.command()
@DATA_DIR
@DATABASE_URL
@ACCOUNT
@FORMAT
@click.option(
    "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Default: stdout."
)
def export(
    data_dir: Path, database_url: str | None, account_id: str | None, fmt: str, output: Path | None
) -> None:
    """Write every record, oldest first, one JSON object per line."""
    runtime = _open(data_dir, database_url)
    try:
        if output is None:
            _write_all(runtime, account_id, None, sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as out:
                _write_all(runtime, account_id, None, out)
    finally:
        runtime.db.dispose()


@audit.command()
@DATA_DIR
@DATABASE_URL
@ACCOUNT
@FORMAT
@click.option("--lines", "-n", default=20, type=click.IntRange(0, 100_000), show_default=True)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new records as they arrive.")
def tail(
    data_dir: Path, database_url: str | None, account_id: str | None, fmt: str, lines: int, follow: bool
) -> None:
    """Print the newest records, oldest of them first; with --follow, then every new one."""
    runtime = _open(data_dir, database_url)
    try:
        with runtime.db.reader() as tx:
            newest = tx.lookup_audit_events(account_id, before_seq=None, limit=max(lines, 1))
        for row in reversed(newest[:lines]):
            click.echo(row.payload)
        after = newest[0].seq if newest else None
        while follow:
            time.sleep(1.0)
            after = _write_all(runtime, account_id, after, sys.stdout)
    finally:
        runtime.db.dispose()
