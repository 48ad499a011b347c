"""What every operation handler looks like, and how a service's handlers are listed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from keystead.api.context import RequestContext

HandlerFn = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Handler:
    fn: HandlerFn
    read_only: bool  # CloudTrail's readOnly; read-only calls are audited by group commit


Handlers = dict[str, Handler]
