"""Who can assume a role, directly or through other roles.

[DG:determining-access] A role that can use the key extends that access to whoever can assume
it. For each role, every candidate on the server (and the patterns its trust policy names) is
asked `sts:AssumeRole` against the role's trust policy as a strict resource policy plus the
candidate's own identity policies, by the same engine and with the same bounds as key access
(so `sts:ExternalId`, MFA and source-IP conditions are reported, not decided). Chains are
followed breadth-first through roles that can assume roles, without revisiting a role.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

from keystead.analysis.assess import bound_all, decide
from keystead.analysis.model import ALLOWED, CONDITIONAL, Assumer, Candidate, Condition
from keystead.analysis.snapshot import RoleTrust, Snapshot, names_everyone, pattern_candidate

ASSUME_ROLE = "sts:AssumeRole"
MAX_CHAIN = 4


def _service_assumers(role: RoleTrust) -> Iterator[Assumer]:
    """Service and federated principals a trust policy admits (they have no IAM side here)."""
    raw = json.loads(role.trust.text).get("Statement")
    for index, statement in enumerate([raw] if isinstance(raw, dict) else raw or []):
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or not isinstance(principal, dict):
            continue
        entries = tuple(
            f"{op} {key} {json.dumps(v if isinstance(v, list) else [v])}"
            for op, block in (statement.get("Condition") or {}).items() for key, v in block.items()
        )
        sid = statement.get("Sid") or f"#{index}"
        conditions = (Condition("Allow", "trust policy", sid, entries),) if entries else ()
        for kind in ("Service", "Federated"):
            names = principal.get(kind, [])
            for name in [names] if isinstance(names, str) else names:
                access = CONDITIONAL if entries else ALLOWED
                yield Assumer(name, kind, access, (role.arn,), conditions)


class AssumerIndex:
    """Who can assume each role of a snapshot, computed once per role."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._direct: dict[str, list[Assumer]] = {}
        resource_keys = set(snapshot.key.context)
        # The key's condition keys describe the key, not the role being assumed.
        self._candidates = [
            replace(c, context={k: v for k, v in c.context.items() if k not in resource_keys})
            for c in snapshot.candidates if c.kind != "Session" and c.on_server
        ]

    def _trust_patterns(self, role: RoleTrust) -> list[Candidate]:
        accounts = self._snapshot.accounts
        named = [n for n in role.trust.aws_principals if n.split(":")[4:5] and n.split(":")[4] not in accounts]
        if names_everyone(role.trust.text):
            named.append("*")
        return [c for c in (pattern_candidate(n, {}) for n in dict.fromkeys(named)) if c is not None]

    def direct(self, role_arn: str) -> list[Assumer]:
        """The principals that can assume `role_arn` in one step."""
        if role_arn in self._direct:
            return self._direct[role_arn]
        role = self._snapshot.roles[role_arn]
        found: list[Assumer] = []
        for candidate in self._candidates + self._trust_patterns(role):
            if candidate.role_arn == role_arn:
                continue
            access = decide(candidate, ASSUME_ROLE, role.arn, role.account_id, bound_all(candidate, role.trust))
            if access is not None:
                found.append(Assumer(candidate.label, candidate.kind, access.access, (role_arn,), access.conditions))
        found.extend(_service_assumers(role))
        self._direct[role_arn] = found
        return found

    def chains(self, role_arn: str) -> list[Assumer]:
        """Everyone who can reach `role_arn`, each with the roles assumed on the way."""
        if role_arn not in self._snapshot.roles:
            return []
        result: list[Assumer] = []
        seen = {role_arn}
        frontier: list[tuple[str, tuple[str, ...], tuple[Condition, ...], bool]] = [(role_arn, (role_arn,), (), True)]
        while frontier:
            current, chain, inherited, certain = frontier.pop(0)
            for hop in self.direct(current):
                conditions = inherited + hop.conditions
                sure = certain and hop.access == ALLOWED
                path = (hop.principal,) + chain if hop.kind == "Role" else chain
                result.append(Assumer(hop.principal, hop.kind, ALLOWED if sure else CONDITIONAL, chain, conditions))
                if hop.kind == "Role" and hop.principal not in seen and len(chain) < MAX_CHAIN:
                    seen.add(hop.principal)
                    frontier.append((hop.principal, path, conditions, sure))
        return result

