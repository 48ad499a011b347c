"""Wrap the cryptographic handlers so each success notes the key's last use (GetKeyLastUsage).

Only the operations AWS tracks are wrapped (the model's KeyLastUsageTrackingOperation enum). A
note is an in-memory write; the background task flushes notes in batches.
"""

from __future__ import annotations

from dataclasses import replace

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, HandlerFn, Handlers
from keystead.api.kms.common import KEY_RESOURCE_TYPE, Params, Result
from keystead.keystore.usage import KeyUsageTracker

TRACKED_OPERATIONS = frozenset({
    "Decrypt", "DeriveSharedSecret", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext", "GenerateMac",
    "ReEncrypt", "Sign", "Verify", "VerifyMac",
})


def track_usage(handlers: Handlers, tracker: KeyUsageTracker) -> Handlers:
    """The same handlers, the tracked operations among them noting their keys' use on success."""
    return {
        name: replace(handler, fn=_tracked(name, handler.fn, tracker)) if name in TRACKED_OPERATIONS else handler
        for name, handler in handlers.items()
    }


def _tracked(operation: str, fn: HandlerFn, tracker: KeyUsageTracker) -> HandlerFn:
    async def run(ctx: RequestContext, params: Params) -> Result:
        result = await fn(ctx, params)
        # ReEncrypt touches two keys and both count as used, as in AWS.
        for resource in ctx.resources:
            if resource.type == KEY_RESOURCE_TYPE:
                key_id = resource.arn.rsplit("/", 1)[-1]
                tracker.note(key_id, operation, ctx.call.event_time, ctx.call.request_id)
        return result

    return run
