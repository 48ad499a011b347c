"""IAM roles as data: create, read, list, update, delete, trust policy, tags.

Assuming a role is STS's business; `keystead.identity.roles` offers it a read API. The trust
policy is a resource policy on the role (PolicyKind.TRUST); the AWS principals it names must
exist. [IAM:id_roles] MaxSessionDuration is 3,600..43,200 seconds (the model checks the range).
"""

from __future__ import annotations

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import (
    ROLE, IamDeps, Params, Result, authorized_entity, change, paginate, read, request_tag_context, role_view,
    still_there, tag_list,
)
from keystead.blocking import run_blocking
from keystead.errors import DeleteConflictError, EntityAlreadyExistsError
from keystead.identity import ids
from keystead.identity.iam import lookup, naming
from keystead.identity.iam.documents import check_trust_policy
from keystead.storage import Tx
from keystead.storage.rows import IamRoleRow

DEFAULT_MAX_SESSION = 3600


class Roles:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateRole": Handler(self.create_role, read_only=False),
            "GetRole": Handler(self.get_role, read_only=True),
            "ListRoles": Handler(self.list_roles, read_only=True),
            "UpdateRole": Handler(self.update_role, read_only=False),
            "UpdateRoleDescription": Handler(self.update_role_description, read_only=False),
            "UpdateAssumeRolePolicy": Handler(self.update_assume_role_policy, read_only=False),
            "DeleteRole": Handler(self.delete_role, read_only=False),
            "TagRole": Handler(self.tag_role, read_only=False),
            "UntagRole": Handler(self.untag_role, read_only=False),
            "ListRoleTags": Handler(self.list_role_tags, read_only=True),
        }

    async def create_role(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        name, path = params["role_name"], params.get("path") or "/"
        tags = naming.tag_map(params.get("tags"))
        boundary = params.get("permissions_boundary")
        extra = request_tag_context(tags) if tags else {}
        if boundary:
            naming.check_policy_arn(boundary)
            extra["iam:PermissionsBoundary"] = boundary
        resource = ROLE.resource_at(account, path, name)
        await ctx.authorize("iam:CreateRole", resource, extra)
        if tags:
            await ctx.authorize("iam:TagRole", resource, extra)
        trust = params["assume_role_policy_document"]
        await run_blocking(check_trust_policy, trust, self._deps.directory.exists)
        row = IamRoleRow(
            role_id=ids.new_unique_id(ids.ROLE_ID_PREFIX), account_id=account, role_name=name,
            name_lower=name.lower(), path=path, created_at=self._deps.clock.now(), assume_role_policy=trust,
            description=params.get("description"),
            max_session_duration=params.get("max_session_duration") or DEFAULT_MAX_SESSION,
            permissions_boundary=boundary,
        )

        def create(tx: Tx) -> Result:
            if boundary:
                lookup.require_managed_policy(tx, boundary, account, attaching=True)
            if not tx.insert_iam_entity(row):
                raise EntityAlreadyExistsError(f"Role with name {name} already exists.")
            tx.set_entity_tags(row.role_id, tags)
            return {"role": role_view(row, tags)}

        return await change(self._deps, ctx, create)

    async def get_role(self, ctx: RequestContext, params: Params) -> Result:
        role = await authorized_entity(self._deps, ctx, ROLE, "iam:GetRole", params["role_name"])
        tags = await read(self._deps, lambda tx: tx.entity_tags(role.role_id))
        return {"role": role_view(role, tags)}

    async def list_roles(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:ListRoles", None)
        prefix = naming.check_path_prefix(params.get("path_prefix"))
        rows = await read(self._deps, lambda tx: tx.list_iam_entities(IamRoleRow, ctx.principal.account_id, prefix))
        page, more = paginate(rows, lambda r: r.name_lower, params)
        return {"roles": [role_view(r) for r in page], **more}

    async def update_role(self, ctx: RequestContext, params: Params) -> Result:
        role = await authorized_entity(self._deps, ctx, ROLE, "iam:UpdateRole", params["role_name"])
        changes: dict[str, object] = {}
        if params.get("description") is not None:
            changes["description"] = params["description"]
        if params.get("max_session_duration") is not None:
            changes["max_session_duration"] = params["max_session_duration"]
        await self._update(ctx, role, changes)
        return {}

    async def update_role_description(self, ctx: RequestContext, params: Params) -> Result:
        role = await authorized_entity(self._deps, ctx, ROLE, "iam:UpdateRoleDescription", params["role_name"])
        await self._update(ctx, role, {"description": params["description"]})
        role = await read(self._deps, lookup.require_role, ctx.principal.account_id, role.role_name)
        return {"role": role_view(role)}

    async def update_assume_role_policy(self, ctx: RequestContext, params: Params) -> Result:
        role = await authorized_entity(self._deps, ctx, ROLE, "iam:UpdateAssumeRolePolicy", params["role_name"])
        trust = params["policy_document"]
        await run_blocking(check_trust_policy, trust, self._deps.directory.exists)
        await self._update(ctx, role, {"assume_role_policy": trust})
        return {}

    async def _update(self, ctx: RequestContext, role: IamRoleRow, changes: dict[str, object]) -> None:
        def write(tx: Tx) -> Result:
            still_there(tx, ROLE, role)
            if changes:
                tx.update_iam_entity(IamRoleRow, role.role_id, **changes)
            return {}

        await change(self._deps, ctx, write)

    async def delete_role(self, ctx: RequestContext, params: Params) -> Result:
        role = await authorized_entity(self._deps, ctx, ROLE, "iam:DeleteRole", params["role_name"])

        def delete(tx: Tx) -> Result:
            current = still_there(tx, ROLE, role)
            if tx.inline_policies(current.role_id):
                raise DeleteConflictError("Cannot delete entity, must delete policies first.")
            if tx.attached_policies(current.role_id):
                raise DeleteConflictError("Cannot delete entity, must detach all policies first.")
            if tx.instance_profiles_for_role(current.role_id):
                raise DeleteConflictError("Cannot delete entity, must remove roles from instance profile first.")
            tx.delete_iam_entity(IamRoleRow, current.role_id)
            return {}

        return await change(self._deps, ctx, delete)

    async def tag_role(self, ctx: RequestContext, params: Params) -> Result:
        tags = naming.tag_map(params["tags"])
        role = await authorized_entity(self._deps, ctx, ROLE, "iam:TagRole", params["role_name"])

        def tag(tx: Tx) -> Result:
            existing = tx.entity_tags(role.role_id)
            naming.merged_tags(existing, tags)
            lowered = {k.lower() for k in tags}
            tx.remove_entity_tags(role.role_id, [k for k in existing if k.lower() in lowered])
            tx.set_entity_tags(role.role_id, tags)
            return {}

        return await change(self._deps, ctx, tag)

    async def untag_role(self, ctx: RequestContext, params: Params) -> Result:
        role = await authorized_entity(self._deps, ctx, ROLE, "iam:UntagRole", params["role_name"])
        lowered = {k.lower() for k in params["tag_keys"]}

        def untag(tx: Tx) -> Result:
            tx.remove_entity_tags(role.role_id, [k for k in tx.entity_tags(role.role_id) if k.lower() in lowered])
            return {}

        return await change(self._deps, ctx, untag)

    async def list_role_tags(self, ctx: RequestContext, params: Params) -> Result:
        role = await authorized_entity(self._deps, ctx, ROLE, "iam:ListRoleTags", params["role_name"])
        tags = await read(self._deps, lambda tx: tx.entity_tags(role.role_id))
        page, more = paginate(list(tags.items()), lambda item: item[0], params)
        return {"tags": tag_list(dict(page)), **more}
