"""The key policy AWS gives a key created without one (kms.md KMS-020)."""

from __future__ import annotations

import json

from keystead import arn

DEFAULT_POLICY_NAME = "default"
MAX_POLICY_BYTES = 32 * 1024


def default_key_policy(account_id: str) -> str:
    """AWS's default key policy: the owning account, and so its IAM policies, may do anything."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": arn.root_arn(account_id)},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
        indent=2,
    )
