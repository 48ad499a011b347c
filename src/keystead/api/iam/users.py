"""IAM users: create, read, list, rename or move, delete, and tag.

[BM-IAM] GetUser without UserName answers for the caller (for the root user: its account id and
root ARN). DeleteUser refuses while anything still hangs off the user (DeleteConflict).
"""

from __future__ import annotations

from typing import Any

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import (
    USER,
    IamDeps,
    Params,
    Result,
    authorized_entity,
    change,
    paginate,
    read,
    request_tag_context,
    tag_list,
    user_view,
)
from keystead.errors import DeleteConflictError, EntityAlreadyExistsError, NoSuchEntityError
from keystead.identity import ids
from keystead.identity.iam import lookup, naming
from keystead.storage import Tx
from keystead.storage.rows import IamUserRow

MAX_TAG_LIST = 50


class Users:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateUser": Handler(self.create_user, read_only=False),
            "GetUser": Handler(self.get_user, read_only=True),
            "ListUsers": Handler(self.list_users, read_only=True),
            "UpdateUser": Handler(self.update_user, read_only=False),
            "DeleteUser": Handler(self.delete_user, read_only=False),
            "TagUser": Handler(self.tag_user, read_only=False),
            "UntagUser": Handler(self.untag_user, read_only=False),
            "ListUserTags": Handler(self.list_user_tags, read_only=True),
        }

    async def create_user(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        name, path = params["user_name"], params.get("path") or "/"
        tags = naming.tag_map(params.get("tags"))
        boundary = params.get("permissions_boundary")
        extra = request_tag_context(tags) if tags else {}
        if boundary:
            extra["iam:PermissionsBoundary"] = boundary
        resource = USER.resource_at(account, path, name)
        await ctx.authorize("iam:CreateUser", resource, extra)
        if tags:
            await ctx.authorize("iam:TagUser", resource, extra)
        now = self._deps.clock.now()

        def create(tx: Tx) -> Result:
            if boundary:
                lookup.require_managed_policy(tx, boundary, account, attaching=True)
            row = IamUserRow(
                user_id=ids.new_unique_id(ids.USER_ID_PREFIX), account_id=account, user_name=name,
                name_lower=name.lower(), path=path, created_at=now, permissions_boundary=boundary,
            )
            if not tx.insert_iam_entity(row):
                raise EntityAlreadyExistsError(f"User with name {name} already exists.")
            tx.set_entity_tags(row.user_id, tags)
            return {"user": user_view(row, tags)}

        return await change(self._deps, ctx, create)

    async def get_user(self, ctx: RequestContext, params: Params) -> Result:
        name = params.get("user_name")
        principal = ctx.principal
        if name is None:
            if principal.is_root:
                await ctx.authorize("iam:GetUser", None)
                account = await read(self._deps, lambda tx: tx.get_account(principal.account_id))
                return {"user": {"user_id": principal.account_id, "arn": principal.arn,
                                 "create_date": account.created_at if account else None}}
            if principal.name is None or not principal.arn.startswith(f"arn:aws:iam::{principal.account_id}:user/"):
                raise NoSuchEntityError("Must specify userName when calling with non-User credentials")
            name = principal.name
        user = await authorized_entity(self._deps, ctx, USER, "iam:GetUser", name)
        tags = await read(self._deps, lambda tx: tx.entity_tags(user.user_id))
        return {"user": user_view(user, tags)}

    async def list_users(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:ListUsers", None)
        prefix = naming.check_path_prefix(params.get("path_prefix"))
        rows = await read(self._deps, lambda tx: tx.list_iam_entities(IamUserRow, ctx.principal.account_id, prefix))
        page, more = paginate(rows, lambda r: r.name_lower, params)
        return {"users": [user_view(r) for r in page], **more}

    async def update_user(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        user = await authorized_entity(self._deps, ctx, USER, "iam:UpdateUser", params["user_name"])
        new_name = params.get("new_user_name") or user.user_name
        new_path = params.get("new_path") or user.path
        if new_name != user.user_name:
            # Renaming also needs permission on the user's new name [IAM:id_users_manage_rename].
            await ctx.authorize("iam:UpdateUser", USER.resource(account, None, new_name))

        def update(tx: Tx) -> Result:
            current = lookup.require_user(tx, account, user.user_name)
            clash = lookup.find_user(tx, account, new_name)
            if clash is not None and clash.user_id != current.user_id:
                raise EntityAlreadyExistsError(f"User with name {new_name} already exists.")
            tx.update_iam_entity(
                IamUserRow, current.user_id, user_name=new_name, name_lower=new_name.lower(), path=new_path
            )
            tx.rename_user_access_keys(account, current.user_name, new_name)
            return {}

        await change(self._deps, ctx, update)
        await self._forget_keys(account, new_name)
        return {}

    async def delete_user(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        user = await authorized_entity(self._deps, ctx, USER, "iam:DeleteUser", params["user_name"])

        def delete(tx: Tx) -> Result:
            current = lookup.require_user(tx, account, user.user_name)
            _check_nothing_attached(tx, current)
            tx.delete_iam_entity(IamUserRow, current.user_id)
            return {}

        return await change(self._deps, ctx, delete)

    async def tag_user(self, ctx: RequestContext, params: Params) -> Result:
        tags = naming.tag_map(params["tags"])
        user = await authorized_entity(self._deps, ctx, USER, "iam:TagUser", params["user_name"])

        def tag(tx: Tx) -> Result:
            naming.merged_tags(tx.entity_tags(user.user_id), tags)
            tx.remove_entity_tags(user.user_id, _same_keys(tx.entity_tags(user.user_id), tags))
            tx.set_entity_tags(user.user_id, tags)
            return {}

        await change(self._deps, ctx, tag)
        await self._forget_keys(ctx.principal.account_id, user.user_name)
        return {}

    async def untag_user(self, ctx: RequestContext, params: Params) -> Result:
        user = await authorized_entity(self._deps, ctx, USER, "iam:UntagUser", params["user_name"])
        keys = list(params["tag_keys"])

        def untag(tx: Tx) -> Result:
            tx.remove_entity_tags(user.user_id, _same_keys(tx.entity_tags(user.user_id), dict.fromkeys(keys, "")))
            return {}

        await change(self._deps, ctx, untag)
        await self._forget_keys(ctx.principal.account_id, user.user_name)
        return {}

    async def list_user_tags(self, ctx: RequestContext, params: Params) -> Result:
        user = await authorized_entity(self._deps, ctx, USER, "iam:ListUserTags", params["user_name"])
        tags = await read(self._deps, lambda tx: tx.entity_tags(user.user_id))
        page, more = paginate(list(tags.items()), lambda item: item[0], params)
        return {"tags": tag_list(dict(page)), **more}

    async def _forget_keys(self, account: str, user_name: str) -> None:
        # Cached credentials carry the user's name, ARN and tags: drop them on this node now.
        keys = await read(self._deps, lambda tx: tx.list_access_keys(account, user_name))
        for key in keys:
            self._deps.credentials.forget(key.access_key_id)


def _same_keys(existing: dict[str, str], new: dict[str, Any]) -> list[str]:
    """The existing tag keys that equal a new key without case (IAM tag keys ignore case)."""
    lowered = {key.lower() for key in new}
    return [key for key in existing if key.lower() in lowered]


def _check_nothing_attached(tx: Tx, user: IamUserRow) -> None:
    """Raises: DeleteConflictError: something still hangs off the user (AWS's order and words)."""
    if tx.get_login_profile(user.user_id) is not None:
        raise DeleteConflictError("Cannot delete entity, must delete login profile first.")
    if tx.list_access_keys(user.account_id, user.user_name):
        raise DeleteConflictError("Cannot delete entity, must delete access keys first.")
    if tx.list_mfa_devices(user.account_id, user.user_id):
        raise DeleteConflictError("Cannot delete entity, must delete MFA device first.")
    if tx.inline_policies(user.user_id):
        raise DeleteConflictError("Cannot delete entity, must delete policies first.")
    if tx.attached_policies(user.user_id):
        raise DeleteConflictError("Cannot delete entity, must detach all policies first.")
    if tx.groups_of_user(user.user_id):
        raise DeleteConflictError("Cannot delete entity, must remove users from group first.")
