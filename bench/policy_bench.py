"""Policy evaluation cost: a 10-statement key policy with conditions plus two identity policies.

Plain script (DESIGN.md §7 target: well under 50 µs per evaluation on the 2-core reference box):

    .venv/bin/python bench/policy_bench.py [--iterations N]

Prints microseconds per evaluation for a few representative requests, and the cost of a cached
`parse_policy` call. Parsing itself happens once, before timing.
"""

from __future__ import annotations

import argparse
import json
import time

from keystead.policy import (
    AuthzRequest,
    EvaluationInput,
    PolicyKind,
    PrincipalInfo,
    evaluate,
    parse_policy,
)

ACCOUNT = "111122223333"
OTHER = "444455556666"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app/Writer"

KEY_POLICY = {
    "Version": "2012-10-17",
    "Id": "key-consolepolicy-3",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Allow access for Key Administrators",
            "Effect": "Allow",
            "Principal": {
                "AWS": [f"arn:aws:iam::{ACCOUNT}:role/KeyAdmin", f"arn:aws:iam::{ACCOUNT}:user/alice"]
            },
            "Action": [
                "kms:Create*",
                "kms:Describe*",
                "kms:Enable*",
                "kms:List*",
                "kms:Put*",
                "kms:Update*",
                "kms:Revoke*",
                "kms:Disable*",
                "kms:Get*",
                "kms:Delete*",
                "kms:TagResource",
                "kms:UntagResource",
                "kms:ScheduleKeyDeletion",
                "kms:CancelKeyDeletion",
            ],
            "Resource": "*",
        },
        {
            "Sid": "Allow use of the key",
            "Effect": "Allow",
            "Principal": {"AWS": ROLE},
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:EncryptionContext:app": "billing"},
                "Bool": {"aws:SecureTransport": "true"},
            },
        },
        {
            "Sid": "Allow attachment of persistent resources",
            "Effect": "Allow",
            "Principal": {"AWS": ROLE},
            "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
        {
            "Sid": "Allow partner account",
            "Effect": "Allow",
            "Principal": {"AWS": OTHER},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
        },
        {
            "Sid": "Deny outside the VPC",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"},
                "BoolIfExists": {"aws:ViaAWSService": "false"},
                "ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/BreakGlass*"},
            },
        },
        {
            "Sid": "Allow CloudTrail",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
                }
            },
        },
        {
            "Sid": "Deny old TLS sources",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {
                "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]},
                "Null": {"aws:SourceVpce": "true"},
            },
        },
        {
            "Sid": "Tag based access",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["kms:Encrypt", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        },
        {
            "Sid": "Time window",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:ScheduleKeyDeletion",
            "Resource": "*",
            "Condition": {"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "14"}},
        },
    ],
}
IDENTITY_POLICIES = [
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "UseKeys",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": f"arn:aws:kms:*:{ACCOUNT}:key/*",
            },
            {
                "Sid": "ReadOnly",
                "Effect": "Allow",
                "Action": ["kms:Describe*", "kms:List*", "kms:Get*"],
                "Resource": "*",
            },
            {
                "Sid": "NoDelete",
                "Effect": "Deny",
                "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey"],
                "Resource": "*",
            },
        ],
    },
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Home",
                "Effect": "Allow",
                "Action": "kms:*",
                "Resource": "arn:aws:kms:*:*:alias/${aws:username}/*",
            },
            {
                "Sid": "RequireTls",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    },
]


def _session_request(action: str, context_app: str) -> AuthzRequest:
    principal = PrincipalInfo(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Writer/i-0abc", ACCOUNT, "AssumedRole", identity_arn=ROLE
    )
    context = {
        "aws:SecureTransport": "true",
        "aws:SourceIp": "10.1.2.3",
        "aws:PrincipalArn": ROLE,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:PrincipalType": "AssumedRole",
        "aws:userid": "AROAEXAMPLE:i-0abc",
        "aws:PrincipalTag/team": "billing",
        "aws:ResourceTag/team": "billing",
        "aws:CurrentTime": "2025-01-01T00:00:00Z",
        "aws:EpochTime": "1735689600",
        "aws:RequestedRegion": "us-east-1",
        "kms:CallerAccount": ACCOUNT,
        "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "kms:EncryptionContext:app": context_app,
        "kms:EncryptionContextKeys": ["app"],
        "kms:KeySpec": "SYMMETRIC_DEFAULT",
        "kms:KeyUsage": "ENCRYPT_DECRYPT",
        "kms:KeyOrigin": "AWS_KMS",
        "kms:MultiRegion": "false",
    }
    return AuthzRequest(principal, action, KEY_ARN, context)


def _time(label: str, inp: EvaluationInput, iterations: int) -> None:
    evaluate(inp)  # warm the caches of the wildcard compiler
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(iterations):
            evaluate(inp)
        best = min(best, time.perf_counter() - start)
    decision = evaluate(inp)
    print(f"{label:<44} {best / iterations * 1e6:8.2f} µs/evaluation  -> {decision.result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    args = parser.parse_args()
    key_text = json.dumps(KEY_POLICY)
    key_policy = parse_policy(key_text, PolicyKind.RESOURCE, name="default")
    identity = [
        parse_policy(json.dumps(p), PolicyKind.IDENTITY, name=f"p{i}")
        for i, p in enumerate(IDENTITY_POLICIES)
    ]
    print(
        f"key policy: {len(key_policy.statements)} statements; identity policies: "
        f"{sum(len(p.statements) for p in identity)} statements"
    )

    def case(action: str, app: str) -> EvaluationInput:
        return EvaluationInput(
            _session_request(action, app),
            resource_account=ACCOUNT,
            resource_policy=key_policy,
            resource_policy_strict=True,
            identity_policies=identity,
        )

    _time("Encrypt, allowed (key policy + IAM)", case("kms:Encrypt", "billing"), args.iterations)
    _time("Decrypt, explicit deny (not via VPCE)", case("kms:Decrypt", "billing"), args.iterations)
    _time("ScheduleKeyDeletion, explicit deny", case("kms:ScheduleKeyDeletion", "x"), args.iterations)
    _time("PutKeyPolicy, implicit deny", case("kms:PutKeyPolicy", "x"), args.iterations)

    start = time.perf_counter()
    for _ in range(args.iterations):
        _session_request("kms:Encrypt", "billing")
    per_build = (time.perf_counter() - start) / args.iterations * 1e6
    print(f"{'AuthzRequest with 19 context keys':<44} {per_build:8.2f} µs/build")
    start = time.perf_counter()
    for _ in range(args.iterations):
        parse_policy(key_text, PolicyKind.RESOURCE, name="default")
    print(
        f"{'parse_policy, cached':<44} {(time.perf_counter() - start) / args.iterations * 1e6:8.2f} µs/call"
    )


if __name__ == "__main__":
    main()
