"""AssumeRoleWithSAML end to end: a test IdP (self-signed certificate, signxml-signed assertions),
its metadata registered through IAM, roles that trust it, and the sessions used against KMS."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conformance.saml_idp import AWS_ATTR, SIGNIN, SamlIdp
from tests.conformance.sts_helpers import make_role, session_client, unique
from tests.support import Server

KMS_ENCRYPT_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": "*"}]}


@pytest.fixture(scope="module")
def idp() -> SamlIdp:
    return SamlIdp()


@pytest.fixture(scope="module")
def provider_arn(server: Server, idp: SamlIdp) -> str:
    arn: str = server.client("iam").create_saml_provider(
        Name=unique("idp"), SAMLMetadataDocument=idp.metadata()
    )["SAMLProviderArn"]
    return arn


def _sts(server: Server) -> Any:
    return boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))


def _saml_role(server: Server, provider_arn: str, **conditions: str) -> str:
    condition = {"StringEquals": {"SAML:aud": SIGNIN, **conditions}}
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"], "Condition": condition,
    }]}
    return make_role(server, server.accounts[0], trust, KMS_ENCRYPT_ONLY)


def _error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_signed_assertion_buys_a_session_limited_by_the_role_policy(
    server: Server, idp: SamlIdp, provider_arn: str
) -> None:
    conditions = {"saml:sub": "alice@example.com", "saml:sub_type": "persistent", "saml:iss": idp.entity_id}
    role_arn = _saml_role(server, provider_arn, **conditions)
    account = server.accounts[0].account_id
    assertion = idp.response([f"{role_arn},{provider_arn}"], session_name="alice")
    result = _sts(server).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=provider_arn, SAMLAssertion=assertion
    )
    role_name = role_arn.rsplit("/", 1)[1]
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role_name}/alice"
    assert result["Subject"] == "alice@example.com"
    assert result["SubjectType"] == "persistent"
    assert result["Issuer"] == idp.entity_id
    assert result["Audience"] == SIGNIN
    assert len(base64.b64decode(result["NameQualifier"])) == 20  # a SHA-1 digest
    kms = session_client(server, "kms", result["Credentials"])
    caller = session_client(server, "sts", result["Credentials"]).get_caller_identity()
    assert caller["Arn"] == result["AssumedRoleUser"]["Arn"]
    key = server.client("kms").create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"secret")["CiphertextBlob"]
    code, _ = _error(kms.decrypt, CiphertextBlob=blob)
    assert code == "AccessDeniedException"


def test_role_pair_may_list_the_provider_first_and_principal_tags_become_session_tags(
    server: Server, idp: SamlIdp, provider_arn: str
) -> None:
    role_arn = _saml_role(server, provider_arn)
    assertion = idp.response([f"{provider_arn},{role_arn}"], attributes={
        AWS_ATTR + "PrincipalTag:team": ["blue"], AWS_ATTR + "SessionDuration": ["1800"],
    })
    result = _sts(server).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=provider_arn, SAMLAssertion=assertion
    )
    assert "PackedPolicySize" in result
    lifetime = result["Credentials"]["Expiration"] - datetime.now(UTC)
    assert timedelta(seconds=1700) < lifetime <= timedelta(seconds=1800)  # the SessionDuration attribute
    deny_other_teams = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "blue"}},
    }]}
    server.client("iam").put_role_policy(RoleName=role_arn.rsplit("/", 1)[1], PolicyName="tags",
                                         PolicyDocument=json.dumps(deny_other_teams))
    key = server.client("kms").create_key()["KeyMetadata"]["KeyId"]
    session_client(server, "kms", result["Credentials"]).encrypt(KeyId=key, Plaintext=b"x")


def test_tampered_assertion_is_invalid_identity_token(
    server: Server, idp: SamlIdp, provider_arn: str
) -> None:
    role_arn = _saml_role(server, provider_arn)
    xml = base64.b64decode(idp.response([f"{role_arn},{provider_arn}"]))
    tampered = base64.b64encode(xml.replace(b"alice@example.com", b"mallory@example.com")).decode()
    code, message = _error(_sts(server).assume_role_with_saml, RoleArn=role_arn, PrincipalArn=provider_arn,
                           SAMLAssertion=tampered)
    assert (code, message) == ("InvalidIdentityToken", "Response signature invalid")


def test_assertion_signed_by_another_key_is_invalid_identity_token(
    server: Server, idp: SamlIdp, provider_arn: str
) -> None:
    role_arn = _saml_role(server, provider_arn)
    impostor = SamlIdp(entity_id=idp.entity_id)  # same issuer name, a certificate IAM never saw
    code, message = _error(_sts(server).assume_role_with_saml, RoleArn=role_arn, PrincipalArn=provider_arn,
                           SAMLAssertion=impostor.response([f"{role_arn},{provider_arn}"]))
    assert (code, message) == ("InvalidIdentityToken", "Response signature invalid")


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"lifetime": timedelta(minutes=-10)}, "ExpiredTokenException", None),
        ({"audience": "https://example.com/not-aws"}, "InvalidIdentityToken",
         "Response does not contain the required audience."),
        ({"issuer": "https://elsewhere.example.com/saml"}, "InvalidIdentityToken",
         "Issuer not present in specified provider"),
        ({"session_name": None}, "InvalidIdentityToken", "RoleSessionName is required in AuthnResponse"),
        ({"session_name": "a"}, "InvalidIdentityToken",
         "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"),
    ],
)
def test_assertions_that_are_stale_or_not_for_aws_are_refused(
    server: Server, idp: SamlIdp, provider_arn: str, kwargs: dict[str, Any], code: str, message: str | None
) -> None:
    role_arn = _saml_role(server, provider_arn)
    got_code, got_message = _error(
        _sts(server).assume_role_with_saml, RoleArn=role_arn, PrincipalArn=provider_arn,
        SAMLAssertion=idp.response([f"{role_arn},{provider_arn}"], **kwargs),
    )
    assert got_code == code
    if message is not None:
        assert got_message == message


def test_role_missing_from_the_role_attribute_is_access_denied(
    server: Server, idp: SamlIdp, provider_arn: str
) -> None:
    role_arn = _saml_role(server, provider_arn)
    other_role = _saml_role(server, provider_arn)
    code, message = _error(_sts(server).assume_role_with_saml, RoleArn=role_arn, PrincipalArn=provider_arn,
                           SAMLAssertion=idp.response([f"{other_role},{provider_arn}"]))
    assert (code, message) == ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")


def test_trust_condition_on_saml_sub_rejects_other_subjects(
    server: Server, idp: SamlIdp, provider_arn: str
) -> None:
    role_arn = _saml_role(server, provider_arn, **{"saml:sub": "bob@example.com"})
    code, _ = _error(_sts(server).assume_role_with_saml, RoleArn=role_arn, PrincipalArn=provider_arn,
                     SAMLAssertion=idp.response([f"{role_arn},{provider_arn}"], subject="alice@example.com"))
    assert code == "AccessDenied"
    result = _sts(server).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=provider_arn,
        SAMLAssertion=idp.response([f"{role_arn},{provider_arn}"], subject="bob@example.com"),
    )
    assert result["Subject"] == "bob@example.com"


def test_unknown_provider_and_garbage_assertions_are_invalid_identity_token(
    server: Server, idp: SamlIdp, provider_arn: str
) -> None:
    role_arn = _saml_role(server, provider_arn)
    missing = provider_arn.rsplit("/", 1)[0] + "/no-such-idp"
    code, _ = _error(_sts(server).assume_role_with_saml, RoleArn=role_arn, PrincipalArn=missing,
                     SAMLAssertion=idp.response([f"{role_arn},{missing}"]))
    assert code == "InvalidIdentityToken"
    for garbage in ("not base64!", base64.b64encode(b"<x/>").decode(),
                    base64.b64encode(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>').decode()):
        code, _ = _error(_sts(server).assume_role_with_saml, RoleArn=role_arn, PrincipalArn=provider_arn,
                         SAMLAssertion=garbage)
        assert code == "InvalidIdentityToken"


def test_a_signed_response_vouches_for_its_unsigned_assertion(
    server: Server, idp: SamlIdp, provider_arn: str
) -> None:
    role_arn = _saml_role(server, provider_arn)
    assertion = idp.response([f"{role_arn},{provider_arn}"], session_name="whole", sign_response=True)
    result = _sts(server).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=provider_arn, SAMLAssertion=assertion
    )
    assert result["AssumedRoleUser"]["Arn"].endswith("/whole")
    xml = base64.b64decode(assertion).replace(b">whole<", b">other<")
    code, _ = _error(_sts(server).assume_role_with_saml, RoleArn=role_arn, PrincipalArn=provider_arn,
                     SAMLAssertion=base64.b64encode(xml).decode())
    assert code == "InvalidIdentityToken"


def test_session_tags_need_sts_tag_session_in_the_trust_policy(
    server: Server, idp: SamlIdp, provider_arn: str
) -> None:
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithSAML",
    }]}
    role_arn = make_role(server, server.accounts[0], trust, KMS_ENCRYPT_ONLY)
    pair = [f"{role_arn},{provider_arn}"]
    sts = _sts(server)
    sts.assume_role_with_saml(RoleArn=role_arn, PrincipalArn=provider_arn, SAMLAssertion=idp.response(pair))
    tagged = idp.response(pair, attributes={AWS_ATTR + "PrincipalTag:team": ["blue"]})
    code, _ = _error(_sts(server).assume_role_with_saml, RoleArn=role_arn, PrincipalArn=provider_arn,
                     SAMLAssertion=tagged)
    assert code == "AccessDenied"


def test_duration_above_the_role_maximum_is_a_validation_error(
    server: Server, idp: SamlIdp, provider_arn: str
) -> None:
    role_arn = _saml_role(server, provider_arn)
    code, message = _error(_sts(server).assume_role_with_saml, RoleArn=role_arn, PrincipalArn=provider_arn,
                           SAMLAssertion=idp.response([f"{role_arn},{provider_arn}"]), DurationSeconds=7200)
    assert code == "ValidationError"
    assert "MaxSessionDuration" in message
