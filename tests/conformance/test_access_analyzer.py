"""The access analyzer against reality: for every principal and action, the report's answer is
checked by having that principal try the action through boto3 against the live server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from tests.conformance.sts_helpers import make_role, make_user, session_client, trust, unique
from tests.support import Account, Server, signed_request

ALLOWED, CONDITIONAL = "Allowed", "Conditional"
CONTEXT = {"dept": "finance"}
ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:GetKeyPolicy")


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": "*", **extra}


class Scenario:
    """A key with a policy, IAM users/groups/roles in two accounts, and a grant."""

    def __init__(self, server: Server, owner: Account, partner: Account) -> None:
        self.server, self.owner, self.partner = server, owner, partner
        iam = server.client("iam", owner)
        self.reader_arn, self.reader = make_user(server, owner, document(allow(["kms:Decrypt", "kms:Encrypt"])))
        self.direct_arn, self.direct = make_user(server, owner)
        self.nobody_arn, self.nobody = make_user(server, owner)
        self.denied_arn, self.denied = make_user(server, owner, document(
            allow("kms:*"), {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}))
        self.grouped_arn, self.grouped = make_user(server, owner)
        group = unique("ops")
        iam.create_group(GroupName=group)
        managed = iam.create_policy(PolicyName=unique("describe"), PolicyDocument=json.dumps(
            document(allow(["kms:DescribeKey", "kms:GenerateDataKey"]))))["Policy"]["Arn"]
        iam.attach_group_policy(GroupName=group, PolicyArn=managed)
        iam.add_user_to_group(GroupName=group, UserName=self.grouped_arn.rsplit("/", 1)[1])
        self.grantee_arn, self.grantee = make_user(server, owner)
        self.role_arn = make_role(server, owner, trust({"AWS": self.nobody_arn}), document(allow("kms:Encrypt")))
        self.partner_arn, self.partner_user = make_user(server, partner, document(allow("kms:Decrypt")))
        self.partner_noiam_arn, self.partner_noiam = make_user(server, partner)
        self.managed, self.group = managed, group
        self.key = self._key()

    def _key(self) -> dict[str, Any]:
        owner_root = f"arn:aws:iam::{self.owner.account_id}:root"
        policy = document(
            {"Sid": "Admin", **allow("kms:*"), "Principal": {"AWS": owner_root}},
            {"Sid": "Direct", **allow(["kms:Encrypt", "kms:DescribeKey"]), "Principal": {"AWS": self.direct_arn}},
            {"Sid": "Partner", **allow("kms:Decrypt"), "Principal": {"AWS": f"arn:aws:iam::{self.partner.account_id}:root"},
             "Condition": {"StringEquals": {"kms:EncryptionContext:dept": "finance"}}},
        )
        kms = self.server.client("kms", self.owner)
        key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]
        kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=self.grantee_arn, Operations=["Decrypt", "Encrypt"],
                         Constraints={"EncryptionContextSubset": CONTEXT})
        self.blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret", EncryptionContext=CONTEXT)["CiphertextBlob"]
        return key

    def report(self, *extra: str) -> dict[str, Any]:
        out = self.server.cli("access", "who-can", "--data-dir", str(self.server.data_dir),
                              "--key", self.key["Arn"], "--json", *extra)
        return json.loads(out.stdout)


def answer(report: dict[str, Any], principal: str, action: str) -> str | None:
    for entry in report["Principals"]:
        if entry["Principal"] == principal:
            for item in entry["Actions"]:
                if item["Action"] == action:
                    return str(item["Access"])
    return None


def attempt(kms: Any, action: str, key: dict[str, Any], blob: bytes, context: dict[str, str] | None) -> bool:
    """Whether the principal behind `kms` can perform `action` (True), or is denied (False)."""
    ctx = {"EncryptionContext": context} if context else {}
    calls: dict[str, Callable[[], Any]] = {
        "kms:Encrypt": lambda: kms.encrypt(KeyId=key["Arn"], Plaintext=b"x", **ctx),
        "kms:Decrypt": lambda: kms.decrypt(CiphertextBlob=blob, KeyId=key["Arn"], **ctx),
        "kms:DescribeKey": lambda: kms.describe_key(KeyId=key["Arn"]),
        "kms:GenerateDataKey": lambda: kms.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256", **ctx),
        "kms:GetKeyPolicy": lambda: kms.get_key_policy(KeyId=key["Arn"], PolicyName="default"),
    }
    try:
        calls[action]()
    except ClientError as error:
        code = error.response["Error"]["Code"]
        # A non-cross-account operation on another account's key is refused as not found.
        assert code in ("AccessDeniedException", "NotFoundException", "InvalidCiphertextException"), code
        return False
    return True


def check_against_reality(scenario: Scenario, report: dict[str, Any], principal: str, kms: Any) -> None:
    for action in ACTIONS:
        said = answer(report, principal, action)
        # The ciphertext is bound to CONTEXT, so Decrypt is tried with it; the others without and with.
        plain = attempt(kms, action, scenario.key, scenario.blob, None if action != "kms:Decrypt" else CONTEXT)
        with_context = attempt(kms, action, scenario.key, scenario.blob, CONTEXT)
        if said == ALLOWED:
            assert plain and with_context, (principal, action)
        elif said is None:
            assert not plain and not with_context, (principal, action)
        else:
            assert with_context, (principal, action)  # the reported condition, once met, suffices


@pytest.fixture(scope="module")
def scenario(server: Server) -> Scenario:
    return Scenario(server, server.create_account("analyzed"), server.create_account("partner"))


def test_every_users_reported_access_matches_what_the_server_does(server: Server, scenario: Scenario) -> None:
    report = scenario.report()
    for principal, account in [
        (scenario.owner.arn, scenario.owner), (scenario.reader_arn, scenario.reader),
        (scenario.direct_arn, scenario.direct), (scenario.nobody_arn, scenario.nobody),
        (scenario.denied_arn, scenario.denied), (scenario.grouped_arn, scenario.grouped),
        (scenario.grantee_arn, scenario.grantee), (scenario.partner_arn, scenario.partner_user),
        (scenario.partner_noiam_arn, scenario.partner_noiam),
    ]:
        check_against_reality(scenario, report, principal, server.client("kms", account))


def test_the_report_names_the_paths_that_grant_access(scenario: Scenario) -> None:
    report = scenario.report()
    assert answer(report, scenario.reader_arn, "kms:Decrypt") == ALLOWED
    assert answer(report, scenario.denied_arn, "kms:Decrypt") is None
    assert answer(report, scenario.grantee_arn, "kms:Decrypt") == CONDITIONAL
    assert answer(report, scenario.partner_arn, "kms:Decrypt") == CONDITIONAL
    assert answer(report, scenario.partner_noiam_arn, "kms:Decrypt") is None
    grouped = next(p for p in report["Principals"] if p["Principal"] == scenario.grouped_arn)
    describe = next(a for a in grouped["Actions"] if a["Action"] == "kms:DescribeKey")
    assert {"Type": "IdentityPolicy", "Policy": scenario.managed, "Statement": "#0",
            "Via": f"group/{scenario.group}"} in describe["Paths"]
    grantee = next(p for p in report["Principals"] if p["Principal"] == scenario.grantee_arn)
    (grant_path,) = [p for a in grantee["Actions"] for p in a["Paths"] if a["Action"] == "kms:Decrypt"]
    assert grant_path["Type"] == "Grant" and grant_path["Constraints"] == {"EncryptionContextSubset": CONTEXT}


def test_a_roles_access_holds_for_a_session_of_whoever_can_assume_it(server: Server, scenario: Scenario) -> None:
    report = scenario.report()
    role = next(p for p in report["Principals"] if p["Principal"] == scenario.role_arn)
    assert [(a["Principal"], a["Access"]) for a in role["AssumableBy"]] == [(scenario.nobody_arn, ALLOWED)]
    sts = server.client("sts", scenario.nobody)
    credentials = sts.assume_role(RoleArn=scenario.role_arn, RoleSessionName="analyzed")["Credentials"]
    check_against_reality(scenario, report, scenario.role_arn, session_client(server, "kms", credentials))


def test_one_action_can_be_asked_about(scenario: Scenario) -> None:
    report = scenario.report("--action", "kms:decrypt")
    assert report["Actions"] == ["kms:Decrypt"]
    assert all(a["Action"] == "kms:Decrypt" for p in report["Principals"] for a in p["Actions"])


def test_findings_flag_public_cross_account_full_access_and_unretirable_grants(
    server: Server, scenario: Scenario
) -> None:
    kms = server.client("kms", scenario.owner)
    owner_root = f"arn:aws:iam::{scenario.owner.account_id}:root"
    policy = document({"Sid": "Admin", **allow("kms:*"), "Principal": {"AWS": owner_root}},
                      {"Sid": "Everyone", **allow("kms:Encrypt"), "Principal": "*"},
                      {"Sid": "Ops", **allow("kms:*"), "Principal": {"AWS": scenario.reader_arn}})
    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]
    out = server.cli("access", "who-can", "--data-dir", str(server.data_dir), "--key", key["KeyId"], "--json")
    findings = {(f["Type"], f["Message"].split(" ")[3]) for f in json.loads(out.stdout)["Findings"]}
    assert ("PublicKeyPolicy", "Everyone") in findings
    assert ("FullAccessToNonAdmin", "Ops") in findings
    # Anyone may encrypt: a user of another account, with its own IAM allowing it, really can.
    assert answer(json.loads(out.stdout), "*", "kms:Encrypt") == ALLOWED
    assert attempt(server.client("kms", scenario.partner_user), "kms:Encrypt", key, b"", None) is False
    partner_kms = server.client("kms", scenario.partner)  # the partner's root needs no IAM policy
    assert attempt(partner_kms, "kms:Encrypt", key, b"", None) is True
    text = server.cli("access", "who-can", "--data-dir", str(server.data_dir), "--key", key["Arn"]).stdout
    assert "[HIGH] PublicKeyPolicy" in text


def test_explain_shows_the_explicit_deny_that_decides(server: Server, scenario: Scenario) -> None:
    out = server.cli("access", "explain", "--data-dir", str(server.data_dir), "--principal", scenario.denied_arn,
                     "--action", "kms:Decrypt", "--key", scenario.key["KeyId"], "--json")
    result = json.loads(out.stdout)
    assert result["Decision"] == "explicitDeny" and result["DeniedBy"] == "identity"
    assert {"PolicyType": "identity", "Policy": "inline:p", "Statement": "#1", "Effect": "Deny"} in \
        result["MatchedStatements"]
    assert result["Message"].endswith("with an explicit deny in an identity-based policy")
    out = server.cli("access", "explain", "--data-dir", str(server.data_dir), "--principal", scenario.grantee_arn,
                     "--action", "kms:Decrypt", "--key", scenario.key["Arn"], "--context",
                     "kms:EncryptionContext:dept=finance")
    assert ": allowed" in out.stdout.splitlines()[0]


def test_the_cli_refuses_unknown_keys_and_actions(server: Server, scenario: Scenario) -> None:
    missing = server.cli("access", "who-can", "--data-dir", str(server.data_dir), "--key",
                         "00000000-0000-0000-0000-000000000000", check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    bad = server.cli("access", "who-can", "--data-dir", str(server.data_dir), "--key", scenario.key["KeyId"],
                     "--action", "kms:CreateKey", check=False)
    assert bad.returncode == 1 and "not an action" in bad.stderr


def _http(server: Server, account: Account, query: str) -> Any:
    return signed_request(server, account, service="kms", body=b"", headers={}, method="GET",
                          url_suffix=f"/keystead/access/who-can?{query}")


def test_the_http_endpoint_serves_the_same_report_to_an_authorized_caller(server: Server, scenario: Scenario) -> None:
    response = _http(server, scenario.owner, f"key={quote(scenario.key['Arn'], safe='')}&action=kms%3ADecrypt")
    assert response.status_code == 200, response.text
    assert response.json() == scenario.report("--action", "kms:Decrypt")


def test_the_http_endpoint_needs_key_policy_and_iam_read_permission(server: Server, scenario: Scenario) -> None:
    response = _http(server, scenario.direct, f"key={scenario.key['KeyId']}")
    assert response.status_code == 400
    body = response.json()
    assert body["__type"] == "AccessDeniedException"
    assert body["message"].startswith(f"User: {scenario.direct_arn} is not authorized to perform: kms:GetKeyPolicy")


def test_the_http_endpoint_answers_bad_input_with_aws_errors(server: Server, scenario: Scenario) -> None:
    assert _http(server, scenario.owner, "").json()["__type"] == "ValidationException"
    unknown = _http(server, scenario.owner, "key=00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 400 and unknown.json()["__type"] == "NotFoundException"
    bad_action = _http(server, scenario.owner, f"key={scenario.key['KeyId']}&action=kms%3ACreateKey")
    assert bad_action.json()["__type"] == "ValidationException"
    forged = signed_request(server, Account(scenario.owner.account_id, "", scenario.owner.access_key_id, "wrong"),
                            service="kms", body=b"", headers={}, method="GET",
                            url_suffix=f"/keystead/access/who-can?key={scenario.key['KeyId']}")
    assert forged.status_code == 400 and forged.json()["__type"] == "InvalidSignatureException"
