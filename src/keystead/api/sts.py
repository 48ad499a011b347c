"""STS operations (awsQuery, 2011-06-15): the ones that need no role.

[STS-API:GetCallerIdentity] needs a signature but no permission. [STS-API:GetSessionToken] needs no
permission either; it is for long-term credentials of a user or the root user only (root sessions
last at most an hour: longer requests get an hour). [STS-API:GetFederationToken] needs
`sts:GetFederationToken` on the federated-user ARN; the session can do only what both the user's
policies and the passed session policies allow. Role assumption is in `sts_roles.py`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.sts_decode import AuthorizationMessageDecoder
from keystead.api.sts_common import StsDeps, credentials_result, refuse_session_caller
from keystead.api.sts_mfa import check_request_mfa
from keystead.api.sts_roles import RoleSessions
from keystead.api.sts_saml import SamlSessions
from keystead.api.sts_web_identity import WebIdentitySessions
from keystead.blocking import run_blocking
from keystead.errors import AccessDeniedError, ValidationError
from keystead.identity.ids import TEMPORARY_KEY_PREFIX
from keystead.identity.session_principals import (
    federated_principal,
    federated_user_arn,
    packed_policy_size,
    session_policy_documents,
    session_tags,
    token_session_principal,
)
from keystead.types import PrincipalType, SessionInfo

Params = dict[str, Any]
Result = dict[str, Any]
LONG_SESSION_DEFAULT = 43_200  # GetSessionToken / GetFederationToken
ROOT_SESSION_MAX = 3_600


class Sts:
    def __init__(self, deps: StsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "GetCallerIdentity": Handler(self.get_caller_identity, read_only=True),
            "GetSessionToken": Handler(self.get_session_token, read_only=True),
            "GetFederationToken": Handler(self.get_federation_token, read_only=True),
            "GetAccessKeyInfo": Handler(self.get_access_key_info, read_only=True),
        }

    async def get_caller_identity(self, ctx: RequestContext, params: Params) -> Result:
        principal = ctx.principal
        return {"user_id": principal.principal_id, "account": principal.account_id, "arn": principal.arn}

    async def get_session_token(self, ctx: RequestContext, params: Params) -> Result:
        refuse_session_caller(ctx, "GetSessionToken")
        caller = ctx.principal
        if caller.type not in (PrincipalType.USER, PrincipalType.ROOT):
            raise AccessDeniedError("Cannot call GetSessionToken with session credentials")
        mfa = await check_request_mfa(self._deps, caller, params)
        duration = params.get("duration_seconds") or LONG_SESSION_DEFAULT
        if caller.is_root:
            duration = min(duration, ROOT_SESSION_MAX)
        now = ctx.call.event_time
        principal = token_session_principal(caller, now, now + timedelta(seconds=duration), mfa=mfa)
        issued = await self._deps.sessions.issue(principal)
        return {"credentials": credentials_result(issued)}

    async def get_federation_token(self, ctx: RequestContext, params: Params) -> Result:
        refuse_session_caller(ctx, "GetFederationToken")
        caller = ctx.principal
        name = params["name"]
        tags, _ = session_tags(params.get("tags"), None)
        target = federated_user_arn(caller.account_id, name)
        resource = ResourceAccess(target, caller.account_id, "AWS::STS::FederatedUser")
        extra: dict[str, str | list[str]] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
        if tags:
            extra["aws:TagKeys"] = list(tags)
        await ctx.authorize("sts:GetFederationToken", resource, extra)
        if tags:
            await ctx.authorize("sts:TagSession", resource, extra)
        duration = params.get("duration_seconds") or LONG_SESSION_DEFAULT
        if caller.is_root:
            duration = min(duration, ROOT_SESSION_MAX)
        inline, arns = params.get("policy"), params.get("policy_arns")
        size = packed_policy_size(inline, arns, tags)
        documents = await run_blocking(self._documents, caller.account_id, inline, arns)
        now = ctx.call.event_time
        session = SessionInfo(
            issuer_arn=caller.arn, issuer_id=caller.principal_id, session_name=name, issued_at=now,
            expires_at=now + timedelta(seconds=duration), session_policies=documents,
        )
        # A federated user's principal tags are its session tags only [IAM:id_session-tags].
        issued = await self._deps.sessions.issue(federated_principal(caller, name, session, tags))
        return {
            "credentials": credentials_result(issued),
            "federated_user": {"federated_user_id": issued.principal.principal_id, "arn": issued.principal.arn},
            "packed_policy_size": size,
        }

    def _documents(self, account_id: str, inline: str | None, arns: Any) -> tuple[str, ...]:
        with self._deps.db.reader() as tx:
            return session_policy_documents(tx, account_id, inline, arns)

    async def get_access_key_info(self, ctx: RequestContext, params: Params) -> Result:
        access_key_id = params["access_key_id"]
        await ctx.authorize("sts:GetAccessKeyInfo")
        caller = ctx.principal
        if access_key_id == caller.access_key_id:
            return {"account": caller.account_id}
        if not access_key_id.startswith(TEMPORARY_KEY_PREFIX):
            row = await run_blocking(self._access_key, access_key_id)
            if row is not None:
                return {"account": row.account_id}
        # AWS decodes the account from the key id itself; ours are random, and temporary keys of
        # other sessions are known only inside their tokens (docs/compatibility.md).
        raise ValidationError(f"The access key ID {access_key_id} is not valid or its account is unknown.")

    def _access_key(self, access_key_id: str) -> Any:
        with self._deps.db.reader() as tx:
            return tx.get_access_key(access_key_id)


def sts_handlers(deps: StsDeps) -> Handlers:
    """Every implemented STS operation."""
    handlers = Sts(deps).handlers()
    handlers.update(RoleSessions(deps).handlers())
    handlers.update(WebIdentitySessions(deps).handlers())
    handlers.update(SamlSessions(deps).handlers())
    if deps.messages is not None:
        handlers.update(AuthorizationMessageDecoder(deps, deps.messages).handlers())
    return handlers
