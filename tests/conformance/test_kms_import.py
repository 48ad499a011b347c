"""Imported key material (Origin EXTERNAL) through boto3 against a live server.

The client side of the wrapping is done with `cryptography` directly, as a customer would.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from tests.support import Account, Server


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def wrap(public_der: bytes, algorithm: str, material: bytes) -> bytes:
    public = serialization.load_der_public_key(public_der)
    digest = hashes.SHA256 if algorithm.endswith("256") else hashes.SHA1
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=digest()), algorithm=digest(), label=None)
    if algorithm.startswith("RSAES_OAEP"):
        return public.encrypt(material, oaep)  # type: ignore[union-attr]
    aes_key = os.urandom(32)
    return public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("import-owner")


def import_into(kms, key_id: str, material: bytes, algorithm: str = "RSAES_OAEP_SHA_256", spec: str = "RSA_2048", **kw):
    params = kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=spec)
    return kms.import_key_material(
        KeyId=key_id, ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrap(params["PublicKey"], algorithm, material), **kw,
    )


def test_external_key_waits_for_import_then_works(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    assert meta["Origin"] == "EXTERNAL" and meta["KeyState"] == "PendingImport" and meta["Enabled"] is False
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")
    assert error_of(exc) == ("KMSInvalidStateException", f"{meta['Arn']} is pending import.")
    params = kms.get_parameters_for_import(
        KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    assert params["KeyId"] == meta["Arn"]
    assert abs(params["ParametersValidTo"] - (datetime.now(timezone.utc) + timedelta(hours=24))) < timedelta(minutes=1)
    material = os.urandom(32)
    imported = kms.import_key_material(
        KeyId=meta["KeyId"], ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrap(params["PublicKey"], "RSAES_OAEP_SHA_256", material),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert imported["KeyId"] == meta["Arn"] and len(imported["KeyMaterialId"]) == 64
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "Enabled" and described["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"


@pytest.mark.parametrize(
    ("algorithm", "spec"),
    [("RSAES_OAEP_SHA_1", "RSA_3072"), ("RSA_AES_KEY_WRAP_SHA_1", "RSA_2048"), ("RSA_AES_KEY_WRAP_SHA_256", "RSA_2048")],
)
def test_every_supported_wrapping_algorithm_imports(server: Server, owner: Account, algorithm: str, spec: str) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    import_into(kms, key_id, os.urandom(32), algorithm, spec)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"


def test_delete_and_reimport_only_the_same_material(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    material = os.urandom(32)
    material_id = import_into(kms, key_id, material)["KeyMaterialId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"kept")["CiphertextBlob"]
    deleted = kms.delete_imported_key_material(KeyId=key_id)
    assert deleted["KeyMaterialId"] == material_id
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingImport"
    with pytest.raises(ClientError) as exc:
        import_into(kms, key_id, os.urandom(32))
    assert error_of(exc)[0] == "IncorrectKeyMaterialException"
    assert import_into(kms, key_id, material)["KeyMaterialId"] == material_id
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"


def test_import_token_is_bound_to_its_key(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    first = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    second = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    params = kms.get_parameters_for_import(KeyId=first, WrappingAlgorithm="RSAES_OAEP_SHA_1", WrappingKeySpec="RSA_2048")
    encrypted = wrap(params["PublicKey"], "RSAES_OAEP_SHA_1", os.urandom(32))
    with pytest.raises(ClientError) as exc:
        kms.import_key_material(KeyId=second, ImportToken=params["ImportToken"], EncryptedKeyMaterial=encrypted)
    assert error_of(exc)[0] == "InvalidImportTokenException"
    with pytest.raises(ClientError) as exc:
        kms.import_key_material(KeyId=first, ImportToken=b"garbage" * 10, EncryptedKeyMaterial=encrypted)
    assert error_of(exc)[0] == "InvalidImportTokenException"
    with pytest.raises(ClientError) as exc:
        kms.import_key_material(KeyId=first, ImportToken=params["ImportToken"], EncryptedKeyMaterial=b"\x00" * 256)
    assert error_of(exc)[0] == "InvalidCiphertextException"
    assert kms.describe_key(KeyId=first)["KeyMetadata"]["KeyState"] == "PendingImport"


def test_expiring_material_needs_a_valid_to_in_the_future(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        import_into(kms, key_id, os.urandom(32), ExpirationModel="KEY_MATERIAL_EXPIRES")
    assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        import_into(kms, key_id, os.urandom(32), ValidTo=datetime.now(timezone.utc) - timedelta(days=1))
    assert error_of(exc)[0] == "ValidationException"
    valid_to = (datetime.now(timezone.utc) + timedelta(days=10)).replace(microsecond=0)
    import_into(kms, key_id, os.urandom(32), ValidTo=valid_to, ExpirationModel="KEY_MATERIAL_EXPIRES")
    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert described["ValidTo"] == valid_to and described["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"


def test_import_operations_refuse_keys_kms_generated(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key()["KeyMetadata"]
    for call in (
        lambda: kms.get_parameters_for_import(KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                              WrappingKeySpec="RSA_2048"),
        lambda: kms.delete_imported_key_material(KeyId=meta["KeyId"]),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == (
            "UnsupportedOperationException", f"{meta['Arn']} origin is AWS_KMS which is not valid for this operation."
        )


def test_pending_deletion_refuses_get_parameters_for_import(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    meta = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        kms.get_parameters_for_import(KeyId=meta["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                      WrappingKeySpec="RSA_2048")
    assert error_of(exc) == ("KMSInvalidStateException", f"{meta['Arn']} is pending deletion.")
