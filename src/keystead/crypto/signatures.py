"""Sign and verify with a KMS signing algorithm over a RAW message, a DIGEST, or an ML-DSA µ.

Callers validate the algorithm against the key spec and the message against the message type
first (keystore/asymmetric.py); this module maps the KMS algorithm names onto primitives:

- RSASSA_PSS_SHA_*: PSS with MGF1 over the same hash and a salt as long as the digest (AWS KMS).
- RSASSA_PKCS1_V1_5_SHA_*, ECDSA_SHA_*: the usual; ECDSA signatures are DER (r, s), as AWS returns.
- DIGEST: the caller's bytes are the hash (`Prehashed`), signed exactly as a RAW message would be.
- ED25519_SHA_512: pure Ed25519 (RFC 8032) over the RAW message.
- ED25519_PH_SHA_512: Ed25519ph over the caller's DIGEST, prehashed again as AWS does (crypto/ed25519ph.py).
- ML_DSA_SHAKE_256: FIPS 204 ML-DSA with an empty context; EXTERNAL_MU signs a caller-computed µ.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

from keystead.crypto import ed25519ph
from keystead.crypto.asymmetric import KeyPair
from keystead.errors import KMSInvalidSignatureError

__all__ = ["ML_DSA_MU_BYTES", "digest_length", "sign", "verify"]

ML_DSA_MU_BYTES = 64
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def digest_length(algorithm: str) -> int:
    """The digest size a DIGEST message must have for `algorithm` (SHA-256 → 32 bytes, ...).

    Raises:
        KeyError: an algorithm without a fixed hash (ML-DSA).
    """
    return _hash_of(algorithm).digest_size


def sign(pair: KeyPair, algorithm: str, message: bytes, message_type: str) -> bytes:
    """A signature over `message` (already validated against `algorithm` and `message_type`).

    Raises:
        ValueError: an algorithm this module does not implement.
    """
    key = pair.private_key
    if algorithm == "ML_DSA_SHAKE_256":
        return bytes(key.sign_mu(message) if message_type == "EXTERNAL_MU" else key.sign(message))
    if algorithm == "ED25519_SHA_512":
        return bytes(key.sign(message))
    if algorithm == "ED25519_PH_SHA_512":
        return ed25519ph.sign(key, message)
    chosen = _prehashed_or_hash(algorithm, message_type)
    if algorithm.startswith("ECDSA_"):
        return bytes(key.sign(message, ec.ECDSA(chosen)))
    if algorithm.startswith("RSASSA_"):
        return bytes(key.sign(message, _rsa_padding(algorithm), chosen))
    raise ValueError(f"unsupported signing algorithm {algorithm}")


def verify(pair: KeyPair, algorithm: str, message: bytes, message_type: str, signature: bytes) -> None:
    """Check a signature; raises rather than returning a boolean.

    Raises:
        KMSInvalidSignatureError: the signature does not verify (or is malformed).
        ValueError: an algorithm this module does not implement.
    """
    public: Any = pair.public_key
    try:
        if algorithm == "ML_DSA_SHAKE_256":
            if message_type == "EXTERNAL_MU":
                public.verify_mu(signature, message)
            else:
                public.verify(signature, message)
        elif algorithm == "ED25519_SHA_512":
            public.verify(signature, message)
        elif algorithm == "ED25519_PH_SHA_512":
            ed25519ph.verify(public, message, signature)
        elif algorithm.startswith("ECDSA_"):
            public.verify(signature, message, ec.ECDSA(_prehashed_or_hash(algorithm, message_type)))
        elif algorithm.startswith("RSASSA_"):
            public.verify(signature, message, _rsa_padding(algorithm), _prehashed_or_hash(algorithm, message_type))
        else:
            raise ValueError(f"unsupported signing algorithm {algorithm}")
    except InvalidSignature:
        raise KMSInvalidSignatureError() from None


def _hash_of(algorithm: str) -> hashes.HashAlgorithm:
    if algorithm.startswith(("RSASSA_", "ECDSA_")):
        return _HASHES[algorithm.rsplit("_", 1)[1]]()
    if algorithm == "ED25519_PH_SHA_512":
        return hashes.SHA512()
    raise KeyError(algorithm)


def _prehashed_or_hash(algorithm: str, message_type: str) -> Any:
    digest = _hash_of(algorithm)
    return utils.Prehashed(digest) if message_type == "DIGEST" else digest


def _rsa_padding(algorithm: str) -> padding.AsymmetricPadding:
    if algorithm.startswith("RSASSA_PSS_"):
        digest = _hash_of(algorithm)
        return padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    return padding.PKCS1v15()
