"""Access keys of IAM users (and of the root user, when it calls without UserName).

[IAM:id_credentials_access-keys] At most two per user; the secret is shown once. Deactivating or
deleting a key stops it authenticating on this node at once (the resolver's cache entry is
dropped) and on other nodes within the resolver's cache time.
"""

from __future__ import annotations

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import USER, IamDeps, Params, Result, authorized_entity, change, paginate, read
from keystead.errors import NoSuchEntityError
from keystead.identity.iam import lookup
from keystead.identity.iam.access_keys import issue_access_key
from keystead.storage import AccessKeyRow, Tx


class AccessKeys:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateAccessKey": Handler(self.create_access_key, read_only=False),
            "ListAccessKeys": Handler(self.list_access_keys, read_only=True),
            "UpdateAccessKey": Handler(self.update_access_key, read_only=False),
            "DeleteAccessKey": Handler(self.delete_access_key, read_only=False),
            "GetAccessKeyLastUsed": Handler(self.get_access_key_last_used, read_only=True),
        }

    async def _owner(self, ctx: RequestContext, action: str, params: Params) -> str | None:
        """The user whose keys are meant (None: the root user), after authorizing `action` on it."""
        name = params.get("user_name")
        principal = ctx.principal
        if name is None:
            if principal.is_root:
                await ctx.authorize(action, None)
                return None
            if principal.name is None or principal.type.value != "User":
                raise NoSuchEntityError("Must specify userName when calling with non-User credentials")
            name = principal.name
        user = await authorized_entity(self._deps, ctx, USER, action, name)
        return str(user.user_name)

    async def create_access_key(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        owner = await self._owner(ctx, "iam:CreateAccessKey", params)

        def create(tx: Tx) -> Result:
            if owner is not None:
                lookup.require_user(tx, account, owner)
            row, secret = issue_access_key(tx, self._deps.keyring, self._deps.clock, account, owner)
            return {"access_key": {**_metadata(row), "secret_access_key": secret}}

        return await change(self._deps, ctx, create)

    async def list_access_keys(self, ctx: RequestContext, params: Params) -> Result:
        owner = await self._owner(ctx, "iam:ListAccessKeys", params)
        rows = await read(self._deps, lambda tx: tx.list_access_keys(ctx.principal.account_id, owner))
        page, more = paginate(rows, lambda r: r.access_key_id, params)
        return {"access_key_metadata": [_metadata(r) for r in page], **more}

    async def update_access_key(self, ctx: RequestContext, params: Params) -> Result:
        owner = await self._owner(ctx, "iam:UpdateAccessKey", params)
        key_id, status = params["access_key_id"], params["status"]
        await self._require_key(ctx, owner, key_id)
        try:
            return await change(self._deps, ctx, lambda tx: _set_status(tx, key_id, status))
        finally:
            self._deps.credentials.forget(key_id)

    async def delete_access_key(self, ctx: RequestContext, params: Params) -> Result:
        owner = await self._owner(ctx, "iam:DeleteAccessKey", params)
        key_id = params["access_key_id"]
        await self._require_key(ctx, owner, key_id)
        try:
            return await change(self._deps, ctx, lambda tx: _delete(tx, key_id))
        finally:
            self._deps.credentials.forget(key_id)

    async def get_access_key_last_used(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        key_id = params["access_key_id"]
        row = await read(self._deps, lambda tx: tx.get_access_key(key_id))
        if row is not None and row.account_id == account and row.user_name is not None:
            user = await read(self._deps, lookup.find_user, account, row.user_name)
            resource = USER.resource(account, user, row.user_name)
        else:
            resource = ResourceAccess(f"arn:aws:iam::{account}:user/", account, USER.resource_type)
        await ctx.authorize("iam:GetAccessKeyLastUsed", resource)
        if row is None or row.account_id != account:
            raise NoSuchEntityError(f"The Access Key with id {key_id} cannot be found.")
        used = {"service_name": row.last_used_service or "N/A", "region": row.last_used_region or "N/A"}
        if row.last_used_at is not None:
            used["last_used_date"] = row.last_used_at  # type: ignore[assignment]
        return {"user_name": row.user_name, "access_key_last_used": used}

    async def _require_key(self, ctx: RequestContext, owner: str | None, key_id: str) -> AccessKeyRow:
        row = await read(self._deps, lambda tx: tx.get_access_key(key_id))
        mine = row is not None and row.account_id == ctx.principal.account_id
        if row is None or not mine or (row.user_name or "").lower() != (owner or "").lower():
            raise NoSuchEntityError(f"The Access Key with id {key_id} cannot be found.")
        return row


def _metadata(row: AccessKeyRow) -> Result:
    return {
        "user_name": row.user_name,
        "access_key_id": row.access_key_id,
        "status": row.status,
        "create_date": row.created_at,
    }


def _set_status(tx: Tx, key_id: str, status: str) -> Result:
    if not tx.set_access_key_status(key_id, status):
        raise NoSuchEntityError(f"The Access Key with id {key_id} cannot be found.")
    return {}


def _delete(tx: Tx, key_id: str) -> Result:
    if not tx.delete_access_key(key_id):
        raise NoSuchEntityError(f"The Access Key with id {key_id} cannot be found.")
    return {}
