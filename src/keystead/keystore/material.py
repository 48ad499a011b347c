"""Fresh key material for a new KMS key, and the keyring purpose it is wrapped under.

Symmetric keys hold 256-bit AES material; HMAC keys their HMAC key; key pairs their private key
as PKCS#8 DER. The purpose label keeps each kind in its own lane: a wrapped private key can never
be opened as AES material, even by someone who can edit the database.
"""

from __future__ import annotations

from keystead.crypto.asymmetric import generate_private_key
from keystead.crypto.hmac_keys import new_hmac_key
from keystead.crypto.keyring import WrapPurpose
from keystead.crypto.symmetric import new_symmetric_material
from keystead.keystore import specs


def material_purpose(key_spec: str) -> WrapPurpose:
    """The keyring purpose a key's material is wrapped under."""
    if key_spec in specs.HMAC_SPECS:
        return WrapPurpose.KMS_HMAC_KEY
    if key_spec in specs.KEY_PAIR_SPECS:
        return WrapPurpose.KMS_PRIVATE_KEY
    return WrapPurpose.KMS_KEY_MATERIAL


def new_key_material(key_spec: str) -> tuple[bytes, WrapPurpose]:
    """Material for a new key of `key_spec` (already checked as implemented), with its purpose.

    Raises:
        ValueError: a spec without a generator (callers check `specs.IMPLEMENTED_SPECS` first).
    """
    if key_spec in specs.HMAC_SPECS:
        return new_hmac_key(key_spec), WrapPurpose.KMS_HMAC_KEY
    if key_spec in specs.KEY_PAIR_SPECS:
        return generate_private_key(key_spec), WrapPurpose.KMS_PRIVATE_KEY
    if key_spec == specs.SYMMETRIC_DEFAULT:
        return new_symmetric_material(), WrapPurpose.KMS_KEY_MATERIAL
    raise ValueError(f"no key material generator for {key_spec}")
