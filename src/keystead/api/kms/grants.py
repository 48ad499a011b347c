"""KMS grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant (kms.md §7)."""

from __future__ import annotations

import dataclasses
from typing import Any

from keystead import arn
from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.kms.common import KmsDeps, Params, Result, key_resource, resolve_key
from keystead.blocking import run_blocking
from keystead.errors import (
    AccessDeniedError,
    DryRunOperationError,
    NotFoundError,
    UnsupportedOperationError,
    ValidationError,
)
from keystead.keystore import states
from keystead.keystore.grant_service import Created, GrantPage, GrantService
from keystead.keystore.grants import Grant, NewGrant, check_grant_id, check_principal, parse_new_grant
from keystead.keystore.keys import KeyRef

DRY_RUN_MESSAGE = "The request would have succeeded, but the DryRun option is set."


class GrantOperations:
    def __init__(self, deps: KmsDeps, grants: GrantService) -> None:
        self._deps = deps
        self._grants = grants

    def handlers(self) -> Handlers:
        return {
            "CreateGrant": Handler(self.create_grant, read_only=False),
            "ListGrants": Handler(self.list_grants, read_only=True),
            "ListRetirableGrants": Handler(self.list_retirable_grants, read_only=True),
            "RetireGrant": Handler(self.retire_grant, read_only=False),
            "RevokeGrant": Handler(self.revoke_grant, read_only=False),
        }

    async def create_grant(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        request = parse_new_grant(params, ref.key.key_spec, ref.key.key_usage)
        await ctx.authorize("kms:CreateGrant", key_resource(ref), create_grant_context(request))
        states.check_usable(ref.arn, ref.key.key_state)
        _dry_run(params)

        holder: list[Created] = []

        def create(tx: Any) -> Result:
            created = self._grants.create(tx, ref.key, request)
            holder.append(created)
            return {"grant_token": created.token, "grant_id": created.grant.grant_id}

        result = await ctx.mutate(create)
        self._grants.committed_create(holder[0])
        return result

    async def list_grants(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:ListGrants", key_resource(ref), {"kms:GrantIsForAWSResource": "false"})
        if params.get("grantee_service_principal"):
            raise UnsupportedOperationError("Service principal grants are not supported by this server.")
        grant_id = params.get("grant_id")
        if grant_id is not None:
            check_grant_id(grant_id)
        page = await run_blocking(
            self._grants.list_for_key, ref.key.key_id, grantee=params.get("grantee_principal"),
            grant_id=grant_id, limit=params.get("limit"), marker=params.get("marker"),
        )
        return page_result(page)

    async def list_retirable_grants(self, ctx: RequestContext, params: Params) -> Result:
        if params.get("retiring_service_principal"):
            raise UnsupportedOperationError("Service principal grants are not supported by this server.")
        retiring = params.get("retiring_principal")
        if retiring is None:
            raise ValidationError("You must specify either RetiringPrincipal or RetiringServicePrincipal.")
        check_principal(retiring)
        await ctx.authorize("kms:ListRetirableGrants")
        parsed = arn.parse_arn(retiring)
        if parsed is None or parsed.account != ctx.principal.account_id:
            # "You must specify a principal in your AWS account" [API:ListRetirableGrants].
            raise AccessDeniedError(
                f"User: {ctx.principal.arn} is not authorized to perform: kms:ListRetirableGrants "
                f"on resource: {retiring} because the principal is not in the caller's account"
            )
        page = await run_blocking(
            self._grants.list_retirable, retiring, ctx.region,
            limit=params.get("limit"), marker=params.get("marker"),
        )
        return page_result(page)

    async def retire_grant(self, ctx: RequestContext, params: Params) -> Result:
        ref, grant_id = await self._retire_target(ctx, params)
        # The grant decides who may retire it; the key policy plays no part ([DG:grant-manage]), so
        # the key is presented without it: the issuing account's identities (root, or IAM-delegated
        # kms:RetireGrant) and the grant's retiring principal / grantee (via the grant source) pass.
        resource = dataclasses.replace(key_resource(ref), policy=None)
        await ctx.authorize("kms:RetireGrant", resource)
        return await self._delete(ctx, params, ref, grant_id)

    async def revoke_grant(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:RevokeGrant", key_resource(ref), {"kms:GrantIsForAWSResource": "false"})
        check_grant_id(params["grant_id"])
        return await self._delete(ctx, params, ref, params["grant_id"])

    async def _retire_target(self, ctx: RequestContext, params: Params) -> tuple[KeyRef, str]:
        token = params.get("grant_token")
        if token is not None:
            grant = self._grants.open_token(token).grant
            ref = await self._deps.keys.ref(grant.key_id)
            if ref is None:
                raise NotFoundError(f"Grant ID {grant.grant_id} not found")
            return ref, grant.grant_id
        if params.get("key_id") is None or params.get("grant_id") is None:
            raise ValidationError("Either GrantToken, or both KeyId and GrantId, must be specified.")
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        check_grant_id(params["grant_id"])
        return ref, params["grant_id"]

    async def _delete(self, ctx: RequestContext, params: Params, ref: KeyRef, grant_id: str) -> Result:
        if params.get("dry_run"):
            await run_blocking(self._grants.load, ref.key.key_id, grant_id)  # NotFound beats DryRun
            _dry_run(params)
        versions: list[int] = []

        def delete(tx: Any) -> Result:
            versions.append(self._grants.delete(tx, ref.key.key_id, grant_id))
            return {}

        result = await ctx.mutate(delete)
        self._grants.committed_delete(ref.key.key_id, grant_id, versions[0])
        return result


def create_grant_context(request: NewGrant) -> dict[str, str | list[str]]:
    """CreateGrant's condition keys [DG:conditions-kms]: the grant's shape, and its constraint's context."""
    context: dict[str, str | list[str]] = {
        "kms:GrantOperations": list(request.operations),
        "kms:GranteePrincipal": request.grantee,
        "kms:GrantIsForAWSResource": "false",
    }
    if request.retiring is not None:
        context["kms:RetiringPrincipal"] = request.retiring
    constraint = request.constraint
    if constraint is not None:
        context["kms:GrantConstraintType"] = constraint.type
        # kms:EncryptionContext:* on CreateGrant are evaluated against the constraint's pairs.
        context.update({f"kms:EncryptionContext:{k}": v for k, v in constraint.context.items()})
        context["kms:EncryptionContextKeys"] = list(constraint.context)
    return context


def grant_entry(grant: Grant) -> Result:
    """A GrantListEntry (snake_case members)."""
    entry: Result = {
        "key_id": grant.key_arn,
        "grant_id": grant.grant_id,
        "creation_date": grant.creation_date,
        "grantee_principal": grant.grantee,
        "issuing_account": arn.root_arn(grant.issuing_account),
        "operations": list(grant.operations),
    }
    if grant.name is not None:
        entry["name"] = grant.name
    if grant.retiring is not None:
        entry["retiring_principal"] = grant.retiring
    if grant.constraint is not None:
        entry["constraints"] = grant.constraint.wire()
    return entry


def page_result(page: GrantPage) -> Result:
    result: Result = {
        "grants": [grant_entry(g) for g in page.grants], "truncated": page.next_marker is not None
    }
    if page.next_marker is not None:
        result["next_marker"] = page.next_marker
    return result


def _dry_run(params: Params) -> None:
    if params.get("dry_run"):
        raise DryRunOperationError(DRY_RUN_MESSAGE)

