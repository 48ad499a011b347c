"""KMS key tags: TagResource, UntagResource, ListResourceTags.

Tags are ABAC inputs (aws:ResourceTag/*), so a change drops this node's cached key row at once.
"""

from __future__ import annotations

from typing import Any

from keystead.api.handlers import Handler, Handlers
from keystead.api.context import RequestContext
from keystead.api.kms.common import KmsDeps, Params, Result, key_resource, resolve_key
from keystead.blocking import run_blocking
from keystead.keystore import multi_region
from keystead.keystore.lifecycle import MAX_TAGS_PER_KEY, check_new_tags
from keystead.keystore.lifecycle_services import LifecycleServices


class TagManagement:
    def __init__(self, deps: KmsDeps, services: LifecycleServices) -> None:
        self._deps = deps
        self._lifecycle = services.lifecycle

    def handlers(self) -> Handlers:
        return {
            "TagResource": Handler(self.tag_resource, read_only=False),
            "UntagResource": Handler(self.untag_resource, read_only=False),
            "ListResourceTags": Handler(self.list_resource_tags, read_only=True),
        }

    async def tag_resource(self, ctx: RequestContext, params: Params) -> Result:
        tags = {t["tag_key"]: t["tag_value"] for t in params["tags"]}
        check_new_tags(tags)
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        request: dict[str, str | list[str]] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
        request["aws:TagKeys"] = list(tags)
        await ctx.authorize("kms:TagResource", key_resource(ref), request)

        def change(tx: Any) -> Result:
            if ref.home is not None:  # a replica: its own tags
                multi_region.tag_replica(tx, ref.home, ref.key.region, tags, MAX_TAGS_PER_KEY)
            else:
                self._lifecycle.tag(tx, ref.key.key_id, tags)
            return {}

        try:
            return await ctx.mutate(change)
        finally:
            self._deps.keys.forget(ref.key.key_id)

    async def untag_resource(self, ctx: RequestContext, params: Params) -> Result:
        tag_keys = list(params["tag_keys"])
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:UntagResource", key_resource(ref), {"aws:TagKeys": tag_keys})

        def change(tx: Any) -> Result:
            if ref.home is not None:  # a replica: its own tags
                multi_region.untag_replica(tx, ref.home, ref.key.region, tag_keys)
            else:
                self._lifecycle.untag(tx, ref.key.key_id, tag_keys)
            return {}

        try:
            return await ctx.mutate(change)
        finally:
            self._deps.keys.forget(ref.key.key_id)

    async def list_resource_tags(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:ListResourceTags", key_resource(ref))
        page = await run_blocking(
            self._lifecycle.list_tags, ref.key.key_id, limit=params.get("limit"), marker=params.get("marker"),
            region=None if ref.home is None else ref.key.region,
        )
        return {
            "tags": [{"tag_key": k, "tag_value": v} for k, v in page.tags],
            "next_marker": page.next_marker,
            "truncated": page.next_marker is not None,
        }
