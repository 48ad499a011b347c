"""The one enforcement pipeline every request passes through (DESIGN.md §3):

route → parse and validate → authenticate (SigV4) → handler (authorize → act) → audit → render.

Failures at any step become one AWS-shaped error through the codec of the request's protocol;
anything unexpected becomes a 500 without detail, logged with the request id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from keystead import uids
from keystead.api.context import Authorizer, RequestContext
from keystead.api.handlers import Handler
from keystead.audit.events import ApiCall
from keystead.audit.trail import AuditTrail
from keystead.auth.canonical import query_params
from keystead.auth.sigv4 import SigV4Verifier
from keystead.clock import Clock
from keystead.errors import InternalError, KeysteadError, UnknownOperationError, UnsupportedOperationError
from keystead.identity.credentials import CredentialResolver
from keystead.blocking import run_blocking
from keystead.protocol import ServiceCodec, codec_for_error, operation_auth_type, route
from keystead.protocol.query_input import form_parameters
from keystead.storage import Database
from keystead.types import HttpRequest, HttpResponse, NetworkContext, Principal

log = logging.getLogger(__name__)
GLOBAL_REGION = "us-east-1"  # IAM is global and signs with us-east-1


@dataclass(frozen=True, slots=True)
class Services:
    """What the pipeline needs, built once by the composition root."""

    codecs: Mapping[str, ServiceCodec]
    handlers: Mapping[str, Mapping[str, Handler]]  # service -> operation -> handler
    verifier: SigV4Verifier
    credentials: CredentialResolver
    authorizer: Authorizer
    audit: AuditTrail
    db: Database
    clock: Clock
    regions: Sequence[str]
    # Keystead's own signed GET endpoints (path -> (event name, handler)); see api/access.py.
    extensions: Mapping[str, tuple[str, Handler]] = field(default_factory=dict)


class Pipeline:
    def __init__(self, services: Services) -> None:
        self._s = services

    async def handle(self, http: HttpRequest, network: NetworkContext) -> HttpResponse:
        request_id = uids.uuid4()
        extension = self._s.extensions.get(http.raw_path.split("?", 1)[0])
        if extension is not None:
            return await self._extension(http, network, request_id, *extension)
        try:
            codec = route(http, self._s.codecs)
        except KeysteadError as error:
            # No service is known, so there is no eventSource to record it under.
            return codec_for_error(http, self._s.codecs).render_error(error, request_id)
        ctx = self._begin(http, network, codec, request_id)
        try:
            await self._prepare(http, codec, ctx)
            result = await self._handler(codec.service, ctx.call.operation).fn(ctx, dict(ctx.params))
            if not ctx.audited:
                await self._s.audit.record(ctx.audit_rows(result))
            return codec.render_result(ctx.call.operation, result, request_id)
        except KeysteadError as error:
            return await self._fail(codec, ctx, error, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return await self._fail(codec, ctx, InternalError(), request_id)

    async def _extension(
        self, http: HttpRequest, network: NetworkContext, request_id: str, operation: str, handler: Handler
    ) -> HttpResponse:
        """A Keystead extension endpoint: SigV4 for `kms`, query parameters in, JSON out, audited."""
        codec = self._s.codecs["kms"]  # errors take KMS's JSON shape
        ctx = self._begin(http, network, codec, request_id)
        ctx.call = replace(ctx.call, operation=operation, read_only=handler.read_only)
        try:
            principal, region = await self._authenticate(http, "kms", ctx)
            ctx.call = replace(ctx.call, principal=principal, region=region)
            if http.method != "GET":
                raise UnknownOperationError(f"{http.method} is not supported on {http.raw_path}")
            ctx.params = query_params(http.query_string)
            result = await handler.fn(ctx, dict(ctx.params))
            await self._s.audit.record(ctx.audit_rows(None))
            headers = (("content-type", "application/json"), ("x-amzn-RequestId", request_id))
            return HttpResponse(200, headers, json.dumps(result).encode())
        except KeysteadError as error:
            return await self._fail(codec, ctx, error, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return await self._fail(codec, ctx, InternalError(), request_id)

    def _begin(
        self, http: HttpRequest, network: NetworkContext, codec: ServiceCodec, request_id: str
    ) -> RequestContext:
        """The context of a request before anything about it is trusted: enough to audit a failure."""
        call_info = ApiCall(
            request_id=request_id,
            event_time=self._s.clock.now(),
            service=codec.service,
            operation=operation_hint(http, codec),
            region=GLOBAL_REGION,
            network=network,
            user_agent=http.header("user-agent"),
            principal=None,
            read_only=False,
            host=http.header("host"),
        )
        return RequestContext(call=call_info, params={}, db=self._s.db, authorizer=self._s.authorizer)

    async def _prepare(self, http: HttpRequest, codec: ServiceCodec, ctx: RequestContext) -> None:
        # Parse before authenticating so unsigned operations are known, but report a bad request
        # only after the signature has been checked, as AWS does.
        parse_error: KeysteadError | None = None
        try:
            call = codec.parse(http)
        except KeysteadError as error:
            parse_error = error
        else:
            ctx.params = call.params
            if call.operation != ctx.call.operation:  # the hint from X-Amz-Target usually agrees
                ctx.call = replace(ctx.call, operation=call.operation)
        # One `replace` for principal, region and read_only: ApiCall is frozen and each copy
        # costs microseconds on every request.
        changes: dict[str, object] = {}
        if parse_error is not None or operation_auth_type(codec, ctx.call.operation) != "none":
            changes["principal"], changes["region"] = await self._authenticate(http, codec.service, ctx)
        if parse_error is not None:
            ctx.call = replace(ctx.call, **changes)  # type: ignore[arg-type]
            raise parse_error
        try:
            changes["read_only"] = self._handler(codec.service, ctx.call.operation).read_only
        finally:  # an unknown operation is still recorded with its authenticated caller
            ctx.call = replace(ctx.call, **changes)  # type: ignore[arg-type]

    async def _authenticate(
        self, http: HttpRequest, service: str, ctx: RequestContext
    ) -> tuple[Principal, str]:
        verifier = self._s.verifier
        claim = verifier.extract(http)
        resolved: Principal | None = None
        try:
            verifier.check_time(claim)
            regions = (GLOBAL_REGION,) if service == "iam" else self._s.regions
            verifier.check_scope(claim, service=service, regions=regions)
            credential = await self._s.credentials.resolve(claim.access_key_id, claim.session_token)
            resolved = credential.principal
            verifier.verify(claim, http, credential.secret_access_key)
            self._s.credentials.note_use(claim.access_key_id, service, claim.region)
        except KeysteadError:
            # Failed authentication is recorded too: with the identity the key belongs to when it
            # resolved (a bad signature), otherwise in the account that owns the presented key, if any.
            ctx.call = replace(ctx.call, principal=resolved, presented_access_key_id=claim.access_key_id)
            if resolved is None:
                ctx.unauthenticated_account = await run_blocking(self._account_of_key, claim.access_key_id)
            raise
        return resolved, claim.region

    def _account_of_key(self, access_key_id: str) -> str | None:
        with self._s.db.reader() as tx:
            row = tx.get_access_key(access_key_id)
        return None if row is None else row.account_id

    def _handler(self, service: str, operation: str) -> Handler:
        handler = self._s.handlers.get(service, {}).get(operation)
        if handler is None:
            codec = self._s.codecs[service]
            if operation in codec.model.operation_names:
                raise UnsupportedOperationError(f"{operation} is not supported by this server yet.")
            raise UnknownOperationError(f"Operation {operation} is not known.")
        return handler

    async def _fail(
        self, codec: ServiceCodec, ctx: RequestContext, error: KeysteadError, request_id: str
    ) -> HttpResponse:
        if not ctx.audited:
            try:
                code = error.wire_code(codec.is_query)
                await self._s.audit.record(ctx.audit_rows(None, code, error.message))
            except Exception:
                log.exception("request %s: audit of a failure failed", request_id)
                error = InternalError()
        return codec.render_error(error, request_id)


def operation_hint(http: HttpRequest, codec: ServiceCodec) -> str:
    """The operation a request names, read without parsing it (for the record of a bad request)."""
    if codec.is_query:
        try:
            return form_parameters(http).get("Action") or ""
        except KeysteadError:
            return ""
    return (http.header("x-amz-target") or "").rpartition(".")[2]
