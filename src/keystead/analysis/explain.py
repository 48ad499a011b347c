"""`explain`: one concrete request, decided exactly, with every policy and statement that matched.

The context the operator gives (`kms:EncryptionContext:dept=finance`, `aws:SourceIp=10.0.0.1`)
is added to the keys the analyzer knows for the principal; grants apply when their constraint
is satisfied by the `kms:EncryptionContext:*` keys given, as `KmsGrantSource` decides live.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keystead import arn
from keystead.analysis.assess import grantee_via, statement_name
from keystead.analysis.model import Candidate
from keystead.analysis.snapshot import Snapshot, pattern_candidate, split_label
from keystead.errors import NotFoundError
from keystead.keystore.grants import UNCONSTRAINED_OPERATIONS
from keystead.policy import (
    AuthzRequest,
    Decision,
    EvaluationInput,
    MatchedStatement,
    PolicyKind,
    denial_message,
    evaluate,
)

_CONTEXT_PREFIX = "kms:encryptioncontext:"


@dataclass(frozen=True, slots=True)
class Explanation:
    principal: str
    action: str
    key_arn: str
    decision: Decision
    message: str

    def as_json(self) -> dict[str, Any]:
        matched = []
        for match in self.decision.matched:
            display, via = split_label(match.policy_name)
            entry = {"PolicyType": match.policy_kind.value, "Policy": display, "Statement": statement_name(match),
                     "Effect": match.effect}
            if via:
                entry["Via"] = via
            matched.append(entry)
        return {
            "Principal": self.principal, "Action": self.action, "KeyArn": self.key_arn,
            "Decision": self.decision.result, "Allowed": self.decision.allowed,
            "DeniedBy": self.decision.denied_by.value if self.decision.denied_by else None,
            "MatchedStatements": matched, "MissingContextKeys": list(self.decision.missing_context_keys),
            "Message": self.message,
        }


def _candidate(snapshot: Snapshot, principal: str) -> Candidate:
    for candidate in snapshot.candidates:
        if principal in (candidate.label, candidate.info.arn):
            return candidate
    parsed = arn.parse_arn(principal)
    if parsed is not None and parsed.service == "sts" and parsed.resource.startswith("assumed-role/"):
        role_name = parsed.resource.split("/")[1]
        for candidate in snapshot.candidates:
            if candidate.kind == "Role" and candidate.account_id == parsed.account and \
                    (candidate.role_arn or "").endswith(f"/{role_name}"):
                info = type(candidate.info)(principal, candidate.account_id, "AssumedRole",
                                            identity_arn=candidate.role_arn)
                return Candidate(principal, "Session", candidate.account_id, info, candidate.profile,
                                 candidate.context, candidate.identity, role_arn=candidate.role_arn)
    if parsed is not None and parsed.account in snapshot.accounts:
        raise NotFoundError(f"The principal {principal} does not exist.")
    found = pattern_candidate(principal, snapshot.key.context)
    if found is None:
        raise NotFoundError(f"The principal {principal} does not exist.")
    return found


def _grants(snapshot: Snapshot, candidate: Candidate, action: str, context: Mapping[str, Any]) -> list[MatchedStatement]:
    operation = action.removeprefix("kms:")
    n = len(_CONTEXT_PREFIX)
    encryption_context = {k[n:]: str(v) for k, v in context.items() if k.lower().startswith(_CONTEXT_PREFIX)}
    found: list[MatchedStatement] = []
    for grant in snapshot.key.grants:
        if not grantee_via(candidate, grant.grantee) or not grant.allows_operation(operation):
            continue
        if grant.constraint is not None and operation not in UNCONSTRAINED_OPERATIONS:
            if not grant.constraint.satisfied_by(encryption_context):
                continue
        found.append(MatchedStatement(f"grant/{grant.grant_id}|", PolicyKind.GRANT, grant.grant_id, "Allow"))
    return found


def explain_request(snapshot: Snapshot, principal: str, action: str, context: Mapping[str, Any]) -> Explanation:
    """Evaluate one request exactly. A grant to the account root counts only if IAM passes it on.

    Raises:
        NotFoundError: `principal` names an account on this server but no principal in it.
    """
    candidate = _candidate(snapshot, principal)
    key = snapshot.key
    merged = {**candidate.context, **context}
    request = AuthzRequest(candidate.info, action, key.arn, merged)
    identity = candidate.identity
    grants = _grants(snapshot, candidate, action, context)
    if any(grantee_via(candidate, g.grantee) == "account" for g in key.grants if g.grant_id in {m.sid for m in grants}):
        delegated = evaluate(EvaluationInput(request, candidate.account_id, identity_policies=identity.policies,
                                             permission_boundary=identity.boundary))
        if not delegated.allowed:
            grants = [m for m in grants if _direct(snapshot, candidate, m)]
    decision = evaluate(EvaluationInput(
        request, key.row.account_id, key.policy, True, identity.policies, identity.boundary, extra_allows=tuple(grants),
    ))
    message = "" if decision.allowed else denial_message(candidate.info.arn, action, key.arn, decision, service="kms")
    return Explanation(candidate.label, action, key.arn, decision, message)


def _direct(snapshot: Snapshot, candidate: Candidate, match: MatchedStatement) -> bool:
    return any(g.grant_id == match.sid and grantee_via(candidate, g.grantee) == "direct" for g in snapshot.key.grants)
