"""IAM groups and their members. Groups are never principals; their policies apply to members.

[IAM:id_groups] A user belongs to at most 10 groups. DeleteGroup refuses while the group has
members or policies.
"""

from __future__ import annotations

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import (
    GROUP, USER, IamDeps, Params, Result, authorized_entity, change, group_view, paginate, read, still_there, user_view,
)
from keystead.errors import DeleteConflictError, EntityAlreadyExistsError, LimitExceededError, NoSuchEntityError
from keystead.identity import ids
from keystead.identity.iam import lookup, naming
from keystead.storage import Tx
from keystead.storage.rows import IamGroupRow

MAX_GROUPS_PER_USER = 10


class Groups:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateGroup": Handler(self.create_group, read_only=False),
            "GetGroup": Handler(self.get_group, read_only=True),
            "ListGroups": Handler(self.list_groups, read_only=True),
            "UpdateGroup": Handler(self.update_group, read_only=False),
            "DeleteGroup": Handler(self.delete_group, read_only=False),
            "AddUserToGroup": Handler(self.add_user_to_group, read_only=False),
            "RemoveUserFromGroup": Handler(self.remove_user_from_group, read_only=False),
            "ListGroupsForUser": Handler(self.list_groups_for_user, read_only=True),
        }

    async def create_group(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        name, path = params["group_name"], params.get("path") or "/"
        await ctx.authorize("iam:CreateGroup", GROUP.resource_at(account, path, name))
        row = IamGroupRow(
            group_id=ids.new_unique_id(ids.GROUP_ID_PREFIX), account_id=account, group_name=name,
            name_lower=name.lower(), path=path, created_at=self._deps.clock.now(),
        )

        def create(tx: Tx) -> Result:
            if not tx.insert_iam_entity(row):
                raise EntityAlreadyExistsError(f"Group with name {name} already exists.")
            return {"group": group_view(row)}

        return await change(self._deps, ctx, create)

    async def get_group(self, ctx: RequestContext, params: Params) -> Result:
        group = await authorized_entity(self._deps, ctx, GROUP, "iam:GetGroup", params["group_name"])
        users = await read(self._deps, lambda tx: tx.users_of_group(group.group_id))
        page, more = paginate(users, lambda u: u.name_lower, params)
        return {"group": group_view(group), "users": [user_view(u) for u in page], **more}

    async def list_groups(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:ListGroups", None)
        prefix = naming.check_path_prefix(params.get("path_prefix"))
        rows = await read(self._deps, lambda tx: tx.list_iam_entities(IamGroupRow, ctx.principal.account_id, prefix))
        page, more = paginate(rows, lambda r: r.name_lower, params)
        return {"groups": [group_view(r) for r in page], **more}

    async def update_group(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        group = await authorized_entity(self._deps, ctx, GROUP, "iam:UpdateGroup", params["group_name"])
        new_name = params.get("new_group_name") or group.group_name
        new_path = params.get("new_path") or group.path
        if new_name != group.group_name:
            await ctx.authorize("iam:UpdateGroup", GROUP.resource(account, None, new_name))

        def update(tx: Tx) -> Result:
            current = still_there(tx, GROUP, group)
            clash = lookup.find_group(tx, account, new_name)
            if clash is not None and clash.group_id != current.group_id:
                raise EntityAlreadyExistsError(f"Group with name {new_name} already exists.")
            tx.update_iam_entity(IamGroupRow, current.group_id, group_name=new_name,
                                 name_lower=new_name.lower(), path=new_path)
            return {}

        return await change(self._deps, ctx, update)

    async def delete_group(self, ctx: RequestContext, params: Params) -> Result:
        group = await authorized_entity(self._deps, ctx, GROUP, "iam:DeleteGroup", params["group_name"])

        def delete(tx: Tx) -> Result:
            current = still_there(tx, GROUP, group)
            if tx.users_of_group(current.group_id):
                raise DeleteConflictError("Cannot delete entity, must remove users from group first.")
            if tx.inline_policies(current.group_id):
                raise DeleteConflictError("Cannot delete entity, must delete policies first.")
            if tx.attached_policies(current.group_id):
                raise DeleteConflictError("Cannot delete entity, must detach all policies first.")
            tx.delete_iam_entity(IamGroupRow, current.group_id)
            return {}

        return await change(self._deps, ctx, delete)

    async def add_user_to_group(self, ctx: RequestContext, params: Params) -> Result:
        group = await authorized_entity(self._deps, ctx, GROUP, "iam:AddUserToGroup", params["group_name"])
        user_name = params["user_name"]

        def add(tx: Tx) -> Result:
            still_there(tx, GROUP, group)
            user = lookup.require_user(tx, ctx.principal.account_id, user_name)
            groups = tx.groups_of_user(user.user_id)
            if len(groups) >= MAX_GROUPS_PER_USER and all(g.group_id != group.group_id for g in groups):
                raise LimitExceededError(f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}")
            tx.add_group_member(group.group_id, user.user_id)
            return {}

        return await change(self._deps, ctx, add)

    async def remove_user_from_group(self, ctx: RequestContext, params: Params) -> Result:
        group = await authorized_entity(self._deps, ctx, GROUP, "iam:RemoveUserFromGroup", params["group_name"])
        user_name = params["user_name"]

        def remove(tx: Tx) -> Result:
            user = lookup.require_user(tx, ctx.principal.account_id, user_name)
            if not tx.remove_group_member(group.group_id, user.user_id):
                raise NoSuchEntityError(f"The user with name {user_name} cannot be found.")
            return {}

        return await change(self._deps, ctx, remove)

    async def list_groups_for_user(self, ctx: RequestContext, params: Params) -> Result:
        user = await authorized_entity(self._deps, ctx, USER, "iam:ListGroupsForUser", params["user_name"])
        groups = await read(self._deps, lambda tx: tx.groups_of_user(user.user_id))
        page, more = paginate(groups, lambda g: g.name_lower, params)
        return {"groups": [group_view(g) for g in page], **more}
