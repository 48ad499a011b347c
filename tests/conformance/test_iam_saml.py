"""SAML identity providers through boto3 against a live server: metadata checked (safely),
stored, returned, updated, tagged and deleted."""

from __future__ import annotations

import base64
import os

import pytest
from botocore.exceptions import ClientError

from tests.conformance.iam_support import error_of, unique
from tests.support import Account, Server


def metadata(entity: str = "https://idp.example.com/saml", *, use: str = "signing", doctype: str = "") -> str:
    cert = base64.b64encode(os.urandom(900)).decode()
    return f"""<?xml version="1.0"?>{doctype}
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}"
    validUntil="2030-01-01T00:00:00Z">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="{use}">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


@pytest.fixture(scope="module")
def owner(server: Server) -> Account:
    return server.create_account("saml")


def test_create_get_list_update_and_delete_a_saml_provider(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("idp")
    document = metadata()
    created = iam.create_saml_provider(
        Name=name, SAMLMetadataDocument=document, Tags=[{"Key": "team", "Value": "sso"}]
    )
    arn = created["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{owner.account_id}:saml-provider/{name}"
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == document and got["ValidUntil"].year == 2030
    assert got["Tags"] == [{"Key": "team", "Value": "sso"}] and len(got["SAMLProviderUUID"]) == 36
    assert arn in [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]]
    newer = metadata("https://idp.example.com/v2")
    assert iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=newer)["SAMLProviderArn"] == arn
    assert iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == newer
    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["team"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]
    iam.delete_saml_provider(SAMLProviderArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.get_saml_provider(SAMLProviderArn=arn)
    assert error_of(exc) == ("NoSuchEntity", f"Manifest not found for arn {arn}")


def test_metadata_without_a_signing_certificate_or_not_saml_is_invalid_input(
    server: Server, owner: Account
) -> None:
    iam = server.client("iam", owner)
    bad_documents = [
        metadata(use="encryption"),
        "<notsaml>" + "x" * 1000 + "</notsaml>",
        "<md:EntityDescriptor " + "x" * 1000,
    ]
    for document in bad_documents:
        with pytest.raises(ClientError) as exc:
            iam.create_saml_provider(Name=unique("bad"), SAMLMetadataDocument=document)
        assert error_of(exc)[0] == "InvalidInput"


def test_entity_declarations_are_refused_before_any_expansion(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
    external = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    for doctype in (laughs, external):
        with pytest.raises(ClientError) as exc:
            iam.create_saml_provider(Name=unique("evil"), SAMLMetadataDocument=metadata(doctype=doctype))
        assert error_of(exc) == ("InvalidInput", "Could not parse metadata: document type declarations are not allowed.")


def test_a_provider_name_is_taken_once_per_account(server: Server, owner: Account) -> None:
    iam = server.client("iam", owner)
    name = unique("dup")
    iam.create_saml_provider(Name=name, SAMLMetadataDocument=metadata())
    with pytest.raises(ClientError) as exc:
        iam.create_saml_provider(Name=name, SAMLMetadataDocument=metadata())
    assert error_of(exc)[0] == "EntityAlreadyExists"
