"""The decoded authorization message of a denial, as STS DecodeAuthorizationMessage returns it.

[STS-API:DecodeAuthorizationMessage] The document says whether the request was allowed, whether an
explicit deny decided it, which statements matched, and the request's context: principal,
action, resource and every condition key value. AWS's JSON spells each list as `{"items": [...]}`
and each value as `{"value": ...}`; effects are upper case. Only services whose denials AWS
encodes get one (EC2's UnauthorizedOperation); KMS, IAM and STS denials stay plain text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from keystead.identity.authorization_messages import AuthorizationMessages
from keystead.policy import Decision, EvaluationInput, MatchedStatement, Policy
from keystead.types import Principal

ENCODED_SERVICES = frozenset({"ec2"})


def _items(values: Iterable[Any]) -> dict[str, list[Any]]:
    return {"items": list(values)}


def _values(value: Any) -> dict[str, list[Any]]:
    listed = value if isinstance(value, (list, tuple)) else [value]
    return _items({"value": str(item)} for item in listed)


def _policies(inp: EvaluationInput) -> list[Policy]:
    found = [inp.resource_policy, inp.permission_boundary, inp.endpoint_policy]
    found += list(inp.identity_policies) + list(inp.session_policies or ()) + list(inp.scps or ())
    return [policy for policy in found if policy is not None]


def _statement_source(policies: list[Policy], matched: MatchedStatement) -> dict[str, Any]:
    """The statement's own JSON (Action, Resource, Condition...), or {} when it has none."""
    for policy in policies:
        if matched in policy.matches and policy.text:
            try:
                statements = json.loads(policy.text).get("Statement", [])
            except (ValueError, AttributeError):
                return {}
            statements = statements if isinstance(statements, list) else [statements]
            if matched.statement_index < len(statements) and isinstance(statements[matched.statement_index], dict):
                return dict(statements[matched.statement_index])
    return {}


def _matched_item(principal: Principal, matched: MatchedStatement, source: Mapping[str, Any]) -> dict[str, Any]:
    conditions = [
        {"key": f"{operator}:{key}", "values": _values(value)}
        for operator, pairs in (source.get("Condition") or {}).items() if isinstance(pairs, dict)
        for key, value in pairs.items()
    ]
    return {
        "statementId": matched.sid or "",
        "effect": matched.effect.upper(),
        "principals": _items([{"value": principal.principal_id}]),
        "principalGroups": _items([]),
        "actions": _values(source.get("Action", source.get("NotAction", []))),
        "resources": _values(source.get("Resource", source.get("NotResource", []))),
        "conditions": _items(conditions),
    }


def decoded_message(principal: Principal, inp: EvaluationInput, decision: Decision) -> dict[str, Any]:
    """The decoded-message document of one authorization decision."""
    policies = _policies(inp)
    request = inp.request
    return {
        "allowed": decision.allowed,
        "explicitDeny": decision.result == "explicitDeny",
        "matchedStatements": _items(
            _matched_item(principal, m, _statement_source(policies, m)) for m in decision.matched
        ),
        "failures": _items([]),
        "context": {
            "principal": {"id": principal.principal_id, "name": principal.name or "", "arn": principal.arn},
            "action": request.action,
            "resource": request.resource,
            "conditions": _items(
                {"key": key, "values": _values(value)} for key, value in sorted(request.context.items())
            ),
        },
    }


class DenialMessages:
    """Encodes denials for the services whose errors carry an encoded authorization message."""

    services = ENCODED_SERVICES

    def __init__(self, messages: AuthorizationMessages) -> None:
        self._messages = messages

    async def encode(self, principal: Principal, inp: EvaluationInput, decision: Decision) -> str:
        return await self._messages.seal(decoded_message(principal, inp, decision))
