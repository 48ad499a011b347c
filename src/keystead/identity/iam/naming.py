"""IAM ARNs, resource types and the checks the model's patterns cannot express (tags, ARNs).

[IAM:reference_identifiers] ARNs carry the entity's path: `arn:aws:iam::<acct>:user/division/bob`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from keystead.arn import PARTITION, role_arn, user_arn
from keystead.errors import InvalidInputError, LimitExceededError, ValidationError

MAX_TAGS = 50
USER_TYPE = "AWS::IAM::User"
GROUP_TYPE = "AWS::IAM::Group"
ROLE_TYPE = "AWS::IAM::Role"
POLICY_TYPE = "AWS::IAM::Policy"
MFA_TYPE = "AWS::IAM::MFADevice"
ACCOUNT_TYPE = "AWS::IAM::Account"
_POLICY_ARN = re.compile(r"^arn:aws:iam::(\d{12}|aws):policy(/|/[\x21-\x7e]*/)([\w+=,.@-]{1,128})$")

__all__ = ["group_arn", "mfa_arn", "policy_arn", "role_arn", "user_arn"]


def group_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:group{path}{name}"


def policy_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:policy{path}{name}"


def mfa_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:mfa{path}{name}"


def check_policy_arn(arn: str) -> tuple[str, str, str]:
    """(account or "aws", path, name) of a managed policy ARN.

    Raises:
        InvalidInputError: not a managed policy ARN (AWS's wording).
    """
    match = _POLICY_ARN.match(arn)
    if match is None:
        raise InvalidInputError(f"ARN {arn} is not valid.")
    return match.group(1), match.group(2), match.group(3)


def tag_map(tags: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    """Tags as given on the wire (`[{key, value}]`) as a map, checked as IAM checks them.

    Raises:
        InvalidInputError: a key given twice (IAM compares tag keys without case) or an aws: key.
        LimitExceededError: more than 50 tags.
    """
    result: dict[str, str] = {}
    seen: set[str] = set()
    for tag in tags or ():
        key, value = tag["key"], tag["value"]
        if key.lower() in seen:
            raise InvalidInputError("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        if key.lower().startswith("aws:"):
            raise InvalidInputError("User-defined tag keys can't start with 'aws:'. This prefix is reserved.")
        seen.add(key.lower())
        result[key] = value
    if len(result) > MAX_TAGS:
        raise LimitExceededError(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    return result


def merged_tags(existing: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str]:
    """Existing tags overwritten by new ones, keys compared without case as IAM does.

    Raises:
        LimitExceededError: the result would have more than 50 tags.
    """
    lowered = {key.lower(): key for key in existing}
    merged = dict(existing)
    for key, value in new.items():
        merged.pop(lowered.get(key.lower(), key), None)
        merged[key] = value
    if len(merged) > MAX_TAGS:
        raise LimitExceededError(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    return merged


def check_path_prefix(prefix: str | None) -> str:
    """A PathPrefix parameter, defaulting to "/".

    Raises:
        ValidationError: a prefix that does not start with "/".
    """
    if prefix is None or prefix == "":
        return "/"
    if not prefix.startswith("/"):
        raise ValidationError("The specified value for pathPrefix is invalid. It must begin and end with / and "
                              "contain only alphanumeric characters and/or / characters.")
    return prefix
