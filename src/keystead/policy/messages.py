"""AWS's AccessDenied wording, from a Decision. [IAM:troubleshoot_access-denied][spec IAM-030, KMS-050]

    User: <arn> is not authorized to perform: <action>[ on resource: <arn>] <context>

where <context> is `because no <type> allows the <action> action` for an implicit deny and
`with an explicit deny in <a type>` for an explicit one. An SCP denial always reads as explicit.
STS (AssumeRole and friends) answers without a context clause.
"""

from __future__ import annotations

from keystead.policy.model import Decision, PolicyKind

# (what "no ... allows" names, what "an explicit deny in ..." names)
_PHRASES: dict[PolicyKind, tuple[str, str]] = {
    PolicyKind.IDENTITY: ("identity-based policy", "an identity-based policy"),
    PolicyKind.RESOURCE: ("resource-based policy", "a resource-based policy"),
    PolicyKind.TRUST: ("role trust policy", "the role trust policy"),
    PolicyKind.BOUNDARY: ("permissions boundary", "a permissions boundary"),
    PolicyKind.SESSION: ("session policy", "a session policy"),
    PolicyKind.ENDPOINT: ("VPC endpoint policy", "a VPC endpoint policy"),
    PolicyKind.SCP: ("service control policy", "a service control policy"),
}


def denial_message(
    principal_arn: str, action: str, resource: str, decision: Decision, *, service: str
) -> str:
    """The AccessDenied message AWS would give for `decision`; `resource` "" omits "on resource".

    Raises:
        ValueError: the decision allowed the request.
    """
    if decision.allowed:
        raise ValueError("an allowed decision has no denial message")
    message = f"User: {principal_arn} is not authorized to perform: {action}"
    if resource:
        message += f" on resource: {resource}"
    if service.lower() == "sts":
        return message
    kind = decision.denied_by or PolicyKind.IDENTITY
    implicit_name, explicit_name = _PHRASES.get(kind, _PHRASES[PolicyKind.IDENTITY])
    if decision.result == "explicitDeny" or kind is PolicyKind.SCP:
        return f"{message} with an explicit deny in {explicit_name}"
    return f"{message} because no {implicit_name} allows the {action} action"
