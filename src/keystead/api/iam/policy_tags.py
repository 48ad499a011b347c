"""Tags on customer managed policies: TagPolicy, UntagPolicy, ListPolicyTags.

[IAM:id_tags][BM-IAM] Tags are stored by the policy's unique id (ANPA...), like CreatePolicy's.
Keys compare without case; at most 50 tags. AWS managed policies cannot be tagged: the request
is denied as any change to them is.
"""

from __future__ import annotations

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import IamDeps, Params, Result, change, paginate, read, request_tag_context, tag_list
from keystead.errors import AccessDeniedError
from keystead.identity.iam import lookup, naming
from keystead.storage import Tx


class PolicyTags:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "TagPolicy": Handler(self.tag_policy, read_only=False),
            "UntagPolicy": Handler(self.untag_policy, read_only=False),
            "ListPolicyTags": Handler(self.list_policy_tags, read_only=True),
        }

    async def _policy(
        self, ctx: RequestContext, action: str, arn: str, extra: dict[str, str | list[str]] | None = None,
        *, modify: bool = True,
    ) -> lookup.ManagedPolicy:
        naming.check_policy_arn(arn)
        account = ctx.principal.account_id
        tags = await read(self._deps, _tags_of, arn, account)
        context: dict[str, str | list[str]] = {"aws:ResourceAccount": account}
        context.update({f"aws:ResourceTag/{k}": v for k, v in tags.items()})
        resource = ResourceAccess(arn, account, naming.POLICY_TYPE, context=context)
        await ctx.authorize(action, resource, extra)
        policy = await read(self._deps, lookup.require_managed_policy, arn, account)
        if modify and policy.aws_managed:
            raise AccessDeniedError(f"User: {ctx.principal.arn} is not authorized to perform: {action} on resource: {arn}")
        return policy

    async def tag_policy(self, ctx: RequestContext, params: Params) -> Result:
        tags = naming.tag_map(params["tags"])
        policy = await self._policy(ctx, "iam:TagPolicy", params["policy_arn"], request_tag_context(tags))

        def tag(tx: Tx) -> Result:
            existing = tx.entity_tags(policy.policy_id)
            naming.merged_tags(existing, tags)
            lowered = {k.lower() for k in tags}
            tx.remove_entity_tags(policy.policy_id, [k for k in existing if k.lower() in lowered])
            tx.set_entity_tags(policy.policy_id, tags)
            return {}

        return await change(self._deps, ctx, tag)

    async def untag_policy(self, ctx: RequestContext, params: Params) -> Result:
        keys = list(params["tag_keys"])
        policy = await self._policy(ctx, "iam:UntagPolicy", params["policy_arn"], {"aws:TagKeys": keys})
        lowered = {k.lower() for k in keys}

        def untag(tx: Tx) -> Result:
            existing = tx.entity_tags(policy.policy_id)
            tx.remove_entity_tags(policy.policy_id, [k for k in existing if k.lower() in lowered])
            return {}

        return await change(self._deps, ctx, untag)

    async def list_policy_tags(self, ctx: RequestContext, params: Params) -> Result:
        policy = await self._policy(ctx, "iam:ListPolicyTags", params["policy_arn"], modify=False)
        tags = {} if policy.aws_managed else await read(self._deps, lambda tx: tx.entity_tags(policy.policy_id))
        page, more = paginate(list(tags.items()), lambda item: item[0], params)
        return {"tags": tag_list(dict(page)), **more}


def _tags_of(tx: Tx, arn: str, account: str) -> dict[str, str]:
    policy = lookup.find_managed_policy(tx, arn, account)
    return {} if policy is None or policy.aws_managed else tx.entity_tags(policy.policy_id)
