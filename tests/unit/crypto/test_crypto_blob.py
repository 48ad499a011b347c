"""The ciphertext blob: round trips, what the header says, and one uniform failure for everything."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keystead.crypto.blob import BLOB_OVERHEAD, HEADER_BYTES, BlobHeader, open_blob, peek_blob, seal_blob
from keystead.crypto.symmetric import new_material_id, new_symmetric_material
from keystead.errors import InvalidCiphertextError, ServiceError

MATERIAL = bytes(range(32))
OTHER_MATERIAL = bytes(range(1, 33))
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
MRK_ID = "mrk-1234abcd12ab34cd56ef1234567890ab"
MATERIAL_ID = bytes(range(100, 132))
CONTEXT = {"Department": "Finance", "Project": "Keystead"}


def seal(plaintext: bytes = b"secret", ctx: dict[str, str] | None = None, key_id: str = KEY_ID) -> bytes:
    return seal_blob(
        MATERIAL,
        key_id=key_id,
        material_id=MATERIAL_ID,
        plaintext=plaintext,
        encryption_context=CONTEXT if ctx is None else ctx,
    )


def open_failure(material: bytes, blob: bytes, ctx: dict[str, str]) -> ServiceError:
    with pytest.raises(InvalidCiphertextError) as caught:
        open_blob(material, blob, encryption_context=ctx)
    return caught.value


# --- Round trips and the header --------------------------------------------------------------


def test_sealed_blob_opens_with_the_same_material_and_context() -> None:
    assert open_blob(MATERIAL, seal(b"attack at dawn"), encryption_context=CONTEXT) == b"attack at dawn"


def test_context_order_does_not_matter_on_decrypt() -> None:
    blob = seal(ctx={"a": "1", "b": "2", "c": "3"})
    assert open_blob(MATERIAL, blob, encryption_context={"c": "3", "a": "1", "b": "2"}) == b"secret"


def test_empty_plaintext_round_trips_because_the_size_rule_belongs_to_the_kms_layer() -> None:
    assert open_blob(MATERIAL, seal(b""), encryption_context=CONTEXT) == b""


def test_blob_is_plaintext_plus_78_bytes() -> None:
    assert BLOB_OVERHEAD == 78
    assert HEADER_BYTES == 62
    assert len(seal(b"x" * 4096)) == 4096 + 78


def test_peek_reads_key_id_and_material_id_without_material() -> None:
    assert peek_blob(seal()) == BlobHeader(key_id=KEY_ID, material_id=MATERIAL_ID)


def test_multi_region_key_ids_survive_the_round_trip() -> None:
    blob = seal(key_id=MRK_ID)
    assert peek_blob(blob).key_id == MRK_ID
    assert open_blob(MATERIAL, blob, encryption_context=CONTEXT) == b"secret"


def test_two_seals_of_the_same_plaintext_differ_because_nonces_are_random() -> None:
    assert seal() != seal()


def test_test_nonce_makes_sealing_deterministic() -> None:
    first, second = (
        seal_blob(
            MATERIAL,
            key_id=KEY_ID,
            material_id=MATERIAL_ID,
            plaintext=b"p",
            encryption_context={},
            test_nonce=b"\x07" * 12,
        )
        for _ in range(2)
    )
    assert first == second
    assert first[50:62] == b"\x07" * 12


# --- Caller errors are not disguised as bad ciphertexts --------------------------------------


@pytest.mark.parametrize(
    "key_id",
    [
        "1234ABCD-12AB-34CD-56EF-1234567890AB",
        "1234abcd12ab34cd56ef1234567890ab",
        "{1234abcd-12ab-34cd-56ef-1234567890ab}",
        "alias/my-key",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234ABCD12AB34CD56EF1234567890AB",
        "mrk-1234",
        "mrk-zz34abcd12ab34cd56ef1234567890ab",
        "",
    ],
)
def test_sealing_with_a_non_canonical_key_id_is_a_caller_error(key_id: str) -> None:
    with pytest.raises(ValueError):
        seal(key_id=key_id)


def test_sealing_with_short_material_is_a_caller_error() -> None:
    with pytest.raises(ValueError):
        seal_blob(b"k" * 16, key_id=KEY_ID, material_id=MATERIAL_ID, plaintext=b"p", encryption_context={})


def test_sealing_with_a_short_material_id_is_a_caller_error() -> None:
    with pytest.raises(ValueError):
        seal_blob(MATERIAL, key_id=KEY_ID, material_id=b"id", plaintext=b"p", encryption_context={})


def test_sealing_with_a_short_test_nonce_is_a_caller_error() -> None:
    with pytest.raises(ValueError):
        seal_blob(
            MATERIAL,
            key_id=KEY_ID,
            material_id=MATERIAL_ID,
            plaintext=b"p",
            encryption_context={},
            test_nonce=b"\x00" * 8,
        )


def test_opening_with_short_material_is_a_caller_error_not_a_ciphertext_error() -> None:
    with pytest.raises(ValueError):
        open_blob(b"k" * 16, seal(), encryption_context=CONTEXT)


# --- Every failure to open looks the same ----------------------------------------------------


def test_decrypt_with_wrong_context_is_invalid_ciphertext() -> None:
    error = open_failure(MATERIAL, seal(), {"Department": "Finance", "Project": "keystead"})
    assert error.code == "InvalidCiphertextException"


def test_decrypt_without_the_context_is_invalid_ciphertext() -> None:
    open_failure(MATERIAL, seal(), {})


def test_decrypt_with_a_context_when_none_was_sealed_is_invalid_ciphertext() -> None:
    open_failure(MATERIAL, seal(ctx={}), {"a": "b"})


def test_decrypt_with_other_material_is_invalid_ciphertext() -> None:
    open_failure(OTHER_MATERIAL, seal(), CONTEXT)


def test_decrypt_after_swapping_the_key_id_is_invalid_ciphertext() -> None:
    blob = seal()
    swapped = blob[:2] + uuid.uuid4().bytes + blob[18:]
    open_failure(MATERIAL, swapped, CONTEXT)


def test_decrypt_with_a_context_too_large_to_encode_is_invalid_ciphertext() -> None:
    open_failure(MATERIAL, seal(), {"k": "v" * 70000})


def test_peek_of_garbage_is_invalid_ciphertext() -> None:
    for garbage in (b"", b"\x01", b"\x02" + bytes(100), b"\x01\x07" + bytes(100)):
        with pytest.raises(InvalidCiphertextError):
            peek_blob(garbage)


def test_all_failure_causes_give_the_identical_empty_message_as_aws_does() -> None:
    blob = seal()
    failures = [
        open_failure(MATERIAL, b"", CONTEXT),
        open_failure(MATERIAL, blob[:-1], CONTEXT),
        open_failure(MATERIAL, b"\x09" + blob[1:], CONTEXT),
        open_failure(MATERIAL, blob[:-1] + bytes([blob[-1] ^ 1]), CONTEXT),
        open_failure(MATERIAL, blob, {}),
        open_failure(OTHER_MATERIAL, blob, CONTEXT),
    ]
    assert {(type(e), e.message, str(e), e.args) for e in failures} == {
        (InvalidCiphertextError, "", "", ("",))
    }


def test_failure_does_not_chain_the_underlying_cause() -> None:
    error = open_failure(MATERIAL, seal(), {})
    assert error.__cause__ is None
    assert error.__suppress_context__


# --- Properties ------------------------------------------------------------------------------

contexts = st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=6)


@settings(max_examples=150)
@given(plaintext=st.binary(max_size=4096), ctx=contexts, mrk=st.booleans())
def test_any_plaintext_and_context_round_trip(plaintext: bytes, ctx: dict[str, str], mrk: bool) -> None:
    material = new_symmetric_material()
    material_id = new_material_id()
    key_id = "mrk-" + uuid.uuid4().hex if mrk else str(uuid.uuid4())
    blob = seal_blob(
        material, key_id=key_id, material_id=material_id, plaintext=plaintext, encryption_context=ctx
    )
    assert len(blob) == len(plaintext) + BLOB_OVERHEAD
    assert peek_blob(blob) == BlobHeader(key_id, material_id)
    assert open_blob(material, blob, encryption_context=dict(reversed(list(ctx.items())))) == plaintext


@settings(max_examples=300)
@given(
    plaintext=st.binary(max_size=64),
    ctx=contexts,
    data=st.data(),
)
def test_any_one_byte_change_fails_uniformly(
    plaintext: bytes, ctx: dict[str, str], data: st.DataObject
) -> None:
    blob = seal_blob(
        MATERIAL, key_id=KEY_ID, material_id=MATERIAL_ID, plaintext=plaintext, encryption_context=ctx
    )
    index = data.draw(st.integers(0, len(blob) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="xor mask")
    changed = blob[:index] + bytes([blob[index] ^ mask]) + blob[index + 1 :]
    assert open_failure(MATERIAL, changed, ctx).message == ""


@settings(max_examples=100)
@given(plaintext=st.binary(max_size=64), ctx=contexts, data=st.data())
def test_any_truncation_or_extension_fails_uniformly(
    plaintext: bytes, ctx: dict[str, str], data: st.DataObject
) -> None:
    blob = seal_blob(
        MATERIAL, key_id=KEY_ID, material_id=MATERIAL_ID, plaintext=plaintext, encryption_context=ctx
    )
    cut = data.draw(st.integers(0, len(blob) - 1), label="keep")
    assert open_failure(MATERIAL, blob[:cut], ctx).message == ""
    tail = data.draw(st.binary(min_size=1, max_size=16), label="tail")
    assert open_failure(MATERIAL, blob + tail, ctx).message == ""


@settings(max_examples=100)
@given(ctx=contexts.filter(bool), other=contexts)
def test_any_different_context_fails_uniformly(ctx: dict[str, str], other: dict[str, str]) -> None:
    blob = seal_blob(MATERIAL, key_id=KEY_ID, material_id=MATERIAL_ID, plaintext=b"p", encryption_context=ctx)
    if other == ctx:
        other = {key: value + "x" for key, value in ctx.items()}
    assert open_failure(MATERIAL, blob, other).message == ""
