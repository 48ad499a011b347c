"""Amazon Resource Names: parse and build, nothing else."""

from __future__ import annotations

from dataclasses import dataclass

PARTITION = "aws"


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @property
    def resource_type(self) -> str:
        """`key` for `key/1234...`, `user` for `user/path/bob`, '' for `root`."""
        head, sep, _ = self.resource.partition("/")
        return head if sep else ""


def parse_arn(text: str) -> Arn | None:
    """The parts of an ARN, or None if `text` is not shaped like one."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def key_arn(region: str, account_id: str, key_id: str) -> str:
    return f"arn:{PARTITION}:kms:{region}:{account_id}:key/{key_id}"


def alias_arn(region: str, account_id: str, alias_name: str) -> str:
    return f"arn:{PARTITION}:kms:{region}:{account_id}:{alias_name}"


def root_arn(account_id: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:root"


def user_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:user{path}{name}"


def role_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:role{path}{name}"


def assumed_role_arn(account_id: str, role_name: str, session_name: str) -> str:
    return f"arn:{PARTITION}:sts::{account_id}:assumed-role/{role_name}/{session_name}"
