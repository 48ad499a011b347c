"""The Principal and NotPrincipal elements: validation, and how far a statement reaches the caller.

[IAM:reference_policies_elements_principal][IAM:reference_policies_evaluation-logic]
- `"*"` and `{"AWS": "*"}` name everyone, anonymous callers included.
- An account ID or `arn:aws:iam::<id>:root` names the *account*: it delegates to that account's
  IAM policies (the caller still needs an identity-policy Allow), it is not the root user alone.
- A user, role session or federated-user ARN names that caller directly. A role ARN names the
  role's sessions, but a grant reaching a session through its role ARN is limited by the
  session's permissions boundary and session policies, while one naming the session ARN (or the
  user ARN, or everyone) is not.
- NotPrincipal excludes a caller only when every identity the caller carries is listed: for a
  role session its session ARN, its role ARN and its account; for a user its ARN and account.
- Wildcards inside principal ARNs are invalid. Groups are never principals.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from keystead.policy.model import PolicyKind, PrincipalInfo

Fail = Callable[[str], NoReturn]

_PARTITION = r"arn:aws[a-z-]*"
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROOT = re.compile(rf"^{_PARTITION}:iam::(\d{{12}}):root$")
_IAM_ENTITY = re.compile(rf"^{_PARTITION}:iam::\d{{12}}:(?:user|role)/[\w+=,.@/-]+$")
_STS_SESSION = re.compile(
    rf"^{_PARTITION}:sts::\d{{12}}:(?:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+|federated-user/[\w+=,.@-]+)$"
)
# A deleted-and-recreated role or user shows up in a stored policy as its old unique ID.
_UNIQUE_ID = re.compile(r"^A(?:IDA|ROA)[A-Z0-9]{12,}$")
_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


class Reach(enum.IntEnum):
    """How a statement's Principal element reaches the caller (0 = it does not)."""

    NONE = 0
    ACCOUNT = 1  # names the caller's account: delegation to the account's IAM policies
    IDENTITY = 2  # names the role (or user) behind the caller's session
    DIRECT = 3  # names the caller itself, or everyone


@dataclass(frozen=True, slots=True)
class PrincipalSet:
    """A compiled Principal or NotPrincipal element."""

    everyone: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()
    aws_arns: tuple[str, ...] = ()  # every AWS principal as an ARN (accounts as root ARNs)

    def reach(self, caller: PrincipalInfo) -> Reach:
        """How this element reaches `caller` when used as Principal."""
        if self.everyone:
            return Reach.DIRECT
        if caller.federated is not None and caller.federated in self.federated:
            return Reach.DIRECT
        kind = caller.type
        if kind == "AWSService":
            service = caller.service
            return Reach.DIRECT if service is not None and service.lower() in self.services else Reach.NONE
        if kind == "Anonymous":
            return Reach.NONE
        if caller.arn in self.arns:
            return Reach.DIRECT
        if caller.identity_arn is not None and caller.identity_arn in self.arns:
            return Reach.IDENTITY
        if caller.account_id in self.accounts:
            return Reach.ACCOUNT
        return Reach.NONE

    def excludes(self, caller: PrincipalInfo) -> bool:
        """True when this element, used as NotPrincipal, lists every identity of `caller`."""
        if self.everyone:
            return True
        if caller.federated is not None and caller.federated in self.federated:
            return True
        kind = caller.type
        if kind == "AWSService":
            return caller.service is not None and caller.service.lower() in self.services
        if kind == "Anonymous":
            return False
        if caller.account_id not in self.accounts:
            return False
        if kind == "Account":
            return True
        if caller.arn not in self.arns:
            return False
        if kind == "AssumedRole":
            return caller.identity_arn is not None and caller.identity_arn in self.arns
        return True


def _invalid(kind: PolicyKind, principal_type: str, value: str, fail: Fail) -> NoReturn:
    if kind is PolicyKind.TRUST:
        fail(f'Invalid principal in policy: "{principal_type}":"{value}"')
    fail("Policy contains a statement with one or more invalid principals.")


def _strings(raw: object, principal_type: str, kind: PolicyKind, fail: Fail) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(item, str) and item for item in items):
        _invalid(kind, principal_type, str(raw), fail)
    return [item for item in items if isinstance(item, str)]


def compile_principals(element: object, *, kind: PolicyKind, fail: Fail) -> PrincipalSet:
    """Validate and compile a Principal/NotPrincipal element.

    Raises (through `fail`): MalformedPolicyDocument for an unknown type or an invalid value.
    """
    if element == "*":
        return PrincipalSet(everyone=True)
    if not isinstance(element, dict) or not element:
        _invalid(kind, "AWS", str(element), fail)
    everyone = False
    accounts: set[str] = set()
    arns: set[str] = set()
    services: set[str] = set()
    federated: set[str] = set()
    aws_arns: list[str] = []
    for principal_type, raw in element.items():
        if principal_type not in _TYPES:
            _invalid(kind, principal_type, str(raw), fail)
        for value in _strings(raw, principal_type, kind, fail):
            if principal_type == "AWS":
                if value == "*":
                    everyone = True
                elif _ACCOUNT_ID.match(value):
                    accounts.add(value)
                    aws_arns.append(f"arn:aws:iam::{value}:root")
                elif root := _ROOT.match(value):
                    accounts.add(root.group(1))
                    aws_arns.append(value)
                elif _IAM_ENTITY.match(value) or _STS_SESSION.match(value):
                    arns.add(value)
                    aws_arns.append(value)
                elif not _UNIQUE_ID.match(value):
                    _invalid(kind, principal_type, value, fail)
            elif "*" in value or "?" in value:
                _invalid(kind, principal_type, value, fail)
            elif principal_type == "Service":
                services.add(value.lower())
            elif principal_type == "Federated":
                federated.add(value)
            # CanonicalUser is an S3 notion: accepted, never matches a caller here.
    return PrincipalSet(
        everyone=everyone,
        accounts=frozenset(accounts),
        arns=frozenset(arns),
        services=frozenset(services),
        federated=frozenset(federated),
        aws_arns=tuple(aws_arns),
    )
