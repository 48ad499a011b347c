"""Real SigV4-signed KMS requests, pre-built as raw HTTP/1.1 bytes for the load generator.

Keys and ciphertexts are created once per target with boto3 (the same client an application would use);
each request in a pool is then signed with ``botocore.auth.SigV4Auth`` exactly as botocore signs a KMS
call and frozen to bytes. SigV4 has no replay protection, so the load generator may replay a pool for the
whole step; :class:`RequestPools` re-signs a pool once it is older than :data:`RESIGN_AFTER_S`, well
inside the five-minute clock-skew window servers allow.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass, field

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials

from bench.servers import Credentials

# Operation names on the harness command line -> KMS wire operation names.
OPERATIONS: dict[str, str] = {
    "encrypt": "Encrypt",
    "decrypt": "Decrypt",
    "generate_data_key": "GenerateDataKey",
}
PLAINTEXT_BYTES = 1024
RESIGN_AFTER_S = 60.0
USER_AGENT = "keystead-bench/1"
# Requests to the bare app are signed too (it ignores them) so it parses the same bytes Keystead does.
BARE_CREDENTIALS = Credentials("AKIABENCHBAREAPP0000", "bare-app-does-not-check-signatures")


@dataclass(frozen=True)
class TargetKeys:
    """A symmetric key on one target and real ciphertexts produced under it."""

    key_id: str
    ciphertexts: tuple[bytes, ...]


def prepare_target(endpoint: str, credentials: Credentials, ciphertexts: int) -> TargetKeys:
    """Create a SYMMETRIC_DEFAULT key with boto3 and encrypt ``ciphertexts`` random 1 KB plaintexts.

    Raises:
        botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError: if the target refuses.
    """
    kms = boto3.client(
        "kms",
        endpoint_url=endpoint,
        region_name=credentials.region,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=30),
    )
    key_id = kms.create_key(Description="keystead bench", KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["KeyId"]
    blobs = tuple(
        kms.encrypt(KeyId=key_id, Plaintext=os.urandom(PLAINTEXT_BYTES))["CiphertextBlob"]
        for _ in range(ciphertexts)
    )
    return TargetKeys(key_id, blobs)


def operation_body(operation: str, keys: TargetKeys, index: int) -> bytes:
    """Return the awsJson1_1 body of request number ``index`` for an operation.

    Raises:
        KeyError: for an operation not in :data:`OPERATIONS`.
    """
    wire = OPERATIONS[operation]
    if wire == "Encrypt":
        payload = {"KeyId": keys.key_id, "Plaintext": base64.b64encode(os.urandom(PLAINTEXT_BYTES)).decode()}
    elif wire == "Decrypt":
        blob = keys.ciphertexts[index % len(keys.ciphertexts)]
        payload = {"CiphertextBlob": base64.b64encode(blob).decode()}
    else:
        payload = {"KeyId": keys.key_id, "KeySpec": "AES_256"}
    return json.dumps(payload, separators=(",", ":")).encode()


def sign_request(endpoint: str, credentials: Credentials, operation: str, body: bytes) -> bytes:
    """Sign one KMS POST with SigV4 and return the complete HTTP/1.1 request bytes.

    Raises:
        KeyError: for an operation not in :data:`OPERATIONS`.
    """
    host = endpoint.removeprefix("http://").rstrip("/")
    request = AWSRequest(
        method="POST",
        url=f"{endpoint}/",
        data=body,
        headers={
            # Set explicitly so the signed Host is byte-for-byte the one on the wire.
            "Host": host,
            "X-Amz-Target": f"TrentService.{OPERATIONS[operation]}",
            "Content-Type": "application/x-amz-json-1.1",
            "User-Agent": USER_AGENT,
        },
    )
    boto_credentials = BotoCredentials(credentials.access_key_id, credentials.secret_access_key)
    SigV4Auth(boto_credentials, "kms", credentials.region).add_auth(request)
    prepared = request.prepare()  # adds Content-Length, which SigV4 does not sign here (as in botocore)
    lines = ["POST / HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in prepared.headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (prepared.body or b"")


@dataclass
class _Pool:
    requests: tuple[bytes, ...]
    signed_at: float


@dataclass
class RequestPools:
    """Signed request pools per (target, operation), re-signed once older than ``resign_after_s``."""

    size: int
    resign_after_s: float = RESIGN_AFTER_S
    _pools: dict[tuple[str, str], _Pool] = field(default_factory=dict)

    def get(
        self, target: str, endpoint: str, credentials: Credentials, operation: str, keys: TargetKeys
    ) -> tuple[bytes, ...]:
        """Return a fresh-enough pool of ``size`` signed requests for one target and operation."""
        now = time.monotonic()
        pool = self._pools.get((target, operation))
        if pool is None or now - pool.signed_at > self.resign_after_s:
            requests = tuple(
                sign_request(endpoint, credentials, operation, operation_body(operation, keys, index))
                for index in range(self.size)
            )
            pool = _Pool(requests, now)
            self._pools[(target, operation)] = pool
        return pool.requests
