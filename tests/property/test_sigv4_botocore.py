"""Whatever botocore signs, we accept; change one byte of what it signed, and we refuse.

botocore's `SigV4Auth` (Authorization header) and `SigV4QueryAuth` (presigned URL) are the signers
the AWS CLI and boto3 use, so they stand in for every real client. Requests vary in method,
path, query parameters, extra headers, body, session token and service (kms, iam, sts).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keystead.auth.sigv4 import SignatureClaim, SigV4Verifier
from keystead.clock import FixedClock
from keystead.errors import AuthenticationError
from keystead.types import HttpRequest

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
ALNUM = string.ascii_letters + string.digits

# --- what a client might send ------------------------------------------------------------------

text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=10)
# Segments that normalisation would drop ("." and "..") are left out: changing a byte inside a
# segment a later ".." removes does not change the request, so it is not a counterexample.
segment = text.map(lambda s: quote(s, safe="")).filter(lambda s: s.strip(".") != "")
paths = st.lists(segment, max_size=3).map(lambda segs: "/" + "/".join(segs))
# Names starting X-Amz- would turn the request into a (broken) presigned one.
params = st.dictionaries(text.filter(lambda k: not k.startswith("X-Amz-")), text, max_size=4)
header_names = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6).map(
    lambda s: f"x-test-{s}"
)
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=16
)
tokens = st.none() | st.text(string.ascii_letters + string.digits + "+/=", min_size=16, max_size=40)


@dataclass(frozen=True)
class Signed:
    request: HttpRequest
    service: str


def to_http(aws_request: AWSRequest) -> HttpRequest:
    """What the server receives for a request botocore signed (the HTTP client adds Host)."""
    prepared = aws_request.prepare()
    url = urlsplit(prepared.url)
    headers = list(prepared.headers.items())
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", url.netloc))
    body = prepared.body or b""
    return HttpRequest(
        method=prepared.method,
        raw_path=url.path or "/",
        query_string=url.query,
        headers=tuple(headers),
        body=body if isinstance(body, bytes) else body.encode(),
    )


@st.composite
def signed_requests(draw: st.DrawFn) -> Signed:
    service = draw(st.sampled_from(["kms", "iam", "sts"]))
    presign = draw(st.booleans())
    request = AWSRequest(
        method=draw(st.sampled_from(["GET", "POST"])),
        url=f"https://{service}.{REGION}.amazonaws.com{draw(paths)}",
        params=draw(params),
        # Presigned URLs carry no body for these services (botocore would move a form body
        # into the query); header-signed requests carry any bytes.
        data=b"" if presign else draw(st.binary(max_size=64)),
        headers=draw(st.dictionaries(header_names, header_values, max_size=3)),
    )
    credentials = Credentials(AKID, SECRET, draw(tokens))
    if presign:
        expires = draw(st.integers(min_value=1, max_value=604800))
        SigV4QueryAuth(credentials, service, REGION, expires=expires).add_auth(request)
    else:
        SigV4Auth(credentials, service, REGION).add_auth(request)
    return Signed(to_http(request), service)


def authenticate(signed: Signed, request: HttpRequest, original: SignatureClaim) -> SignatureClaim:
    """The pipeline's order, with the clock at the moment botocore signed."""
    verifier = SigV4Verifier(FixedClock(original.request_time))
    claim = verifier.extract(request)
    verifier.check_time(claim)
    verifier.check_scope(claim, service=signed.service, regions={REGION})
    verifier.verify(claim, request, SECRET)
    return claim


def original_claim(signed: Signed) -> SignatureClaim:
    """The claim botocore's request makes; parsing consults no clock."""
    return SigV4Verifier(FixedClock(datetime(2000, 1, 1, tzinfo=timezone.utc))).extract(signed.request)


# --- one-byte changes that change what the request means ---------------------------------------


def other(char: str, alphabet: str, *, fold_case: bool) -> st.SearchStrategy[str]:
    """A replacement character that differs from `char` (also in case, where case is ignored)."""
    if fold_case:
        return st.sampled_from([c for c in alphabet if c.lower() != char.lower()])
    return st.sampled_from([c for c in alphabet if c != char])


def change_text(
    draw: st.DrawFn, value: str, positions: list[int], alphabet: str, *, fold_case: bool
) -> str:
    index = draw(st.sampled_from(positions))
    return value[:index] + draw(other(value[index], alphabet, fold_case=fold_case)) + value[index + 1 :]


def applies(target: str, request: HttpRequest) -> bool:
    """Whether the request has a byte of that kind to change."""
    if target == "query":
        return any(c in ALNUM for c in request.query_string)
    if target == "body":
        return bool(request.body)
    return True


@st.composite
def one_byte_change(draw: st.DrawFn, signed: Signed, target: str) -> HttpRequest:
    request = signed.request
    if target == "method":
        every = list(range(len(request.method)))
        method = change_text(draw, request.method, every, string.ascii_uppercase, fold_case=False)
        return replace(request, method=method)
    if target == "path":
        positions = [i for i, c in enumerate(request.raw_path) if c in ALNUM] or [0]
        path = change_text(draw, request.raw_path, positions, ALNUM, fold_case=False)
        return replace(request, raw_path=path)
    if target == "query":
        # Case is folded so that `%2f` -> `%2F` (the same byte) is never drawn.
        positions = [i for i, c in enumerate(request.query_string) if c in ALNUM]
        query = change_text(draw, request.query_string, positions, ALNUM, fold_case=True)
        return replace(request, query_string=query)
    if target == "body":
        index = draw(st.integers(0, len(request.body) - 1))
        body = bytearray(request.body)
        body[index] ^= draw(st.integers(1, 255))
        return replace(request, body=bytes(body))
    claim = original_claim(signed)
    signed_names = set(claim.signed_headers)
    candidates = [
        i for i, (name, value) in enumerate(request.headers)
        if name.lower() in signed_names and any(not c.isspace() for c in value)
    ]
    index = draw(st.sampled_from(candidates))
    name, value = request.headers[index]
    # Whitespace is collapsed by the canonical form, so only visible characters are changed.
    positions = [i for i, c in enumerate(value) if not c.isspace()]
    visible = string.ascii_letters + string.digits + string.punctuation
    headers = list(request.headers)
    headers[index] = (name, change_text(draw, value, positions, visible, fold_case=False))
    return replace(request, headers=tuple(headers))


# --- the properties --------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


@PROPERTY_SETTINGS
@given(signed_requests())
def test_every_request_botocore_signs_is_accepted(signed: Signed) -> None:
    claim = original_claim(signed)
    accepted = authenticate(signed, signed.request, claim)
    assert accepted.access_key_id == AKID and accepted.service == signed.service


@pytest.mark.parametrize("target", ["method", "path", "query", "header", "body"])
@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_one_byte_change_to_a_signed_part_is_rejected(target: str, data: st.DataObject) -> None:
    signed = data.draw(signed_requests())
    assume(applies(target, signed.request))
    changed = data.draw(one_byte_change(signed, target), label=f"{target} changed")
    with pytest.raises(AuthenticationError):
        authenticate(signed, changed, original_claim(signed))
