"""Value types shared by every layer: who is calling and from where."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

EMPTY: Mapping[str, str] = MappingProxyType({})


class PrincipalType(str, enum.Enum):
    """The caller kinds of CloudTrail's userIdentity.type and of aws:PrincipalType."""

    ROOT = "Account"  # aws:PrincipalType for the root user is "Account"
    USER = "User"
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    SERVICE = "AWSService"
    ANONYMOUS = "Anonymous"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a temporary credential carries (STS sessions)."""

    issuer_arn: str  # the role or user that the session was issued for
    issuer_id: str
    session_name: str
    issued_at: datetime
    expires_at: datetime
    mfa_authenticated: bool = False
    source_identity: str | None = None
    session_policies: tuple[str, ...] = ()  # JSON policy documents, intersected with identity policies
    transitive_tag_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    `arn` is the caller's ARN as AWS reports it (GetCallerIdentity), `principal_id` the userid
    (account id for root, AIDA... for users, AROA...:session for role sessions).
    `name` is the user or role name; `identity_arn` the IAM entity whose policies apply.
    """

    type: PrincipalType
    account_id: str
    arn: str
    principal_id: str
    access_key_id: str | None = None
    name: str | None = None
    identity_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    session: SessionInfo | None = None

    @property
    def is_root(self) -> bool:
        return self.type is PrincipalType.ROOT


@dataclass(frozen=True, slots=True)
class NetworkContext:
    """How a request arrived: set by the listener, read by authorization and audit."""

    source_ip: str
    secure_transport: bool = False
    vpc_endpoint_id: str | None = None
    vpc_id: str | None = None


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request as it came off the wire, before any interpretation.

    `raw_path` is percent-encoded as sent and excludes the query; `query_string` is the raw text
    after `?`; `headers` keep the order and repetition they arrived with (names in any case).
    """

    method: str
    raw_path: str
    query_string: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
