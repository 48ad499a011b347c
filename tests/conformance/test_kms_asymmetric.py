"""Asymmetric KMS keys through boto3: every spec, DescribeKey/GetPublicKey, RSA-OAEP, ECDH,
GenerateRandom and the errors; public keys and secrets cross-checked with pyca outside the server."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa

from tests.support import Server, kms_request

RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
RSA_SIGNING = [
    "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
]


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def create(server: Server, key_spec: str, key_usage: str) -> dict[str, Any]:
    return server.client("kms").create_key(KeySpec=key_spec, KeyUsage=key_usage)["KeyMetadata"]


@pytest.fixture(scope="module")
def rsa_encryption_key(server: Server) -> dict[str, Any]:
    return create(server, "RSA_2048", "ENCRYPT_DECRYPT")


@pytest.mark.parametrize(
    ("key_spec", "key_usage", "field", "algorithms"),
    [
        ("RSA_3072", "ENCRYPT_DECRYPT", "EncryptionAlgorithms", RSA_ENCRYPTION),
        ("RSA_4096", "SIGN_VERIFY", "SigningAlgorithms", RSA_SIGNING),
        ("ECC_NIST_P256", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_256"]),
        ("ECC_NIST_P384", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_384"]),
        ("ECC_NIST_P521", "KEY_AGREEMENT", "KeyAgreementAlgorithms", ["ECDH"]),
        ("ECC_SECG_P256K1", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_256"]),
        ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", "SigningAlgorithms", ["ED25519_SHA_512", "ED25519_PH_SHA_512"]),
        ("ML_DSA_44", "SIGN_VERIFY", "SigningAlgorithms", ["ML_DSA_SHAKE_256"]),
        ("HMAC_384", "GENERATE_VERIFY_MAC", "MacAlgorithms", ["HMAC_SHA_384"]),
    ],
)
def test_describe_key_lists_the_algorithms_of_each_spec_and_usage(
    server: Server, key_spec: str, key_usage: str, field: str, algorithms: list[str]
) -> None:
    key = create(server, key_spec, key_usage)
    assert key["KeySpec"] == key_spec and key["KeyUsage"] == key_usage and key["KeyState"] == "Enabled"
    described = server.client("kms").describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert described[field] == algorithms
    others = {"EncryptionAlgorithms", "SigningAlgorithms", "MacAlgorithms", "KeyAgreementAlgorithms"} - {field}
    assert not others & set(described)


@pytest.mark.parametrize(
    ("key_spec", "key_usage", "check"),
    [
        ("RSA_4096", "SIGN_VERIFY", lambda k: isinstance(k, rsa.RSAPublicKey) and k.key_size == 4096),
        ("ECC_NIST_P521", "KEY_AGREEMENT", lambda k: isinstance(k, ec.EllipticCurvePublicKey) and k.curve.name == "secp521r1"),
        ("ECC_SECG_P256K1", "SIGN_VERIFY", lambda k: isinstance(k, ec.EllipticCurvePublicKey) and k.curve.name == "secp256k1"),
        ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", lambda k: isinstance(k, ed25519.Ed25519PublicKey)),
        ("ML_DSA_87", "SIGN_VERIFY", lambda k: isinstance(k, mldsa.MLDSA87PublicKey)),
    ],
)
def test_get_public_key_returns_a_der_subject_public_key_info_of_the_spec(
    server: Server, key_spec: str, key_usage: str, check: Any
) -> None:
    key = create(server, key_spec, key_usage)
    out = server.client("kms").get_public_key(KeyId=key["KeyId"])
    assert check(serialization.load_der_public_key(out["PublicKey"]))
    assert out["KeyId"] == key["Arn"] and out["KeySpec"] == key_spec and out["KeyUsage"] == key_usage


def test_get_public_key_of_an_rsa_encryption_key_lists_its_algorithms(
    server: Server, rsa_encryption_key: dict[str, Any]
) -> None:
    out = server.client("kms").get_public_key(KeyId=rsa_encryption_key["Arn"])
    assert out["EncryptionAlgorithms"] == RSA_ENCRYPTION and out["CustomerMasterKeySpec"] == "RSA_2048"
    assert "SigningAlgorithms" not in out


def test_get_public_key_of_a_symmetric_key_is_unsupported(server: Server) -> None:
    key = server.client("kms").create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        server.client("kms").get_public_key(KeyId=key["KeyId"])
    assert error_of(exc)[0] == "UnsupportedOperationException"


@pytest.mark.parametrize("algorithm", RSA_ENCRYPTION)
def test_rsa_ciphertext_made_outside_with_the_public_key_decrypts_with_the_key_id(
    server: Server, rsa_encryption_key: dict[str, Any], algorithm: str
) -> None:
    kms = server.client("kms")
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=rsa_encryption_key["KeyId"])["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey)
    digest = hashes.SHA1() if algorithm.endswith("_1") else hashes.SHA256()
    ciphertext = public.encrypt(b"outside", padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None))
    out = kms.decrypt(CiphertextBlob=ciphertext, KeyId=rsa_encryption_key["KeyId"], EncryptionAlgorithm=algorithm)
    assert out["Plaintext"] == b"outside" and out["EncryptionAlgorithm"] == algorithm
    assert out["KeyId"] == rsa_encryption_key["Arn"]


def test_rsa_encrypt_round_trips_and_the_ciphertext_needs_its_key_id(
    server: Server, rsa_encryption_key: dict[str, Any]
) -> None:
    kms = server.client("kms")
    out = kms.encrypt(KeyId=rsa_encryption_key["KeyId"], Plaintext=b"p", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert out["EncryptionAlgorithm"] == "RSAES_OAEP_SHA_256" and len(out["CiphertextBlob"]) == 256
    back = kms.decrypt(
        CiphertextBlob=out["CiphertextBlob"], KeyId=rsa_encryption_key["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )
    assert back["Plaintext"] == b"p"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=out["CiphertextBlob"])
    assert error_of(exc)[0] == "InvalidCiphertextException"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=out["CiphertextBlob"], KeyId=rsa_encryption_key["KeyId"],
                    EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert error_of(exc)[0] == "InvalidCiphertextException"


@pytest.mark.parametrize(("algorithm", "limit"), [("RSAES_OAEP_SHA_1", 214), ("RSAES_OAEP_SHA_256", 190)])
def test_rsa_plaintext_is_limited_by_key_size_and_padding(
    server: Server, rsa_encryption_key: dict[str, Any], algorithm: str, limit: int
) -> None:
    kms = server.client("kms")
    kms.encrypt(KeyId=rsa_encryption_key["KeyId"], Plaintext=b"x" * limit, EncryptionAlgorithm=algorithm)
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=rsa_encryption_key["KeyId"], Plaintext=b"x" * (limit + 1), EncryptionAlgorithm=algorithm)
    assert error_of(exc)[0] == "ValidationException"


def test_rsa_encrypt_without_an_algorithm_or_with_a_context_is_refused(
    server: Server, rsa_encryption_key: dict[str, Any]
) -> None:
    kms = server.client("kms")
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=rsa_encryption_key["KeyId"], Plaintext=b"p")
    assert error_of(exc) == (
        "InvalidKeyUsageException", "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
    )
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=rsa_encryption_key["KeyId"], Plaintext=b"p", EncryptionAlgorithm="RSAES_OAEP_SHA_1",
                    EncryptionContext={"a": "b"})
    assert error_of(exc)[0] == "ValidationException"


def test_a_key_used_outside_its_usage_names_the_usage_and_operation(server: Server) -> None:
    key = create(server, "RSA_2048", "SIGN_VERIFY")
    with pytest.raises(ClientError) as exc:
        server.client("kms").encrypt(KeyId=key["KeyId"], Plaintext=b"p", EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert error_of(exc) == (
        "InvalidKeyUsageException", f"{key['Arn']} key usage is SIGN_VERIFY which is not valid for Encrypt."
    )


@pytest.mark.parametrize("operation", ["generate_data_key", "generate_data_key_without_plaintext"])
def test_data_keys_cannot_come_from_an_asymmetric_key(
    server: Server, rsa_encryption_key: dict[str, Any], operation: str
) -> None:
    with pytest.raises(ClientError) as exc:
        getattr(server.client("kms"), operation)(KeyId=rsa_encryption_key["KeyId"], KeySpec="AES_256")
    assert error_of(exc) == ("InvalidKeyUsageException", "You cannot generate a data key with an asymmetric CMK")


@pytest.mark.parametrize(("key_spec", "curve"), [("ECC_NIST_P256", ec.SECP256R1()), ("ECC_NIST_P384", ec.SECP384R1())])
def test_derive_shared_secret_matches_ecdh_computed_by_the_peer(server: Server, key_spec: str, curve: Any) -> None:
    kms = server.client("kms")
    key = create(server, key_spec, "KEY_AGREEMENT")
    peer = ec.generate_private_key(curve)
    peer_der = peer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    out = kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer_der)
    ours = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    assert isinstance(ours, ec.EllipticCurvePublicKey)
    assert out["SharedSecret"] == peer.exchange(ec.ECDH(), ours)
    assert out["KeyId"] == key["Arn"] and out["KeyAgreementAlgorithm"] == "ECDH" and out["KeyOrigin"] == "AWS_KMS"


def test_derive_shared_secret_refuses_a_key_on_another_curve_and_a_signing_key(server: Server) -> None:
    kms = server.client("kms")
    key = create(server, "ECC_NIST_P256", "KEY_AGREEMENT")
    other = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ClientError) as exc:
        kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=other)
    assert error_of(exc)[0] == "ValidationException"
    signing = create(server, "ECC_NIST_P256", "SIGN_VERIFY")
    with pytest.raises(ClientError) as exc:
        kms.derive_shared_secret(KeyId=signing["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=other)
    assert error_of(exc)[0] == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as exc:
        kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=other, DryRun=True)
    assert error_of(exc)[0] == "ValidationException"


@pytest.mark.parametrize(
    ("key_spec", "key_usage", "code"),
    [
        ("SM2", "SIGN_VERIFY", "UnsupportedOperationException"),
        ("ML_KEM_768", "ENCAPSULATE_DECAPSULATE", "UnsupportedOperationException"),
        ("ECC_SECG_P256K1", "KEY_AGREEMENT", "ValidationException"),
        ("HMAC_256", "SIGN_VERIFY", "ValidationException"),
    ],
)
def test_create_key_refuses_unsupported_and_invalid_spec_usage_pairs(
    server: Server, key_spec: str, key_usage: str, code: str
) -> None:
    with pytest.raises(ClientError) as exc:
        server.client("kms").create_key(KeySpec=key_spec, KeyUsage=key_usage)
    assert error_of(exc)[0] == code


def test_disabled_asymmetric_keys_refuse_use_and_public_key(server: Server) -> None:
    kms = server.client("kms")
    key = create(server, "ECC_NIST_P256", "SIGN_VERIFY")
    kms.disable_key(KeyId=key["KeyId"])
    for call in (
        lambda: kms.get_public_key(KeyId=key["KeyId"]),
        lambda: kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("DisabledException", f"{key['Arn']} is disabled.")


def test_generate_random_returns_the_requested_number_of_fresh_bytes(server: Server) -> None:
    kms = server.client("kms")
    first = kms.generate_random(NumberOfBytes=1024)["Plaintext"]
    assert len(first) == 1024 and first != kms.generate_random(NumberOfBytes=1024)["Plaintext"]
    assert len(kms.generate_random(NumberOfBytes=1)["Plaintext"]) == 1
    for bad in (0, 1025):
        # boto3 would refuse these itself; send them raw to see the server's answer.
        response = kms_request(server, server.accounts[0], "GenerateRandom", {"NumberOfBytes": bad})
        assert response.status_code == 400 and response.json()["__type"] == "ValidationException"
