"""AssumeRoleWithWebIdentity (unsigned): an OIDC ID token buys a session of a role that trusts
the token's provider. [STS-API:AssumeRoleWithWebIdentity][IAM:id_roles_providers_oidc]

The trust policy is evaluated for a caller that is the provider itself (`Principal.Federated`),
with the provider's condition keys: `<host/path>:aud`, `:sub`, `:amr`, plus `sts:RoleSessionName`.
"""

from __future__ import annotations

import json
from typing import Any

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.sts_common import Params, Result, StsDeps
from keystead.api.sts_roles import (
    ROLE_SESSION_DEFAULT,
    AssumableRole,
    SessionRequest,
    check_duration,
    issue_role_session,
    load_role,
    role_session_result,
)
from keystead.arn import parse_arn
from keystead.blocking import run_blocking
from keystead.errors import AccessDeniedError, InvalidIdentityTokenError
from keystead.identity.oidc import IdToken, JwksCache, decode_token, provider_path, verify_token
from keystead.policy import AuthzRequest, EvaluationInput, PolicyKind, PrincipalInfo, evaluate, parse_policy
from keystead.storage.rows import OidcProviderRow

ACTION = "sts:AssumeRoleWithWebIdentity"


class WebIdentitySessions:
    def __init__(self, deps: StsDeps, jwks: JwksCache | None = None) -> None:
        self._deps = deps
        self._jwks = jwks or JwksCache()

    def handlers(self) -> Handlers:
        return {"AssumeRoleWithWebIdentity": Handler(self.assume_role_with_web_identity, read_only=True)}

    async def assume_role_with_web_identity(self, ctx: RequestContext, params: Params) -> Result:
        token = decode_token(params["web_identity_token"])
        role_arn = params["role_arn"]
        parsed = parse_arn(role_arn)
        account = parsed.account if parsed is not None else ""
        provider_arn = f"arn:aws:iam::{account}:oidc-provider/{provider_path(token.issuer)}"
        provider, role = await run_blocking(self._load, provider_arn, role_arn)
        if provider is None:
            raise InvalidIdentityTokenError(f"No OpenIDConnect provider found in your account for {token.issuer}")
        audience = await verify_token(token, self._jwks, json.loads(provider.client_ids), ctx.call.event_time)
        if role is None or not self._trusts(ctx, role, provider_arn, token, audience, params):
            raise AccessDeniedError(f"Not authorized to perform {ACTION}")
        duration = params.get("duration_seconds") or ROLE_SESSION_DEFAULT
        check_duration(duration, role, chained=False)
        request = SessionRequest(
            session_name=params["role_session_name"], duration=duration, issued_at=ctx.call.event_time,
            inline_policy=params.get("policy"), policy_arns=params.get("policy_arns"),
        )
        issued, size = await issue_role_session(self._deps.db, self._deps, role, request)
        result = role_session_result(issued, size if params.get("policy") or params.get("policy_arns") else None, None)
        result.update(
            subject_from_web_identity_token=str(token.claims.get("sub", "")),
            provider=token.issuer,
            audience=audience,
        )
        return result

    def _load(self, provider_arn: str, role_arn: str) -> tuple[OidcProviderRow | None, AssumableRole | None]:
        with self._deps.db.reader() as tx:
            provider = tx.get_oidc_provider(provider_arn)
        return provider, load_role(self._deps.db, role_arn)

    @staticmethod
    def _trusts(
        ctx: RequestContext, role: AssumableRole, provider_arn: str, token: IdToken, audience: str, params: Params
    ) -> bool:
        prefix = provider_arn.split("oidc-provider/", 1)[1]
        now = ctx.call.event_time
        context: dict[str, Any] = {
            "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": str(int(now.timestamp())),
            "aws:SecureTransport": "true" if ctx.network.secure_transport else "false",
            "aws:SourceIp": ctx.network.source_ip,
        }
        context.update({
            f"{prefix}:aud": audience,
            f"{prefix}:sub": str(token.claims.get("sub", "")),
            "sts:RoleSessionName": params["role_session_name"],
            "aws:FederatedProvider": provider_arn,
        })
        amr = token.claims.get("amr")
        if isinstance(amr, list):
            context[f"{prefix}:amr"] = [str(v) for v in amr]
        # The caller has no account and no identity policies: only the trust policy can allow.
        caller = PrincipalInfo(arn=provider_arn, account_id="", type="Anonymous", federated=provider_arn)
        decision = evaluate(EvaluationInput(
            request=AuthzRequest(principal=caller, action=ACTION, resource=role.arn, context=context),
            resource_account=role.account_id,
            resource_policy=parse_policy(role.trust_policy, PolicyKind.TRUST, name="trust policy"),
            resource_policy_strict=True,
        ))
        return decision.allowed

