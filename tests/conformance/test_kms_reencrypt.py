"""ReEncrypt through boto3: symmetric and RSA keys both ways, contexts, algorithms, the two
permissions (kms:ReEncryptFrom / kms:ReEncryptTo) and kms:ReEncryptOnSameKey, and DryRun."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import Server


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def policy_denying(server: Server, action: str, condition: dict[str, Any] | None = None) -> str:
    root = server.accounts[0].arn
    deny: dict[str, Any] = {"Effect": "Deny", "Principal": {"AWS": root}, "Action": action, "Resource": "*"}
    if condition:
        deny["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}, deny,
    ]})


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, dict[str, Any]]:
    kms = server.client("kms")
    return {
        "a": kms.create_key()["KeyMetadata"],
        "b": kms.create_key()["KeyMetadata"],
        "rsa": kms.create_key(KeySpec="RSA_3072", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"],
    }


def test_symmetric_to_symmetric_moves_the_ciphertext_and_its_context(
    server: Server, keys: dict[str, dict[str, Any]]
) -> None:
    kms = server.client("kms")
    blob = kms.encrypt(KeyId=keys["a"]["KeyId"], Plaintext=b"payload", EncryptionContext={"v": "1"})["CiphertextBlob"]
    out = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"v": "1"},
                         DestinationKeyId=keys["b"]["KeyId"], DestinationEncryptionContext={"v": "2"})
    assert out["SourceKeyId"] == keys["a"]["Arn"] and out["KeyId"] == keys["b"]["Arn"]
    assert out["SourceEncryptionAlgorithm"] == out["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"v": "2"})
    assert back["Plaintext"] == b"payload" and back["KeyId"] == keys["b"]["Arn"]
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=keys["b"]["KeyId"])
    assert error_of(exc)[0] == "InvalidCiphertextException"


def test_symmetric_to_rsa_and_back_again(server: Server, keys: dict[str, dict[str, Any]]) -> None:
    kms = server.client("kms")
    blob = kms.encrypt(KeyId=keys["a"]["KeyId"], Plaintext=b"round trip")["CiphertextBlob"]
    to_rsa = kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=keys["rsa"]["KeyId"],
                            DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert to_rsa["DestinationEncryptionAlgorithm"] == "RSAES_OAEP_SHA_256" and len(to_rsa["CiphertextBlob"]) == 384
    back = kms.re_encrypt(CiphertextBlob=to_rsa["CiphertextBlob"], SourceKeyId=keys["rsa"]["KeyId"],
                          SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256", DestinationKeyId=keys["b"]["Arn"])
    assert back["SourceKeyId"] == keys["rsa"]["Arn"] and back["SourceEncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    assert kms.decrypt(CiphertextBlob=back["CiphertextBlob"])["Plaintext"] == b"round trip"


def test_an_rsa_source_needs_its_key_id(server: Server, keys: dict[str, dict[str, Any]]) -> None:
    kms = server.client("kms")
    blob = kms.encrypt(KeyId=keys["rsa"]["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=keys["a"]["KeyId"])
    assert error_of(exc)[0] == "InvalidCiphertextException"


def test_naming_the_wrong_source_key_is_incorrect_key(server: Server, keys: dict[str, dict[str, Any]]) -> None:
    kms = server.client("kms")
    blob = kms.encrypt(KeyId=keys["a"]["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=blob, SourceKeyId=keys["b"]["KeyId"], DestinationKeyId=keys["b"]["KeyId"])
    assert error_of(exc)[0] == "IncorrectKeyException"


def test_re_encrypt_to_needs_its_own_permission_on_the_destination(
    server: Server, keys: dict[str, dict[str, Any]]
) -> None:
    kms = server.client("kms")
    locked = kms.create_key(Policy=policy_denying(server, "kms:ReEncryptTo"))["KeyMetadata"]
    blob = kms.encrypt(KeyId=keys["a"]["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=locked["KeyId"])
    code, message = error_of(exc)
    assert code == "AccessDeniedException" and "kms:ReEncryptTo" in message and locked["Arn"] in message
    # The same key may still be a source: only ReEncryptTo is denied.
    own = kms.encrypt(KeyId=locked["KeyId"], Plaintext=b"y")["CiphertextBlob"]
    assert kms.re_encrypt(CiphertextBlob=own, DestinationKeyId=keys["a"]["KeyId"])["KeyId"] == keys["a"]["Arn"]


def test_re_encrypt_from_is_checked_on_the_source_and_same_key_is_a_condition(server: Server) -> None:
    kms = server.client("kms")
    no_from = kms.create_key(Policy=policy_denying(server, "kms:ReEncryptFrom"))["KeyMetadata"]
    blob = kms.encrypt(KeyId=no_from["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=no_from["KeyId"])
    assert error_of(exc)[0] == "AccessDeniedException" and "kms:ReEncryptFrom" in error_of(exc)[1]
    same = kms.create_key(Policy=policy_denying(
        server, "kms:ReEncrypt*", {"Bool": {"kms:ReEncryptOnSameKey": "true"}}
    ))["KeyMetadata"]
    other = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=same["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=same["KeyId"])
    assert error_of(exc)[0] == "AccessDeniedException"
    assert kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=other["KeyId"])["KeyId"] == other["Arn"]


def test_dry_run_re_encrypt_answers_dry_run_operation(server: Server, keys: dict[str, dict[str, Any]]) -> None:
    kms = server.client("kms")
    blob = kms.encrypt(KeyId=keys["a"]["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=keys["b"]["KeyId"], DryRun=True)
    assert error_of(exc) == ("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=b"garbage", SourceKeyId=keys["a"]["KeyId"], DestinationKeyId=keys["b"]["KeyId"],
                       DryRun=True, DryRunModifiers=["IGNORE_CIPHERTEXT"])
    assert error_of(exc)[0] == "DryRunOperationException"


def test_dry_run_encrypt_and_decrypt_answer_dry_run_operation(server: Server, keys: dict[str, dict[str, Any]]) -> None:
    kms = server.client("kms")
    blob = kms.encrypt(KeyId=keys["a"]["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    calls = [
        lambda: kms.encrypt(KeyId=keys["a"]["KeyId"], Plaintext=b"x", DryRun=True),
        lambda: kms.decrypt(CiphertextBlob=blob, DryRun=True),
        lambda: kms.decrypt(CiphertextBlob=b"ignored", KeyId=keys["a"]["KeyId"], DryRun=True,
                            DryRunModifiers=["IGNORE_CIPHERTEXT"]),
        lambda: kms.generate_data_key(KeyId=keys["a"]["KeyId"], KeySpec="AES_256", DryRun=True),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc)[0] == "DryRunOperationException"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=b"garbage", DryRun=True)
    assert error_of(exc)[0] == "InvalidCiphertextException"
