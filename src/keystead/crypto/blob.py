"""The KMS symmetric ciphertext blob: what Encrypt and GenerateDataKey return and Decrypt accepts.

Layout (78 bytes of overhead; see docs/ciphertext-format.md for the diagram and the reasons):

    offset  size  field
    0       1     format version (0x01)
    1       1     key id form: 0x00 = UUID key id, 0x01 = multi-Region key id ("mrk-" + 32 hex)
    2       16    key id (the UUID's 16 bytes, or the 16 bytes the mrk- hex spells)
    18      32    key material id (KMS shows it as 64 hex characters)
    50      12    nonce (random per blob)
    62      n     AES-256-GCM ciphertext of the n-byte plaintext
    62+n    16    GCM tag
    AAD = bytes 0..61 (the whole header) || canonical_encryption_context(context)

The key id travels in the clear so Decrypt needs no KeyId, and the material id picks the key
version after rotation. Both are authenticated through the AAD, so editing either one fails the
tag check instead of silently decrypting under another key.

Decrypt failures are deliberately indistinguishable (Fernet's `InvalidToken`, AWS's bare
`InvalidCiphertextException` with no message): a caller learns only that the blob did not open,
never whether the length, version, tag or encryption context was the reason.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keystead.crypto.encryption_context import canonical_encryption_context
from keystead.crypto.symmetric import MATERIAL_ID_BYTES, SYMMETRIC_MATERIAL_BYTES, random_bytes
from keystead.errors import InvalidCiphertextError

__all__ = [
    "BLOB_OVERHEAD",
    "BLOB_VERSION",
    "HEADER_BYTES",
    "BlobHeader",
    "open_blob",
    "peek_blob",
    "seal_blob",
]

BLOB_VERSION = 0x01
_FORM_UUID = 0x00
_FORM_MRK = 0x01
_MRK_PREFIX = "mrk-"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER = struct.Struct(f">BB16s{MATERIAL_ID_BYTES}s{_NONCE_BYTES}s")
HEADER_BYTES = _HEADER.size
BLOB_OVERHEAD = HEADER_BYTES + _TAG_BYTES


@dataclass(frozen=True, slots=True)
class BlobHeader:
    """What a blob says about itself before it is opened: which key and which material version."""

    key_id: str
    material_id: bytes


class _Malformed(Exception):
    """Internal: the bytes are not a blob of a format we know. Always becomes InvalidCiphertextError."""


def _encode_key_id(key_id: str) -> tuple[int, bytes]:
    # Only the canonical lower-case spellings KMS itself produces are accepted, so each key id has
    # exactly one encoding and decoding gives back the very string that was sealed.
    if key_id.startswith(_MRK_PREFIX):
        hex_part = key_id[len(_MRK_PREFIX) :]
        if len(hex_part) == 32 and hex_part == hex_part.lower():
            try:
                return _FORM_MRK, bytes.fromhex(hex_part)
            except ValueError:
                pass
        raise ValueError(f"not a canonical multi-Region key id: {key_id!r}")
    try:
        parsed = uuid.UUID(key_id)
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != key_id:
        raise ValueError(f"not a canonical key id (lower-case UUID or mrk- id): {key_id!r}")
    return _FORM_UUID, parsed.bytes


def _decode_key_id(form: int, raw: bytes) -> str:
    if form == _FORM_UUID:
        return str(uuid.UUID(bytes=raw))
    if form == _FORM_MRK:
        return _MRK_PREFIX + raw.hex()
    raise _Malformed


def _parse(blob: bytes) -> tuple[BlobHeader, bytes]:
    """Return the header and its nonce, or raise _Malformed."""
    if len(blob) < BLOB_OVERHEAD:
        raise _Malformed
    version, form, raw_key_id, material_id, nonce = _HEADER.unpack_from(blob)
    if version != BLOB_VERSION:
        raise _Malformed
    return BlobHeader(_decode_key_id(form, raw_key_id), material_id), nonce


def _check_material(material: bytes) -> None:
    # Material comes from our own keyring, never from a client, so a wrong length is a bug in the
    # caller and surfaces as a 500 rather than being disguised as a bad ciphertext.
    if len(material) != SYMMETRIC_MATERIAL_BYTES:
        raise ValueError(f"symmetric key material must be {SYMMETRIC_MATERIAL_BYTES} bytes")


def seal_blob(
    material: bytes,
    *,
    key_id: str,
    material_id: bytes,
    plaintext: bytes,
    encryption_context: Mapping[str, str],
    test_nonce: bytes | None = None,
) -> bytes:
    """Encrypt `plaintext` under one key material version into a self-describing blob.

    `test_nonce` exists only so tests/vectors/blob/generate.py can produce reproducible vectors;
    production code must never pass it (reusing a nonce under one material breaks AES-GCM).

    Raises:
        ValueError: material not 32 bytes, material id not 32 bytes, non-canonical key id, a
            test nonce not 12 bytes, or an encryption context too large to encode.
        TypeError: an encryption context key or value is not a str.
    """
    _check_material(material)
    if len(material_id) != MATERIAL_ID_BYTES:
        raise ValueError(f"a key material id is {MATERIAL_ID_BYTES} bytes")
    form, raw_key_id = _encode_key_id(key_id)
    if test_nonce is None:
        nonce = random_bytes(_NONCE_BYTES)
    elif len(test_nonce) == _NONCE_BYTES:
        nonce = bytes(test_nonce)
    else:
        raise ValueError(f"a nonce is {_NONCE_BYTES} bytes")
    header = _HEADER.pack(BLOB_VERSION, form, raw_key_id, bytes(material_id), nonce)
    aad = header + canonical_encryption_context(encryption_context)
    return header + AESGCM(material).encrypt(nonce, plaintext, aad)


def peek_blob(blob: bytes) -> BlobHeader:
    """Read the key id and material id of a blob without decrypting (Decrypt needs no KeyId).

    The header is not authenticated until `open_blob` succeeds; use it only to find the key.

    Raises:
        InvalidCiphertextError: too short, unknown version or unknown key id form.
    """
    try:
        return _parse(blob)[0]
    except (_Malformed, TypeError, struct.error):
        raise InvalidCiphertextError() from None


def open_blob(material: bytes, blob: bytes, *, encryption_context: Mapping[str, str]) -> bytes:
    """Decrypt a blob with the material its header names, checking the encryption context.

    Raises:
        InvalidCiphertextError: for every failure to open (length, version, key id form, tag,
            encryption context, wrong material), always with the same empty message, as AWS.
        ValueError: `material` is not 32 bytes (a caller bug, not a client error).
    """
    _check_material(material)
    try:
        _, nonce = _parse(blob)
        aad = bytes(blob[:HEADER_BYTES]) + canonical_encryption_context(encryption_context)
        return AESGCM(material).decrypt(nonce, bytes(blob[HEADER_BYTES:]), aad)
    except (_Malformed, InvalidTag, TypeError, ValueError, struct.error):
        # A context that cannot even be encoded cannot equal the one that was sealed, so it is
        # one more way for the blob not to open, reported like all the others.
        raise InvalidCiphertextError() from None
