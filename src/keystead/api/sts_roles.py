"""AssumeRole: the role's trust policy decides, as a strict resource policy on the role.

[IAM:id_roles_use_permissions-to-switch][IAM:reference_policies_evaluation-logic-cross-account]
In the role's account a trust policy that names the caller (user ARN, role ARN behind a session,
or session ARN) suffices; one that names only the account delegates to the caller's identity
policies, which must allow `sts:AssumeRole` on the role. Across accounts both sides must allow.
Passing tags needs `sts:TagSession`, a SourceIdentity `sts:SetSourceIdentity`, both in the trust
policy too. [IAM:id_roles_terms-and-concepts#iam-term-role-chaining] A role session assuming a
role gets at most an hour. The root user cannot assume roles at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from keystead import arn
from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.sts_common import Params, Result, StsDeps, credentials_result
from keystead.api.sts_mfa import check_request_mfa, mfa_context
from keystead.blocking import run_blocking
from keystead.errors import AccessDeniedError, ValidationError
from keystead.identity.iam.lookup import find_role
from keystead.identity.session_principals import (
    inherited_transitive_tags,
    merged_principal_tags,
    packed_policy_size,
    role_session_principal,
    session_policy_documents,
    session_tags,
)
from keystead.identity.sessions import IssuedCredentials
from keystead.policy import PolicyKind
from keystead.storage import Database
from keystead.types import Principal, PrincipalType, SessionInfo

ROLE_SESSION_DEFAULT = 3_600
CHAINED_SESSION_MAX = 3_600
ROLE_TYPE = "AWS::IAM::Role"


@dataclass(frozen=True, slots=True)
class AssumableRole:
    """A role as STS needs it: identity, trust policy, session limit and tags."""

    arn: str
    account_id: str
    role_id: str
    name: str
    path: str
    trust_policy: str
    max_session_duration: int
    tags: Mapping[str, str]

    def resource(self, context: Mapping[str, str | list[str]]) -> ResourceAccess:
        """The role as the trust-policy evaluation sees it."""
        full = {"aws:ResourceAccount": self.account_id, **context}
        for key, value in self.tags.items():
            full[f"aws:ResourceTag/{key}"] = value
        return ResourceAccess(
            self.arn, self.account_id, ROLE_TYPE, policy=self.trust_policy, policy_kind=PolicyKind.TRUST,
            context=full,
        )


def load_role(db: Database, role_arn: str) -> AssumableRole | None:
    """The role an ARN names exactly (path and name as stored), or None. Blocking."""
    parsed = arn.parse_arn(role_arn)
    if parsed is None or parsed.service != "iam" or not parsed.resource.startswith("role/"):
        return None
    path, _, name = ("/" + parsed.resource[len("role/"):]).rpartition("/")
    with db.reader() as tx:
        row = find_role(tx, parsed.account, name)
        if row is None or row.role_name != name or row.path != path + "/":
            return None
        tags = tx.entity_tags(row.role_id)
    return AssumableRole(
        role_arn, row.account_id, row.role_id, row.role_name, row.path, row.assume_role_policy,
        row.max_session_duration, tags,
    )


def not_authorized(caller_arn: str, action: str, role_arn: str) -> AccessDeniedError:
    return AccessDeniedError(f"User: {caller_arn} is not authorized to perform: {action} on resource: {role_arn}")


def check_duration(duration: int, role: AssumableRole, chained: bool) -> None:
    """Raises ValidationError: above the role's MaxSessionDuration or, chained, above an hour."""
    if duration > role.max_session_duration:
        raise ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    if chained and duration > CHAINED_SESSION_MAX:
        raise ValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """What a caller asks of a new role session, checked; shared by every AssumeRole* flavour."""

    session_name: str
    duration: int
    issued_at: datetime
    inline_policy: str | None = None
    policy_arns: Sequence[Mapping[str, str]] | None = None
    tags: Mapping[str, str] | None = None
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None
    mfa: bool = False


async def issue_role_session(
    db: Database, deps: StsDeps, role: AssumableRole, request: SessionRequest
) -> tuple[IssuedCredentials, int]:
    """Credentials for a session of `role`, and the PackedPolicySize (percent).

    Raises:
        MalformedPolicyDocumentError: an invalid session policy or an unknown policy ARN.
        PackedPolicyTooLargeError: session policies and tags too large.
    """
    tags = dict(request.tags or {})
    size = packed_policy_size(request.inline_policy, request.policy_arns, tags)

    def documents() -> tuple[str, ...]:
        with db.reader() as tx:
            return session_policy_documents(tx, role.account_id, request.inline_policy, request.policy_arns)

    session = SessionInfo(
        issuer_arn=role.arn, issuer_id=role.role_id, session_name=request.session_name,
        issued_at=request.issued_at, expires_at=request.issued_at + timedelta(seconds=request.duration),
        mfa_authenticated=request.mfa, source_identity=request.source_identity,
        session_policies=await run_blocking(documents), transitive_tag_keys=request.transitive_tag_keys,
    )
    # aws:PrincipalTag: session tags override the role's own tags [IAM:id_session-tags].
    principal = role_session_principal(
        role.account_id, role.name, role.path, role.role_id, session, merged_principal_tags(role.tags, tags)
    )
    return await deps.sessions.issue(principal), size


def role_session_result(issued: IssuedCredentials, size: int | None, source_identity: str | None) -> Result:
    result: Result = {
        "credentials": credentials_result(issued),
        "assumed_role_user": {"assumed_role_id": issued.principal.principal_id, "arn": issued.principal.arn},
    }
    if size is not None:
        result["packed_policy_size"] = size
    if source_identity is not None:
        result["source_identity"] = source_identity
    return result


class RoleSessions:
    def __init__(self, deps: StsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {"AssumeRole": Handler(self.assume_role, read_only=True)}

    async def assume_role(self, ctx: RequestContext, params: Params) -> Result:
        caller = ctx.principal
        if caller.is_root:
            raise AccessDeniedError("Roles may not be assumed by root accounts.")
        role = await run_blocking(load_role, self._deps.db, params["role_arn"])
        if role is None:
            # AWS does not tell a caller whether a role it may not assume exists.
            raise not_authorized(caller.arn, "sts:AssumeRole", params["role_arn"])
        mfa = await check_request_mfa(self._deps, caller, params)
        request = await self._authorized_request(ctx, caller, role, params, mfa)
        issued, size = await issue_role_session(self._deps.db, self._deps, role, request)
        packed = size if params.get("policy") or params.get("policy_arns") or params.get("tags") else None
        return role_session_result(issued, packed, request.source_identity)

    async def _authorized_request(
        self, ctx: RequestContext, caller: Principal, role: AssumableRole, params: Params, mfa: bool
    ) -> SessionRequest:
        new_tags, new_transitive = session_tags(params.get("tags"), params.get("transitive_tag_keys"))
        inherited, inherited_keys = inherited_transitive_tags(caller)
        clash = {k.lower() for k in inherited} & {k.lower() for k in new_tags}
        if clash:
            raise ValidationError(
                f"Cannot override transitive session tag {sorted(clash)[0]} inherited from the calling session."
            )
        source_identity = self._source_identity(caller, params.get("source_identity"))
        context = _trust_context(params, new_tags, new_transitive, source_identity)
        if mfa:
            context.update(mfa_context())
        resource = role.resource(context)
        await ctx.authorize("sts:AssumeRole", resource)
        if new_tags or new_transitive:
            await ctx.authorize("sts:TagSession", resource)
        if params.get("source_identity") is not None:
            await ctx.authorize("sts:SetSourceIdentity", resource)
        duration = params.get("duration_seconds") or ROLE_SESSION_DEFAULT
        check_duration(duration, role, chained=caller.type is PrincipalType.ASSUMED_ROLE)
        return SessionRequest(
            session_name=params["role_session_name"], duration=duration, issued_at=ctx.call.event_time,
            inline_policy=params.get("policy"), policy_arns=params.get("policy_arns"),
            tags={**inherited, **new_tags}, transitive_tag_keys=tuple(dict.fromkeys(inherited_keys + new_transitive)),
            source_identity=source_identity, mfa=mfa,
        )

    @staticmethod
    def _source_identity(caller: Principal, requested: str | None) -> str | None:
        """The chain's SourceIdentity: set once, then inherited and unchangeable [STS-API:AssumeRole].

        Raises:
            ValidationError: a reserved `aws:` value, or an attempt to change an inherited one.
        """
        inherited = caller.session.source_identity if caller.session is not None else None
        if requested is None:
            return inherited
        if requested.lower().startswith("aws:"):
            raise ValidationError("SourceIdentity cannot begin with the reserved prefix 'aws:'.")
        if inherited is not None and requested != inherited:
            raise ValidationError("The SourceIdentity of a role session cannot be changed once it is set.")
        return requested


def _trust_context(
    params: Params, tags: Mapping[str, str], transitive: Sequence[str], source_identity: str | None
) -> dict[str, str | list[str]]:
    """The sts:* and aws:RequestTag keys a trust policy's conditions can test [IAM-055]."""
    context: dict[str, str | list[str]] = {"sts:RoleSessionName": params["role_session_name"]}
    if params.get("external_id") is not None:
        context["sts:ExternalId"] = params["external_id"]
    if source_identity is not None:
        context["sts:SourceIdentity"] = source_identity
    if params.get("duration_seconds") is not None:
        context["sts:DurationSeconds"] = str(params["duration_seconds"])
    if tags:
        context["aws:TagKeys"] = list(tags)
        for key, value in tags.items():
            context[f"aws:RequestTag/{key}"] = value
    if transitive:
        context["sts:TransitiveTagKeys"] = list(transitive)
    return context


__all__ = ["AssumableRole", "RoleSessions", "SessionRequest", "issue_role_session", "load_role"]
