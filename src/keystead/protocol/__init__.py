"""Wire protocols: bytes <-> operation calls and results, driven by botocore's service models.

The models are loaded from the installed botocore at start-up (never copied) and every
operation's decoder, validator and encoder is built then, so a request costs a dict lookup plus
one walk over its own values. awsJson1_1 serves KMS; awsQuery/XML serves IAM and STS.
"""

from keystead.protocol.awsjson import JsonCodec
from keystead.protocol.awsquery import QueryCodec
from keystead.protocol.base import OperationCall, ServiceCodec
from keystead.protocol.routing import codec_for_error, load_codecs, operation_auth_type, route

__all__ = [
    "JsonCodec",
    "OperationCall",
    "QueryCodec",
    "ServiceCodec",
    "codec_for_error",
    "load_codecs",
    "operation_auth_type",
    "route",
]
