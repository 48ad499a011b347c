"""Who an STS session is: the principals of role sessions, federated users and token sessions,
their session tags and session policies, built the way AWS reports and evaluates them.

[IAM:reference_identifiers][IAM:id_session-tags][IAM:access_policies#policies_session]
- Role session: ARN `arn:aws:sts::<acct>:assumed-role/<role>/<session>` (no path), userid
  `<AROA…>:<session>`; its identity policies are the role's, intersected with session policies.
- Federated user: ARN `arn:aws:sts::<acct>:federated-user/<name>`, userid `<acct>:<name>`; it has
  its IAM user's policies intersected with the session policies (none: no permissions).
- GetSessionToken session: the same principal as the long-term caller (user or root), with a
  session whose only addition is the MFA flag and the token issue time.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from keystead import arn
from keystead.errors import MalformedPolicyDocumentError, PackedPolicyTooLargeError, ValidationError
from keystead.identity.iam.lookup import default_documents
from keystead.policy import PolicyKind, parse_policy
from keystead.storage import Tx
from keystead.types import Principal, PrincipalType, SessionInfo

MAX_SESSION_TAGS = 50
# The packed (compressed) session policies and tags must fit in this many bytes; AWS reports the
# share used as PackedPolicySize and refuses above 100 % (PackedPolicyTooLarge).
PACKED_LIMIT_BYTES = 2048


def federated_user_arn(account_id: str, name: str) -> str:
    return f"arn:{arn.PARTITION}:sts::{account_id}:federated-user/{name}"


def session_tags(
    tags: Sequence[Mapping[str, str]] | None, transitive_keys: Sequence[str] | None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Session tags and transitive tag keys as passed to AssumeRole* / GetFederationToken.

    Raises:
        ValidationError: more than 50 tags, a key given twice (keys compare without case), or a
            transitive key that is not one of the session tags.
    """
    result: dict[str, str] = {}
    for tag in tags or ():
        if tag["key"].lower() in {key.lower() for key in result}:
            raise ValidationError("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        result[tag["key"]] = tag["value"]
    if len(result) > MAX_SESSION_TAGS:
        raise ValidationError(
            f"1 validation error detected: Value at 'tags' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_SESSION_TAGS}"
        )
    lowered = {key.lower() for key in result}
    for key in transitive_keys or ():
        if key.lower() not in lowered:
            raise ValidationError(f"The specified transitive tag key {key} is not one of the session tags.")
    return result, tuple(dict.fromkeys(transitive_keys or ()))


def merged_principal_tags(*layers: Mapping[str, str]) -> dict[str, str]:
    """aws:PrincipalTag values: later layers override earlier ones, keys compared without case."""
    merged: dict[str, str] = {}
    for layer in layers:
        for key, value in layer.items():
            for existing in [k for k in merged if k.lower() == key.lower()]:
                del merged[existing]
            merged[key] = value
    return merged


def inherited_transitive_tags(caller: Principal) -> tuple[dict[str, str], tuple[str, ...]]:
    """The transitive session tags a role-chaining caller passes on (they cannot be overridden)."""
    session = caller.session
    if session is None or not session.transitive_tag_keys:
        return {}, ()
    wanted = {key.lower() for key in session.transitive_tag_keys}
    return {k: v for k, v in caller.tags.items() if k.lower() in wanted}, session.transitive_tag_keys


def session_policy_documents(
    tx: Tx, account_id: str, inline: str | None, policy_arns: Sequence[Mapping[str, str]] | None
) -> tuple[str, ...]:
    """The session policies of a request, as documents (managed ones read now). Blocking.

    Raises:
        MalformedPolicyDocumentError: the inline policy is invalid as a session policy, or a
            policy ARN names no policy visible to the role's account.
    """
    documents: list[str] = []
    if inline is not None:
        parse_policy(inline, PolicyKind.SESSION, name="session policy")
        documents.append(inline)
    arns = [item["arn"] for item in policy_arns or ()]
    if arns:
        found = default_documents(tx, arns)
        for policy_arn in arns:
            owner = policy_arn.split(":")[4] if policy_arn.count(":") >= 5 else ""
            if policy_arn not in found or owner not in ("aws", account_id):
                raise MalformedPolicyDocumentError(f"Policy {policy_arn} does not exist or is not attachable.")
            documents.append(found[policy_arn])
    return tuple(documents)


def packed_policy_size(inline: str | None, policy_arns: Sequence[Mapping[str, str]] | None,
                       tags: Mapping[str, str]) -> int:
    """PackedPolicySize: the percentage of the packed limit the session policies and tags use.

    Raises:
        PackedPolicyTooLargeError: above 100 %.
    """
    packed = json.dumps(
        [inline or "", [item["arn"] for item in policy_arns or ()], sorted(tags.items())], separators=(",", ":")
    ).encode()
    percent = -(-len(zlib.compress(packed, 9)) * 100 // PACKED_LIMIT_BYTES)
    if percent > 100:
        raise PackedPolicyTooLargeError(
            f"Packed size of the session policies and session tags exceeds the limit by "
            f"{percent - 100}%."
        )
    return percent


def role_session_principal(
    role_account: str, role_name: str, role_path: str, role_id: str, session: SessionInfo, tags: Mapping[str, str]
) -> Principal:
    """The principal of a role session (AssumeRole*, instance profiles)."""
    return Principal(
        type=PrincipalType.ASSUMED_ROLE,
        account_id=role_account,
        arn=arn.assumed_role_arn(role_account, role_name, session.session_name),
        principal_id=f"{role_id}:{session.session_name}",
        name=role_name,
        identity_arn=arn.role_arn(role_account, role_path, role_name),
        tags=dict(tags),
        session=session,
    )


def federated_principal(caller: Principal, name: str, session: SessionInfo, tags: Mapping[str, str]) -> Principal:
    """The principal of a GetFederationToken session of `caller` (an IAM user or root)."""
    return Principal(
        type=PrincipalType.FEDERATED_USER,
        account_id=caller.account_id,
        arn=federated_user_arn(caller.account_id, name),
        principal_id=f"{caller.account_id}:{name}",
        name=name,
        identity_arn=caller.identity_arn or caller.arn,
        tags=dict(tags),
        session=session,
    )


def token_session_principal(caller: Principal, issued_at: datetime, expires_at: datetime, mfa: bool) -> Principal:
    """The principal of a GetSessionToken session: the caller itself, now temporary."""
    session = SessionInfo(
        issuer_arn=caller.arn, issuer_id=caller.principal_id, session_name="", issued_at=issued_at,
        expires_at=expires_at, mfa_authenticated=mfa,
    )
    return replace(caller, session=session, access_key_id=None)
