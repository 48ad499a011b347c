"""The value types of the policy engine: what is asked, and what is answered.

Requests are normalised once, when they are built (condition-key names lowercased, every value
turned into a tuple of strings, the action lowercased), so that evaluating many policies against
one request repeats none of that work.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from keystead.policy.document import Policy

ContextValue = str | bool | int | float | Decimal | datetime | Sequence[str]
NormalisedContext = Mapping[str, tuple[str, ...]]

Effect = Literal["Allow", "Deny"]
EvalResult = Literal["allowed", "explicitDeny", "implicitDeny"]


class PolicyKind(enum.Enum):
    """Where a policy document sits. This decides its grammar and its role in evaluation."""

    IDENTITY = "identity"  # user/group/role inline or managed policy
    RESOURCE = "resource"  # a resource-based policy; for us, a KMS key policy
    TRUST = "trust"  # a role trust policy (the role's resource policy)
    BOUNDARY = "boundary"  # permissions boundary of a user or role
    SESSION = "session"  # AssumeRole*/GetFederationToken Policy or PolicyArns
    ENDPOINT = "endpoint"  # VPC endpoint policy
    SCP = "scp"  # Organizations service control policy
    GRANT = "grant"  # a KMS grant (only ever an extra Allow; never parsed from JSON)


# Kinds whose statements name a Principal; the others must not.
PRINCIPAL_KINDS = frozenset({PolicyKind.RESOURCE, PolicyKind.TRUST, PolicyKind.ENDPOINT})


@dataclass(frozen=True, slots=True)
class PrincipalInfo:
    """The caller, as the policy engine sees it.

    `type` is the aws:PrincipalType value ("Account" for root, "User", "AssumedRole",
    "FederatedUser", "AWSService", "Anonymous"). `identity_arn` is the IAM entity behind a
    session: the role ARN for a role session, the IAM user ARN for a GetFederationToken session.
    Web-identity and SAML callers of AssumeRoleWith* carry their provider in `federated`.
    """

    arn: str
    account_id: str
    type: str
    identity_arn: str | None = None
    service: str | None = None
    federated: str | None = None


def _normalise_value(value: object) -> tuple[str, ...]:
    # bool before int: bool is an int subclass and must read "true"/"false".
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (int, float, Decimal)):
        return (str(value),)
    if isinstance(value, datetime):
        return (value.isoformat(),)
    if isinstance(value, Sequence):
        out: list[str] = []
        for item in value:
            out.extend(_normalise_value(item))
        return tuple(out)
    raise TypeError(f"unsupported condition value {value!r}")


def normalise_context(context: Mapping[str, object]) -> NormalisedContext:
    """Lowercased key names, every value a tuple of strings (keys are case-insensitive in IAM).

    Raises:
        TypeError: a value is not a string, bool, number, datetime or a sequence of those.
    """
    normalised: dict[str, tuple[str, ...]] = {}
    for key, value in context.items():
        # Nearly every value is a plain string; skipping the type dispatch for it matters because
        # every authorization normalises a whole request context (~20 keys).
        values = (value,) if type(value) is str else _normalise_value(value)
        lowered = key.lower()
        # Two spellings of one key in a request merge rather than one silently replacing the other.
        previous = normalised.get(lowered)
        normalised[lowered] = values if previous is None else previous + values
    return MappingProxyType(normalised)


@dataclass(frozen=True, slots=True)
class AuthzRequest:
    """One authorization question: may `principal` perform `action` on `resource`?

    `context` maps condition keys to a value or a list of values; names are case-insensitive,
    booleans may be given as bool or "true"/"false", dates as ISO 8601 or epoch seconds.
    `normalised_context` and `action_lower` are derived once, here.
    """

    principal: PrincipalInfo
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    normalised_context: NormalisedContext = field(init=False, repr=False, compare=False)
    action_lower: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "normalised_context", normalise_context(self.context))
        object.__setattr__(self, "action_lower", self.action.lower())


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    """A statement that applied to the request (action, resource, principal and conditions)."""

    policy_name: str
    policy_kind: PolicyKind
    sid: str | None
    effect: Effect
    statement_index: int = 0


@dataclass(frozen=True, slots=True)
class EvaluationInput:
    """Every policy that bears on one request, by role.

    `resource_policy_strict` is for KMS key policies and role trust policies: identity policies
    count only if the resource policy trusts the caller's account (or names the caller), and the
    root user has no implicit access. `session_policies` is None when the caller is not a session
    with session policies; an empty sequence means a session whose session policies allow nothing.
    `scps`, when given, must each allow (one per level of the organisation tree).
    `extra_allows` are Allows from outside policy documents (KMS grants that apply): they suffice
    on their own but still lose to an explicit deny and to the SCP and endpoint gates.
    """

    request: AuthzRequest
    resource_account: str | None = None
    resource_policy: Policy | None = None
    resource_policy_strict: bool = False
    identity_policies: Sequence[Policy] = ()
    permission_boundary: Policy | None = None
    session_policies: Sequence[Policy] | None = None
    endpoint_policy: Policy | None = None
    scps: Sequence[Policy] | None = None
    extra_allows: Sequence[MatchedStatement] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer, with its reasons: the simulator, the analyzer and AccessDenied all read this."""

    allowed: bool
    result: EvalResult
    matched: tuple[MatchedStatement, ...]
    denied_by: PolicyKind | None
    missing_context_keys: tuple[str, ...]
