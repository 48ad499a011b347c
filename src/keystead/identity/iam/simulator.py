"""The IAM policy simulator: AWS's "determining access" answered by the engine that enforces.

[IAM:access_policies_testing-policies][BM-IAM SimulatePrincipalPolicy, SimulateCustomPolicy]
A scenario (the caller, its identity policies, boundary, an optional resource policy and SCP
levels, and a request context) is compiled once and evaluated for every action × resource with
`keystead.policy.evaluate`, the same function the pipeline asks on every real request, so a
simulated decision cannot drift from the enforced one. For a KMS key ARN the resource policy is
a key policy and is evaluated as one (identity policies count only where it trusts the account),
exactly as the KMS pipeline does.

One result per action: its decision is the most restrictive one across the resources (AWS's
current behaviour); the per-resource decisions are in `per_resource` when resources were named.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from keystead.errors import InvalidInputError, MalformedPolicyDocumentError
from keystead.identity.iam.simulation_inputs import Position, statement_positions
from keystead.policy import (
    AuthzRequest, Decision, EvaluationInput, MatchedStatement, Policy, PolicyKind, PrincipalInfo, evaluate,
    parse_policy,
)

_SEVERITY = {"allowed": 0, "implicitDeny": 1, "explicitDeny": 2}


@dataclass(frozen=True, slots=True)
class PolicySource:
    """One input policy: how the simulator names it (SourcePolicyId/Type) and its text."""

    source_id: str
    source_type: str  # user | group | role | aws-managed | user-managed | resource | none
    text: str = field(repr=False)
    arn: str | None = None  # managed policies only (for PolicyExclusionList)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything a simulation evaluates besides the actions and resources."""

    caller: PrincipalInfo
    identity: tuple[PolicySource, ...]
    boundary: PolicySource | None = None
    resource_policy: PolicySource | None = None
    resource_owner: str | None = None  # account of resources whose ARN names none
    scp_levels: tuple[tuple[PolicySource, ...], ...] | None = None
    context: Mapping[str, str | list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StatementMatch:
    source_id: str
    source_type: str
    start: Position | None
    end: Position | None


@dataclass(frozen=True, slots=True)
class ResourceResult:
    resource: str
    decision: str
    matched: tuple[StatementMatch, ...]
    missing: tuple[str, ...]
    boundary_allowed: bool | None
    organizations_allowed: bool | None


@dataclass(frozen=True, slots=True)
class ActionResult:
    action: str
    resource: str
    decision: str
    matched: tuple[StatementMatch, ...]
    missing: tuple[str, ...]
    boundary_allowed: bool | None
    organizations_allowed: bool | None
    per_resource: tuple[ResourceResult, ...] | None


def _compile(source: PolicySource, kind: PolicyKind, label: str) -> Policy:
    try:
        return parse_policy(source.text, kind, name=label)
    except MalformedPolicyDocumentError as error:
        # The simulator's modelled errors are InvalidInput and PolicyEvaluation [BM-IAM].
        raise InvalidInputError(f"{source.source_id}: {error.message}") from None


def _merged_level(level: Sequence[PolicySource]) -> tuple[str, list[tuple[PolicySource, int]]]:
    """The SCPs of one organisation level as one document (any of them may allow), and for
    each merged statement the source and index it came from."""
    statements: list[Any] = []
    origin: list[tuple[PolicySource, int]] = []
    for source in level:
        try:
            raw = json.loads(source.text).get("Statement", [])
        except (ValueError, AttributeError):
            raise InvalidInputError(f"{source.source_id}: Syntax errors in policy.") from None
        raw = raw if isinstance(raw, list) else [raw]
        statements.extend(raw)
        origin.extend((source, index) for index in range(len(raw)))
    return json.dumps({"Version": "2012-10-17", "Statement": statements}), origin


class Simulator:
    """A compiled scenario, evaluated for any number of actions and resources."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._origins: dict[str, list[tuple[PolicySource, int]]] = {}
        self._positions: dict[int, list[tuple[Position, Position]]] = {}
        self._identity = tuple(self._add(s, PolicyKind.IDENTITY) for s in scenario.identity)
        self._boundary = self._add(scenario.boundary, PolicyKind.BOUNDARY) if scenario.boundary else None
        self._resource = (
            self._add(scenario.resource_policy, PolicyKind.RESOURCE) if scenario.resource_policy else None
        )
        self._scps: tuple[Policy, ...] | None = None
        if scenario.scp_levels is not None:
            self._scps = tuple(self._add_level(level) for level in scenario.scp_levels)

    def _add(self, source: PolicySource, kind: PolicyKind) -> Policy:
        label = f"#{len(self._origins)}"
        policy = _compile(source, kind, label)
        self._origins[label] = [(source, i) for i in range(len(policy.statements))]
        return policy

    def _add_level(self, level: Sequence[PolicySource]) -> Policy:
        for source in level:
            _compile(source, PolicyKind.SCP, "")  # each SCP must be valid on its own
        text, origin = _merged_level(level)
        label = f"#{len(self._origins)}"
        self._origins[label] = origin
        return _compile(PolicySource("OrderedOrganizationPolicyInputList", "none", text), PolicyKind.SCP, label)

    def run(self, actions: Sequence[str], resources: Sequence[str] | None) -> list[ActionResult]:
        """One result per action, over `resources` (None or empty: every resource, "*")."""
        named = bool(resources) and list(resources or ()) != ["*"]
        targets = list(resources) if resources else ["*"]
        results = []
        for action in actions:
            per_resource = [self._one(action, resource) for resource in targets]
            worst = max(per_resource, key=lambda r: _SEVERITY[r.decision])
            missing = tuple(dict.fromkeys(key for r in per_resource for key in r.missing))
            results.append(ActionResult(
                action, worst.resource, worst.decision, worst.matched, missing,
                _all_or_none([r.boundary_allowed for r in per_resource]),
                _all_or_none([r.organizations_allowed for r in per_resource]),
                tuple(per_resource) if named else None,
            ))
        return results

    def _one(self, action: str, resource: str) -> ResourceResult:
        scenario = self._scenario
        request = AuthzRequest(scenario.caller, action, resource, dict(scenario.context))
        strict = self._resource is not None and _is_kms_key(resource)
        decision = evaluate(EvaluationInput(
            request=request, resource_account=self._resource_account(resource),
            resource_policy=self._resource, resource_policy_strict=strict,
            identity_policies=self._identity, permission_boundary=self._boundary, scps=self._scps,
        ))
        boundary_allowed = None
        if self._boundary is not None:
            alone = evaluate(EvaluationInput(request=request, identity_policies=(self._boundary,)))
            boundary_allowed = alone.allowed
        organizations_allowed = None if self._scps is None else decision.denied_by is not PolicyKind.SCP
        return ResourceResult(
            resource, decision.result, self._matches(decision), decision.missing_context_keys,
            boundary_allowed, organizations_allowed,
        )

    def _resource_account(self, resource: str) -> str | None:
        parts = resource.split(":", 5)
        if len(parts) == 6 and parts[4]:
            return parts[4]
        return self._scenario.resource_owner

    def _matches(self, decision: Decision) -> tuple[StatementMatch, ...]:
        """The statements that decided: the denies of an explicit deny, the allows of an allow."""
        if decision.result == "implicitDeny":
            return ()
        effect = "Deny" if decision.result == "explicitDeny" else "Allow"
        found = [self._locate(m) for m in decision.matched if m.effect == effect and m.policy_name in self._origins]
        return tuple(dict.fromkeys(found))

    def _locate(self, match: MatchedStatement) -> StatementMatch:
        source, index = self._origins[match.policy_name][match.statement_index]
        positions = self._positions.get(id(source))
        if positions is None:
            positions = self._positions[id(source)] = statement_positions(source.text)
        start, end = positions[index] if index < len(positions) else (None, None)
        return StatementMatch(source.source_id, source.source_type, start, end)


def _all_or_none(values: list[bool | None]) -> bool | None:
    known = [v for v in values if v is not None]
    return None if not known else all(known)


def _is_kms_key(resource: str) -> bool:
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[2] == "kms" and parts[5].startswith("key/")


def context_keys(sources: Sequence[PolicySource]) -> list[str]:
    """Every condition key and policy variable the policies read, sorted, first spelling kept.

    Raises:
        InvalidInputError: a policy that does not parse.
    """
    seen: dict[str, str] = {}
    for source in sources:
        kind = PolicyKind.RESOURCE if source.source_type == "resource" else PolicyKind.IDENTITY
        for key in _compile(source, kind, "").condition_keys:
            seen.setdefault(key.lower(), key)
    return sorted(seen.values(), key=str.lower)
