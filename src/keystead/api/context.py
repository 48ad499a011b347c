"""Everything a handler knows about the request it serves, and the two things it may ask:
`authorize` (the single enforcement seam) and `mutate` (a write with its audit event)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from keystead.audit.events import ApiCall, build_event
from keystead.audit.trail import event_row
from keystead.blocking import run_blocking
from keystead.storage import Database, Tx
from keystead.types import NetworkContext, Principal

T = TypeVar("T")
Result = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ResourceAccess:
    """One resource an operation touches, as authorization and the audit trail need it."""

    arn: str
    account_id: str
    type: str  # CloudTrail resource type, e.g. AWS::KMS::Key
    policy: str | None = None  # the resource-based policy (key policy), if any
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
                tx.append_audit_events([self.audit_row(result)])
            return result

        result = await run_blocking(work)
        self.audited = True
        return result

    def audit_row(
        self, response: Mapping[str, Any] | None, error_code: str | None = None, error_message: str | None = None
    ) -> Any:
        resources = [{"accountId": r.account_id, "type": r.type, "ARN": r.arn} for r in self.resources]
        event = build_event(
            self.call,
            self.params,
            None if self.call.read_only else response,
            error_code=error_code,
            error_message=error_message,
            resources=resources,
        )
        account = self.call.principal.account_id if self.call.principal else ""
        return event_row(event, account, self.call.event_time)
