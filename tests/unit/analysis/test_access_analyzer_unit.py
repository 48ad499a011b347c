"""The access analyzer over a real (SQLite) database: enumeration, bounds, paths, findings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keystead.analysis import ALLOWED, CONDITIONAL, AccessAnalyzer
from keystead.analysis.known import known_keys
from keystead.analysis.relax import bounds
from keystead.analysis.snapshot import load_snapshot
from keystead.clock import FixedClock
from keystead.errors import NotFoundError, ValidationError
from keystead.policy import PolicyKind, parse_policy
from keystead.storage import Database
from keystead.storage.rows import GrantRow, IamGroupRow, IamRoleRow, IamUserRow
from keystead.storage.testing import T0, sample_account, sample_key

OWNER = "111122223333"
PARTNER = "444455556666"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:{OWNER}:key/{KEY_ID}"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": "*", **extra}


KEY_POLICY = document(
    {"Sid": "Admin", **allow("kms:*"), "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}},
    {"Sid": "Partner", **allow("kms:Decrypt"), "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
     "Condition": {"StringEquals": {"kms:EncryptionContext:dept": "finance"}}},
    {"Sid": "Alice", **allow("kms:Encrypt"), "Principal": {"AWS": f"arn:aws:iam::{OWNER}:user/alice"}},
    {"Sid": "NoOldIps", "Effect": "Deny", "Action": "kms:GenerateDataKey", "Resource": "*", "Principal": "*",
     "Condition": {"IpAddress": {"aws:SourceIp": "10.9.0.0/16"}}},
)


def _user(tx: Any, name: str, user_id: str) -> None:
    tx.insert_iam_entity(IamUserRow(user_id, OWNER, name, name.lower(), "/", T0))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'keystead.db'}", clock=FixedClock(T0))
    database.migrate()
    with database.transaction() as tx:
        tx.insert_account(sample_account(OWNER))
        tx.insert_account(sample_account(PARTNER, email="partner@example.com"))
        tx.insert_key(sample_key(KEY_ID, OWNER, policy=KEY_POLICY))
        _user(tx, "alice", "AIDAALICE0000000000001")
        _user(tx, "bob", "AIDABOB00000000000001")
        _user(tx, "carol", "AIDACAROL0000000000001")
        tx.put_inline_policy("AIDABOB00000000000001", "use", document(allow(["kms:Decrypt", "kms:GenerateDataKey"])))
        tx.insert_iam_entity(IamGroupRow("AGPAOPS00000000000001", OWNER, "ops", "ops", "/", T0))
        tx.add_group_member("AGPAOPS00000000000001", "AIDACAROL0000000000001")
        tx.attach_policy(OWNER, "AGPAOPS00000000000001", "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser")
        trust = document({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:user/alice"},
                          "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})
        tx.insert_iam_entity(IamRoleRow("AROAAPP00000000000001", OWNER, "app", "app", "/", T0, trust, None, 3600))
        tx.put_inline_policy("AROAAPP00000000000001", "enc", document(allow("kms:Encrypt")))
        tx.insert_grant(GrantRow("a" * 64, KEY_ID, "us-east-1", OWNER, None, f"arn:aws:iam::{OWNER}:user/carol",
                                 None, json.dumps(["Decrypt"]), "EncryptionContextSubset", '{"app": "x"}', T0))
    yield database
    database.dispose()


def test_enumeration_covers_every_root_user_and_role_of_every_account(db: Database) -> None:
    labels = {c.label: c.kind for c in load_snapshot(db, KEY_ARN).candidates}
    assert labels[f"arn:aws:iam::{OWNER}:root"] == "Account"
    assert labels[f"arn:aws:iam::{PARTNER}:root"] == "Account"
    assert labels[f"arn:aws:iam::{OWNER}:user/alice"] == "User"
    assert labels[f"arn:aws:iam::{OWNER}:role/app"] == "Role"
    assert "*" in labels  # the key policy names everyone (in a Deny), so "anyone" is a candidate


def test_group_policies_are_labelled_with_the_group_they_come_through(db: Database) -> None:
    carol = next(c for c in load_snapshot(db, KEY_ID).candidates if c.label.endswith("user/carol"))
    assert [p.name for p in carol.identity.policies] == [
        "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser|group/ops"
    ]


def test_a_key_policy_statement_naming_the_user_is_enough_on_its_own(db: Database) -> None:
    report = AccessAnalyzer(db).who_can(KEY_ID, "kms:Encrypt")
    assert report.access(f"arn:aws:iam::{OWNER}:user/alice", "kms:Encrypt") == ALLOWED
    entry = next(p for p in report.principals if p.principal.endswith("user/alice"))
    assert [(p.type, p.statement) for p in entry.actions[0].paths] == [("KeyPolicy", "Alice")]


def test_an_account_statement_needs_the_users_iam_policy(db: Database) -> None:
    report = AccessAnalyzer(db).who_can(KEY_ID)
    bob = f"arn:aws:iam::{OWNER}:user/bob"
    assert report.access(bob, "kms:Decrypt") == ALLOWED
    assert report.access(bob, "kms:Encrypt") is None
    entry = next(p for p in report.principals if p.principal == bob)
    decrypt = next(a for a in entry.actions if a.action == "kms:Decrypt")
    assert {p.type for p in decrypt.paths} == {"KeyPolicy", "IdentityPolicy"}


def test_a_conditional_deny_makes_access_conditional_not_unconditional(db: Database) -> None:
    report = AccessAnalyzer(db).who_can(KEY_ID, "kms:GenerateDataKey")
    bob = f"arn:aws:iam::{OWNER}:user/bob"
    assert report.access(bob, "kms:GenerateDataKey") == CONDITIONAL
    entry = next(p for p in report.principals if p.principal == bob)
    (denial,) = entry.actions[0].conditions
    assert denial.effect == "Deny" and denial.statement == "NoOldIps"


def test_cross_account_access_is_conditional_on_the_encryption_context(db: Database) -> None:
    report = AccessAnalyzer(db).who_can(KEY_ID, "kms:Decrypt")
    partner = f"arn:aws:iam::{PARTNER}:root"
    assert report.access(partner, "kms:Decrypt") == CONDITIONAL
    assert any(f.type == "CrossAccountAccess" and PARTNER in f.message for f in report.findings)


def test_a_constrained_grant_gives_conditional_access(db: Database) -> None:
    report = AccessAnalyzer(db).who_can(KEY_ID, "kms:Decrypt")
    carol = f"arn:aws:iam::{OWNER}:user/carol"
    # The power-user policy does not include kms:Decrypt; only the grant does, for app=x.
    assert report.access(carol, "kms:Decrypt") == CONDITIONAL
    assert any(f.type == "GrantWithoutRetiringPrincipal" for f in report.findings)


def test_a_role_lists_who_can_assume_it_with_the_trust_conditions(db: Database) -> None:
    report = AccessAnalyzer(db).who_can(KEY_ID, "kms:Encrypt")
    role = next(p for p in report.principals if p.principal.endswith("role/app"))
    (assumer,) = role.assumable_by
    assert assumer.principal.endswith("user/alice") and assumer.access == CONDITIONAL
    assert "aws:MultiFactorAuthPresent" in assumer.conditions[0].entries[0]


def test_explain_reports_the_matching_statements_and_the_denial_message(db: Database) -> None:
    analyzer = AccessAnalyzer(db)
    allowed = analyzer.explain(f"arn:aws:iam::{PARTNER}:root", "kms:Decrypt", KEY_ARN,
                               {"kms:EncryptionContext:dept": "finance"})
    assert allowed.decision.allowed and [m.sid for m in allowed.decision.matched] == ["Partner"]
    denied = analyzer.explain(f"arn:aws:iam::{PARTNER}:root", "kms:Decrypt", KEY_ARN, {})
    assert not denied.decision.allowed
    assert denied.message.endswith("because no resource-based policy allows the kms:Decrypt action")


def test_unknown_keys_and_actions_are_rejected(db: Database) -> None:
    analyzer = AccessAnalyzer(db)
    with pytest.raises(NotFoundError):
        analyzer.who_can("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ValidationError):
        analyzer.who_can(KEY_ID, "kms:CreateKey")


def test_bounds_keep_statement_indices_and_report_unknown_entries() -> None:
    policy = parse_policy(KEY_POLICY, PolicyKind.RESOURCE, name="key policy|")
    bounded = bounds(policy, known_keys("user"), "user")
    assert len(bounded.optimistic.statements) == len(policy.statements) == len(bounded.pessimistic.statements)
    assert set(bounded.conditions) == {1, 3}
    assert bounded.conditions[1] == ('StringEquals kms:EncryptionContext:dept ["finance"]',)
