"""The sealed session token format: round trip, and one uniform failure for every bad token."""

from __future__ import annotations

import base64

import pytest

from keystead.crypto.session_tokens import (
    SessionTokenError,
    new_token_key,
    open_token,
    seal_token,
    token_key_id,
)

KEY = new_token_key()


def _keys(key_id: int) -> bytes | None:
    return KEY if key_id == 7 else None


def test_sealed_claims_open_under_the_same_key() -> None:
    token = seal_token(b'{"a":1}', 7, KEY)
    assert token_key_id(token) == 7
    assert open_token(token, _keys) == b'{"a":1}'


def test_token_starts_with_its_format_version() -> None:
    assert base64.b64decode(seal_token(b"x", 7, KEY))[0] == 0x01


def test_every_flipped_byte_is_rejected() -> None:
    raw = bytearray(base64.b64decode(seal_token(b"claims", 7, KEY)))
    for index in range(len(raw)):
        tampered = bytearray(raw)
        tampered[index] ^= 0x01
        with pytest.raises(SessionTokenError):
            open_token(base64.b64encode(bytes(tampered)).decode(), _keys)


def test_unknown_key_id_is_rejected() -> None:
    with pytest.raises(SessionTokenError):
        open_token(seal_token(b"x", 8, KEY), _keys)


def test_another_key_does_not_open_the_token() -> None:
    token = seal_token(b"x", 7, new_token_key())
    with pytest.raises(SessionTokenError):
        open_token(token, _keys)


@pytest.mark.parametrize("junk", ["", "not base64!", "AAAA", "A" * 20_000, "é"])
def test_garbage_is_the_same_error(junk: str) -> None:
    with pytest.raises(SessionTokenError):
        open_token(junk, _keys)
