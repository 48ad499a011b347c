"""KMS grants end to end (boto3 against a live server): the operations, and grants as a real
source of permission in authorization (kms.md §7)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import Account, Server

Key = dict[str, Any]  # a KeyMetadata


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def root(account: Account) -> str:
    return f"arn:aws:iam::{account.account_id}:root"


def owner_only_policy(account: Account) -> str:
    """A key policy that lets only the owning account in: nobody else gets anything from it."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": root(account)},
         "Action": "kms:*", "Resource": "*"}
    ]})


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("grant-owner")


@pytest.fixture(scope="module")
def grantee(server: Server) -> Account:
    return server.create_account("grantee")


@pytest.fixture
def key(server: Server, owner: Account) -> dict[str, Any]:
    kms = server.client("kms", owner)
    return kms.create_key(Policy=owner_only_policy(owner))["KeyMetadata"]


def create(server: Server, owner: Account, key: Key, grantee: Account, **kw: Any) -> dict[str, Any]:
    kms = server.client("kms", owner)
    kw.setdefault("Operations", ["Encrypt", "Decrypt", "DescribeKey"])
    return kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=root(grantee), **kw)


def test_create_grant_returns_a_64_hex_id_and_a_token(server: Server, owner: Account, grantee: Account,
                                                      key: Key) -> None:
    response = create(server, owner, key, grantee)
    assert re.fullmatch(r"[0-9a-f]{64}", response["GrantId"])
    assert isinstance(response["GrantToken"], str) and len(response["GrantToken"]) > 32


def test_a_grant_alone_lets_another_account_use_the_key(server: Server, owner: Account, grantee: Account,
                                                       key: Key) -> None:
    theirs = server.client("kms", grantee)
    with pytest.raises(ClientError) as exc:
        theirs.encrypt(KeyId=key["Arn"], Plaintext=b"secret")
    assert error_of(exc)[0] == "AccessDeniedException"
    grant_id = create(server, owner, key, grantee)["GrantId"]
    blob = theirs.encrypt(KeyId=key["Arn"], Plaintext=b"secret")["CiphertextBlob"]
    assert theirs.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    assert theirs.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    # An operation the grant does not list stays denied.
    with pytest.raises(ClientError) as exc:
        theirs.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256")
    assert error_of(exc)[0] == "AccessDeniedException"
    # Revoking takes the permission away at once.
    server.client("kms", owner).revoke_grant(KeyId=key["KeyId"], GrantId=grant_id)
    with pytest.raises(ClientError) as exc:
        theirs.encrypt(KeyId=key["Arn"], Plaintext=b"secret")
    assert error_of(exc)[0] == "AccessDeniedException"


def test_an_explicit_deny_in_the_key_policy_beats_a_grant(
    server: Server, owner: Account, grantee: Account
) -> None:
    kms = server.client("kms", owner)
    deny = {"Sid": "NoGranteeEncrypt", "Effect": "Deny", "Principal": {"AWS": root(grantee)},
            "Action": "kms:Encrypt", "Resource": "*"}
    document = json.loads(owner_only_policy(owner))
    document["Statement"].append(deny)
    key = kms.create_key(Policy=json.dumps(document))["KeyMetadata"]
    create(server, owner, key, grantee)
    with pytest.raises(ClientError) as exc:
        server.client("kms", grantee).encrypt(KeyId=key["Arn"], Plaintext=b"x")
    code, message = error_of(exc)
    assert code == "AccessDeniedException"
    assert message.endswith("with an explicit deny in a resource-based policy")


def test_encryption_context_constraints_are_enforced(server: Server, owner: Account, grantee: Account,
                                                     key: Key) -> None:
    create(server, owner, key, grantee, Operations=["Encrypt"],
           Constraints={"EncryptionContextSubset": {"dept": "finance"}})
    create(server, owner, key, grantee, Operations=["Decrypt"],
           Constraints={"EncryptionContextEquals": {"dept": "finance", "app": "ledger"}})
    theirs = server.client("kms", grantee)
    blob = theirs.encrypt(KeyId=key["Arn"], Plaintext=b"x",
                          EncryptionContext={"dept": "finance", "app": "ledger"})["CiphertextBlob"]
    for wrong in ({}, {"dept": "Finance"}, {"team": "finance"}):
        with pytest.raises(ClientError) as exc:
            theirs.encrypt(KeyId=key["Arn"], Plaintext=b"x", EncryptionContext=wrong)
        assert error_of(exc)[0] == "AccessDeniedException", wrong
    assert theirs.decrypt(CiphertextBlob=blob,
                          EncryptionContext={"app": "ledger", "dept": "finance"})["Plaintext"] == b"x"
    owner_blob = server.client("kms", owner).encrypt(
        KeyId=key["KeyId"], Plaintext=b"y", EncryptionContext={"dept": "finance", "app": "ledger", "x": "1"}
    )["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:  # Equals: an extra pair is not allowed
        theirs.decrypt(CiphertextBlob=owner_blob,
                       EncryptionContext={"dept": "finance", "app": "ledger", "x": "1"})
    assert error_of(exc)[0] == "AccessDeniedException"


def test_list_grants_shows_every_field_and_filters(server: Server, owner: Account, grantee: Account,
                                                   key: Key) -> None:
    first = create(server, owner, key, grantee, Name="first", RetiringPrincipal=root(owner),
                   Constraints={"EncryptionContextSubset": {"k": "v"}})
    create(server, owner, key, owner, Operations=["Decrypt"])
    kms = server.client("kms", owner)
    grants = kms.list_grants(KeyId=key["KeyId"])
    assert grants["Truncated"] is False and len(grants["Grants"]) == 2
    entry = kms.list_grants(KeyId=key["Arn"], GrantId=first["GrantId"])["Grants"]
    assert len(entry) == 1
    listed = entry[0]
    assert listed["KeyId"] == key["Arn"]
    assert listed["GrantId"] == first["GrantId"]
    assert listed["Name"] == "first"
    assert listed["GranteePrincipal"] == root(grantee)
    assert listed["RetiringPrincipal"] == root(owner)
    assert listed["IssuingAccount"] == root(owner)
    assert listed["Operations"] == ["Encrypt", "Decrypt", "DescribeKey"]
    assert listed["Constraints"] == {"EncryptionContextSubset": {"k": "v"}}
    assert listed["CreationDate"].tzinfo is not None
    only_owner = kms.list_grants(KeyId=key["KeyId"], GranteePrincipal=root(owner))["Grants"]
    assert [g["Operations"] for g in only_owner] == [["Decrypt"]]


def test_list_grants_pages_with_markers(server: Server, owner: Account, grantee: Account,
                                        key: Key) -> None:
    made = {create(server, owner, key, grantee)["GrantId"] for _ in range(5)}
    kms = server.client("kms", owner)
    seen: list[str] = []
    page = kms.list_grants(KeyId=key["KeyId"], Limit=2)
    while True:
        seen += [g["GrantId"] for g in page["Grants"]]
        if not page["Truncated"]:
            break
        page = kms.list_grants(KeyId=key["KeyId"], Limit=2, Marker=page["NextMarker"])
    assert sorted(seen) == sorted(made)
    with pytest.raises(ClientError) as exc:
        kms.list_grants(KeyId=key["KeyId"], Marker="not-a-marker")
    assert error_of(exc)[0] == "InvalidMarkerException"
    with pytest.raises(ClientError) as exc:
        kms.list_grants(KeyId=key["KeyId"], GrantId="nope")
    assert error_of(exc)[0] == "InvalidGrantIdException"


def test_a_name_makes_create_grant_idempotent(server: Server, owner: Account, grantee: Account,
                                              key: Key) -> None:
    one = create(server, owner, key, grantee, Name="retry-safe")
    two = create(server, owner, key, grantee, Name="retry-safe")
    assert one["GrantId"] == two["GrantId"]
    assert one["GrantToken"] != two["GrantToken"]
    other = create(server, owner, key, grantee, Name="retry-safe", Operations=["Encrypt"])
    assert other["GrantId"] != one["GrantId"]
    assert len(server.client("kms", owner).list_grants(KeyId=key["KeyId"])["Grants"]) == 2


def test_retire_by_the_retiring_principal_across_accounts(server: Server, owner: Account, grantee: Account,
                                                          key: Key) -> None:
    grant_id = create(server, owner, key, owner, RetiringPrincipal=root(grantee))["GrantId"]
    theirs = server.client("kms", grantee)
    retirable = theirs.list_retirable_grants(RetiringPrincipal=root(grantee))["Grants"]
    assert grant_id in [g["GrantId"] for g in retirable]
    theirs.retire_grant(KeyId=key["Arn"], GrantId=grant_id)
    assert server.client("kms", owner).list_grants(KeyId=key["KeyId"])["Grants"] == []


def test_retire_by_the_grantee_needs_retire_grant_in_the_grant(
    server: Server, owner: Account, grantee: Account, key: Key
) -> None:
    plain = create(server, owner, key, grantee)["GrantId"]
    theirs = server.client("kms", grantee)
    with pytest.raises(ClientError) as exc:
        theirs.retire_grant(KeyId=key["Arn"], GrantId=plain)
    assert error_of(exc)[0] == "AccessDeniedException"
    retirable = create(server, owner, key, grantee, Operations=["Encrypt", "RetireGrant"])
    theirs.retire_grant(GrantToken=retirable["GrantToken"])
    remaining = [g["GrantId"] for g in server.client("kms", owner).list_grants(KeyId=key["KeyId"])["Grants"]]
    assert remaining == [plain]


def test_the_issuing_account_can_retire_and_unknown_grants_are_not_found(
    server: Server, owner: Account, grantee: Account, key: Key
) -> None:
    kms = server.client("kms", owner)
    grant_id = create(server, owner, key, grantee)["GrantId"]
    kms.retire_grant(KeyId=key["KeyId"], GrantId=grant_id)
    with pytest.raises(ClientError) as exc:
        kms.retire_grant(KeyId=key["KeyId"], GrantId=grant_id)
    assert error_of(exc)[0] == "NotFoundException"
    with pytest.raises(ClientError) as exc:
        kms.revoke_grant(KeyId=key["KeyId"], GrantId=grant_id)
    assert error_of(exc)[0] == "NotFoundException"
    with pytest.raises(ClientError) as exc:
        kms.revoke_grant(KeyId=key["KeyId"], GrantId="x" * 10)
    assert error_of(exc)[0] == "InvalidGrantIdException"


def test_junk_grant_tokens_are_rejected_everywhere(server: Server, owner: Account, key: Key) -> None:
    kms = server.client("kms", owner)
    for call in (
        lambda: kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", GrantTokens=["junk"]),
        lambda: kms.describe_key(KeyId=key["KeyId"], GrantTokens=["AAAA" * 20]),
        lambda: kms.retire_grant(GrantToken="junk"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc)[0] == "InvalidGrantTokenException"


def test_a_grant_token_is_accepted_and_carries_the_grant(server: Server, owner: Account, grantee: Account,
                                                         key: Key) -> None:
    token = create(server, owner, key, grantee, Operations=["Encrypt"])["GrantToken"]
    theirs = server.client("kms", grantee)
    assert theirs.encrypt(KeyId=key["Arn"], Plaintext=b"x", GrantTokens=[token])["KeyId"] == key["Arn"]
    # A token does not widen the grant, nor pass it to someone else.
    with pytest.raises(ClientError) as exc:
        theirs.describe_key(KeyId=key["Arn"], GrantTokens=[token])
    assert error_of(exc)[0] == "AccessDeniedException"


def test_create_grant_validates_its_input(server: Server, owner: Account, grantee: Account,
                                          key: Key) -> None:
    kms = server.client("kms", owner)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"GranteePrincipal": "not-an-arn", "Operations": ["Encrypt"]}, "InvalidArnException"),
        ({"GranteePrincipal": "arn:aws:iam::123456789012:group/admins", "Operations": ["Encrypt"]},
         "InvalidArnException"),
        ({"GranteePrincipal": root(grantee), "Operations": ["Sign"]}, "ValidationException"),
        ({"GranteePrincipal": root(grantee), "Operations": ["ScheduleKeyDeletion"]}, "ValidationException"),
        ({"GranteePrincipal": root(grantee), "Operations": ["Encrypt"],
          "Constraints": {"EncryptionContextSubset": {"a": "b"}, "EncryptionContextEquals": {"a": "b"}}},
         "ValidationException"),
    ]
    for kwargs, code in bad:
        with pytest.raises(ClientError) as exc:
            kms.create_grant(KeyId=key["KeyId"], **kwargs)
        assert error_of(exc)[0] == code, kwargs
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []


def test_dry_run_writes_nothing(server: Server, owner: Account, grantee: Account, key: Key) -> None:
    kms = server.client("kms", owner)
    with pytest.raises(ClientError) as exc:
        create(server, owner, key, grantee, DryRun=True)
    assert error_of(exc)[0] == "DryRunOperationException"
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []
    grant_id = create(server, owner, key, grantee)["GrantId"]
    for call in (lambda: kms.revoke_grant(KeyId=key["KeyId"], GrantId=grant_id, DryRun=True),
                 lambda: kms.retire_grant(KeyId=key["KeyId"], GrantId=grant_id, DryRun=True)):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc)[0] == "DryRunOperationException"
    assert len(kms.list_grants(KeyId=key["KeyId"])["Grants"]) == 1


def test_a_grantee_with_create_grant_cannot_widen_its_grant(server: Server, owner: Account, grantee: Account,
                                                            key: Key) -> None:
    create(server, owner, key, grantee, Operations=["Encrypt", "Decrypt", "CreateGrant"],
           Constraints={"EncryptionContextSubset": {"dept": "finance"}})
    theirs = server.client("kms", grantee)
    child = theirs.create_grant(KeyId=key["Arn"], GranteePrincipal=root(grantee), Operations=["Decrypt"],
                                Constraints={"EncryptionContextEquals": {"dept": "finance", "app": "x"}})
    assert re.fullmatch(r"[0-9a-f]{64}", child["GrantId"])
    for operations, constraints in (
        (["Decrypt", "DescribeKey"], {"EncryptionContextSubset": {"dept": "finance"}}),  # more operations
        (["Decrypt"], None),  # drops the constraint
        (["Decrypt"], {"EncryptionContextSubset": {"app": "x"}}),  # a different constraint
    ):
        kwargs: dict[str, Any] = {"Constraints": constraints} if constraints else {}
        with pytest.raises(ClientError) as exc:
            theirs.create_grant(KeyId=key["Arn"], GranteePrincipal=root(grantee), Operations=operations,
                                **kwargs)
        assert error_of(exc)[0] == "AccessDeniedException", operations


def test_create_grant_condition_keys_restrict_the_key_policy(server: Server, owner: Account,
                                                             grantee: Account) -> None:
    kms = server.client("kms", owner)
    document = json.loads(owner_only_policy(owner))
    document["Statement"].append({
        "Sid": "OnlyDecryptGrants", "Effect": "Deny", "Principal": {"AWS": root(owner)},
        "Action": "kms:CreateGrant", "Resource": "*",
        "Condition": {"ForAnyValue:StringNotEquals": {"kms:GrantOperations": ["Decrypt"]}},
    })
    key = kms.create_key(Policy=json.dumps(document))["KeyMetadata"]
    create(server, owner, key, grantee, Operations=["Decrypt"])
    with pytest.raises(ClientError) as exc:
        create(server, owner, key, grantee, Operations=["Decrypt", "Encrypt"])
    assert error_of(exc)[0] == "AccessDeniedException"


def test_list_retirable_grants_needs_a_principal_of_the_callers_account(
    server: Server, owner: Account, grantee: Account
) -> None:
    with pytest.raises(ClientError) as exc:
        server.client("kms", owner).list_retirable_grants(RetiringPrincipal=root(grantee))
    assert error_of(exc)[0] == "AccessDeniedException"


def test_grants_need_an_enabled_key(server: Server, owner: Account, grantee: Account, key: Key) -> None:
    kms = server.client("kms", owner)
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        create(server, owner, key, grantee)
    assert error_of(exc)[0] == "DisabledException"


# --- IAM identities as grantees ---------------------------------------------------------------

def allow_all(action: str) -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture(scope="module")
def alice(server: Server, owner: Account) -> tuple[str, Any]:
    """An IAM user of the owning account with no policies of its own, and a KMS client for it."""
    iam = server.client("iam", owner)
    user_arn = iam.create_user(UserName="grant-alice")["User"]["Arn"]
    access = iam.create_access_key(UserName="grant-alice")["AccessKey"]
    client = server.client("kms", owner, access_key_id=access["AccessKeyId"],
                           secret_access_key=access["SecretAccessKey"])
    return user_arn, client


def test_a_grant_to_an_iam_user_is_enough_without_any_policy(server: Server, owner: Account,
                                                             alice: tuple[str, Any], key: Key) -> None:
    user_arn, alice_kms = alice
    with pytest.raises(ClientError) as exc:
        alice_kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert error_of(exc)[0] == "AccessDeniedException"
    kms = server.client("kms", owner)
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user_arn, Operations=["Encrypt"])
    assert alice_kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["KeyId"] == key["Arn"]


def test_a_grant_to_an_account_reaches_its_users_only_through_their_iam_policies(
    server: Server, owner: Account, alice: tuple[str, Any], key: Key
) -> None:
    _, alice_kms = alice
    create(server, owner, key, owner, Operations=["GenerateDataKey"])
    with pytest.raises(ClientError) as exc:
        alice_kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
    assert error_of(exc)[0] == "AccessDeniedException"
    iam = server.client("iam", owner)
    iam.put_user_policy(UserName="grant-alice", PolicyName="gdk",
                        PolicyDocument=allow_all("kms:GenerateDataKey"))
    try:
        # The key policy names only the account root, so the IAM policy alone would not do: the grant does.
        assert alice_kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")["KeyId"] == key["Arn"]
    finally:
        iam.delete_user_policy(UserName="grant-alice", PolicyName="gdk")


def test_a_grant_to_a_role_covers_its_sessions(server: Server, owner: Account, alice: tuple[str, Any],
                                               key: Key) -> None:
    iam = server.client("iam", owner)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root(owner)}, "Action": "sts:AssumeRole"}]})
    role_arn = iam.create_role(RoleName="grant-app", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    access = iam.create_access_key(UserName="grant-alice")["AccessKey"]
    iam.put_user_policy(UserName="grant-alice", PolicyName="assume",
                        PolicyDocument=allow_all("sts:AssumeRole"))
    sts = server.client("sts", owner, access_key_id=access["AccessKeyId"],
                        secret_access_key=access["SecretAccessKey"])
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="worker")["Credentials"]
    session_kms = server.client(
        "kms", owner, access_key_id=creds["AccessKeyId"], secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
    )
    with pytest.raises(ClientError) as exc:
        session_kms.describe_key(KeyId=key["KeyId"])
    assert error_of(exc)[0] == "AccessDeniedException"
    server.client("kms", owner).create_grant(
        KeyId=key["KeyId"], GranteePrincipal=role_arn, Operations=["DescribeKey"]
    )
    assert session_kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyId"] == key["KeyId"]
