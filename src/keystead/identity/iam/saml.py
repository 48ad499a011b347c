"""SAML 2.0 identity-provider metadata: checked safely, before IAM stores it.

[IAM:id_roles_providers_create_saml][BM-IAM CreateSAMLProvider] The document must be SAML
metadata (an md:EntityDescriptor, or md:EntitiesDescriptor holding one) describing an identity
provider (md:IDPSSODescriptor) with at least one signing certificate (a ds:X509Certificate in a
KeyDescriptor whose use is "signing" or unspecified). Parsing uses the stdlib `xml.etree`, and any
document type declaration is refused before the parser sees it: no external entities, and no
internal entity expansion either ("billion laughs").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from keystead.errors import InvalidInputError

_MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
_DS = "{http://www.w3.org/2000/09/xmldsig#}"
_INVALID = "Could not parse metadata"


@dataclass(frozen=True, slots=True)
class SamlMetadata:
    entity_id: str
    signing_certificates: tuple[bytes, ...]  # DER
    valid_until: datetime | None

    @property
    def key_hashes(self) -> tuple[str, ...]:
        """SHA-256 of each signing certificate, hex (for reports; never the keys themselves)."""
        return tuple(hashlib.sha256(der).hexdigest() for der in self.signing_certificates)


def _root(text: str) -> ET.Element:
    # A DTD is the only way into entity expansion; SAML metadata never needs one.
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise InvalidInputError(f"{_INVALID}: document type declarations are not allowed.")
    try:
        return ET.fromstring(text)
    except ET.ParseError:
        raise InvalidInputError(_INVALID) from None


def _descriptor(root: ET.Element) -> ET.Element:
    if root.tag == f"{_MD}EntitiesDescriptor":
        found = root.find(f"{_MD}EntityDescriptor")
        if found is None:
            raise InvalidInputError(f"{_INVALID}: no EntityDescriptor.")
        return found
    if root.tag != f"{_MD}EntityDescriptor":
        raise InvalidInputError(f"{_INVALID}: the root element is not SAML 2.0 metadata.")
    return root


def _certificates(idp: ET.Element) -> tuple[bytes, ...]:
    certificates = []
    for key in idp.findall(f"{_MD}KeyDescriptor"):
        if key.get("use", "signing") != "signing":
            continue
        for cert in key.iter(f"{_DS}X509Certificate"):
            try:
                certificates.append(base64.b64decode("".join((cert.text or "").split()), validate=True))
            except (binascii.Error, ValueError):
                raise InvalidInputError(f"{_INVALID}: a signing certificate is not base64.") from None
    return tuple(c for c in certificates if c)


def _valid_until(descriptor: ET.Element) -> datetime | None:
    value = descriptor.get("validUntil")
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{_INVALID}: validUntil is not a date.") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_metadata(text: str) -> SamlMetadata:
    """The identity provider a SAML metadata document describes.

    Raises:
        InvalidInputError: not well-formed XML, a DTD, not SAML 2.0 IdP metadata, or no signing
            certificate.
    """
    descriptor = _descriptor(_root(text))
    idp = descriptor.find(f"{_MD}IDPSSODescriptor")
    if idp is None:
        raise InvalidInputError(f"{_INVALID}: no IDPSSODescriptor.")
    certificates = _certificates(idp)
    if not certificates:
        raise InvalidInputError(f"{_INVALID}: no signing certificate.")
    return SamlMetadata(descriptor.get("entityID", ""), certificates, _valid_until(descriptor))
