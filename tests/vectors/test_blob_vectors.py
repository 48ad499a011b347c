"""Known-answer vectors for the ciphertext blob, checked two ways.

1. An independent verifier written here, straight from docs/ciphertext-format.md against pyca's
   AESGCM, parses and decrypts every positive vector and rebuilds the blob from its inputs, so a
   bug shared by `seal_blob` and `open_blob` cannot hide behind a round trip.
2. `open_blob`/`peek_blob` must agree with it, and must reject every negative vector (and every
   single-byte change of every positive vector) with one and the same InvalidCiphertextError.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keystead.crypto.blob import open_blob, peek_blob
from keystead.errors import InvalidCiphertextError, ServiceError

VECTORS_DIR = Path(__file__).parent / "blob"
DOCUMENT: dict[str, Any] = json.loads((VECTORS_DIR / "vectors.json").read_text(encoding="utf-8"))
POSITIVE: list[dict[str, Any]] = DOCUMENT["positive"]
NEGATIVE: list[dict[str, Any]] = DOCUMENT["negative"]


# --- The independent verifier: only the documented format and pyca's AESGCM -----------------


def reference_context_bytes(ctx: dict[str, str]) -> bytes:
    """docs/ciphertext-format.md, "Canonical encryption context"."""
    if not ctx:
        return b""
    pairs = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in ctx.items())
    out = struct.pack(">H", len(pairs))
    for k, v in pairs:
        out += struct.pack(">H", len(k)) + k + struct.pack(">H", len(v)) + v
    return out


def reference_key_id(form: int, raw: bytes) -> str:
    if form == 0:
        return str(uuid.UUID(bytes=raw))
    assert form == 1
    return "mrk-" + raw.hex()


def reference_open(material: bytes, blob: bytes, ctx: dict[str, str]) -> tuple[str, bytes, bytes]:
    """Return (key id, material id, plaintext) per the documented layout."""
    assert blob[0] == 0x01
    key_id = reference_key_id(blob[1], blob[2:18])
    material_id = blob[18:50]
    nonce = blob[50:62]
    plaintext = AESGCM(material).decrypt(nonce, blob[62:], blob[:62] + reference_context_bytes(ctx))
    return key_id, material_id, plaintext


def reference_seal(vector: dict[str, Any]) -> bytes:
    key_id: str = vector["key_id"]
    if key_id.startswith("mrk-"):
        form, raw = 1, bytes.fromhex(key_id[4:])
    else:
        form, raw = 0, uuid.UUID(key_id).bytes
    header = (
        bytes([0x01, form])
        + raw
        + bytes.fromhex(vector["material_id_hex"])
        + bytes.fromhex(vector["nonce_hex"])
    )
    aad = header + reference_context_bytes(vector["encryption_context"])
    material = bytes.fromhex(vector["material_hex"])
    return header + AESGCM(material).encrypt(
        bytes.fromhex(vector["nonce_hex"]), bytes.fromhex(vector["plaintext_hex"]), aad
    )


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


def _uniform_failure(material: bytes, blob: bytes, ctx: dict[str, str]) -> ServiceError:
    with pytest.raises(InvalidCiphertextError) as caught:
        open_blob(material, blob, encryption_context=ctx)
    return caught.value


# --- Positive vectors ------------------------------------------------------------------------


def test_vectors_file_is_what_the_generator_produces_today() -> None:
    spec = importlib.util.spec_from_file_location(
        "keystead_blob_vector_generator", VECTORS_DIR / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.render() == (VECTORS_DIR / "vectors.json").read_text(encoding="utf-8")


def test_there_are_positive_and_negative_vectors() -> None:
    assert len(POSITIVE) >= 5
    assert len(NEGATIVE) >= 20


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_reference_verifier_decrypts_vector(vector: dict[str, Any]) -> None:
    key_id, material_id, plaintext = reference_open(
        bytes.fromhex(vector["material_hex"]), bytes.fromhex(vector["blob_hex"]), vector["encryption_context"]
    )
    assert key_id == vector["key_id"]
    assert material_id.hex() == vector["material_id_hex"]
    assert plaintext.hex() == vector["plaintext_hex"]


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_reference_verifier_rebuilds_the_exact_blob_from_the_inputs(vector: dict[str, Any]) -> None:
    assert reference_seal(vector).hex() == vector["blob_hex"]


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_open_blob_decrypts_vector(vector: dict[str, Any]) -> None:
    blob = bytes.fromhex(vector["blob_hex"])
    plaintext = open_blob(
        bytes.fromhex(vector["material_hex"]), blob, encryption_context=vector["encryption_context"]
    )
    assert plaintext.hex() == vector["plaintext_hex"]


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_peek_blob_reads_the_key_and_material_ids_of_vector(vector: dict[str, Any]) -> None:
    header = peek_blob(bytes.fromhex(vector["blob_hex"]))
    assert header.key_id == vector["key_id"]
    assert header.material_id.hex() == vector["material_id_hex"]


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_blob_overhead_is_78_bytes(vector: dict[str, Any]) -> None:
    assert len(vector["blob_hex"]) // 2 == len(vector["plaintext_hex"]) // 2 + 78


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_every_single_byte_change_of_vector_is_invalid_ciphertext(vector: dict[str, Any]) -> None:
    material = bytes.fromhex(vector["material_hex"])
    blob = bytes.fromhex(vector["blob_hex"])
    ctx = vector["encryption_context"]
    # The large vector would mean 4k+ decryptions per flip pattern; the header, the first and last
    # 64 ciphertext bytes and the tag cover every field, so sample the middle of long ciphertexts.
    positions = range(len(blob)) if len(blob) <= 256 else [*range(62 + 64), *range(len(blob) - 80, len(blob))]
    messages = set()
    for index in positions:
        for mask in (0x01, 0x80, 0xFF):
            changed = blob[:index] + bytes([blob[index] ^ mask]) + blob[index + 1 :]
            messages.add(_uniform_failure(material, changed, ctx).message)
            with pytest.raises((InvalidTag, AssertionError)):
                reference_open(material, changed, ctx)
    assert messages == {""}


# --- Negative vectors ------------------------------------------------------------------------


@pytest.mark.parametrize("vector", NEGATIVE, ids=_ids(NEGATIVE))
def test_negative_vector_is_invalid_ciphertext_with_the_uniform_message(vector: dict[str, Any]) -> None:
    error = _uniform_failure(
        bytes.fromhex(vector["material_hex"]), bytes.fromhex(vector["blob_hex"]), vector["encryption_context"]
    )
    assert error.message == ""
    assert error.code == "InvalidCiphertextException"
    assert error.status == 400


@pytest.mark.parametrize("vector", NEGATIVE, ids=_ids(NEGATIVE))
def test_negative_vector_is_rejected_by_the_reference_verifier_too(vector: dict[str, Any]) -> None:
    with pytest.raises((InvalidTag, AssertionError, ValueError, IndexError)):
        reference_open(
            bytes.fromhex(vector["material_hex"]),
            bytes.fromhex(vector["blob_hex"]),
            vector["encryption_context"],
        )


def test_all_negative_vectors_fail_with_one_identical_error() -> None:
    failures = [
        _uniform_failure(
            bytes.fromhex(v["material_hex"]), bytes.fromhex(v["blob_hex"]), v["encryption_context"]
        )
        for v in NEGATIVE
    ]
    assert {(type(e), e.message, e.code, str(e)) for e in failures} == {
        (InvalidCiphertextError, "", "InvalidCiphertextException", "")
    }
