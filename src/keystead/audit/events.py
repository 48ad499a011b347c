"""CloudTrail-shaped events: who did what, from where, with what result — never secrets.

Request parameters and response elements are recorded with camelCase names as CloudTrail does,
minus every blob (plaintext, ciphertext, data keys) and every member named in SECRET_MEMBERS.
Read-only calls and cryptographic operations record `responseElements: null`, as AWS KMS does
("the response to GetKeyPolicy or any cryptographic operation" is omitted; see "Logging AWS KMS
API calls with AWS CloudTrail" in the KMS developer guide).

One request can yield several records: a cross-account call is recorded in the caller's account
and in each resource owner's account, each copy with its own eventID and recipientAccountId and
a common sharedEventID (CloudTrail record contents, "sharedEventID").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keystead import uids
from keystead.clock import iso_seconds
from keystead.types import NetworkContext, Principal, PrincipalType, SessionInfo

EVENT_VERSION = "1.11"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SECRET_MEMBERS = frozenset(
    {
        "plaintext", "ciphertext_blob", "password", "new_password", "old_password",
        "secret_access_key", "session_token", "private_key_plaintext", "private_key_ciphertext_blob",
        "web_identity_token", "saml_assertion", "token_code", "authentication_code1",
        "authentication_code2", "encrypted_key_material", "import_token", "message", "signature",
        "mac", "shared_secret", "credentials", "base32_string_seed", "qr_code_png", "public_key",
        "ciphertext_for_recipient", "key_material", "source_ciphertext_blob",
        # Grant tokens carry a whole grant and authorize at once, so they stay out of the trail.
        "grant_token", "grant_tokens",
    }
)
_IDENTITY_TYPES = {
    PrincipalType.ROOT: "Root",
    PrincipalType.USER: "IAMUser",
    PrincipalType.ASSUMED_ROLE: "AssumedRole",
    PrincipalType.FEDERATED_USER: "FederatedUser",
    PrincipalType.SERVICE: "AWSService",
    PrincipalType.ANONYMOUS: "Unknown",
}


@dataclass(frozen=True, slots=True)
class ApiCall:
    """What the pipeline knows about one request when it records it."""

    request_id: str
    event_time: datetime
    service: str
    operation: str
    region: str
    network: NetworkContext
    user_agent: str | None
    principal: Principal | None
    read_only: bool
    host: str | None = None
    # For requests that failed authentication: the access key that was presented, if any.
    presented_access_key_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the call ended, as the record reports it."""

    response: Mapping[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None


def build_events(
    call: ApiCall,
    request_parameters: Mapping[str, Any] | None,
    outcome: Outcome,
    resources: Sequence[Mapping[str, str]],
    recipients: Sequence[str | None],
) -> list[dict[str, Any]]:
    """One CloudTrail record per recipient account (a sharedEventID links the copies)."""
    shared = uids.uuid4() if len(recipients) > 1 else None
    return [
        build_event(call, request_parameters, outcome, resources, recipient, shared_event_id=shared)
        for recipient in recipients
    ]


def build_event(
    call: ApiCall,
    request_parameters: Mapping[str, Any] | None,
    outcome: Outcome,
    resources: Sequence[Mapping[str, str]],
    recipient_account_id: str | None,
    *,
    shared_event_id: str | None = None,
) -> dict[str, Any]:
    """One CloudTrail record of an API call (success or failure) for one recipient account."""
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(call.principal, call.presented_access_key_id, recipient_account_id),
        "eventTime": iso_seconds(call.event_time),
        "eventSource": f"{call.service}.amazonaws.com",
        "eventName": call.operation,
        "awsRegion": call.region,
        "sourceIPAddress": call.network.source_ip,
        "userAgent": call.user_agent,
        "requestParameters": redact(request_parameters) if request_parameters else None,
        "responseElements": redact(outcome.response) if outcome.response is not None else None,
        "requestID": call.request_id,
        "eventID": uids.uuid4(),
        "readOnly": call.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": recipient_account_id,
        "eventCategory": "Management",
    }
    if outcome.error_code is not None:
        event["errorCode"] = outcome.error_code
        event["errorMessage"] = outcome.error_message
    if resources:
        event["resources"] = [dict(r) for r in resources]
    if shared_event_id is not None:
        event["sharedEventID"] = shared_event_id
    if call.network.vpc_endpoint_id:
        event["vpcEndpointId"] = call.network.vpc_endpoint_id
    if call.network.secure_transport:
        event["tlsDetails"] = {"tlsVersion": "TLSv1.2", "clientProvidedHostHeader": call.host}
    return event


def service_event(
    *,
    service: str,
    event_name: str,
    account_id: str,
    region: str,
    event_time: datetime,
    resources: Sequence[Mapping[str, str]] = (),
    additional_event_data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A record of an action the service took by itself (rotation, deletion, expiry):
    `eventType: AwsServiceEvent`, as in KMS's RotateKey and DeleteKey CloudTrail examples."""
    invoked_by = f"{service}.amazonaws.com"
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": {"accountId": account_id, "invokedBy": invoked_by},
        "eventTime": event_time.strftime(TIME_FORMAT),
        "eventSource": invoked_by,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": invoked_by,
        "userAgent": invoked_by,
        "requestParameters": None,
        "responseElements": None,
        "eventID": uids.uuid4(),
        "readOnly": False,
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if additional_event_data:
        event["additionalEventData"] = redact(additional_event_data)
    if resources:
        event["resources"] = [dict(r) for r in resources]
    return event


def user_identity(
    principal: Principal | None, presented_access_key_id: str | None = None, account_id: str | None = None
) -> dict[str, Any]:
    """CloudTrail's userIdentity element for a caller (or for an unauthenticated request, with the
    account and access key it presented, when known)."""
    if principal is None:
        identity: dict[str, Any] = {"type": "Unknown"}
        if account_id:
            identity["accountId"] = account_id
        if presented_access_key_id:
            identity["accessKeyId"] = presented_access_key_id
        return identity
    identity = {
        "type": _IDENTITY_TYPES.get(principal.type, principal.type.value),
        "principalId": principal.principal_id,
        "arn": principal.arn,
        "accountId": principal.account_id,
    }
    if principal.access_key_id:
        identity["accessKeyId"] = principal.access_key_id
    if principal.type is PrincipalType.USER and principal.name:
        identity["userName"] = principal.name
    if principal.type is PrincipalType.SERVICE:
        identity["invokedBy"] = principal.name or principal.arn
    if principal.session is not None:
        identity["sessionContext"] = _session_context(principal, principal.session)
    return identity


def _session_context(principal: Principal, session: SessionInfo) -> dict[str, Any]:
    issuer = session.issuer_arn
    issuer_type = "Role" if ":role/" in issuer else "Root" if issuer.endswith(":root") else "IAMUser"
    context: dict[str, Any] = {
        "sessionIssuer": {
            "type": issuer_type,
            "principalId": session.issuer_id,
            "arn": session.issuer_arn,
            "accountId": principal.account_id,
            "userName": issuer.rsplit("/", 1)[-1] if issuer_type != "Root" else principal.account_id,
        },
        "attributes": {
            "creationDate": session.issued_at.strftime(TIME_FORMAT),
            "mfaAuthenticated": "true" if session.mfa_authenticated else "false",
        },
    }
    if session.source_identity:
        context["sourceIdentity"] = session.source_identity
    return context


def username_of(event: Mapping[str, Any]) -> str | None:
    """The user name LookupEvents reports for a record (the IAM user, role session or root)."""
    identity = event.get("userIdentity") or {}
    kind = identity.get("type")
    if kind == "IAMUser":
        return identity.get("userName")
    if kind == "Root":
        return "root"
    if kind in ("AssumedRole", "FederatedUser"):
        return str(identity.get("arn", "")).rsplit("/", 1)[-1] or None
    if kind == "AWSService" or identity.get("invokedBy"):
        return identity.get("invokedBy")
    return None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _recordable(member: str, value: Any) -> bool:
    return value is not None and member not in SECRET_MEMBERS and not isinstance(value, bytes | bytearray)


def redact(value: Any, member: str | None = None) -> Any:
    """Parameters as CloudTrail records them: camelCase, no blobs, no secret members."""
    if isinstance(value, Mapping):
        # Encryption contexts and tags are maps of caller data: keep their keys as given.
        keep_keys = member in ("encryption_context", "encryption_context_equals", "encryption_context_subset")
        return {
            (key if keep_keys else _camel(key)): redact(item, key)
            for key, item in value.items()
            # None is an absent member (the wire format omits it too).
            if keep_keys or _recordable(key, item)
        }
    if isinstance(value, list | tuple):
        return [redact(item, member) for item in value]
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    return value


def build_service_event(
    event_name: str,
    *,
    account_id: str,
    region: str,
    event_time: datetime,
    resources: list[dict[str, str]],
    additional_event_data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A record of something KMS did on its own (DeleteKey after the waiting period, RotateKey,
    DeleteExpiredKeyMaterial): CloudTrail's AwsServiceEvent shape, invoked by kms.amazonaws.com."""
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": {"accountId": account_id, "invokedBy": "kms.amazonaws.com"},
        "eventTime": event_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "kms.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "kms.amazonaws.com",
        "userAgent": "kms.amazonaws.com",
        "requestParameters": None,
        "responseElements": None,
        "eventID": uids.uuid4(),
        "readOnly": False,
        "resources": resources,
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if additional_event_data:
        event["additionalEventData"] = dict(additional_event_data)
    return event
