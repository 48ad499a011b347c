"""A bare ASGI "hello" app: the ceiling for any app on the same uvicorn stack.

It reads the whole request body (as Keystead must) and returns a small JSON body, so the difference
between this and Keystead is the cost of Keystead's own work. Run it with
``python -m bench.bare_app --port P``; it uses the server settings in :data:`SERVER_SETTINGS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The uvicorn settings `keystead serve` passes (src/keystead/cli/main.py), with one worker, so the
# comparison is like for like (DESIGN.md §7).
SERVER_SETTINGS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "workers": 1,
    "access_log": False,
    "log_level": "warning",
    "timeout_graceful_shutdown": 5,
}

_BODY = b'{"hello":"world"}'
_HEADERS = [
    (b"content-type", b"application/x-amz-json-1.1"),
    (b"content-length", str(len(_BODY)).encode("ascii")),
]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer every HTTP request with 200 and a small JSON body after draining the request body."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    more_body = True
    # Bounded by the request size: each message carries at least one chunk of the body.
    while more_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more_body = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge uvicorn's lifespan start and shutdown (Keystead's app runs with lifespan on too)."""
    for _ in range(2):
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def main(argv: list[str] | None = None) -> int:
    """Serve :func:`app` on 127.0.0.1 with the Keystead server settings."""
    parser = argparse.ArgumentParser(description="bare ASGI hello app for the benchmark")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run("bench.bare_app:app", host="127.0.0.1", port=args.port, **SERVER_SETTINGS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
