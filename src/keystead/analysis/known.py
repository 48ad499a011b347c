"""Which condition keys the analyzer knows for a kind of principal, and their values.

A key is *known* when every request by that principal carries the same value for it (or never
carries it): its identity (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
kms:CallerAccount), a user's aws:userid, aws:username and tags, and what the key itself
contributes (aws:ResourceAccount, kms:KeySpec ..., aws:ResourceTag/*). Everything else (the
encryption context, aws:SourceIp, aws:SourceVpce, a role session's name and tags, MFA ...)
varies per request and is unknown: conditions on it are reported, not decided.
Values are the ones `api/conditions.global_context` and `api/kms/common.key_resource` set.
"""

from __future__ import annotations

from collections.abc import Mapping

from keystead.analysis.relax import KnownTest
from keystead.policy import PrincipalInfo

# Fixed for every direct call, whoever makes it.
_ALWAYS = frozenset({
    "aws:resourceaccount", "kms:keyspec", "kms:keyusage", "kms:keyorigin", "kms:keymanager",
    "kms:multiregion", "aws:principalisawsservice", "aws:viaawsservice",
})
_IDENTITY = frozenset({"aws:principalarn", "aws:principalaccount", "aws:principaltype", "kms:calleraccount"})
_PROFILES: dict[str, frozenset[str]] = {
    "user": _ALWAYS | _IDENTITY | {"aws:userid", "aws:username"},
    "root": _ALWAYS | _IDENTITY | {"aws:userid", "aws:username"},
    # A role session's aws:userid ends with the session name, and session tags override the role's.
    "role": _ALWAYS | _IDENTITY | {"aws:username"},
    "external": _ALWAYS | _IDENTITY,
    "account": _ALWAYS | {"aws:principalaccount", "kms:calleraccount"},
    "anyone": _ALWAYS,
}
# Profiles whose aws:PrincipalTag/* keys are fixed (an IAM user's tags; the root user has none).
_TAGGED = frozenset({"user", "root"})


def known_keys(profile: str) -> KnownTest:
    """The test "is this (lowercased) condition key known" for a profile."""
    names = _PROFILES[profile]
    tagged = profile in _TAGGED

    def known(key: str) -> bool:
        return (
            key in names
            or key.startswith("aws:resourcetag/")
            or (tagged and key.startswith("aws:principaltag/"))
        )

    return known


def known_context(
    profile: str,
    info: PrincipalInfo,
    resource: Mapping[str, str | list[str]],
    *,
    user_id: str | None = None,
    user_name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, str | list[str]]:
    """The values of the known keys for one principal (unknown keys are left out)."""
    context: dict[str, str | list[str]] = dict(resource)
    context.update({"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"})
    names = _PROFILES[profile]
    if "aws:principalarn" in names:
        context["aws:PrincipalArn"] = info.identity_arn or info.arn
        context["aws:PrincipalType"] = info.type
    if "aws:principalaccount" in names:
        context["aws:PrincipalAccount"] = info.account_id
        context["kms:CallerAccount"] = info.account_id
    if profile == "root":
        context["aws:userid"] = info.account_id
    if profile == "user" and user_id is not None and user_name is not None:
        context["aws:userid"] = user_id
        context["aws:username"] = user_name
    for tag_key, tag_value in (tags or {}).items():
        context[f"aws:PrincipalTag/{tag_key}"] = tag_value
    return context
