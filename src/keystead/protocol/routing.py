"""Load the codecs from botocore's models, and tell which service a request is for.

Routing looks only at the request's shape, never at its signature: `X-Amz-Target` names an
awsJson service by its target prefix (`TrentService` -> kms); otherwise the awsQuery `Version`
parameter does (2010-05-08 -> iam, 2011-06-15 -> sts). The unsigned STS calls are routed the
same way, and `operation_auth_type` tells the auth layer not to expect a signature for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from botocore.loaders import Loader
from botocore.model import ServiceModel

from keystead.errors import MissingParameterError, UnknownOperationError
from keystead.protocol.awsjson import JsonCodec
from keystead.protocol.awsquery import IAM_URL_ENCODED_SHAPES, QueryCodec
from keystead.protocol.base import ServiceCodec
from keystead.protocol.ec2 import Ec2Codec
from keystead.protocol.query_input import form_parameters
from keystead.types import HttpRequest

# The credential scope names the service even before the signature is checked; only used to
# pick the envelope of an error for a request that could not be routed.
_SCOPE_SERVICE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]+/([a-z0-9-]+)/aws4_request")
_QUERY_SCOPE_SERVICE = re.compile(
    r"X-Amz-Credential=[^&/]+(?:/|%2F)\d{8}(?:/|%2F)[^&/%]+(?:/|%2F)([a-z0-9-]+)"
)


def load_codecs(loader: Loader | None = None) -> dict[str, ServiceCodec]:
    """Build the kms, iam, sts and ec2 (a subset) codecs from botocore's models (once, at start-up).

    Raises:
        botocore.exceptions.DataNotFoundError: the installed botocore lacks one of the models.
    """
    loader = loader or Loader()

    def model(name: str) -> ServiceModel:
        return ServiceModel(loader.load_service_model(name, "service-2"), service_name=name)

    return {
        "kms": JsonCodec(model("kms")),
        "iam": QueryCodec(model("iam"), url_encoded_shapes=IAM_URL_ENCODED_SHAPES),
        "sts": QueryCodec(model("sts")),
        "ec2": Ec2Codec(model("ec2")),  # the VPC endpoint subset only
        "cloudtrail": JsonCodec(model("cloudtrail")),  # LookupEvents only
    }


def _content_type(request: HttpRequest) -> str:
    return (request.header("content-type") or "").split(";", 1)[0].strip().lower()


def route(request: HttpRequest, codecs: Mapping[str, ServiceCodec]) -> ServiceCodec:
    """The codec of the service a request is for, judged without authentication.

    Raises:
        UnknownOperationError: an unknown target prefix, a JSON request without a target, or a
            Version that no service has.
        MissingParameterError: a query request without Action or Version.
        UnsupportedMediaTypeError, SerializationError: a query body that cannot be read.
    """
    target = request.header("x-amz-target")
    if target is not None or _content_type(request).startswith("application/x-amz-json"):
        prefix = (target or "").rpartition(".")[0]
        for codec in codecs.values():
            if isinstance(codec, JsonCodec) and codec.target_prefix == prefix:
                return codec
        raise UnknownOperationError()
    params = form_parameters(request)
    action = params.get("Action")
    if not action:
        raise MissingParameterError("The request must contain the parameter Action")
    version = params.get("Version")
    if not version:
        raise MissingParameterError("The request must contain the parameter Version")
    for codec in codecs.values():
        if isinstance(codec, QueryCodec) and codec.api_version == version:
            return codec
    raise UnknownOperationError(f"Could not find operation {action} for version {version}")


def codec_for_error(request: HttpRequest, codecs: Mapping[str, ServiceCodec]) -> ServiceCodec:
    """The codec whose envelope best suits an error about a request that `route` rejected.

    Raises:
        LookupError: `codecs` is empty.
    """
    json_like = request.header("x-amz-target") is not None or _content_type(request).startswith(
        "application/x-amz-json"
    )
    scope = _SCOPE_SERVICE.search(request.header("authorization") or "") or _QUERY_SCOPE_SERVICE.search(
        request.query_string
    )
    if scope is not None and scope.group(1) in codecs and codecs[scope.group(1)].is_query != json_like:
        return codecs[scope.group(1)]
    for codec in codecs.values():
        if codec.is_query != json_like:
            return codec
    return next(iter(codecs.values()))


def operation_auth_type(codec: ServiceCodec, operation: str) -> str | None:
    """The model's auth type of an operation: "none" for unsigned ones (AssumeRoleWithWebIdentity).

    Raises:
        KeyError: the operation is not in the codec's model.
    """
    return codec.auth_type(operation)
