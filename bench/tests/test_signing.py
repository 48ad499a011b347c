"""Pre-signed requests: well-formed HTTP/1.1 whose SigV4 signature an independent verifier accepts."""

from __future__ import annotations

import hashlib
import hmac
import json

from bench.servers import Credentials
from bench.signing import RequestPools, TargetKeys, operation_body, sign_request

CREDS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-1")
ENDPOINT = "http://127.0.0.1:4599"
KEYS = TargetKeys("1234abcd-12ab-34cd-56ef-1234567890ab", (b"blob-one", b"blob-two"))


def _split(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, body = raw.split(b"\r\n\r\n", 1)
    request_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    return request_line, headers, body


def _verify_sigv4(raw: bytes, secret: str) -> bool:
    """Recompute the signature from the wire bytes alone, following the SigV4 spec (not botocore)."""
    request_line, headers, body = _split(raw)
    method, path, _ = request_line.split(" ")
    auth = headers["authorization"].removeprefix("AWS4-HMAC-SHA256 ")
    fields = dict(part.strip().split("=", 1) for part in auth.split(","))
    _access_key, date, region, service, terminator = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    canonical = "\n".join(
        [
            method,
            path,
            "",
            *(f"{name}:{' '.join(headers[name].split())}" for name in signed),
            "",
            fields["SignedHeaders"],
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{region}/{service}/{terminator}"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", headers["x-amz-date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, terminator):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["Signature"])


def test_a_signed_encrypt_request_verifies_with_an_independent_sigv4_implementation() -> None:
    raw = sign_request(ENDPOINT, CREDS, "encrypt", operation_body("encrypt", KEYS, 0))
    assert _verify_sigv4(raw, CREDS.secret_access_key)
    assert not _verify_sigv4(raw, "some-other-secret")


def test_the_signature_covers_host_target_and_date_and_scopes_kms_in_the_region() -> None:
    raw = sign_request(ENDPOINT, CREDS, "generate_data_key", operation_body("generate_data_key", KEYS, 0))
    _, headers, _ = _split(raw)
    assert "/eu-west-1/kms/aws4_request" in headers["authorization"]
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-target" in headers["authorization"]
    assert headers["host"] == "127.0.0.1:4599"
    assert headers["x-amz-target"] == "TrentService.GenerateDataKey"


def test_the_request_is_content_length_framed_http_1_1() -> None:
    raw = sign_request(ENDPOINT, CREDS, "decrypt", operation_body("decrypt", KEYS, 1))
    request_line, headers, body = _split(raw)
    assert request_line == "POST / HTTP/1.1"
    assert int(headers["content-length"]) == len(body)
    assert headers["content-type"] == "application/x-amz-json-1.1"


def test_bodies_carry_a_1kb_plaintext_a_real_ciphertext_or_an_aes_256_spec() -> None:
    encrypt = json.loads(operation_body("encrypt", KEYS, 0))
    assert encrypt["KeyId"] == KEYS.key_id and len(encrypt["Plaintext"]) == 1368  # base64 of 1024 bytes
    assert json.loads(operation_body("decrypt", KEYS, 1)) == {"CiphertextBlob": "YmxvYi10d28="}
    assert json.loads(operation_body("generate_data_key", KEYS, 0)) == {
        "KeyId": KEYS.key_id,
        "KeySpec": "AES_256",
    }


def test_a_pool_is_reused_while_fresh_and_re_signed_once_stale() -> None:
    pools = RequestPools(size=3)
    first = pools.get("moto", ENDPOINT, CREDS, "encrypt", KEYS)
    assert len(set(first)) == 3
    assert pools.get("moto", ENDPOINT, CREDS, "encrypt", KEYS) is first
    stale = RequestPools(size=3, resign_after_s=-1.0)
    one = stale.get("moto", ENDPOINT, CREDS, "encrypt", KEYS)
    assert stale.get("moto", ENDPOINT, CREDS, "encrypt", KEYS) is not one


def test_credentials_never_show_the_secret_in_their_repr() -> None:
    assert CREDS.secret_access_key not in repr(CREDS)
