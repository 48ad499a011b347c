"""Symmetric key material, material ids and random bytes, all from the operating system's CSPRNG.

Random values for keys come from here, so there is one place to audit (and one place to swap for
an HSM's generator later). `secrets` reads `os.urandom`, which never blocks after boot.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = [
    "MATERIAL_ID_BYTES",
    "SYMMETRIC_MATERIAL_BYTES",
    "imported_material_id",
    "new_material_id",
    "new_symmetric_material",
    "random_bytes",
]

SYMMETRIC_MATERIAL_BYTES = 32  # AES-256: the only SYMMETRIC_DEFAULT key size KMS has.
MATERIAL_ID_BYTES = 32  # KMS shows KeyMaterialId as 64 hex characters.

_IMPORTED_ID_LABEL = b"keystead/imported-key-material-id/v1\x00"


def random_bytes(n: int) -> bytes:
    """Return `n` bytes from the OS CSPRNG (GenerateRandom, salts, nonces).

    Raises:
        ValueError: `n` is negative.
    """
    if n < 0:
        raise ValueError("cannot draw a negative number of random bytes")
    return secrets.token_bytes(n)


def new_symmetric_material() -> bytes:
    """Return fresh 256-bit key material for a SYMMETRIC_DEFAULT KMS key version.

    Raises:
        Nothing.
    """
    return secrets.token_bytes(SYMMETRIC_MATERIAL_BYTES)


def new_material_id() -> bytes:
    """Return a random 32-byte id for KMS-generated key material (hex() gives AWS's 64 characters).

    Raises:
        Nothing.
    """
    return secrets.token_bytes(MATERIAL_ID_BYTES)


def imported_material_id(key_id: str, material: bytes) -> bytes:
    """Return the deterministic 32-byte id of imported material for one KMS key.

    AWS: "KMS assigns a unique identifier to the key material based on the KMS key ID and the
    imported key material" (ImportKeyMaterial, KeyMaterialId), so re-importing the same material
    yields the same id and a different material a different one. The id is an HMAC keyed by the
    material itself, a PRF output, so publishing it reveals nothing about the material.

    Raises:
        ValueError: `material` is empty.
    """
    if not material:
        raise ValueError("imported key material must not be empty")
    return hmac.new(material, _IMPORTED_ID_LABEL + key_id.encode("utf-8"), hashlib.sha256).digest()
