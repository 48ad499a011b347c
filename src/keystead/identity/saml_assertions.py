"""SAML 2.0 Responses for AssumeRoleWithSAML: is it genuine, is it for us, is it current.

[STS-API:AssumeRoleWithSAML][IAM:id_roles_providers_create_saml_assertions] The IdP signs the
Response, the Assertion, or both, with a key whose certificate is in the provider's metadata.
Only what the verified signature covers is read ("see what is signed": signxml returns the
signed element, and claims come from that element alone, which defeats signature-wrapping
attacks). A Response may hold exactly one Assertion; encrypted assertions are not supported.
Parsing refuses any DTD (no entity expansion, no external entities) and never touches the network.
"""

from __future__ import annotations

import base64
import binascii
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidInput, InvalidSignature

from keystead.errors import ExpiredWebIdentityTokenError, IDPRejectedClaimError, InvalidIdentityTokenError

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
_A = "{%s}" % SAML
_P = "{%s}" % SAMLP
_DS_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"
_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
# AWS's service-provider identity and its sign-in endpoint (the Recipient of every assertion).
AWS_AUDIENCES = frozenset({"https://signin.aws.amazon.com/saml", "urn:amazon:webservices"})
AWS_RECIPIENT_SUFFIX = ".amazon.com/saml"
CLOCK_SKEW = timedelta(minutes=5)
_INVALID = "Invalid SAML response"
_AUDIENCES = f"{_A}Conditions/{_A}AudienceRestriction/{_A}Audience"
_SIGNATURE_INVALID = "Response signature invalid"
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
    remove_comments=False,
)


@dataclass(frozen=True, slots=True)
class SamlAssertion:
    """The claims of a verified assertion (attribute values keep their document order)."""

    issuer: str
    subject: str
    subject_format: str
    audiences: tuple[str, ...]
    recipients: tuple[str, ...]
    destination: str | None
    not_before: datetime | None
    not_on_or_after: datetime | None
    session_not_on_or_after: datetime | None
    attributes: Mapping[str, tuple[str, ...]]


def decode_response(encoded: str) -> bytes:
    """The XML of a base64 SAMLResponse.

    Raises:
        InvalidIdentityTokenError: not base64, or a document type declaration inside.
    """
    try:
        xml = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidIdentityTokenError(_INVALID) from None
    # A DTD is the only way into entity expansion; a SAML Response never needs one.
    upper = xml.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise InvalidIdentityTokenError(_INVALID)
    return xml


def certificate_pem(der: bytes) -> str:
    """PEM text of a DER certificate (signxml takes PEM; no `cryptography` import needed here)."""
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def _parse(xml: bytes) -> etree._Element:
    try:
        root = etree.fromstring(xml, parser=_PARSER)
    except etree.XMLSyntaxError:
        raise InvalidIdentityTokenError(_INVALID) from None
    docinfo = etree.ElementTree(root).docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise InvalidIdentityTokenError(_INVALID)
    if root.tag != f"{_P}Response":
        raise InvalidIdentityTokenError(_INVALID)
    return root


def _signature_location(root: etree._Element) -> str:
    """Where the signature to check sits: on the Assertion when it has one, else on the Response."""
    assertions = root.findall(f"{_A}Assertion")
    if len(assertions) != 1 or root.find(f"{_A}EncryptedAssertion") is not None:
        # Several assertions are a wrapping attempt; encrypted ones are not offered (compatibility.md).
        raise InvalidIdentityTokenError(_INVALID)
    if assertions[0].find(_DS_SIGNATURE) is not None:
        return f"./{_A}Assertion/"
    if root.find(_DS_SIGNATURE) is not None:
        return "./"
    raise InvalidIdentityTokenError(_SIGNATURE_INVALID)


def _verified_element(xml: bytes, root: etree._Element, certificates: Sequence[bytes]) -> etree._Element:
    config = SignatureConfiguration(location=_signature_location(root), expect_references=1)
    for der in certificates:
        try:
            result = XMLVerifier().verify(xml, x509_cert=certificate_pem(der), expect_config=config)
        except (InvalidSignature, InvalidInput, ValueError):
            continue
        signed = result.signed_xml if not isinstance(result, list) else None
        if signed is not None:
            return signed
    raise InvalidIdentityTokenError(_SIGNATURE_INVALID)


def verify_response(xml: bytes, certificates: Sequence[bytes]) -> SamlAssertion:
    """The claims of a Response whose signature one of `certificates` verifies. CPU-bound.

    Raises:
        InvalidIdentityTokenError: malformed, unsigned, badly signed, or not one plain Assertion.
        IDPRejectedClaimError: the IdP's Status is not Success.
    """
    root = _parse(xml)
    status = root.find(f"{_P}Status/{_P}StatusCode")
    if status is None or status.get("Value") != _SUCCESS:
        raise IDPRejectedClaimError("The identity provider reported that authentication failed.")
    signed = _verified_element(xml, root, certificates)
    if signed.tag == f"{_P}Response":
        # The whole Response is signed: its Destination is trustworthy, and so is its Assertion.
        destination = signed.get("Destination")
        assertions = signed.findall(f"{_A}Assertion")
        if len(assertions) != 1:
            raise InvalidIdentityTokenError(_INVALID)
        return _claims(assertions[0], destination)
    if signed.tag != f"{_A}Assertion":
        raise InvalidIdentityTokenError(_INVALID)
    return _claims(signed, root.get("Destination"))


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidIdentityTokenError(_INVALID) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _claims(assertion: etree._Element, destination: str | None) -> SamlAssertion:
    name_id = assertion.find(f"{_A}Subject/{_A}NameID")
    conditions = assertion.find(f"{_A}Conditions")
    confirmations = [
        c.find(f"{_A}SubjectConfirmationData")
        for c in assertion.findall(f"{_A}Subject/{_A}SubjectConfirmation")
        if c.get("Method") == _BEARER
    ]
    data = [d for d in confirmations if d is not None]
    expiries = [t for t in (_time(d.get("NotOnOrAfter")) for d in data) if t is not None]
    if conditions is not None and conditions.get("NotOnOrAfter") is not None:
        expiries.append(_time(conditions.get("NotOnOrAfter")))  # type: ignore[arg-type]
    authn = assertion.find(f"{_A}AuthnStatement")
    attributes: dict[str, tuple[str, ...]] = {}
    for attribute in assertion.iterfind(f"{_A}AttributeStatement/{_A}Attribute"):
        name = attribute.get("Name", "")
        values = tuple(_text(v) for v in attribute.findall(f"{_A}AttributeValue"))
        attributes[name] = attributes.get(name, ()) + values
    return SamlAssertion(
        issuer=_text(assertion.find(f"{_A}Issuer")),
        subject=_text(name_id),
        subject_format=name_id.get("Format", "") if name_id is not None else "",
        audiences=tuple(_text(a) for a in assertion.iterfind(_AUDIENCES)),
        recipients=tuple(d.get("Recipient", "") for d in data),
        destination=destination,
        not_before=_time(conditions.get("NotBefore")) if conditions is not None else None,
        not_on_or_after=min(expiries) if expiries else None,
        session_not_on_or_after=_time(authn.get("SessionNotOnOrAfter")) if authn is not None else None,
        attributes=attributes,
    )


def check_assertion(assertion: SamlAssertion, entity_id: str, now: datetime) -> None:
    """Check that an assertion from the provider `entity_id` is for AWS and current.

    Raises:
        InvalidIdentityTokenError: wrong issuer, audience, recipient or destination, or no bearer
            confirmation.
        ExpiredWebIdentityTokenError: outside NotBefore/NotOnOrAfter (allowing five minutes of skew).
    """
    if assertion.issuer != entity_id:
        raise InvalidIdentityTokenError("Issuer not present in specified provider")
    if not any(a in AWS_AUDIENCES for a in assertion.audiences):
        raise InvalidIdentityTokenError("Response does not contain the required audience.")
    if not assertion.recipients or not all(_ours(r) for r in assertion.recipients):
        raise InvalidIdentityTokenError(f"{_INVALID}: the Recipient is not the AWS sign-in endpoint.")
    if assertion.destination is not None and not _ours(assertion.destination):
        raise InvalidIdentityTokenError(f"{_INVALID}: the Destination is not the AWS sign-in endpoint.")
    if assertion.not_before is not None and now + CLOCK_SKEW < assertion.not_before:
        raise InvalidIdentityTokenError(f"{_INVALID}: the assertion is not yet valid.")
    if assertion.not_on_or_after is None or now - CLOCK_SKEW >= assertion.not_on_or_after:
        raise ExpiredWebIdentityTokenError("Token must be redeemed within 5 minutes of issuance")


def _ours(url: str) -> bool:
    # AWS's regional sign-in endpoints (https://<region>.signin.aws.amazon.com/saml) count too.
    return url.startswith("https://") and url.endswith(AWS_RECIPIENT_SUFFIX) and "signin.aws" in url


__all__ = ["SamlAssertion", "certificate_pem", "check_assertion", "decode_response", "verify_response"]
