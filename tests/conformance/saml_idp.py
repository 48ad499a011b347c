"""A tiny SAML 2.0 identity provider for the AssumeRoleWithSAML tests: a self-signed certificate,
IdP metadata that names it, and Responses whose Assertion it signs with signxml."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
SIGNIN = "https://signin.aws.amazon.com/saml"
AWS_ATTR = "https://aws.amazon.com/SAML/Attributes/"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SamlIdp:
    """An IdP with its own RSA key and self-signed certificate."""

    def __init__(self, entity_id: str | None = None) -> None:
        self.entity_id = entity_id or f"https://idp-{uuid.uuid4().hex[:8]}.example.com/saml"
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-idp")])
        now = datetime.now(UTC)
        self._cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self._key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(self._key, hashes.SHA256())
        )

    @property
    def _key_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def _cert_pem(self) -> bytes:
        return self._cert.public_bytes(serialization.Encoding.PEM)

    def metadata(self) -> str:
        der = base64.b64encode(self._cert.public_bytes(serialization.Encoding.DER)).decode()
        return (
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{self.entity_id}">'
            '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{der}'
            '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
            '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            'Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>'
        )

    def response(
        self,
        roles: Sequence[str],
        session_name: str | None = "alice",
        subject: str = "alice@example.com",
        lifetime: timedelta = timedelta(minutes=5),
        audience: str = SIGNIN,
        issuer: str | None = None,
        attributes: Mapping[str, Sequence[str]] | None = None,
        sign_response: bool = False,
    ) -> str:
        """A base64 SAMLResponse; its Assertion (or, with sign_response, the whole Response) is
        signed: enveloped, exclusive c14n, RSA-SHA256."""
        now = datetime.now(UTC)
        attrs: dict[str, Sequence[str]] = {AWS_ATTR + "Role": list(roles)}
        if session_name is not None:
            attrs[AWS_ATTR + "RoleSessionName"] = [session_name]
        attrs.update(attributes or {})
        assertion = self._assertion(issuer or self.entity_id, subject, audience, now, now + lifetime, attrs)
        response = etree.Element(
            f"{{{SAMLP}}}Response", nsmap={"samlp": SAMLP, "saml": SAML}, ID=f"_{uuid.uuid4().hex}",
            Version="2.0", IssueInstant=_stamp(now), Destination=SIGNIN,
        )
        etree.SubElement(response, f"{{{SAML}}}Issuer").text = issuer or self.entity_id
        status = etree.SubElement(response, f"{{{SAMLP}}}Status")
        etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success")
        if sign_response:
            assertion.remove(assertion.find(f"{{{DS}}}Signature"))
            response.append(assertion)
            return base64.b64encode(etree.tostring(self._sign(response))).decode()
        response.append(self._sign(assertion))
        return base64.b64encode(etree.tostring(response)).decode()

    def _sign(self, element: etree._Element) -> etree._Element:
        signer = XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        signed: etree._Element = signer.sign(element, key=self._key_pem, cert=self._cert_pem)
        return signed

    @staticmethod
    def _assertion(
        issuer: str, subject: str, audience: str, now: datetime, expires: datetime,
        attributes: Mapping[str, Sequence[str]],
    ) -> etree._Element:
        a = f"{{{SAML}}}"
        root = etree.Element(a + "Assertion", nsmap={"saml": SAML}, ID=f"_{uuid.uuid4().hex}", Version="2.0",
                             IssueInstant=_stamp(now))
        etree.SubElement(root, a + "Issuer").text = issuer
        # signxml puts the enveloped signature at this placeholder: right after Issuer, as SAML wants.
        etree.SubElement(root, f"{{{DS}}}Signature", nsmap={"ds": DS}, Id="placeholder")
        subj = etree.SubElement(root, a + "Subject")
        etree.SubElement(subj, a + "NameID", Format=PERSISTENT).text = subject
        confirmation = etree.SubElement(subj, a + "SubjectConfirmation", Method=BEARER)
        etree.SubElement(
            confirmation, a + "SubjectConfirmationData", Recipient=SIGNIN, NotOnOrAfter=_stamp(expires)
        )
        conditions = etree.SubElement(root, a + "Conditions", NotBefore=_stamp(now - timedelta(minutes=1)),
                                      NotOnOrAfter=_stamp(expires))
        restriction = etree.SubElement(conditions, a + "AudienceRestriction")
        etree.SubElement(restriction, a + "Audience").text = audience
        etree.SubElement(root, a + "AuthnStatement", AuthnInstant=_stamp(now))
        statement = etree.SubElement(root, a + "AttributeStatement")
        for name, values in attributes.items():
            attribute = etree.SubElement(statement, a + "Attribute", Name=name)
            for value in values:
                etree.SubElement(attribute, a + "AttributeValue").text = value
        return root
