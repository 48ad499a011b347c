"""Reading the trail back: CloudTrail's LookupEvents over one account's events.

Events come newest first. EventId, EventName and EventSource filter in the database (indexed
columns); Username, ResourceName, ResourceType, ReadOnly and AccessKeyId filter the records as
they are read. One call reads at most SCAN_LIMIT rows: when a selective attribute finds fewer
than MaxResults matches in that span, the page is short and carries a NextToken, which
LookupEvents allows ("the response might contain fewer results than MaxResults").

The NextToken is opaque to clients: a versioned base64 form of the last `seq` read, tied to the
query it continues so that it cannot be replayed with other filters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from keystead.audit.events import username_of
from keystead.storage import AuditEventRow, Database

DEFAULT_MAX_RESULTS = 50
SCAN_LIMIT = 5000
_PAGE = 500
_COLUMN_ATTRIBUTES = {"EventId": "event_id", "EventName": "event_name", "EventSource": "event_source"}


class LookupRequestError(ValueError):
    """Base of the lookup's client errors; `kind` names which (attributes, time, token)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class LookupQuery:
    account_id: str | None  # None: every account (operators only)
    attribute: tuple[str, str] | None = None  # (AttributeKey, AttributeValue)
    start: datetime | None = None
    end: datetime | None = None
    max_results: int = DEFAULT_MAX_RESULTS
    next_token: str | None = None


@dataclass(frozen=True, slots=True)
class LookupPage:
    events: list[AuditEventRow]
    next_token: str | None


def lookup(db: Database, query: LookupQuery) -> LookupPage:
    """One page of events matching `query` (blocking: run it off the event loop).

    Raises:
        LookupRequestError: a bad time range or NextToken.
        StorageError: the database failed.
    """
    if query.start is not None and query.end is not None and query.start > query.end:
        raise LookupRequestError("time", "Start time must be earlier than end time.")
    fingerprint = _fingerprint(query)
    before = _read_token(query.next_token, fingerprint) if query.next_token else None
    columns, matches = _filters(query.attribute)
    found: list[AuditEventRow] = []
    scanned = 0
    exhausted = False
    while not exhausted and len(found) < query.max_results and scanned < SCAN_LIMIT:
        with db.reader() as tx:
            page = tx.lookup_audit_events(
                query.account_id, before_seq=before, limit=_PAGE, columns=columns,
                start=query.start, end=query.end,
            )
        read = 0
        for row in page:
            read += 1
            before = row.seq
            if matches(row):
                found.append(row)
                if len(found) == query.max_results:
                    break
        scanned += read
        exhausted = len(page) < _PAGE and read == len(page)
    next_token = None if exhausted else _more_token(db, query, columns, before, fingerprint)
    return LookupPage(found, next_token)


def _more_token(
    db: Database, query: LookupQuery, columns: dict[str, str], before: int | None, fingerprint: str
) -> str | None:
    """A NextToken when anything older than `before` still matches the column filters."""
    if before is None:
        return None
    with db.reader() as tx:
        rest = tx.lookup_audit_events(
            query.account_id, before_seq=before, limit=1, columns=columns, start=query.start, end=query.end
        )
    return _make_token(before, fingerprint) if rest else None


def _filters(attribute: tuple[str, str] | None) -> tuple[dict[str, str], Callable[[AuditEventRow], bool]]:
    if attribute is None:
        return {}, lambda row: True
    key, value = attribute
    if key in _COLUMN_ATTRIBUTES:
        return {_COLUMN_ATTRIBUTES[key]: value}, lambda row: True
    pick = _RECORD_ATTRIBUTES[key]
    return {}, lambda row: value in pick(json.loads(row.payload))


def _resources(record: Mapping[str, Any], field: str) -> list[str]:
    return [str(r.get(field)) for r in record.get("resources") or [] if r.get(field)]


_RECORD_ATTRIBUTES: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "Username": lambda r: [u for u in [username_of(r)] if u],
    "ResourceName": lambda r: _resources(r, "ARN"),
    "ResourceType": lambda r: _resources(r, "type"),
    "ReadOnly": lambda r: ["true" if r.get("readOnly") else "false"],
    "AccessKeyId": lambda r: [k for k in [(r.get("userIdentity") or {}).get("accessKeyId")] if k],
}
SUPPORTED_ATTRIBUTES = frozenset(_COLUMN_ATTRIBUTES) | frozenset(_RECORD_ATTRIBUTES)


def _fingerprint(query: LookupQuery) -> str:
    parts = [query.account_id, query.attribute, _iso(query.start), _iso(query.end)]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat()


def _make_token(before: int, fingerprint: str) -> str:
    raw = json.dumps({"v": 1, "before": before, "q": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _read_token(token: str, fingerprint: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        before = data["before"]
        valid = data.get("v") == 1 and data.get("q") == fingerprint and isinstance(before, int)
    except (ValueError, binascii.Error, KeyError, TypeError, AttributeError):
        valid = False
    if not valid:
        raise LookupRequestError("token", "Invalid NextToken.")
    return int(before)


def event_summary(row: AuditEventRow) -> dict[str, Any]:
    """LookupEvents' Event for a stored record (snake_case members, as protocol/ renders them)."""
    record = json.loads(row.payload)
    identity = record.get("userIdentity") or {}
    result: dict[str, Any] = {
        "event_id": row.event_id,
        "event_name": row.event_name,
        "read_only": "true" if record.get("readOnly") else "false",
        "event_time": row.event_time,
        "event_source": row.event_source,
        "resources": [
            {"resource_type": r.get("type"), "resource_name": r.get("ARN")}
            for r in record.get("resources") or []
        ],
        "cloud_trail_event": row.payload,
    }
    if identity.get("accessKeyId"):
        result["access_key_id"] = identity["accessKeyId"]
    username = username_of(record)
    if username:
        result["username"] = username
    return result
