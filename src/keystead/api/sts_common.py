"""What the STS operation modules share: their dependencies and the Credentials element."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keystead.api.context import RequestContext
from keystead.errors import AccessDeniedError
from keystead.identity.authorization_messages import AuthorizationMessages
from keystead.identity.iam.mfa import MfaCodes
from keystead.identity.sessions import IssuedCredentials, SessionTokens
from keystead.storage import Database

Params = dict[str, Any]
Result = dict[str, Any]


@dataclass(frozen=True, slots=True)
class StsDeps:
    db: Database
    sessions: SessionTokens
    mfa: MfaCodes | None = None  # None: no MFA device can be verified (every MFA request fails)
    messages: AuthorizationMessages | None = None  # None: DecodeAuthorizationMessage is not served


def credentials_result(issued: IssuedCredentials) -> Result:
    """The Credentials element of every STS response."""
    return {
        "access_key_id": issued.access_key_id,
        "secret_access_key": issued.secret_access_key,
        "session_token": issued.session_token,
        "expiration": issued.expiration,
    }


def refuse_session_caller(ctx: RequestContext, operation: str) -> None:
    """GetSessionToken and GetFederationToken take long-term credentials only.

    Raises:
        AccessDeniedError: the caller signed with temporary credentials (AWS's wording).
    """
    if ctx.principal.session is not None:
        raise AccessDeniedError(f"Cannot call {operation} with session credentials")
