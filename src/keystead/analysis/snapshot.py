"""One consistent read of everything the analyzer needs: the key, its grants, and every principal.

[DG:determining-access] Candidates are every account root, user and role on this server, plus
the principals the key policy and the grants name that are not on this server (an account root
becomes "any principal of that account", a user or role ARN an external principal), plus
"anyone" when the key policy names `*`. Identity policies are labelled with how they reach the
principal (inline name or managed ARN, and the group they come through).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from keystead import arn
from keystead.analysis.known import known_context
from keystead.analysis.model import Candidate
from keystead.errors import InvalidArnError, NotFoundError
from keystead.identity.iam.lookup import default_documents
from keystead.identity.policies import IdentityPolicies
from keystead.keystore import multi_region
from keystead.keystore.grants import Grant
from keystead.policy import Policy, PolicyKind, PrincipalInfo, parse_policy
from keystead.storage import Database, Tx
from keystead.storage.rows import IamRoleRow, IamUserRow, KeyRow

# Identity policies that stand for "whatever that account's IAM allows" for principals that are
# not on this server: their own account must still allow, which the report says in words.
ALLOW_ALL = parse_policy(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
    PolicyKind.IDENTITY, name="their own identity policies (not on this server)|",
)


@dataclass(frozen=True, slots=True)
class KeyTarget:
    row: KeyRow
    arn: str
    policy: Policy
    context: Mapping[str, str | list[str]]
    grants: tuple[Grant, ...]


@dataclass(frozen=True, slots=True)
class RoleTrust:
    arn: str
    account_id: str
    trust: Policy


@dataclass(frozen=True, slots=True)
class Snapshot:
    key: KeyTarget
    candidates: tuple[Candidate, ...]
    roles: Mapping[str, RoleTrust]  # every role on the server, by ARN
    accounts: frozenset[str]


def policy_label(display: str, via: str = "") -> str:
    """A policy's name inside the analyzer: what to show, and the group it comes through."""
    return f"{display}|{via}"


def split_label(label: str) -> tuple[str, str]:
    display, _, via = label.rpartition("|")
    return (display, via) if display else (label, "")


def find_key(tx: Tx, key: str) -> KeyRow:
    """The key named by a key ID or key ARN.

    Raises:
        NotFoundError: no such key.
        InvalidArnError: an ARN that is not a KMS key ARN.
    """
    key_id = key
    if key.startswith("arn:"):
        parsed = arn.parse_arn(key)
        if parsed is None or parsed.service != "kms" or parsed.resource_type != "key":
            raise InvalidArnError(f"Invalid arn {key}")
        key_id = parsed.resource[len("key/"):]
    row = tx.get_key(key_id)
    if row is None or (key.startswith("arn:") and arn.key_arn(row.region, row.account_id, row.key_id) != key):
        raise NotFoundError(f"Key '{key}' does not exist")
    return row


def _documents(tx: Tx, entity_id: str, via: str) -> list[tuple[str, str]]:
    inline = [(policy_label(f"inline:{name}", via), text) for name, text in tx.inline_policies(entity_id).items()]
    attached = default_documents(tx, tx.attached_policies(entity_id))
    return inline + [(policy_label(policy_arn, via), text) for policy_arn, text in sorted(attached.items())]


def _compile(documents: Iterable[tuple[str, str]], boundary_arn: str | None, tx: Tx) -> IdentityPolicies:
    policies = tuple(parse_policy(text, PolicyKind.IDENTITY, name=label) for label, text in documents)
    boundary = None
    if boundary_arn is not None:
        text = default_documents(tx, [boundary_arn]).get(boundary_arn)
        if text is not None:
            boundary = parse_policy(text, PolicyKind.BOUNDARY, name=policy_label(boundary_arn))
    return IdentityPolicies(policies, boundary)


def _user(tx: Tx, user: IamUserRow, resource: Mapping[str, str | list[str]]) -> Candidate:
    documents = _documents(tx, user.user_id, "")
    for group in tx.groups_of_user(user.user_id):
        documents.extend(_documents(tx, group.group_id, f"group/{group.group_name}"))
    user_arn = arn.user_arn(user.account_id, user.path, user.user_name)
    info = PrincipalInfo(user_arn, user.account_id, "User")
    context = known_context("user", info, resource, user_id=user.user_id, user_name=user.user_name,
                            tags=tx.entity_tags(user.user_id))
    identity = _compile(documents, user.permissions_boundary, tx)
    return Candidate(user_arn, "User", user.account_id, info, "user", context, identity)


def role_candidate(
    tx: Tx, role: IamRoleRow, resource: Mapping[str, str | list[str]], session: str | None = None
) -> Candidate:
    """A role's sessions (any session name), or one named session of it."""
    role_arn = arn.role_arn(role.account_id, role.path, role.role_name)
    session_arn = arn.assumed_role_arn(role.account_id, role.role_name, session or "*")
    info = PrincipalInfo(session_arn, role.account_id, "AssumedRole", identity_arn=role_arn)
    context = known_context("role", info, resource)
    identity = _compile(_documents(tx, role.role_id, ""), role.permissions_boundary, tx)
    kind, label = ("Session", session_arn) if session else ("Role", role_arn)
    return Candidate(label, kind, role.account_id, info, "role", context, identity, role_arn=role_arn)


def root_candidate(account_id: str, resource: Mapping[str, str | list[str]]) -> Candidate:
    root = arn.root_arn(account_id)
    info = PrincipalInfo(root, account_id, "Account")
    return Candidate(root, "Account", account_id, info, "root", known_context("root", info, resource))


def _account_candidates(tx: Tx, account_id: str, resource: Mapping[str, str | list[str]]) -> list[Candidate]:
    found = [root_candidate(account_id, resource)]
    found.extend(_user(tx, user, resource) for user in tx.list_iam_entities(IamUserRow, account_id))
    found.extend(role_candidate(tx, role, resource) for role in tx.list_iam_entities(IamRoleRow, account_id))
    return found


def pattern_candidate(named: str, resource: Mapping[str, str | list[str]]) -> Candidate | None:
    """A candidate for a principal ARN that is not on this server (None: not an AWS principal)."""
    parsed = arn.parse_arn(named)
    if named == "*":
        info = PrincipalInfo("*", "anyone", "User")
        return Candidate("*", "Anyone", "*", info, "anyone", known_context("anyone", info, resource),
                         IdentityPolicies((ALLOW_ALL,)), on_server=False)
    if parsed is None or not parsed.account:
        return None
    if parsed.resource == "root":
        info = PrincipalInfo(f"arn:aws:iam::{parsed.account}:*", parsed.account, "User")
        label = f"any principal of account {parsed.account}"
        return Candidate(label, "AccountPattern", parsed.account, info, "account",
                         known_context("account", info, resource), IdentityPolicies((ALLOW_ALL,)), on_server=False)
    kind = "AssumedRole" if parsed.service == "sts" else "User"
    identity_arn = None
    if parsed.resource.startswith("role/"):
        kind, identity_arn = "AssumedRole", named
    info = PrincipalInfo(named if identity_arn is None else f"{named}#session", parsed.account, kind,
                         identity_arn=identity_arn)
    return Candidate(named, "ExternalPrincipal", parsed.account, info, "external",
                     known_context("external", info, resource), IdentityPolicies((ALLOW_ALL,)), on_server=False)


def names_everyone(policy_text: str) -> bool:
    """Whether any statement of a resource policy names `*` (everyone) as its Principal."""
    statements = json.loads(policy_text).get("Statement")
    for statement in [statements] if isinstance(statements, dict) else statements or []:
        principal = statement.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else None
        if principal == "*" or aws == "*" or (isinstance(aws, list) and "*" in aws):
            return True
    return False


def resource_context(tx: Tx, row: KeyRow) -> dict[str, str | list[str]]:
    """The condition keys the key itself contributes (as the KMS handlers set them)."""
    context: dict[str, str | list[str]] = {
        "aws:ResourceAccount": row.account_id, "kms:KeySpec": row.key_spec, "kms:KeyUsage": row.key_usage,
        "kms:KeyOrigin": row.origin, "kms:KeyManager": row.key_manager,
        "kms:MultiRegion": "true" if row.multi_region else "false",
    }
    key_type = multi_region.key_type(row.region, row, tx.list_key_replicas(row.key_id) if row.multi_region else ())
    if key_type is not None:
        context["kms:MultiRegionKeyType"] = key_type
    for tag_key, tag_value in tx.list_key_tags(row.key_id).items():
        context[f"aws:ResourceTag/{tag_key}"] = tag_value
    return context


def _named_candidates(
    tx: Tx, named: Iterable[str], on_server: set[str], resource: Mapping[str, str | list[str]]
) -> list[Candidate]:
    """Candidates for named principals that enumeration does not already cover."""
    found: list[Candidate] = []
    for name in dict.fromkeys(named):
        parsed = arn.parse_arn(name) if name != "*" else None
        if parsed is not None and parsed.service == "sts" and parsed.resource.startswith("assumed-role/"):
            _, role_name, session = parsed.resource.split("/", 2)
            role = tx.get_iam_entity(IamRoleRow, parsed.account, role_name)
            if role is not None:
                found.append(role_candidate(tx, role, resource, session))
                continue
        if name in on_server or (parsed is not None and parsed.account in on_server):
            continue
        candidate = pattern_candidate(name, resource)
        if candidate is not None:
            found.append(candidate)
    return found


def load_snapshot(db: Database, key: str) -> Snapshot:
    """Read the key and every candidate principal in one transaction (blocking).

    Raises:
        NotFoundError: no such key.
        InvalidArnError: `key` is an ARN but not a KMS key ARN.
    """
    with db.reader() as tx:
        row = find_key(tx, key)
        resource = resource_context(tx, row)
        grants = tuple(Grant.from_row(g) for g in tx.all_grants_of_key(row.key_id)[1])
        key_policy = parse_policy(row.policy, PolicyKind.RESOURCE, name=policy_label("key policy"))
        accounts = frozenset(a.account_id for a in tx.list_accounts())
        candidates: list[Candidate] = []
        roles: dict[str, RoleTrust] = {}
        for account_id in sorted(accounts):
            candidates.extend(_account_candidates(tx, account_id, resource))
            for role in tx.list_iam_entities(IamRoleRow, account_id):
                role_arn = arn.role_arn(account_id, role.path, role.role_name)
                trust = parse_policy(role.assume_role_policy, PolicyKind.TRUST, name=policy_label("trust policy"))
                roles[role_arn] = RoleTrust(role_arn, account_id, trust)
        named = list(key_policy.aws_principals)
        named.extend(n for g in grants for n in (g.grantee, g.retiring) if n)
        if names_everyone(row.policy):
            named.append("*")
        known = {c.label for c in candidates} | set(accounts)
        candidates.extend(_named_candidates(tx, named, known, resource))
    target = KeyTarget(row, arn.key_arn(row.region, row.account_id, row.key_id), key_policy, resource, grants)
    return Snapshot(target, tuple(candidates), roles, accounts)
