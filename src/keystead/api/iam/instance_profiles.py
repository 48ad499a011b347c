"""IAM instance profiles: the container through which EC2 (here: the `--imds` listener) hands an
instance its role's credentials.

[IAM:id_roles_use_switch-role-ec2_instance-profiles] ARN
`arn:aws:iam::<acct>:instance-profile/<path><name>`, unique id `AIPA…`, names 1..128 unique per
account regardless of case. A profile holds at most one role (LimitExceeded "Cannot exceed quota
for InstanceSessionsPerInstanceProfile: 1"); a profile holding a role cannot be deleted, nor can the
role (DeleteConflict). [IAM:API_AddRoleToInstanceProfile] Putting a role into a profile also needs
`iam:PassRole` on the role, since whoever launches an instance with the profile acts as the role.
"""

from __future__ import annotations

from typing import Any

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import (
    ROLE, IamDeps, Params, Result, authorized_entity, change, paginate, read, request_tag_context, role_view, tag_list,
)
from keystead.errors import (
    DeleteConflictError, EntityAlreadyExistsError, LimitExceededError, NoSuchEntityError,
)
from keystead.identity import ids
from keystead.identity.iam import lookup, naming
from keystead.identity.instance_credentials import instance_profile_arn
from keystead.storage import Tx
from keystead.storage.rows import IamRoleRow, InstanceProfileRow

RESOURCE_TYPE = "AWS::IAM::InstanceProfile"
ROLES_PER_PROFILE = 1
HOLDS_ROLE = "Cannot delete entity, must remove roles from instance profile first."


def _not_found(name: str) -> NoSuchEntityError:
    return NoSuchEntityError(f"Instance Profile {name} cannot be found.")


def _resource(account_id: str, path: str, name: str, tags: dict[str, str] | None = None) -> ResourceAccess:
    context: dict[str, str | list[str]] = {"aws:ResourceAccount": account_id}
    for key, value in (tags or {}).items():
        context[f"aws:ResourceTag/{key}"] = value
    return ResourceAccess(instance_profile_arn(account_id, path, name), account_id, RESOURCE_TYPE, context=context)


def profile_view(row: InstanceProfileRow, role: IamRoleRow | None, tags: dict[str, str] | None = None) -> Result:
    view: Result = {
        "path": row.path,
        "instance_profile_name": row.instance_profile_name,
        "instance_profile_id": row.instance_profile_id,
        "arn": instance_profile_arn(row.account_id, row.path, row.instance_profile_name),
        "create_date": row.created_at,
        "roles": [role_view(role)] if role is not None else [],
    }
    if tags:
        view["tags"] = tag_list(tags)
    return view


def _role_of(tx: Tx, row: InstanceProfileRow) -> IamRoleRow | None:
    if row.role_id is None:
        return None
    return tx.get_iam_entity_by_id(IamRoleRow, row.role_id)  # type: ignore[no-any-return]


def _current(tx: Tx, row: InstanceProfileRow) -> InstanceProfileRow:
    """The profile again inside the writing transaction (it may have gone since it was read).

    Raises:
        NoSuchEntityError: deleted (or deleted and recreated) in the meantime.
    """
    current = tx.get_instance_profile(row.account_id, row.instance_profile_name)
    if current is None or current.instance_profile_id != row.instance_profile_id:
        raise _not_found(row.instance_profile_name)
    return current


class InstanceProfiles:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateInstanceProfile": Handler(self.create, read_only=False),
            "GetInstanceProfile": Handler(self.get, read_only=True),
            "ListInstanceProfiles": Handler(self.list, read_only=True),
            "DeleteInstanceProfile": Handler(self.delete, read_only=False),
            "AddRoleToInstanceProfile": Handler(self.add_role, read_only=False),
            "RemoveRoleFromInstanceProfile": Handler(self.remove_role, read_only=False),
            "ListInstanceProfilesForRole": Handler(self.list_for_role, read_only=True),
            "TagInstanceProfile": Handler(self.tag, read_only=False),
            "UntagInstanceProfile": Handler(self.untag, read_only=False),
            "ListInstanceProfileTags": Handler(self.list_tags, read_only=True),
        }

    async def _authorized(self, ctx: RequestContext, action: str, name: str) -> InstanceProfileRow:
        """Look a profile up, authorize `action` on it, then insist that it exists.

        Raises:
            AccessDeniedError: the caller may not perform `action` on the profile.
            NoSuchEntityError: there is no such profile.
        """
        account = ctx.principal.account_id

        def load(tx: Tx) -> tuple[InstanceProfileRow | None, dict[str, str]]:
            row = tx.get_instance_profile(account, name)
            return row, (tx.entity_tags(row.instance_profile_id) if row is not None else {})

        row, tags = await read(self._deps, load)
        path = row.path if row is not None else "/"
        await ctx.authorize(action, _resource(account, path, row.instance_profile_name if row else name, tags))
        if row is None:
            raise _not_found(name)
        return row

    async def create(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        name, path = params["instance_profile_name"], params.get("path") or "/"
        tags = naming.tag_map(params.get("tags"))
        extra = request_tag_context(tags) if tags else {}
        resource = _resource(account, path, name)
        await ctx.authorize("iam:CreateInstanceProfile", resource, extra)
        if tags:
            await ctx.authorize("iam:TagInstanceProfile", resource, extra)
        row = InstanceProfileRow(
            instance_profile_id=ids.new_unique_id(ids.INSTANCE_PROFILE_ID_PREFIX), account_id=account,
            instance_profile_name=name, name_lower=name.lower(), path=path, created_at=self._deps.clock.now(),
        )

        def create(tx: Tx) -> Result:
            if not tx.insert_instance_profile(row):
                raise EntityAlreadyExistsError(f"Instance Profile {name} already exists.")
            tx.set_entity_tags(row.instance_profile_id, tags)
            return {"instance_profile": profile_view(row, None, tags)}

        return await change(self._deps, ctx, create)

    async def get(self, ctx: RequestContext, params: Params) -> Result:
        row = await self._authorized(ctx, "iam:GetInstanceProfile", params["instance_profile_name"])

        def load(tx: Tx) -> Result:
            return {"instance_profile": profile_view(row, _role_of(tx, row), tx.entity_tags(row.instance_profile_id))}

        return await read(self._deps, load)

    async def list(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:ListInstanceProfiles", None)
        prefix = naming.check_path_prefix(params.get("path_prefix"))
        account = ctx.principal.account_id

        def load(tx: Tx) -> Result:
            page, more = paginate(tx.list_instance_profiles(account, prefix), lambda r: r.name_lower, params)
            return {"instance_profiles": [profile_view(r, _role_of(tx, r)) for r in page], **more}

        return await read(self._deps, load)

    async def list_for_role(self, ctx: RequestContext, params: Params) -> Result:
        role = await authorized_entity(self._deps, ctx, ROLE, "iam:ListInstanceProfilesForRole", params["role_name"])

        def load(tx: Tx) -> Result:
            page, more = paginate(tx.instance_profiles_for_role(role.role_id), lambda r: r.name_lower, params)
            return {"instance_profiles": [profile_view(r, role) for r in page], **more}

        return await read(self._deps, load)

    async def delete(self, ctx: RequestContext, params: Params) -> Result:
        row = await self._authorized(ctx, "iam:DeleteInstanceProfile", params["instance_profile_name"])

        def delete(tx: Tx) -> Result:
            if _current(tx, row).role_id is not None:
                raise DeleteConflictError(HOLDS_ROLE)
            tx.delete_instance_profile(row.instance_profile_id)
            return {}

        return await change(self._deps, ctx, delete)

    async def add_role(self, ctx: RequestContext, params: Params) -> Result:
        row = await self._authorized(ctx, "iam:AddRoleToInstanceProfile", params["instance_profile_name"])
        role = await self._passable_role(ctx, params["role_name"])

        def add(tx: Tx) -> Result:
            current = _current(tx, row)
            if lookup.find_role(tx, role.account_id, role.role_name) is None:
                raise NoSuchEntityError(f"The role with name {role.role_name} cannot be found.")
            if current.role_id is not None:
                raise LimitExceededError(
                    f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}"
                )
            if not tx.set_instance_profile_role(current.instance_profile_id, role.role_id, expected=None):
                raise LimitExceededError(
                    f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}"
                )
            return {}

        return await change(self._deps, ctx, add)

    async def _passable_role(self, ctx: RequestContext, role_name: str) -> IamRoleRow:
        """The role to add, which the caller must be allowed to pass.

        Raises:
            NoSuchEntityError: no such role.
            AccessDeniedError: the caller may not pass it (iam:PassRole).
        """
        account = ctx.principal.account_id
        role: IamRoleRow | None = await read(self._deps, lookup.find_role, account, role_name)
        if role is None:
            raise NoSuchEntityError(f"The role with name {role_name} cannot be found.")
        await ctx.authorize("iam:PassRole", ROLE.resource(account, role, role_name), {
            "iam:PassedToService": "ec2.amazonaws.com",
        })
        return role

    async def remove_role(self, ctx: RequestContext, params: Params) -> Result:
        row = await self._authorized(ctx, "iam:RemoveRoleFromInstanceProfile", params["instance_profile_name"])
        role_name = params["role_name"]

        def remove(tx: Tx) -> Result:
            current = _current(tx, row)
            role = lookup.require_role(tx, current.account_id, role_name)
            if current.role_id != role.role_id or not tx.set_instance_profile_role(
                current.instance_profile_id, None, expected=role.role_id
            ):
                raise NoSuchEntityError(f"The role with name {role_name} cannot be found.")
            return {}

        return await change(self._deps, ctx, remove)

    async def tag(self, ctx: RequestContext, params: Params) -> Result:
        tags = naming.tag_map(params["tags"])
        row = await self._authorized(ctx, "iam:TagInstanceProfile", params["instance_profile_name"])

        def tag(tx: Tx) -> Result:
            profile_id = _current(tx, row).instance_profile_id
            existing = tx.entity_tags(profile_id)
            naming.merged_tags(existing, tags)
            lowered = {k.lower() for k in tags}
            tx.remove_entity_tags(profile_id, [k for k in existing if k.lower() in lowered])
            tx.set_entity_tags(profile_id, tags)
            return {}

        return await change(self._deps, ctx, tag)

    async def untag(self, ctx: RequestContext, params: Params) -> Result:
        row = await self._authorized(ctx, "iam:UntagInstanceProfile", params["instance_profile_name"])
        lowered = {k.lower() for k in params["tag_keys"]}

        def untag(tx: Tx) -> Result:
            profile_id = _current(tx, row).instance_profile_id
            tx.remove_entity_tags(profile_id, [k for k in tx.entity_tags(profile_id) if k.lower() in lowered])
            return {}

        return await change(self._deps, ctx, untag)

    async def list_tags(self, ctx: RequestContext, params: Params) -> Result:
        row = await self._authorized(ctx, "iam:ListInstanceProfileTags", params["instance_profile_name"])
        tags: dict[str, Any] = await read(self._deps, lambda tx: tx.entity_tags(row.instance_profile_id))
        page, more = paginate(list(tags.items()), lambda item: item[0], params)
        return {"tags": tag_list(dict(page)), **more}
