"""Customer managed policies and their versions; AWS managed policies are read-only here.

[IAM:access_policies_managed-versioning] At most five versions; version ids are never reused;
the default version cannot be deleted; a policy is deleted only once it is attached nowhere
(nor used as a permissions boundary) and has no version but the default.
"""

from __future__ import annotations

from typing import Any

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import IamDeps, Params, Result, change, paginate, read, request_tag_context
from keystead.api.iam.policy_views import policy_view, version_view
from keystead.blocking import run_blocking
from keystead.errors import (
    AccessDeniedError, DeleteConflictError, EntityAlreadyExistsError, LimitExceededError, NoSuchEntityError,
)
from keystead.identity import ids
from keystead.identity.iam import lookup, naming
from keystead.identity.iam.aws_managed import AWS_MANAGED
from keystead.identity.iam.documents import MANAGED_POLICY_MAX, check_identity_policy
from keystead.storage import Tx
from keystead.storage.rows import ManagedPolicyRow, PolicyVersionRow

MAX_VERSIONS = 5


def policy_resource(account_id: str, arn: str) -> ResourceAccess:
    return ResourceAccess(arn, account_id, naming.POLICY_TYPE, context={"aws:ResourceAccount": account_id})


class ManagedPolicies:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreatePolicy": Handler(self.create_policy, read_only=False),
            "GetPolicy": Handler(self.get_policy, read_only=True),
            "DeletePolicy": Handler(self.delete_policy, read_only=False),
            "CreatePolicyVersion": Handler(self.create_policy_version, read_only=False),
            "GetPolicyVersion": Handler(self.get_policy_version, read_only=True),
            "ListPolicyVersions": Handler(self.list_policy_versions, read_only=True),
            "DeletePolicyVersion": Handler(self.delete_policy_version, read_only=False),
            "SetDefaultPolicyVersion": Handler(self.set_default_policy_version, read_only=False),
        }

    async def _policy(
        self, ctx: RequestContext, action: str, arn: str, *, modify: bool = False
    ) -> lookup.ManagedPolicy:
        """Authorize `action` on a policy ARN, then find it (AWS managed ones cannot be changed)."""
        naming.check_policy_arn(arn)
        account = ctx.principal.account_id
        await ctx.authorize(action, policy_resource(account, arn))
        policy = await read(self._deps, lookup.require_managed_policy, arn, account)
        if modify and policy.aws_managed:
            raise AccessDeniedError(
                f"User: {ctx.principal.arn} is not authorized to perform: {action} on resource: {arn}"
            )
        return policy

    async def create_policy(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        name, path, document = params["policy_name"], params.get("path") or "/", params["policy_document"]
        tags = naming.tag_map(params.get("tags"))
        arn = naming.policy_arn(account, path, name)
        await ctx.authorize("iam:CreatePolicy", policy_resource(account, arn), request_tag_context(tags) if tags else None)
        if tags:
            await ctx.authorize("iam:TagPolicy", policy_resource(account, arn), request_tag_context(tags))
        await run_blocking(check_identity_policy, document, max_size=MANAGED_POLICY_MAX)
        now = self._deps.clock.now()
        row = ManagedPolicyRow(
            policy_arn=arn, account_id=account, policy_id=ids.new_unique_id(ids.POLICY_ID_PREFIX),
            policy_name=name, name_lower=name.lower(), path=path, description=params.get("description"),
            default_version_id="v1", next_version=2, created_at=now, updated_at=now,
        )

        def create(tx: Tx) -> Result:
            if not tx.insert_managed_policy(row, PolicyVersionRow(arn, "v1", document, now)):
                raise EntityAlreadyExistsError(f"A policy called {name} already exists. Duplicate names are not allowed.")
            tx.set_entity_tags(row.policy_id, tags)
            return {"policy": policy_view(lookup.ManagedPolicy.of_row(row), 0, 0, tags)}

        return await change(self._deps, ctx, create)

    async def get_policy(self, ctx: RequestContext, params: Params) -> Result:
        policy = await self._policy(ctx, "iam:GetPolicy", params["policy_arn"])
        account = ctx.principal.account_id

        def load(tx: Tx) -> Result:
            attached = len(tx.policy_attachments(account, policy.arn))
            boundary = tx.boundary_usage_count(account, policy.arn)
            tags = {} if policy.aws_managed else tx.entity_tags(policy.policy_id)
            return {"policy": policy_view(policy, attached, boundary, tags)}

        return await read(self._deps, load)

    async def delete_policy(self, ctx: RequestContext, params: Params) -> Result:
        policy = await self._policy(ctx, "iam:DeletePolicy", params["policy_arn"], modify=True)
        account = ctx.principal.account_id

        def delete(tx: Tx) -> Result:
            if tx.policy_attachments(account, policy.arn) or tx.boundary_usage_count(account, policy.arn):
                raise DeleteConflictError("Cannot delete a policy attached to entities.")
            if len(tx.policy_versions(policy.arn)) > 1:
                raise DeleteConflictError(
                    "This policy has more than one version. Before you delete a policy, you must delete the "
                    "policy's versions. The default version is deleted with the policy."
                )
            tx.remove_entity_tags(policy.policy_id, list(tx.entity_tags(policy.policy_id)))
            if not tx.delete_managed_policy(policy.arn):
                raise NoSuchEntityError(f"Policy {policy.arn} was not found.")
            return {}

        return await change(self._deps, ctx, delete)

    async def create_policy_version(self, ctx: RequestContext, params: Params) -> Result:
        policy = await self._policy(ctx, "iam:CreatePolicyVersion", params["policy_arn"], modify=True)
        document = params["policy_document"]
        await run_blocking(check_identity_policy, document, max_size=MANAGED_POLICY_MAX)
        now = self._deps.clock.now()

        def create(tx: Tx) -> Result:
            row = _current(tx, policy.arn)
            if len(tx.policy_versions(policy.arn)) >= MAX_VERSIONS:
                raise LimitExceededError(
                    f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new "
                    "version, you must delete an existing version."
                )
            version = PolicyVersionRow(policy.arn, f"v{row.next_version}", document, now)
            tx.insert_policy_version(version)
            changes: dict[str, Any] = {"next_version": row.next_version + 1, "updated_at": now}
            if params.get("set_as_default"):
                changes["default_version_id"] = version.version_id
            tx.update_managed_policy(policy.arn, **changes)
            return {"policy_version": version_view(version, bool(params.get("set_as_default")))}

        return await change(self._deps, ctx, create)

    async def get_policy_version(self, ctx: RequestContext, params: Params) -> Result:
        policy = await self._policy(ctx, "iam:GetPolicyVersion", params["policy_arn"])
        version_id = params["version_id"]
        for version, is_default in await self._versions(policy):
            if version.version_id == version_id:
                return {"policy_version": version_view(version, is_default)}
        raise NoSuchEntityError(f"Policy {policy.arn} version {version_id} does not exist or is not attachable.")

    async def list_policy_versions(self, ctx: RequestContext, params: Params) -> Result:
        policy = await self._policy(ctx, "iam:ListPolicyVersions", params["policy_arn"])
        versions = sorted(await self._versions(policy), key=lambda v: -int(v[0].version_id[1:]))
        page, more = paginate(versions, lambda v: f"{10**9 - int(v[0].version_id[1:]):010d}", params)
        return {"versions": [version_view(v, d, with_document=False) for v, d in page], **more}

    async def delete_policy_version(self, ctx: RequestContext, params: Params) -> Result:
        policy = await self._policy(ctx, "iam:DeletePolicyVersion", params["policy_arn"], modify=True)
        version_id = params["version_id"]

        def delete(tx: Tx) -> Result:
            if _current(tx, policy.arn).default_version_id == version_id:
                raise DeleteConflictError("Cannot delete the default version of a policy.")
            if not tx.delete_policy_version(policy.arn, version_id):
                raise NoSuchEntityError(f"Policy {policy.arn} version {version_id} does not exist or is not deletable.")
            return {}

        return await change(self._deps, ctx, delete)

    async def set_default_policy_version(self, ctx: RequestContext, params: Params) -> Result:
        policy = await self._policy(ctx, "iam:SetDefaultPolicyVersion", params["policy_arn"], modify=True)
        version_id = params["version_id"]
        now = self._deps.clock.now()

        def set_default(tx: Tx) -> Result:
            _current(tx, policy.arn)
            if all(v.version_id != version_id for v in tx.policy_versions(policy.arn)):
                raise NoSuchEntityError(f"Policy {policy.arn} version {version_id} does not exist or is not attachable.")
            tx.update_managed_policy(policy.arn, default_version_id=version_id, updated_at=now)
            return {}

        return await change(self._deps, ctx, set_default)

    async def _versions(self, policy: lookup.ManagedPolicy) -> list[tuple[PolicyVersionRow, bool]]:
        if policy.aws_managed:
            aws = AWS_MANAGED[policy.arn]
            return [(PolicyVersionRow(aws.arn, aws.version_id, aws.document, aws.updated_at), True)]

        def load(tx: Tx) -> list[tuple[PolicyVersionRow, bool]]:
            default = _current(tx, policy.arn).default_version_id
            return [(v, v.version_id == default) for v in tx.policy_versions(policy.arn)]

        return await read(self._deps, load)


def _current(tx: Tx, arn: str) -> ManagedPolicyRow:
    row = tx.get_managed_policy(arn)
    if row is None:
        raise NoSuchEntityError(f"Policy {arn} was not found.")
    return row
