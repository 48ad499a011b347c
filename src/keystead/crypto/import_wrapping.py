"""Wrapping keys for importing key material (GetParametersForImport / ImportKeyMaterial).

A caller fetches an RSA public key, wraps its key material under it, and sends the result back
with the import token. Supported wrapping algorithms, as AWS defines them:

- RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256: the material is RSA-OAEP encrypted directly
  (MGF1 with the same hash).
- RSA_AES_KEY_WRAP_SHA_1 / RSA_AES_KEY_WRAP_SHA_256: a fresh 256-bit AES key wraps the material
  with AES key wrap with padding (RFC 5649); the AES key is RSA-OAEP encrypted; the blob is the
  RSA ciphertext (one modulus long) followed by the wrapped material.

Every failure to unwrap is the same InvalidCiphertextError: no padding oracle.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap_with_padding,
    aes_key_wrap_with_padding,
)

from keystead.crypto.symmetric import random_bytes
from keystead.errors import InvalidCiphertextError

__all__ = [
    "WRAPPING_ALGORITHMS",
    "WRAPPING_KEY_SPECS",
    "new_wrapping_key",
    "public_key_of",
    "unwrap_key_material",
    "wrap_key_material",
]

WRAPPING_KEY_SPECS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RSAES_OAEP_SHA_1": hashes.SHA1,
    "RSAES_OAEP_SHA_256": hashes.SHA256,
    "RSA_AES_KEY_WRAP_SHA_1": hashes.SHA1,
    "RSA_AES_KEY_WRAP_SHA_256": hashes.SHA256,
}
WRAPPING_ALGORITHMS = frozenset(_HASHES)


def new_wrapping_key(key_spec: str) -> bytes:
    """Generate an RSA wrapping key (slow for 4096 bits: call off the event loop); PKCS#8 DER.

    Raises:
        KeyError: not one of WRAPPING_KEY_SPECS.
    """
    private = rsa.generate_private_key(public_exponent=65537, key_size=WRAPPING_KEY_SPECS[key_spec])
    return private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_of(private_der: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a wrapping key, as GetParametersForImport returns it.

    Raises:
        ValueError: not an RSA private key in PKCS#8 DER.
    """
    private = _load(private_der)
    return private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def unwrap_key_material(private_der: bytes, algorithm: str, encrypted: bytes) -> bytes:
    """Recover key material wrapped under the public half of `private_der`.

    Raises:
        InvalidCiphertextError: anything wrong with the wrapped material (one message).
        KeyError: an algorithm outside WRAPPING_ALGORITHMS.
    """
    oaep = _oaep(_HASHES[algorithm])
    private = _load(private_der)
    try:
        if algorithm.startswith("RSAES_OAEP"):
            return private.decrypt(encrypted, oaep)
        modulus_bytes = (private.key_size + 7) // 8
        aes_key = private.decrypt(encrypted[:modulus_bytes], oaep)
        return aes_key_unwrap_with_padding(aes_key, encrypted[modulus_bytes:])
    except (ValueError, InvalidUnwrap) as exc:
        raise InvalidCiphertextError() from exc


def wrap_key_material(public_der: bytes, algorithm: str, material: bytes) -> bytes:
    """What a client does before ImportKeyMaterial (tests and tooling use it).

    Raises:
        KeyError: an algorithm outside WRAPPING_ALGORITHMS.
        ValueError: not an RSA public key, or material too long for direct RSA-OAEP.
    """
    public = serialization.load_der_public_key(public_der)
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("the wrapping key must be an RSA public key")
    oaep = _oaep(_HASHES[algorithm])
    if algorithm.startswith("RSAES_OAEP"):
        return public.encrypt(material, oaep)
    aes_key = random_bytes(32)
    return public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)


def _oaep(hash_type: type[hashes.HashAlgorithm]) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(algorithm=hash_type()), algorithm=hash_type(), label=None)


def _load(private_der: bytes) -> rsa.RSAPrivateKey:
    private = serialization.load_der_private_key(private_der, password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError("the wrapping key must be an RSA private key")
    return private
