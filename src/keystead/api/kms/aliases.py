"""KMS aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

Each change is authorized twice (three times for UpdateAlias): on the alias, where only IAM
policies count (a key policy never covers an alias resource), and on every key involved, where
the key policy governs as usual (kms.md §2 "Aliases", KMS-010).
"""

from __future__ import annotations

from typing import Any

from keystead import arn
from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.kms.common import KmsDeps, Params, Result, key_resource, resolve_key
from keystead.blocking import run_blocking
from keystead.errors import NotFoundError, ValidationError
from keystead.keystore.aliases import check_alias_name, check_target_is_a_key
from keystead.keystore.keys import KeyRef
from keystead.keystore.lifecycle_services import LifecycleServices
from keystead.storage import AliasRow

ALIAS_RESOURCE_TYPE = "AWS::KMS::Alias"


class AliasManagement:
    def __init__(self, deps: KmsDeps, services: LifecycleServices) -> None:
        self._deps = deps
        self._aliases = services.aliases

    def handlers(self) -> Handlers:
        return {
            "CreateAlias": Handler(self.create_alias, read_only=False),
            "UpdateAlias": Handler(self.update_alias, read_only=False),
            "DeleteAlias": Handler(self.delete_alias, read_only=False),
            "ListAliases": Handler(self.list_aliases, read_only=True),
        }

    async def create_alias(self, ctx: RequestContext, params: Params) -> Result:
        name = params["alias_name"]
        check_alias_name(name)
        target = await self._own_key(ctx, params["target_key_id"])
        await ctx.authorize("kms:CreateAlias", self._alias_resource(ctx, name))
        await ctx.authorize("kms:CreateAlias", key_resource(target))
        account, region = ctx.principal.account_id, ctx.region

        def change(tx: Any) -> Result:
            self._aliases.create(tx, account, region, name, target.key.key_id)
            return {}

        try:
            return await ctx.mutate(change)
        finally:
            self._aliases.forget(account, region, name, target.key.key_id)

    async def update_alias(self, ctx: RequestContext, params: Params) -> Result:
        name = params["alias_name"]
        check_alias_name(name)
        target = await self._own_key(ctx, params["target_key_id"])
        current = await self._alias(ctx, name)
        current_key = await self._deps.keys.ref(current.target_key_id)
        await ctx.authorize("kms:UpdateAlias", self._alias_resource(ctx, name))
        if current_key is not None:
            await ctx.authorize("kms:UpdateAlias", key_resource(current_key))
        await ctx.authorize("kms:UpdateAlias", key_resource(target))
        if current_key is not None:
            _check_same_kind(current_key, target)

        def change(tx: Any) -> Result:
            self._aliases.update(tx, current, target.key.key_id)
            return {}

        try:
            return await ctx.mutate(change)
        finally:
            self._aliases.forget(current.account_id, current.region, name, current.target_key_id, target.key.key_id)

    async def delete_alias(self, ctx: RequestContext, params: Params) -> Result:
        name = params["alias_name"]
        check_alias_name(name)
        current = await self._alias(ctx, name)
        await ctx.authorize("kms:DeleteAlias", self._alias_resource(ctx, name))
        key = await self._deps.keys.ref(current.target_key_id)
        if key is not None:
            await ctx.authorize("kms:DeleteAlias", key_resource(key))

        def change(tx: Any) -> Result:
            self._aliases.delete(tx, current)
            return {}

        try:
            return await ctx.mutate(change)
        finally:
            self._aliases.forget(current.account_id, current.region, name, current.target_key_id)

    async def list_aliases(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("kms:ListAliases")
        key_id = None
        if params.get("key_id"):
            key_id = (await self._own_key(ctx, params["key_id"])).key.key_id
        rows, marker = await run_blocking(
            self._aliases.list, ctx.principal.account_id, ctx.region,
            key_id=key_id, limit=params.get("limit"), marker=params.get("marker"),
        )
        entries = [
            {
                "alias_name": row.alias_name,
                "alias_arn": arn.alias_arn(row.region, row.account_id, row.alias_name),
                "target_key_id": row.target_key_id,
                "creation_date": row.creation_date,
                "last_updated_date": row.last_updated_date,
            }
            for row in rows
        ]
        return {"aliases": entries, "next_marker": marker, "truncated": marker is not None}

    async def _own_key(self, ctx: RequestContext, key_id: str) -> KeyRef:
        # Aliases are same-account: a key in another account is as good as missing here.
        check_target_is_a_key(key_id)
        ref = await resolve_key(self._deps, ctx, key_id, allow_alias=False)
        if ref.key.account_id != ctx.principal.account_id or ref.key.region != ctx.region:
            raise NotFoundError(f"Key '{key_id}' does not exist")
        return ref

    async def _alias(self, ctx: RequestContext, name: str) -> AliasRow:
        return await run_blocking(self._aliases.get, ctx.principal.account_id, ctx.region, name)

    @staticmethod
    def _alias_resource(ctx: RequestContext, name: str) -> ResourceAccess:
        account = ctx.principal.account_id
        # No policy: a key policy never governs the alias resource, only IAM policies do.
        return ResourceAccess(arn.alias_arn(ctx.region, account, name), account, ALIAS_RESOURCE_TYPE)


def _check_same_kind(current: KeyRef, new: KeyRef) -> None:
    """UpdateAlias may only move an alias between keys of the same type and usage (AWS rule)."""
    same_type = (current.key.key_spec == "SYMMETRIC_DEFAULT") == (new.key.key_spec == "SYMMETRIC_DEFAULT")
    if not same_type or current.key.key_usage != new.key.key_usage:
        raise ValidationError(
            f"{new.arn} is not the same key type and key usage as the key the alias currently points to."
        )
