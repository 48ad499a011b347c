"""KMS key rotation: Enable/DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations."""

from __future__ import annotations

from typing import Any

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.kms.common import KmsDeps, Params, Result, key_resource, resolve_key
from keystead.blocking import run_blocking
from keystead.keystore.keys import key_arn_of
from keystead.keystore.lifecycle_services import LifecycleServices
from keystead.keystore.rotation import CURRENT, NON_CURRENT, check_period, check_rotatable


class KeyRotation:
    def __init__(self, deps: KmsDeps, services: LifecycleServices) -> None:
        self._deps = deps
        self._rotation = services.rotation

    def handlers(self) -> Handlers:
        return {
            "EnableKeyRotation": Handler(self.enable_key_rotation, read_only=False),
            "DisableKeyRotation": Handler(self.disable_key_rotation, read_only=False),
            "GetKeyRotationStatus": Handler(self.get_key_rotation_status, read_only=True),
            "RotateKeyOnDemand": Handler(self.rotate_key_on_demand, read_only=False),
            "ListKeyRotations": Handler(self.list_key_rotations, read_only=True),
        }

    async def enable_key_rotation(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        requested = params.get("rotation_period_in_days")
        await ctx.authorize(
            "kms:EnableKeyRotation", key_resource(ref), {"kms:RotationPeriodInDays": str(requested or 365)}
        )
        period = check_period(requested)

        def change(tx: Any) -> Result:
            self._rotation.enable(tx, ref.key.key_id, period)
            return {}

        return await self._mutate(ctx, ref.key.key_id, change)

    async def disable_key_rotation(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:DisableKeyRotation", key_resource(ref))

        def change(tx: Any) -> Result:
            self._rotation.disable(tx, ref.key.key_id)
            return {}

        return await self._mutate(ctx, ref.key.key_id, change)

    async def get_key_rotation_status(self, ctx: RequestContext, params: Params) -> Result:
        # Cross-account allowed (KMS-014), so a key ARN from another account resolves here.
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:GetKeyRotationStatus", key_resource(ref))
        key = ref.key
        check_rotatable(key)
        result: Result = {"key_id": ref.arn, "key_rotation_enabled": key.rotation_enabled}
        if key.rotation_enabled:
            result["rotation_period_in_days"] = key.rotation_period_days
            result["next_rotation_date"] = key.next_rotation_date
        return result

    async def rotate_key_on_demand(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:RotateKeyOnDemand", key_resource(ref))

        def change(tx: Any) -> Result:
            return {"key_id": key_arn_of(self._rotation.rotate_on_demand(tx, ref.key.key_id))}

        return await self._mutate(ctx, ref.key.key_id, change)

    async def list_key_rotations(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:ListKeyRotations", key_resource(ref))
        check_rotatable(ref.key)
        entries, marker = await run_blocking(
            self._rotation.list_rotations, ref.key,
            include_original=params.get("include_key_material") == "ALL_KEY_MATERIAL",
            limit=params.get("limit"), marker=params.get("marker"),
        )
        rotations = []
        for entry in entries:
            item: Result = {
                "key_id": ref.arn,
                "key_material_id": entry.material_id.hex(),
                "key_material_state": CURRENT if entry.current else NON_CURRENT,
            }
            if entry.rotation_date is not None:
                item["rotation_date"] = entry.rotation_date
                item["rotation_type"] = entry.rotation_type
            rotations.append(item)
        return {"rotations": rotations, "next_marker": marker, "truncated": marker is not None}

    async def _mutate(self, ctx: RequestContext, key_id: str, change: Any) -> Result:
        try:
            return await ctx.mutate(change)
        finally:
            self._deps.keys.forget(key_id)
