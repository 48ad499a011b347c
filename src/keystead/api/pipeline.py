"""The one enforcement pipeline every request passes through (DESIGN.md §3):

route → parse and validate → authenticate (SigV4) → handler (authorize → act) → audit → render.

Failures at any step become one AWS-shaped error through the codec of the request's protocol;
anything unexpected becomes a 500 without detail, logged with the request id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from keystead.api.context import Authorizer, RequestContext
from keystead.api.handlers import Handler
from keystead.audit.events import ApiCall
from keystead.audit.trail import AuditTrail
from keystead.auth.sigv4 import SigV4Verifier
from keystead.clock import Clock
from keystead.errors import InternalError, KeysteadError, UnknownOperationError, UnsupportedOperationError
from keystead.identity.credentials import CredentialResolver
from keystead.protocol import ServiceCodec, codec_for_error, operation_auth_type, route
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


class Pipeline:
    def __init__(self, services: Services) -> None:
        self._s = services

    async def handle(self, http: HttpRequest, network: NetworkContext) -> HttpResponse:
        request_id = str(uuid.uuid4())
        ctx: RequestContext | None = None
        try:
            codec = route(http, self._s.codecs)
        except KeysteadError as error:
            return codec_for_error(http, self._s.codecs).render_error(error, request_id)
        try:
            ctx = await self._prepare(http, network, codec, request_id)
            result = await self._handler(codec.service, ctx.call.operation).fn(ctx, dict(ctx.params))
            if not ctx.audited:
                await self._s.audit.record(ctx.audit_row(result))
            return codec.render_result(ctx.call.operation, result, request_id)
        except KeysteadError as error:
            return await self._fail(codec, ctx, error, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return await self._fail(codec, ctx, InternalError(), request_id)

    async def _prepare(
        self, http: HttpRequest, network: NetworkContext, codec: ServiceCodec, request_id: str
    ) -> RequestContext:
        # Parse before authenticating so unsigned operations are known, but report a bad request
        # only after the signature has been checked, as AWS does.
        parse_error: KeysteadError | None = None
        params: dict[str, Any] = {}
        operation = ""
        try:
            call = codec.parse(http)
            operation, params = call.operation, call.params
        except KeysteadError as error:
            parse_error = error
        principal: Principal | None = None
        region = GLOBAL_REGION
        if parse_error is not None or operation_auth_type(codec, operation) != "none":
            principal, region = await self._authenticate(http, codec.service)
        if parse_error is not None:
            raise parse_error
        handler = self._handler(codec.service, operation)
        call_info = ApiCall(
            request_id=request_id,
            event_time=self._s.clock.now(),
            service=codec.service,
            operation=operation,
            region=region,
            network=network,
            user_agent=http.header("user-agent"),
            principal=principal,
            read_only=handler.read_only,
        )
        return RequestContext(call=call_info, params=params, db=self._s.db, authorizer=self._s.authorizer)

    async def _authenticate(self, http: HttpRequest, service: str) -> tuple[Principal, str]:
        verifier = self._s.verifier
        claim = verifier.extract(http)
        verifier.check_time(claim)
        regions = (GLOBAL_REGION,) if service == "iam" else self._s.regions
        verifier.check_scope(claim, service=service, regions=regions)
        credential = await self._s.credentials.resolve(claim.access_key_id, claim.session_token)
        verifier.verify(claim, http, credential.secret_access_key)
        return credential.principal, claim.region

    def _handler(self, service: str, operation: str) -> Handler:
        handler = self._s.handlers.get(service, {}).get(operation)
        if handler is None:
            codec = self._s.codecs[service]
            if operation in codec.model.operation_names:
                raise UnsupportedOperationError(f"{operation} is not supported by this server yet.")
            raise UnknownOperationError(f"Operation {operation} is not known.")
        return handler

    async def _fail(
        self, codec: ServiceCodec, ctx: RequestContext | None, error: KeysteadError, request_id: str
    ) -> HttpResponse:
        if ctx is not None and not ctx.audited:
            try:
                await self._s.audit.record(
                    ctx.audit_row(None, error.wire_code(codec.is_query), error.message)
                )
            except Exception:
                log.exception("request %s: audit of a failure failed", request_id)
                error = InternalError()
        return codec.render_error(error, request_id)
