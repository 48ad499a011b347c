"""Sign and Verify through boto3 for every signing spec, checked outside the server with pyca."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding

from tests.support import Server

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


_KEYS: dict[str, dict[str, Any]] = {}


def signing_key(server: Server, key_spec: str) -> dict[str, Any]:
    """One key per spec for the whole module, with its public key parsed outside the server."""
    if key_spec not in _KEYS:
        kms = server.client("kms")
        key = kms.create_key(KeySpec=key_spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        key["public"] = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
        _KEYS[key_spec] = key
    return _KEYS[key_spec]


def verify_outside(public: Any, algorithm: str, message: bytes, signature: bytes) -> None:
    if algorithm.startswith("ECDSA_"):
        public.verify(signature, message, ec.ECDSA(HASHES[algorithm[-3:]]()))
    elif algorithm.startswith("RSASSA_PSS_"):
        digest = HASHES[algorithm[-3:]]()
        public.verify(signature, message, padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)
    elif algorithm.startswith("RSASSA_PKCS1_V1_5_"):
        public.verify(signature, message, padding.PKCS1v15(), HASHES[algorithm[-3:]]())
    else:  # Ed25519 and ML-DSA sign the message itself
        public.verify(signature, message)


SIGNING_CASES = [
    ("RSA_2048", "RSASSA_PSS_SHA_256"), ("RSA_2048", "RSASSA_PSS_SHA_384"), ("RSA_2048", "RSASSA_PSS_SHA_512"),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"), ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_384"),
    ("RSA_3072", "RSASSA_PKCS1_V1_5_SHA_512"),
    ("ECC_NIST_P256", "ECDSA_SHA_256"), ("ECC_NIST_P384", "ECDSA_SHA_384"), ("ECC_NIST_P521", "ECDSA_SHA_512"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256"), ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
    ("ML_DSA_44", "ML_DSA_SHAKE_256"), ("ML_DSA_65", "ML_DSA_SHAKE_256"), ("ML_DSA_87", "ML_DSA_SHAKE_256"),
]


@pytest.mark.parametrize(("key_spec", "algorithm"), SIGNING_CASES)
def test_a_raw_signature_verifies_outside_and_in_the_server(server: Server, key_spec: str, algorithm: str) -> None:
    kms = server.client("kms")
    key = signing_key(server, key_spec)
    message = b"the quick brown fox" * 200  # 3800 bytes, under the 4096-byte RAW limit
    out = kms.sign(KeyId=key["KeyId"], Message=message, SigningAlgorithm=algorithm)
    assert out["KeyId"] == key["Arn"] and out["SigningAlgorithm"] == algorithm
    verify_outside(key["public"], algorithm, message, out["Signature"])
    verified = kms.verify(KeyId=key["KeyId"], Message=message, Signature=out["Signature"], SigningAlgorithm=algorithm)
    assert verified["SignatureValid"] is True and verified["KeyId"] == key["Arn"]


@pytest.mark.parametrize(("key_spec", "algorithm"), [c for c in SIGNING_CASES if c[1].startswith(("RSASSA", "ECDSA"))])
def test_a_digest_signature_verifies_as_a_signature_of_the_message(
    server: Server, key_spec: str, algorithm: str
) -> None:
    kms = server.client("kms")
    key = signing_key(server, key_spec)
    digest = hashlib.new("sha" + algorithm[-3:], b"document").digest()
    out = kms.sign(KeyId=key["KeyId"], Message=digest, MessageType="DIGEST", SigningAlgorithm=algorithm)
    verify_outside(key["public"], algorithm, b"document", out["Signature"])
    assert kms.verify(KeyId=key["KeyId"], Message=b"document", MessageType="RAW",
                      Signature=out["Signature"], SigningAlgorithm=algorithm)["SignatureValid"]


def test_an_ml_dsa_external_mu_signature_is_a_signature_of_the_message(server: Server) -> None:
    kms = server.client("kms")
    key = signing_key(server, "ML_DSA_65")
    message = b"m" * 10_000  # too long for RAW; the caller hashes it into mu
    hasher = mldsa.MLDSAMuHasher(key["public"])
    hasher.update(message)
    mu = hasher.finalize()
    out = kms.sign(KeyId=key["KeyId"], Message=mu, MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")
    key["public"].verify(out["Signature"], message)
    assert kms.verify(KeyId=key["KeyId"], Message=mu, MessageType="EXTERNAL_MU", Signature=out["Signature"],
                      SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"]


@pytest.mark.parametrize(("key_spec", "algorithm"), [("RSA_2048", "RSASSA_PSS_SHA_256"), ("ECC_NIST_P256", "ECDSA_SHA_256"),
                                                     ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"), ("ML_DSA_44", "ML_DSA_SHAKE_256")])
def test_a_bad_signature_is_kms_invalid_signature_exception(server: Server, key_spec: str, algorithm: str) -> None:
    kms = server.client("kms")
    key = signing_key(server, key_spec)
    signature = kms.sign(KeyId=key["KeyId"], Message=b"one", SigningAlgorithm=algorithm)["Signature"]
    for message, bad in ((b"two", signature), (b"one", signature[:-1] + bytes([signature[-1] ^ 1]))):
        with pytest.raises(ClientError) as exc:
            kms.verify(KeyId=key["KeyId"], Message=message, Signature=bad, SigningAlgorithm=algorithm)
        assert error_of(exc)[0] == "KMSInvalidSignatureException"


@pytest.mark.parametrize(
    ("key_spec", "algorithm", "size"),
    [("ECC_NIST_P256", "ECDSA_SHA_256", 20), ("RSA_2048", "RSASSA_PSS_SHA_384", 32), ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", 64),
     ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", 32)],
)
def test_a_digest_of_the_wrong_length_is_a_validation_error(
    server: Server, key_spec: str, algorithm: str, size: int
) -> None:
    key = signing_key(server, key_spec)
    with pytest.raises(ClientError) as exc:
        server.client("kms").sign(KeyId=key["KeyId"], Message=b"d" * size, MessageType="DIGEST", SigningAlgorithm=algorithm)
    assert error_of(exc) == ("ValidationException", f"Digest is invalid length for algorithm {algorithm}.")


@pytest.mark.parametrize(
    ("key_spec", "algorithm", "message_type"),
    [("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "DIGEST"), ("ML_DSA_44", "ML_DSA_SHAKE_256", "DIGEST"),
     ("ECC_NIST_P256", "ECDSA_SHA_256", "EXTERNAL_MU"), ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", "RAW")],
)
def test_a_message_type_the_algorithm_does_not_take_is_a_validation_error(
    server: Server, key_spec: str, algorithm: str, message_type: str
) -> None:
    key = signing_key(server, key_spec)
    with pytest.raises(ClientError) as exc:
        server.client("kms").sign(KeyId=key["KeyId"], Message=b"x" * 64, MessageType=message_type, SigningAlgorithm=algorithm)
    assert error_of(exc) == ("ValidationException", f"Message type {message_type} is incompatible with algorithm {algorithm}.")


@pytest.mark.parametrize(("key_spec", "algorithm"), [("ECC_NIST_P256", "ECDSA_SHA_384"), ("RSA_2048", "ECDSA_SHA_256"),
                                                     ("ECC_NIST_P256", "RSASSA_PSS_SHA_256")])
def test_an_algorithm_the_key_spec_does_not_support_is_invalid_key_usage(
    server: Server, key_spec: str, algorithm: str
) -> None:
    key = signing_key(server, key_spec)
    for call in ("sign", "verify"):
        kwargs: dict[str, Any] = {"KeyId": key["KeyId"], "Message": b"m", "SigningAlgorithm": algorithm}
        if call == "verify":
            kwargs["Signature"] = b"s" * 64
        with pytest.raises(ClientError) as exc:
            getattr(server.client("kms"), call)(**kwargs)
        assert error_of(exc) == ("InvalidKeyUsageException", f"Algorithm {algorithm} is incompatible with key spec {key_spec}.")


@pytest.mark.parametrize(("key_spec", "key_usage"), [("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), ("HMAC_256", "GENERATE_VERIFY_MAC"),
                                                     ("RSA_2048", "ENCRYPT_DECRYPT")])
def test_signing_with_a_key_of_another_usage_is_invalid_key_usage(server: Server, key_spec: str, key_usage: str) -> None:
    kms = server.client("kms")
    key = kms.create_key(KeySpec=key_spec, KeyUsage=key_usage)["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert error_of(exc) == ("InvalidKeyUsageException", f"{key['Arn']} key usage is {key_usage} which is not valid for Sign.")


def test_dry_run_sign_and_verify_validate_then_answer_dry_run_operation(server: Server) -> None:
    kms = server.client("kms")
    key = signing_key(server, "ECC_NIST_P256")
    signature = kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    for call in (
        lambda **kw: kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256", **kw),
        lambda **kw: kms.verify(KeyId=key["KeyId"], Message=b"m", Signature=signature, SigningAlgorithm="ECDSA_SHA_256", **kw),
    ):
        with pytest.raises(ClientError) as exc:
            call(DryRun=True)
        assert error_of(exc) == (
            "DryRunOperationException", "The request would have succeeded, but the DryRun option is set."
        )
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_384", DryRun=True)
    assert error_of(exc)[0] == "InvalidKeyUsageException"


def test_a_key_policy_condition_on_the_signing_algorithm_is_enforced(server: Server) -> None:
    import json

    kms = server.client("kms")
    root = server.accounts[0].arn
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:Sign", "Resource": "*",
         "Condition": {"StringEquals": {"kms:MessageType": "DIGEST"}}},
    ]})
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Policy=policy)["KeyMetadata"]
    kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    with pytest.raises(ClientError) as exc:
        kms.sign(KeyId=key["KeyId"], Message=b"d" * 32, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    assert error_of(exc)[0] == "AccessDeniedException"
