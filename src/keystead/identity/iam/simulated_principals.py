"""The IAM entity a simulation is about (PolicySourceArn) or simulated as (CallerArn): its
policies as the simulator names them, and the principal and condition keys it would carry.

The documents come from `identity/policies.py`, the functions the enforcing identity-policy
source uses, so a simulated user has exactly the policies a real request of that user is
evaluated against (its groups' included). Blocking (database): call it off the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from keystead.arn import parse_arn
from keystead.errors import InvalidInputError, NoSuchEntityError
from keystead.identity.iam import lookup
from keystead.identity.iam.aws_managed import AWS_POLICY_PREFIX
from keystead.identity.iam.simulator import PolicySource
from keystead.identity.policies import EntityDocuments, role_documents, user_documents
from keystead.policy import PrincipalInfo
from keystead.storage import Tx
from keystead.storage.rows import IamGroupRow

_KINDS = ("user", "group", "role")


@dataclass(frozen=True, slots=True)
class SimulatedPrincipal:
    """An IAM user, group or role as the simulator evaluates it."""

    info: PrincipalInfo
    policies: tuple[PolicySource, ...] = ()
    boundary: PolicySource | None = None
    context: Mapping[str, str] = field(default_factory=dict)


def _source(label: str, text: str) -> PolicySource:
    """A document labelled by identity/policies.py ("user/bob/<name>" or a policy ARN)."""
    if label.startswith("arn:"):
        kind = "aws-managed" if label.startswith(AWS_POLICY_PREFIX) else "user-managed"
        return PolicySource(label.rsplit("/", 1)[-1], kind, text, arn=label)
    kind, _, rest = label.partition("/")
    return PolicySource(rest.partition("/")[2], kind, text)


def _group_documents(tx: Tx, group: IamGroupRow) -> EntityDocuments:
    inline = [(f"group/{group.group_name}/{name}", text) for name, text in tx.inline_policies(group.group_id).items()]
    attached = lookup.default_documents(tx, tx.attached_policies(group.group_id))
    return EntityDocuments(tuple(inline + sorted(attached.items())))


def _parse(arn: str) -> tuple[str, str, str, str]:
    """(account, kind, path, name) of a user, group or role ARN.

    Raises:
        InvalidInputError: any other ARN (AWS's wording).
    """
    parsed = parse_arn(arn)
    kind, _, rest = (parsed.resource if parsed else "").partition("/")
    if parsed is None or parsed.service != "iam" or kind not in _KINDS or not rest:
        raise InvalidInputError(f"Invalid ARN: {arn}")
    path, _, name = ("/" + rest).rpartition("/")
    return parsed.account, kind, path + "/", name


def load_principal(tx: Tx, account_id: str, arn: str) -> SimulatedPrincipal:
    """The user, group or role an ARN names, in `account_id`, with its policies.

    Raises:
        InvalidInputError: not the ARN of a user, group or role.
        NoSuchEntityError: no such entity in the account (path included).
    """
    owner, kind, path, name = _parse(arn)
    finders = {"user": lookup.find_user, "group": lookup.find_group, "role": lookup.find_role}
    row = finders[kind](tx, account_id, name) if owner == account_id else None
    if row is None or row.path != path:
        raise NoSuchEntityError(f"The {kind} with name {name} cannot be found.")
    unique_id = getattr(row, f"{kind}_id")
    if kind == "user":
        documents = user_documents(tx, row)
    elif kind == "role":
        documents = role_documents(tx, row)
    else:
        documents = _group_documents(tx, row)
    principal_type = "AssumedRole" if kind == "role" else "User"
    context = {
        "aws:PrincipalArn": arn, "aws:PrincipalAccount": account_id, "aws:PrincipalType": principal_type,
        "aws:userid": unique_id,
    }
    if kind == "user":
        context["aws:username"] = name
    if kind != "group":
        for key, value in tx.entity_tags(unique_id).items():
            context[f"aws:PrincipalTag/{key}"] = value
    boundary = _source(*documents.boundary) if documents.boundary else None
    return SimulatedPrincipal(
        PrincipalInfo(arn, account_id, principal_type),
        tuple(_source(label, text) for label, text in documents.documents), boundary, context,
    )


def caller_principal(account_id: str, arn: str) -> PrincipalInfo:
    """A CallerArn that need not exist in this account (a user, group or role ARN).

    Raises:
        InvalidInputError: not the ARN of a user, group or role.
    """
    owner, kind, _, _ = _parse(arn)
    return PrincipalInfo(arn, owner, "AssumedRole" if kind == "role" else "User")
