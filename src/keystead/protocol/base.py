"""The protocol layer's contract: an operation call, and the codec each wire protocol implements."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import botocore
from botocore.model import ServiceModel

from keystead.errors import KeysteadError
from keystead.protocol.validation import Validator, Violations
from keystead.types import HttpRequest, HttpResponse


@dataclass(frozen=True, slots=True)
class OperationCall:
    """One parsed and validated request.

    `params` uses snake_case member names (botocore's `xform_name`) at every structure level; lists
    are lists, maps are dicts with their keys untouched, blobs bytes, timestamps aware datetimes.
    """

    service: str  # the signing name: "kms" | "iam" | "sts"
    operation: str  # botocore's operation name, e.g. "Encrypt"
    params: dict[str, Any]


class ServiceCodec(Protocol):
    """Turns one service's requests into OperationCalls and results or errors into responses."""

    service: str
    is_query: bool
    model: ServiceModel

    def parse(self, request: HttpRequest) -> OperationCall:
        """Parse and validate a request against the model.

        Raises:
            UnknownOperationError, SerializationError, UnsupportedMediaTypeError, ValidationError,
            MissingParameterError: the request is not a valid call of this service.
        """
        ...

    def render_result(self, operation: str, result: Mapping[str, Any], request_id: str) -> HttpResponse:
        """Render an operation's result (snake_case members) as the wire response."""
        ...

    def render_error(self, error: KeysteadError, request_id: str) -> HttpResponse:
        """Render any error as this protocol spells it."""
        ...

    def auth_type(self, operation: str) -> str | None:
        """The model's auth type of an operation ("none" for unsigned ones), or None."""
        ...


@functools.cache
def snake_name(name: str) -> str:
    """The Python name of a model member: botocore's own `xform_name`."""
    return str(botocore.xform_name(name))


def validate(validator: Validator | None, params: dict[str, Any]) -> None:
    """Check decoded params against the model's constraints.

    Raises:
        ValidationError: one or more constraints are violated (all of them listed, up to ten).
    """
    if validator is None:
        return
    violations = Violations()
    validator.check(params, "", violations)
    violations.raise_if_any()


def request_id_header(request_id: str) -> tuple[str, str]:
    return ("x-amzn-RequestId", request_id)
