"""The canonical forms SigV4 signs, checked piece by piece against the rules in the IAM guide."""

from __future__ import annotations

import pytest

from keystead.auth.canonical import (
    canonical_header_value,
    canonical_query,
    canonical_uri,
    payload_hash,
    query_params,
    remove_dot_segments,
    wire_bytes,
)
from keystead.errors import InvalidSignatureError

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "/"),
        ("/a/./b/../c", "/a/c"),
        ("/a/b/../../..", "/"),
        ("//example//", "/example/"),
        ("/./", "/"),
        ("/a/.", "/a"),
        ("/a/..b/", "/a/..b/"),
        ("/%2E%2E/a", "/%2E%2E/a"),  # encoded dots are not dot segments
    ],
)
def test_remove_dot_segments_follows_rfc3986_and_collapses_slashes(path: str, expected: str) -> None:
    assert remove_dot_segments(path) == expected


def test_canonical_uri_of_an_empty_path_is_a_slash() -> None:
    assert canonical_uri("") == "/"


def test_canonical_uri_encodes_the_wire_path_again_so_percent_becomes_percent_25() -> None:
    assert canonical_uri("/example%20space/") == "/example%2520space/"


def test_canonical_uri_keeps_unreserved_characters_and_slashes() -> None:
    path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/"
    assert canonical_uri(path) == path


def test_canonical_uri_encodes_reserved_characters_with_uppercase_hex() -> None:
    assert canonical_uri("/a b+c=d:e") == "/a%20b%2Bc%3Dd%3Ae"


def test_canonical_uri_without_normalisation_keeps_dot_segments_and_double_slashes() -> None:
    assert canonical_uri("//a/./b/..", normalize=False) == "//a/./b/.."


def test_canonical_uri_reads_latin1_wire_text_as_the_bytes_sent() -> None:
    utf8_on_the_wire = "/ሴ".encode().decode("latin-1")
    assert canonical_uri(utf8_on_the_wire) == "/%E1%88%B4"


def test_canonical_uri_encodes_text_beyond_latin1_as_utf8() -> None:
    assert canonical_uri("/ሴ") == "/%E1%88%B4"


def test_wire_bytes_prefers_latin1_and_falls_back_to_utf8() -> None:
    assert wire_bytes("\xe9") == b"\xe9"
    assert wire_bytes("ሴ") == "ሴ".encode()


def test_canonical_query_of_an_empty_string_is_empty() -> None:
    assert canonical_query("") == ""


def test_canonical_query_sorts_by_name_then_value_in_byte_order() -> None:
    assert canonical_query("b=2&a=2&a=1&B=3") == "B=3&a=1&a=2&b=2"


def test_canonical_query_gives_a_name_without_equals_an_empty_value() -> None:
    assert canonical_query("flag&a=1") == "a=1&flag="


def test_canonical_query_skips_empty_items() -> None:
    assert canonical_query("a=1&&b=2&") == "a=1&b=2"


def test_canonical_query_reads_plus_as_space_and_encodes_it_as_percent_20() -> None:
    assert canonical_query("q=a+b&r=a%20b&s=a%2Bb") == "q=a%20b&r=a%20b&s=a%2Bb"


def test_canonical_query_normalises_hex_case_and_encodes_reserved_characters() -> None:
    assert canonical_query("k=%2f%3d/=") == "k=%2F%3D%2F%3D"


def test_canonical_query_decodes_unreserved_characters_that_were_needlessly_encoded() -> None:
    assert canonical_query("k=%41%7E") == "k=A~"


def test_canonical_query_keeps_distinct_invalid_utf8_bytes_distinct() -> None:
    assert canonical_query("k=%FF") != canonical_query("k=%FE")


def test_canonical_query_leaves_out_excluded_names() -> None:
    query = "X-Amz-Signature=abc&X-Amz-Date=20150830T123600Z"
    assert canonical_query(query, exclude=frozenset({b"X-Amz-Signature"})) == "X-Amz-Date=20150830T123600Z"


def test_query_params_decodes_values_and_keeps_the_first_of_repeated_names() -> None:
    params = query_params("X-Amz-Credential=AKID%2F20150830%2Fus-east-1&a=1&a=2")
    assert params == {"X-Amz-Credential": "AKID/20150830/us-east-1", "a": "1"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  value1  ", "value1"),
        ('"a   b   c"', '"a b c"'),  # runs inside quotes collapse too (current rule)
        ("value1\n  value2\n     value3", "value1 value2 value3"),  # obsolete line folding
        ("a\tb", "a b"),
        ("", ""),
    ],
)
def test_canonical_header_value_trims_and_collapses_whitespace(value: str, expected: str) -> None:
    assert canonical_header_value(value) == expected


def test_payload_hash_of_an_empty_body_is_the_empty_sha256() -> None:
    assert payload_hash(b"", None) == EMPTY_SHA256


def test_payload_hash_uses_the_declared_digest_verbatim_when_it_matches_in_any_case() -> None:
    assert payload_hash(b"", EMPTY_SHA256.upper()) == EMPTY_SHA256.upper()


def test_payload_hash_refuses_a_declared_digest_of_another_body() -> None:
    with pytest.raises(InvalidSignatureError, match="does not match what was computed"):
        payload_hash(b"x", EMPTY_SHA256)
