"""Server-side AWS Signature Version 4 verification (header and presigned-query forms).

The pipeline runs, in AWS's order: `extract` (parse, no secrets) -> `check_time` -> `check_scope`
-> secret lookup by access key id (elsewhere) -> `verify` (recompute and compare in constant time).
Error codes and messages follow what AWS's JSON/Query services answer; they were collected from
AWS responses quoted in public issue threads and emulators (dynalite, scratchstack) and from the
IAM guide, "Troubleshoot signed requests for AWS APIs". Only stdlib is used: this is the hot path,
so parsing happens once, regexes are compiled at import and signing keys are cached.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from keystead.auth.canonical import (
    canonical_header_value,
    canonical_query,
    canonical_uri,
    payload_hash,
    query_params,
)
from keystead.auth.keyed_hash import KeyedSha256
from keystead.clock import Clock
from keystead.errors import (
    IncompleteSignatureError,
    InvalidSignatureError,
    MissingAuthenticationTokenError,
)
from keystead.types import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_PRESIGN_EXPIRES = 604800  # seven days: a signing key is valid for at most that long [S3SIG]

_AMZ_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
_AUTH_SPLIT = re.compile(r"[,\s]+")  # AWS tokenises the Authorization header on commas and blanks
_INTEGER = re.compile(r"-?\d+")
_HOST_HEADERS = frozenset({"host", ":authority"})
_QUERY_AUTH_PARAMS = (
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"
)
_PRESIGN_EXCLUDED = frozenset({b"X-Amz-Signature"})
_PRESIGN_EXCLUDED_WITH_TOKEN = frozenset({b"X-Amz-Signature", b"X-Amz-Security-Token"})

_MSG_BOTH = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
_MSG_DATE_FORMAT = (
    "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601"
)
_MSG_HOST = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."


@dataclass(frozen=True, slots=True)
class SignatureClaim:
    """What a request claims about its signature, parsed but not yet checked against a secret."""

    access_key_id: str
    date: str  # yyyymmdd from the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    request_time: datetime
    session_token: str | None = field(default=None, repr=False)
    presigned: bool = False
    expires_seconds: int | None = None

    @property
    def credential_scope(self) -> str:
        """`<yyyymmdd>/<region>/<service>/aws4_request`, as in the string to sign."""
        return f"{self.date}/{self.region}/{self.service}/{TERMINATOR}"


def amz_date(moment: datetime) -> str:
    """Basic ISO 8601 as SigV4 writes it: `20150830T123600Z`."""
    if moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    # An f-string is several times faster than strftime, and this runs twice per request.
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}"
        f"T{moment.hour:02d}{moment.minute:02d}{moment.second:02d}Z"
    )


def _derive_signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    k_date = hmac.digest(f"AWS4{secret_access_key}".encode(), date.encode(), "sha256")
    k_region = hmac.digest(k_date, region.encode(), "sha256")
    k_service = hmac.digest(k_region, service.encode(), "sha256")
    return hmac.digest(k_service, TERMINATOR.encode(), "sha256")


def _signing_hmac(secret_access_key: str, date: str, region: str, service: str) -> KeyedSha256:
    return KeyedSha256(_derive_signing_key(secret_access_key, date, region, service))


class SigV4Verifier:
    """Verifies SigV4-signed requests for services that use the non-S3 rules (KMS, IAM, STS).

    `normalize_path=False` keeps the wire path unnormalised (S3's rule); it exists only so the
    suite's `*-unnormalized` cases can be reproduced and is never set for KMS, IAM or STS.
    """

    def __init__(
        self,
        clock: Clock,
        max_skew: timedelta = timedelta(minutes=5),
        *,
        normalize_path: bool = True,
        signing_key_cache_size: int = 256,
    ) -> None:
        self._clock = clock
        self._max_skew = max_skew
        self._skew_minutes = int(max_skew.total_seconds() // 60)
        self._normalize_path = normalize_path
        # A day's key per (secret, date, region, service) is reused by every request that day;
        # lru_cache is thread-safe and bounded, and keeps the secret out of any repr or log.
        self._signing_key = functools.lru_cache(maxsize=signing_key_cache_size)(_signing_hmac)

    # --- parsing -----------------------------------------------------------------------------

    def extract(self, request: HttpRequest) -> SignatureClaim:
        """Parse the Authorization header or the presigned query parameters into a claim.

        Raises:
            MissingAuthenticationTokenError: neither form of SigV4 authentication is present.
            IncompleteSignatureError: a required part is missing or malformed, or the algorithm
                is not AWS4-HMAC-SHA256.
            InvalidSignatureError: both forms are present, `host` is not signed, or the
                credential scope has a bad terminator or a date other than the request's.
        """
        authorization = x_amz_date = date_header = token = None
        for name, value in request.headers:
            lname = name.lower()
            if lname == "authorization":
                authorization = value if authorization is None else authorization
            elif lname == "x-amz-date":
                x_amz_date = value if x_amz_date is None else x_amz_date
            elif lname == "date":
                date_header = value if date_header is None else date_header
            elif lname == "x-amz-security-token":
                token = value if token is None else token
        params = query_params(request.query_string) if "X-Amz-Algorithm" in request.query_string else {}
        if "X-Amz-Algorithm" in params:
            if authorization is not None:
                raise InvalidSignatureError(_MSG_BOTH)
            return self._extract_presigned(params, token)
        if authorization is None or not authorization.strip().startswith("AWS4-"):
            raise MissingAuthenticationTokenError()
        return self._extract_header(authorization, x_amz_date, date_header, token)

    def _extract_header(
        self, authorization: str, x_amz_date: str | None, date_header: str | None, token: str | None
    ) -> SignatureClaim:
        algorithm, *tokens = _AUTH_SPLIT.split(authorization.strip())
        fields: dict[str, str] = {}
        for item in tokens:
            if not item:
                continue
            key, equals, value = item.partition("=")
            if not equals:
                raise IncompleteSignatureError(
                    f"'{item}' not a valid key=value pair (missing equal-sign) "
                    f"in Authorization header: '{authorization}'."
                )
            fields.setdefault(key, value)
        problems = [
            f"Authorization header requires '{part}' parameter."
            for part in ("Credential", "Signature", "SignedHeaders")
            # An empty SignedHeaders is well-formed here; the `host` check rejects it below.
            if not fields.get(part) and not (part == "SignedHeaders" and part in fields)
        ]
        if x_amz_date is None and date_header is None:
            problems.append(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
            )
        if problems:
            raise IncompleteSignatureError(" ".join(problems) + f" Authorization={authorization}")
        request_time = _parse_amz_date(x_amz_date) if x_amz_date is not None else _parse_http_date(
            date_header or ""
        )
        return self._claim(
            algorithm, fields["Credential"], fields["SignedHeaders"], fields["Signature"],
            request_time, token, presigned=False, expires=None,
        )

    def _extract_presigned(self, params: dict[str, str], header_token: str | None) -> SignatureClaim:
        missing = [p for p in _QUERY_AUTH_PARAMS if not params.get(p)]
        if missing:
            raise IncompleteSignatureError(
                "".join(f"AWS query-string parameters must include '{p}'. " for p in missing)
                + "Re-examine the query-string parameters."
            )
        request_time = _parse_amz_date(params["X-Amz-Date"])
        expires: int | None = None
        raw_expires = params.get("X-Amz-Expires")
        if raw_expires is not None:
            if not _INTEGER.fullmatch(raw_expires):
                raise IncompleteSignatureError("X-Amz-Expires should be a number")
            expires = int(raw_expires)
        token = params.get("X-Amz-Security-Token", header_token)
        return self._claim(
            params["X-Amz-Algorithm"], params["X-Amz-Credential"], params["X-Amz-SignedHeaders"],
            params["X-Amz-Signature"], request_time, token, presigned=True, expires=expires,
        )

    def _claim(
        self, algorithm: str, credential: str, signed_headers: str, signature: str,
        request_time: datetime, token: str | None, *, presigned: bool, expires: int | None,
    ) -> SignatureClaim:
        # AWS's order after the date: host signed, then algorithm, then the credential's shape,
        # then its scope (terminator and date here; region and service in check_scope).
        headers = tuple(signed_headers.split(";")) if signed_headers else ()
        if not _signs_host(headers):
            raise InvalidSignatureError(_MSG_HOST)
        if algorithm != ALGORITHM:
            raise IncompleteSignatureError(
                f"Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). "
            )
        parts = credential.rstrip("/").split("/")  # AWS ignores trailing slashes here
        if len(parts) != 5:
            raise IncompleteSignatureError(
                "Credential must have exactly 5 slash-delimited elements, "
                f"e.g. keyid/date/region/service/term, got '{credential}'"
            )
        access_key_id, date, region, service, terminator = parts
        problems = ""
        if terminator != TERMINATOR:
            problems += (
                f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'. "
            )
        stamp = amz_date(request_time)
        if date != stamp[:8]:
            problems += (
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                f"from HTTP: '{date}' != '{stamp[:8]}', from '{stamp}'."
            )
        if problems:
            raise InvalidSignatureError(problems)
        return SignatureClaim(
            access_key_id=access_key_id, date=date, region=region, service=service,
            signed_headers=headers, signature=signature, request_time=request_time,
            session_token=token, presigned=presigned, expires_seconds=expires,
        )

    # --- checks that need no secret ------------------------------------------------------

    def check_time(self, claim: SignatureClaim) -> None:
        """Reject a header signature outside ±max_skew, or a presigned URL outside its window.

        Raises:
            InvalidSignatureError: expired, not yet current, or X-Amz-Expires out of 1..604800.
        """
        now = self._clock.now().replace(microsecond=0)
        moment = claim.request_time
        if moment > now + self._max_skew:
            raise InvalidSignatureError(
                f"Signature not yet current: {amz_date(moment)} is still later than "
                f"{amz_date(now + self._max_skew)} ({amz_date(now)} + {self._skew_minutes} min.)"
            )
        expires = claim.expires_seconds
        if claim.presigned and expires is not None:
            if expires < 1:
                raise InvalidSignatureError("X-Amz-Expires must be a positive number of seconds")
            if expires > MAX_PRESIGN_EXPIRES:
                raise InvalidSignatureError(
                    f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}"
                )
            if moment + timedelta(seconds=expires) < now:
                raise InvalidSignatureError(
                    f"Signature expired: {amz_date(moment)} is now earlier than "
                    f"{amz_date(now - timedelta(seconds=expires))} ({amz_date(now)} - {expires} sec.)"
                )
            return
        # A header signature (or a presigned URL without X-Amz-Expires) lives ±max_skew.
        if moment < now - self._max_skew:
            raise InvalidSignatureError(
                f"Signature expired: {amz_date(moment)} is now earlier than "
                f"{amz_date(now - self._max_skew)} ({amz_date(now)} - {self._skew_minutes} min.)"
            )

    def check_scope(self, claim: SignatureClaim, *, service: str, regions: Collection[str]) -> None:
        """Reject a credential scoped to another service or to a region this deployment lacks.

        Raises:
            InvalidSignatureError: with AWS's scope messages, all problems in one message.
        """
        problems = ""
        if claim.region not in regions:
            problems += f"Credential should be scoped to a valid region, not '{claim.region}'. "
        if claim.service != service:
            problems += f"Credential should be scoped to correct service: '{service}'. "
        if problems:
            raise InvalidSignatureError(problems)

    # --- the signature itself ------------------------------------------------------------

    def verify(self, claim: SignatureClaim, request: HttpRequest, secret_access_key: str) -> None:
        """Recompute the signature with the caller's secret and compare in constant time.

        A presigned URL whose session token was appended after signing (suite `post-sts-token`)
        is retried without the token parameter; header-signed requests need no retry because
        unsigned headers are ignored anyway.

        Raises:
            InvalidSignatureError: signature mismatch, `host` unsigned, a signed header absent,
                or an x-amz-content-sha256 that is not the body's hex SHA-256.
        """
        if not _signs_host(claim.signed_headers):
            raise InvalidSignatureError(_MSG_HOST)
        key = self._signing_key(secret_access_key, claim.date, claim.region, claim.service)
        provided = claim.signature.encode("utf-8", "replace")
        if self._matches(key, claim, self._canonical(claim, request, _PRESIGN_EXCLUDED), provided):
            return
        if claim.presigned and "X-Amz-Security-Token" in request.query_string:
            creq = self._canonical(claim, request, _PRESIGN_EXCLUDED_WITH_TOKEN)
            if self._matches(key, claim, creq, provided):
                return
        raise InvalidSignatureError()

    def _matches(self, key: KeyedSha256, claim: SignatureClaim, creq: str, provided: bytes) -> bool:
        sts = _string_to_sign(claim, creq).encode("utf-8", "surrogateescape")
        expected = key.hexdigest(sts).encode("ascii")
        return hmac.compare_digest(expected, provided)

    def canonical_request(self, claim: SignatureClaim, request: HttpRequest) -> str:
        """The canonical request for `request` as `claim` describes its signing.

        Raises:
            InvalidSignatureError: a signed header is absent or x-amz-content-sha256 is bad.
        """
        return self._canonical(claim, request, _PRESIGN_EXCLUDED)

    def string_to_sign(self, claim: SignatureClaim, request: HttpRequest) -> str:
        """The string to sign for `request` as `claim` describes its signing.

        Raises:
            InvalidSignatureError: as `canonical_request`.
        """
        return _string_to_sign(claim, self.canonical_request(claim, request))

    def _canonical(self, claim: SignatureClaim, request: HttpRequest, excluded: frozenset[bytes]) -> str:
        wanted = {name.lower() for name in claim.signed_headers}
        values: dict[str, list[str]] = {}
        content_sha256: str | None = None
        for name, value in request.headers:
            lname = name.lower()
            if lname in wanted:
                values.setdefault(lname, []).append(value)
            if lname == "x-amz-content-sha256" and content_sha256 is None:
                content_sha256 = value
        # The common KMS/IAM/STS request is `POST /` without a query: skip the general encoders.
        path, query = request.raw_path, request.query_string
        lines = [
            request.method,
            "/" if path == "/" else canonical_uri(path, normalize=self._normalize_path),
            "" if not query else canonical_query(query, exclude=excluded if claim.presigned else frozenset()),
        ]
        for name in claim.signed_headers:
            found = values.get(name.lower())
            if found is None:
                raise InvalidSignatureError()  # AWS answers a missing signed header as a mismatch
            lines.append(f"{name.lower()}:{','.join(canonical_header_value(v) for v in found)}")
        lines.append("")  # the header block ends with its own newline
        lines.append(";".join(claim.signed_headers))
        lines.append(payload_hash(request.body, content_sha256))
        return "\n".join(lines)


def _signs_host(signed_headers: tuple[str, ...]) -> bool:
    return any(name.lower() in _HOST_HEADERS for name in signed_headers)


def _string_to_sign(claim: SignatureClaim, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{amz_date(claim.request_time)}\n{claim.credential_scope}\n{digest}"


def _parse_amz_date(value: str) -> datetime:
    match = _AMZ_DATE.fullmatch(value.strip())
    try:
        if match is None:
            raise ValueError(value)
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        raise IncompleteSignatureError(_MSG_DATE_FORMAT.format(value)) from None


def _parse_http_date(value: str) -> datetime:
    # Only used when X-Amz-Date is absent (botocore sends Date instead if the caller set one).
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        raise IncompleteSignatureError(_MSG_DATE_FORMAT.format(value))
    if parsed.tzinfo is None:  # RFC 1123 dates are GMT; "-0000" parses as naive
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
