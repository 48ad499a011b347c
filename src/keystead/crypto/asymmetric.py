"""Key pairs for asymmetric KMS keys and data key pairs: generate, load, RSA-OAEP.

Private keys travel (wrapped, in storage) as unencrypted PKCS#8 DER, the format
GenerateDataKeyPair returns to callers; public keys as DER SubjectPublicKeyInfo, the format
GetPublicKey returns. `KeyPair` holds the parsed key objects so hot operations never re-parse DER.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa

from keystead.errors import InvalidCiphertextError, ValidationError

__all__ = ["KeyPair", "generate_private_key", "load_key_pair", "rsa_encrypt", "rsa_max_plaintext"]

_RSA_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
_CURVES: dict[str, ec.EllipticCurve] = {
    "ECC_NIST_P256": ec.SECP256R1(),
    "ECC_NIST_P384": ec.SECP384R1(),
    "ECC_NIST_P521": ec.SECP521R1(),
    "ECC_SECG_P256K1": ec.SECP256K1(),
}
_ML_DSA: dict[str, Any] = {
    "ML_DSA_44": mldsa.MLDSA44PrivateKey,
    "ML_DSA_65": mldsa.MLDSA65PrivateKey,
    "ML_DSA_87": mldsa.MLDSA87PrivateKey,
}
_OAEP_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RSAES_OAEP_SHA_1": hashes.SHA1,
    "RSAES_OAEP_SHA_256": hashes.SHA256,
}


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A parsed private key with its public half; the private parts never appear in a repr."""

    key_spec: str
    private_key: Any = field(repr=False)
    public_der: bytes

    @property
    def public_key(self) -> Any:
        return self.private_key.public_key()


def generate_private_key(key_spec: str) -> bytes:
    """A fresh private key of `key_spec`, as unencrypted PKCS#8 DER.

    RSA-4096 generation can take a second: call it off the event loop.

    Raises:
        ValueError: a key spec that is not a key pair this module knows.
    """
    if key_spec in _RSA_BITS:
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[key_spec])
    elif key_spec in _CURVES:
        key = ec.generate_private_key(_CURVES[key_spec])
    elif key_spec == "ECC_NIST_EDWARDS25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif key_spec in _ML_DSA:
        key = _ML_DSA[key_spec].generate()
    else:
        raise ValueError(f"no key pair generator for {key_spec}")
    return bytes(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))


def load_key_pair(key_spec: str, private_der: bytes) -> KeyPair:
    """Parse a stored PKCS#8 private key once, for repeated use.

    Raises:
        ValueError: the bytes are not a private key of `key_spec`.
    """
    key = serialization.load_der_private_key(private_der, password=None)
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(key_spec, key, public_der)


def public_key_der(private_der: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a PKCS#8 private key.

    Raises:
        ValueError: the bytes are not a private key.
    """
    key = serialization.load_der_private_key(private_der, password=None)
    return bytes(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ))


def rsa_max_plaintext(key_spec: str, algorithm: str) -> int:
    """The largest plaintext RSA-OAEP takes: k - 2·hLen - 2 bytes (RFC 8017 §7.1.1).

    That is 214/342/470 bytes with SHA-1 and 190/318/446 with SHA-256, the limits AWS documents.

    Raises:
        KeyError: not an RSA spec or OAEP algorithm.
    """
    return _RSA_BITS[key_spec] // 8 - 2 * _OAEP_HASHES[algorithm].digest_size - 2


def rsa_encrypt(pair: KeyPair, algorithm: str, plaintext: bytes) -> bytes:
    """RSA-OAEP encryption with MGF1 over the same hash, no label (what AWS KMS uses).

    Raises:
        ValidationError: the plaintext is too long for the key and padding.
    """
    if len(plaintext) > rsa_max_plaintext(pair.key_spec, algorithm):
        raise ValidationError(
            f"Plaintext length {len(plaintext)} exceeds the maximum of "
            f"{rsa_max_plaintext(pair.key_spec, algorithm)} bytes for {pair.key_spec} with {algorithm}."
        )
    return bytes(pair.public_key.encrypt(plaintext, _oaep(algorithm)))


def rsa_decrypt(pair: KeyPair, algorithm: str, ciphertext: bytes) -> bytes:
    """RSA-OAEP decryption; every failure is the same InvalidCiphertextError.

    Raises:
        InvalidCiphertextError: wrong length, wrong key, wrong padding, tampered.
    """
    try:
        return bytes(pair.private_key.decrypt(ciphertext, _oaep(algorithm)))
    except ValueError:
        raise InvalidCiphertextError() from None


def _oaep(algorithm: str) -> padding.OAEP:
    digest = _OAEP_HASHES[algorithm]()
    return padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)
