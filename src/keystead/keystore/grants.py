"""KMS grants as values, and the rules a CreateGrant request must follow (kms.md §7).

A grant is an extra Allow: its grantee may perform its operations on its key, when the
request's encryption context satisfies its constraint. Storage, the in-memory index and the
tokens live in `grant_index.py` and `grant_tokens.py`; the service in `grant_service.py`.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from keystead import arn
from keystead.errors import InvalidArnError, InvalidGrantIdError, UnsupportedOperationError, ValidationError
from keystead.keystore import specs
from keystead.storage.rows import GrantRow

MAX_GRANTS_PER_KEY = 50_000  # [DG:resource-limits#grants-per-key], not adjustable
EQUALS = "EncryptionContextEquals"
SUBSET = "EncryptionContextSubset"
MAX_CONSTRAINT_PAIRS = 8
MAX_CONSTRAINT_VALUE = 384

# Operations a grant may allow, in botocore's GrantOperation enum order.
GRANT_OPERATIONS = (
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
    "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
    "DeriveSharedSecret",
)
# Operations whose requests carry no encryption context: a constraint never restricts them.
UNCONSTRAINED_OPERATIONS = frozenset({"DescribeKey", "RetireGrant", "CreateGrant"})
_ALWAYS = frozenset({"DescribeKey", "CreateGrant", "RetireGrant"})
_SYMMETRIC_OPS = _ALWAYS | {
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
    "ReEncryptTo", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
}
_OPS_BY_USAGE = {
    specs.ENCRYPT_DECRYPT: _ALWAYS | {"Decrypt", "Encrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey"},
    specs.SIGN_VERIFY: _ALWAYS | {"Sign", "Verify", "GetPublicKey"},
    specs.GENERATE_VERIFY_MAC: _ALWAYS | {"GenerateMac", "VerifyMac"},
    specs.KEY_AGREEMENT: _ALWAYS | {"DeriveSharedSecret", "GetPublicKey"},
}
GRANT_ID = re.compile(r"^[0-9a-f]{64}$")
_PRINCIPAL_RESOURCE = {
    "iam": re.compile(r"^(?:root|user/(?:[\w+=,.@-]+/)*[\w+=,.@-]+|role/(?:[\w+=,.@-]+/)*[\w+=,.@-]+)$"),
    "sts": re.compile(r"^(?:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+|federated-user/[\w+=,.@-]+)$"),
}


@dataclass(frozen=True, slots=True)
class GrantConstraint:
    """An encryption-context constraint: the request's context must equal, or contain, `context`."""

    type: str  # EQUALS or SUBSET
    context: Mapping[str, str]

    def satisfied_by(self, request_context: Mapping[str, str]) -> bool:
        """Keys and values compare case-sensitively, in any order [DG:grants#terms-grant-constraint]."""
        if self.type == EQUALS:
            return dict(request_context) == dict(self.context)
        return all(request_context.get(k) == v for k, v in self.context.items())

    def is_loosened_by(self, child: GrantConstraint | None) -> bool:
        """Whether a child grant's constraint would allow a context this one refuses.

        A child may add Subset pairs or turn Subset into Equals, never the reverse [DG:grants].
        """
        if child is None:
            return True
        if self.type == EQUALS:
            return child.type != EQUALS or dict(child.context) != dict(self.context)
        return not self.satisfied_by(child.context)

    def wire(self) -> dict[str, dict[str, str]]:
        key = "encryption_context_equals" if self.type == EQUALS else "encryption_context_subset"
        return {key: dict(self.context)}


@dataclass(frozen=True, slots=True)
class Grant:
    grant_id: str
    key_id: str
    region: str
    issuing_account: str
    grantee: str
    operations: tuple[str, ...]
    retiring: str | None = None
    constraint: GrantConstraint | None = None
    name: str | None = None
    creation_date: datetime | None = None

    @property
    def key_arn(self) -> str:
        return arn.key_arn(self.region, self.issuing_account, self.key_id)

    def allows_operation(self, operation: str) -> bool:
        return operation in self.operations

    def same_request(self, other: NewGrant) -> bool:
        """Whether a CreateGrant with the same Name asks for exactly this grant (idempotency)."""
        return (
            self.grantee == other.grantee
            and self.retiring == other.retiring
            and frozenset(self.operations) == frozenset(other.operations)
            and self.constraint == other.constraint
        )

    def to_row(self) -> GrantRow:
        constraint = self.constraint
        return GrantRow(
            grant_id=self.grant_id, key_id=self.key_id, region=self.region,
            issuing_account=self.issuing_account, name=self.name, grantee_principal=self.grantee,
            retiring_principal=self.retiring, operations=json.dumps(list(self.operations)),
            constraint_type=None if constraint is None else constraint.type,
            constraint_context=None if constraint is None else json.dumps(
                dict(constraint.context), sort_keys=True
            ),
            creation_date=self.creation_date,  # type: ignore[arg-type]  # always set on stored grants
        )

    @classmethod
    def from_row(cls, row: GrantRow) -> Grant:
        constraint = None
        if row.constraint_type is not None:
            pairs = json.loads(row.constraint_context or "{}")
            constraint = GrantConstraint(row.constraint_type, _frozen(pairs))
        return cls(
            grant_id=row.grant_id, key_id=row.key_id, region=row.region, issuing_account=row.issuing_account,
            grantee=row.grantee_principal, operations=tuple(json.loads(row.operations)),
            retiring=row.retiring_principal, constraint=constraint, name=row.name,
            creation_date=row.creation_date,
        )


@dataclass(frozen=True, slots=True)
class NewGrant:
    """A validated CreateGrant request."""

    grantee: str
    operations: tuple[str, ...]
    retiring: str | None = None
    constraint: GrantConstraint | None = None
    name: str | None = None


def new_grant_id() -> str:
    """64 hex characters, like AWS's grant ids."""
    return secrets.token_hex(32)


def check_grant_id(grant_id: str) -> None:
    """Raises:
        InvalidGrantIdError: not a grant id this service could have issued.
    """
    if not GRANT_ID.match(grant_id):
        raise InvalidGrantIdError(f"Invalid grant ID {grant_id}")


def check_principal(value: str) -> str:
    """A grantee or retiring principal: an account, user, role, assumed-role or federated-user ARN.

    Raises:
        InvalidArnError: anything else (service principals, groups, wildcards, malformed ARNs).
    """
    parsed = arn.parse_arn(value)
    pattern = None if parsed is None else _PRINCIPAL_RESOURCE.get(parsed.service)
    if (
        parsed is None or pattern is None or parsed.region or not re.fullmatch(r"\d{12}", parsed.account)
        or not pattern.match(parsed.resource) or (parsed.service == "sts") != _is_sts(parsed.resource)
    ):
        raise InvalidArnError(f"Invalid principal: {value}")
    return value


def _is_sts(resource: str) -> bool:
    return resource.startswith(("assumed-role/", "federated-user/"))


def parse_new_grant(params: Mapping[str, Any], key_spec: str, key_usage: str) -> NewGrant:
    """Validate a CreateGrant request (snake_case members) against the key it names.

    Raises:
        ValidationError: no grantee, no or invalid operations, or an invalid constraint.
        InvalidArnError: a grantee or retiring principal that is not a principal ARN.
        UnsupportedOperationError: service-principal grantees and SourceArn constraints.
    """
    if params.get("grantee_service_principal") or params.get("retiring_service_principal"):
        raise UnsupportedOperationError("Service principal grants are not supported by this server.")
    grantee = params.get("grantee_principal")
    if grantee is None:
        raise ValidationError("You must specify either GranteePrincipal or GranteeServicePrincipal.")
    retiring = params.get("retiring_principal")
    operations = _check_operations(params.get("operations") or [], key_spec, key_usage)
    constraint = parse_constraint(params.get("constraints"))
    symmetric = key_spec == specs.SYMMETRIC_DEFAULT and key_usage == specs.ENCRYPT_DECRYPT
    if constraint is not None and not symmetric:
        raise ValidationError(
            "Grant constraints are only valid for grants on symmetric encryption KMS keys."
        )
    return NewGrant(
        grantee=check_principal(grantee),
        operations=operations,
        retiring=None if retiring is None else check_principal(retiring),
        constraint=constraint,
        name=params.get("name"),
    )


def _check_operations(requested: Sequence[str], key_spec: str, key_usage: str) -> tuple[str, ...]:
    if not requested:
        raise ValidationError(
            "1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    if key_spec == specs.SYMMETRIC_DEFAULT:
        valid = _SYMMETRIC_OPS
    else:
        valid = _OPS_BY_USAGE.get(key_usage, _ALWAYS)
    for operation in requested:
        if operation not in valid:
            raise ValidationError(f"Grant operation {operation} is not valid for this KMS key ({key_spec}).")
    return tuple(dict.fromkeys(requested))  # request order, duplicates dropped


def parse_constraint(value: Mapping[str, Any] | None) -> GrantConstraint | None:
    """The GrantConstraints member as a constraint (None when absent).

    Raises:
        ValidationError: both kinds at once, too many pairs or too long values.
        UnsupportedOperationError: a SourceArn constraint (service principal grants).
    """
    if not value:
        return None
    if value.get("source_arn"):
        raise UnsupportedOperationError("SourceArn grant constraints are not supported by this server.")
    equals, subset = value.get("encryption_context_equals"), value.get("encryption_context_subset")
    if equals is not None and subset is not None:
        raise ValidationError(
            "A grant constraint can specify EncryptionContextEquals or EncryptionContextSubset, not both."
        )
    if equals is None and subset is None:
        return None
    kind, pairs = (EQUALS, equals) if equals is not None else (SUBSET, subset)
    if len(pairs) > MAX_CONSTRAINT_PAIRS:
        raise ValidationError(f"{kind} can contain at most {MAX_CONSTRAINT_PAIRS} encryption context pairs.")
    if any(len(k) > MAX_CONSTRAINT_VALUE or len(v) > MAX_CONSTRAINT_VALUE for k, v in pairs.items()):
        raise ValidationError(f"{kind} keys and values can be at most {MAX_CONSTRAINT_VALUE} characters.")
    return GrantConstraint(kind, _frozen(pairs))


def child_within_parent(
    parent: Grant, child_operations: Sequence[str], child: GrantConstraint | None
) -> bool:
    """Whether a grantee holding `parent` (with CreateGrant) may create this child grant."""
    if not set(child_operations) <= set(parent.operations):
        return False
    return parent.constraint is None or not parent.constraint.is_loosened_by(child)


def _frozen(pairs: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(pairs))
