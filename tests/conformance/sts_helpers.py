"""Helpers for the STS conformance tests: IAM users and roles made through the live IAM API."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.support import Account, Server

KMS_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_user(server: Server, account: Account, policy: dict[str, Any] | None = None) -> tuple[str, Account]:
    """A new IAM user (with an optional inline policy) and its access key, as an Account."""
    iam = server.client("iam", account)
    name = unique("user")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, Account(account.account_id, arn, key["AccessKeyId"], key["SecretAccessKey"])


def make_role(
    server: Server, account: Account, trust: dict[str, Any], policy: dict[str, Any] | None = None, **kw: Any
) -> str:
    """A new role with a trust policy (and an optional inline policy); its ARN."""
    iam = server.client("iam", account)
    name = unique("role")
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), **kw)["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def trust(principal: dict[str, Any], action: str | list[str] = "sts:AssumeRole", **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def session_client(server: Server, service: str, credentials: dict[str, Any]) -> Any:
    return server.client(
        service,
        access_key_id=credentials["AccessKeyId"],
        secret_access_key=credentials["SecretAccessKey"],
        session_token=credentials["SessionToken"],
    )
