"""The awsQuery codec (IAM, STS; ec2 later with its own dialect and envelope).

Requests are `Action=<Op>&Version=<api version>&...` in a form-encoded POST body or a GET query
string. An unknown Action, or a Version this service does not have, is `InvalidAction`
("Could not find operation X for version Y", as AWS words it); no Action is `MissingParameter`.
Responses are `<OpResponse xmlns=ns><OpResult>..</OpResult><ResponseMetadata><RequestId>..
</RequestId></ResponseMetadata></OpResponse>`; errors `<ErrorResponse xmlns=ns><Error><Type>
Sender|Receiver</Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId>
</ErrorResponse>` (sigv4.md WIRE-010..012).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import ServiceModel

from keystead.errors import KeysteadError, MissingParameterError, UnknownOperationError
from keystead.protocol.base import OperationCall, request_id_header, snake_name, validate
from keystead.protocol.query_input import QUERY, QueryDecoderBuilder, QueryDialect, form_parameters
from keystead.protocol.validation import Validator, ValidatorBuilder
from keystead.protocol.xml_output import XmlWriterBuilder, xml_text
from keystead.types import HttpRequest, HttpResponse

XML_CONTENT_TYPE = "text/xml"

# Shapes whose strings IAM sends percent-encoded: every policy document in an IAM response.
IAM_URL_ENCODED_SHAPES = frozenset({"policyDocumentType"})


@dataclass(frozen=True, slots=True)
class _QueryOperation:
    name: str
    decode: Callable[[dict[str, str]], dict[str, Any]] | None
    validator: Validator | None
    result_wrapper: str | None
    write_result: Callable[[Mapping[str, Any], list[str]], None] | None
    auth_type: str | None


class QueryCodec:
    """A ServiceCodec for one awsQuery service, with every operation's walkers built up front."""

    is_query = True

    def __init__(
        self,
        model: ServiceModel,
        dialect: QueryDialect = QUERY,
        url_encoded_shapes: Collection[str] = (),
        operations: Collection[str] | None = None,
    ) -> None:
        self.model = model
        self.service = model.signing_name
        self.api_version: str = model.api_version
        self.xml_namespace: str = model.metadata.get("xmlNamespace", "")
        decoders = QueryDecoderBuilder(dialect, snake_name)
        writers = XmlWriterBuilder(snake_name, url_encoded_shapes)
        validators = ValidatorBuilder(snake_name)
        self._operations: dict[str, _QueryOperation] = {}
        # A service as large as ec2 builds only the operations it serves (`operations`).
        for name in model.operation_names if operations is None else operations:
            op = model.operation_model(name)
            input_shape, output_shape = op.input_shape, op.output_shape
            self._operations[name] = _QueryOperation(
                name=name,
                decode=decoders.input_decoder(input_shape) if input_shape is not None else None,
                validator=validators.build(input_shape) if input_shape is not None else None,
                result_wrapper=output_shape.serialization.get("resultWrapper") if output_shape else None,
                write_result=writers.members_writer(output_shape) if output_shape is not None else None,
                auth_type=op.auth_type,
            )

    def parse(self, request: HttpRequest) -> OperationCall:
        """Parse and validate an awsQuery request.

        Raises:
            MissingParameterError: no Action or no Version.
            UnknownOperationError: an unknown Action or a Version other than this service's.
            UnsupportedMediaTypeError: a body that is not form-encoded.
            SerializationError: a value that is not of its member's type.
            ValidationError: model constraints are violated.
        """
        params = form_parameters(request)
        action = params.get("Action")
        if not action:
            raise MissingParameterError("The request must contain the parameter Action")
        version = params.get("Version")
        if not version:
            raise MissingParameterError("The request must contain the parameter Version")
        operation = self._operations.get(action)
        if operation is None or version != self.api_version:
            raise UnknownOperationError(f"Could not find operation {action} for version {version}")
        decoded = operation.decode(params) if operation.decode is not None else {}
        validate(operation.validator, decoded)
        return OperationCall(self.service, operation.name, decoded)

    def render_result(self, operation: str, result: Mapping[str, Any], request_id: str) -> HttpResponse:
        """Render a successful result as the `<OpResponse>` XML document."""
        plan = self._operations[operation]
        out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation}Response xmlns="{self.xml_namespace}">']
        if plan.write_result is not None:
            wrapper = plan.result_wrapper or f"{operation}Result"
            out.append(f"<{wrapper}>")
            plan.write_result(result, out)
            out.append(f"</{wrapper}>")
        out.append(
            f"<ResponseMetadata><RequestId>{xml_text(request_id)}</RequestId></ResponseMetadata>"
            f"</{operation}Response>"
        )
        return self._response(200, out, request_id)

    def render_error(self, error: KeysteadError, request_id: str) -> HttpResponse:
        """Render an error as the `<ErrorResponse>` XML document."""
        fault = "Sender" if error.sender_fault else "Receiver"
        out = [
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{self.xml_namespace}">',
            f"<Error><Type>{fault}</Type><Code>{xml_text(error.wire_code(True))}</Code>",
            f"<Message>{xml_text(error.message)}</Message></Error>",
            f"<RequestId>{xml_text(request_id)}</RequestId></ErrorResponse>",
        ]
        return self._response(error.wire_status(True), out, request_id)

    @staticmethod
    def _response(status: int, parts: list[str], request_id: str) -> HttpResponse:
        headers = (("Content-Type", XML_CONTENT_TYPE), request_id_header(request_id))
        return HttpResponse(status, headers, "".join(parts).encode("utf-8"))

    def auth_type(self, operation: str) -> str | None:
        """The model's auth type of an operation ("none" for unsigned ones), or None.

        Raises:
            KeyError: the operation is not in the model.
        """
        return self._operations[operation].auth_type
