"""Account-level IAM: the account alias, GetAccountSummary, GetAccountAuthorizationDetails.

[BM-IAM] An account has at most one alias; aliases are unique across the deployment (AWS: across
all of AWS). The summary reports usage and the quotas this server enforces.
"""

from __future__ import annotations

from typing import Any

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import (
    GROUP, ROLE, USER, IamDeps, Params, Result, boundary_view, change, paginate, read, tag_list,
)
from keystead.api.iam.policy_views import policy_view, version_view
from keystead.errors import EntityAlreadyExistsError, NoSuchEntityError
from keystead.identity.iam import lookup
from keystead.identity.iam.aws_managed import AWS_MANAGED, aws_managed_policies
from keystead.storage import Tx
from keystead.storage.rows import IamGroupRow, IamRoleRow, IamUserRow, PolicyVersionRow


class AccountOperations:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateAccountAlias": Handler(self.create_account_alias, read_only=False),
            "DeleteAccountAlias": Handler(self.delete_account_alias, read_only=False),
            "ListAccountAliases": Handler(self.list_account_aliases, read_only=True),
            "GetAccountSummary": Handler(self.get_account_summary, read_only=True),
            "GetAccountAuthorizationDetails": Handler(self.get_account_authorization_details, read_only=True),
        }

    async def create_account_alias(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:CreateAccountAlias", None)
        alias, account = params["account_alias"], ctx.principal.account_id

        def create(tx: Tx) -> Result:
            if not tx.set_account_settings(account, account_alias=alias):
                raise EntityAlreadyExistsError(f"The account alias {alias} already exists.")
            return {}

        return await change(self._deps, ctx, create)

    async def delete_account_alias(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:DeleteAccountAlias", None)
        alias, account = params["account_alias"], ctx.principal.account_id

        def delete(tx: Tx) -> Result:
            if tx.account_settings(account)[1] != alias:
                raise NoSuchEntityError(f"The account alias {alias} cannot be found.")
            tx.set_account_settings(account, account_alias=None)
            return {}

        return await change(self._deps, ctx, delete)

    async def list_account_aliases(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:ListAccountAliases", None)
        _, alias = await read(self._deps, lambda tx: tx.account_settings(ctx.principal.account_id))
        return {"account_aliases": [alias] if alias else [], "is_truncated": False}

    async def get_account_summary(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:GetAccountSummary", None)
        account = ctx.principal.account_id

        def load(tx: Tx) -> dict[str, int]:
            policies = tx.list_managed_policies(account)
            return {
                "Users": tx.count_iam_entities(IamUserRow, account),
                "Groups": tx.count_iam_entities(IamGroupRow, account),
                "Roles": tx.count_iam_entities(IamRoleRow, account),
                "Policies": len(policies),
                "PolicyVersionsInUse": sum(tx.attachment_counts(account).values()),
                "MFADevices": len(tx.list_mfa_devices(account)),
                "AccountAccessKeysPresent": 1 if tx.list_access_keys(account, None) else 0,
                "AccountMFAEnabled": 0,
                "UsersQuota": 5000, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500,
                "AccessKeysPerUserQuota": 2, "GroupsPerUserQuota": 10, "AttachedPoliciesPerUserQuota": 10,
                "AttachedPoliciesPerGroupQuota": 10, "AttachedPoliciesPerRoleQuota": 10,
                "PolicySizeQuota": 6144, "VersionsPerPolicyQuota": 5, "UserPolicySizeQuota": 2048,
                "GroupPolicySizeQuota": 5120, "RolePolicySizeQuota": 10240,
                "AssumeRolePolicySizeQuota": 2048, "SigningCertificatesPerUserQuota": 2,
                "ServerCertificatesQuota": 20, "ServerCertificates": 0, "InstanceProfiles": 0,
                "InstanceProfilesQuota": 1000, "Providers": 0, "GlobalEndpointTokenVersion": 1,
            }

        return {"summary_map": await read(self._deps, load)}

    async def get_account_authorization_details(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:GetAccountAuthorizationDetails", None)
        wanted = set(params.get("filter") or ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"])
        items = await read(self._deps, _details, ctx.principal.account_id, wanted)
        page, more = paginate(items, lambda item: item[0], params)
        result: Result = {"user_detail_list": [], "group_detail_list": [], "role_detail_list": [], "policies": []}
        for _, member, detail in page:
            result[member].append(detail)
        return {**result, **more}


def _details(tx: Tx, account: str, wanted: set[str]) -> list[tuple[str, str, Result]]:
    """(sort key, result member, detail) for every entity and policy asked for, in a stable order."""
    items: list[tuple[str, str, Result]] = []
    if "User" in wanted:
        for user in tx.list_iam_entities(IamUserRow, account):
            detail = _entity_detail(tx, USER, user, "user_policy_list")
            detail["group_list"] = [g.group_name for g in tx.groups_of_user(user.user_id)]
            detail["permissions_boundary"] = boundary_view(user.permissions_boundary)
            items.append((f"1{user.name_lower}", "user_detail_list", detail))
    if "Group" in wanted:
        for group in tx.list_iam_entities(IamGroupRow, account):
            items.append((f"2{group.name_lower}", "group_detail_list", _entity_detail(tx, GROUP, group, "group_policy_list")))
    if "Role" in wanted:
        for role in tx.list_iam_entities(IamRoleRow, account):
            detail = _entity_detail(tx, ROLE, role, "role_policy_list")
            detail.update(assume_role_policy_document=role.assume_role_policy, instance_profile_list=[],
                          permissions_boundary=boundary_view(role.permissions_boundary))
            items.append((f"3{role.name_lower}", "role_detail_list", detail))
    items.extend(_policy_details(tx, account, wanted))
    return items


def _entity_detail(tx: Tx, kind: Any, row: Any, inline_member: str) -> Result:
    entity_id = kind.id_of(row)
    detail: Result = {
        "path": row.path, f"{kind.kind}_name": kind.name_of(row), f"{kind.kind}_id": entity_id,
        "arn": kind.arn(row.account_id, row.path, kind.name_of(row)), "create_date": row.created_at,
        inline_member: [{"policy_name": n, "policy_document": d} for n, d in tx.inline_policies(entity_id).items()],
        "attached_managed_policies": [
            {"policy_name": arn.rsplit("/", 1)[-1], "policy_arn": arn} for arn in tx.attached_policies(entity_id)
        ],
    }
    if kind is not GROUP:
        detail["tags"] = tag_list(tx.entity_tags(entity_id))
    return detail


def _policy_details(tx: Tx, account: str, wanted: set[str]) -> list[tuple[str, str, Result]]:
    counts = tx.attachment_counts(account)
    items: list[tuple[str, str, Result]] = []
    policies: list[lookup.ManagedPolicy] = []
    if "LocalManagedPolicy" in wanted:
        policies += [lookup.ManagedPolicy.of_row(r) for r in tx.list_managed_policies(account)]
    if "AWSManagedPolicy" in wanted:
        # As AWS does, only the AWS managed policies that the account uses are listed.
        policies += [lookup.ManagedPolicy.of_aws(p) for p in aws_managed_policies() if counts.get(p.arn)]
    for policy in policies:
        detail = policy_view(policy, counts.get(policy.arn, 0), tx.boundary_usage_count(account, policy.arn))
        if policy.aws_managed:
            aws = AWS_MANAGED[policy.arn]
            versions = [version_view(PolicyVersionRow(aws.arn, aws.version_id, aws.document, aws.updated_at), True)]
        else:
            versions = [version_view(v, v.version_id == policy.default_version_id) for v in tx.policy_versions(policy.arn)]
        detail["policy_version_list"] = versions
        items.append((f"4{policy.name.lower()}\x00{policy.arn}", "policies", detail))
    return items
