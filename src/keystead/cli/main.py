"""The `keystead` operator CLI (DESIGN.md §6: a stable contract).

Every flag also reads a KEYSTEAD_* environment variable. Errors are one line on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tomllib
from pathlib import Path
from typing import Any

import click

from keystead.cli.access import access
from keystead.cli.audit import audit
from keystead.config import DEFAULT_PORT, Settings
from keystead.errors import KeysteadError
from keystead.server.listeners import (
    EndpointListener,
    ListenerSpecError,
    check_distinct_ports,
    declare_endpoints,
    export_listeners,
    parse_trusted_proxies,
    parse_vpc_endpoint,
    run_server,
)
from keystead.server.imds import ImdsListener, ImdsSpecError, check_imds_ports, export_imds, parse_imds
from keystead.server.runtime import initialise, open_runtime
from keystead.server.tls import TlsFiles, tls_files

DATA_DIR = click.option(
    "--data-dir", envvar="KEYSTEAD_DATA_DIR", required=True, type=click.Path(path_type=Path),
    help="Directory holding the root key and the embedded database.",
)
DATABASE_URL = click.option(
    "--database-url", envvar="KEYSTEAD_DATABASE_URL", default=None,
    help="postgresql://... to share state between nodes (default: SQLite in the data dir).",
)


def _load_config(ctx: click.Context, _param: click.Parameter, path: Path | None) -> None:
    """Read a TOML file whose keys are the command's flag names (`port = 4599`,
    `vpc-endpoint = ["vpce-1,vpc=vpc-1,listen=127.0.0.1:4600"]`). Its values become defaults:
    flags and KEYSTEAD_* variables still win."""
    if path is None:
        return
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--config") from exc
    names = {opt.lstrip("-"): param.name for param in ctx.command.params for opt in param.opts}
    names.update({name.replace("-", "_"): target for name, target in list(names.items())})
    unknown = sorted(key for key in data if key not in names)
    if unknown:
        raise click.BadParameter(f"unknown setting(s) in {path}: {', '.join(unknown)}", param_hint="--config")
    ctx.default_map = {names[key]: value for key, value in data.items()}


CONFIG = click.option(
    "--config", envvar="KEYSTEAD_CONFIG", type=click.Path(path_type=Path, dir_okay=False), is_eager=True,
    expose_value=False, callback=_load_config, help="TOML file of flag values (flags and env vars win).",
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
@CONFIG
@DATA_DIR
@DATABASE_URL
@click.option("--host", envvar="KEYSTEAD_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="KEYSTEAD_PORT", default=DEFAULT_PORT, type=click.IntRange(1, 65535), show_default=True)
@click.option("--region", "regions", envvar="KEYSTEAD_REGION", multiple=True, default=("us-east-1",), show_default=True)
@click.option("--workers", envvar="KEYSTEAD_WORKERS", default=1, type=click.IntRange(1, 64), show_default=True)
@click.option("--vpc-endpoint", "vpc_endpoints", envvar="KEYSTEAD_VPC_ENDPOINT", multiple=True,
              help="ID,vpc=VPC_ID,listen=HOST:PORT[,policy=PATH][,account=ACCOUNT_ID]: one more listener, "
                   "whose requests come through that VPC endpoint (repeatable).")
@click.option("--tls-cert", envvar="KEYSTEAD_TLS_CERT", default=None, type=click.Path(path_type=Path),
              help="PEM certificate chain: every listener speaks TLS (with --tls-key).")
@click.option("--tls-key", envvar="KEYSTEAD_TLS_KEY", default=None, type=click.Path(path_type=Path),
              help="PEM private key of --tls-cert.")
@click.option("--trusted-proxy", "trusted_proxies", envvar="KEYSTEAD_TRUSTED_PROXY", multiple=True,
              help="CIDR of a proxy whose X-Forwarded-For is believed (repeatable).")
@click.option("--imds", "imds", envvar="KEYSTEAD_IMDS", multiple=True,
              help="listen=HOST:PORT,account=ID,instance-profile=NAME[,instance-id=ID]: an IMDSv2-compatible "
                   "metadata listener serving that instance profile's role credentials (repeatable).")
@click.option("--dev", envvar="KEYSTEAD_DEV", is_flag=True,
              help="On first start, create a default account and print its credentials.")
def serve(
    data_dir: Path, database_url: str | None, host: str, port: int, regions: tuple[str, ...], workers: int,
    vpc_endpoints: tuple[str, ...], tls_cert: Path | None, tls_key: Path | None,
    trusted_proxies: tuple[str, ...], imds: tuple[str, ...], dev: bool,
) -> None:
    """Serve the KMS, IAM and STS APIs."""
    settings = Settings(data_dir=data_dir, database_url=database_url, host=host, port=port,
                        regions=tuple(regions), workers=workers)
    listeners, tls = _network_flags(settings, vpc_endpoints, tls_cert, tls_key, trusted_proxies)
    instances = _imds_flags(settings, listeners, imds)
    runtime = open_runtime(settings)  # fails early, in this process, if not initialised
    try:
        if dev:
            _ensure_dev_account(runtime, settings)
        declare_endpoints(runtime, listeners)
        _check_imds_accounts(runtime, instances)
    finally:
        runtime.db.dispose()
    _export_settings(settings)
    export_listeners(listeners, trusted_proxies)
    export_imds(instances)
    scheme = "https" if tls is not None else "http"
    click.echo(f"keystead listening on {scheme}://{host}:{port} (regions: {', '.join(regions)})", err=True)
    for listener in listeners:
        click.echo(f"  VPC endpoint {listener.declaration.vpc_endpoint_id} on "
                   f"{scheme}://{listener.host}:{listener.port}", err=True)
    for instance in instances:
        click.echo(f"  instance metadata of {instance.instance_id} (profile {instance.profile_name}) on "
                   f"{scheme}://{instance.host}:{instance.port}", err=True)
    run_server(settings, listeners, tls, extra=[(instance.host, instance.port) for instance in instances])


def _imds_flags(settings: Settings, listeners: list[EndpointListener], specs: tuple[str, ...]) -> list[ImdsListener]:
    taken = {settings.port: "the main listener"}
    taken.update({listener.port: listener.declaration.vpc_endpoint_id for listener in listeners})
    try:
        instances = [parse_imds(spec) for spec in specs]
        check_imds_ports(taken, instances)
    except ImdsSpecError as error:
        raise click.UsageError(str(error)) from None
    return instances


def _check_imds_accounts(runtime: Any, instances: list[ImdsListener]) -> None:
    # The profile may come later (it is looked up per request); the account must exist now.
    with runtime.db.reader() as tx:
        for instance in instances:
            if tx.get_account(instance.account_id) is None:
                raise click.UsageError(f"--imds: account {instance.account_id} does not exist")


def _network_flags(
    settings: Settings, vpc_endpoints: tuple[str, ...], tls_cert: Path | None, tls_key: Path | None,
    trusted_proxies: tuple[str, ...],
) -> tuple[list[EndpointListener], TlsFiles | None]:
    try:
        listeners = [parse_vpc_endpoint(spec) for spec in vpc_endpoints]
        check_distinct_ports(settings, listeners)
        parse_trusted_proxies(trusted_proxies)
    except ListenerSpecError as error:
        raise click.UsageError(str(error)) from None
    tls = tls_files(tls_cert, tls_key)
    if tls is not None:
        tls.check()
    return listeners, tls


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


cli.add_command(audit)  # keystead audit verify|tail|export|digest (cli/audit.py)
cli.add_command(access)  # keystead access who-can|explain (cli/access.py)


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
