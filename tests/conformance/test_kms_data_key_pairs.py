"""GenerateDataKeyPair(WithoutPlaintext) through boto3: the pair is checked with pyca outside the
server, and the sealed private key decrypts (with its encryption context) to the same key."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.support import Server


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


@pytest.fixture(scope="module")
def wrapping_key(server: Server) -> dict[str, Any]:
    return server.client("kms").create_key(Description="wraps data key pairs")["KeyMetadata"]


def public_der(private: Any) -> bytes:
    return bytes(private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ))


@pytest.mark.parametrize(
    ("pair_spec", "kind"),
    [("RSA_2048", rsa.RSAPrivateKey), ("RSA_4096", rsa.RSAPrivateKey), ("ECC_NIST_P256", ec.EllipticCurvePrivateKey),
     ("ECC_NIST_P521", ec.EllipticCurvePrivateKey), ("ECC_SECG_P256K1", ec.EllipticCurvePrivateKey),
     ("ECC_NIST_EDWARDS25519", ed25519.Ed25519PrivateKey)],
)
def test_a_data_key_pair_is_a_matching_pkcs8_private_key_and_spki_public_key(
    server: Server, wrapping_key: dict[str, Any], pair_spec: str, kind: type
) -> None:
    kms = server.client("kms")
    context = {"purpose": "pair"}
    out = kms.generate_data_key_pair(KeyId=wrapping_key["KeyId"], KeyPairSpec=pair_spec, EncryptionContext=context)
    assert out["KeyId"] == wrapping_key["Arn"] and out["KeyPairSpec"] == pair_spec
    private = serialization.load_der_private_key(out["PrivateKeyPlaintext"], password=None)
    assert isinstance(private, kind)
    assert public_der(private) == out["PublicKey"]
    opened = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext=context)
    assert opened["Plaintext"] == out["PrivateKeyPlaintext"] and opened["KeyId"] == wrapping_key["Arn"]
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"])
    assert error_of(exc)[0] == "InvalidCiphertextException"


def test_without_plaintext_the_private_key_is_only_sealed(server: Server, wrapping_key: dict[str, Any]) -> None:
    kms = server.client("kms")
    out = kms.generate_data_key_pair_without_plaintext(KeyId=wrapping_key["KeyId"], KeyPairSpec="ECC_NIST_P384")
    assert "PrivateKeyPlaintext" not in out
    private = serialization.load_der_private_key(
        kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"])["Plaintext"], password=None
    )
    assert public_der(private) == out["PublicKey"]


def test_every_call_makes_a_new_pair(server: Server, wrapping_key: dict[str, Any]) -> None:
    kms = server.client("kms")
    keys = {kms.generate_data_key_pair(KeyId=wrapping_key["KeyId"], KeyPairSpec="ECC_NIST_P256")["PublicKey"]
            for _ in range(3)}
    assert len(keys) == 3


def test_an_asymmetric_kms_key_cannot_wrap_a_data_key_pair(server: Server) -> None:
    kms = server.client("kms")
    key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.generate_data_key_pair(KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256")
    assert error_of(exc)[0] == "InvalidKeyUsageException"


def test_sm2_data_key_pairs_are_unsupported(server: Server, wrapping_key: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        server.client("kms").generate_data_key_pair(KeyId=wrapping_key["KeyId"], KeyPairSpec="SM2")
    assert error_of(exc)[0] == "UnsupportedOperationException"


def test_dry_run_answers_dry_run_operation_and_a_condition_on_the_pair_spec_applies(server: Server) -> None:
    import json

    kms = server.client("kms")
    root = server.accounts[0].arn
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:GenerateDataKeyPair*", "Resource": "*",
         "Condition": {"StringLike": {"kms:DataKeyPairSpec": "RSA_*"}}},
    ]})
    key = kms.create_key(Policy=policy)["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.generate_data_key_pair(KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256", DryRun=True)
    assert error_of(exc)[0] == "DryRunOperationException"
    with pytest.raises(ClientError) as exc:
        kms.generate_data_key_pair_without_plaintext(KeyId=key["KeyId"], KeyPairSpec="RSA_2048", DryRun=True)
    assert error_of(exc)[0] == "AccessDeniedException"
