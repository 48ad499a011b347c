"""The analyzer's value types: who is considered, and what is reported about them.

Reports are plain frozen dataclasses with an `as_json()` that uses AWS-style PascalCase member
names, so the CLI's `--json` and the HTTP endpoint print the same document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from keystead.identity.policies import IdentityPolicies
from keystead.policy import PrincipalInfo

ALLOWED = "Allowed"
CONDITIONAL = "Conditional"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A principal (or a pattern of principals) whose access is computed.

    `kind` is one of Account (a root user), User, Role (any session of the role), Session (one
    named role session), ExternalPrincipal (named in a policy, not on this server),
    AccountPattern (any principal of an account not on this server) and Anyone.
    `profile` names the family of condition keys whose values are known for it (see `known`).
    """

    label: str
    kind: str
    account_id: str
    info: PrincipalInfo
    profile: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    identity: IdentityPolicies = field(default_factory=IdentityPolicies)
    on_server: bool = True
    role_arn: str | None = None  # for Role and Session candidates

    @property
    def pattern(self) -> bool:
        return self.kind in ("AccountPattern", "Anyone", "ExternalPrincipal")


@dataclass(frozen=True, slots=True)
class Condition:
    """Conditions of one statement that the analyzer could not decide."""

    effect: str
    policy: str
    statement: str
    entries: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"Effect": self.effect, "Policy": self.policy, "Statement": self.statement,
                "Conditions": list(self.entries)}


@dataclass(frozen=True, slots=True)
class AccessPath:
    """One policy statement or grant that takes part in allowing an action."""

    type: str  # KeyPolicy | IdentityPolicy | PermissionsBoundary | Grant | TrustPolicy
    policy: str = ""
    statement: str = ""
    via: str | None = None  # the group an identity policy comes through; "account" for grants
    grant: Mapping[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Type": self.type}
        if self.policy:
            out["Policy"] = self.policy
        if self.statement:
            out["Statement"] = self.statement
        if self.via:
            out["Via"] = self.via
        if self.grant is not None:
            out.update(self.grant)
        return out


@dataclass(frozen=True, slots=True)
class ActionAccess:
    action: str
    access: str  # ALLOWED or CONDITIONAL
    paths: tuple[AccessPath, ...]
    conditions: tuple[Condition, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"Action": self.action, "Access": self.access, "Paths": [p.as_json() for p in self.paths],
                "Conditions": [c.as_json() for c in self.conditions]}


@dataclass(frozen=True, slots=True)
class Assumer:
    """Someone who can assume a role, directly or through a chain of other roles."""

    principal: str
    kind: str
    access: str
    chain: tuple[str, ...]  # the roles assumed in turn, ending with the role that has access
    conditions: tuple[Condition, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"Principal": self.principal, "PrincipalType": self.kind, "Access": self.access,
                "Chain": list(self.chain), "Conditions": [c.as_json() for c in self.conditions]}


@dataclass(frozen=True, slots=True)
class PrincipalAccess:
    principal: str
    kind: str
    account_id: str
    actions: tuple[ActionAccess, ...]
    assumable_by: tuple[Assumer, ...] = ()
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Principal": self.principal, "PrincipalType": self.kind,
                               "AccountId": self.account_id, "Actions": [a.as_json() for a in self.actions]}
        if self.kind in ("Role", "Session"):
            out["AssumableBy"] = [a.as_json() for a in self.assumable_by]
        if self.notes:
            out["Notes"] = list(self.notes)
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    type: str
    severity: str  # HIGH | MEDIUM | LOW
    message: str
    resource: str = ""

    def as_json(self) -> dict[str, Any]:
        out = {"Type": self.type, "Severity": self.severity, "Message": self.message}
        if self.resource:
            out["Resource"] = self.resource
        return out


@dataclass(frozen=True, slots=True)
class AccessReport:
    key_arn: str
    key_state: str
    account_id: str
    actions: tuple[str, ...]
    principals: tuple[PrincipalAccess, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "KeyArn": self.key_arn, "KeyState": self.key_state, "AccountId": self.account_id,
            "Actions": list(self.actions), "Principals": [p.as_json() for p in self.principals],
            "Findings": [f.as_json() for f in self.findings], "Notes": list(self.notes),
        }

    def access(self, principal: str, action: str) -> str | None:
        """ALLOWED, CONDITIONAL or None: the report's answer for one principal and action."""
        for entry in self.principals:
            if entry.principal == principal:
                for item in entry.actions:
                    if item.action == action:
                        return item.access
        return None
