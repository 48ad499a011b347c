"""Inline policies of users, groups and roles: Put, Get, List and Delete for each (12 operations).

[IAM:access_policies_manage-attach-detach] Documents are validated as identity policies; the
inline policies of one entity share one size quota. Documents are returned URL-encoded, as IAM
does (the protocol layer encodes policyDocumentType).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import (
    GROUP, ROLE, USER, EntityKind, IamDeps, Params, Result, authorized_entity, change, paginate, read, still_there,
)
from keystead.blocking import run_blocking
from keystead.errors import NoSuchEntityError
from keystead.identity.iam.documents import check_identity_policy, check_inline_total
from keystead.storage import Tx

Op = Callable[[RequestContext, Params], Awaitable[Result]]


class InlinePolicies:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        handlers: Handlers = {}
        for kind in (USER, GROUP, ROLE):
            title = kind.title
            handlers[f"Put{title}Policy"] = Handler(self._put(kind), read_only=False)
            handlers[f"Get{title}Policy"] = Handler(self._get(kind), read_only=True)
            handlers[f"List{title}Policies"] = Handler(self._list(kind), read_only=True)
            handlers[f"Delete{title}Policy"] = Handler(self._delete(kind), read_only=False)
        return handlers

    def _put(self, kind: EntityKind) -> Op:
        async def put(ctx: RequestContext, params: Params) -> Result:
            entity = await authorized_entity(
                self._deps, ctx, kind, f"iam:Put{kind.title}Policy", params[f"{kind.kind}_name"]
            )
            name, document = params["policy_name"], params["policy_document"]
            await run_blocking(check_identity_policy, document)
            entity_id = kind.id_of(entity)

            def write(tx: Tx) -> Result:
                still_there(tx, kind, entity)
                others = [text for key, text in tx.inline_policies(entity_id).items() if key != name]
                check_inline_total(kind.kind, kind.name_of(entity), others, document)
                tx.put_inline_policy(entity_id, name, document)
                return {}

            return await change(self._deps, ctx, write)

        return put

    def _get(self, kind: EntityKind) -> Op:
        async def get(ctx: RequestContext, params: Params) -> Result:
            entity = await authorized_entity(
                self._deps, ctx, kind, f"iam:Get{kind.title}Policy", params[f"{kind.kind}_name"]
            )
            name = params["policy_name"]
            policies = await read(self._deps, lambda tx: tx.inline_policies(kind.id_of(entity)))
            if name not in policies:
                raise NoSuchEntityError(f"The {kind.kind} policy with name {name} cannot be found.")
            return {f"{kind.kind}_name": kind.name_of(entity), "policy_name": name, "policy_document": policies[name]}

        return get

    def _list(self, kind: EntityKind) -> Op:
        async def list_(ctx: RequestContext, params: Params) -> Result:
            entity = await authorized_entity(
                self._deps, ctx, kind, f"iam:List{kind.title}Policies", params[f"{kind.kind}_name"]
            )
            policies = await read(self._deps, lambda tx: tx.inline_policies(kind.id_of(entity)))
            page, more = paginate(sorted(policies), lambda n: n, params)
            return {"policy_names": page, **more}

        return list_

    def _delete(self, kind: EntityKind) -> Op:
        async def delete(ctx: RequestContext, params: Params) -> Result:
            entity = await authorized_entity(
                self._deps, ctx, kind, f"iam:Delete{kind.title}Policy", params[f"{kind.kind}_name"]
            )
            name = params["policy_name"]

            def remove(tx: Tx) -> Result:
                if not tx.delete_inline_policy(kind.id_of(entity), name):
                    raise NoSuchEntityError(f"The {kind.kind} policy with name {name} cannot be found.")
                return {}

            return await change(self._deps, ctx, remove)

        return delete
