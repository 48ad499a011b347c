"""Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole,
GetServiceLinkedRoleDeletionStatus (AWS KMS's two roles; see identity/iam/service_linked.py).

[IAM:using-service-linked-roles][BM-IAM] Deletion is a task: DeleteServiceLinkedRole answers a
DeletionTaskId at once and the task's outcome is read with GetServiceLinkedRoleDeletionStatus.
Here the task runs inside the request (SUCCEEDED, or FAILED with the resources still using the
role), so its status is final as soon as it is readable.
"""

from __future__ import annotations

import json

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import ROLE, IamDeps, Params, Result, authorized_entity, change, read, role_view
from keystead.errors import InvalidInputError, NoSuchEntityError
from keystead.identity.iam.service_linked import (
    ServiceLinkedRoleSpec,
    install_role,
    new_deletion_task_id,
    new_role_row,
    spec_for,
    spec_of_path,
)
from keystead.storage import Tx
from keystead.storage.rows import IamRoleRow, SlrDeletionTaskRow

_TASK_ID = r"task/aws-service-role/"


def _in_use(tx: Tx, spec: ServiceLinkedRoleSpec, account: str) -> str | None:
    """The DeletionTaskFailureReason (JSON) when the service still uses the role, else None."""
    if spec.service != "mrk.kms.amazonaws.com":
        return None  # Keystead has no custom key stores: the CKS role is never in use
    in_use = tx.multi_region_keys(account)
    if not in_use:
        return None
    regions: dict[str, list[str]] = {}
    for region, key_id in in_use:
        regions.setdefault(region, []).append(f"arn:aws:kms:{region}:{account}:key/{key_id}")
    usage = [{"region": region, "resources": arns} for region, arns in regions.items()]
    return json.dumps({"reason": "The role is used by multi-Region keys in this account.", "role_usage_list": usage})


class ServiceLinkedRoles:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateServiceLinkedRole": Handler(self.create_service_linked_role, read_only=False),
            "DeleteServiceLinkedRole": Handler(self.delete_service_linked_role, read_only=False),
            "GetServiceLinkedRoleDeletionStatus": Handler(self.get_deletion_status, read_only=True),
        }

    async def create_service_linked_role(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        service = params["aws_service_name"]
        spec = spec_for(service, params.get("custom_suffix"))
        resource = ROLE.resource_at(account, spec.path, spec.role_name)
        await ctx.authorize("iam:CreateServiceLinkedRole", resource, {"iam:AWSServiceName": service})
        row = new_role_row(spec, account, self._deps.clock.now(), params.get("description"))

        def create(tx: Tx) -> Result:
            if not install_role(tx, spec, row):
                raise InvalidInputError(
                    f"Service role name {spec.role_name} has been taken in this account, please try a different suffix."
                )
            return {"role": role_view(row)}

        return await change(self._deps, ctx, create)

    async def delete_service_linked_role(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        name = params["role_name"]
        role: IamRoleRow = await authorized_entity(self._deps, ctx, ROLE, "iam:DeleteServiceLinkedRole", name)
        spec = spec_of_path(role.path)
        if spec is None or spec.role_name != role.role_name:
            raise InvalidInputError(f"Role {name} is not a service-linked role.")
        task_id = new_deletion_task_id(spec)

        def delete(tx: Tx) -> Result:
            current = ROLE.require(tx, account, name)
            if current.role_id != role.role_id:
                raise NoSuchEntityError(f"The role with name {name} cannot be found.")
            reason = _in_use(tx, spec, account)
            if reason is None:
                for arn in tx.attached_policies(role.role_id):
                    tx.detach_policy(role.role_id, arn)
                tx.remove_entity_tags(role.role_id, list(tx.entity_tags(role.role_id)))
                tx.delete_iam_entity(IamRoleRow, role.role_id)
            status = "SUCCEEDED" if reason is None else "FAILED"
            tx.insert_slr_deletion_task(
                SlrDeletionTaskRow(task_id, account, role.role_name, status, reason, self._deps.clock.now())
            )
            return {"deletion_task_id": task_id}

        return await change(self._deps, ctx, delete)

    async def get_deletion_status(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        task_id = params["deletion_task_id"]
        if not task_id.startswith(_TASK_ID):
            raise InvalidInputError(f"Invalid deletion task id: {task_id}")
        task = await read(self._deps, lambda tx: tx.get_slr_deletion_task(task_id))
        role_name = task.role_name if task is not None and task.account_id == account else task_id.split("/")[-2]
        await ctx.authorize("iam:GetServiceLinkedRoleDeletionStatus", ROLE.resource(account, None, role_name))
        if task is None or task.account_id != account:
            raise NoSuchEntityError(f"Deletion task {task_id} cannot be found.")
        answer: Result = {"status": task.status}
        if task.reason is not None:
            answer["reason"] = json.loads(task.reason)
        return answer
