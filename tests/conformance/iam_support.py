"""Helpers shared by the IAM conformance tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import Account, Server


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def user_with_key(server: Server, account: Account, name: str | None = None) -> tuple[str, Account]:
    """A new IAM user with an access key, and an Account holding that key (for server.client)."""
    iam = server.client("iam", account)
    name = name or unique("user")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    arn = f"arn:aws:iam::{account.account_id}:user/{name}"
    return name, Account(account.account_id, arn, key["AccessKeyId"], key["SecretAccessKey"])
