"""Rows: the immutable values the storage layer reads and writes.

Field names match the column names in `schema.py`, so a result row maps onto its dataclass by
name. Timestamps are timezone-aware UTC. Wrapped secrets are opaque bytes sealed by `crypto/`
before they get here; they are still kept out of `repr` so that they never reach a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AccountRow:
    account_id: str
    name: str
    email: str
    root_password_hash: str | None = field(repr=False)
    created_at: datetime
    root_principal_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccessKeyRow:
    """A long-term access key; `user_name` None means the account's root user."""

    access_key_id: str
    account_id: str
    user_name: str | None
    secret_wrapped: bytes = field(repr=False)
    status: str  # "Active" | "Inactive"
    created_at: datetime
    last_used_at: datetime | None = None
    last_used_service: str | None = None
    last_used_region: str | None = None


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A KMS key's metadata. The key material lives in `KeyMaterialRow`s, wrapped."""

    key_id: str
    account_id: str
    region: str
    description: str
    key_spec: str
    key_usage: str
    origin: str
    key_manager: str
    key_state: str
    creation_date: datetime
    deletion_date: datetime | None
    pending_window_days: int | None
    policy: str  # the key policy document, JSON text
    multi_region: bool
    current_material_id: bytes | None
    rotation_enabled: bool
    rotation_period_days: int | None
    next_rotation_date: datetime | None
    valid_to: datetime | None
    expiration_model: str | None
    row_version: int = 1  # bumped by every update; the optimistic-concurrency check compares it


@dataclass(frozen=True, slots=True)
class KeyMaterialRow:
    key_id: str
    material_id: bytes
    wrapped: bytes = field(repr=False)
    created_at: datetime
    origin: str  # "AWS_KMS" | "EXTERNAL" | ...
    state: str  # the material's lifecycle state, owned by keystore/


@dataclass(frozen=True, slots=True)
class AliasRow:
    account_id: str
    region: str
    alias_name: str  # with its "alias/" prefix
    target_key_id: str
    creation_date: datetime
    last_updated_date: datetime


@dataclass(frozen=True, slots=True)
class AuditEventRow:
    """One CloudTrail-shaped event; `seq` is assigned by the database on append."""

    event_id: str
    account_id: str | None
    event_time: datetime
    event_source: str
    event_name: str
    payload: str  # the whole event, JSON text
    seq: int | None = None
