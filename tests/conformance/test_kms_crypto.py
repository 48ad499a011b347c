"""Encrypt, Decrypt and data keys through boto3, including every way a decrypt must fail."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.support import Server


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


@pytest.fixture(scope="module")
def key(server: Server) -> dict[str, str]:
    return server.client("kms").create_key(Description="crypto tests")["KeyMetadata"]


def test_encrypt_decrypt_round_trip_without_key_id(server: Server, key: dict[str, str]) -> None:
    kms = server.client("kms")
    out = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"attack at dawn")
    assert out["KeyId"] == key["Arn"] and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"])
    assert back["Plaintext"] == b"attack at dawn"
    assert back["KeyId"] == key["Arn"]


def test_encrypt_by_key_arn_and_every_byte_value(server: Server, key: dict[str, str]) -> None:
    kms = server.client("kms")
    plaintext = bytes(range(256)) * 16  # 4096 bytes, the maximum
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=plaintext)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, KeyId=key["KeyId"])["Plaintext"] == plaintext


def test_plaintext_over_4096_bytes_is_a_validation_error(server: Server, key: dict[str, str]) -> None:
    with pytest.raises(ClientError) as exc:
        server.client("kms").encrypt(KeyId=key["KeyId"], Plaintext=b"x" * 4097)
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert "plaintext" in message and "4096" in message


def test_encryption_context_is_bound(server: Server, key: dict[str, str]) -> None:
    kms = server.client("kms")
    context = {"purpose": "test", "tenant": "a"}
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"s", EncryptionContext=context)["CiphertextBlob"]
    reordered = {"tenant": "a", "purpose": "test"}
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=reordered)["Plaintext"] == b"s"
    failures = []
    for wrong in ({}, {"purpose": "test"}, {"purpose": "test", "tenant": "b"}, {"Purpose": "test", "tenant": "a"}):
        with pytest.raises(ClientError) as exc:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=wrong)
        failures.append(error_of(exc))
    assert {code for code, _ in failures} == {"InvalidCiphertextException"}
    assert len({message for _, message in failures}) == 1


def test_tampered_ciphertext_fails_uniformly(server: Server, key: dict[str, str]) -> None:
    kms = server.client("kms")
    blob = bytearray(kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"])
    messages = set()
    for position in (0, 5, len(blob) // 2, len(blob) - 1):
        changed = bytearray(blob)
        changed[position] ^= 0x01
        with pytest.raises(ClientError) as exc:
            kms.decrypt(CiphertextBlob=bytes(changed))
        code, message = error_of(exc)
        assert code == "InvalidCiphertextException"
        messages.add(message)
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=bytes(blob[:20]))
    messages.add(error_of(exc)[1])
    assert len(messages) == 1


def test_decrypt_with_another_key_id_is_incorrect_key(server: Server, key: dict[str, str]) -> None:
    kms = server.client("kms")
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"s")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob, KeyId=other)
    assert error_of(exc)[0] == "IncorrectKeyException"


def test_generate_data_key_sizes_and_round_trip(server: Server, key: dict[str, str]) -> None:
    kms = server.client("kms")
    for spec, size in (("AES_256", 32), ("AES_128", 16)):
        out = kms.generate_data_key(KeyId=key["KeyId"], KeySpec=spec, EncryptionContext={"k": "v"})
        assert len(out["Plaintext"]) == size and out["KeyId"] == key["Arn"]
        back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"k": "v"})
        assert back["Plaintext"] == out["Plaintext"]
    out = kms.generate_data_key(KeyId=key["KeyId"], NumberOfBytes=7)
    assert len(out["Plaintext"]) == 7


def test_generate_data_key_needs_exactly_one_size(server: Server, key: dict[str, str]) -> None:
    kms = server.client("kms")
    for kwargs in ({}, {"KeySpec": "AES_256", "NumberOfBytes": 32}):
        with pytest.raises(ClientError) as exc:
            kms.generate_data_key(KeyId=key["KeyId"], **kwargs)
        assert error_of(exc)[0] == "ValidationException"


def test_generate_data_key_without_plaintext_returns_no_plaintext(server: Server, key: dict[str, str]) -> None:
    kms = server.client("kms")
    out = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], KeySpec="AES_256")
    assert "Plaintext" not in out
    assert len(kms.decrypt(CiphertextBlob=out["CiphertextBlob"])["Plaintext"]) == 32
