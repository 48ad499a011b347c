"""The ec2 query dialect: the awsQuery input rules with EC2's names, and EC2's own envelopes.

Only the operations Keystead serves are built (the ec2 model has hundreds). Responses carry no
`<OpResult>` wrapper: `<OpResponse xmlns=ns><requestId>..</requestId>members..</OpResponse>`.
Errors are `<Response><Errors><Error><Code>..</Code><Message>..</Message></Error></Errors>
<RequestID>..</RequestID></Response>` (botocore's EC2QueryParser reads exactly these), and
EC2 spells the common errors its own way: UnauthorizedOperation, AuthFailure,
InvalidParameterValue, InvalidAction, UnsupportedOperation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from botocore.model import ServiceModel

from keystead.errors import (
    AccessDeniedError,
    AuthenticationError,
    KeysteadError,
    MissingParameterError,
    RequestError,
    ServerError,
    ServiceError,
    UnknownOperationError,
    UnsupportedOperationError,
)
from keystead.protocol.awsquery import QueryCodec
from keystead.protocol.base import OperationCall
from keystead.protocol.query_input import EC2, form_parameters
from keystead.protocol.xml_output import xml_text
from keystead.types import HttpRequest, HttpResponse

# The operations served (the VPC endpoint subset, see api/ec2.py).
EC2_OPERATIONS = ("DescribeVpcEndpoints", "ModifyVpcEndpoint")
_UNAUTHORIZED_PREFIX = "You are not authorized to perform this operation. "


def ec2_error(error: KeysteadError) -> tuple[str, int, str]:
    """EC2's code, status and message for an error of the shared hierarchy."""
    if isinstance(error, AccessDeniedError):
        return "UnauthorizedOperation", 403, _UNAUTHORIZED_PREFIX + error.message
    if isinstance(error, AuthenticationError):
        return "AuthFailure", 401, error.message
    if isinstance(error, UnsupportedOperationError):
        return "UnsupportedOperation", 400, error.message
    if isinstance(error, ServiceError):
        return error.code, error.status, error.message
    if isinstance(error, UnknownOperationError):
        return "InvalidAction", 400, error.message
    if isinstance(error, MissingParameterError):
        return "MissingParameter", 400, error.message
    if isinstance(error, RequestError):
        return "InvalidParameterValue", 400, error.message
    if isinstance(error, ServerError):
        return "InternalError", 500, "An internal error has occurred"
    return error.wire_code(True), error.wire_status(True), error.message


class Ec2Codec(QueryCodec):
    """A ServiceCodec for the served subset of ec2 (Version 2016-11-15)."""

    def __init__(self, model: ServiceModel, operations: Collection[str] = EC2_OPERATIONS) -> None:
        super().__init__(model, dialect=EC2, operations=operations)
        # AWS writes the namespace with a trailing slash; the model has none.
        self.xml_namespace = self.xml_namespace.rstrip("/") + "/"

    def parse(self, request: HttpRequest) -> OperationCall:
        """Parse and validate an ec2 request.

        Raises:
            UnsupportedOperationError: an ec2 operation Keystead does not serve.
            MissingParameterError, UnknownOperationError, UnsupportedMediaTypeError,
            SerializationError, ValidationError: as QueryCodec.parse.
        """
        params = form_parameters(request)
        action = params.get("Action") or ""
        if (
            action not in self._operations
            and action in self.model.operation_names
            and params.get("Version") == self.api_version
        ):
            raise UnsupportedOperationError(f"The operation {action} is not supported by Keystead.")
        return super().parse(request)

    def render_result(self, operation: str, result: Mapping[str, Any], request_id: str) -> HttpResponse:
        """Render a successful result as `<OpResponse><requestId/>members</OpResponse>`."""
        plan = self._operations[operation]
        out = [
            f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation}Response xmlns="{self.xml_namespace}">',
            f"<requestId>{xml_text(request_id)}</requestId>",
        ]
        if plan.write_result is not None:
            plan.write_result(result, out)
        out.append(f"</{operation}Response>")
        return self._response(200, out, request_id)

    def render_error(self, error: KeysteadError, request_id: str) -> HttpResponse:
        """Render an error as EC2's `<Response><Errors>` document."""
        code, status, message = ec2_error(error)
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>',
            f"<Code>{xml_text(code)}</Code><Message>{xml_text(message)}</Message>",
            f"</Error></Errors><RequestID>{xml_text(request_id)}</RequestID></Response>",
        ]
        return self._response(status, out, request_id)

