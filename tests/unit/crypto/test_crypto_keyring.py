"""The keyring: terms sealed under the root key, and the wrap/unwrap barrier across rotations."""

from __future__ import annotations

import pytest

from keystead.crypto.keyring import Keyring, WrapPurpose
from keystead.errors import KeyringError, ServerError

ROOT = bytes(range(32))
OTHER_ROOT = bytes(range(32, 64))
MATERIAL = WrapPurpose.KMS_KEY_MATERIAL
ACCESS_KEY = WrapPurpose.IAM_SECRET_ACCESS_KEY


def ring(*terms: int, root: bytes = ROOT) -> tuple[Keyring, dict[int, bytes]]:
    sealed = {term: Keyring.seal_term(root, term) for term in terms}
    return Keyring.open(root, sealed), sealed


# --- Opening ---------------------------------------------------------------------------------


def test_open_unseals_every_term_and_the_highest_is_current() -> None:
    keyring, _ = ring(1, 2, 7)
    assert keyring.terms == {1, 2, 7}
    assert keyring.current_term == 7


def test_open_with_the_wrong_root_key_fails() -> None:
    _, sealed = ring(1)
    with pytest.raises(KeyringError, match="wrong root key"):
        Keyring.open(OTHER_ROOT, sealed)


def test_open_with_a_tampered_sealed_term_fails() -> None:
    _, sealed = ring(1)
    tampered = sealed[1][:-1] + bytes([sealed[1][-1] ^ 1])
    with pytest.raises(KeyringError):
        Keyring.open(ROOT, {1: tampered})


def test_open_with_a_truncated_sealed_term_fails() -> None:
    _, sealed = ring(1)
    with pytest.raises(KeyringError, match="corrupt"):
        Keyring.open(ROOT, {1: sealed[1][:-1]})


def test_open_refuses_a_term_stored_under_another_number() -> None:
    _, sealed = ring(1, 2)
    with pytest.raises(KeyringError, match="different term"):
        Keyring.open(ROOT, {1: sealed[2], 2: sealed[1]})


def test_open_with_no_terms_fails() -> None:
    with pytest.raises(KeyringError):
        Keyring.open(ROOT, {})


def test_open_with_a_short_root_key_fails() -> None:
    with pytest.raises(KeyringError):
        Keyring.open(b"short", {})


@pytest.mark.parametrize("term", [0, -1, 2**32])
def test_term_numbers_outside_u32_are_refused(term: int) -> None:
    with pytest.raises(KeyringError):
        Keyring.seal_term(ROOT, term)


def test_a_given_term_key_is_sealed_and_recovered() -> None:
    term_key = b"\x42" * 32
    keyring = Keyring.open(ROOT, {3: Keyring.seal_term(ROOT, 3, term_key)})
    assert keyring.unwrap(Keyring({3: term_key}).wrap(b"s", purpose="p"), purpose="p") == b"s"


def test_a_term_key_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(KeyringError):
        Keyring.seal_term(ROOT, 1, b"\x00" * 16)


def test_keyring_errors_are_server_errors_shown_as_internal_failures() -> None:
    assert issubclass(KeyringError, ServerError)
    assert KeyringError.code == "KMSInternalException"
    assert KeyringError("x").wire_code(query=True) == "InternalFailure"


def test_repr_shows_terms_but_no_key_bytes() -> None:
    term_key = b"\xab" * 32
    keyring = Keyring({5: term_key})
    assert repr(keyring) == "Keyring(terms=[5], current=5)"


# --- Wrapping --------------------------------------------------------------------------------


def test_wrap_then_unwrap_returns_the_secret() -> None:
    keyring, _ = ring(1)
    assert keyring.unwrap(keyring.wrap(b"material", purpose=MATERIAL), purpose=MATERIAL) == b"material"


def test_wrapped_secret_starts_with_version_and_current_term() -> None:
    keyring, _ = ring(1, 258)
    wrapped = keyring.wrap(b"s", purpose=MATERIAL)
    assert wrapped[:5] == b"\x01\x00\x00\x01\x02"
    assert len(wrapped) == 1 + 4 + 12 + 1 + 16
    assert Keyring.term_of(wrapped) == 258


def test_wrapping_twice_gives_different_bytes() -> None:
    keyring, _ = ring(1)
    assert keyring.wrap(b"s", purpose=MATERIAL) != keyring.wrap(b"s", purpose=MATERIAL)


def test_unwrap_with_a_different_purpose_fails() -> None:
    keyring, _ = ring(1)
    wrapped = keyring.wrap(b"secret-access-key", purpose=ACCESS_KEY)
    with pytest.raises(KeyringError):
        keyring.unwrap(wrapped, purpose=MATERIAL)


def test_plain_strings_work_as_purposes_and_match_the_enum_values() -> None:
    keyring, _ = ring(1)
    wrapped = keyring.wrap(b"s", purpose="kms-key-material")
    assert keyring.unwrap(wrapped, purpose=WrapPurpose.KMS_KEY_MATERIAL) == b"s"


def test_an_empty_purpose_is_refused() -> None:
    keyring, _ = ring(1)
    with pytest.raises(KeyringError):
        keyring.wrap(b"s", purpose="")


@pytest.mark.parametrize("index", [0, 1, 4, 5, 16, 17, -1])
def test_unwrap_of_a_tampered_secret_fails(index: int) -> None:
    keyring, _ = ring(1)
    wrapped = bytearray(keyring.wrap(b"s", purpose=MATERIAL))
    wrapped[index] ^= 0x01
    with pytest.raises(KeyringError):
        keyring.unwrap(bytes(wrapped), purpose=MATERIAL)


def test_unwrap_of_a_truncated_secret_fails() -> None:
    keyring, _ = ring(1)
    wrapped = keyring.wrap(b"s", purpose=MATERIAL)
    for cut in (0, 5, 17, len(wrapped) - 1):
        with pytest.raises(KeyringError):
            keyring.unwrap(wrapped[:cut], purpose=MATERIAL)


def test_unwrap_under_another_root_keys_keyring_fails() -> None:
    keyring, _ = ring(1)
    other, _ = ring(1, root=OTHER_ROOT)
    with pytest.raises(KeyringError):
        other.unwrap(keyring.wrap(b"s", purpose=MATERIAL), purpose=MATERIAL)


# --- Rotation --------------------------------------------------------------------------------


def test_after_rotation_new_secrets_use_the_new_term_and_old_ones_still_unwrap() -> None:
    old_ring, sealed = ring(1)
    old_wrapped = old_ring.wrap(b"old secret", purpose=MATERIAL)
    sealed[2] = Keyring.seal_term(ROOT, 2)
    rotated = Keyring.open(ROOT, sealed)
    new_wrapped = rotated.wrap(b"new secret", purpose=MATERIAL)
    assert Keyring.term_of(new_wrapped) == 2
    assert rotated.unwrap(old_wrapped, purpose=MATERIAL) == b"old secret"
    assert rotated.unwrap(new_wrapped, purpose=MATERIAL) == b"new secret"


def test_a_secret_wrapped_under_a_term_the_ring_lacks_fails_naming_the_term() -> None:
    rotated, sealed = ring(1, 2)
    wrapped = rotated.wrap(b"s", purpose=MATERIAL)
    old_only = Keyring.open(ROOT, {1: sealed[1]})
    with pytest.raises(KeyringError, match="term 2"):
        old_only.unwrap(wrapped, purpose=MATERIAL)


def test_rewrap_moves_a_secret_to_the_current_term() -> None:
    old_ring, sealed = ring(1)
    wrapped = old_ring.wrap(b"s", purpose=MATERIAL)
    sealed[2] = Keyring.seal_term(ROOT, 2)
    rotated = Keyring.open(ROOT, sealed)
    moved = rotated.rewrap(wrapped, purpose=MATERIAL)
    assert Keyring.term_of(moved) == 2
    assert rotated.unwrap(moved, purpose=MATERIAL) == b"s"


def test_rewrap_of_a_current_secret_returns_it_unchanged_after_checking_it() -> None:
    keyring, _ = ring(1)
    wrapped = keyring.wrap(b"s", purpose=MATERIAL)
    assert keyring.rewrap(wrapped, purpose=MATERIAL) is wrapped
    with pytest.raises(KeyringError):
        keyring.rewrap(wrapped[:-1] + bytes([wrapped[-1] ^ 1]), purpose=MATERIAL)


def test_reseal_terms_moves_the_keyring_to_a_new_root_key() -> None:
    keyring, _ = ring(1, 2)
    wrapped = keyring.wrap(b"s", purpose=MATERIAL)
    resealed = keyring.reseal_terms(OTHER_ROOT)
    moved = Keyring.open(OTHER_ROOT, resealed)
    assert moved.unwrap(wrapped, purpose=MATERIAL) == b"s"
    with pytest.raises(KeyringError):
        Keyring.open(ROOT, resealed)
