"""The canonical forms SigV4 signs: functions over the request as it came off the wire, no I/O.

Source: IAM User Guide, "Create a signed AWS API request", step 1 (canonical request), checked
against the AWS SigV4 test suite in `shared/vectors/sigv4` and botocore's `SigV4Auth`.

Text convention: the server hands us the request target and header values decoded as latin-1, so
one character is one byte off the wire. Strings are therefore turned back into bytes as latin-1;
a string holding characters above U+00FF cannot have come off the wire that way and is taken as
already-decoded text and encoded as UTF-8 (tests build such requests by hand).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, unquote_to_bytes

from keystead.errors import InvalidSignatureError

# RFC 3986 unreserved characters besides ALPHA / DIGIT; `quote` never encodes `_.-~`, so the
# `safe` arguments below only add what must stay literal on top of that.
_QUERY_SAFE = "-_.~"
_PATH_SAFE = "/~"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_MSG_CONTENT_SHA_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed."
_MSG_CONTENT_SHA_UNSUPPORTED = (
    "x-amz-content-sha256 must be the hex SHA-256 of the request payload for this service, not '{}'."
)


def wire_bytes(text: str) -> bytes:
    """The bytes a wire string stands for (latin-1, or UTF-8 for text that is not wire text)."""
    if text.isascii():
        return text.encode("ascii")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 dot-segment removal, also collapsing repeated slashes as AWS does.

    Mirrors botocore's `remove_dot_segments`, which every AWS SDK matches for non-S3 services
    (suite `normalize-path/*`): `/a/./b/../c//` becomes `/a/c/`.
    """
    if not path:
        return ""
    output: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if output:
                output.pop()
        else:
            output.append(segment)
    first = "/" if path[0] == "/" else ""
    last = "/" if path[-1] == "/" and output else ""
    return first + "/".join(output) + last


def canonical_uri(raw_path: str, *, normalize: bool = True) -> str:
    """The canonical URI: the wire path, optionally normalised, percent-encoded once more.

    The wire path is already percent-encoded by the client, so encoding it again is the
    "double encoding" every service except S3 expects (`%20` on the wire becomes `%2520`).
    """
    if not raw_path:
        return "/"
    path = remove_dot_segments(raw_path) if normalize else raw_path
    if path.isascii():
        return quote(path, safe=_PATH_SAFE)
    return quote(wire_bytes(path), safe=_PATH_SAFE)


def _form_decode(component: str) -> bytes:
    # AWS reads query strings with form semantics ('+' is a space): botocore puts `+` on the
    # wire for spaces (urlencode) while signing `%20`, so reading '+' literally would break it.
    raw = wire_bytes(component)
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    return unquote_to_bytes(raw) if b"%" in raw else raw


def query_pairs(query_string: str) -> list[tuple[bytes, bytes]]:
    """The decoded (name, value) pairs of a raw query string, in order; empty items are skipped."""
    pairs: list[tuple[bytes, bytes]] = []
    for item in query_string.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((_form_decode(name), _form_decode(value)))
    return pairs


def query_params(query_string: str) -> dict[str, str]:
    """The query parameters as text, first occurrence of each name winning."""
    params: dict[str, str] = {}
    for name, value in query_pairs(query_string):
        params.setdefault(name.decode("utf-8", "replace"), value.decode("utf-8", "replace"))
    return params


def canonical_query(query_string: str, *, exclude: frozenset[bytes] = frozenset()) -> str:
    """The canonical query string: decode, re-encode per RFC 3986, sort by name then value.

    Byte order, so `Param2` < `param1` (suite `get-vanilla-query-order-key-case`). Parameters
    named in `exclude` (decoded names, e.g. `X-Amz-Signature` for presigned URLs) are left out.
    """
    if not query_string:
        return ""
    encoded: list[tuple[str, str]] = []
    for name, value in query_pairs(query_string):
        if name in exclude:
            continue
        encoded.append((quote(name, safe=_QUERY_SAFE), quote(value, safe=_QUERY_SAFE)))
    encoded.sort()
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_header_value(value: str) -> str:
    """Trim the value and collapse every whitespace run (folded lines included) to one space."""
    return " ".join(value.split())


def payload_hash(body: bytes, content_sha256: str | None) -> str:
    """The canonical request's last line: the body's hex SHA-256, or the declared one if it agrees.

    Raises:
        InvalidSignatureError: x-amz-content-sha256 is not a hex digest or not the body's.
    """
    actual = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
    if content_sha256 is None:
        return actual
    declared = content_sha256.strip()
    # UNSIGNED-PAYLOAD and the STREAMING-* chunked forms are S3-only (spec SIG-007, SIG-012):
    # KMS, IAM and STS bodies are small and must be covered by the signature.
    if not _HEX_SHA256.fullmatch(declared):
        raise InvalidSignatureError(_MSG_CONTENT_SHA_UNSUPPORTED.format(declared))
    if declared.lower() != actual:
        raise InvalidSignatureError(_MSG_CONTENT_SHA_MISMATCH)
    return declared
