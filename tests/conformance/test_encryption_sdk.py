"""The AWS Encryption SDK for Python encrypts and decrypts through Keystead as its KMS: its KMS
master key provider calls GenerateDataKey, Encrypt and Decrypt on a boto3 client pointed at us."""

from __future__ import annotations

from typing import Any

import aws_encryption_sdk
import botocore.session
import pytest
from aws_encryption_sdk.identifiers import CommitmentPolicy
from aws_encryption_sdk.key_providers.kms import StrictAwsKmsMasterKeyProvider

from tests.support import Server


@pytest.fixture(autouse=True)
def kms_endpoint(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK creates its own regional KMS clients; botocore's service-specific endpoint
    # variable is the documented way to point every one of them at Keystead.
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", server.endpoint)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)


def provider(server: Server, *key_arns: str) -> StrictAwsKmsMasterKeyProvider:
    account = server.accounts[0]
    session = botocore.session.Session()
    session.set_credentials(account.access_key_id, account.secret_access_key)
    return StrictAwsKmsMasterKeyProvider(key_ids=list(key_arns), botocore_session=session)


@pytest.fixture(scope="module")
def key_arns(server: Server) -> list[str]:
    kms = server.client("kms")
    return [kms.create_key(Description=f"esdk {n}")["KeyMetadata"]["Arn"] for n in range(2)]


def test_a_message_encrypted_through_keystead_decrypts_through_keystead(server: Server, key_arns: list[str]) -> None:
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    plaintext = b"a message for the encryption sdk" * 100
    context = {"tenant": "alpha"}
    ciphertext, header = client.encrypt(
        source=plaintext, key_provider=provider(server, *key_arns), encryption_context=context
    )
    assert ciphertext != plaintext
    assert {key.key_provider.key_info.decode() for key in header.encrypted_data_keys} == set(key_arns)
    decrypted, decrypt_header = client.decrypt(source=ciphertext, key_provider=provider(server, key_arns[1]))
    assert decrypted == plaintext
    assert decrypt_header.encryption_context["tenant"] == "alpha"


def test_a_provider_without_the_messages_keys_cannot_decrypt(server: Server, key_arns: list[str]) -> None:
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    ciphertext, _ = client.encrypt(source=b"secret", key_provider=provider(server, key_arns[0]))
    other: Any = server.client("kms").create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(aws_encryption_sdk.exceptions.DecryptKeyError):
        client.decrypt(source=ciphertext, key_provider=provider(server, other))
