"""GenerateMac and VerifyMac through boto3 for every HMAC key spec."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import Server

SPECS = [("HMAC_224", 28), ("HMAC_256", 32), ("HMAC_384", 48), ("HMAC_512", 64)]


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def hmac_key(server: Server, key_spec: str) -> dict[str, Any]:
    return server.client("kms").create_key(KeySpec=key_spec, KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]


@pytest.mark.parametrize(("key_spec", "size"), SPECS)
def test_a_mac_is_deterministic_of_the_hash_size_and_verifies(server: Server, key_spec: str, size: int) -> None:
    kms = server.client("kms")
    key = hmac_key(server, key_spec)
    algorithm = "HMAC_SHA_" + key_spec[5:]
    out = kms.generate_mac(KeyId=key["KeyId"], Message=b"message", MacAlgorithm=algorithm)
    assert len(out["Mac"]) == size and out["MacAlgorithm"] == algorithm and out["KeyId"] == key["Arn"]
    assert kms.generate_mac(KeyId=key["Arn"], Message=b"message", MacAlgorithm=algorithm)["Mac"] == out["Mac"]
    assert kms.generate_mac(KeyId=key["KeyId"], Message=b"other", MacAlgorithm=algorithm)["Mac"] != out["Mac"]
    verified = kms.verify_mac(KeyId=key["KeyId"], Message=b"message", Mac=out["Mac"], MacAlgorithm=algorithm)
    assert verified["MacValid"] is True and verified["KeyId"] == key["Arn"]


def test_two_hmac_keys_of_one_spec_give_different_macs(server: Server) -> None:
    kms = server.client("kms")
    macs = {
        kms.generate_mac(KeyId=hmac_key(server, "HMAC_256")["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
        for _ in range(2)
    }
    assert len(macs) == 2


def test_a_wrong_mac_is_kms_invalid_mac_exception(server: Server) -> None:
    kms = server.client("kms")
    key = hmac_key(server, "HMAC_256")
    mac = kms.generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    for message, bad in ((b"n", mac), (b"m", mac[:-1] + bytes([mac[-1] ^ 1])), (b"m", mac[:16])):
        with pytest.raises(ClientError) as exc:
            kms.verify_mac(KeyId=key["KeyId"], Message=message, Mac=bad, MacAlgorithm="HMAC_SHA_256")
        assert error_of(exc)[0] == "KMSInvalidMacException"


def test_another_mac_algorithm_than_the_keys_is_invalid_key_usage(server: Server) -> None:
    key = hmac_key(server, "HMAC_256")
    with pytest.raises(ClientError) as exc:
        server.client("kms").generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_512")
    assert error_of(exc) == ("InvalidKeyUsageException", "Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256.")


def test_a_symmetric_encryption_key_cannot_make_macs(server: Server) -> None:
    kms = server.client("kms")
    key = kms.create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert error_of(exc) == (
        "InvalidKeyUsageException", f"{key['Arn']} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac."
    )


def test_an_hmac_key_cannot_encrypt(server: Server) -> None:
    key = hmac_key(server, "HMAC_384")
    with pytest.raises(ClientError) as exc:
        server.client("kms").encrypt(KeyId=key["KeyId"], Plaintext=b"p")
    assert error_of(exc)[0] == "InvalidKeyUsageException"


def test_a_disabled_hmac_key_is_refused(server: Server) -> None:
    kms = server.client("kms")
    key = hmac_key(server, "HMAC_224")
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        kms.generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_224")
    assert error_of(exc) == ("DisabledException", f"{key['Arn']} is disabled.")


def test_dry_run_mac_operations_answer_dry_run_operation(server: Server) -> None:
    kms = server.client("kms")
    key = hmac_key(server, "HMAC_256")
    mac = kms.generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    with pytest.raises(ClientError) as exc:
        kms.generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256", DryRun=True)
    assert error_of(exc)[0] == "DryRunOperationException"
    with pytest.raises(ClientError) as exc:
        kms.verify_mac(KeyId=key["KeyId"], Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256", DryRun=True)
    assert error_of(exc)[0] == "DryRunOperationException"
