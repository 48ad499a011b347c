"""The AWS CLI (awscli from PyPI) against a live server."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import Server

AWS = str(Path(sys.executable).with_name("aws"))


def aws(server: Server, *args: str) -> dict:
    account = server.accounts[0]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=account.access_key_id, AWS_SECRET_ACCESS_KEY=account.secret_access_key,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    env.pop("AWS_PROFILE", None)
    out = subprocess.run([AWS, "--endpoint-url", server.endpoint, "--output", "json", *args],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else {}


def test_aws_cli_creates_a_key_and_round_trips(server: Server) -> None:
    key = aws(server, "kms", "create-key", "--description", "from the cli")["KeyMetadata"]
    plain_file = server.data_dir.parent / f"plain-{key['KeyId']}"
    blob_file = server.data_dir.parent / f"blob-{key['KeyId']}"
    plain_file.write_bytes(b"hi")
    encrypted = aws(server, "kms", "encrypt", "--key-id", key["KeyId"], "--plaintext", f"fileb://{plain_file}")
    blob_file.write_bytes(base64.b64decode(encrypted["CiphertextBlob"]))
    decrypted = aws(server, "kms", "decrypt", "--ciphertext-blob", f"fileb://{blob_file}")
    assert base64.b64decode(decrypted["Plaintext"]) == b"hi"
    assert aws(server, "sts", "get-caller-identity")["Account"] == server.accounts[0].account_id
    listed = aws(server, "kms", "list-keys")["Keys"]
    assert key["KeyId"] in {k["KeyId"] for k in listed}
