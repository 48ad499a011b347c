"""Everything a handler knows about the request it serves, and the two things it may ask:
`authorize` (the single enforcement seam) and `mutate` (a write with its audit event)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from keystead.audit.events import ApiCall, Outcome, build_events
from keystead.audit.trail import event_row
from keystead.blocking import run_blocking
from keystead.policy import PolicyKind
from keystead.storage import AuditEventRow, Database, Tx
from keystead.types import NetworkContext, Principal

T = TypeVar("T")
DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
Result = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ResourceAccess:
    """One resource an operation touches, as authorization and the audit trail need it."""

    arn: str
    account_id: str
    type: str  # CloudTrail resource type, e.g. AWS::KMS::Key
    policy: str | None = None  # the resource-based policy (key policy), if any
    policy_kind: PolicyKind = PolicyKind.RESOURCE  # TRUST for a role's trust policy (AssumeRole*)
    # Condition keys this resource contributes (aws:ResourceTag/*, kms:KeySpec, ...).
    context: Mapping[str, str | list[str]] = field(default_factory=dict)


class Authorizer(Protocol):
    async def authorize(
        self,
        ctx: "RequestContext",
        action: str,
        resource: ResourceAccess | None,
        extra_context: Mapping[str, str | list[str]] | None = None,
    ) -> None:
        """Allow, or raise AccessDeniedError with AWS's message."""
        ...


@dataclass(slots=True)
class RequestContext:
    call: ApiCall
    params: Mapping[str, Any]
    db: Database
    authorizer: Authorizer
    resources: list[ResourceAccess] = field(default_factory=list)
    audited: bool = False
    # The account owning the access key a request presented when authentication failed before
    # the key resolved to a principal; that account receives the failure's record.
    unauthenticated_account: str | None = None

    @property
    def principal(self) -> Principal:
        assert self.call.principal is not None, "only unsigned operations run without a principal"
        return self.call.principal

    @property
    def region(self) -> str:
        return self.call.region

    @property
    def network(self) -> NetworkContext:
        return self.call.network

    async def authorize(
        self,
        action: str,
        resource: ResourceAccess | None = None,
        extra_context: Mapping[str, str | list[str]] | None = None,
    ) -> None:
        """Raises AccessDeniedError unless the caller may perform `action` on `resource`."""
        if resource is not None and all(r.arn != resource.arn for r in self.resources):
            self.resources.append(resource)
        await self.authorizer.authorize(self, action, resource, extra_context)

    async def mutate(self, change: Callable[[Tx], Result]) -> Result:
        """Run a change and record its audit event in the same transaction."""

        def work() -> Result:
            with self.db.transaction() as tx:
                result = change(tx)
                tx.append_audit_events(self.audit_rows(result))
            return result

        result = await run_blocking(work)
        self.audited = True
        return result

    def audit_rows(
        self,
        response: Mapping[str, Any] | None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> list[AuditEventRow]:
        """The records of this request: one in the caller's account, and one in each other account
        whose resource it touched (AWS KMS logs cross-account calls in both accounts, except those
        denied access, which only the caller's account sees)."""
        resources = [{"accountId": r.account_id, "type": r.type, "ARN": r.arn} for r in self.resources]
        caller = self.call.principal.account_id if self.call.principal else self.unauthenticated_account
        recipients: list[str | None] = [caller] if caller is not None else []
        if error_code not in DENIED_CODES:
            for resource in self.resources:
                if resource.account_id not in recipients:
                    recipients.append(resource.account_id)
        outcome = Outcome(None if self.call.read_only else response, error_code, error_message)
        events = build_events(self.call, self.params, outcome, resources, recipients or [None])
        return [event_row(event, self.call.event_time) for event in events]
