"""What every IAM operation module shares: dependencies, the three entity kinds, pagination,
and how entities look to authorization (ResourceAccess) and to clients (User, Group, Role...).

IAM is global: every resource is in the caller's account and region us-east-1. Authorization
comes before existence, as in AWS, so a caller without permission learns nothing; the ARN of an
entity that does not exist is built with the default path.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from keystead.api.context import RequestContext, ResourceAccess
from keystead.blocking import run_blocking
from keystead.clock import Clock
from keystead.crypto.keyring import Keyring
from keystead.errors import NoSuchEntityError, UnmodifiableEntityError, ValidationError
from keystead.identity.credentials import CredentialResolver
from keystead.identity.directory import PrincipalDirectory
from keystead.identity.iam import lookup, naming
from keystead.identity.iam.service_linked import is_service_linked
from keystead.identity.policies import IamPolicySource
from keystead.storage import Database, Tx
from keystead.storage.rows import IamGroupRow, IamRoleRow, IamUserRow

Params = dict[str, Any]
Result = dict[str, Any]
T = TypeVar("T")
DEFAULT_MAX_ITEMS = 100


@dataclass(frozen=True, slots=True)
class IamDeps:
    """The services IAM handlers use, built once by the composition root."""

    db: Database
    keyring: Keyring
    clock: Clock
    credentials: CredentialResolver
    policies: IamPolicySource
    directory: PrincipalDirectory


@dataclass(frozen=True, slots=True)
class EntityKind:
    """Users, groups and roles, seen through what they have in common."""

    kind: str  # "user" | "group" | "role"
    title: str  # "User" | "Group" | "Role", as in operation names
    row: type[Any]
    resource_type: str
    find: Callable[[Tx, str, str], Any]
    require: Callable[[Tx, str, str], Any]

    def name_of(self, row: Any) -> str:
        return str(getattr(row, f"{self.kind}_name"))

    def id_of(self, row: Any) -> str:
        return str(getattr(row, f"{self.kind}_id"))

    def arn(self, account_id: str, path: str, name: str) -> str:
        return f"arn:aws:iam::{account_id}:{self.kind}{path}{name}"

    def resource(self, account_id: str, row: Any, name: str, tags: dict[str, str] | None = None) -> ResourceAccess:
        """The entity as authorization sees it (by `name` at the root path when `row` is None)."""
        if row is None:
            return self.resource_at(account_id, "/", name)
        return self.resource_at(account_id, row.path, self.name_of(row), tags)

    def resource_at(
        self, account_id: str, path: str, name: str, tags: dict[str, str] | None = None
    ) -> ResourceAccess:
        context: dict[str, str | list[str]] = {"aws:ResourceAccount": account_id}
        for key, value in (tags or {}).items():
            context[f"aws:ResourceTag/{key}"] = value
        return ResourceAccess(self.arn(account_id, path, name), account_id, self.resource_type, context=context)


USER = EntityKind("user", "User", IamUserRow, naming.USER_TYPE, lookup.find_user, lookup.require_user)
GROUP = EntityKind("group", "Group", IamGroupRow, naming.GROUP_TYPE, lookup.find_group, lookup.require_group)
ROLE = EntityKind("role", "Role", IamRoleRow, naming.ROLE_TYPE, lookup.find_role, lookup.require_role)


async def read(deps: IamDeps, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(tx, *args)` in a read-only transaction, off the event loop."""

    def work() -> T:
        with deps.db.reader() as tx:
            return fn(tx, *args)

    return await run_blocking(work)


async def authorized_entity(
    deps: IamDeps, ctx: RequestContext, kind: EntityKind, action: str, name: str, *, must_exist: bool = True
) -> Any:
    """Look an entity up, authorize `action` on it, then insist that it exists.

    Raises:
        AccessDeniedError: the caller may not perform `action` on the entity.
        NoSuchEntityError: it does not exist (and `must_exist`).
    """
    account = ctx.principal.account_id

    def load(tx: Tx) -> tuple[Any, dict[str, str]]:
        row = kind.find(tx, account, name)
        return row, (tx.entity_tags(kind.id_of(row)) if row is not None and kind is not GROUP else {})

    row, tags = await read(deps, load)
    await ctx.authorize(action, kind.resource(account, row, name, tags))
    if row is None and must_exist:
        raise NoSuchEntityError(f"The {kind.kind} with name {name} cannot be found.")
    check_modifiable(kind, row, action)
    return row


# [IAM:using-service-linked-roles] A service-linked role's trust and permissions belong to its
# service: the ordinary role APIs may not change them or delete the role (description and tags,
# they may). DeleteServiceLinkedRole is the way out.
_SERVICE_OWNED_ACTIONS = frozenset({
    "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
})


def check_modifiable(kind: EntityKind, row: Any, action: str) -> None:
    """Raises: UnmodifiableEntityError: `action` would change a service-linked role."""
    if kind is ROLE and row is not None and action in _SERVICE_OWNED_ACTIONS and is_service_linked(row.path):
        raise UnmodifiableEntityError(
            f"Cannot perform the operation on the protected role '{row.role_name}' - "
            "this role is only modifiable by AWS"
        )


async def change(deps: IamDeps, ctx: RequestContext, fn: Callable[[Tx], Result]) -> Result:
    """Write and audit in one transaction, then drop this account's cached identity policies."""
    try:
        return await ctx.mutate(fn)
    finally:
        deps.policies.invalidate(ctx.principal.account_id)


def paginate(items: Sequence[T], key: Callable[[T], str], params: Params) -> tuple[list[T], Result]:
    """One page of `items` (sorted by `key`), and the IsTruncated/Marker members of the answer.

    The marker is the key of the first item of the next page (opaque to clients), so a page
    boundary stays put when items before it are added or removed.

    Raises:
        ValidationError: a marker this server did not issue.
    """
    limit = params.get("max_items") or DEFAULT_MAX_ITEMS
    start = 0
    marker = params.get("marker")
    if marker is not None:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            raise ValidationError("Invalid Marker.") from None
        start = next((i for i, item in enumerate(items) if key(item) >= after), len(items))
    page = list(items[start : start + limit])
    if start + limit < len(items):
        next_marker = base64.urlsafe_b64encode(key(items[start + limit]).encode()).decode()
        return page, {"is_truncated": True, "marker": next_marker}
    return page, {"is_truncated": False}


def tag_list(tags: dict[str, str]) -> list[Result]:
    return [{"key": key, "value": value} for key, value in tags.items()]


def boundary_view(arn: str | None) -> Result | None:
    if arn is None:
        return None
    return {"permissions_boundary_type": "Policy", "permissions_boundary_arn": arn}


def user_view(row: IamUserRow, tags: dict[str, str] | None = None) -> Result:
    view: Result = {
        "path": row.path,
        "user_name": row.user_name,
        "user_id": row.user_id,
        "arn": USER.arn(row.account_id, row.path, row.user_name),
        "create_date": row.created_at,
        "password_last_used": row.password_last_used,
        "permissions_boundary": boundary_view(row.permissions_boundary),
    }
    if tags:
        view["tags"] = tag_list(tags)
    return view


def group_view(row: IamGroupRow) -> Result:
    return {
        "path": row.path,
        "group_name": row.group_name,
        "group_id": row.group_id,
        "arn": GROUP.arn(row.account_id, row.path, row.group_name),
        "create_date": row.created_at,
    }


def role_view(row: IamRoleRow, tags: dict[str, str] | None = None) -> Result:
    view: Result = {
        "path": row.path,
        "role_name": row.role_name,
        "role_id": row.role_id,
        "arn": ROLE.arn(row.account_id, row.path, row.role_name),
        "create_date": row.created_at,
        "assume_role_policy_document": row.assume_role_policy,
        "description": row.description,
        "max_session_duration": row.max_session_duration,
        "permissions_boundary": boundary_view(row.permissions_boundary),
    }
    if tags:
        view["tags"] = tag_list(tags)
    return view


def request_tag_context(tags: dict[str, str]) -> dict[str, str | list[str]]:
    """aws:RequestTag/* and aws:TagKeys of a request that sets tags."""
    context: dict[str, str | list[str]] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    context["aws:TagKeys"] = list(tags)
    return context


def still_there(tx: Tx, kind: EntityKind, row: Any) -> Any:
    """The entity again, inside the writing transaction: it may have gone since it was read.

    Raises:
        NoSuchEntityError: it was deleted (or deleted and recreated) in the meantime.
    """
    current = kind.require(tx, row.account_id, kind.name_of(row))
    if kind.id_of(current) != kind.id_of(row):
        raise NoSuchEntityError(f"The {kind.kind} with name {kind.name_of(row)} cannot be found.")
    return current
