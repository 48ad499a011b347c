"""AssumeRoleWithSAML (unsigned): a signed SAML 2.0 Response buys a session of a role that trusts
the Response's identity provider. [STS-API:AssumeRoleWithSAML][IAM:id_roles_providers_saml]

The provider (`PrincipalArn`, an IAM SAML provider) holds the IdP's metadata: its entityID must be
the assertion's Issuer and one of its signing certificates must verify the signature. The
assertion's Role attribute must offer the pair (RoleArn, PrincipalArn). The trust policy is then
evaluated for a caller that is the provider itself (`Principal.Federated`), with the `saml:*`
condition keys; session tags (PrincipalTag attributes) need `sts:TagSession` and a SourceIdentity
attribute `sts:SetSourceIdentity` in the same trust policy.
"""

from __future__ import annotations

import functools
from datetime import datetime
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
from keystead.blocking import run_blocking
from keystead.errors import AccessDeniedError, ExpiredWebIdentityTokenError, InvalidIdentityTokenError
from keystead.identity import saml_claims
from keystead.identity.iam.saml import SamlMetadata, parse_metadata
from keystead.identity.saml_assertions import SamlAssertion, check_assertion, decode_response, verify_response
from keystead.identity.session_principals import session_tags
from keystead.policy import AuthzRequest, EvaluationInput, PolicyKind, PrincipalInfo, evaluate, parse_policy
from keystead.storage.rows import SamlProviderRow

ACTION = "sts:AssumeRoleWithSAML"
_DENIED = f"Not authorized to perform {ACTION}"


@functools.lru_cache(maxsize=128)
def _metadata(document: str) -> SamlMetadata:
    # Metadata changes only through UpdateSAMLProvider, which stores a new document: keying the
    # cache by the document itself makes invalidation automatic.
    return parse_metadata(document)


class SamlSessions:
    def __init__(self, deps: StsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {"AssumeRoleWithSAML": Handler(self.assume_role_with_saml, read_only=True)}

    async def assume_role_with_saml(self, ctx: RequestContext, params: Params) -> Result:
        xml = decode_response(params["saml_assertion"])
        role_arn, provider_arn = params["role_arn"], params["principal_arn"]
        provider, role = await run_blocking(self._load, provider_arn, role_arn)
        if provider is None:
            raise InvalidIdentityTokenError("Specified provider doesn't exist")
        metadata = _metadata(provider.metadata_document)
        now = ctx.call.event_time
        assertion = await run_blocking(verify_response, xml, metadata.signing_certificates)
        check_assertion(assertion, metadata.entity_id, now)
        if role is None or not saml_claims.offers_role(assertion, role_arn, provider_arn):
            raise AccessDeniedError(_DENIED)
        request = self._session_request(assertion, role, params, now)
        self._authorize(ctx, role, provider, assertion, request)
        issued, size = await issue_role_session(self._deps.db, self._deps, role, request)
        packed = params.get("policy") or params.get("policy_arns") or request.tags
        result = role_session_result(issued, size if packed else None, request.source_identity)
        result.update(
            subject=assertion.subject,
            subject_type=saml_claims.subject_type(assertion),
            issuer=assertion.issuer,
            # AWS answers the Recipient URL as Audience, not the AudienceRestriction [STS-API].
            audience=_recipient(assertion),
            name_qualifier=saml_claims.name_qualifier(assertion.issuer, role.account_id, provider.name),
        )
        return result

    def _load(self, provider_arn: str, role_arn: str) -> tuple[SamlProviderRow | None, AssumableRole | None]:
        with self._deps.db.reader() as tx:
            provider = tx.get_saml_provider(provider_arn)
        return provider, load_role(self._deps.db, role_arn)

    @staticmethod
    def _session_request(
        assertion: SamlAssertion, role: AssumableRole, params: Params, now: datetime
    ) -> SessionRequest:
        """Raises: InvalidIdentityTokenError, ValidationError, ExpiredWebIdentityTokenError."""
        name = saml_claims.session_name(assertion)
        raw_tags, transitive = saml_claims.principal_tags(assertion)
        tags, transitive_keys = session_tags(raw_tags, transitive)
        # DurationSeconds overrides the IdP's SessionDuration attribute [STS-API:AssumeRoleWithSAML].
        duration = (
            params.get("duration_seconds") or saml_claims.session_duration(assertion) or ROLE_SESSION_DEFAULT
        )
        check_duration(duration, role, chained=False)
        if assertion.session_not_on_or_after is not None:
            # The session ends at the IdP's SessionNotOnOrAfter when that comes first [STS-API].
            remaining = int((assertion.session_not_on_or_after - now).total_seconds())
            if remaining <= 0:
                raise ExpiredWebIdentityTokenError("Token must be redeemed within 5 minutes of issuance")
            duration = min(duration, remaining)
        return SessionRequest(
            session_name=name, duration=duration, issued_at=now,
            inline_policy=params.get("policy"), policy_arns=params.get("policy_arns"),
            tags=tags, transitive_tag_keys=transitive_keys,
            source_identity=saml_claims.source_identity(assertion),
        )

    @staticmethod
    def _authorize(
        ctx: RequestContext, role: AssumableRole, provider: SamlProviderRow, assertion: SamlAssertion,
        request: SessionRequest,
    ) -> None:
        """Raises: AccessDeniedError: the trust policy does not allow every action the session needs."""
        context = _trust_context(ctx, role, provider, assertion, request)
        caller = PrincipalInfo(arn=provider.provider_arn, account_id="", type="Anonymous",
                               federated=provider.provider_arn)
        trust = parse_policy(role.trust_policy, PolicyKind.TRUST, name="trust policy")
        actions = [ACTION]
        if request.tags:
            actions.append("sts:TagSession")
        if request.source_identity is not None:
            actions.append("sts:SetSourceIdentity")
        for action in actions:
            # The caller has no account and no identity policies: only the trust policy can allow.
            decision = evaluate(EvaluationInput(
                request=AuthzRequest(principal=caller, action=action, resource=role.arn, context=context),
                resource_account=role.account_id, resource_policy=trust, resource_policy_strict=True,
            ))
            if not decision.allowed:
                raise AccessDeniedError(_DENIED)


def _recipient(assertion: SamlAssertion) -> str:
    return assertion.recipients[0] if assertion.recipients else ""


def _trust_context(
    ctx: RequestContext, role: AssumableRole, provider: SamlProviderRow, assertion: SamlAssertion,
    request: SessionRequest,
) -> dict[str, Any]:
    now = request.issued_at
    context: dict[str, Any] = {
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SecureTransport": "true" if ctx.network.secure_transport else "false",
        "aws:SourceIp": ctx.network.source_ip,
        "aws:FederatedProvider": provider.provider_arn,
        "aws:ResourceAccount": role.account_id,
        "sts:RoleSessionName": request.session_name,
    }
    context.update({f"aws:ResourceTag/{k}": v for k, v in role.tags.items()})
    recipient = _recipient(assertion)
    context.update(saml_claims.condition_keys(assertion, recipient, role.account_id, provider.name))
    if request.tags:
        context["aws:TagKeys"] = list(request.tags)
        context.update({f"aws:RequestTag/{k}": v for k, v in request.tags.items()})
    if request.transitive_tag_keys:
        context["sts:TransitiveTagKeys"] = list(request.transitive_tag_keys)
    if request.source_identity is not None:
        context["sts:SourceIdentity"] = request.source_identity
    return context
