"""The `keystead` operator CLI (DESIGN.md §6: a stable contract).

Every flag also reads a KEYSTEAD_* environment variable. Errors are one line on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import click

from keystead.config import DEFAULT_PORT, Settings
from keystead.errors import KeysteadError
from keystead.server.runtime import initialise, open_runtime

DATA_DIR = click.option(
    "--data-dir", envvar="KEYSTEAD_DATA_DIR", required=True, type=click.Path(path_type=Path),
    help="Directory holding the root key and the embedded database.",
)
DATABASE_URL = click.option(
    "--database-url", envvar="KEYSTEAD_DATABASE_URL", default=None,
    help="postgresql://... to share state between nodes (default: SQLite in the data dir).",
)


@click.group()
def cli() -> None:
    """Keystead: an AWS-KMS-compatible key management service."""


@cli.command()
@DATA_DIR
@DATABASE_URL
def init(data_dir: Path, database_url: str | None) -> None:
    """Create the root key, the schema and the keyring (idempotent)."""
    created = initialise(Settings(data_dir=data_dir, database_url=database_url))
    click.echo(f"{'initialised' if created else 'already initialised'}: {data_dir}")


@cli.group()
def account() -> None:
    """Manage accounts."""


@account.command("create")
@DATA_DIR
@DATABASE_URL
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--password", required=True, envvar="KEYSTEAD_ACCOUNT_PASSWORD")
@click.option("--account-id", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the new credentials as JSON.")
def account_create(
    data_dir: Path, database_url: str | None, name: str, email: str, password: str,
    account_id: str | None, as_json: bool,
) -> None:
    """Create an account with its root user and a root access key."""
    runtime = open_runtime(Settings(data_dir=data_dir, database_url=database_url))
    try:
        new = runtime.accounts().create_account(name=name, email=email, password=password, account_id=account_id)
    finally:
        runtime.db.dispose()
    if as_json:
        click.echo(json.dumps(new.as_json()))
    else:
        click.echo(f"account {new.account_id} created; root access key {new.access_key_id}")
        click.echo(f"secret access key (shown once): {new.secret_access_key}")


@cli.command()
@DATA_DIR
@DATABASE_URL
@click.option("--host", envvar="KEYSTEAD_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="KEYSTEAD_PORT", default=DEFAULT_PORT, type=click.IntRange(1, 65535), show_default=True)
@click.option("--region", "regions", envvar="KEYSTEAD_REGION", multiple=True, default=("us-east-1",), show_default=True)
@click.option("--workers", envvar="KEYSTEAD_WORKERS", default=1, type=click.IntRange(1, 64), show_default=True)
@click.option("--vpc-endpoint", "vpc_endpoints", envvar="KEYSTEAD_VPC_ENDPOINT", multiple=True)
@click.option("--imds", "imds", envvar="KEYSTEAD_IMDS", multiple=True)
@click.option("--dev", envvar="KEYSTEAD_DEV", is_flag=True,
              help="On first start, create a default account and print its credentials.")
def serve(
    data_dir: Path, database_url: str | None, host: str, port: int, regions: tuple[str, ...], workers: int,
    vpc_endpoints: tuple[str, ...], imds: tuple[str, ...], dev: bool,
) -> None:
    """Serve the KMS, IAM and STS APIs."""
    if vpc_endpoints:
        raise click.UsageError("--vpc-endpoint listeners are not supported by this version yet")
    if imds:
        raise click.UsageError("--imds listeners are not supported by this version yet")
    settings = Settings(data_dir=data_dir, database_url=database_url, host=host, port=port,
                        regions=tuple(regions), workers=workers)
    runtime = open_runtime(settings)  # fails early, in this process, if not initialised
    try:
        if dev:
            _ensure_dev_account(runtime, settings)
    finally:
        runtime.db.dispose()
    _export_settings(settings)
    import uvicorn

    click.echo(f"keystead listening on http://{host}:{port} (regions: {', '.join(regions)})", err=True)
    uvicorn.run(
        "keystead.server.app:create_app", factory=True, host=host, port=port, workers=workers,
        http="httptools", loop="uvloop", access_log=False, log_level="warning", timeout_graceful_shutdown=5,
    )


def _export_settings(settings: Settings) -> None:
    # Worker processes build their own runtime from the environment.
    os.environ["KEYSTEAD_DATA_DIR"] = str(settings.data_dir.resolve())
    if settings.database_url:
        os.environ["KEYSTEAD_DATABASE_URL"] = settings.database_url
    os.environ["KEYSTEAD_REGION"] = " ".join(settings.regions)


def _ensure_dev_account(runtime: Any, settings: Settings) -> None:
    with runtime.db.reader() as tx:
        if tx.list_accounts():
            return
    password = secrets.token_urlsafe(18)
    new = runtime.accounts().create_account(name="default", email="root@keystead.local", password=password)
    endpoint = f"http://{settings.host}:{settings.port}"
    click.echo(
        f"""
Created the default account {new.account_id} (root user: root@keystead.local / {password}).
Root access key: {new.access_key_id}
Secret access key (shown once): {new.secret_access_key}

Paste into ~/.aws/credentials:
[keystead]
aws_access_key_id = {new.access_key_id}
aws_secret_access_key = {new.secret_access_key}
region = {settings.default_region}

Then: aws --profile keystead --endpoint-url {endpoint} kms create-key
"""
    )


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"keystead: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code or 2)
    except KeysteadError as exc:
        click.echo(f"keystead: error: {exc.message}", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"keystead: error: {exc}", err=True)
        sys.exit(1)
