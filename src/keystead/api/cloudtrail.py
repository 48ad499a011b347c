"""CloudTrail's LookupEvents (awsJson1_1, `CloudTrail_20131101.LookupEvents`): an account reads
its own audit trail. `cloudtrail:LookupEvents` is an IAM-only action (no resource-level
permissions: the resource is "*"), and a caller only ever sees its own account's records.
"""

from __future__ import annotations

from typing import Any

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.audit.lookup import DEFAULT_MAX_RESULTS, LookupRequestError, LookupQuery, event_summary, lookup
from keystead.blocking import run_blocking
from keystead.errors import InvalidLookupAttributesError, InvalidNextTokenError, InvalidTimeRangeError
from keystead.storage import Database

_ERRORS = {
    "time": InvalidTimeRangeError, "token": InvalidNextTokenError, "attributes": InvalidLookupAttributesError
}


def _attribute(params: dict[str, Any]) -> tuple[str, str] | None:
    attributes = params.get("lookup_attributes") or []
    if len(attributes) > 1:
        # LookupEvents takes a single lookup attribute per call.
        raise InvalidLookupAttributesError("You cannot specify more than one lookup attribute.")
    if not attributes:
        return None
    key, value = attributes[0]["attribute_key"], attributes[0]["attribute_value"]
    if key == "ReadOnly" and value not in ("true", "false"):
        raise InvalidLookupAttributesError("The ReadOnly lookup attribute must be true or false.")
    return key, value


def cloudtrail_handlers(db: Database) -> Handlers:
    """The CloudTrail operations this server answers."""

    async def lookup_events(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await ctx.authorize("cloudtrail:LookupEvents")
        query = LookupQuery(
            account_id=ctx.principal.account_id,
            attribute=_attribute(params),
            start=params.get("start_time"),
            end=params.get("end_time"),
            max_results=params.get("max_results") or DEFAULT_MAX_RESULTS,
            next_token=params.get("next_token"),
        )
        if params.get("event_category") is not None:
            # The only category is "insight", and this server records no Insights events.
            return {"events": []}
        try:
            page = await run_blocking(lookup, db, query)
        except LookupRequestError as error:
            raise _ERRORS[error.kind](error.message) from None
        result: dict[str, Any] = {"events": [event_summary(row) for row in page.events]}
        if page.next_token is not None:
            result["next_token"] = page.next_token
        return result

    return {"LookupEvents": Handler(lookup_events, read_only=True)}
