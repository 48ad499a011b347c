"""The hot path's cheap replacements give exactly what the stdlib calls they replace give."""

from __future__ import annotations

import hmac
import json
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from keystead import uids
from keystead.auth.keyed_hash import KeyedSha256
from keystead.clock import iso_seconds
from keystead.errors import SerializationError
from keystead.policy.model import normalise_context
from keystead.protocol.awsjson import JsonCodec


@pytest.mark.parametrize("key_size", [0, 20, 32, 64, 65, 200])
@pytest.mark.parametrize("message_size", [0, 1, 150, 3000])
def test_keyed_sha256_equals_hmac_sha256(key_size: int, message_size: int) -> None:
    key, message = os.urandom(key_size), os.urandom(message_size)
    keyed = KeyedSha256(key)
    assert keyed.hexdigest(message) == hmac.digest(key, message, "sha256").hex()
    assert keyed.hexdigest(message) == keyed.hexdigest(message)  # the prepared states are reusable


def test_uids_are_distinct_version_4_uuids_in_canonical_text() -> None:
    seen = set()
    for _ in range(5000):
        text = uids.uuid4()
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
        seen.add(text)
    assert len(seen) == 5000


def test_iso_seconds_formats_like_strftime() -> None:
    moment = datetime(2024, 2, 29, 3, 4, 5, 678901, tzinfo=timezone.utc)
    for step in range(0, 400 * 86400, 86400 * 7 + 3661):
        current = moment + timedelta(seconds=step)
        assert iso_seconds(current) == current.strftime("%Y-%m-%dT%H:%M:%SZ")
    early = datetime(999, 1, 2, tzinfo=timezone.utc)
    assert iso_seconds(early) == early.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_normalise_context_still_merges_two_spellings_and_types_every_value() -> None:
    context = {"aws:SourceIp": "10.0.0.1", "AWS:sourceip": ["10.0.0.2"], "kms:Flag": True, "n": 3}
    assert dict(normalise_context(context)) == {
        "aws:sourceip": ("10.0.0.1", "10.0.0.2"), "kms:flag": ("true",), "n": ("3",),
    }


@pytest.mark.parametrize(
    "raw",
    [b'{"a": 1}', '{"a": "\u00e9"}'.encode("utf-8"), '{"a": 1}'.encode("utf-16"),
     b'\xef\xbb\xbf{"a": 1}', b'{"a": NaN}', b"{", b'\xff\xfe\x00', b'[1]', b'"x"'],
)
def test_request_bodies_parse_as_json_loads_would(raw: bytes) -> None:
    def reject(name: str) -> None:
        raise ValueError(name)

    try:
        expected = json.loads(raw, parse_constant=reject)
    except (ValueError, UnicodeDecodeError):
        expected = SerializationError
    try:
        got = JsonCodec._load_body(raw)
    except SerializationError:
        got = SerializationError
    if isinstance(expected, dict) or expected is SerializationError:
        assert got == expected
    else:
        assert got is SerializationError  # a valid JSON non-object is still refused
