"""Managed policies meet identities: attach/detach/list for users, groups and roles, permission
boundaries of users and roles, ListPolicies and ListEntitiesForPolicy.

[IAM:reference_iam-quotas] At most 10 managed policies per user, group or role. A boundary must
be a managed policy; it limits and never grants [IAM:access_policies_boundaries].
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import (
    GROUP, ROLE, USER, EntityKind, IamDeps, Params, Result, authorized_entity, change, check_modifiable, paginate,
    read, still_there,
)
from keystead.api.iam.managed_policies import policy_resource
from keystead.api.iam.policy_views import policy_view
from keystead.errors import LimitExceededError, NoSuchEntityError
from keystead.identity.iam import lookup, naming
from keystead.identity.iam.aws_managed import aws_managed_policies
from keystead.storage import Tx
from keystead.storage.rows import IamGroupRow, IamRoleRow, IamUserRow

Op = Callable[[RequestContext, Params], Awaitable[Result]]
MAX_ATTACHED = 10


class Attachments:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        handlers: Handlers = {
            "ListPolicies": Handler(self.list_policies, read_only=True),
            "ListEntitiesForPolicy": Handler(self.list_entities_for_policy, read_only=True),
        }
        for kind in (USER, GROUP, ROLE):
            handlers[f"Attach{kind.title}Policy"] = Handler(self._attach(kind), read_only=False)
            handlers[f"Detach{kind.title}Policy"] = Handler(self._detach(kind), read_only=False)
            handlers[f"ListAttached{kind.title}Policies"] = Handler(self._list(kind), read_only=True)
        for kind in (USER, ROLE):
            handlers[f"Put{kind.title}PermissionsBoundary"] = Handler(self._put_boundary(kind), read_only=False)
            handlers[f"Delete{kind.title}PermissionsBoundary"] = Handler(self._delete_boundary(kind), read_only=False)
        return handlers

    def _attach(self, kind: EntityKind) -> Op:
        async def attach(ctx: RequestContext, params: Params) -> Result:
            arn = params["policy_arn"]
            naming.check_policy_arn(arn)
            action = f"iam:Attach{kind.title}Policy"
            entity = await self._entity(ctx, kind, action, params, {"iam:PolicyARN": arn})

            def write(tx: Tx) -> Result:
                still_there(tx, kind, entity)
                lookup.require_managed_policy(tx, arn, ctx.principal.account_id, attaching=True)
                attached = tx.attached_policies(kind.id_of(entity))
                if arn not in attached and len(attached) >= MAX_ATTACHED:
                    raise LimitExceededError(f"Cannot exceed quota for PoliciesPer{kind.title}: {MAX_ATTACHED}")
                tx.attach_policy(ctx.principal.account_id, kind.id_of(entity), arn)
                return {}

            return await change(self._deps, ctx, write)

        return attach

    def _detach(self, kind: EntityKind) -> Op:
        async def detach(ctx: RequestContext, params: Params) -> Result:
            arn = params["policy_arn"]
            naming.check_policy_arn(arn)
            entity = await self._entity(ctx, kind, f"iam:Detach{kind.title}Policy", params, {"iam:PolicyARN": arn})

            def write(tx: Tx) -> Result:
                if not tx.detach_policy(kind.id_of(entity), arn):
                    raise NoSuchEntityError(f"Policy {arn} was not found.")
                return {}

            return await change(self._deps, ctx, write)

        return detach

    def _list(self, kind: EntityKind) -> Op:
        async def list_attached(ctx: RequestContext, params: Params) -> Result:
            entity = await self._entity(ctx, kind, f"iam:ListAttached{kind.title}Policies", params)
            prefix = naming.check_path_prefix(params.get("path_prefix"))
            arns = await read(self._deps, lambda tx: tx.attached_policies(kind.id_of(entity)))
            rows = [(naming.check_policy_arn(a), a) for a in arns]
            rows = [r for r in rows if r[0][1].startswith(prefix)]
            page, more = paginate(rows, lambda r: r[1], params)
            return {"attached_policies": [{"policy_name": r[0][2], "policy_arn": r[1]} for r in page], **more}

        return list_attached

    def _put_boundary(self, kind: EntityKind) -> Op:
        async def put(ctx: RequestContext, params: Params) -> Result:
            arn = params["permissions_boundary"]
            naming.check_policy_arn(arn)
            action = f"iam:Put{kind.title}PermissionsBoundary"
            entity = await self._entity(ctx, kind, action, params, {"iam:PermissionsBoundary": arn})

            def write(tx: Tx) -> Result:
                still_there(tx, kind, entity)
                lookup.require_managed_policy(tx, arn, ctx.principal.account_id, attaching=True)
                tx.update_iam_entity(kind.row, kind.id_of(entity), permissions_boundary=arn)
                return {}

            return await change(self._deps, ctx, write)

        return put

    def _delete_boundary(self, kind: EntityKind) -> Op:
        async def delete(ctx: RequestContext, params: Params) -> Result:
            entity = await self._entity(ctx, kind, f"iam:Delete{kind.title}PermissionsBoundary", params)

            def write(tx: Tx) -> Result:
                tx.update_iam_entity(kind.row, kind.id_of(entity), permissions_boundary=None)
                return {}

            return await change(self._deps, ctx, write)

        return delete

    async def _entity(
        self, ctx: RequestContext, kind: EntityKind, action: str, params: Params,
        extra: dict[str, str | list[str]] | None = None,
    ) -> object:
        name = params[f"{kind.kind}_name"]
        if extra is None:
            return await authorized_entity(self._deps, ctx, kind, action, name)
        # The condition keys of the request (iam:PolicyARN, iam:PermissionsBoundary) go with it.
        row = await read(self._deps, kind.find, ctx.principal.account_id, name)
        await ctx.authorize(action, kind.resource(ctx.principal.account_id, row, name), extra)
        if row is None:
            raise NoSuchEntityError(f"The {kind.kind} with name {name} cannot be found.")
        check_modifiable(kind, row, action)
        return row

    async def list_policies(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:ListPolicies", None)
        account = ctx.principal.account_id
        scope = params.get("scope") or "All"
        prefix = naming.check_path_prefix(params.get("path_prefix"))
        usage = params.get("policy_usage_filter")

        def load(tx: Tx) -> list[Result]:
            policies: list[lookup.ManagedPolicy] = []
            if scope in ("All", "AWS"):
                policies += [lookup.ManagedPolicy.of_aws(p) for p in aws_managed_policies()]
            if scope in ("All", "Local"):
                policies += [lookup.ManagedPolicy.of_row(r) for r in tx.list_managed_policies(account)]
            counts = tx.attachment_counts(account)
            views = []
            for policy in policies:
                if not policy.path.startswith(prefix):
                    continue
                attached, bounds = counts.get(policy.arn, 0), tx.boundary_usage_count(account, policy.arn)
                if params.get("only_attached") and not _in_use(usage, attached, bounds):
                    continue
                views.append(policy_view(policy, attached, bounds))
            return sorted(views, key=lambda v: (v["policy_name"].lower(), v["arn"]))

        views = await read(self._deps, load)
        page, more = paginate(views, lambda v: f"{v['policy_name'].lower()}\x00{v['arn']}", params)
        return {"policies": page, **more}

    async def list_entities_for_policy(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["policy_arn"]
        naming.check_policy_arn(arn)
        account = ctx.principal.account_id
        await ctx.authorize("iam:ListEntitiesForPolicy", policy_resource(account, arn))
        prefix = naming.check_path_prefix(params.get("path_prefix"))
        wanted = params.get("entity_filter")

        def load(tx: Tx) -> list[tuple[str, object]]:
            lookup.require_managed_policy(tx, arn, account)
            found = []
            for entity_id in tx.policy_attachments(account, arn):
                for kind in (USER, GROUP, ROLE):
                    row = tx.get_iam_entity_by_id(kind.row, entity_id)
                    if row is not None and row.path.startswith(prefix) and wanted in (None, kind.title):
                        found.append((kind.kind, row))
            return found

        entities = sorted(await read(self._deps, load), key=lambda e: f"{e[0]}\x00{_id(e[1])}")
        page, more = paginate(entities, lambda e: f"{e[0]}\x00{_id(e[1])}", params)
        return {
            "policy_groups": [{"group_name": r.group_name, "group_id": r.group_id} for k, r in page if isinstance(r, IamGroupRow)],
            "policy_users": [{"user_name": r.user_name, "user_id": r.user_id} for k, r in page if isinstance(r, IamUserRow)],
            "policy_roles": [{"role_name": r.role_name, "role_id": r.role_id} for k, r in page if isinstance(r, IamRoleRow)],
            **more,
        }


def _id(row: object) -> str:
    for attribute in ("user_id", "group_id", "role_id"):
        if hasattr(row, attribute):
            return str(getattr(row, attribute))
    return ""


def _in_use(usage: str | None, attached: int, boundary_uses: int) -> bool:
    if usage == "PermissionsPolicy":
        return attached > 0
    if usage == "PermissionsBoundary":
        return boundary_uses > 0
    return attached > 0 or boundary_uses > 0
