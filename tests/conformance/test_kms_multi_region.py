"""Multi-Region keys through boto3 against live servers: primaries, replicas in a second Region, roles."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import user_with_key
from tests.support import Account, Server, running_server

MRK_ID = re.compile(r"^mrk-[0-9a-f]{32}$")


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("mrk-owner")


def test_a_multi_region_key_gets_an_mrk_id_and_describes_itself_as_a_primary_without_replicas(
    server: Server, owner: Account
) -> None:
    kms = server.client("kms", owner)
    created = kms.create_key(MultiRegion=True, Description="global")["KeyMetadata"]
    assert MRK_ID.match(created["KeyId"])
    assert created["Arn"] == f"arn:aws:kms:us-east-1:{owner.account_id}:key/{created['KeyId']}"
    described = kms.describe_key(KeyId=created["Arn"])["KeyMetadata"]
    for meta in (created, described):
        assert meta["MultiRegion"] is True
        assert meta["MultiRegionConfiguration"] == {
            "MultiRegionKeyType": "PRIMARY",
            "PrimaryKey": {"Arn": created["Arn"], "Region": "us-east-1"},
            "ReplicaKeys": [],
        }


def test_a_single_region_key_has_a_uuid_id_and_no_multi_region_configuration(server: Server, owner: Account) -> None:
    meta = server.client("kms", owner).create_key()["KeyMetadata"]
    assert not meta["KeyId"].startswith("mrk-")
    assert meta["MultiRegion"] is False
    assert "MultiRegionConfiguration" not in meta


def test_a_multi_region_key_encrypts_and_decrypts_by_id_alias_and_without_a_key_id(
    server: Server, owner: Account
) -> None:
    kms = server.client("kms", owner)
    key_id = kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/mrk-round-trip", TargetKeyId=key_id)
    blob = kms.encrypt(KeyId="alias/mrk-round-trip", Plaintext=b"everywhere")["CiphertextBlob"]
    opened = kms.decrypt(CiphertextBlob=blob)
    assert (opened["Plaintext"], opened["KeyId"].rsplit("/", 1)[1]) == (b"everywhere", key_id)
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], KeyId=key_id)["Plaintext"] == data_key["Plaintext"]


def test_asymmetric_and_hmac_multi_region_keys_sign_and_mac(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    signing = kms.create_key(MultiRegion=True, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert MRK_ID.match(signing["KeyId"])
    signature = kms.sign(KeyId=signing["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    verified = kms.verify(KeyId=signing["KeyId"], Message=b"m", Signature=signature, SigningAlgorithm="ECDSA_SHA_256")
    assert verified["SignatureValid"] is True
    hmac = kms.create_key(MultiRegion=True, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    mac = kms.generate_mac(KeyId=hmac["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert kms.verify_mac(KeyId=hmac["KeyId"], Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"]


def test_a_key_policy_can_single_out_multi_region_primary_keys(server: Server, owner: Account) -> None:
    kms = server.client("kms", owner)
    root = f"arn:aws:iam::{owner.account_id}:root"
    document = policy(
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {
            "Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*",
            "Condition": {"StringEquals": {"kms:MultiRegionKeyType": "PRIMARY"}},
        },
    )
    primary = kms.create_key(MultiRegion=True, Policy=document)["KeyMetadata"]
    single = kms.create_key(Policy=document)["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "with an explicit deny in a resource-based policy" in exc.value.response["Error"]["Message"]
    # A single-Region key has no kms:MultiRegionKeyType, so StringEquals does not match it.
    assert kms.encrypt(KeyId=single["KeyId"], Plaintext=b"x")["CiphertextBlob"]


def test_an_iam_policy_can_forbid_creating_multi_region_keys(server: Server, owner: Account) -> None:
    name, user = user_with_key(server, owner)
    server.client("iam", owner).put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:CreateKey", "Resource": "*",
         "Condition": {"Bool": {"kms:MultiRegion": "true"}}},
    ))
    kms = server.client("kms", user)
    with pytest.raises(ClientError) as exc:
        kms.create_key(MultiRegion=True)
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert kms.create_key()["KeyMetadata"]["MultiRegion"] is False


# --- replicas: a server serving two Regions -----------------------------------------------------

HOME, AWAY = "us-east-1", "eu-west-1"


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp("mrk")
    with running_server(tmp, None, "--region", HOME, "--region", AWAY) as server:
        yield server


@pytest.fixture(scope="module")
def global_owner(two_regions: Server) -> Account:
    return two_regions.create_account("global")


def replicated(server: Server, account: Account, **replica: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    home = server.client("kms", account, region=HOME)
    primary = home.create_key(MultiRegion=True, Description="primary")["KeyMetadata"]
    answer = home.replicate_key(KeyId=primary["Arn"], ReplicaRegion=AWAY, **replica)
    return primary, answer


def test_a_replica_shares_the_key_id_and_material_and_keeps_its_own_policy_description_and_tags(
    two_regions: Server, global_owner: Account
) -> None:
    root = f"arn:aws:iam::{global_owner.account_id}:root"
    own_policy = policy({"Sid": "replica", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*",
                         "Resource": "*"})
    primary, answer = replicated(two_regions, global_owner, Description="the copy", Policy=own_policy,
                                 Tags=[{"TagKey": "team", "TagValue": "eu"}])
    replica = answer["ReplicaKeyMetadata"]
    replica_arn = f"arn:aws:kms:{AWAY}:{global_owner.account_id}:key/{primary['KeyId']}"
    assert (replica["KeyId"], replica["Arn"], replica["Description"]) == (primary["KeyId"], replica_arn, "the copy")
    assert (answer["ReplicaPolicy"], answer["ReplicaTags"]) == (own_policy, [{"TagKey": "team", "TagValue": "eu"}])
    home = two_regions.client("kms", global_owner, region=HOME)
    away = two_regions.client("kms", global_owner, region=AWAY)
    assert away.get_key_policy(KeyId=primary["KeyId"])["Policy"] == own_policy
    assert json.loads(home.get_key_policy(KeyId=primary["KeyId"])["Policy"])["Statement"][0]["Sid"] != "replica"
    assert home.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]["Description"] == "primary"
    # Ciphertext from either Region opens in the other, with or without naming the key.
    from_home = home.encrypt(KeyId=primary["KeyId"], Plaintext=b"one")["CiphertextBlob"]
    from_away = away.encrypt(KeyId=primary["KeyId"], Plaintext=b"two")["CiphertextBlob"]
    opened = away.decrypt(CiphertextBlob=from_home)
    assert (opened["Plaintext"], opened["KeyId"]) == (b"one", replica_arn)
    assert home.decrypt(CiphertextBlob=from_away, KeyId=primary["Arn"])["Plaintext"] == b"two"
    assert primary["KeyId"] in {k["KeyId"] for k in away.list_keys()["Keys"]}


def test_every_related_key_describes_the_same_primary_and_replicas(two_regions: Server, global_owner: Account) -> None:
    primary, _ = replicated(two_regions, global_owner)
    account, key_id = global_owner.account_id, primary["KeyId"]
    primary_entry = {"Arn": f"arn:aws:kms:{HOME}:{account}:key/{key_id}", "Region": HOME}
    replica_entry = {"Arn": f"arn:aws:kms:{AWAY}:{account}:key/{key_id}", "Region": AWAY}
    for region, kind in ((HOME, "PRIMARY"), (AWAY, "REPLICA")):
        meta = two_regions.client("kms", global_owner, region=region).describe_key(KeyId=key_id)["KeyMetadata"]
        assert meta["MultiRegionConfiguration"] == {
            "MultiRegionKeyType": kind, "PrimaryKey": primary_entry, "ReplicaKeys": [replica_entry],
        }


def test_update_primary_region_swaps_the_primary_and_replica_roles(two_regions: Server, global_owner: Account) -> None:
    primary, _ = replicated(two_regions, global_owner)
    key_id = primary["KeyId"]
    home = two_regions.client("kms", global_owner, region=HOME)
    away = two_regions.client("kms", global_owner, region=AWAY)
    home.update_primary_region(KeyId=key_id, PrimaryRegion=AWAY)
    types = {
        region: client.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
        for region, client in ((HOME, home), (AWAY, away))
    }
    assert types[HOME]["MultiRegionKeyType"] == "REPLICA" and types[AWAY]["MultiRegionKeyType"] == "PRIMARY"
    assert types[HOME]["PrimaryKey"]["Region"] == types[AWAY]["PrimaryKey"]["Region"] == AWAY
    assert [r["Region"] for r in types[AWAY]["ReplicaKeys"]] == [HOME]
    # Only the primary can be replicated or hand over its role.
    with pytest.raises(ClientError) as exc:
        home.update_primary_region(KeyId=key_id, PrimaryRegion=HOME)
    assert exc.value.response["Error"]["Code"] == "UnsupportedOperationException"
    away.update_primary_region(KeyId=key_id, PrimaryRegion=HOME)
    assert home.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_replicate_key_refuses_existing_replicas_unserved_regions_and_single_region_keys(
    two_regions: Server, global_owner: Account
) -> None:
    primary, _ = replicated(two_regions, global_owner)
    home = two_regions.client("kms", global_owner, region=HOME)

    def code_of(**kwargs: Any) -> str:
        with pytest.raises(ClientError) as exc:
            home.replicate_key(**kwargs)
        return str(exc.value.response["Error"]["Code"])

    assert code_of(KeyId=primary["Arn"], ReplicaRegion=AWAY) == "AlreadyExistsException"
    assert code_of(KeyId=primary["Arn"], ReplicaRegion="ap-south-1") == "UnsupportedOperationException"
    single = home.create_key()["KeyMetadata"]
    assert code_of(KeyId=single["Arn"], ReplicaRegion=AWAY) == "UnsupportedOperationException"
    assert code_of(KeyId="mrk-" + "0" * 32, ReplicaRegion=AWAY) == "NotFoundException"


def test_a_key_policy_condition_on_the_multi_region_key_type_tells_replicas_from_primaries(
    two_regions: Server, global_owner: Account
) -> None:
    root = f"arn:aws:iam::{global_owner.account_id}:root"
    no_replica_encrypt = policy(
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:MultiRegionKeyType": "REPLICA"}}},
    )
    primary, _ = replicated(two_regions, global_owner, Policy=no_replica_encrypt)
    home = two_regions.client("kms", global_owner, region=HOME)
    home.put_key_policy(KeyId=primary["KeyId"], Policy=no_replica_encrypt)
    assert home.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        two_regions.client("kms", global_owner, region=AWAY).encrypt(KeyId=primary["KeyId"], Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"


def test_replicate_key_needs_create_key_in_iam_and_a_replica_region_condition_can_limit_it(
    two_regions: Server, global_owner: Account
) -> None:
    name, user = user_with_key(two_regions, global_owner)
    two_regions.client("iam", global_owner).put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["kms:CreateKey", "kms:DescribeKey"], "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:ReplicateKey", "Resource": "*",
         "Condition": {"StringEquals": {"kms:ReplicaRegion": "ap-south-1"}}},
    ))
    kms = two_regions.client("kms", user, region=HOME)
    key = kms.create_key(MultiRegion=True)["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.replicate_key(KeyId=key["Arn"], ReplicaRegion=AWAY)
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "kms:ReplicateKey" in exc.value.response["Error"]["Message"]


def test_changes_a_replica_cannot_take_yet_are_refused_rather_than_applied_to_the_primary(
    two_regions: Server, global_owner: Account
) -> None:
    primary, _ = replicated(two_regions, global_owner)
    away = two_regions.client("kms", global_owner, region=AWAY)
    with pytest.raises(ClientError) as exc:
        away.enable_key_rotation(KeyId=primary["KeyId"])
    assert exc.value.response["Error"]["Code"] == "UnsupportedOperationException"
    home = two_regions.client("kms", global_owner, region=HOME)
    assert home.get_key_rotation_status(KeyId=primary["KeyId"])["KeyRotationEnabled"] is False


def test_a_grant_on_the_primary_does_not_reach_its_replica(two_regions: Server, global_owner: Account) -> None:
    primary, _ = replicated(two_regions, global_owner)
    _, user = user_with_key(two_regions, global_owner)
    two_regions.client("kms", global_owner, region=HOME).create_grant(
        KeyId=primary["KeyId"], GranteePrincipal=user.arn, Operations=["Encrypt"]
    )
    assert two_regions.client("kms", user, region=HOME).encrypt(KeyId=primary["Arn"], Plaintext=b"x")
    replica_arn = primary["Arn"].replace(HOME, AWAY)
    with pytest.raises(ClientError) as exc:
        two_regions.client("kms", user, region=AWAY).encrypt(KeyId=replica_arn, Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"


def test_disabling_a_replica_stops_its_cryptography_only_and_disabling_the_primary_leaves_the_replica_enabled(
    two_regions: Server, global_owner: Account
) -> None:
    primary, _ = replicated(two_regions, global_owner)
    key_id = primary["KeyId"]
    home = two_regions.client("kms", global_owner, region=HOME)
    away = two_regions.client("kms", global_owner, region=AWAY)
    away.disable_key(KeyId=key_id)
    away_meta = away.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (away_meta["KeyState"], away_meta["Enabled"]) == ("Disabled", False)
    assert home.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    with pytest.raises(ClientError) as exc:
        away.encrypt(KeyId=key_id, Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "DisabledException"
    assert exc.value.response["Error"]["Message"] == f"{primary['Arn'].replace(HOME, AWAY)} is disabled."
    blob = home.encrypt(KeyId=key_id, Plaintext=b"still works")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        away.decrypt(CiphertextBlob=blob)
    assert exc.value.response["Error"]["Code"] == "DisabledException"
    away.enable_key(KeyId=key_id)
    assert away.decrypt(CiphertextBlob=blob)["Plaintext"] == b"still works"
    home.disable_key(KeyId=key_id)
    assert away.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    assert away.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        home.encrypt(KeyId=key_id, Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "DisabledException"


def test_description_and_policy_changes_stay_in_the_region_where_they_are_made(
    two_regions: Server, global_owner: Account
) -> None:
    primary, _ = replicated(two_regions, global_owner, Description="eu copy")
    key_id = primary["KeyId"]
    home = two_regions.client("kms", global_owner, region=HOME)
    away = two_regions.client("kms", global_owner, region=AWAY)
    away.update_key_description(KeyId=key_id, Description="eu edited")
    home.update_key_description(KeyId=key_id, Description="us edited")
    assert away.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "eu edited"
    assert home.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "us edited"
    root = f"arn:aws:iam::{global_owner.account_id}:root"
    away_policy = policy({"Sid": "away", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*",
                          "Resource": "*"})
    home_policy = policy({"Sid": "home", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*",
                          "Resource": "*"})
    away.put_key_policy(KeyId=key_id, PolicyName="default", Policy=away_policy)
    home.put_key_policy(KeyId=key_id, PolicyName="default", Policy=home_policy)
    assert away.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == away_policy
    assert home.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == home_policy


def test_a_replica_policy_set_with_put_key_policy_is_what_authorizes_requests_to_the_replica(
    two_regions: Server, global_owner: Account
) -> None:
    primary, _ = replicated(two_regions, global_owner)
    root = f"arn:aws:iam::{global_owner.account_id}:root"
    away = two_regions.client("kms", global_owner, region=AWAY)
    away.put_key_policy(KeyId=primary["KeyId"], Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": root}, "Action": "kms:Encrypt", "Resource": "*"},
    ))
    with pytest.raises(ClientError) as exc:
        away.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert two_regions.client("kms", global_owner, region=HOME).encrypt(KeyId=primary["KeyId"], Plaintext=b"x")


def test_tags_on_a_replica_are_its_own_and_tags_on_the_primary_do_not_reach_it(
    two_regions: Server, global_owner: Account
) -> None:
    primary, _ = replicated(two_regions, global_owner, Tags=[{"TagKey": "team", "TagValue": "eu"}])
    key_id = primary["KeyId"]
    home = two_regions.client("kms", global_owner, region=HOME)
    away = two_regions.client("kms", global_owner, region=AWAY)
    away.tag_resource(KeyId=key_id, Tags=[{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "b", "TagValue": "1"}])
    away.untag_resource(KeyId=key_id, TagKeys=["team", "absent"])
    home.tag_resource(KeyId=key_id, Tags=[{"TagKey": "owner", "TagValue": "us"}])
    first = away.list_resource_tags(KeyId=key_id, Limit=1)
    assert (first["Tags"], first["Truncated"]) == ([{"TagKey": "b", "TagValue": "1"}], True)
    rest = away.list_resource_tags(KeyId=key_id, Marker=first["NextMarker"])
    assert (rest["Tags"], rest["Truncated"]) == ([{"TagKey": "env", "TagValue": "prod"}], False)
    assert home.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "owner", "TagValue": "us"}]
    with pytest.raises(ClientError) as exc:
        away.tag_resource(KeyId=key_id, Tags=[{"TagKey": f"k{i}", "TagValue": "v"} for i in range(49)])
    assert exc.value.response["Error"]["Code"] == "TagException"
    assert len(away.list_resource_tags(KeyId=key_id)["Tags"]) == 2
    with pytest.raises(ClientError) as exc:
        away.tag_resource(KeyId=key_id, Tags=[{"TagKey": "aws:reserved", "TagValue": "v"}])
    assert exc.value.response["Error"]["Code"] == "TagException"


def test_a_replica_tag_is_an_abac_input_for_requests_to_the_replica(two_regions: Server, global_owner: Account) -> None:
    primary, _ = replicated(two_regions, global_owner)
    name, user = user_with_key(two_regions, global_owner)
    two_regions.client("iam", global_owner).put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/access": "open"}}},
    ))
    replica_arn = primary["Arn"].replace(HOME, AWAY)
    user_away = two_regions.client("kms", user, region=AWAY)
    with pytest.raises(ClientError) as exc:
        user_away.encrypt(KeyId=replica_arn, Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    two_regions.client("kms", global_owner, region=AWAY).tag_resource(
        KeyId=primary["KeyId"], Tags=[{"TagKey": "access", "TagValue": "open"}]
    )
    assert user_away.encrypt(KeyId=replica_arn, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        two_regions.client("kms", user, region=HOME).encrypt(KeyId=primary["Arn"], Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"


MRK_ROLE = "AWSServiceRoleForKeyManagementServiceMultiRegionKeys"
MRK_ROLE_POLICY = (
    "arn:aws:iam::aws:policy/aws-service-role/AWSKeyManagementServiceMultiRegionKeysServiceRolePolicy"
)


def test_the_first_replica_in_an_account_creates_the_multi_region_service_linked_role(two_regions: Server) -> None:
    account = two_regions.create_account("slr-first")
    iam = two_regions.client("iam", account)
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName=MRK_ROLE)
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"
    replicated(two_regions, account)
    role = iam.get_role(RoleName=MRK_ROLE)["Role"]
    assert role["Path"] == "/aws-service-role/mrk.kms.amazonaws.com/"
    assert role["Arn"] == f"arn:aws:iam::{account.account_id}:role/aws-service-role/mrk.kms.amazonaws.com/{MRK_ROLE}"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "mrk.kms.amazonaws.com"}
    attached = iam.list_attached_role_policies(RoleName=MRK_ROLE)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [MRK_ROLE_POLICY]
    replicated(two_regions, account)  # a second replica reuses the role
    assert iam.get_role(RoleName=MRK_ROLE)["Role"]["RoleId"] == role["RoleId"]
    # The role is in use while the account has multi-Region keys.
    task = iam.delete_service_linked_role(RoleName=MRK_ROLE)["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "FAILED"


def test_replicate_key_needs_iam_create_service_linked_role_only_while_the_role_is_missing(
    two_regions: Server,
) -> None:
    account = two_regions.create_account("slr-perm")
    name, user = user_with_key(two_regions, account)
    iam = two_regions.client("iam", account)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["kms:*"], "Resource": "*"},
    ))
    kms = two_regions.client("kms", user, region=HOME)
    key = kms.create_key(MultiRegion=True)["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.replicate_key(KeyId=key["Arn"], ReplicaRegion=AWAY)
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "iam:CreateServiceLinkedRole" in exc.value.response["Error"]["Message"]
    # Nothing was written: no replica and no role.
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["MultiRegionConfiguration"]["ReplicaKeys"] == []
    with pytest.raises(ClientError):
        iam.get_role(RoleName=MRK_ROLE)
    # The permission is conditioned on the service name, as AWS documents it.
    iam.put_user_policy(UserName=name, PolicyName="slr", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "iam:CreateServiceLinkedRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:AWSServiceName": "mrk.kms.amazonaws.com"}}},
    ))
    kms.replicate_key(KeyId=key["Arn"], ReplicaRegion=AWAY)
    assert iam.get_role(RoleName=MRK_ROLE)["Role"]["Path"] == "/aws-service-role/mrk.kms.amazonaws.com/"
    # Once the role exists, replicating needs no IAM permission.
    iam.delete_user_policy(UserName=name, PolicyName="slr")
    other = kms.create_key(MultiRegion=True)["KeyMetadata"]
    replica = kms.replicate_key(KeyId=other["Arn"], ReplicaRegion=AWAY)["ReplicaKeyMetadata"]
    assert replica["Arn"] == other["Arn"].replace(HOME, AWAY)


# --- deleting multi-Region keys ([KMS DG:multi-region-keys-delete]) -------------------------


def test_a_replica_is_scheduled_for_deletion_on_its_own_and_the_deletion_can_be_cancelled(
    two_regions: Server, global_owner: Account
) -> None:
    primary, _ = replicated(two_regions, global_owner)
    home = two_regions.client("kms", global_owner, region=HOME)
    away = two_regions.client("kms", global_owner, region=AWAY)
    scheduled = away.schedule_key_deletion(KeyId=primary["KeyId"], PendingWindowInDays=7)
    replica_arn = primary["Arn"].replace(HOME, AWAY)
    assert scheduled["KeyId"] == replica_arn
    assert scheduled["KeyState"] == "PendingDeletion"
    assert scheduled["PendingWindowInDays"] == 7
    described = away.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "PendingDeletion"
    assert described["DeletionDate"] == scheduled["DeletionDate"]
    with pytest.raises(ClientError) as exc:
        away.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "KMSInvalidStateException"
    assert exc.value.response["Error"]["Message"] == f"{replica_arn} is pending deletion."
    # The primary is untouched and keeps working.
    assert home.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    home.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")
    assert away.cancel_key_deletion(KeyId=primary["KeyId"])["KeyId"] == replica_arn
    after = away.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]
    assert after["KeyState"] == "Disabled"
    assert "DeletionDate" not in after


def test_replica_deletion_refuses_bad_windows_a_second_schedule_and_cancelling_an_unscheduled_replica(
    two_regions: Server, global_owner: Account
) -> None:
    primary, _ = replicated(two_regions, global_owner)
    away = two_regions.client("kms", global_owner, region=AWAY)
    with pytest.raises(ClientError) as exc:
        away.cancel_key_deletion(KeyId=primary["KeyId"])
    assert exc.value.response["Error"]["Code"] == "KMSInvalidStateException"
    with pytest.raises(ClientError) as exc:
        away.schedule_key_deletion(KeyId=primary["KeyId"], PendingWindowInDays=6)
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    away.schedule_key_deletion(KeyId=primary["KeyId"], PendingWindowInDays=30)
    with pytest.raises(ClientError) as exc:
        away.schedule_key_deletion(KeyId=primary["KeyId"])
    assert exc.value.response["Error"]["Code"] == "KMSInvalidStateException"


def test_a_primary_with_replicas_waits_in_pending_replica_deletion_and_refuses_cryptography_and_replication(
    two_regions: Server, global_owner: Account
) -> None:
    primary, _ = replicated(two_regions, global_owner)
    home = two_regions.client("kms", global_owner, region=HOME)
    away = two_regions.client("kms", global_owner, region=AWAY)
    scheduled = home.schedule_key_deletion(KeyId=primary["KeyId"], PendingWindowInDays=10)
    assert scheduled["KeyState"] == "PendingReplicaDeletion"
    assert scheduled["PendingWindowInDays"] == 10
    assert "DeletionDate" not in scheduled
    described = home.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "PendingReplicaDeletion"
    assert described["PendingDeletionWindowInDays"] == 10
    assert "DeletionDate" not in described
    with pytest.raises(ClientError) as exc:
        home.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")
    assert exc.value.response["Error"]["Code"] == "KMSInvalidStateException"
    assert exc.value.response["Error"]["Message"] == f"{primary['Arn']} is pending replica deletion."
    with pytest.raises(ClientError) as exc:
        home.schedule_key_deletion(KeyId=primary["KeyId"])
    assert exc.value.response["Error"]["Code"] == "KMSInvalidStateException"
    # The replica is a key of its own: still usable, and deletable on its own.
    away.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")
    replica_scheduled = away.schedule_key_deletion(KeyId=primary["KeyId"], PendingWindowInDays=7)
    assert replica_scheduled["KeyState"] == "PendingDeletion"
    home.cancel_key_deletion(KeyId=primary["KeyId"])
    assert home.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"


def test_deleting_a_key_whose_primary_region_moved_is_refused_rather_than_cascading_to_other_regions(
    two_regions: Server, global_owner: Account
) -> None:
    primary, _ = replicated(two_regions, global_owner)
    home = two_regions.client("kms", global_owner, region=HOME)
    away = two_regions.client("kms", global_owner, region=AWAY)
    home.update_primary_region(KeyId=primary["KeyId"], PrimaryRegion=AWAY)
    for client in (home, away):
        with pytest.raises(ClientError) as exc:
            client.schedule_key_deletion(KeyId=primary["KeyId"], PendingWindowInDays=7)
        assert exc.value.response["Error"]["Code"] == "UnsupportedOperationException"
    assert away.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
