"""ECDH for KEY_AGREEMENT keys (DeriveSharedSecret): our private key, the caller's public key.

AWS KMS returns the raw shared secret (the x coordinate, NIST SP 800-56A §5.7.1.2), leaving key
derivation to the caller; so does this module.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keystead.crypto.asymmetric import KeyPair
from keystead.errors import ValidationError

__all__ = ["derive_shared_secret"]


def derive_shared_secret(pair: KeyPair, peer_public_der: bytes) -> bytes:
    """The ECDH shared secret of our key and a DER SubjectPublicKeyInfo on the same curve.

    Raises:
        ValidationError: the public key does not parse, is not EC, or is on another curve.
    """
    ours = pair.private_key
    try:
        peer = serialization.load_der_public_key(peer_public_der)
    except (ValueError, TypeError):
        raise ValidationError("PublicKey is not a valid DER-encoded X.509 SubjectPublicKeyInfo.") from None
    if not isinstance(peer, ec.EllipticCurvePublicKey) or peer.curve.name != ours.curve.name:
        raise ValidationError(f"PublicKey must be an elliptic curve public key on the curve of {pair.key_spec}.")
    return bytes(ours.exchange(ec.ECDH(), peer))
