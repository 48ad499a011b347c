"""Passwords, secret access keys, key material, material ids and random bytes."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError

from keystead.crypto.passwords import (
    SECRET_ACCESS_KEY_ALPHABET,
    hash_password,
    new_secret_access_key,
    password_needs_rehash,
    verify_password,
)
from keystead.crypto.symmetric import (
    imported_material_id,
    new_material_id,
    new_symmetric_material,
    random_bytes,
)

# --- Passwords -------------------------------------------------------------------------------


def test_hash_is_an_argon2id_phc_string_with_memory_hard_parameters() -> None:
    stored = hash_password("Tr0ub4dor&3")
    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+", stored)
    assert match is not None
    assert int(match.group(1)) >= 64 * 1024


def test_hash_does_not_contain_the_password_and_is_salted() -> None:
    first, second = hash_password("Tr0ub4dor&3"), hash_password("Tr0ub4dor&3")
    assert "Tr0ub4dor&3" not in first
    assert first != second


def test_the_right_password_verifies() -> None:
    assert verify_password(hash_password("p@ssw0rd-ü"), "p@ssw0rd-ü") is True


def test_a_wrong_password_does_not_verify() -> None:
    assert verify_password(hash_password("p@ssw0rd"), "p@ssw0rD") is False


def test_a_corrupt_stored_hash_fails_closed() -> None:
    assert verify_password("not a hash", "anything") is False
    assert verify_password("$argon2id$v=19$m=65536,t=3,p=4$AAAA$AAAA", "anything") is False


def test_a_fresh_hash_does_not_need_rehashing_but_a_cheap_one_does() -> None:
    assert password_needs_rehash(hash_password("pw")) is False
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    assert verify_password(cheap, "pw") is True
    assert password_needs_rehash(cheap) is True


def test_needs_rehash_of_garbage_raises() -> None:
    with pytest.raises(InvalidHashError):
        password_needs_rehash("garbage")


# --- Secret access keys ----------------------------------------------------------------------


def test_secret_access_key_is_40_characters_of_the_aws_alphabet() -> None:
    for _ in range(200):
        secret = new_secret_access_key()
        assert len(secret) == 40
        assert set(secret) <= set(SECRET_ACCESS_KEY_ALPHABET)


def test_secret_access_keys_use_the_whole_alphabet_and_never_repeat() -> None:
    secrets = [new_secret_access_key() for _ in range(500)]
    assert len(set(secrets)) == 500
    assert set("".join(secrets)) == set(SECRET_ACCESS_KEY_ALPHABET)


def test_the_alphabet_is_exactly_letters_digits_plus_and_slash() -> None:
    assert len(SECRET_ACCESS_KEY_ALPHABET) == 64
    assert re.fullmatch(r"[A-Za-z0-9+/]{64}", SECRET_ACCESS_KEY_ALPHABET)


# --- Key material, ids, randomness -----------------------------------------------------------


def test_symmetric_material_is_32_fresh_bytes() -> None:
    materials = {new_symmetric_material() for _ in range(100)}
    assert len(materials) == 100
    assert {len(m) for m in materials} == {32}


def test_material_id_is_64_hex_characters_when_shown() -> None:
    material_id = new_material_id()
    assert re.fullmatch(r"[0-9a-f]{64}", material_id.hex())
    assert new_material_id() != material_id


def test_imported_material_id_depends_on_key_and_material_only() -> None:
    material = b"\x01" * 32
    key = "1234abcd-12ab-34cd-56ef-1234567890ab"
    assert imported_material_id(key, material) == imported_material_id(key, bytes(material))
    assert len(imported_material_id(key, material)) == 32
    assert imported_material_id(key, b"\x02" * 32) != imported_material_id(key, material)
    assert imported_material_id("0e4f2b8c-9a7d-4c3e-8f1a-6b5d2c9e0f7a", material) != imported_material_id(
        key, material
    )


def test_imported_material_id_refuses_empty_material() -> None:
    with pytest.raises(ValueError):
        imported_material_id("k", b"")


@pytest.mark.parametrize("n", [0, 1, 16, 1024])
def test_random_bytes_returns_exactly_n_bytes(n: int) -> None:
    assert len(random_bytes(n)) == n


def test_random_bytes_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError):
        random_bytes(-1)
