"""The awsJson1_1 codec (KMS; CloudTrail later): `X-Amz-Target: <prefix>.<Operation>`, JSON bodies.

Requests must carry `Content-Type: application/x-amz-json-1.1` (1.0 is accepted too, as the two
differ only in error details); anything else is a 415 `UnsupportedMediaTypeException`. An empty
body is `{}`; a body that is not a JSON object is a `SerializationException`. Errors are
`{"__type": code, "message": text}` with the code in `x-amzn-ErrorType` as well (sigv4.md WIRE-003).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import ServiceModel

from keystead.errors import (
    KeysteadError,
    SerializationError,
    UnknownOperationError,
    UnsupportedMediaTypeError,
)
from keystead.protocol.base import OperationCall, request_id_header, snake_name, validate
from keystead.protocol.json_input import JsonDecoderBuilder
from keystead.protocol.json_output import JsonEncoderBuilder
from keystead.protocol.validation import Validator, ValidatorBuilder
from keystead.types import HttpRequest, HttpResponse

ACCEPTED_CONTENT_TYPES = frozenset({"application/x-amz-json-1.1", "application/x-amz-json-1.0"})


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python's parser accepts them unless told otherwise.
    raise ValueError(f"invalid JSON constant {name}")


# Built once: json.dumps/json.loads with any keyword build a fresh encoder/decoder per call,
# which is measurable at thousands of requests per second. Output is identical.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


@dataclass(frozen=True, slots=True)
class _JsonOperation:
    name: str
    decode: Callable[[Any], dict[str, Any]] | None
    validator: Validator | None
    encode: Callable[[Mapping[str, Any]], dict[str, Any]] | None
    auth_type: str | None


class JsonCodec:
    """A ServiceCodec for one awsJson service, with every operation's walkers built up front."""

    is_query = False

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.service = model.signing_name
        self.target_prefix: str = model.metadata["targetPrefix"]
        self.content_type = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.1')}"
        decoders = JsonDecoderBuilder(snake_name)
        encoders = JsonEncoderBuilder(snake_name)
        validators = ValidatorBuilder(snake_name)
        self._operations: dict[str, _JsonOperation] = {}
        for name in model.operation_names:
            op = model.operation_model(name)
            input_shape, output_shape = op.input_shape, op.output_shape
            self._operations[name] = _JsonOperation(
                name=name,
                decode=decoders.build(input_shape) if input_shape is not None else None,
                validator=validators.build(input_shape) if input_shape is not None else None,
                encode=encoders.build(output_shape) if output_shape is not None else None,
                auth_type=op.auth_type,
            )

    def operation_for_target(self, target: str | None) -> str:
        """The operation an `X-Amz-Target` names.

        Raises:
            UnknownOperationError: no target, another service's prefix or an unknown operation.
        """
        if target is not None:
            prefix, _, operation = target.rpartition(".")
            if prefix == self.target_prefix and operation in self._operations:
                return operation
        raise UnknownOperationError()

    def parse(self, request: HttpRequest) -> OperationCall:
        """Parse and validate an awsJson request.

        Raises:
            UnknownOperationError: the target names no operation of this service.
            UnsupportedMediaTypeError: the content type is not awsJson.
            SerializationError: the body is not a JSON object of the right member types.
            ValidationError: model constraints are violated.
        """
        operation = self._operations[self.operation_for_target(request.header("x-amz-target"))]
        content_type = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
        if content_type not in ACCEPTED_CONTENT_TYPES:
            raise UnsupportedMediaTypeError(f"Unsupported Media Type: {content_type or 'none'}")
        body = self._load_body(request.body)
        params = operation.decode(body) if operation.decode is not None else {}
        validate(operation.validator, params)
        return OperationCall(self.service, operation.name, params)

    @staticmethod
    def _load_body(raw: bytes) -> Any:
        if not raw.strip():
            return {}
        try:
            # What json.loads(raw, parse_constant=...) does, minus building a decoder per call.
            text = raw if isinstance(raw, str) else raw.decode(json.detect_encoding(raw), "surrogatepass")
            if text.startswith("\ufeff"):
                raise ValueError("Unexpected UTF-8 BOM")  # as json.loads rejects a BOM in a str
            body = _DECODER.decode(text)
        except (ValueError, UnicodeDecodeError):
            raise SerializationError("The request body is not valid JSON") from None
        if isinstance(body, list):
            raise SerializationError("Start of list found where not expected")
        if not isinstance(body, dict):
            raise SerializationError("Expected a JSON object as the request body")
        return body

    def render_result(self, operation: str, result: Mapping[str, Any], request_id: str) -> HttpResponse:
        """Render a successful result as a 200 JSON response."""
        encode = self._operations[operation].encode
        payload = encode(result) if encode is not None else {}
        body = _ENCODER.encode(payload).encode("utf-8")
        headers = (("Content-Type", self.content_type), request_id_header(request_id))
        return HttpResponse(200, headers, body)

    def render_error(self, error: KeysteadError, request_id: str) -> HttpResponse:
        """Render an error as `{"__type", "message"}` with `x-amzn-ErrorType`."""
        code = error.wire_code(False)
        payload: dict[str, str] = {"__type": code}
        if error.message:
            # AWS leaves the message out when there is none (e.g. UnknownOperationException).
            payload["message"] = error.message
        body = _ENCODER.encode(payload).encode("utf-8")
        headers = (
            ("Content-Type", self.content_type),
            request_id_header(request_id),
            ("x-amzn-ErrorType", code),
        )
        return HttpResponse(error.wire_status(False), headers, body)

    def auth_type(self, operation: str) -> str | None:
        """The model's auth type of an operation ("none" for unsigned ones), or None.

        Raises:
            KeyError: the operation is not in the model.
        """
        return self._operations[operation].auth_type
