"""The ASGI application: turns HTTP into HttpRequest, hands it to the pipeline, sends the answer.

Kept free of framework layers on purpose: the hot path is this function plus the pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from keystead.api.pipeline import Pipeline
from keystead.server.background import BackgroundTasks
from keystead.server.imds import with_imds
from keystead.server.listeners import NetworkTagger, tagger_from_env
from keystead.server.runtime import build_pipeline, open_runtime, settings_from_env
from keystead.types import HttpRequest

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger(__name__)
# KMS's largest request (a 4 KB plaintext, base64, plus a policy of 32 KB) fits well inside this.
MAX_BODY_BYTES = 1024 * 1024
_TOO_LARGE = b'{"__type":"SerializationException","message":"Request body too large"}'


class KeysteadApp:
    def __init__(
        self, pipeline: Pipeline, *, vpc_endpoint_id: str | None = None, vpc_id: str | None = None,
        network: NetworkTagger | None = None, background: BackgroundTasks | None = None,
    ) -> None:
        """`network` tells the listeners apart; without it every request is tagged with the
        given endpoint (or none)."""
        self._pipeline = pipeline
        self._background = background
        default = (vpc_endpoint_id, vpc_id) if vpc_endpoint_id is not None else None
        self._network = network or NetworkTagger(default_endpoint=default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self._background)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        if body is None:
            await _send(send, 413, [(b"content-type", b"application/x-amz-json-1.1")], _TOO_LARGE)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        request = HttpRequest(
            method=scope["method"],
            raw_path=raw_path.decode("latin-1"),
            query_string=scope["query_string"].decode("latin-1"),
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]),
            body=body,
        )
        response = await self._pipeline.handle(request, self._network.context(scope))
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        await _send(send, response.status, headers, response.body)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send, background: BackgroundTasks | None = None) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if background is not None:
                background.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if background is not None:
                await background.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Factory for uvicorn workers: settings come from KEYSTEAD_* variables."""
    runtime = open_runtime(settings_from_env())
    background: list[BackgroundTasks] = []
    pipeline = build_pipeline(runtime, on_background=background.append)
    app = KeysteadApp(pipeline, network=tagger_from_env(), background=background[0])
    return with_imds(app, runtime)  # the --imds listeners' ports go to the metadata service
