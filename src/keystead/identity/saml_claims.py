"""What a verified SAML assertion asks of AWS: role, session name, duration, tags, condition keys.

[IAM:id_roles_providers_create_saml_assertions] The attributes under
`https://aws.amazon.com/SAML/Attributes/` drive the session: `Role` (pairs "role ARN,provider ARN",
either order), `RoleSessionName`, `SessionDuration`, `SourceIdentity`, `PrincipalTag:<key>` and
`TransitiveTagKeys`. [IAM:reference_policies_iam-condition-keys#condition-keys-saml] The `saml:*`
condition keys come from the assertion and from well-known attribute OIDs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping

from keystead.errors import InvalidIdentityTokenError
from keystead.identity.saml_assertions import SamlAssertion

AWS_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/"
ROLE = AWS_ATTRIBUTE + "Role"
ROLE_SESSION_NAME = AWS_ATTRIBUTE + "RoleSessionName"
SESSION_DURATION = AWS_ATTRIBUTE + "SessionDuration"
SOURCE_IDENTITY = AWS_ATTRIBUTE + "SourceIdentity"
PRINCIPAL_TAG = AWS_ATTRIBUTE + "PrincipalTag:"
TRANSITIVE_TAG_KEYS = AWS_ATTRIBUTE + "TransitiveTagKeys"
_PATTERN = "[a-zA-Z_0-9+=,.@-]{2,64}"  # as AWS spells it in its error messages
_NAME = re.compile(_PATTERN)
_NAMEID_SHORT = {
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent": "persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient": "transient",
}
_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
_EDU_PERSON = "urn:oid:1.3.6.1.4.1.5923.1.1.1."
_EDU_ORG = "urn:oid:1.3.6.1.4.1.5923.1.2.1."
# Attribute names (OIDs) behind the saml:* keys AWS documents.
OID_KEYS: Mapping[str, str] = {
    "urn:oid:2.5.4.3": "saml:cn",
    "urn:oid:2.5.4.42": "saml:givenName",
    "urn:oid:2.5.4.4": "saml:surname",
    "urn:oid:2.5.4.41": "saml:name",
    "urn:oid:2.5.4.45": "saml:x500UniqueIdentifier",
    "urn:oid:0.9.2342.19200300.100.1.3": "saml:mail",
    "urn:oid:0.9.2342.19200300.100.1.1": "saml:uid",
    _EDU_PERSON + "1": "saml:edupersonaffiliation",
    _EDU_PERSON + "2": "saml:edupersonnickname",
    _EDU_PERSON + "3": "saml:edupersonorgdn",
    _EDU_PERSON + "4": "saml:edupersonorgunitdn",
    _EDU_PERSON + "5": "saml:edupersonprimaryaffiliation",
    _EDU_PERSON + "6": "saml:edupersonprincipalname",
    _EDU_PERSON + "7": "saml:edupersonentitlement",
    _EDU_PERSON + "8": "saml:edupersonprimaryorgunitdn",
    _EDU_PERSON + "9": "saml:edupersonscopedaffiliation",
    _EDU_PERSON + "10": "saml:edupersontargetedid",
    _EDU_PERSON + "11": "saml:edupersonassurance",
    _EDU_ORG + "2": "saml:eduorghomepageuri",
    _EDU_ORG + "3": "saml:eduorgidentityauthnpolicyuri",
    _EDU_ORG + "4": "saml:eduorglegalname",
    _EDU_ORG + "5": "saml:eduorgsuperioruri",
    _EDU_ORG + "6": "saml:eduorgwhitepagesuri",
}


def offers_role(assertion: SamlAssertion, role_arn: str, provider_arn: str) -> bool:
    """Whether the Role attribute holds the pair (role, provider), in either order."""
    for value in assertion.attributes.get(ROLE, ()):
        pair = {part.strip() for part in value.split(",")}
        if pair == {role_arn, provider_arn}:
            return True
    return False


def session_name(assertion: SamlAssertion) -> str:
    """Raises: InvalidIdentityTokenError: no RoleSessionName attribute, or an invalid one."""
    values = assertion.attributes.get(ROLE_SESSION_NAME, ())
    if not values:
        raise InvalidIdentityTokenError("RoleSessionName is required in AuthnResponse")
    if len(values) != 1 or not _NAME.fullmatch(values[0]):
        raise InvalidIdentityTokenError(f"RoleSessionName in AuthnResponse must match {_PATTERN}")
    return values[0]


def session_duration(assertion: SamlAssertion) -> int | None:
    """The SessionDuration attribute, seconds.

    Raises:
        InvalidIdentityTokenError: not an integer from 900 to 43200.
    """
    values = assertion.attributes.get(SESSION_DURATION, ())
    if not values:
        return None
    if len(values) != 1 or not values[0].isdigit() or not 900 <= int(values[0]) <= 43_200:
        raise InvalidIdentityTokenError(
            "SessionDuration in AuthnResponse must be an integer from 900 to 43200"
        )
    return int(values[0])


def source_identity(assertion: SamlAssertion) -> str | None:
    """Raises: InvalidIdentityTokenError: a malformed SourceIdentity attribute."""
    values = assertion.attributes.get(SOURCE_IDENTITY, ())
    if not values:
        return None
    if len(values) != 1 or not _NAME.fullmatch(values[0]) or values[0].lower().startswith("aws:"):
        raise InvalidIdentityTokenError(f'Source Identity must match {_PATTERN} and not begin with "aws:"')
    return values[0]


def principal_tags(assertion: SamlAssertion) -> tuple[list[dict[str, str]], list[str]]:
    """PrincipalTag:* attributes as STS tag dicts, and the transitive keys (checked by session_tags).

    Raises:
        InvalidIdentityTokenError: a tag attribute without exactly one value.
    """
    tags = []
    for name, values in assertion.attributes.items():
        if name.startswith(PRINCIPAL_TAG):
            if len(values) != 1:
                raise InvalidIdentityTokenError(f"{name} in AuthnResponse must have exactly one value")
            tags.append({"key": name[len(PRINCIPAL_TAG):], "value": values[0]})
    return tags, list(assertion.attributes.get(TRANSITIVE_TAG_KEYS, ()))


def subject_type(assertion: SamlAssertion) -> str:
    """The NameID format as AWS reports it: "persistent", "transient", or the full format URI."""
    fmt = assertion.subject_format or _UNSPECIFIED
    return _NAMEID_SHORT.get(fmt, fmt)


def name_qualifier(issuer: str, account_id: str, provider_name: str) -> str:
    """BASE64(SHA1(issuer + account + "/" + provider name)) [STS-API:AssumeRoleWithSAML NameQualifier]."""
    digest = hashlib.sha1(f"{issuer}{account_id}/{provider_name}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii")


def condition_keys(
    assertion: SamlAssertion, audience_url: str, account_id: str, provider_name: str
) -> dict[str, str | list[str]]:
    """The saml:* keys a trust policy's conditions can test."""
    keys: dict[str, str | list[str]] = {
        "saml:aud": audience_url,
        "saml:iss": assertion.issuer,
        "saml:sub": assertion.subject,
        "saml:sub_type": subject_type(assertion),
        "saml:namequalifier": name_qualifier(assertion.issuer, account_id, provider_name),
        "saml:doc": f"{account_id}/{provider_name}",
    }
    for oid, key in OID_KEYS.items():
        values = assertion.attributes.get(oid)
        if values:
            keys[key] = list(values)
    return keys
