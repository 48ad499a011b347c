"""The global aws:* condition keys every request carries (spec kms.md §8.2, iam.md).

Operation- and resource-specific keys (kms:*, aws:ResourceTag/*, aws:RequestTag/*) are added by
the handlers through `authorize(..., extra_context)` and `ResourceAccess.context`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from keystead.api.context import RequestContext
from keystead.clock import iso_seconds
from keystead.types import Principal, PrincipalType

ContextValues = dict[str, str | list[str]]
# The aws:Principal*/aws:userid/tag keys of a caller depend only on its Principal, and the
# credential cache hands out the same Principal object for every request it signs, so they are
# built once per Principal object rather than per request. The entry keeps its Principal alive,
# so its id() cannot be reused while cached; the bound keeps per-session principals (a new
# object per STS request) from growing it without limit.
_PRINCIPAL_CONTEXTS: dict[int, tuple[Principal, ContextValues]] = {}
_MAX_PRINCIPAL_CONTEXTS = 4096


def global_context(ctx: RequestContext) -> ContextValues:
    principal = ctx.principal
    now: datetime = ctx.call.event_time
    values: ContextValues = {
        "aws:CurrentTime": iso_seconds(now),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SecureTransport": "true" if ctx.network.secure_transport else "false",
        "aws:RequestedRegion": ctx.region,
        "aws:ViaAWSService": "false",
        "aws:PrincipalIsAWSService": "false",
        "kms:CallerAccount": principal.account_id,
    }
    values.update(_cached_principal_context(principal))
    if principal.session is not None and principal.session.mfa_authenticated:
        # Seconds since the MFA check that minted these credentials (their issue time).
        age = int((now - principal.session.issued_at).total_seconds())
        values["aws:MultiFactorAuthAge"] = str(max(age, 0))
    network = ctx.network
    if network.vpc_endpoint_id is not None:
        # Through a VPC endpoint AWS sets the endpoint keys and the private address, not SourceIp.
        values["aws:SourceVpce"] = network.vpc_endpoint_id
        if network.vpc_id is not None:
            values["aws:SourceVpc"] = network.vpc_id
        values["aws:VpcSourceIp"] = network.source_ip
    else:
        values["aws:SourceIp"] = network.source_ip
    return values


def _cached_principal_context(principal: Principal) -> ContextValues:
    """`principal_context(principal)`, memoised per Principal object (read-only: callers copy it)."""
    entry = _PRINCIPAL_CONTEXTS.get(id(principal))
    if entry is not None and entry[0] is principal:
        return entry[1]
    values = principal_context(principal)
    if len(_PRINCIPAL_CONTEXTS) >= _MAX_PRINCIPAL_CONTEXTS:
        _PRINCIPAL_CONTEXTS.clear()
    _PRINCIPAL_CONTEXTS[id(principal)] = (principal, values)
    return values


def principal_context(principal: Principal) -> ContextValues:
    values: ContextValues = {
        "aws:PrincipalArn": principal.identity_arn or principal.arn,
        "aws:PrincipalAccount": principal.account_id,
        "aws:PrincipalType": principal.type.value,
        "aws:userid": principal.principal_id,
    }
    if principal.type is PrincipalType.USER and principal.name:
        values["aws:username"] = principal.name
    for tag_key, tag_value in principal.tags.items():
        values[f"aws:PrincipalTag/{tag_key}"] = tag_value
    session = principal.session
    if session is not None:
        values["aws:TokenIssueTime"] = session.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        values["aws:MultiFactorAuthPresent"] = "true" if session.mfa_authenticated else "false"
        if session.source_identity:
            values["aws:SourceIdentity"] = session.source_identity
    return values


