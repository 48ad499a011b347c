"""KMS key management: create, describe, list, enable/disable, and key policies."""

from __future__ import annotations

from typing import Any

from keystead import arn
from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.kms.common import (
    DEFAULT_LIST_LIMIT,
    KmsDeps,
    Params,
    Result,
    check_policy_name,
    key_metadata,
    key_resource,
    resolve_key,
)
from keystead.blocking import run_blocking
from keystead.errors import UnsupportedOperationError
from keystead.keystore import multi_region, specs
from keystead.keystore.keys import KeyRef, NewKeySpec, key_arn_of
from keystead.keystore.policies import DEFAULT_POLICY_NAME


class KeyManagement:
    def __init__(self, deps: KmsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateKey": Handler(self.create_key, read_only=False),
            "DescribeKey": Handler(self.describe_key, read_only=True),
            "ListKeys": Handler(self.list_keys, read_only=True),
            "EnableKey": Handler(self.enable_key, read_only=False),
            "DisableKey": Handler(self.disable_key, read_only=False),
            "GetKeyPolicy": Handler(self.get_key_policy, read_only=True),
            "PutKeyPolicy": Handler(self.put_key_policy, read_only=False),
            "ListKeyPolicies": Handler(self.list_key_policies, read_only=True),
        }

    async def create_key(self, ctx: RequestContext, params: Params) -> Result:
        tags = {t["tag_key"]: t["tag_value"] for t in params.get("tags") or []}
        request_context: dict[str, str | list[str]] = {
            "kms:KeySpec": params.get("key_spec") or params.get("customer_master_key_spec") or "SYMMETRIC_DEFAULT",
            "kms:KeyUsage": params.get("key_usage") or "ENCRYPT_DECRYPT",
            "kms:KeyOrigin": params.get("origin") or "AWS_KMS",
            "kms:MultiRegion": "true" if params.get("multi_region") else "false",
            "kms:BypassPolicyLockoutSafetyCheck":
                "true" if params.get("bypass_policy_lockout_safety_check") else "false",
        }
        if params.get("multi_region"):
            request_context["kms:MultiRegionKeyType"] = "PRIMARY"
        if tags:
            request_context["aws:TagKeys"] = list(tags)
            request_context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        await ctx.authorize("kms:CreateKey", None, request_context)
        if tags:
            await ctx.authorize("kms:TagResource", None, request_context)
        if params.get("custom_key_store_id") or params.get("xks_key_id"):
            raise UnsupportedOperationError("Custom key stores are not supported by this server.")
        policy = params.get("policy")
        account = ctx.principal.account_id
        if policy is not None:
            await self._deps.validate_key_policy(ctx, policy, None, bool(params.get("bypass_policy_lockout_safety_check")))
        spec = NewKeySpec(
            account_id=account,
            region=ctx.region,
            policy=policy,
            description=params.get("description") or "",
            key_spec=params.get("key_spec") or params.get("customer_master_key_spec") or specs.SYMMETRIC_DEFAULT,
            key_usage=params.get("key_usage"),
            origin=params.get("origin") or "AWS_KMS",
            tags=tags,
            multi_region=bool(params.get("multi_region")),
        )
        external = spec.origin == "EXTERNAL" and self._deps.lifecycle is not None
        if spec.origin != "AWS_KMS" and not external:
            raise UnsupportedOperationError(f"Origin {spec.origin} is not supported by this server yet.")

        def create(tx: Any) -> Result:
            if external:
                assert self._deps.lifecycle is not None
                key = self._deps.lifecycle.imports.create_external_key(tx, spec)  # PendingImport, no material
            else:
                key = self._deps.keys.create_key(tx, spec)
            ctx.resources.append(key_resource(KeyRef(key, key_arn_of(key), tags=tags)))
            return {"key_metadata": key_metadata(key)}

        return await ctx.mutate(create)

    async def describe_key(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        await ctx.authorize("kms:DescribeKey", key_resource(ref))
        return {"key_metadata": key_metadata(ref.key, ref)}

    async def list_keys(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("kms:ListKeys")
        limit = params.get("limit") or DEFAULT_LIST_LIMIT
        ids, marker = await run_blocking(
            self._deps.keys.list_keys, ctx.principal.account_id, ctx.region, limit=limit, marker=params.get("marker")
        )
        return {
            "keys": [{"key_id": key_id, "key_arn": arn.key_arn(ctx.region, ctx.principal.account_id, key_id)}
                     for key_id in ids],
            "next_marker": marker,
            "truncated": marker is not None,
        }

    async def enable_key(self, ctx: RequestContext, params: Params) -> Result:
        return await self._set_enabled(ctx, params, True)

    async def disable_key(self, ctx: RequestContext, params: Params) -> Result:
        return await self._set_enabled(ctx, params, False)

    async def _set_enabled(self, ctx: RequestContext, params: Params, enabled: bool) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:EnableKey" if enabled else "kms:DisableKey", key_resource(ref))

        def change(tx: Any) -> Result:
            if ref.home is not None:  # a replica: its own state, the other Regions keep theirs
                multi_region.set_replica_enabled(tx, ref.home, ref.key.region, enabled)
            else:
                self._deps.keys.set_enabled(tx, ref.key.key_id, enabled)
            return {}

        try:
            return await ctx.mutate(change)
        finally:
            self._deps.keys.forget(ref.key.key_id)

    async def get_key_policy(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:GetKeyPolicy", key_resource(ref))
        check_policy_name(params.get("policy_name"))
        return {"policy": ref.key.policy, "policy_name": DEFAULT_POLICY_NAME}

    async def put_key_policy(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        resource = key_resource(ref)
        bypass = bool(params.get("bypass_policy_lockout_safety_check"))
        await ctx.authorize(
            "kms:PutKeyPolicy", resource, {"kms:BypassPolicyLockoutSafetyCheck": "true" if bypass else "false"}
        )
        check_policy_name(params.get("policy_name"))
        policy = params["policy"]
        await self._deps.validate_key_policy(ctx, policy, resource, bypass)

        def change(tx: Any) -> Result:
            if ref.home is not None:  # a replica: its own policy
                multi_region.change_replica(tx, ref.home, ref.key.region, management=False, policy=policy)
            else:
                self._deps.keys.put_policy(tx, ref.key.key_id, policy)
            return {}

        try:
            return await ctx.mutate(change)
        finally:
            self._deps.keys.forget(ref.key.key_id)

    async def list_key_policies(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:ListKeyPolicies", key_resource(ref))
        return {"policy_names": [DEFAULT_POLICY_NAME], "truncated": False}
