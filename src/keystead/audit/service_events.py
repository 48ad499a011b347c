"""Audit records of what the service does by itself: automatic rotation, scheduled deletion,
expiry of imported key material. CloudTrail records these as `eventType: AwsServiceEvent` with
`userIdentity.invokedBy` naming the service (see KMS's RotateKey, DeleteKey and
DeleteExpiredKeyMaterial log examples).

Use inside the transaction that makes the change, so the change and its record commit together:

    with db.transaction() as tx:
        tx.delete_key(...)
        tx.append_audit_events([kms_service_event_row("DeleteKey", key_arn, account, region, now)])

Appending through `Tx` extends the hash chain like every other event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from keystead.audit.events import service_event
from keystead.audit.trail import event_row
from keystead.storage import AuditEventRow

KMS_KEY_RESOURCE_TYPE = "AWS::KMS::Key"


def service_event_row(
    *,
    service: str,
    event_name: str,
    account_id: str,
    region: str,
    at: datetime,
    resources: list[Mapping[str, str]] | None = None,
    additional_event_data: Mapping[str, Any] | None = None,
) -> AuditEventRow:
    """The stored record of one background action in `account_id` (eventType AwsServiceEvent)."""
    event = service_event(
        service=service,
        event_name=event_name,
        account_id=account_id,
        region=region,
        event_time=at,
        resources=resources or (),
        additional_event_data=additional_event_data,
    )
    return event_row(event, at)


def kms_service_event_row(
    event_name: str,
    key_arn: str,
    account_id: str,
    region: str,
    at: datetime,
    additional_event_data: Mapping[str, Any] | None = None,
) -> AuditEventRow:
    """A KMS background action on one key: RotateKey, DeleteKey, DeleteExpiredKeyMaterial, ..."""
    resource = {"accountId": account_id, "type": KMS_KEY_RESOURCE_TYPE, "ARN": key_arn}
    return service_event_row(
        service="kms",
        event_name=event_name,
        account_id=account_id,
        region=region,
        at=at,
        resources=[resource],
        additional_event_data=additional_event_data,
    )
