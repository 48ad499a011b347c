"""How managed policies and their versions look to clients."""

from __future__ import annotations

from keystead.api.iam.common import Result, tag_list
from keystead.identity.iam.lookup import ManagedPolicy
from keystead.storage.rows import PolicyVersionRow


def policy_view(
    policy: ManagedPolicy, attachments: int, boundary_uses: int, tags: dict[str, str] | None = None
) -> Result:
    view: Result = {
        "policy_name": policy.name,
        "policy_id": policy.policy_id,
        "arn": policy.arn,
        "path": policy.path,
        "default_version_id": policy.default_version_id,
        "attachment_count": attachments,
        "permissions_boundary_usage_count": boundary_uses,
        "is_attachable": True,
        "description": policy.description,
        "create_date": policy.created_at,
        "update_date": policy.updated_at,
    }
    if tags:
        view["tags"] = tag_list(tags)
    return view


def version_view(version: PolicyVersionRow, is_default: bool, *, with_document: bool = True) -> Result:
    view: Result = {
        "version_id": version.version_id,
        "is_default_version": is_default,
        "create_date": version.created_at,
    }
    if with_document:
        view["document"] = version.document
    return view
