"""OIDC ID tokens for AssumeRoleWithWebIdentity: which provider, is it genuine, what it claims.

[IAM:id_roles_providers_create_oidc][STS-API:AssumeRoleWithWebIdentity] The token's `iss` names a
provider registered in the role's account (ARN `arn:aws:iam::<acct>:oidc-provider/<host/path>`).
Its signing keys come from the issuer's discovery document (`<iss>/.well-known/openid-configuration`
→ `jwks_uri`), cached per issuer and fetched again when a token names an unknown `kid` (key
rotation), at most once per REFRESH_SECONDS. Issuers must be https; plain http is accepted only
for loopback issuers (127.0.0.1, ::1, localhost), for tests and local development. Thumbprints
are stored but not checked: the system trust store verifies https issuers (as AWS now does for
most providers; docs/compatibility.md).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from keystead.blocking import run_blocking
from keystead.crypto.jws import SUPPORTED_ALGORITHMS, JwsError, b64url_decode, verify_jws
from keystead.errors import (
    ExpiredWebIdentityTokenError,
    IDPCommunicationError,
    InvalidIdentityTokenError,
)

REFRESH_SECONDS = 60.0
CACHE_SECONDS = 3600.0
CLOCK_SKEW_SECONDS = 60
FETCH_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 512 * 1024
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
Fetch = Callable[[str], bytes]


def provider_path(url: str) -> str:
    """A provider URL or issuer as IAM names it: host[:port]/path, no scheme, no trailing slash."""
    without = url.split("://", 1)[1] if "://" in url else url
    return without.rstrip("/")


def allowed_issuer_url(url: str) -> bool:
    """https, or http to a loopback host."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in _LOOPBACK


def _fetch(url: str) -> bytes:
    if not allowed_issuer_url(url):
        raise IDPCommunicationError("Couldn't retrieve verification key from your identity provider.")
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (checked above)
        return bytes(response.read(MAX_DOCUMENT_BYTES))


@dataclass(frozen=True, slots=True)
class IdToken:
    """A decoded (not yet verified) JWT."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    signing_input: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    @property
    def issuer(self) -> str:
        return str(self.claims.get("iss", ""))

    @property
    def audiences(self) -> list[str]:
        aud = self.claims.get("aud")
        return [aud] if isinstance(aud, str) else [a for a in aud or () if isinstance(a, str)]


def decode_token(token: str) -> IdToken:
    """Split and decode a compact JWS.

    Raises:
        InvalidIdentityTokenError: not a JWT, or one without an issuer.
    """
    try:
        head, body, sig = token.split(".")
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(body))
        signature = b64url_decode(sig)
    except (ValueError, JwsError):
        raise InvalidIdentityTokenError("The ID Token provided is not a valid JWT. (You may see this error if "
                                        "you sent an Access Token)") from None
    if not isinstance(header, dict) or not isinstance(claims, dict) or not isinstance(claims.get("iss"), str):
        raise InvalidIdentityTokenError("The ID Token provided is not a valid JWT.")
    return IdToken(header, claims, f"{head}.{body}".encode("ascii"), signature)


class JwksCache:
    """Issuers' signing keys, by issuer and kid; fetched off the event loop."""

    def __init__(self, fetch: Fetch = _fetch) -> None:
        self._fetch = fetch
        self._keys: dict[str, tuple[float, dict[str, Mapping[str, Any]]]] = {}

    async def key(self, issuer: str, kid: str | None) -> Mapping[str, Any]:
        """The issuer's JWK with this kid (the only key when the token names none).

        Raises:
            IDPCommunicationError: the issuer's keys cannot be fetched.
            InvalidIdentityTokenError: the issuer has no such key.
        """
        cached = self._keys.get(issuer)
        now = time.monotonic()
        keys = cached[1] if cached is not None and now - cached[0] < CACHE_SECONDS else None
        found = _pick(keys, kid)
        if found is None and (cached is None or keys is None or now - cached[0] > REFRESH_SECONDS):
            keys = await run_blocking(self._load, issuer)
            self._keys[issuer] = (time.monotonic(), keys)
            found = _pick(keys, kid)
        if found is None:
            raise InvalidIdentityTokenError("No matching key found in the identity provider's JWKS.")
        return found

    def _load(self, issuer: str) -> dict[str, Mapping[str, Any]]:
        try:
            discovery = json.loads(self._fetch(issuer.rstrip("/") + "/.well-known/openid-configuration"))
            jwks = json.loads(self._fetch(str(discovery["jwks_uri"])))
            return {str(k.get("kid", "")): k for k in jwks["keys"] if isinstance(k, dict)}
        except (OSError, ValueError, KeyError, TypeError):
            raise IDPCommunicationError(
                "Couldn't retrieve verification key from your identity provider, please reference "
                "AssumeRoleWithWebIdentity documentation for requirements"
            ) from None


def _pick(keys: dict[str, Mapping[str, Any]] | None, kid: str | None) -> Mapping[str, Any] | None:
    if not keys:
        return None
    if kid is None:
        return next(iter(keys.values())) if len(keys) == 1 else None
    return keys.get(kid)


async def verify_token(token: IdToken, jwks: JwksCache, client_ids: list[str], now: datetime) -> str:
    """Check signature, audience and validity period; the audience that matched.

    Raises:
        InvalidIdentityTokenError: bad signature, unsupported algorithm, or no known audience.
        ExpiredWebIdentityTokenError: `exp` has passed (or `nbf` is ahead).
        IDPCommunicationError: the issuer's keys cannot be fetched.
    """
    alg = str(token.header.get("alg", ""))
    if alg not in SUPPORTED_ALGORITHMS:
        raise InvalidIdentityTokenError(f"Unsupported token signing algorithm {alg}.")
    kid = token.header.get("kid")
    key = await jwks.key(token.issuer, kid if isinstance(kid, str) else None)
    try:
        verify_jws(token.signing_input, token.signature, alg, key)
    except JwsError:
        raise InvalidIdentityTokenError("The web identity token signature could not be verified.") from None
    epoch = now.timestamp()
    exp, nbf = token.claims.get("exp"), token.claims.get("nbf")
    if not isinstance(exp, int | float) or exp + CLOCK_SKEW_SECONDS <= epoch:
        raise ExpiredWebIdentityTokenError("Token expired: current date/time must be before the expiration date/time.")
    if isinstance(nbf, int | float) and nbf - CLOCK_SKEW_SECONDS > epoch:
        raise InvalidIdentityTokenError("The token is not yet valid (nbf).")
    for audience in token.audiences:
        if audience in client_ids:
            return audience
    raise InvalidIdentityTokenError("Incorrect token audience")
