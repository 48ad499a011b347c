"""CloudTrail-shaped events: who did what, from where, with what result — never secrets.

Request parameters and response elements are recorded with camelCase names as CloudTrail does,
minus every blob (plaintext, ciphertext, data keys) and every member named in SECRET_MEMBERS.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keystead.types import NetworkContext, Principal

EVENT_VERSION = "1.09"
SECRET_MEMBERS = frozenset(
    {
        "plaintext", "ciphertext_blob", "password", "new_password", "old_password",
        "secret_access_key", "session_token", "private_key_plaintext", "private_key_ciphertext_blob",
        "web_identity_token", "saml_assertion", "token_code", "authentication_code1",
        "authentication_code2", "encrypted_key_material", "import_token", "message", "signature",
        "mac", "shared_secret", "credentials", "base32_string_seed", "qr_code_png",
    }
)


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


def build_event(
    call: ApiCall,
    request_parameters: Mapping[str, Any] | None,
    response_elements: Mapping[str, Any] | None,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
    resources: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """One CloudTrail record for an API call (success or failure)."""
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": _user_identity(call.principal),
        "eventTime": call.event_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{call.service}.amazonaws.com",
        "eventName": call.operation,
        "awsRegion": call.region,
        "sourceIPAddress": call.network.source_ip,
        "userAgent": call.user_agent,
        "requestParameters": _redact(request_parameters) if request_parameters is not None else None,
        "responseElements": _redact(response_elements) if response_elements is not None else None,
        "requestID": call.request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": call.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": call.principal.account_id if call.principal else None,
        "eventCategory": "Management",
    }
    if resources:
        event["resources"] = resources
    if error_code is not None:
        event["errorCode"] = error_code
        event["errorMessage"] = error_message
    if call.network.vpc_endpoint_id:
        event["vpcEndpointId"] = call.network.vpc_endpoint_id
    if call.network.secure_transport:
        event["tlsDetails"] = {"tlsVersion": "TLSv1.2"}
    return event


def _user_identity(principal: Principal | None) -> dict[str, Any]:
    if principal is None:
        return {"type": "Unknown"}
    identity: dict[str, Any] = {
        "type": "Root" if principal.is_root else principal.type.value,
        "principalId": principal.principal_id,
        "arn": principal.arn,
        "accountId": principal.account_id,
    }
    if principal.access_key_id:
        identity["accessKeyId"] = principal.access_key_id
    if principal.name and not principal.is_root:
        identity["userName"] = principal.name
    return identity


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _redact(value: Any, member: str | None = None) -> Any:
    if isinstance(value, Mapping):
        # Encryption contexts and tags are maps of caller data: keep their keys as given.
        keep_keys = member in ("encryption_context", "tags")
        return {
            (key if keep_keys else _camel(key)): _redact(item, key)
            for key, item in value.items()
            if keep_keys or (key not in SECRET_MEMBERS and not isinstance(item, bytes | bytearray))
        }
    if isinstance(value, list | tuple):
        return [_redact(item, member) for item in value]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value
