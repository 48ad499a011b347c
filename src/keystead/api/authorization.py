"""The single `authorize()` seam of the pipeline, backed by the policy engine.

For every request it gathers the policies that bear on it (the key policy as a strict
resource policy, the caller's identity policies, boundary and session policies), the request
context (global aws:* keys plus the operation's and the resource's keys), asks
`keystead.policy.evaluate`, and turns a denial into AWS's AccessDenied message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from keystead.api.conditions import global_context
from keystead.api.context import RequestContext, ResourceAccess
from keystead.blocking import run_blocking
from keystead.errors import AccessDeniedError, MalformedPolicyDocumentError
from keystead.identity.directory import PrincipalDirectory
from keystead.identity.policies import IdentityPolicies  # re-exported: the identity layer builds it
from keystead.keystore.policies import MAX_POLICY_BYTES
from keystead.policy import (
    AuthzRequest,
    Decision,
    EvaluationInput,
    MatchedStatement,
    Policy,
    PolicyKind,
    PrincipalInfo,
    denial_message,
    evaluate,
    parse_policy,
)
from keystead.types import Principal

LOCKOUT_MESSAGE = "The new key policy will not allow you to update the key policy in the future."


class IdentityPolicySource(Protocol):
    async def for_principal(self, principal: Principal) -> IdentityPolicies:
        """The compiled identity policies that apply to `principal` (cached by the source)."""
        ...


class GrantSource(Protocol):
    async def allows(
        self, ctx: RequestContext, action: str, resource: ResourceAccess, context: Mapping[str, str | list[str]]
    ) -> Sequence[MatchedStatement]:
        """The grants on `resource` that allow `action` for the caller (constraints applied)."""
        ...


class EndpointPolicySource(Protocol):
    async def policy_for(self, vpc_endpoint_id: str) -> Policy | None:
        """The endpoint policy of a VPC endpoint (None: the default full-access policy)."""
        ...


class DenialEncoder(Protocol):
    services: frozenset[str]

    async def encode(self, principal: Principal, inp: EvaluationInput, decision: Decision) -> str:
        """The encoded authorization failure message of a denial (for DecodeAuthorizationMessage)."""
        ...


class RootOnlyIdentities:
    """Identity policies before IAM exists: the root user needs none, nobody else has any."""

    async def for_principal(self, principal: Principal) -> IdentityPolicies:
        return IdentityPolicies()


def principal_info(principal: Principal) -> PrincipalInfo:
    return PrincipalInfo(
        arn=principal.arn,
        account_id=principal.account_id,
        type=principal.type.value,
        identity_arn=principal.identity_arn if principal.identity_arn != principal.arn else None,
    )


class PolicyAuthorizer:
    def __init__(
        self,
        identities: IdentityPolicySource,
        directory: PrincipalDirectory,
        grants: GrantSource | None = None,
        endpoints: EndpointPolicySource | None = None,
        denials: DenialEncoder | None = None,
    ) -> None:
        self._identities = identities
        self._denials = denials
        self._directory = directory
        self._grants = grants
        self._endpoints = endpoints

    async def authorize(
        self,
        ctx: RequestContext,
        action: str,
        resource: ResourceAccess | None,
        extra_context: Mapping[str, str | list[str]] | None = None,
    ) -> None:
        """Raises AccessDeniedError unless the policies allow `action` on `resource`."""
        identity = await self._identities.for_principal(ctx.principal)
        context = global_context(ctx)
        if resource is not None:
            context.update(resource.context)
        if extra_context:
            context.update(extra_context)
        inp = self._input(ctx.principal, action, resource, context, identity)
        extras: Sequence[MatchedStatement] = ()
        if self._grants is not None and resource is not None:
            extras = await self._grants.allows(ctx, action, resource, context)
        endpoint_policy = None
        if self._endpoints is not None and ctx.network.vpc_endpoint_id is not None:
            endpoint_policy = await self._endpoints.policy_for(ctx.network.vpc_endpoint_id)
        if extras or endpoint_policy is not None:
            inp = replace(inp, extra_allows=tuple(extras), endpoint_policy=endpoint_policy)
        decision = evaluate(inp)
        if not decision.allowed:
            target = resource.arn if resource is not None else "*"
            message = denial_message(ctx.principal.arn, action, target, decision, service=ctx.call.service)
            if self._denials is not None and ctx.call.service in self._denials.services:
                encoded = await self._denials.encode(ctx.principal, inp, decision)
                message += f". Encoded authorization failure message: {encoded}"
            raise AccessDeniedError(message)

    @staticmethod
    def _input(
        principal: Principal,
        action: str,
        resource: ResourceAccess | None,
        context: Mapping[str, str | list[str]],
        identity: IdentityPolicies,
        resource_policy: Policy | None = None,
    ) -> EvaluationInput:
        if resource_policy is None and resource is not None and resource.policy is not None:
            name = "trust policy" if resource.policy_kind is PolicyKind.TRUST else "key policy"
            resource_policy = parse_policy(resource.policy, resource.policy_kind, name=name)
        return EvaluationInput(
            request=AuthzRequest(
                principal=principal_info(principal),
                action=action,
                resource=resource.arn if resource is not None else "*",
                context=context,
            ),
            resource_account=resource.account_id if resource is not None else None,
            resource_policy=resource_policy,
            resource_policy_strict=resource_policy is not None,
            identity_policies=identity.policies,
            permission_boundary=identity.boundary,
            session_policies=identity.session,
        )

    async def validate_key_policy(
        self, ctx: RequestContext, text: str, key: ResourceAccess | None, bypass_lockout: bool
    ) -> None:
        """Check a key policy for CreateKey/PutKeyPolicy, including the lockout safety check.

        Raises:
            MalformedPolicyDocumentError: invalid, names principals that don't exist, or would lock
                the caller out of PutKeyPolicy (unless the check is bypassed).
            LimitExceededError: larger than 32 KB.
        """
        policy = await run_blocking(
            parse_policy, text, PolicyKind.RESOURCE, name="key policy",
            principal_exists=self._directory.exists, max_size=MAX_POLICY_BYTES,
        )
        if bypass_lockout:
            return
        # Would the caller still be allowed to PutKeyPolicy on the key under the new policy?
        target = key or ResourceAccess(
            arn=f"arn:aws:kms:{ctx.region}:{ctx.principal.account_id}:key/*",
            account_id=ctx.principal.account_id,
            type="AWS::KMS::Key",
        )
        identity = await self._identities.for_principal(ctx.principal)
        context = global_context(ctx)
        context.update(target.context)
        context["kms:BypassPolicyLockoutSafetyCheck"] = "false"
        decision = evaluate(self._input(ctx.principal, "kms:PutKeyPolicy", target, context, identity, policy))
        if not decision.allowed:
            raise MalformedPolicyDocumentError(LOCKOUT_MESSAGE)
