"""Policy documents submitted to IAM: validated by the engine, sized by IAM's quotas.

[IAM:reference_iam-quotas] Sizes exclude whitespace. Inline policies count together per entity
(user 2,048, group 5,120, role 10,240 characters); a managed policy version 6,144; a role trust
policy 2,048. Documents are stored verbatim and returned as submitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from keystead.errors import LimitExceededError
from keystead.policy import Policy, PolicyKind, parse_policy

MANAGED_POLICY_MAX = 6144
TRUST_POLICY_MAX = 2048
INLINE_TOTAL_MAX = {"user": 2048, "group": 5120, "role": 10240}


def policy_size(text: str) -> int:
    """The size IAM counts: characters other than whitespace."""
    return sum(1 for ch in text if not ch.isspace())


def check_identity_policy(text: str, *, max_size: int | None = None) -> Policy:
    """Validate an identity (inline or managed) policy document.

    Raises:
        MalformedPolicyDocumentError: invalid JSON or grammar for an identity policy.
        LimitExceededError: larger than `max_size` (whitespace not counted).
    """
    return parse_policy(text, PolicyKind.IDENTITY, max_size=max_size, count_whitespace=False)


def check_inline_total(kind: str, name: str, others: Iterable[str], new_document: str) -> None:
    """Refuse an inline policy that would take the entity's inline policies over IAM's quota.

    Raises:
        LimitExceededError: the aggregate size would exceed the quota of `kind` (user/group/role).
    """
    limit = INLINE_TOTAL_MAX[kind]
    total = policy_size(new_document) + sum(policy_size(text) for text in others)
    if total > limit:
        raise LimitExceededError(f"Maximum policy size of {limit} bytes exceeded for {kind} {name}")


def check_trust_policy(text: str, principal_exists: Callable[[str], bool] | None = None) -> Policy:
    """Validate a role trust policy (a resource policy whose principals must exist).

    Blocking when `principal_exists` is: call it off the event loop.

    Raises:
        MalformedPolicyDocumentError: invalid for a trust policy, or it names a principal that does
            not exist.
        LimitExceededError: larger than 2,048 characters (whitespace not counted).
    """
    if policy_size(text) > TRUST_POLICY_MAX:
        raise LimitExceededError(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}")
    return parse_policy(text, PolicyKind.TRUST, name="trust policy", principal_exists=principal_exists)
