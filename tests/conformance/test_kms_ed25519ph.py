"""ED25519_PH_SHA_512 (Ed25519ph) Sign and Verify through boto3, checked outside the server with pycryptodome.

AWS applies the Ed25519ph SHA-512 prehash to the caller's DIGEST (the message is hashed twice), so an
outside verifier checks Ed25519ph with PH(M) = SHA-512(digest).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError
from Crypto.Hash import SHA512
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from tests.support import Server

ALGORITHM = "ED25519_PH_SHA_512"


@pytest.fixture(scope="module")
def ed25519_key(server: Server) -> dict[str, Any]:
    kms = server.client("kms")
    key: dict[str, Any] = kms.create_key(KeySpec="ECC_NIST_EDWARDS25519", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    key["public"] = ECC.import_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    return key


def sign_digest(server: Server, key: dict[str, Any], message: bytes) -> tuple[bytes, dict[str, Any]]:
    out = server.client("kms").sign(KeyId=key["KeyId"], Message=hashlib.sha512(message).digest(),
                                    MessageType="DIGEST", SigningAlgorithm=ALGORITHM)
    return out["Signature"], out


def outside_is_valid(key: dict[str, Any], prehash: Any, signature: bytes) -> bool:
    try:
        eddsa.new(key["public"], "rfc8032").verify(prehash, signature)
    except ValueError:
        return False
    return True


def test_an_ed25519ph_signature_of_a_digest_verifies_through_kms(server: Server, ed25519_key: dict[str, Any]) -> None:
    signature, out = sign_digest(server, ed25519_key, b"document")
    assert out["KeyId"] == ed25519_key["Arn"] and out["SigningAlgorithm"] == ALGORITHM and len(signature) == 64
    verified = server.client("kms").verify(KeyId=ed25519_key["KeyId"], Message=hashlib.sha512(b"document").digest(),
                                           MessageType="DIGEST", Signature=signature, SigningAlgorithm=ALGORITHM)
    assert verified["SignatureValid"] is True and verified["SigningAlgorithm"] == ALGORITHM
    assert verified["KeyId"] == ed25519_key["Arn"]


def test_the_signature_is_ed25519ph_over_the_digest_outside_kms(server: Server, ed25519_key: dict[str, Any]) -> None:
    signature, _ = sign_digest(server, ed25519_key, b"document")
    digest = hashlib.sha512(b"document").digest()
    # AWS prehashes the caller's digest again: Ed25519ph with PH(M) = SHA-512(digest) verifies ...
    assert outside_is_valid(ed25519_key, SHA512.new(digest), signature)
    # ... not Ed25519ph with the caller's digest taken as PH(M) ...
    assert not outside_is_valid(ed25519_key, SHA512.new(b"document"), signature)
    # ... and not pure Ed25519 (no dom2 prefix) over the digest or the document: it really is the ph variant.
    assert not outside_is_valid(ed25519_key, digest, signature)
    assert not outside_is_valid(ed25519_key, b"document", signature)


def test_the_same_key_signs_pure_ed25519_and_ed25519ph_differently(server: Server, ed25519_key: dict[str, Any]) -> None:
    kms = server.client("kms")
    digest = hashlib.sha512(b"document").digest()
    pure = kms.sign(KeyId=ed25519_key["KeyId"], Message=digest, SigningAlgorithm="ED25519_SHA_512")["Signature"]
    ph, _ = sign_digest(server, ed25519_key, b"document")
    assert pure != ph and outside_is_valid(ed25519_key, digest, pure)
    with pytest.raises(ClientError) as exc:
        kms.verify(KeyId=ed25519_key["KeyId"], Message=digest, MessageType="DIGEST", Signature=pure,
                   SigningAlgorithm=ALGORITHM)
    assert exc.value.response["Error"]["Code"] == "KMSInvalidSignatureException"


@pytest.mark.parametrize("tamper", ["other digest", "flipped bit", "short signature"])
def test_a_bad_ed25519ph_signature_is_kms_invalid_signature_exception(
    server: Server, ed25519_key: dict[str, Any], tamper: str
) -> None:
    signature, _ = sign_digest(server, ed25519_key, b"one")
    message = hashlib.sha512(b"two" if tamper == "other digest" else b"one").digest()
    if tamper == "flipped bit":
        signature = signature[:-1] + bytes([signature[-1] ^ 1])
    elif tamper == "short signature":
        signature = signature[:-1]
    with pytest.raises(ClientError) as exc:
        server.client("kms").verify(KeyId=ed25519_key["KeyId"], Message=message, MessageType="DIGEST",
                                    Signature=signature, SigningAlgorithm=ALGORITHM)
    assert exc.value.response["Error"]["Code"] == "KMSInvalidSignatureException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
