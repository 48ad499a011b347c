"""Warnings about a key's access, in the manner of IAM Access Analyzer's findings.

- PublicKeyPolicy: an Allow statement whose Principal is `*` with no Condition at all.
- CrossAccountAccess: principals of another account (or any account) can use the key.
- FullAccessToNonAdmin: `kms:*` given in the key policy to a principal other than the key
  account's root, or a non-root principal that can perform every analyzed action.
- GrantWithoutRetiringPrincipal: a grant that only a key administrator can ever remove.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from keystead import arn
from keystead.analysis.model import ALLOWED, Finding, PrincipalAccess
from keystead.analysis.snapshot import KeyTarget


def _statements(text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    raw = json.loads(text).get("Statement")
    for index, statement in enumerate([raw] if isinstance(raw, dict) else raw or []):
        yield statement.get("Sid") or f"#{index}", statement


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _aws_principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [str(p) for p in _as_list(principal.get("AWS"))]
    return []


def _policy_findings(key: KeyTarget) -> Iterator[Finding]:
    owner_root = arn.root_arn(key.row.account_id)
    for sid, statement in _statements(key.row.policy):
        if statement.get("Effect") != "Allow":
            continue
        principals = _aws_principals(statement)
        if "*" in principals and not statement.get("Condition"):
            yield Finding("PublicKeyPolicy", "HIGH",
                          f"Key policy statement {sid} allows any principal (Principal \"*\") without conditions.",
                          key.arn)
        actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
        others = [p for p in principals if p not in (owner_root, key.row.account_id)]
        if ("kms:*" in actions or "*" in actions) and others:
            yield Finding("FullAccessToNonAdmin", "MEDIUM",
                          f"Key policy statement {sid} gives kms:* to {', '.join(others)}, not only to the "
                          "account root.", key.arn)


def _cross_account(key: KeyTarget, principals: Sequence[PrincipalAccess]) -> Iterator[Finding]:
    by_account: dict[str, list[str]] = {}
    for entry in principals:
        if entry.account_id != key.row.account_id:
            by_account.setdefault(entry.account_id, []).append(entry.principal)
    for account_id, names in sorted(by_account.items()):
        who = "any account" if account_id == "*" else f"account {account_id}"
        yield Finding("CrossAccountAccess", "MEDIUM",
                      f"Principals of {who} can use the key: {', '.join(names)}.", key.arn)


def _full_access(key: KeyTarget, principals: Sequence[PrincipalAccess], actions: Sequence[str]) -> Iterator[Finding]:
    owner_root = arn.root_arn(key.row.account_id)
    for entry in principals:
        if entry.principal == owner_root or entry.kind in ("AccountPattern", "Anyone"):
            continue
        allowed = {a.action for a in entry.actions if a.access == ALLOWED}
        if len(actions) > 1 and allowed >= set(actions):
            yield Finding("FullAccessToNonAdmin", "MEDIUM",
                          f"{entry.principal} can perform every KMS action on the key (kms:*).", key.arn)


def findings(key: KeyTarget, principals: Sequence[PrincipalAccess], actions: Sequence[str]) -> tuple[Finding, ...]:
    """Every finding about the key, most severe first."""
    found = list(_policy_findings(key))
    found.extend(_cross_account(key, principals))
    found.extend(_full_access(key, principals, actions))
    for grant in key.grants:
        if grant.retiring is None:
            found.append(Finding("GrantWithoutRetiringPrincipal", "LOW",
                                 f"Grant {grant.grant_id} to {grant.grantee} has no retiring principal.", key.arn))
    order = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}
    return tuple(sorted(found, key=lambda f: order[f.severity]))
