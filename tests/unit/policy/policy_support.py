"""Builders shared by the policy unit tests: documents, callers and requests in one line each."""

from __future__ import annotations

import json
import re
from typing import Any

from keystead.policy import (
    AuthzRequest,
    Decision,
    EvaluationInput,
    Policy,
    PolicyKind,
    PrincipalInfo,
    evaluate,
    parse_policy,
)

ACCOUNT = "111122223333"
OTHER = "444455556666"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:us-east-1:{OTHER}:key/0000abcd-12ab-34cd-56ef-1234567890ab"


def stmt(
    effect: str = "Allow", action: Any = "kms:Encrypt", resource: Any = "*", **extra: Any
) -> dict[str, Any]:
    """A statement; pass resource=None to leave Resource out, and Principal etc. as keywords."""
    statement: dict[str, Any] = {"Effect": effect, "Action": action}
    if resource is not None:
        statement["Resource"] = resource
    statement.update(extra)
    return statement


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return json.dumps(document)


def identity(
    *statements: dict[str, Any], name: str = "identity", version: str | None = "2012-10-17"
) -> Policy:
    return parse_policy(doc(*statements, version=version), PolicyKind.IDENTITY, name=name)


def resource_policy(
    *statements: dict[str, Any], kind: PolicyKind = PolicyKind.RESOURCE, name: str = "default"
) -> Policy:
    return parse_policy(doc(*statements), kind, name=name)


def of_kind(kind: PolicyKind, *statements: dict[str, Any], name: str = "") -> Policy:
    return parse_policy(doc(*statements), kind, name=name or kind.value)


def user(name: str = "bob", account: str = ACCOUNT) -> PrincipalInfo:
    return PrincipalInfo(f"arn:aws:iam::{account}:user/{name}", account, "User")


def root(account: str = ACCOUNT) -> PrincipalInfo:
    return PrincipalInfo(f"arn:aws:iam::{account}:root", account, "Account")


def role_arn(role: str = "Writer", account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/{role}"


def session(role: str = "Writer", name: str = "s1", account: str = ACCOUNT) -> PrincipalInfo:
    return PrincipalInfo(
        f"arn:aws:sts::{account}:assumed-role/{role}/{name}",
        account,
        "AssumedRole",
        identity_arn=role_arn(role, account),
    )


def federated_user(name: str = "fed", account: str = ACCOUNT, via_user: str = "bob") -> PrincipalInfo:
    return PrincipalInfo(
        f"arn:aws:sts::{account}:federated-user/{name}",
        account,
        "FederatedUser",
        identity_arn=f"arn:aws:iam::{account}:user/{via_user}",
    )


def service(name: str = "cloudtrail.amazonaws.com") -> PrincipalInfo:
    return PrincipalInfo(name, "", "AWSService", service=name)


def anonymous() -> PrincipalInfo:
    return PrincipalInfo("anonymous", "", "Anonymous")


def request(
    principal: PrincipalInfo, action: str = "kms:Encrypt", resource: str = KEY, **context: Any
) -> AuthzRequest:
    return AuthzRequest(principal, action, resource, context)


def decide(
    principal: PrincipalInfo | None = None,
    action: str = "kms:Encrypt",
    resource: str = KEY,
    context: dict[str, Any] | None = None,
    **policies: Any,
) -> Decision:
    """Evaluate one request; `policies` are EvaluationInput fields (identity_policies=[...], ...)."""
    req = AuthzRequest(principal or user(), action, resource, context or {})
    return evaluate(EvaluationInput(req, **policies))


def condition_holds(condition: dict[str, Any], context: dict[str, Any], version: str = "2012-10-17") -> bool:
    """Whether a Condition block holds for a request context (through a one-statement Allow)."""
    policy = identity(stmt(Condition=condition), version=version)
    return decide(user(), context=context, identity_policies=[policy]).allowed


def exactly(message: str) -> str:
    """A `pytest.raises(match=...)` pattern for this whole message, taken literally."""
    return f"^{re.escape(message)}$"
