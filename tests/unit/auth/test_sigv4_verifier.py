"""SigV4Verifier: every way a request can fail authentication, with AWS's codes and messages.

Valid requests are signed by botocore (an independent signer); broken ones are written by hand.
AWS messages come from AWS responses quoted in public threads and emulators (see sigv4.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from keystead.auth.sigv4 import SignatureClaim, SigV4Verifier
from keystead.clock import FixedClock
from keystead.errors import (
    IncompleteSignatureError,
    InvalidSignatureError,
    MissingAuthenticationTokenError,
)
from keystead.types import HttpRequest

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
HOST = "kms.us-east-1.amazonaws.com"
T0 = datetime(2015, 8, 30, 12, 36, 0, tzinfo=timezone.utc)
CREDENTIAL = f"{AKID}/20150830/us-east-1/kms/aws4_request"
GOOD_AUTH = f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host;x-amz-date, Signature={'0' * 64}"


# --- building requests -----------------------------------------------------------------------


def to_http(aws_request: AWSRequest) -> HttpRequest:
    """What the server would receive for a request botocore signed (the client adds Host)."""
    prepared = aws_request.prepare()
    url = urlsplit(prepared.url)
    headers = [(name, value) for name, value in prepared.headers.items()]
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


def signed(
    *,
    body: bytes = b'{"KeyId":"alias/app"}',
    headers: dict[str, str] | None = None,
    token: str | None = None,
    service: str = "kms",
    region: str = "us-east-1",
) -> HttpRequest:
    request = AWSRequest(method="POST", url=f"https://{HOST}/", data=body, headers=headers or {})
    SigV4Auth(Credentials(AKID, SECRET, token), service, region).add_auth(request)
    return to_http(request)


def presigned(*, expires: int = 900, token: str | None = None) -> HttpRequest:
    request = AWSRequest(
        method="GET",
        url="https://sts.amazonaws.com/",
        params={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
    )
    SigV4QueryAuth(Credentials(AKID, SECRET, token), "sts", "us-east-1", expires=expires).add_auth(request)
    return to_http(request)


def manual(
    authorization: str | None = GOOD_AUTH,
    *,
    x_amz_date: str | None = "20150830T123600Z",
    query: str = "",
    extra: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> HttpRequest:
    headers = [("Host", HOST)]
    if x_amz_date is not None:
        headers.append(("X-Amz-Date", x_amz_date))
    if authorization is not None:
        headers.append(("Authorization", authorization))
    return HttpRequest("POST", "/", query, (*headers, *extra), body)


def verifier_for(request: HttpRequest, *, offset: timedelta = timedelta(0)) -> SigV4Verifier:
    """A verifier whose clock reads the request's signing time (plus `offset`)."""
    claim = SigV4Verifier(FixedClock(T0)).extract(request)
    return SigV4Verifier(FixedClock(claim.request_time + offset))


def authenticate(request: HttpRequest, *, secret: str = SECRET, service: str = "kms") -> SignatureClaim:
    verifier = verifier_for(request)
    claim = verifier.extract(request)
    verifier.check_time(claim)
    verifier.check_scope(claim, service=service, regions={"us-east-1"})
    verifier.verify(claim, request, secret)
    return claim


def with_header(request: HttpRequest, name: str, value: str) -> HttpRequest:
    kept = tuple((k, v) for k, v in request.headers if k.lower() != name.lower())
    headers = (*kept, (name, value))
    return HttpRequest(request.method, request.raw_path, request.query_string, headers, request.body)


def extract(request: HttpRequest) -> SignatureClaim:
    return SigV4Verifier(FixedClock(T0)).extract(request)


# --- accepted --------------------------------------------------------------------------------


def test_botocore_signed_request_is_accepted_and_claims_its_credential() -> None:
    claim = authenticate(signed())
    assert (claim.access_key_id, claim.region, claim.service) == (AKID, "us-east-1", "kms")
    assert claim.presigned is False and claim.session_token is None


def test_session_token_is_taken_from_the_signed_header() -> None:
    assert authenticate(signed(token="FQoGZXIvYXdzEXAMPLE")).session_token == "FQoGZXIvYXdzEXAMPLE"


def test_headers_added_after_signing_are_ignored() -> None:
    authenticate(with_header(signed(), "User-Agent", "added-by-a-proxy"))


def test_date_header_is_used_when_x_amz_date_is_absent() -> None:
    # botocore signs with Date (and no X-Amz-Date) when the caller supplies a Date header.
    request = signed(headers={"Date": format_datetime(datetime.now(timezone.utc), usegmt=True)})
    assert request.header("X-Amz-Date") is None
    authenticate(request)


def test_x_amz_date_wins_over_date() -> None:
    request = manual(extra=(("Date", "Mon, 31 Aug 2015 00:00:00 GMT"),))
    assert extract(request).request_time == T0


def test_matching_x_amz_content_sha256_is_accepted() -> None:
    body = b'{"KeyId":"alias/app"}'
    authenticate(signed(body=body, headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}))


def test_presigned_url_is_accepted_with_its_expiry_and_token() -> None:
    claim = authenticate(presigned(expires=900, token="FQoGZXIvYXdzEXAMPLE"), service="sts")
    assert claim.presigned and claim.expires_seconds == 900
    assert claim.session_token == "FQoGZXIvYXdzEXAMPLE"


def test_claim_repr_does_not_show_the_session_token() -> None:
    assert "FQoGZXIvYXdzEXAMPLE" not in repr(extract(signed(token="FQoGZXIvYXdzEXAMPLE")))


def test_signing_keys_are_derived_once_per_day_region_and_service() -> None:
    request = signed()
    verifier = verifier_for(request)
    claim = verifier.extract(request)
    for _ in range(3):
        verifier.verify(claim, request, SECRET)
    info = verifier._signing_key.cache_info()  # the cache is the point of this test
    assert (info.misses, info.hits) == (1, 2)


# --- missing or incomplete ------------------------------------------------------------------


def test_request_without_any_signature_is_missing_authentication_token() -> None:
    with pytest.raises(MissingAuthenticationTokenError, match="^Request is missing Authentication Token$"):
        extract(manual(None))


def test_authorization_that_is_not_sigv4_is_missing_authentication_token() -> None:
    with pytest.raises(MissingAuthenticationTokenError):
        extract(manual("Bearer eyJhbGciOi"))


def test_authorization_without_any_part_names_every_missing_part() -> None:
    with pytest.raises(IncompleteSignatureError) as caught:
        extract(manual("AWS4-HMAC-SHA256", x_amz_date=None))
    assert caught.value.message == (
        "Authorization header requires 'Credential' parameter. "
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256"
    )


def test_authorization_without_signature_names_only_that_part() -> None:
    authorization = f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host;x-amz-date"
    with pytest.raises(IncompleteSignatureError) as caught:
        extract(manual(authorization))
    assert caught.value.message == (
        f"Authorization header requires 'Signature' parameter. Authorization={authorization}"
    )


def test_request_without_a_date_is_incomplete() -> None:
    with pytest.raises(IncompleteSignatureError) as caught:
        extract(manual(x_amz_date=None))
    assert caught.value.message == (
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        f"Authorization={GOOD_AUTH}"
    )


def test_unparseable_date_header_without_x_amz_date_is_incomplete() -> None:
    with pytest.raises(IncompleteSignatureError, match="^Date must be in ISO-8601 'basic format'. Got 'so"):
        extract(manual(x_amz_date=None, extra=(("Date", "soon"),)))


def test_authorization_part_without_equals_sign_is_incomplete() -> None:
    authorization = f"AWS4-HMAC-SHA256 Credential= {CREDENTIAL}, SignedHeaders=host, Signature=ab"
    with pytest.raises(IncompleteSignatureError) as caught:
        extract(manual(authorization))
    assert caught.value.message == (
        f"'{CREDENTIAL}' not a valid key=value pair (missing equal-sign) "
        f"in Authorization header: '{authorization}'."
    )


def test_presigned_url_missing_parameters_names_each_of_them() -> None:
    with pytest.raises(IncompleteSignatureError) as caught:
        extract(manual(None, query="X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20150830T123600Z"))
    assert caught.value.message == (
        "AWS query-string parameters must include 'X-Amz-Credential'. "
        "AWS query-string parameters must include 'X-Amz-Signature'. "
        "AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
        "Re-examine the query-string parameters."
    )


def test_both_header_and_query_authentication_is_invalid_signature() -> None:
    query = presigned().query_string
    with pytest.raises(InvalidSignatureError) as caught:
        extract(manual(query=query))
    assert caught.value.message == (
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    )


@pytest.mark.parametrize("value", ["2015", "2015-08-30T12:36:00Z", "20151330T123600Z", "20150830T123600"])
def test_malformed_x_amz_date_is_incomplete(value: str) -> None:
    with pytest.raises(IncompleteSignatureError) as caught:
        extract(manual(x_amz_date=value))
    assert caught.value.message == (
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601"
    )


def test_unsupported_algorithm_is_incomplete() -> None:
    authorization = GOOD_AUTH.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")
    with pytest.raises(IncompleteSignatureError) as caught:
        extract(manual(authorization))
    assert caught.value.message == (
        "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now). "
    )


def test_credential_with_four_parts_is_incomplete() -> None:
    with pytest.raises(IncompleteSignatureError) as caught:
        extract(manual(GOOD_AUTH.replace("/aws4_request", "")))
    assert caught.value.message == (
        "Credential must have exactly 5 slash-delimited elements, "
        f"e.g. keyid/date/region/service/term, got '{AKID}/20150830/us-east-1/kms'"
    )


def test_non_numeric_x_amz_expires_is_incomplete() -> None:
    request = presigned()
    query = request.query_string.replace("X-Amz-Expires=900", "X-Amz-Expires=soon")
    with pytest.raises(IncompleteSignatureError, match="^X-Amz-Expires should be a number$"):
        extract(HttpRequest("GET", "/", query, request.headers, b""))


# --- invalid -----------------------------------------------------------------------------------


def test_credential_date_other_than_request_date_is_invalid_signature() -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        extract(manual(GOOD_AUTH.replace("/20150830/", "/20150831/")))
    assert caught.value.message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        "'20150831' != '20150830', from '20150830T123600Z'."
    )


def test_credential_with_wrong_terminator_is_invalid_signature() -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        extract(manual(GOOD_AUTH.replace("aws4_request", "aws4_reqest")))
    assert caught.value.message == (
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'. "
    )


def test_signature_that_does_not_sign_host_is_invalid() -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        extract(manual(GOOD_AUTH.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date")))
    assert caught.value.message == (
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    )


def test_wrong_secret_is_invalid_signature_with_aws_message() -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        authenticate(signed(), secret=SECRET[:-1] + "Z")
    assert caught.value.message.startswith("The request signature we calculated does not match")


def test_signed_header_missing_from_the_request_is_invalid_signature() -> None:
    request = signed(headers={"X-Custom": "1"})
    stripped = tuple((k, v) for k, v in request.headers if k.lower() != "x-custom")
    with pytest.raises(InvalidSignatureError):
        authenticate(HttpRequest(request.method, "/", "", stripped, request.body))


def test_presigned_url_with_token_removed_is_rejected() -> None:
    request = presigned(token="FQoGZXIvYXdzEXAMPLE")
    query = "&".join(p for p in request.query_string.split("&") if not p.startswith("X-Amz-Security-Token"))
    with pytest.raises(InvalidSignatureError):
        authenticate(HttpRequest("GET", "/", query, request.headers, b""), service="sts")


# --- payload hash -----------------------------------------------------------------------------


def test_x_amz_content_sha256_that_differs_from_the_body_is_rejected() -> None:
    request = signed(headers={"X-Amz-Content-SHA256": "0" * 64})
    with pytest.raises(InvalidSignatureError) as caught:
        authenticate(request)
    assert caught.value.message == (
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    )


@pytest.mark.parametrize("value", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "abc"])
def test_x_amz_content_sha256_that_is_not_a_body_hash_is_rejected(value: str) -> None:
    with pytest.raises(InvalidSignatureError, match="must be the hex SHA-256 of the request payload"):
        authenticate(signed(headers={"X-Amz-Content-SHA256": value}))


# --- time ------------------------------------------------------------------------------------


def check_time_at(now: datetime, request: HttpRequest, skew: timedelta = timedelta(minutes=5)) -> None:
    verifier = SigV4Verifier(FixedClock(now), skew)
    verifier.check_time(verifier.extract(request))


def test_header_signature_older_than_the_skew_is_expired() -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        check_time_at(T0 + timedelta(minutes=15), manual())
    assert caught.value.message == (
        "Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z "
        "(20150830T125100Z - 5 min.)"
    )


def test_header_signature_from_beyond_the_skew_is_not_yet_current() -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        check_time_at(T0 + timedelta(minutes=15), manual(x_amz_date="20150830T130000Z"))
    assert caught.value.message == (
        "Signature not yet current: 20150830T130000Z is still later than 20150830T125600Z "
        "(20150830T125100Z + 5 min.)"
    )


@pytest.mark.parametrize(
    "offset", [timedelta(minutes=-5), timedelta(0), timedelta(minutes=5, microseconds=999)]
)
def test_header_signature_within_the_skew_is_current(offset: timedelta) -> None:
    check_time_at(T0 + offset, manual())


def test_skew_is_configurable_and_named_in_the_message() -> None:
    check_time_at(T0 + timedelta(minutes=14), manual(), timedelta(minutes=15))
    with pytest.raises(InvalidSignatureError, match=r"\(20150830T125200Z - 15 min\.\)$"):
        check_time_at(T0 + timedelta(minutes=16), manual(), timedelta(minutes=15))


def presigned_at(expires: str) -> HttpRequest:
    query = (
        "Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={AKID}%2F20150830%2Fus-east-1%2Fsts%2Faws4_request"
        f"&X-Amz-Date=20150830T123600Z&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host"
        f"&X-Amz-Signature={'0' * 64}"
    )
    return HttpRequest("GET", "/", query, (("Host", "sts.amazonaws.com"),), b"")


def test_presigned_url_is_valid_until_its_expiry_even_beyond_the_skew() -> None:
    check_time_at(T0 + timedelta(hours=1), presigned_at("3600"))


def test_presigned_url_past_its_expiry_is_expired() -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        check_time_at(T0 + timedelta(hours=1, seconds=1), presigned_at("3600"))
    assert caught.value.message == (
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
        "(20150830T133601Z - 3600 sec.)"
    )


def test_presigned_url_from_the_future_is_not_yet_current() -> None:
    with pytest.raises(InvalidSignatureError, match="^Signature not yet current"):
        check_time_at(T0 - timedelta(minutes=6), presigned_at("3600"))


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("0", "X-Amz-Expires must be a positive number of seconds"),
        ("-1", "X-Amz-Expires must be a positive number of seconds"),
        ("604801", "X-Amz-Expires must be less than a week (in seconds) that is 604800"),
    ],
)
def test_presigned_expiry_outside_one_second_to_seven_days_is_invalid(expires: str, message: str) -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        check_time_at(T0, presigned_at(expires))
    assert caught.value.message == message


def test_presigned_expiry_of_seven_days_is_allowed() -> None:
    check_time_at(T0 + timedelta(days=7), presigned_at("604800"))


# --- scope -------------------------------------------------------------------------------------


def test_credential_scoped_to_another_region_is_invalid_signature() -> None:
    claim = extract(manual(GOOD_AUTH.replace("us-east-1", "eu-west-1")))
    with pytest.raises(InvalidSignatureError) as caught:
        SigV4Verifier(FixedClock(T0)).check_scope(claim, service="kms", regions={"us-east-1", "us-west-2"})
    assert caught.value.message == "Credential should be scoped to a valid region, not 'eu-west-1'. "


def test_credential_scoped_to_another_service_is_invalid_signature() -> None:
    claim = extract(manual(GOOD_AUTH.replace("/kms/", "/iam/")))
    with pytest.raises(InvalidSignatureError) as caught:
        SigV4Verifier(FixedClock(T0)).check_scope(claim, service="kms", regions={"us-east-1"})
    assert caught.value.message == "Credential should be scoped to correct service: 'kms'. "


def test_wrong_region_and_service_are_reported_together() -> None:
    claim = extract(manual(GOOD_AUTH.replace("us-east-1/kms", "Us-East-1/KMS")))
    with pytest.raises(InvalidSignatureError) as caught:
        SigV4Verifier(FixedClock(T0)).check_scope(claim, service="kms", regions={"us-east-1"})
    assert caught.value.message == (
        "Credential should be scoped to a valid region, not 'Us-East-1'. "
        "Credential should be scoped to correct service: 'kms'. "
    )
