"""The service-linked roles Keystead knows: AWS KMS's two, with their names, trust and policies.

[IAM:using-service-linked-roles][KMS DG:using-service-linked-roles] A service-linked role lives
at `/aws-service-role/<service principal>/`, is trusted by its service principal only, carries
one AWS managed policy under `arn:aws:iam::aws:policy/aws-service-role/`, and can be changed or
deleted only through the service-linked-role APIs (the ordinary role APIs answer
UnmodifiableEntity). Its deletion is a task the service may refuse while the role is in use:
KMS's multi-Region role is in use while the account has multi-Region keys.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from keystead.errors import InvalidInputError
from keystead.identity import ids
from keystead.storage import Tx
from keystead.storage.rows import IamRoleRow

SERVICE_ROLE_PATH_PREFIX = "/aws-service-role/"
MAX_SESSION = 3600
MULTI_REGION_KEYS_SERVICE = "mrk.kms.amazonaws.com"


@dataclass(frozen=True, slots=True)
class ServiceLinkedRoleSpec:
    service: str  # the service principal, e.g. mrk.kms.amazonaws.com
    role_name: str
    policy_arn: str
    description: str

    @property
    def path(self) -> str:
        return f"{SERVICE_ROLE_PATH_PREFIX}{self.service}/"

    @property
    def trust_policy(self) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": self.service}, "Action": "sts:AssumeRole"}
        ]})


_POLICY_PREFIX = "arn:aws:iam::aws:policy/aws-service-role/"
SERVICE_LINKED_ROLES: dict[str, ServiceLinkedRoleSpec] = {
    spec.service: spec
    for spec in (
        ServiceLinkedRoleSpec(
            "cks.kms.amazonaws.com", "AWSServiceRoleForKeyManagementServiceCustomKeyStores",
            _POLICY_PREFIX + "AWSKeyManagementServiceCustomKeyStoresServiceRolePolicy",
            "Enables access to AWS services and resources required for AWS KMS custom key stores",
        ),
        ServiceLinkedRoleSpec(
            "mrk.kms.amazonaws.com", "AWSServiceRoleForKeyManagementServiceMultiRegionKeys",
            _POLICY_PREFIX + "AWSKeyManagementServiceMultiRegionKeysServiceRolePolicy",
            "Enables access to AWS services and resources required for AWS KMS Multi-Region Keys",
        ),
    )
}


def spec_for(service: str, custom_suffix: str | None) -> ServiceLinkedRoleSpec:
    """The service-linked role of a service principal.

    Raises:
        InvalidInputError: a service without a service-linked role here, or a custom suffix
            (neither KMS role takes one).
    """
    spec = SERVICE_LINKED_ROLES.get(service)
    if spec is None:
        raise InvalidInputError(f"Invalid service name: {service}")
    if custom_suffix:
        raise InvalidInputError(f"Custom suffix is not allowed for {service}")
    return spec


def spec_of_path(path: str) -> ServiceLinkedRoleSpec | None:
    """The spec of a role stored at a service-role path, if it is one of ours."""
    if not path.startswith(SERVICE_ROLE_PATH_PREFIX):
        return None
    return SERVICE_LINKED_ROLES.get(path[len(SERVICE_ROLE_PATH_PREFIX):].rstrip("/"))


def is_service_linked(path: str) -> bool:
    return path.startswith(SERVICE_ROLE_PATH_PREFIX)


def new_deletion_task_id(spec: ServiceLinkedRoleSpec) -> str:
    """AWS's form: task/aws-service-role/<service principal>/<role name>/<uuid>."""
    return f"task{spec.path}{spec.role_name}/{uuid.uuid4()}"


def new_role_row(spec: ServiceLinkedRoleSpec, account_id: str, now: datetime, description: str | None = None) -> IamRoleRow:
    """A fresh row for the service-linked role of `spec` in an account (not yet stored)."""
    return IamRoleRow(
        role_id=ids.new_unique_id(ids.ROLE_ID_PREFIX), account_id=account_id, role_name=spec.role_name,
        name_lower=spec.role_name.lower(), path=spec.path, created_at=now,
        assume_role_policy=spec.trust_policy, description=description or spec.description,
        max_session_duration=MAX_SESSION, permissions_boundary=None,
    )


def install_role(tx: Tx, spec: ServiceLinkedRoleSpec, row: IamRoleRow) -> bool:
    """Store a service-linked role with its managed policy attached; False (nothing written) when
    a role of that name already exists in the account.

    Raises:
        ReadOnlyTransactionError: called in a reader.
    """
    if not tx.insert_iam_entity(row):
        return False
    tx.attach_policy(row.account_id, row.role_id, spec.policy_arn)
    return True


def role_exists(tx: Tx, spec: ServiceLinkedRoleSpec, account_id: str) -> bool:
    """Whether the account already has the service-linked role of `spec`."""
    return tx.get_iam_entity(IamRoleRow, account_id, spec.role_name) is not None
