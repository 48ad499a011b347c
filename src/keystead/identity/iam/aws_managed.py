"""The AWS managed policies Keystead knows, as a static catalog under `arn:aws:iam::aws:policy/`.

They live in code rather than in the database: every account sees the same ones, they cannot be
changed, and a new release may bring more. Attachments refer to them by ARN like any other.
Documents are AWS's, as published in the AWS Managed Policy Reference, except ReadOnlyAccess,
whose real document lists hundreds of services; ours keeps the read-only actions of the services
Keystead serves plus AWS's generic read verbs (docs/compatibility.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy"


@dataclass(frozen=True, slots=True)
class AwsManagedPolicy:
    name: str
    policy_id: str
    path: str
    description: str
    version_id: str
    document: str
    created_at: datetime
    updated_at: datetime

    @property
    def arn(self) -> str:
        return f"{AWS_POLICY_PREFIX}{self.path}{self.name}"


def _doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=4)


_READ_VERBS = ["Describe*", "Get*", "List*"]
_READ_SERVICES = ["kms", "iam", "sts", "cloudtrail", "ec2", "s3", "sns", "sqs", "lambda", "dynamodb"]

_CATALOG = (
    AwsManagedPolicy(
        name="AdministratorAccess",
        policy_id="ANPAIWMBCKSKIEE64ZLYK",
        path="/",
        description="Provides full access to AWS services and resources.",
        version_id="v1",
        document=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        created_at=datetime(2015, 2, 6, 18, 39, 46, tzinfo=UTC),
        updated_at=datetime(2015, 2, 6, 18, 39, 46, tzinfo=UTC),
    ),
    AwsManagedPolicy(
        name="PowerUserAccess",
        policy_id="ANPAJYRXTHIB4FOVS3ZXS",
        path="/",
        description="Provides full access to AWS services and resources, but does not allow management "
        "of Users and groups.",
        version_id="v5",
        document=_doc(
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [
                    "account:GetAccountInformation",
                    "account:GetPrimaryEmail",
                    "account:ListRegions",
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                ],
                "Resource": "*",
            },
        ),
        created_at=datetime(2015, 2, 6, 18, 39, 47, tzinfo=UTC),
        updated_at=datetime(2023, 7, 6, 22, 4, 19, tzinfo=UTC),
    ),
    AwsManagedPolicy(
        name="ReadOnlyAccess",
        policy_id="ANPAILL3HVNFSB6DCOWYQ",
        path="/",
        description="Provides read-only access to AWS services and resources.",
        version_id="v1",
        document=_doc(
            {
                "Sid": "ReadOnlyActions",
                "Effect": "Allow",
                "Action": [f"{svc}:{verb}" for svc in _READ_SERVICES for verb in _READ_VERBS]
                + ["iam:Generate*", "iam:Simulate*", "sts:GetCallerIdentity"],
                "Resource": "*",
            }
        ),
        created_at=datetime(2015, 2, 6, 18, 39, 48, tzinfo=UTC),
        updated_at=datetime(2015, 2, 6, 18, 39, 48, tzinfo=UTC),
    ),
    AwsManagedPolicy(
        name="AWSKeyManagementServicePowerUser",
        policy_id="ANPAJNPP7PPPPMJRV2SA4",
        path="/",
        description="Provides access to AWS Key Management Service (AWS KMS).",
        version_id="v2",
        document=_doc(
            {
                "Effect": "Allow",
                "Action": [
                    "kms:CreateAlias",
                    "kms:CreateKey",
                    "kms:DeleteAlias",
                    "kms:Describe*",
                    "kms:GenerateRandom",
                    "kms:Get*",
                    "kms:List*",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "iam:ListGroups",
                    "iam:ListRoles",
                    "iam:ListUsers",
                ],
                "Resource": "*",
            }
        ),
        created_at=datetime(2015, 2, 6, 18, 40, 40, tzinfo=UTC),
        updated_at=datetime(2017, 3, 7, 0, 55, 11, tzinfo=UTC),
    ),
    # Service-linked-role policies (attached only to KMS's service-linked roles).
    AwsManagedPolicy(
        name="AWSKeyManagementServiceCustomKeyStoresServiceRolePolicy",
        policy_id="ANPAIADMJEHVVYK5AUQOO",
        path="/aws-service-role/",
        description="Enables access to AWS services and resources required for AWS KMS custom key stores",
        version_id="v2",
        document=_doc(
            {
                "Effect": "Allow",
                "Action": [
                    "cloudhsm:Describe*",
                    "ec2:CreateNetworkInterface",
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:CreateSecurityGroup",
                    "ec2:DescribeSecurityGroups",
                    "ec2:RevokeSecurityGroupEgress",
                    "ec2:DeleteSecurityGroup",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeNetworkAcls",
                    "ec2:DescribeNetworkInterfaces",
                ],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": "arn:aws:ec2:*:*:security-group/*",
                "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}},
            },
        ),
        created_at=datetime(2018, 11, 14, 20, 10, 0, tzinfo=UTC),
        updated_at=datetime(2023, 11, 10, 19, 3, 0, tzinfo=UTC),
    ),
    AwsManagedPolicy(
        name="AWSKeyManagementServiceMultiRegionKeysServiceRolePolicy",
        policy_id="ANPAZKAPJZG4KA2GTQ5UK",
        path="/aws-service-role/",
        description="Enables access to AWS services and resources required for AWS KMS Multi-Region Keys",
        version_id="v1",
        document=_doc({"Effect": "Allow", "Action": ["kms:SynchronizeMultiRegionKey"], "Resource": "*"}),
        created_at=datetime(2021, 6, 8, 17, 11, 23, tzinfo=UTC),
        updated_at=datetime(2021, 6, 8, 17, 11, 23, tzinfo=UTC),
    ),
)

AWS_MANAGED: dict[str, AwsManagedPolicy] = {policy.arn: policy for policy in _CATALOG}


def aws_managed_policies() -> tuple[AwsManagedPolicy, ...]:
    """Every AWS managed policy in the catalog, by name."""
    return tuple(sorted(_CATALOG, key=lambda p: p.name.lower()))
