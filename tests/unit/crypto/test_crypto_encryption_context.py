"""The canonical encryption context: deterministic, order-free, case-sensitive and injective."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keystead.crypto.encryption_context import canonical_encryption_context


def test_empty_context_encodes_to_no_bytes() -> None:
    assert canonical_encryption_context({}) == b""


def test_one_pair_encodes_as_count_then_length_prefixed_key_and_value() -> None:
    assert canonical_encryption_context({"ab": "xyz"}) == b"\x00\x01" + b"\x00\x02ab" + b"\x00\x03xyz"


def test_pairs_are_sorted_by_the_utf8_bytes_of_their_keys() -> None:
    encoded = canonical_encryption_context({"b": "2", "B": "3", "a": "1"})
    assert encoded == b"\x00\x03" + b"\x00\x01B\x00\x013" + b"\x00\x01a\x00\x011" + b"\x00\x01b\x00\x012"


def test_order_of_insertion_does_not_change_the_encoding() -> None:
    assert canonical_encryption_context({"x": "1", "y": "2"}) == canonical_encryption_context(
        {"y": "2", "x": "1"}
    )


def test_key_case_changes_the_encoding() -> None:
    assert canonical_encryption_context({"Key": "v"}) != canonical_encryption_context({"key": "v"})


def test_non_ascii_strings_are_encoded_as_utf8() -> None:
    assert canonical_encryption_context({"é": "世"}) == b"\x00\x01\x00\x02\xc3\xa9\x00\x03\xe4\xb8\x96"


def test_lone_surrogates_still_have_one_encoding() -> None:
    assert canonical_encryption_context({"\ud800": "x"}) == b"\x00\x01\x00\x03\xed\xa0\x80\x00\x01x"


def test_a_field_longer_than_65535_bytes_is_refused() -> None:
    with pytest.raises(ValueError):
        canonical_encryption_context({"k": "v" * 65536})


def test_a_field_of_exactly_65535_bytes_is_accepted() -> None:
    assert len(canonical_encryption_context({"k": "v" * 65535})) == 2 + 2 + 1 + 2 + 65535


def test_a_non_string_value_is_refused() -> None:
    with pytest.raises(TypeError):
        canonical_encryption_context({"k": 1})  # type: ignore[dict-item]


texts = st.text(max_size=12)


@given(st.dictionaries(texts, texts, max_size=5), st.dictionaries(texts, texts, max_size=5))
def test_different_contexts_never_share_an_encoding(a: dict[str, str], b: dict[str, str]) -> None:
    assert (canonical_encryption_context(a) == canonical_encryption_context(b)) == (a == b)


@given(st.lists(st.tuples(texts, texts), max_size=6, unique_by=lambda pair: pair[0]), st.randoms())
def test_encoding_is_independent_of_insertion_order(pairs: list[tuple[str, str]], rnd: object) -> None:
    shuffled = list(pairs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert canonical_encryption_context(dict(pairs)) == canonical_encryption_context(dict(shuffled))
