"""KMS key lifecycle: UpdateKeyDescription, ScheduleKeyDeletion, CancelKeyDeletion, GetKeyLastUsage."""

from __future__ import annotations

from typing import Any

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.kms.common import KmsDeps, Params, Result, key_resource, resolve_key
from keystead.keystore import multi_region
from keystead.keystore.keys import key_arn_of
from keystead.keystore.lifecycle import check_pending_window
from keystead.keystore.lifecycle_services import LifecycleServices


class KeyLifecycleOperations:
    def __init__(self, deps: KmsDeps, services: LifecycleServices) -> None:
        self._deps = deps
        self._lifecycle = services.lifecycle
        self._usage = services.usage

    def handlers(self) -> Handlers:
        return {
            "UpdateKeyDescription": Handler(self.update_key_description, read_only=False),
            "ScheduleKeyDeletion": Handler(self.schedule_key_deletion, read_only=False),
            "CancelKeyDeletion": Handler(self.cancel_key_deletion, read_only=False),
            "GetKeyLastUsage": Handler(self.get_key_last_usage, read_only=True),
        }

    async def update_key_description(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:UpdateKeyDescription", key_resource(ref))
        description = params["description"]

        def change(tx: Any) -> Result:
            if ref.home is not None:  # a replica: its own description
                multi_region.change_replica(tx, ref.home, ref.key.region, management=True, description=description)
            else:
                self._lifecycle.update_description(tx, ref.key.key_id, description)
            return {}

        return await self._mutate(ctx, ref.key.key_id, change)

    async def schedule_key_deletion(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        requested = params.get("pending_window_in_days")
        # The condition key sees the request's value, or the default when it is omitted.
        await ctx.authorize(
            "kms:ScheduleKeyDeletion", key_resource(ref),
            {"kms:ScheduleKeyDeletionPendingWindowInDays": str(requested or 30)},
        )
        window = check_pending_window(requested)

        def change(tx: Any) -> Result:
            if ref.home is not None:  # a replica is deleted on its own
                now = self._deps.keys.now()
                key = multi_region.schedule_replica_deletion(tx, ref.home, ref.key.region, window, now)
            else:
                key = self._lifecycle.schedule_deletion(tx, ref.key.key_id, window)
            return {
                "key_id": key_arn_of(key),
                "deletion_date": key.deletion_date,
                "key_state": key.key_state,
                "pending_window_in_days": key.pending_window_days,
            }

        return await self._mutate(ctx, ref.key.key_id, change)

    async def cancel_key_deletion(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:CancelKeyDeletion", key_resource(ref))

        def change(tx: Any) -> Result:
            if ref.home is not None:
                cancelled = multi_region.cancel_replica_deletion(tx, ref.home, ref.key.region)
                return {"key_id": key_arn_of(cancelled)}
            return {"key_id": key_arn_of(self._lifecycle.cancel_deletion(tx, ref.key.key_id))}

        return await self._mutate(ctx, ref.key.key_id, change)

    async def get_key_last_usage(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:GetKeyLastUsage", key_resource(ref))
        found = await self._usage.last_usage(ref.key)
        result: Result = {
            "key_id": ref.arn,
            "tracking_start_date": found.tracking_start,
            "key_creation_date": ref.key.creation_date,
        }
        if found.usage is not None:
            result["key_last_usage"] = {
                "operation": found.usage.operation,
                "timestamp": found.usage.used_at,
                "kms_request_id": found.usage.request_id,
            }
        return result

    async def _mutate(self, ctx: RequestContext, key_id: str, change: Any) -> Result:
        try:
            return await ctx.mutate(change)
        finally:
            self._deps.keys.forget(key_id)
