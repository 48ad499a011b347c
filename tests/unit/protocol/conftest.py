"""The real client side of botocore, wired to our codecs without a network.

`Wire` builds requests with botocore's own serializers and reads responses with its own parsers;
`client_for` gives a real boto3 client whose HTTP layer is replaced (through botocore's
`before-send` event) by route -> parse -> fake handler -> render, so the whole client stack,
signing and ClientError raising included, runs against the protocol layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HeadersDict
from botocore.config import Config
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from keystead.errors import KeysteadError
from keystead.protocol import OperationCall, ServiceCodec, codec_for_error, load_codecs, route
from keystead.types import HttpRequest, HttpResponse

Handler = Callable[[OperationCall], Mapping[str, Any]]


@pytest.fixture(scope="session")
def codecs() -> dict[str, ServiceCodec]:
    return load_codecs()


class Wire:
    """botocore's serializers and parsers, speaking to HttpRequest / HttpResponse."""

    def __init__(self, codecs: dict[str, ServiceCodec]) -> None:
        self.codecs = codecs

    def request(
        self, service: str, operation: str, params: Mapping[str, Any], method: str = "POST"
    ) -> HttpRequest:
        model = self.codecs[service].model
        serializer = create_serializer(model.protocol, include_validation=True)
        serialized = serializer.serialize_to_request(dict(params), model.operation_model(operation))
        body = serialized["body"]
        if isinstance(body, dict):
            body = urlencode(body).encode("utf-8")
        headers = [("Host", f"{service}.us-east-1.amazonaws.com"), *serialized["headers"].items()]
        if method == "GET":
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            return HttpRequest("GET", "/", body.decode("utf-8"), tuple(headers), b"")
        return HttpRequest("POST", "/", "", tuple(headers), body)

    def parse(self, service: str, operation: str, response: HttpResponse) -> dict[str, Any]:
        model = self.codecs[service].model
        parsed = self._parse(model.protocol, response, model.operation_model(operation).output_shape)
        parsed.pop("ResponseMetadata", None)
        return parsed

    def parse_error(self, service: str, response: HttpResponse) -> dict[str, Any]:
        parsed = self._parse(self.codecs[service].model.protocol, response, None)
        assert "Error" in parsed, parsed
        return parsed

    @staticmethod
    def _parse(protocol: str, response: HttpResponse, shape: Any) -> dict[str, Any]:
        headers = HeadersDict()
        for name, value in response.headers:
            headers[name] = value
        raw = {"status_code": response.status, "headers": headers, "body": response.body}
        return dict(create_parser(protocol).parse(raw, shape))


@pytest.fixture(scope="session")
def wire(codecs: dict[str, ServiceCodec]) -> Wire:
    return Wire(codecs)


def serve(request: HttpRequest, codecs: Mapping[str, ServiceCodec], handler: Handler) -> HttpResponse:
    """What the server does with a request, minus authentication: route, parse, handle, render."""
    request_id = "11111111-2222-3333-4444-555555555555"
    try:
        codec = route(request, codecs)
    except KeysteadError as error:
        return codec_for_error(request, codecs).render_error(error, request_id)
    try:
        call = codec.parse(request)
        return codec.render_result(call.operation, handler(call), request_id)
    except KeysteadError as error:
        return codec.render_error(error, request_id)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@pytest.fixture
def client_for(codecs: dict[str, ServiceCodec]) -> Callable[[str, Handler], Any]:
    """A real boto3 client for a service whose requests are served by `serve`."""

    def make(service: str, handler: Handler) -> Any:
        client = boto3.session.Session().client(
            service,
            region_name="us-east-1",
            endpoint_url=f"http://{service}.keystead.test",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            config=Config(retries={"max_attempts": 1}),
        )

        def send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
            body = request.body or b""
            if isinstance(body, str):
                body = body.encode("utf-8")
            elif not isinstance(body, bytes):
                body = body.read()
            path, _, query = request.url.partition("://")[2].partition("/")[2].partition("?")
            headers = tuple(
                (name, value.decode("latin-1") if isinstance(value, bytes) else str(value))
                for name, value in request.headers.items()
            )
            response = serve(HttpRequest(request.method, "/" + path, query, headers, body), codecs, handler)
            return AWSResponse(request.url, response.status, dict(response.headers), _Raw(response.body))

        client.meta.events.register("before-send", send)
        return client

    return make
