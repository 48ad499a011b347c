"""Test support for code that uses storage: throw-away PostgreSQL databases and sample rows.

Nothing here is used by the server. It lives in the package (like `sqlalchemy.testing`) so that
the tests of every layer can build databases and rows the same way.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from keystead.storage.rows import AccessKeyRow, AccountRow, AliasRow, AuditEventRow, KeyMaterialRow, KeyRow

# The maintenance database the throw-away test databases are created from.
POSTGRES_ADMIN_URL_ENV = "KEYSTEAD_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


class PostgresUnavailableError(Exception):
    """The PostgreSQL server for tests cannot be reached."""


@contextmanager
def temporary_postgres_database(admin_url: str | None = None) -> Iterator[str]:
    """Create an empty database `keystead_test_<random>`, yield its URL, then drop it.

    Raises:
        PostgresUnavailableError: the server at `admin_url` (or $KEYSTEAD_TEST_POSTGRES_URL) is unreachable.
    """
    admin = make_url(admin_url or os.environ.get(POSTGRES_ADMIN_URL_ENV, DEFAULT_POSTGRES_ADMIN_URL))
    libpq_url = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        conn = psycopg.connect(libpq_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        raise PostgresUnavailableError(f"{admin.render_as_string()}: {exc}".strip()) from exc
    name = f"keystead_test_{secrets.token_hex(6)}"
    with conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False
            )
        finally:
            # FORCE ends sessions a failed test may have left open (PostgreSQL 13+).
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- sample rows: valid by default, any field overridable ---------------------------------------


def sample_account(account_id: str = "111122223333", **overrides: Any) -> AccountRow:
    """An account row; its email is derived from the id so that several samples do not clash."""
    values: dict[str, Any] = {
        "account_id": account_id,
        "name": f"account-{account_id}",
        "email": f"root+{account_id}@example.com",
        "root_password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "created_at": T0,
        "root_principal_id": f"AIDA{account_id}",
    }
    return AccountRow(**(values | overrides))


def sample_access_key(
    access_key_id: str = "AKIAIOSFODNN7EXAMPLE", account_id: str = "111122223333", **overrides: Any
) -> AccessKeyRow:
    """An active root access key row with an opaque stand-in for the wrapped secret."""
    values: dict[str, Any] = {
        "access_key_id": access_key_id,
        "account_id": account_id,
        "user_name": None,
        "secret_wrapped": b"\x01wrapped-secret-" + access_key_id.encode(),
        "status": "Active",
        "created_at": T0,
    }
    return AccessKeyRow(**(values | overrides))


def sample_key(key_id: str | None = None, account_id: str = "111122223333", **overrides: Any) -> KeyRow:
    """An enabled symmetric customer-managed key row (random UUID key id unless given)."""
    values: dict[str, Any] = {
        "key_id": key_id or str(uuid.uuid4()),
        "account_id": account_id,
        "region": "us-east-1",
        "description": "",
        "key_spec": "SYMMETRIC_DEFAULT",
        "key_usage": "ENCRYPT_DECRYPT",
        "origin": "AWS_KMS",
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
        "creation_date": T0,
        "deletion_date": None,
        "pending_window_days": None,
        "policy": '{"Version":"2012-10-17","Statement":[]}',
        "multi_region": False,
        "current_material_id": None,
        "rotation_enabled": False,
        "rotation_period_days": None,
        "next_rotation_date": None,
        "valid_to": None,
        "expiration_model": None,
        "row_version": 1,
    }
    return KeyRow(**(values | overrides))


def sample_key_material(key_id: str, material_id: bytes = b"\x00" * 32, **overrides: Any) -> KeyMaterialRow:
    values: dict[str, Any] = {
        "key_id": key_id,
        "material_id": material_id,
        "wrapped": b"\x01wrapped-material-" + material_id,
        "created_at": T0,
        "origin": "AWS_KMS",
        "state": "CURRENT",
    }
    return KeyMaterialRow(**(values | overrides))


def sample_alias(
    alias_name: str, target_key_id: str, account_id: str = "111122223333", **overrides: Any
) -> AliasRow:
    values: dict[str, Any] = {
        "account_id": account_id,
        "region": "us-east-1",
        "alias_name": alias_name,
        "target_key_id": target_key_id,
        "creation_date": T0,
        "last_updated_date": T0,
    }
    return AliasRow(**(values | overrides))


def sample_audit_event(
    event_id: str | None = None, account_id: str | None = "111122223333", **overrides: Any
) -> AuditEventRow:
    values: dict[str, Any] = {
        "event_id": event_id or str(uuid.uuid4()),
        "account_id": account_id,
        "event_time": T0,
        "event_source": "kms.amazonaws.com",
        "event_name": "Encrypt",
        "payload": '{"eventVersion":"1.08"}',
    }
    return AuditEventRow(**(values | overrides))
