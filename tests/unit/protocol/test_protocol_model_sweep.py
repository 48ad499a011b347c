"""Every operation of every model round-trips through botocore's serializers and parsers.

A value is generated for every member of every input and output shape (constraints aside: this
checks the wire mapping, the validation tests check constraints). Inputs go through botocore's
serializer and our decoder; outputs through our renderer and botocore's parser. CloudTrail
(awsJson1_1) and ec2 (its query dialect) are included to keep the codecs ready for them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from keystead.protocol import JsonCodec, QueryCodec
from keystead.protocol.awsquery import IAM_URL_ENCODED_SHAPES
from keystead.protocol.base import snake_name
from keystead.protocol.json_input import JsonDecoderBuilder
from keystead.protocol.query_input import EC2, QUERY, QueryDecoderBuilder

WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _model(service: str) -> ServiceModel:
    return ServiceModel(Loader().load_service_model(service, "service-2"), service_name=service)


_OMIT = object()


def example(shape: Shape, depth: int = 0) -> Any:
    """A value for every member of the shape (one member for unions), nested up to a depth.

    Containers deeper than the limit are left out, since an empty structure is not on the wire.
    """
    kind = shape.type_name
    if kind in ("structure", "list", "map") and depth > 5:
        return _OMIT
    if kind == "structure":
        members = list(shape.members.items())
        if shape.metadata.get("union"):
            members = members[:1]
        values = {name: example(member, depth + 1) for name, member in members}
        kept = {name: value for name, value in values.items() if value is not _OMIT}
        return kept if kept else _OMIT
    if kind == "list":
        element = example(shape.member, depth + 1)
        return _OMIT if element is _OMIT else [element, element]
    if kind == "map":
        element = example(shape.value, depth + 1)
        return _OMIT if element is _OMIT else {"first-key": element}
    if kind == "string":
        return shape.enum[0] if shape.enum else f"v-{shape.name}"
    return {
        "integer": 7,
        "long": 9_000_000_000,
        "boolean": True,
        "float": 1.5,
        "double": 2.25,
        "blob": b"\x00\xffblob",
        "timestamp": WHEN,
    }[kind]


def snake(value: Any, shape: Shape) -> Any:
    """The same value with the member names of every structure in Python form."""
    if shape.type_name == "structure":
        return {snake_name(name): snake(value[name], shape.members[name]) for name in value}
    if shape.type_name == "list":
        return [snake(item, shape.member) for item in value]
    if shape.type_name == "map":
        return {key: snake(item, shape.value) for key, item in value.items()}
    return value


def _operations(model: ServiceModel) -> list[str]:
    return sorted(model.operation_names)


@pytest.mark.parametrize("service", ["kms", "cloudtrail"])
def test_every_json_input_decodes_to_snake_case_params(service: str) -> None:
    model = _model(service)
    decoders = JsonDecoderBuilder(snake_name)
    serializer = create_serializer("json", include_validation=False)
    for operation in _operations(model):
        shape = model.operation_model(operation).input_shape
        if shape is None:
            continue
        params = example(shape)
        if params is _OMIT:
            continue
        body = serializer.serialize_to_request(params, model.operation_model(operation))["body"]
        assert decoders.build(shape)(json.loads(body)) == snake(params, shape), operation


@pytest.mark.parametrize(("service", "protocol"), [("iam", "query"), ("sts", "query"), ("ec2", "ec2")])
def test_every_query_input_decodes_to_snake_case_params(service: str, protocol: str) -> None:
    model = _model(service)
    decoders = QueryDecoderBuilder(EC2 if protocol == "ec2" else QUERY, snake_name)
    serializer = create_serializer(protocol, include_validation=False)
    for operation in _operations(model):
        shape = model.operation_model(operation).input_shape
        if shape is None:
            continue
        params = example(shape)
        if params is _OMIT:
            continue
        body = serializer.serialize_to_request(params, model.operation_model(operation))["body"]
        wire = dict(parse_qsl(urlencode(body), keep_blank_values=True))
        assert decoders.decode_input(shape, wire) == snake(params, shape), operation


@pytest.mark.parametrize("service", ["kms", "cloudtrail", "iam", "sts"])
def test_every_output_renders_what_botocore_parses_back(service: str) -> None:
    model = _model(service)
    if model.protocol == "json":
        codec: JsonCodec | QueryCodec = JsonCodec(model)
    else:
        codec = QueryCodec(model, url_encoded_shapes=IAM_URL_ENCODED_SHAPES if service == "iam" else ())
    parser = create_parser(model.protocol)
    for operation in _operations(model):
        shape = model.operation_model(operation).output_shape
        if shape is None:
            continue
        expected = example(shape)
        if expected is _OMIT:
            continue
        response = codec.render_result(operation, snake(expected, shape), "req")
        raw = {"status_code": response.status, "headers": dict(response.headers), "body": response.body}
        parsed = parser.parse(raw, shape)
        parsed.pop("ResponseMetadata", None)
        assert parsed == expected, operation
